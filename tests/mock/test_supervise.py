"""Background loops survive their failures (logged with their name, backed off, resumed),
a scheduled callback that raises does not stop the scheduler, and the lag monitor sees a
blocked event loop."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time

import pytest

from mockserver.lifecycle.eager import eagerly
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


@pytest.mark.parametrize("failing", [False, True], ids=["answering", "failing"])
async def test_a_loop_ends_when_cancelled_even_if_its_step_swallowed_the_cancellation(
    failing: bool,
) -> None:
    """A step whose library catches the cancellation and carries on (its call answered, or
    failed, as the cancel came) must not keep the loop, and the shutdown waiting for it,
    going forever."""
    steps: list[int] = []
    inside = asyncio.Event()

    async def step() -> None:
        steps.append(1)
        try:
            inside.set()
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            if len(steps) > 1:
                raise
            # the first one swallowed, as such a library does
        if failing:
            raise OSError("connection reset")

    task = supervised("swallowing loop", step)
    await inside.wait()
    task.cancel()
    await asyncio.wait({task}, timeout=5)
    ended, ran = task.cancelled(), len(steps)
    task.cancel()  # (a loop that went on: stopped for good)
    await asyncio.wait({task}, timeout=5)
    assert ended and ran == 1


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


# ── eagerly: a task only for what suspends ──────────────────────────────────


async def test_eagerly_finishes_at_once_what_never_suspends_and_raises_its_error() -> None:
    done: list[str] = []

    async def quick() -> None:
        done.append("quick")

    assert eagerly(quick()) is None and done == ["quick"]  # no task, no turn of the loop

    async def broken() -> None:
        raise ValueError("bad frame")

    with pytest.raises(ValueError, match="bad frame"):
        eagerly(broken())


async def test_eagerly_goes_on_as_a_task_from_where_it_suspended() -> None:
    """The first step runs now; the rest in a task that sees what it waited for, keeps its
    context variables (a request deadline set before the wait is reset after it, in the same
    context) and can be cancelled (the coroutine gets the cancellation and cleans up)."""
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="outside")
    steps: list[str] = []
    gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def waits() -> None:
        token = var.set("inside")
        steps.append("started")
        steps.append(await gate)
        await asyncio.sleep(0)
        steps.append(var.get())
        var.reset(token)  # a token of this coroutine's own context: no ValueError

    task = eagerly(waits())
    assert task is not None and steps == ["started"] and var.get() == "outside"
    gate.set_result("woken")
    await task
    assert steps == ["started", "woken", "inside"] and var.get() == "outside"

    cleaned: list[str] = []

    async def cancelled() -> None:
        try:
            await asyncio.sleep(10)
        finally:
            cleaned.append("cleaned")

    task = eagerly(cancelled())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == ["cleaned"]
