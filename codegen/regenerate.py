"""One step from a changed docs page to a regenerated package: import, diff, generate.

The diff between the spec before and after the import is printed and written to
``<report>.txt`` and ``<report>.json`` before anything is generated, so a breaking
change is in plain sight before the tests run (``nox -s regenerate -- PAGE.md``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from .diff import diff, fails, render_json, render_text, summary
from .docs.importer import NotAModelPage, import_file, load_platform
from .emit import generate
from .page_review import of_import
from .spec.loader import SpecError, load_specs, read_model_text


def run(
    page: Path,
    spec_dir: Path,
    out_dir: Path,
    report: Path,
    fail_on: str | None,
    allow_breaking: bool = False,
) -> int:
    """Exit status: 0 regenerated; 1 stopped (the imported spec has errors, the diff against
    an existing spec has ERR changes without ``allow_breaking``, or changes at ``fail_on``), and
    then the spec folder and the package are left as they were; 2 the page is not a model page
    (or unreadable)."""
    try:
        target, existing, result = import_file(page, spec_dir)
    except NotAModelPage as exc:
        print(f"{exc}; spec left as it was, nothing generated", file=sys.stderr)
        return 2
    found = of_import(result, str(target), load_platform(spec_dir))
    for note in [*result.notes, *found.errors, *found.warnings]:
        print(note.format(str(page)), file=sys.stderr)
    if found.errors:
        print("the imported spec cannot be served; spec left as it was, nothing generated",
              file=sys.stderr)  # fmt: skip
        return 1
    if result.changed:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(result.text, encoding="utf-8")

    def restore() -> None:
        if existing is None:
            target.unlink(missing_ok=True)
        else:
            target.write_text(existing.text, encoding="utf-8")

    try:
        spec = load_specs(spec_dir)
    except SpecError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        print(
            "the imported spec has problems; spec left as it was, nothing generated",
            file=sys.stderr,
        )
        restore()
        return 1
    before = read_model_text(existing.text, str(target)) if existing else None
    changes = diff(before, read_model_text(result.text, str(target)), result.unreadable)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.with_suffix(".txt").write_text(render_text(changes), encoding="utf-8")
    report.with_suffix(".json").write_text(render_json(changes) + "\n", encoding="utf-8")
    print(f"== spec changes ({target}) ==")
    sys.stdout.write(render_text(changes))
    print(f"(written to {report.with_suffix('.txt')} and .json)")
    # A new model has no clients of an old spec to break: its ERR lines are what it adds.
    breaking = existing is not None and any(c.level == "ERR" for c in changes)
    if breaking:
        print(f"!! BREAKING: {summary(changes)}; clients of the old spec may fail")
    if fails(changes, fail_on):
        print(
            f"stopped: changes at {fail_on} or above (--fail-on); spec left as it was, "
            "nothing generated",
            file=sys.stderr,
        )
        restore()
        return 1
    if breaking and not allow_breaking:
        print(
            "stopped: breaking (ERR) changes; spec left as it was, nothing generated "
            "(--allow-breaking regenerates anyway)",
            file=sys.stderr,
        )
        restore()
        return 1
    files = generate.build(spec, spec_dir.name)
    generate.write(files, out_dir)
    print(f"regenerated {len(files)} files in {out_dir}/{generate.PACKAGE}")
    return 0
