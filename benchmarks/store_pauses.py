"""Event-loop pauses of the memory store at 100,000 and 1,000,000 held tasks (at its cap), and
its memory per task.

Each run is a child process (this file with ``--child``) that fills a ``MemoryStore`` with
``--tasks`` video tasks of one result and a video each (what the engine stores for a
``videoInference`` task), its caps set to that many tasks, then runs, one after the other,
while the server's loop-lag monitor (``LagMonitor``, sampling every ``--interval`` seconds)
runs beside them on the same event loop:

- ``sweep none``: a sweep when nothing expired (the server sweeps every 5 s);
- ``evict``: ``--evict`` new tasks at the cap, 50 per request as a batch (each evicts the
  oldest task, its results and its video), the loop running between requests;
- ``sweep 10%``: a sweep when the oldest tenth of the tasks expired;
- ``sweep all``: a sweep when every task expired.

It reports each phase's wall time, the loop lag seen during it (max and p99 of the
monitor's samples, ms) and the worst lag measured on the loop thread's CPU clock instead of
the wall clock (``cpu max``: the CPU the loop used during a sample beyond the sampling
interval, i.e. the pause the process itself caused, without the time the shared machine
gave to other processes, which shows as lag too), and the process's RSS growth per task
filled (KiB, after a ``gc.collect``). ``--baseline DIR`` runs another checkout's store
(e.g. ``git worktree add /tmp/base main``) in the same run; ``--repeat`` runs each
(checkout, size) that many times, alternating checkouts, and the table shows medians. Memory
and lag are the process's own; the machine's load average is printed beside them.

Usage: python benchmarks/store_pauses.py [--tasks 100000 1000000] [--repeat 3] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TTL = 3600.0
PHASES = ("sweep none", "evict", "sweep 10%", "sweep all")


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def records(start: int, count: int, created: float, step: float) -> list[Any]:
    """``count`` (task, [video]) pairs as the engine stores a one-result video task."""
    from mockserver.store import TaskRecord, VideoRecord

    owner = "0f3c9a51d2b7e8c4"
    made = []
    for i in range(start, start + count):
        task_uuid = f"{i:08x}-1111-4222-8333-444455556666"
        video_uuid = f"{i:08x}-7777-4888-9999-aaaabbbbcccc"
        at = created + i * step
        record = TaskRecord(
            task_uuid, "videoInference", owner, at, at + 30.0, "[]", at + 30.0 + TTL
        )
        record.set_results(
            [
                {
                    "taskType": "videoInference",
                    "taskUUID": task_uuid,
                    "status": "success",
                    "videoUUID": video_uuid,
                    "videoURL": f"http://127.0.0.1:8000/video/{'s' * 43}/{owner}/{video_uuid}.mp4",
                    "cost": 0.77,
                    "seed": 1234567 + i,
                }
            ]
        )
        video = VideoRecord(video_uuid, "MP4", 1920, 1080, 5, at + 30.0, None, at + 30.0 + TTL)
        made.append((record, [video]))
    return made


def drive(coroutine: Any) -> Any:
    """A store call that does not suspend (the memory store's add_task), without the loop."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    raise RuntimeError("suspended")


async def child(tasks: int, evict: int, interval: float) -> dict[str, Any]:
    from mockserver.lifecycle.supervise import LagMonitor
    from mockserver.store import Limits, MemoryStore

    store = MemoryStore(Limits(max_tasks=tasks, max_results=2 * tasks))
    step = 1.0 / 1000  # tasks submitted 1,000 a second: 100 s of traffic per 100,000
    gc.collect()
    before = rss_kib()
    for start in range(0, tasks, 10_000):
        for record, videos in records(start, min(10_000, tasks - start), 0.0, step):
            drive(store.add_task(record, videos))
    gc.collect()
    per_task = (rss_kib() - before) / tasks

    samples: list[float] = []
    busy: list[float] = []  # each sample's lag on the thread's CPU clock, ms
    monitor = LagMonitor(interval=interval, warn_ms=1e9)
    record_lag = monitor.record

    def keep(lag_ms: float, now: float) -> None:
        samples.append(lag_ms)
        record_lag(lag_ms, now)

    monitor.record = keep  # type: ignore[method-assign]

    async def watch() -> None:
        while True:
            cpu = time.thread_time()
            await monitor.step()
            busy.append(max(0.0, 1000 * (time.thread_time() - cpu - interval)))

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.2)  # the monitor's first samples
    results: dict[str, Any] = {}
    last = tasks * step

    async def phase(name: str, work: Any) -> None:
        await asyncio.sleep(5 * interval)
        samples.clear()
        busy.clear()
        started = time.perf_counter()
        await work
        took = time.perf_counter() - started
        await asyncio.sleep(3 * interval)  # the sample that spans the work's end
        lags = sorted(samples)
        results[name] = {
            "seconds": round(took, 4),
            "lag_max_ms": round(lags[-1], 2) if lags else None,
            "lag_p99_ms": round(lags[int(0.99 * (len(lags) - 1))], 2) if lags else None,
            "samples": len(lags),
            # the lag measured on the thread's CPU clock: without the machine's preemption
            "cpu_max_ms": round(max(busy), 2) if busy else None,
        }

    made = records(tasks, evict, 0.0, step)  # before the phase: making them is not the store's

    async def add_at_cap() -> None:
        for start in range(0, evict, 50):  # one request's worth, then the loop runs
            for record, videos in made[start : start + 50]:
                await store.add_task(record, videos)
            await asyncio.sleep(0)

    await phase("sweep none", store.sweep(30.0))
    await phase("evict", add_at_cap())
    assert len(store.tasks) == tasks, len(store.tasks)
    await phase("sweep 10%", store.sweep(30.0 + TTL + 0.1 * last + evict * step))
    await phase("sweep all", store.sweep(30.0 + TTL + last + evict * step + 1))
    assert len(store.tasks) == 0, len(store.tasks)
    watcher.cancel()
    return {"tasks": tasks, "kib_per_task": round(per_task, 3), "phases": results}


def run_child(checkout: Path, tasks: int, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ)
    if checkout != ROOT:
        env["PYTHONPATH"] = f"{checkout}{os.pathsep}{checkout / 'generated'}"
    cmd = [sys.executable, __file__, "--child", "--tasks", str(tasks)]
    cmd += ["--evict", str(args.evict), "--interval", str(args.interval)]
    out = subprocess.run(cmd, env=env, cwd=checkout, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout)
    result["load"] = os.getloadavg()[0]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tasks", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--evict", type=int, default=20_000, help="tasks added at the cap")
    parser.add_argument("--interval", type=float, default=0.001, help="lag sampling (s)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=Path, default=None, metavar="DIR")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.tasks[0], args.evict, args.interval))))
        return 0
    checkouts = {"this": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for tasks in args.tasks:
        for _ in range(args.repeat):
            for label, checkout in checkouts.items():
                runs.setdefault((label, tasks), []).append(run_child(checkout, tasks, args))
    if args.json:
        print(json.dumps({f"{k[0]} {k[1]}": v for k, v in runs.items()}, indent=2))
        return 0
    print(f"medians of {args.repeat}; lag sampled every {args.interval * 1000:g} ms")
    print(
        "checkout  tasks      KiB/task  phase       seconds   lag max ms  lag p99 ms  "
        "cpu max ms  load"
    )
    for (label, tasks), results in runs.items():
        kib = statistics.median(r["kib_per_task"] for r in results)
        load = statistics.median(r["load"] for r in results)
        for name in PHASES:
            of = [r["phases"][name] for r in results]
            secs = statistics.median(p["seconds"] for p in of)
            worst = statistics.median(p["lag_max_ms"] for p in of)
            p99 = statistics.median(p["lag_p99_ms"] for p in of)
            cpu = statistics.median(p["cpu_max_ms"] for p in of)
            print(
                f"{label:9} {tasks:<10} {kib:8.3f}  {name:10} {secs:8.4f} {worst:11.2f} "
                f"{p99:11.2f} {cpu:11.2f}  {load:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
