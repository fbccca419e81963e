"""What ``runware_contract.validate`` costs per task, in-process: each served model's first
documented example (valid, a fresh taskUUID), the same with one parameter the model does not
know, and with one numeric parameter out of its bounds; the fastest of ``--repeat`` timings
of ``--number`` calls each. ``--baseline DIR`` measures another checkout's generated package
(e.g. ``git archive`` of main before a change) in the same run and prints the ratios.

Usage: python benchmarks/validate_cost.py [--number 20000] [--repeat 7] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import timeit
import uuid
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def variants(example: dict[str, Any], parameters: list[dict[str, Any]]) -> dict[str, Any]:
    """The example, and the example with one fault each (JSON round-tripped: wire data)."""
    valid = dict(example, taskUUID=str(uuid.uuid4()))
    out = {"valid example": valid, "unknown parameter": dict(valid, notAParameter=1)}
    bounded = next(
        (p for p in parameters if "maximum" in p and "." not in p["path"] and p["path"] in valid),
        None,
    )
    if bounded is not None:
        out[f"{bounded['path']} over its maximum"] = dict(
            valid, **{bounded["path"]: bounded["maximum"] + 1}
        )
    return {name: json.loads(json.dumps(task)) for name, task in out.items()}


def measure(number: int, repeat: int) -> dict[str, dict[str, float]]:
    """Microseconds per validate() call, per model and variant (this process's package)."""
    import runware_contract as rc

    figures: dict[str, dict[str, float]] = {}
    for model_id, module in rc.MODELS.items():
        if not module.EXAMPLES:
            continue
        tasks = variants(dict(module.EXAMPLES[0].request), list(module.tables.PARAMETERS))
        figures[model_id] = {}
        for name, task in tasks.items():
            timings = timeit.repeat(partial(rc.validate, task), number=number, repeat=repeat)
            figures[model_id][name] = min(timings) / number * 1e6
    return figures


def run(checkout: Path, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    env = {**os.environ, "PYTHONPATH": f"{checkout / 'generated'}{os.pathsep}{checkout}"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child"]
    cmd += ["--number", str(args.number), "--repeat", str(args.repeat)]
    out = subprocess.run(cmd, env=env, cwd=checkout, check=True, capture_output=True, text=True)
    figures: dict[str, dict[str, float]] = json.loads(out.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--baseline", type=Path, default=None, metavar="DIR")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.number, args.repeat)))
        return
    mine = run(ROOT, args)
    base = run(args.baseline.resolve(), args) if args.baseline is not None else {}
    for model_id, rows in mine.items():
        print(model_id)
        for name, us in rows.items():
            text = f"  {name:>32}: {us:6.2f} us"
            before = base.get(model_id, {}).get(name)
            if before:
                text += f"  (baseline {before:6.2f} us, ratio {us / before:.2f})"
            print(text)


if __name__ == "__main__":
    main()
