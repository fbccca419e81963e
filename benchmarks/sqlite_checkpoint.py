"""What a WAL checkpoint of the SQLite store costs the event loop, by the writes it follows.

The store's loop connection checkpoints the WAL itself every ``CHECKPOINT_EVERY`` writes
(``mockserver/store/sqlite.py``), on the event loop: that call is a pause of the loop. For
each interval of ``--every`` this writes ``--writes`` tasks (one result and a video each,
as the engine stores a ``videoInference`` task) through ``add_task`` on a running loop,
checkpointing after every interval as the store does, and reports the checkpoint's
duration (median and max: the loop's pause), its cost per write it followed, and the time
per write with the checkpoints included. Each interval runs on a fresh file in a temporary
directory (the file system the store would use: ``--dir``).

Usage: python benchmarks/sqlite_checkpoint.py [--every 10 25 50 100 200] [--writes 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


async def measure(every: int, writes: int, folder: str) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from store_pauses import records

    from mockserver.store import sqlite

    sqlite.CHECKPOINT_EVERY = 2**62  # the checkpoints are this script's, timed
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        store = sqlite.SqliteStore(f"{tmp}/checkpoint.db")
        pauses: list[float] = []
        made = records(0, writes - writes % every, time.time(), 0.001)
        started = time.perf_counter()
        for n, (record, videos) in enumerate(made, 1):
            await store.add_task(record, videos)
            if n % every == 0:
                before = time.perf_counter()
                store._checkpoint(store._now_writer)
                pauses.append(time.perf_counter() - before)
        total = time.perf_counter() - started
        await store.close()
    return {
        "every": every,
        "checkpoints": len(pauses),
        "pause_median_ms": round(1000 * statistics.median(pauses), 2),
        "pause_max_ms": round(1000 * max(pauses), 2),
        "checkpoint_us_per_write": round(1e6 * sum(pauses) / len(made), 1),
        "us_per_write_with_checkpoints": round(1e6 * total / len(made), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--every", type=int, nargs="+", default=[10, 25, 50, 100, 200])
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--dir", default=None, help="where the files go (default: the temp dir)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [asyncio.run(measure(every, args.writes, args.dir)) for every in args.every]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("every  checkpoints  pause median ms  pause max ms  checkpoint us/write  us/write")
    for r in rows:
        print(
            f"{r['every']:5d} {r['checkpoints']:12d} {r['pause_median_ms']:16.2f} "
            f"{r['pause_max_ms']:13.2f} {r['checkpoint_us_per_write']:20.1f} "
            f"{r['us_per_write_with_checkpoints']:9.1f}"
        )


if __name__ == "__main__":
    main()
