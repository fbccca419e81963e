"""The SQLite store under an unlucky operator: another process holding the write lock, and
the database file truncated under the running mock.

- Write lock held (``BEGIN IMMEDIATE``, as the sqlite3 shell or a backup would) while POSTs
  arrive: ``/health`` and reads stay fast (the event loop never waits on the lock), the
  writes answer 503 ``storageUnavailable`` naming the lock within the store timeout, and
  once the lock is released tasks are accepted again.
- File truncated: ``/health`` reports the store unhealthy (503) and POSTs answer 503 rather
  than accepting tasks that cannot survive a restart.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import T2V, eventually

from .harness import Effect, Watch, mock_process, report


def _task() -> dict[str, Any]:
    return {**T2V, "taskUUID": str(uuid.uuid4())}


def test_a_write_lock_held_elsewhere_never_freezes_the_event_loop(tmp_path: Path) -> None:
    path = tmp_path / "mock.db"
    with mock_process("--store", f"sqlite:{path}") as proc, ThreadPoolExecutor(3) as pool:
        known = _task()
        assert proc.client.post("/v1", json=[known]).status_code == 200
        holder = sqlite3.connect(path, isolation_level=None)
        with Watch(proc) as watch:
            holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            started = time.monotonic()
            posts = [pool.submit(proc.client.post, "/v1", json=[_task()]) for _ in range(3)]
            read_started = time.monotonic()
            poll = proc.client.post(
                "/v1", json=[{"taskType": "getResponse", "taskUUID": known["taskUUID"]}]
            )
            read_ms = 1000 * (time.monotonic() - read_started)
            answers: list[httpx.Response] = [p.result() for p in posts]
            took = time.monotonic() - started
            time.sleep(1.0)  # still held: /health keeps answering
            holder.execute("ROLLBACK")
        holder.close()
        after = proc.client.post("/v1", json=[_task()])
    codes = [a.status_code for a in answers]
    report(Effect.of("sqlite write lock held by another process", watch,
                     statuses={str(c): codes.count(c) for c in set(codes)},
                     note=f"writes failed in {took:.1f} s; a read: {read_ms:.0f} ms"))  # fmt: skip
    assert watch.failures == 0
    assert watch.health_max_ms < 100, watch.health_max_ms
    assert poll.status_code == 200 and read_ms < 100, (poll.status_code, read_ms)
    assert codes == [503] * 3, codes
    for answer in answers:
        error = answer.json()["errors"][0]
        assert error["code"] == "storageUnavailable"
        assert "locked by another process" in error["message"], error
    assert took < 2.0 + 1.5, f"the writes took {took:.1f} s to fail"
    assert after.status_code == 200, after.text[:300]


def test_a_truncated_database_file_makes_the_store_unhealthy(tmp_path: Path) -> None:
    path = tmp_path / "mock.db"
    with mock_process("--store", f"sqlite:{path}") as proc:
        for _ in range(20):
            assert proc.client.post("/v1", json=[_task()]).status_code == 200
        with sqlite3.connect(path) as db:  # the tasks into the file, as a checkpoint does
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = path.stat().st_size
        with Watch(proc) as watch:
            os.truncate(path, size // 2)
            unhealthy = eventually(
                lambda: proc.client.get("/health").status_code == 503, timeout=15, interval=0.2
            )
            post = proc.client.post("/v1", json=[_task()])
        health = proc.client.get("/health")
    said = health.json().get("status")
    report(Effect.of("sqlite file truncated under the mock", watch,
                     statuses={str(post.status_code): 1},
                     note=f"/health {health.status_code} {said}"))  # fmt: skip
    assert unhealthy, "/health never reported the damaged store"
    assert health.json()["status"] == "unhealthy" and "truncated" in health.json()["store"]
    assert post.status_code == 503, post.text[:300]
    assert post.json()["errors"][0]["code"] == "storageUnavailable"
