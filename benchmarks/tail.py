"""Where the tail of a validated ``POST /v1`` comes from: the collector's pauses, and the
queue in front of a saturated server.

``gc``: in one process per checkout, the server built as the CLI builds it (its collector
thresholds, and what it freezes), ``--tasks`` validated POSTs fed to its HTTP protocol (no
network, as ``hot_path.py``); then the objects the collector tracks, the CPU time of a full
collection (the fastest of 5) and of the young collections that ran while feeding (their
count and longest). CPU time of the thread, not wall time: other work on the machine does
not lengthen it.

``load``: the mock (and ``--baseline DIR``'s, and the bare responder) under autocannon at
each ``--connections``, as ``mock_vs_prism.py`` loads it, with the collector's pauses
recorded inside the server during the measured window (count, total and longest, wall
time). Beside p50/p99: the mean latency Little's law gives a closed loop (connections /
req/s), the part of the tail that is the queue of a saturated server rather than a pause,
and p99 / p50 of each server (the bare responder's is the shape the client and the machine
give any server).

Usage: python benchmarks/tail.py gc [--tasks 100000] [--baseline DIR]
       python benchmarks/tail.py load [--connections 20 100] [--seconds 10] [--repeat 1]
       [--baseline DIR]
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
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# Run inside the served process: record every collection's generation, wall-clock pause and
# end (CLOCK_MONOTONIC, the same clock as this script's), written to GC_LOG each 0.2 s.
RECORDER = """
import gc, json, os, sys, threading, time
pauses, begun = [], [0.0]
def on_gc(phase, info):
    if phase == "start":
        begun[0] = time.monotonic()
    else:
        end = time.monotonic()
        pauses.append((info["generation"], (end - begun[0]) * 1000, end))
gc.callbacks.append(on_gc)
def dump():
    while True:
        time.sleep(0.2)
        with open(os.environ["GC_LOG"] + ".tmp", "w") as f:
            json.dump(pauses, f)
        os.replace(os.environ["GC_LOG"] + ".tmp", os.environ["GC_LOG"])
threading.Thread(target=dump, daemon=True).start()
from mockserver.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def env_for(checkout: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{checkout}{os.pathsep}{checkout / 'generated'}"}


# ── gc ────────────────────────────────────────────────────────────────────────


async def fill(tasks: int) -> dict[str, float]:
    """In this process (the checkout on PYTHONPATH): the CLI's server holding ``tasks``."""
    import gc

    from hot_path import KEY, connected, requests

    from mockserver.cli import _server
    from mockserver.core import models
    from mockserver.core.config import MockConfig
    from mockserver.protocols.limits import http_protocol

    server = _server(MockConfig(api_keys=frozenset({KEY}), seed=1), models.load([], []))
    young: list[float] = []
    begun = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            begun[0] = time.thread_time()
        elif info["generation"] < 2:
            young.append((time.thread_time() - begun[0]) * 1000)

    protocol, transport = connected(server, http_protocol)
    batch = requests(tasks)
    gc.callbacks.append(on_gc)
    for request in batch:
        protocol.data_received(request)
        transport.out.clear()
    gc.callbacks.remove(on_gc)
    del batch
    full = []
    for _ in range(5):
        started = time.thread_time()
        gc.collect()
        full.append((time.thread_time() - started) * 1000)
    return {
        "tracked": len(gc.get_objects()),
        "frozen": gc.get_freeze_count(),
        "full_ms": round(min(full), 2),
        "young_count": len(young),
        "young_max_ms": round(max(young, default=0.0), 2),
        "young_total_ms": round(sum(young), 1),
    }


def gc_figures(args: argparse.Namespace) -> None:
    checkouts = {"this checkout": ROOT}
    if args.baseline is not None:
        checkouts["baseline"] = args.baseline.resolve()
    for name, checkout in checkouts.items():
        cmd = [sys.executable, str(Path(__file__).resolve()), "gc-child", str(args.tasks)]
        out = subprocess.run(
            cmd, env=env_for(checkout), cwd=checkout, check=True, capture_output=True, text=True
        )
        row = json.loads(out.stdout)
        print(
            f"{name:>13}: {args.tasks} tasks; tracked {row['tracked']:,} (+{row['frozen']:,} "
            f"frozen); full collection {row['full_ms']} ms CPU; young collections while "
            f"filling {row['young_count']}, longest {row['young_max_ms']} ms, "
            f"total {row['young_total_ms']} ms"
        )


# ── load ──────────────────────────────────────────────────────────────────────


def load_figures(args: argparse.Namespace) -> None:
    from mock_vs_prism import ensure_node_packages, free_port, load, process

    ensure_node_packages()
    from runware_contract import klingai_video_3_0_pro as kling

    body = [dict(kling.EXAMPLES[0].request)]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(body[0], f)
        body_file = Path(f.name)
    gc_log = Path(tempfile.mkdtemp()) / "gc.json"
    servers: dict[str, tuple[list[str], Path]] = {"mock": ([sys.executable, "-c", RECORDER], ROOT)}
    if args.baseline is not None:
        servers["baseline"] = ([sys.executable, "-c", RECORDER], args.baseline.resolve())
    servers["limit"] = ([sys.executable, str(HERE / "bare_responder.py")], ROOT)
    runs: list[dict[str, Any]] = []
    try:
        for _ in range(args.repeat):
            for connections in args.connections:
                run: dict[str, Any] = {"connections": connections}
                for name, (cmd, checkout) in servers.items():
                    port = free_port()
                    flags = ["--port", str(port)]
                    if name != "limit":
                        flags += ["--api-key", "bench-key", "--log-level", "warning"]
                    url = f"http://127.0.0.1:{port}/v1"
                    os.environ["GC_LOG"] = str(gc_log)
                    with process(cmd + flags, url, body, checkout):
                        load(url, connections, args.warmup, body_file)
                        began = time.monotonic()
                        result = load(url, connections, args.seconds, body_file)
                        ended = time.monotonic()
                        time.sleep(0.5)  # the recorder's next write
                        pauses = json.loads(gc_log.read_text()) if gc_log.exists() else []
                    gc_log.unlink(missing_ok=True)
                    window = [p for p in pauses if began <= p[2] <= ended]
                    result["gc_count"] = len(window)
                    result["gc_ms"] = round(sum(p[1] for p in window), 1)
                    result["gc_max_ms"] = round(max((p[1] for p in window), default=0.0), 1)
                    result["gc_generations"] = sorted({p[0] for p in window})
                    result["little_ms"] = round(connections / max(result["rps"], 1) * 1000, 2)
                    run[name] = result
                runs.append(run)
                show(run)
    finally:
        body_file.unlink()
    if args.repeat > 1:
        for connections in args.connections:
            mine = [r for r in runs if r["connections"] == connections]
            for name in servers:
                p99 = statistics.median(r[name]["p99_ms"] for r in mine)
                rps = statistics.median(r[name]["rps"] for r in mine)
                print(f"medians at {connections} connections, {name}: {rps:.0f} req/s, p99 {p99}")


def show(run: dict[str, Any]) -> None:
    print(f"{run['connections']} connections:")
    for name, r in run.items():
        if name == "connections":
            continue
        shape = round(r["p99_ms"] / max(r["p50_ms"], 1), 1)
        print(
            f"{name:>9}: {r['rps']:8.0f} req/s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms "
            f"(p99/p50 {shape})  Little's-law mean {r['little_ms']} ms  "
            f"GC pauses {r['gc_count']} ({r['gc_ms']} ms, longest {r['gc_max_ms']} ms, "
            f"generations {r['gc_generations']})  "
            f"errors {r['errors']}"
        )


def main() -> None:
    if sys.argv[1:2] == ["gc-child"]:
        print(json.dumps(asyncio.run(fill(int(sys.argv[2])))))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["gc", "load"])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--connections", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--baseline", type=Path, default=None, metavar="DIR")
    args = parser.parse_args()
    if args.what == "gc":
        gc_figures(args)
    else:
        load_figures(args)


if __name__ == "__main__":
    main()
