"""Models brought at run time: ``--spec DIR`` (model spec files) and ``--page PAGE.md``
(a docs page imported in memory), served beside the generated package's models.

Each becomes a module shaped like a generated model module (``tables``, ``CONTRACT``,
``validate``, ``with_defaults``, ``price``, ``EXAMPLES``), built by the same path as the
generated code: codegen's ``model_tables`` gives the tables, the package's ``Contract``
compiles them with the package's platform codes. It is then registered in the package's
one registry (``runware_contract.MODELS``), which ``validate()`` and the engine read, so
nothing in the engine knows where a model came from. A model ID the package already
serves is replaced by the one given (the newer page wins), and the banner says so. A page
with errors (a spec that cannot be served) is refused; one with warnings is served, the
warnings summed up in one line per model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import runware_contract as rc
from runware_contract import platform as rc_platform
from runware_contract.runtime import Contract, Example, PriceUnavailable, price_of
from runware_contract.typed import as_wire

# The platform spec the package was generated from (shipped in it: an installed wheel has
# no source tree): models brought at run time are built against the same platform.
KIT_SPEC = Path(rc.__file__).resolve().parent


class ModelLoadError(ValueError):
    """A --spec or --page input that cannot become a model (its problems in the message)."""


def module_for(data: Mapping[str, Any]) -> ModuleType:
    """A model module from ``model_tables`` data, as the generated ``contract.py`` builds it."""
    tables = SimpleNamespace(**data)
    formats = {name: (rx, text) for name, (rx, text) in rc_platform.FORMATS.items()}
    contract = Contract(
        task_label=f"{data['MODEL_NAME']} ({data['MODEL_ID']})",
        docs=data["DOCS"],
        parameters=data["PARAMETERS"],
        rules=data["RULES"],
        formats=formats,
        constraint_codes=rc_platform.CONSTRAINT_CODES,
        rule_codes=rc_platform.RULE_CODES,
        dimensions=data["DIMENSIONS"],
    )

    def validate(task: Any) -> list[Any]:
        return contract.validate(as_wire(task))

    def with_defaults(task: Any) -> dict[str, Any]:
        return contract.with_defaults(as_wire(task))

    def price(task: Any, *, audio: bool | None = None) -> float:
        if data["PRICING"] is None:
            raise PriceUnavailable(f"{data['MODEL_ID']} has no pricing")
        return price_of(with_defaults(task), data["PRICING"], data["DIMENSIONS"], audio=audio)

    module = ModuleType(f"runware_mock_model_{data['MODEL_ID']}")
    module.__dict__.update(
        tables=tables,
        CONTRACT=contract,
        MODEL_ID=data["MODEL_ID"],
        MODEL_NAME=data["MODEL_NAME"],
        TASK_TYPE=data["TASK_TYPE"],
        DOCS=data["DOCS"],
        EXAMPLES=tuple(Example(**e) for e in data["EXAMPLES"]),
        validate=validate,
        with_defaults=with_defaults,
        price=price,
    )
    return module


def load(spec_dirs: Iterable[Path], pages: Iterable[Path]) -> list[ModuleType]:
    """The models of every ``--spec`` folder and ``--page`` file; ModelLoadError on any
    problem that keeps one from being served (a page's in one line, a spec file's at
    file:line). Each module says where it came from (``SOURCE``) and what it is served with
    (``WARNINGS``: the importer's notes and the review's, for a page; the loader's, for a
    spec file). Without either flag, nothing is read and codegen is not imported: the plain
    mock needs neither the [codegen] extra nor a spec folder."""
    spec_dirs, pages = list(spec_dirs), list(pages)
    if not spec_dirs and not pages:
        return []
    from codegen.docs.importer import NotAModelPage, import_page
    from codegen.emit.tables import model_tables
    from codegen.page_review import of_import
    from codegen.spec.loader import SpecError, checked_model_text, load_platform
    from codegen.spec.yaml_source import read_text

    platform = load_platform(KIT_SPEC)
    loaded: list[tuple[str, Any, list[str]]] = []  # (source, model, warnings)
    for folder in spec_dirs:
        files = sorted([*folder.glob("*.yaml"), *folder.glob("models/*.yaml")])
        if not files:
            raise ModelLoadError(f"--spec {folder}: no model spec files (*.yaml) found")
        for f in (f for f in files if f.name != "platform.yaml"):
            try:
                model, issues = checked_model_text(read_text(f), str(f), platform)
            except SpecError as exc:
                raise ModelLoadError("\n".join(map(str, exc.issues))) from None
            loaded.append((f"--spec {f}", model, [i.line() for i in issues]))
    for page in pages:
        try:
            result = import_page(read_text(page), platform)
        except NotAModelPage as exc:
            raise ModelLoadError(f"--page {page}: {exc}") from None
        found = of_import(result, f"{page} (imported)", platform)
        if found.model is None:
            first, more = found.errors[0].message, len(found.errors) - 1
            also = f" (and {more} more: python -m codegen import-docs {page} --dry-run)"
            raise ModelLoadError(f"--page {page}: {first}{also if more else ''}")
        notes = [n for n in [*result.notes, *found.warnings] if n.level != "change"]
        # What weakens the contract first: facts the page states but could not be read,
        # then parameters its rules make impossible, then prices missing; the rest after.
        lost = {u.line for u in result.unreadable}
        notes.sort(key=lambda n: 0 if n.line in lost else _rank(n.message))
        loaded.append((f"--page {page}", found.model, [n.format(str(page)) for n in notes]))
    modules = []
    for source, model, warnings in loaded:
        module = module_for(model_tables(model, platform))
        module.__dict__.update(SOURCE=source, WARNINGS=warnings)
        modules.append(module)
    return modules


def _rank(message: str) -> int:
    for rank, words in enumerate(("can never be", "analysis gave up", "incomplete pricing"), 1):
        if words in message:
            return rank
    return 4


def register(modules: Iterable[ModuleType]) -> list[str]:
    """Serve ``modules`` through the package's one registry; the IDs of packaged models
    they replace (a module's ``REPLACES`` says so too, for the banner)."""
    replaced = []
    for module in modules:
        old = rc.MODELS.get(module.MODEL_ID)
        if old is not None and getattr(old, "SOURCE", None) is None:
            module.__dict__["REPLACES"] = "the packaged model"
            replaced.append(module.MODEL_ID)
        elif old is not None:
            module.__dict__["REPLACES"] = old.SOURCE
        rc.MODELS[module.MODEL_ID] = module
    return replaced


def source_of(model_id: str) -> str:
    """Where a served model comes from, as the banner says it."""
    module = rc.MODELS[model_id]
    source = getattr(module, "SOURCE", None)
    if source is None:
        return "package"
    replaces = getattr(module, "REPLACES", None)
    return f"{source}, replacing {replaces}" if replaces else source


def summary(modules: Iterable[ModuleType]) -> list[str]:
    """One line per model served with warnings: how many, and the first."""
    lines = []
    for module in modules:
        warnings: list[str] = module.WARNINGS
        if warnings:
            lines.append(
                f"{module.SOURCE}: {module.MODEL_ID} served with {len(warnings)} warning(s), "
                f"first: {warnings[0]}"
            )
    return lines
