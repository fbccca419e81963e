"""Timed work (results becoming ready, deliveries, WebSocket pushes) on one timer.

A heap of (due, callback); one asyncio task sleeps until the earliest due time and
wakes early when something earlier is added. Callbacks run on the event loop and
must not block; slow work (HTTP deliveries) goes to its own task or queue. A callback that
raises is logged and skipped: it never stops the ones after it. The loop itself runs
supervised (``supervise.py``), so even a failure outside a callback costs one retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Callable
from typing import Any

from .supervise import cancelled, supervised

log = logging.getLogger("mockserver.scheduler")
Callback = Callable[[], Any]


class Scheduler:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, Callback]] = []
        self._counter = itertools.count()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        """Callbacks waiting for their time (the dashboard's queue depth)."""
        return len(self._heap)

    def at(self, due: float, callback: Callback) -> None:
        entry = (due, next(self._counter), callback)
        heapq.heappush(self._heap, entry)
        # Only a new earliest entry changes when the timer must wake: waking it for every
        # addition (one per accepted task) cost a loop pass, a task and a timer per request.
        if self._wake is not None and self._heap[0] is entry:
            self._wake.set()

    def run_due(self) -> int:
        """Run every callback that is due now; returns how many ran."""
        ran = 0
        now = self.clock()
        while self._heap and self._heap[0][0] <= now:
            _, _, callback = heapq.heappop(self._heap)
            ran += 1
            try:
                result = callback()
            except Exception:
                log.exception("a scheduled callback failed; the scheduler goes on")
                continue
            if asyncio.iscoroutine(result):
                asyncio.get_running_loop().create_task(result)
        return ran

    async def _step(self) -> None:
        """Run what is due, then sleep until the next due time or an earlier addition."""
        assert self._wake is not None
        self.run_due()
        delay = self._heap[0][0] - self.clock() if self._heap else None
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=delay)

    def start(self) -> None:
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = supervised("scheduler", self._step)

    async def stop(self) -> None:
        if self._task is not None:
            await cancelled(self._task)
            self._task = None

    def clear(self) -> None:
        self._heap.clear()
