"""The Redis store under faults: frozen (SIGSTOP) while tasks arrive, and out of memory.

- A 503 means the task does not exist: Redis frozen past the store timeout while tasks with
  a webhookURL are POSTed, then woken (it runs the writes queued meanwhile): not one refused
  task exists afterwards or fires its webhook, the client's retry with the same taskUUID is
  accepted as a new task, and every task acknowledged before the freeze is delivered once.
- One deadline per request: a batch of 20 tasks on a frozen Redis answers 503 after one
  store timeout, not twenty.
- Out of memory (``maxmemory``, noeviction) with 2,000 accepted tasks waiting: the
  completion loop backs off and logs a line per interval, not one per task per second, and
  once memory is freed every task is delivered exactly once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import T2V, Receiver, RedisServer, eventually, redis_server

from .harness import Effect, MockProcess, Watch, cpu_seconds, mock_process, report

STORE_TIMEOUT = 2.0  # the mock's default --store-timeout


def _task(hook: str) -> dict[str, Any]:
    return {**T2V, "taskUUID": str(uuid.uuid4()), "webhookURL": hook}


@contextlib.contextmanager
def _frozen(redis: RedisServer) -> Iterator[None]:
    """Redis stopped (SIGSTOP) for the block, then woken: it runs what was queued."""
    assert redis.process is not None
    os.kill(redis.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(redis.process.pid, signal.SIGCONT)


def _redis(redis: RedisServer, *command: str) -> bytes:
    """One command to Redis in its inline form, its raw answer."""
    with socket.create_connection(("127.0.0.1", redis.port), timeout=10) as conn:
        conn.sendall(" ".join(command).encode() + b"\r\n")
        return conn.recv(65536)


def _exists(proc: MockProcess, task_uuid: str) -> bool:
    poll = proc.client.post("/v1", json=[{"taskType": "getResponse", "taskUUID": task_uuid}])
    errors = poll.json().get("errors", [])
    return not (errors and errors[0]["code"] == "taskNotFound")


def _delivered(receiver: Receiver) -> list[str]:
    return [b["data"][0]["taskUUID"] for b in receiver.json_bodies if "data" in b]


def test_a_503_on_a_frozen_redis_means_the_task_does_not_exist(tmp_path: Path) -> None:
    with (
        redis_server(tmp_path) as redis,
        Receiver(keep_alive=True) as receiver,
        mock_process("--store", redis.url, "--job-seconds", "0.5") as proc,
        ThreadPoolExecutor(10) as pool,
    ):
        acked = [_task(receiver.hook) for _ in range(5)]
        assert proc.client.post("/v1", json=acked).status_code == 200
        refused = [_task(receiver.hook) for _ in range(10)]
        with Watch(proc) as watch:
            with _frozen(redis):
                answers = list(pool.map(lambda t: proc.client.post("/v1", json=[t]), refused))
                time.sleep(0.5)  # woken after every client had its answer
            codes = [a.status_code for a in answers]
            assert eventually(redis.answers, timeout=10)
            time.sleep(2.0)  # job seconds, the due poll: a ghost would complete by now
        ghosts = [t["taskUUID"] for t in refused if _exists(proc, t["taskUUID"])]
        fired = set(_delivered(receiver)) & {t["taskUUID"] for t in refused}
        retried = [proc.client.post("/v1", json=[t]) for t in refused]
        expected = {t["taskUUID"] for t in acked + refused}
        complete = eventually(lambda: set(_delivered(receiver)) >= expected, timeout=20)
        delivered = _delivered(receiver)
    accepted = sum(r.status_code == 200 for r in retried)
    report(Effect.of("redis frozen 4 s while 10 tasks arrive", watch,
                     deliveries=f"{len(delivered)}/{len(expected)} (+{receiver.duplicates})",
                     statuses={str(c): codes.count(c) for c in set(codes)},
                     note=f"ghost tasks: {len(ghosts)}; ghost webhooks: {len(fired)}; "
                          f"retries accepted: {accepted}/10"))  # fmt: skip
    assert codes == [503] * 10, codes
    assert all(a.json()["errors"][0]["code"] == "storageUnavailable" for a in answers)
    assert ghosts == [], f"{len(ghosts)} refused tasks exist after Redis woke"
    assert not fired, f"{len(fired)} refused tasks fired their webhooks"
    assert [r.status_code for r in retried] == [200] * 10, [r.text[:200] for r in retried]
    assert complete, "an acknowledged or retried task was never delivered"
    assert sorted(delivered) == sorted(expected)  # each exactly once
    assert watch.health_p99_ms < 100, watch.health_p99_ms


def test_one_store_deadline_per_request_not_one_per_task(tmp_path: Path) -> None:
    with (
        redis_server(tmp_path) as redis,
        Receiver(keep_alive=True) as receiver,
        mock_process("--store", redis.url) as proc,
    ):
        batch = [_task(receiver.hook) for _ in range(20)]
        with Watch(proc) as watch, _frozen(redis):
            started = time.monotonic()
            try:
                answer: httpx.Response | None = proc.client.post("/v1", json=batch, timeout=20)
            except httpx.TimeoutException:
                answer = None
            took = time.monotonic() - started
        assert eventually(redis.answers, timeout=10)
        time.sleep(1.0)
        ghosts = sum(_exists(proc, t["taskUUID"]) for t in batch)
    codes = sorted({e["code"] for e in answer.json()["errors"]}) if answer is not None else []
    report(Effect.of("redis frozen: one POST of 20 tasks", watch,
                     statuses={str(answer.status_code if answer else "none in 20 s"): 1},
                     note=f"answered after {took:.1f} s; ghost tasks: {ghosts}"))  # fmt: skip
    assert answer is not None, "no answer within 20 s"
    assert answer.status_code == 503 and codes == ["storageUnavailable"], answer.text[:300]
    assert len(answer.json()["errors"]) == 20
    assert took < STORE_TIMEOUT + 1.5, f"the batch took {took:.1f} s"
    assert ghosts == 0


@pytest.mark.hostile_full
def test_redis_out_of_memory_backs_off_and_delivers_each_task_once(tmp_path: Path) -> None:
    log = tmp_path / "mock.log"
    count, window = 2000, 20.0
    with (
        redis_server(tmp_path) as redis,
        Receiver(keep_alive=True) as receiver,
        mock_process("--store", redis.url, "--job-seconds", "4", log=log) as proc,
    ):
        tasks = [_task(receiver.hook) for _ in range(count)]
        for start in range(0, count, 100):
            answer = proc.client.post("/v1", json=tasks[start : start + 100])
            assert answer.status_code == 200 and "errors" not in answer.json(), answer.text[:300]
        used = _redis(redis, "INFO", "memory").split(b"used_memory:")[1].split(b"\r")[0]
        _redis(redis, "CONFIG", "SET", "maxmemory", str(int(used) // 2))  # full: SET refused
        time.sleep(5.0)  # the tasks fall due while Redis is full
        lines_before, cpu_before = len(log.read_bytes().splitlines()), cpu_seconds(proc.pid)
        with Watch(proc) as watch:
            time.sleep(window)
        lines = len(log.read_bytes().splitlines()) - lines_before
        cpu = (cpu_seconds(proc.pid) - cpu_before) / window
        log_bytes = log.stat().st_size
        _redis(redis, "CONFIG", "SET", "maxmemory", "0")  # memory freed
        expected = {t["taskUUID"] for t in tasks}
        complete = eventually(lambda: set(_delivered(receiver)) >= expected, timeout=90)
        time.sleep(3.0)  # a duplicate would come by now
        delivered = _delivered(receiver)
        missing = sorted(expected - set(delivered))[:3]
        state = [_redis(redis, "KEYS", f"rwm:*{m}") for m in missing]
    twice = len(delivered) - len(set(delivered))
    report(Effect.of("redis out of memory, 2000 tasks waiting", watch,
                     deliveries=f"{len(set(delivered))}/{count} (+{twice})",
                     note=f"{lines / window:.1f} log lines/s ({log_bytes / 1e6:.1f} MB log); "
                          f"CPU {100 * cpu:.0f}%"))  # fmt: skip
    assert lines / window < 5, f"{lines} log lines in {window} s"
    assert cpu < 0.25, f"CPU {100 * cpu:.0f}% while Redis was full"
    assert complete, f"{len(expected - set(delivered))} tasks never delivered: {state}"
    assert len(delivered) == count, f"{len(delivered) - count} duplicate webhooks"
    assert watch.health_p99_ms < 100, watch.health_p99_ms
