"""Import a Runware model docs page into a model spec, or merge it into an existing one.

The entry points: ``import_page`` (text in, spec text out) and ``import_file`` (a page
file for a spec folder). ``page`` reads the page, ``facts`` turns it into
spec data, ``merge`` applies it to the committed spec, ``yaml_rt`` keeps the
file's layout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..spec.consistency import analyse
from ..spec.loader import NotAModelSpec, SpecError, load_platform, read_model_text
from ..spec.model import Platform
from ..spec.yaml_source import YamlDocument, read_text, read_yaml
from .facts import Importer, Note, Unreadable
from .merge import Merger
from .page import read_page
from .yaml_rt import block_node, dump, entry_node, spec_node, yaml_rt


@dataclass
class ImportResult:
    text: str  # the new spec file's content
    changed: bool
    notes: list[Note]
    spec: dict[str, Any]  # the page's facts as plain data
    unreadable: list[Unreadable] = field(default_factory=list)  # facts the page lost
    example_lines: dict[str, int] = field(default_factory=dict)  # example name -> page line


class NotAModelPage(ValueError):
    """The page states neither a model ID nor request parameters: nothing to import."""


def import_page(page_text: str, platform: Platform, existing: str | None = None) -> ImportResult:
    """Import a page: a new spec (``existing`` None) or merged into ``existing`` spec text."""
    page = read_page(page_text)
    if "ID" not in page.facts and not page.request:
        raise NotAModelPage("not a Runware model page: it states no ID and no request parameters")
    importer = Importer(page, platform)
    imported = importer.spec()
    if existing is None:
        header = (
            f"# {imported['name']} on Runware, imported from {imported['docs']}.\n"
            "# Descriptions are generated summaries: rewrite them in our own words.\n"
        )
        text = header + dump(_spec_nodes(imported))
        changed = True
    else:
        tree = yaml_rt().load(existing)
        Merger(importer, tree).run(imported)
        text = dump(tree)
        changed = text != existing
    _analyse(text, importer)
    return ImportResult(
        text, changed, importer.notes, imported, importer.unreadable, importer.example_lines
    )


def _analyse(text: str, importer: Importer) -> None:
    """The consistency analysis of the spec as imported: each parameter the page's rules
    make impossible is a warning. It needs only the spec's structure, so it is said even
    when the spec has other problems (which the loader's checks report)."""
    try:
        model = read_model_text(text, "imported spec")
    except (SpecError, NotAModelSpec):
        return
    for finding in analyse(model):
        if finding.gave_up_after:
            importer.note("warning", 0, f"consistency {finding.message()}")
        else:
            importer.note("warning", 0, f"contradiction on the page: {finding.message()}")


def _spec_nodes(spec: Mapping[str, Any]) -> CommentedMap:
    out = CommentedMap()
    for key, value in spec.items():
        if key in ("examples",):
            out[key] = block_node(value)
        elif key in ("parameters", "response", "rules"):
            out[key] = CommentedSeq(entry_node(v) for v in value)
        elif key == "dimensions":
            dims = spec_node(value)
            dims["rows"].fa.set_block_style()
            out[key] = dims
        elif key == "pricing" and value is not None:
            pricing = CommentedMap((k, spec_node(v)) for k, v in value.items())
            pricing["rates"].fa.set_block_style()
            out[key] = pricing
        else:
            out[key] = spec_node(value)
    return out


def import_file(
    page: Path, spec_dir: Path, output: Path | None = None
) -> tuple[Path, YamlDocument | None, ImportResult]:
    """Import ``page`` for ``spec_dir``: (target spec file, its current document or None,
    the result merged into it). Raises OSError/UnicodeError/SpecIssue on unreadable input,
    NotAModelPage (naming the page) for a page that states no model."""
    text = read_text(page)
    platform = load_platform(spec_dir)
    try:
        fresh = import_page(text, platform)
    except NotAModelPage as exc:
        raise NotAModelPage(f"{page}: {exc}") from None
    target = output or default_target(spec_dir, fresh.spec)
    existing = read_yaml(target) if target.exists() else None  # a YAML error names the file
    result = fresh if existing is None else import_page(text, platform, existing.text)
    return target, existing, result


def default_target(spec_dir: Path, imported: Mapping[str, Any]) -> Path:
    return spec_dir / "models" / f"{imported['slug']}.yaml"


__all__ = [
    "ImportResult",
    "NotAModelPage",
    "Note",
    "Unreadable",
    "default_target",
    "dump",
    "import_file",
    "import_page",
    "load_platform",
    "yaml_rt",
]
