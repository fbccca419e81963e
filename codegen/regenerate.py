"""One step from a changed docs page to a regenerated package: import, diff, generate.

The diff between the spec before and after the import is printed and written to
``<report>.txt`` and ``<report>.json`` before anything is generated, so a breaking
change is in plain sight before the tests run (``nox -s regenerate -- PAGE.md``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import generate
from .docs_import import default_target, import_page, load_platform
from .spec_diff import diff, fails, render_json, render_text, summary
from .spec_loader import SpecError, load_specs
from .yaml_source import read_text, read_yaml


def run(page: Path, spec_dir: Path, out_dir: Path, report: Path, fail_on: str | None) -> int:
    """Exit status: 0 regenerated, 1 stopped (spec problems, or changes at ``fail_on``)."""
    platform = load_platform(spec_dir)
    text = read_text(page)
    target = default_target(spec_dir, import_page(text, platform).spec)
    existing = read_yaml(target) if target.exists() else None
    result = import_page(text, platform, existing.text if existing else None)
    before = existing.data if existing else {}
    for note in result.notes:
        print(note.format(str(page)), file=sys.stderr)
    if result.changed:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(result.text, encoding="utf-8")
    changes = diff(before, read_yaml(target).data)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.with_suffix(".txt").write_text(render_text(changes), encoding="utf-8")
    report.with_suffix(".json").write_text(render_json(changes) + "\n", encoding="utf-8")
    print(f"== spec changes ({target}) ==")
    sys.stdout.write(render_text(changes))
    print(f"(written to {report.with_suffix('.txt')} and .json)")
    if any(c.level == "ERR" for c in changes):
        print(f"!! BREAKING: {summary(changes)}; clients of the old spec may fail")
    if fails(changes, fail_on):
        print(f"stopped: changes at {fail_on} or above (--fail-on)", file=sys.stderr)
        return 1
    try:
        spec = load_specs(spec_dir)
    except SpecError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        print("the imported spec has problems; nothing generated", file=sys.stderr)
        return 1
    files = generate.build(spec, spec_dir.name)
    generate.write(files, out_dir)
    print(f"regenerated {len(files)} files in {out_dir}/{generate.PACKAGE}")
    return 0
