"""Microseconds per store call, in-process: what one ``add_task`` (a new task and its video),
``get_task`` (a poll), ``claim_completion`` and a mixed request stream cost on the memory and
SQLite stores, each call awaited on a running event loop as the engine awaits it.

The load benchmark's req/s move by tens of percent with what else the shared machine runs;
this times the store alone (the best of ``--repeat`` passes of ``--calls`` calls), so a
change to one store's write path shows. ``--baseline DIR`` times another checkout's stores
(e.g. ``git worktree add /tmp/base main``) in the same run, alternating with this one, and
prints this checkout's time over the baseline's per call.

Usage: python benchmarks/store_ops.py [--calls 5000] [--repeat 5] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OPS = ("add_task", "get_task", "claim_completion", "mixed")


async def child(store_kind: str, calls: int, repeat: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from store_pauses import records

    from mockserver.store import Limits, open_store

    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(repeat):
            spec = "memory" if store_kind == "memory" else f"sqlite:{tmp}/ops-{n}.db"
            store = open_store(spec, Limits(max_tasks=10 * calls, max_results=20 * calls))
            await store.open()
            made = records(0, 2 * calls, time.time(), 0.001)
            for _, videos in made:
                videos[0].forget_at = float("inf")
            for record, _ in made:
                record.webhook_url = "http://127.0.0.1:9/hook"  # so a claim has work to do
            first, second = made[:calls], made[calls:]
            timings: dict[str, float] = {}

            started = time.perf_counter()
            for record, videos in first:
                await store.add_task(record, videos)
            timings["add_task"] = time.perf_counter() - started

            started = time.perf_counter()
            for record, _ in first:
                await store.get_task(record.owner, record.task_uuid)
            timings["get_task"] = time.perf_counter() - started

            started = time.perf_counter()
            for record, _ in first:
                await store.claim_completion(record.owner, record.task_uuid, "bench")
            timings["claim_completion"] = time.perf_counter() - started

            # The load benchmark's mix: a submit, then about four polls of it.
            started = time.perf_counter()
            for record, videos in second:
                await store.add_task(record, videos)
                for _ in range(4):
                    await store.get_task(record.owner, record.task_uuid)
            timings["mixed"] = (time.perf_counter() - started) / 5  # per call
            await store.close()
            for op, seconds in timings.items():
                best[op] = min(best.get(op, float("inf")), 1e6 * seconds / calls)
    return best


def run_child(checkout: Path, store_kind: str, args: argparse.Namespace) -> dict[str, float]:
    env = dict(os.environ)
    if checkout != ROOT:
        env["PYTHONPATH"] = f"{checkout}{os.pathsep}{checkout / 'generated'}"
    cmd = [sys.executable, __file__, "--child", store_kind, "--calls", str(args.calls)]
    cmd += ["--repeat", str(args.repeat)]
    out = subprocess.run(cmd, env=env, cwd=checkout, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="child runs per checkout (median)")
    parser.add_argument("--stores", nargs="+", default=["memory", "sqlite"])
    parser.add_argument("--baseline", type=Path, default=None, metavar="DIR")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.child, args.calls, args.repeat))))
        return 0
    checkouts = {"this": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for store_kind in args.stores:
        for _ in range(args.rounds):
            for label, checkout in checkouts.items():
                found = run_child(checkout, store_kind, args)
                results.setdefault((label, store_kind), []).append(found)
    print(f"us per call: median of {args.rounds} runs, each the best of {args.repeat} passes; "
          f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
    print("store   checkout   " + " ".join(f"{op:>17}" for op in OPS))
    median: dict[tuple[str, str], dict[str, Any]] = {}
    for (label, store_kind), runs in results.items():
        median[(label, store_kind)] = {op: statistics.median(r[op] for r in runs) for op in OPS}
        row = median[(label, store_kind)]
        print(f"{store_kind:7} {label:10} " + " ".join(f"{row[op]:17.1f}" for op in OPS))
    if args.baseline:
        for store_kind in args.stores:
            this, base = median[("this", store_kind)], median[("baseline", store_kind)]
            ratios = " ".join(f"{this[op] / base[op]:17.3f}" for op in OPS)
            print(f"{store_kind:7} this/base  {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
