"""A burst of webhooks to a healthy receiver: every result arrives exactly once, and the
server keeps answering ``/health`` quickly while it delivers them."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import T2V, Receiver, eventually

from .harness import Effect, MockProcess, Watch, mock_process, report


def _tasks(count: int, results: int, hook: str) -> list[dict[str, Any]]:
    return [
        {**T2V, "taskUUID": str(uuid.uuid4()), "numberResults": results, "webhookURL": hook}
        for _ in range(count)
    ]


def _burst(proc: MockProcess, name: str, tasks: int, results: int, wait: float) -> None:
    """Submit ``tasks`` x ``results`` webhooks at once and count what the receiver gets."""
    expected = tasks * results
    with Receiver(keep_alive=True) as receiver, Watch(proc) as watch:
        batch = _tasks(tasks, results, receiver.hook)
        codes = [proc.client.post("/v1", json=batch[i : i + 10]).status_code
                 for i in range(0, tasks, 10)]  # fmt: skip
        eventually(lambda: len(receiver.received) >= expected, timeout=wait)
        # A late duplicate (a retry of a delivery the receiver already took) shows up here.
        eventually(lambda: False, timeout=2.0)
    lag = proc.client.get("/health").json().get("loopLagMaxMs")
    videos = Counter(
        item["videoUUID"] for body in receiver.json_bodies for item in body.get("data", [])
    )
    wanted = {t["taskUUID"] for t in batch}
    report(
        Effect.of(
            name,
            watch,
            deliveries=f"{len(videos)}/{expected} (+{receiver.duplicates})",
            statuses={str(c): codes.count(c) for c in set(codes)},
            note=f"event loop blocked at most {lag} ms",
        )
    )
    assert set(codes) == {200}
    assert {body["data"][0]["taskUUID"] for body in receiver.json_bodies} == wanted
    assert len(videos) == expected and set(videos.values()) == {1}, (
        f"{len(videos)} of {expected} results arrived, {receiver.duplicates} twice or more"
    )
    assert watch.failures == 0
    assert watch.health_p99_ms < 300, f"/health p99 {watch.health_p99_ms:.0f} ms"
    assert lag is not None and lag < 1000, f"the event loop was blocked for {lag} ms"


def test_webhook_burst_quick() -> None:
    with mock_process("--job-seconds", "0.5") as proc:
        _burst(proc, "webhook burst 50x20", 50, 20, wait=15)


@pytest.mark.hostile_full
def test_webhook_burst_2000() -> None:
    with mock_process("--job-seconds", "1") as proc:
        _burst(proc, "webhook burst 100x20", 100, 20, wait=90)


@pytest.mark.hostile_full
def test_webhook_burst_2000_sqlite_workers(tmp_path: Path) -> None:
    store = f"sqlite:{tmp_path / 'mock.db'}"
    with mock_process("--job-seconds", "1", "--store", store, "--workers", "2") as proc:
        _burst(proc, "webhook burst 100x20, sqlite, 2 workers", 100, 20, wait=90)
