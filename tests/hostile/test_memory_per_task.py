"""Memory per task grows with its results: the store bounds results, not only tasks, so a
client submitting many tasks of numberResults 20 cannot push the server past its budget."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.helpers import T2V

from .harness import Effect, MockProcess, Watch, mock_process, report, statuses


def _fill(proc: MockProcess, tasks: int, results: int) -> tuple[list[str], list[int]]:
    """Submit ``tasks`` tasks of ``results`` results, 100 a request; their taskUUIDs in order."""
    uuids: list[str] = []
    codes: list[int] = []
    for start in range(0, tasks, 100):
        batch: list[dict[str, Any]] = [
            {**T2V, "taskUUID": str(uuid.uuid4()), "numberResults": results}
            for _ in range(min(100, tasks - start))
        ]
        uuids += [t["taskUUID"] for t in batch]
        codes.append(proc.client.post("/v1", json=batch).status_code)
    return uuids, codes


def _polled(proc: MockProcess, task_uuid: str) -> int:
    poll = [{"taskType": "getResponse", "taskUUID": task_uuid}]
    return proc.client.post("/v1", json=poll).status_code


def _attack(name: str, tasks: int, max_rss_growth: float, *flags: str) -> None:
    with mock_process("--job-seconds", "0", *flags) as proc, Watch(proc) as watch:
        uuids, codes = _fill(proc, tasks, 20)
        oldest, newest = _polled(proc, uuids[0]), _polled(proc, uuids[-1])
    report(
        Effect.of(
            name,
            watch,
            statuses=statuses(codes),
            note=f"oldest task polls {oldest}, newest {newest}",
        )
    )
    assert set(codes) == {200}
    assert watch.failures == 0
    assert oldest == 404, "the oldest tasks should have been forgotten to keep the cap"
    assert newest == 200
    assert watch.rss_growth_mib < max_rss_growth, f"RSS grew {watch.rss_growth_mib:.0f} MiB"


def test_results_are_capped_not_only_tasks() -> None:
    """1,000 tasks x 20 results against a cap of 2,000 results: the server keeps the newest
    100 tasks, forgets the oldest, and its memory does not follow the submitted volume."""
    _attack("1000 tasks x 20 results, --max-results 2000", 1000, 64.0, "--max-results", "2000")


@pytest.mark.hostile_full
def test_default_caps_keep_the_server_within_a_small_host() -> None:
    """15,000 tasks x 20 results (300,000 results, past the default cap of 200,000) on the
    defaults: RSS stays well inside a 1 GB host."""
    _attack("15000 tasks x 20 results, defaults", 15_000, 512.0)
