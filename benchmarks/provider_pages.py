"""Import + lint + generate for the provider-style test pages (tests/data/pages/providers/),
each page alone and the whole family at once, in this checkout and (``--baseline DIR``, e.g.
``git -C /work/main archive main | tar -x -C /tmp/base``) another one in the same run,
rounds alternating between the two; the fastest of ``--repeat`` rounds, with this
checkout's time over the baseline's.

A baseline that cannot read a page's phrasings imports fewer rules (its import notes say
so); one whose lint refuses a page (a spec error) shows "lint failed" and no generate time.

Usage: python benchmarks/provider_pages.py [--repeat 5] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "data" / "pages" / "providers"
STEPS = ("import", "lint", "generate")


def once(pages: list[Path], work: Path) -> dict[str, Any]:
    """Seconds per step for ``pages`` imported into one spec folder (the checkout's
    platform), linted and generated; ``rules``: how many rules the import made."""
    from codegen.docs.importer import import_page, load_platform
    from codegen.emit import generate
    from codegen.spec.loader import SpecError, load_specs

    spec_dir = work / "spec"
    shutil.rmtree(work, ignore_errors=True)
    (spec_dir / "models").mkdir(parents=True)
    shutil.copy(Path("spec") / "platform.yaml", spec_dir / "platform.yaml")
    platform = load_platform(spec_dir)
    out: dict[str, Any] = {"rules": 0}
    start = time.perf_counter()
    for page in pages:
        result = import_page(page.read_text(encoding="utf-8"), platform)
        out["rules"] += len(result.spec["rules"])
        (spec_dir / "models" / f"{page.stem}.yaml").write_text(result.text, encoding="utf-8")
    imported = time.perf_counter()
    out["import"] = imported - start
    try:
        spec = load_specs(spec_dir)
    except SpecError:
        out["lint"] = None
        return out
    linted = time.perf_counter()
    out["lint"] = linted - imported
    generate.write(generate.build(spec, "spec"), work / "generated")
    out["generate"] = time.perf_counter() - linted
    return out


def child(repeat: int, pages_dir: Path) -> dict[str, Any]:
    pages = sorted(pages_dir.glob("*.md"))
    runs = {p.stem: [p] for p in pages} | {"all pages": pages}
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, group in runs.items():
            best: dict[str, Any] = {}
            for _ in range(repeat):
                got = once(group, Path(tmp) / "w")
                for step in STEPS:
                    value = got.get(step)
                    if step not in best or (value is not None and value < best[step]):
                        best[step] = value
                best["rules"] = got["rules"]
            figures[name] = best
    return figures


def run(checkout: Path, repeat: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": f"{checkout}{os.pathsep}{checkout / 'generated'}"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--repeat", str(repeat)]
    result = subprocess.run(
        [*cmd, "--pages", str(PAGES)], cwd=checkout, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"{checkout}: {result.stderr}")
    figures: dict[str, Any] = json.loads(result.stdout)
    return figures


def fastest(into: dict[str, Any], got: dict[str, Any]) -> None:
    """Keep, per page and step, the fastest figure seen (None: lint failed)."""
    for name, figures in got.items():
        best = into.setdefault(name, dict(figures))
        for step in STEPS:
            if figures.get(step) is not None and (
                best.get(step) is None or figures[step] < best[step]
            ):
                best[step] = figures[step]


def total(f: dict[str, Any]) -> float | None:
    steps: list[float | None] = [f.get(s) for s in STEPS]
    known = [s for s in steps if s is not None]
    return sum(known) if len(known) == len(steps) else None


def show(value: float | None) -> str:
    return "lint failed" if value is None else f"{value * 1000:8.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pages", type=Path, default=PAGES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.repeat, args.pages)))
        return
    # Rounds alternate between the checkouts (one run of each per round), so a change in
    # the machine's load falls on both; each figure is the fastest of its rounds.
    mine: dict[str, Any] = {}
    base: dict[str, Any] | None = {} if args.baseline else None
    for _ in range(args.repeat):
        fastest(mine, run(ROOT, 1))
        if base is not None:
            fastest(base, run(args.baseline, 1))
    head = f"{'page':14} {'rules':>5} {'import ms':>9} {'lint ms':>9} {'generate ms':>11}"
    head += f" {'total ms':>9}"
    if base:
        head += f"  {'baseline ms':>11} {'rules':>5} {'ratio':>6}"
    print(head)
    for name, f in mine.items():
        line = f"{name:14} {f['rules']:5} " + " ".join(
            show(f.get(s)).rjust(w) for s, w in zip(STEPS, (9, 9, 11), strict=True)
        )
        line += f" {show(total(f)).rjust(9)}"
        if base:
            b = base[name]
            mine_s, base_s = total(f), total(b)
            ratio = f"{mine_s / base_s:6.2f}" if mine_s and base_s else "     -"
            line += f"  {show(total(b)).rjust(11)} {b['rules']:5} {ratio}"
        print(line)
    if base:  # the pages both checkouts lint, one at a time
        both = [n for n in mine if n != "all pages" and total(mine[n]) and total(base[n])]
        a = sum(total(mine[n]) or 0 for n in both)
        b_ = sum(total(base[n]) or 0 for n in both)
        print(
            f"sum of the {len(both)} pages both lint: {a * 1000:.1f} ms against "
            f"{b_ * 1000:.1f} ms, ratio {a / b_:.2f}"
        )


if __name__ == "__main__":
    main()
