"""Background loops that cannot die silently, and a watch on the event loop itself.

``supervised(name, step)`` runs ``step`` forever as one asyncio task: an exception is logged
with the loop's name and a traceback, the loop waits (0.1 s, doubling to at most 5 s while
the failures go on; back to 0.1 s after a step that succeeds) and runs ``step`` again. Only
cancellation ends it. Every long-lived loop of the server (the scheduler, the sweep, the
delivery senders, the lag monitor) is one, so a full disk or a bug in one callback costs a
log line and a retry, never the loop.

``Repeated`` logs a failure that repeats (a store that stays away, retried by many tasks) at
most once per interval, with how many it left out, so a long outage costs a line every few
seconds, not one per attempt.

``LagMonitor`` measures how late the event loop wakes a task that asked to sleep
``interval``: the lateness is time some callback held the loop. The worst since start and
over the last completed window are exposed on ``GET /health``; past ``warn_ms`` it logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger("mockserver.supervise")

Step = Callable[[], Awaitable[None]]
BACKOFF_FIRST = 0.1
BACKOFF_MAX = 5.0


def backoff(failures: int, first: float = BACKOFF_FIRST, most: float = BACKOFF_MAX) -> float:
    """Seconds to wait after ``failures`` failures in a row: ``first``, doubling up to
    ``most``."""
    return float(min(most, first * 2 ** max(0, failures - 1)))


async def run_supervised(name: str, step: Step) -> None:
    """``await step()`` until cancelled; log and back off on every exception but
    cancellation. A cancellation that a step swallowed still ends the loop (redis-py 8.2 can
    return a command's answer to a task cancelled as it arrived; the task stays marked as
    cancelling, and a shutdown waiting for the loop would wait forever)."""
    failures = 0
    task = asyncio.current_task()
    while True:
        try:
            await step()
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception:
            failures += 1
            wait = backoff(failures)
            log.exception("background loop %r failed (%d in a row); again in %.1f s",
                          name, failures, wait)  # fmt: skip
            await asyncio.sleep(wait)
        if task is not None and task.cancelling():
            raise asyncio.CancelledError


class Repeated:
    """A warning that may repeat many times a second: the first is logged at once, the rest
    at most once per ``interval``, each saying how many were left out since the last."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self.left_out = 0
        self._next = 0.0

    def warning(self, message: str, *args: object) -> None:
        now = self.clock()
        if now < self._next:
            self.left_out += 1
            return
        if self.left_out:
            message += f" (and {self.left_out} more like it in the last {self.interval:g} s)"
        self.logger.warning(message, *args)
        self.left_out = 0
        self._next = now + self.interval


def supervised(name: str, step: Step) -> asyncio.Task[None]:
    """Start ``step`` as a supervised loop named ``name`` on the running event loop."""
    return asyncio.get_running_loop().create_task(run_supervised(name, step), name=name)


async def cancelled(*tasks: asyncio.Task[None]) -> None:
    """Cancel ``tasks`` and wait until each has ended (a loop's shutdown)."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


class LagMonitor:
    """How late the event loop runs a timer: the longest any callback blocked it."""

    def __init__(self, interval: float = 0.1, window: float = 10.0, warn_ms: float = 250.0):
        self.interval = interval
        self.window = window
        self.warn_ms = warn_ms
        self.max_ms = 0.0  # since start
        self.last_window_ms = 0.0  # the worst of the last completed window
        self._current_ms = 0.0
        self._window_started = time.monotonic()

    async def step(self) -> None:
        """One measurement: sleep ``interval``, see how much later than that it woke."""
        started = time.monotonic()
        await asyncio.sleep(self.interval)
        now = time.monotonic()
        self.record(1000 * max(0.0, now - started - self.interval), now)

    def record(self, lag_ms: float, now: float) -> None:
        self.max_ms = max(self.max_ms, lag_ms)
        self._current_ms = max(self._current_ms, lag_ms)
        if now - self._window_started >= self.window:
            self.last_window_ms, self._current_ms = self._current_ms, 0.0
            self._window_started = now
        if lag_ms > self.warn_ms:
            log.warning("event loop blocked for %.0f ms", lag_ms)

    def as_dict(self) -> dict[str, float]:
        return {
            "loopLagMs": round(max(self._current_ms, self.last_window_ms), 1),
            "loopLagMaxMs": round(self.max_ms, 1),
        }
