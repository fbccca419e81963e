"""Time of the docs loop's import (read the page, build the spec, the consistency analysis)
against page size and rule count, for this checkout and a baseline checkout in the same run.

The inputs are ``tests/hostile/pages.py``'s: pages with N pairs of parameters bound by three
rules each plus one contradiction (3N + 2 rules), and pages with one heading, one fact and one
example title of C characters each. Each point is ``import_page`` on the page, timed inside a
fresh interpreter whose imports come from the checkout measured (start-up not counted), the
best of ``--repeat``; a point past ``--timeout`` seconds is reported as such.

Usage: python benchmarks/docs_loop.py [--baseline DIR] [--repeat 3] [--timeout 120]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hostile.pages import long_lines, many_rules  # noqa: E402

CHILD = """
import sys, time
from pathlib import Path
from codegen.docs.importer import import_page, load_platform
platform = load_platform(Path(sys.argv[1]))
text = Path(sys.argv[2]).read_text(encoding="utf-8")
best = float("inf")
for _ in range(int(sys.argv[3])):
    started = time.perf_counter()
    import_page(text, platform)
    best = min(best, time.perf_counter() - started)
print(best)
"""


def measure(checkout: Path, page: Path, repeat: int, timeout: float) -> float | None:
    env = dict(os.environ, PYTHONPATH=f"{checkout}{os.pathsep}{checkout / 'generated'}")
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(checkout / "spec"), str(page), str(repeat)],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    return float(done.stdout.strip().splitlines()[-1])


def show(seconds: float | None, timeout: float) -> str:
    return f">{timeout:.0f} s" if seconds is None else f"{seconds:.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, default=None, metavar="DIR")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    inputs = [(f"{3 * n + 2} rules", many_rules(n)) for n in (2, 5, 8, 11, 13, 16, 100)]
    inputs += [(f"{c} chars/line", long_lines(c)) for c in (1_000, 5_000, 20_000, 100_000)]
    checkouts = [("this", ROOT)] + (
        [("baseline", args.baseline.resolve())] if args.baseline else []
    )
    print(f"{'input':>18} {'size':>9}  " + "  ".join(f"{name:>10}" for name, _ in checkouts)
          + ("       ratio" if args.baseline else ""))  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for label, text in inputs:
            page = Path(tmp) / "page.md"
            page.write_text(text, encoding="utf-8")
            times = [measure(c, page, args.repeat, args.timeout) for _, c in checkouts]
            row = f"{label:>18} {len(text) // 1024:>6} KB  "
            row += "  ".join(f"{show(t, args.timeout):>10}" for t in times)
            if args.baseline:
                this, base = times
                if this and base:
                    row += f"  {base / this:>9.1f}x"
                elif this:
                    row += f"  >{args.timeout / this:>8.0f}x"
            print(row, flush=True)


if __name__ == "__main__":
    main()
