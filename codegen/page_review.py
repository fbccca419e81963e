"""What an imported page means for serving it, beyond what the importer read.

``review`` takes the spec text an import made and says, as page notes: each problem that
keeps it from being served (an error, from the loader's checks), each warning it is served
with (incomplete pricing ...), and each documented example whose request the page's own
contract refuses (an unknown path, a bound, a rule: validated by the same ``Contract`` the
generated package and the mock run). The consistency analysis's findings are the importer's
own notes. ``import-docs``, ``regenerate`` and the mock's ``--page`` print them; an error
stops each of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .docs.facts import Note
from .docs.importer import ImportResult
from .emit.tables import formats_table, model_tables, rule_codes_table
from .runtime.runtime import Contract
from .spec.loader import NotAModelSpec, SpecError, checked_model_text
from .spec.model import ModelSpec, Platform


@dataclass
class Review:
    model: ModelSpec | None  # None: the spec cannot be served (see ``errors``)
    errors: list[Note]
    warnings: list[Note]


def review(text: str, name: str, platform: Platform, lines: dict[str, int]) -> Review:
    """The review of spec ``text`` (named ``name``); ``lines`` maps an example's name to
    its page line, so a note about it points at the page."""
    try:
        model, issues = checked_model_text(text, name, platform)
    except (SpecError, NotAModelSpec) as exc:
        found = exc.issues if isinstance(exc, SpecError) else []
        errors = [Note("error", 0, f"the imported spec cannot be served: {i}") for i in found]
        return Review(None, errors or [Note("error", 0, str(exc))], [])
    # An example naming what the page lacks is said by the example check below, at its line.
    warnings = [
        Note("warning", 0, i.message) for i in issues if not i.message.startswith("example")
    ]
    warnings += _examples(model, platform, lines)
    return Review(model, [], warnings)


def of_import(result: ImportResult, name: str, platform: Platform) -> Review:
    """The review of what ``import_page`` made of a page."""
    return review(result.text, name, platform, result.example_lines)


def _examples(model: ModelSpec, platform: Platform, lines: dict[str, int]) -> list[Note]:
    """Each documented example request the page's own parameters and rules refuse."""
    tables = model_tables(model, platform)
    contract = Contract(
        task_label=f"{model.name} ({model.id})",
        docs=model.docs,
        parameters=tables["PARAMETERS"],
        rules=tables["RULES"],
        formats={n: (rx, text) for n, (rx, text) in formats_table(platform).items()},
        constraint_codes=dict(platform.constraint_codes),
        rule_codes=rule_codes_table(platform),
        dimensions=tables["DIMENSIONS"],
    )
    notes = []
    for example in model.examples:
        for violation in contract.violations(dict(example.request)):
            notes.append(
                Note(
                    "warning",
                    lines.get(example.name, 0),
                    f"example {example.title!r} breaks the page's own parameter "
                    f"{violation.parameter}: {violation.message}",
                )
            )
    return notes
