"""Benchmark the generator and the generated validator, as ratios to baselines from the same run.

1. `python -m codegen generate` wall time (median of N runs, into a temporary folder),
   against the bare interpreter start-up (`python -c pass`) measured alongside.
2. `validate()` per typical task (the four documented examples and a task using every
   parameter) against fastjsonschema validating the exported request JSON Schema.
   fastjsonschema knows drafts 4-7 only, so it skips the 2020-12 keywords the schema
   uses for rules (prefixItems, dependentRequired, minContains/maxContains): the
   baseline does less work than validate(), which also checks what JSON Schema can't.

Usage: python benchmarks/codegen_bench.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

import fastjsonschema

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runware_contract import klingai_video_3_0_pro as kling  # noqa: E402
from runware_contract import validate  # noqa: E402
from tests.kling_cases import RICH  # noqa: E402


def draft7_subset(node: Any) -> Any:
    """The schema without 2020-12-only constructs fastjsonschema would misread
    (``contains`` with ``minContains: 0``, ``prefixItems``, ``dependentRequired``)."""
    if isinstance(node, list):
        return [draft7_subset(n) for n in node]
    if not isinstance(node, dict):
        return node
    drop = {"$schema", "prefixItems", "dependentRequired", "minContains", "maxContains"}
    if "minContains" in node:
        drop.add("contains")
    return {k: draft7_subset(v) for k, v in node.items() if k not in drop}


def wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def per_call(fn: Any, tasks: list[dict[str, Any]], repeat: int = 7) -> float:
    def run() -> None:
        for t in tasks:
            fn(t)

    number = 200
    best = min(timeit.repeat(run, number=number, repeat=repeat))
    return best / (number * len(tasks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as out:
        generate_s = wall([sys.executable, "-m", "codegen", "generate", "--out", out], args.runs)
    startup_s = wall([sys.executable, "-c", "pass"], args.runs)

    schema = json.loads((Path(kling.__file__).parent / "request.schema.json").read_text())
    fast = fastjsonschema.compile(draft7_subset(schema))
    tasks = [dict(e.request) for e in kling.EXAMPLES] + [RICH]
    for t in tasks:
        assert validate(t) == [] and fast(t) == t
    validate_s = per_call(validate, tasks)
    fast_s = per_call(fast, tasks)
    model_s = per_call(kling.Request.model_validate, tasks)

    result = {
        "generate_seconds": round(generate_s, 3),
        "python_startup_seconds": round(startup_s, 3),
        "generate_vs_startup": round(generate_s / startup_s, 1),
        "validate_us_per_task": round(validate_s * 1e6, 2),
        "fastjsonschema_us_per_task": round(fast_s * 1e6, 2),
        "validate_vs_fastjsonschema": round(validate_s / fast_s, 2),
        "typed_model_us_per_task": round(model_s * 1e6, 2),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"codegen generate: {generate_s:.3f} s (target <= 1.5 s); "
        f"{result['generate_vs_startup']}x a bare `python -c pass` ({startup_s:.3f} s)"
    )
    print(
        f"validate(): {result['validate_us_per_task']} us/task; fastjsonschema: "
        f"{result['fastjsonschema_us_per_task']} us/task; ratio "
        f"{result['validate_vs_fastjsonschema']} (target <= 1.0)"
    )
    print(f"typed model (contract + pydantic): {result['typed_model_us_per_task']} us/task")


if __name__ == "__main__":
    main()
