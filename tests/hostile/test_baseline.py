"""The quiet baseline every attack's row is read against: a mock doing nothing else."""

from __future__ import annotations

import time

from .harness import Effect, Watch, mock_process, report


def test_quiet_server_answers_health_fast() -> None:
    with mock_process() as proc, Watch(proc) as watch:
        time.sleep(1.0)
    report(Effect.of("baseline (no attack)", watch))
    assert watch.failures == 0
    assert len(watch.latencies) > 10
    assert watch.health_max_ms < 1000
