"""Background loops survive their failures (logged with their name, backed off, resumed),
a scheduled callback that raises does not stop the scheduler, and the lag monitor sees a
blocked event loop."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from mockserver.lifecycle.scheduler import Scheduler
from mockserver.lifecycle.supervise import BACKOFF_MAX, LagMonitor, backoff, supervised

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_backoff_grows_and_is_bounded() -> None:
    waits = [backoff(n) for n in range(1, 12)]
    assert waits == sorted(waits) and waits[0] < waits[1] and waits[-1] == BACKOFF_MAX


async def test_a_failing_loop_logs_backs_off_and_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    async def step() -> None:
        runs.append(len(runs))
        if len(runs) <= 2:
            raise OSError("disk full")
        await asyncio.sleep(0.01)

    task = supervised("test loop", step)
    with caplog.at_level(logging.ERROR, "mockserver.supervise"):
        while len(runs) < 5:
            await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    failures = [r for r in caplog.records if "'test loop' failed" in r.getMessage()]
    assert len(failures) == 2 and all(r.exc_info for r in failures)


async def test_a_raising_callback_does_not_stop_the_scheduler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    scheduler = Scheduler(time.monotonic)
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("database is locked")

    scheduler.start()
    now = time.monotonic()
    scheduler.at(now, broken)
    scheduler.at(now + 0.05, lambda: ran.append("later"))
    with caplog.at_level(logging.ERROR, "mockserver.scheduler"):
        for _ in range(100):
            if ran:
                break
            await asyncio.sleep(0.01)
        scheduler.at(time.monotonic(), lambda: ran.append("after"))
        await asyncio.sleep(0.05)
    await scheduler.stop()
    assert ran == ["later", "after"]
    assert any("scheduled callback failed" in r.getMessage() for r in caplog.records)


async def test_lag_monitor_sees_a_blocked_loop(caplog: pytest.LogCaptureFixture) -> None:
    monitor = LagMonitor(interval=0.01, warn_ms=100)
    task = supervised("loop lag", monitor.step)
    await asyncio.sleep(0.05)
    assert monitor.as_dict()["loopLagMaxMs"] < 100
    with caplog.at_level(logging.WARNING, "mockserver.supervise"):
        time.sleep(0.3)  # blocks the event loop, as a slow callback would
        await asyncio.sleep(0.05)
    task.cancel()
    lag = monitor.as_dict()
    assert lag["loopLagMaxMs"] >= 250 and lag["loopLagMs"] >= 250
    assert any("event loop blocked" in r.getMessage() for r in caplog.records)
