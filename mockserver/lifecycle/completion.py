"""Completion fan-out: when a task is due, its push, webhook deliveries and upload.

The store's ``claim_completion`` decides who completes a task. Memory and SQLite: one claim,
final, so completion happens at most once (a crash between claim and delivery loses it).
Redis: the claim is a lease; the claimer marks the task done (``finish_completion``) once
every delivery has an outcome, and a lease that expires unfinished (its holder died) is
claimed again by another process: at least once, exactly once when nothing dies. A store
failure never drops a completion: a claim that raised is asked again by the same claimant
(so a claim Redis ran whose answer was lost is still ours), a delivery that raised before
sending anything (the push's publish, reading a video to upload) is tried again while the
claim is held, and a finish that raised is tried again until it is recorded (a finish
allocates nothing in Redis, so even a Redis at maxmemory records it before the lease runs
out). Each retry waits longer (``COMPLETION_RETRY`` doubling to ``COMPLETION_RETRY_MAX``,
with jitter, so thousands of waiting tasks do not retry in step), and the failures are
logged at most once per ``LOG_INTERVAL`` with a count: a store away for minutes costs a
line every few seconds, not one per task per second. With a shared schedule (Redis), a task
this process is already completing (or retrying) is not taken again from the due set.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from ..core.config import MockConfig
from ..core.task_types import LIFECYCLES
from ..media.containers import CONTAINERS
from ..media.files import MediaFiles
from ..store import Store, StoreUnavailable, TaskRecord
from .delivery import Deliverer
from .relay import Relay
from .scheduler import Scheduler
from .supervise import Repeated, backoff

log = logging.getLogger("mockserver")
COMPLETION_RETRY = 1.0  # seconds before a claim, delivery or finish the store failed is retried
COMPLETION_RETRY_MAX = 8.0  # the longest wait between two retries of one task
LOG_INTERVAL = 5.0  # failures of the completion loop: one line per interval at most


class Completion:
    """Schedules each accepted task's completion and performs it when due."""

    def __init__(
        self,
        config: MockConfig,
        store: Store,
        scheduler: Scheduler,
        relay: Relay,
        media: MediaFiles,
    ) -> None:
        self.config = config
        self.store = store
        self.scheduler = scheduler
        self.relay = relay
        self.media = media
        self.deliverer: Deliverer | None = None  # while the app runs (its lifespan)
        self._finishing: set[asyncio.Task[None]] = set()
        # Shared schedule: the tasks this process is completing or retrying (the due poll
        # would otherwise add another attempt at each of them every poll).
        self._active: set[tuple[str, str]] = set()
        self._failures = Repeated(log, LOG_INTERVAL)

    def schedule(self, record: TaskRecord, grace: float = 0.0) -> None:
        if not record.wants_completion:
            return
        if self.store.shared_schedule:
            key = (record.owner, record.task_uuid)
            if key in self._active:
                return
            self._active.add(key)
        self.scheduler.at(record.due + grace, lambda: self.complete(record))

    def _done(self, record: TaskRecord) -> None:
        """This process's attempt at ``record`` has ended (delivered, or not ours)."""
        self._active.discard((record.owner, record.task_uuid))

    async def complete(
        self, record: TaskRecord, claimant: str | None = None, failures: int = 0
    ) -> None:
        claimant = claimant or uuid.uuid4().hex  # this attempt, kept across its retries
        try:
            claimed = await self.store.claim_completion(record.owner, record.task_uuid, claimant)
        except StoreUnavailable as exc:  # unknown whether it was claimed: the same claimant asks
            self._again(record, "claiming", exc, failures,
                        lambda: self.complete(record, claimant, failures + 1))  # fmt: skip
            return
        if not claimed:
            self._done(record)
            return  # gone, held or completed already (by another process, or before a restart)
        await self._deliver_claimed(record)

    async def _deliver_claimed(self, record: TaskRecord, failures: int = 0) -> None:
        """Deliver a claimed task; a store failure (before anything was sent: the push's
        publish, or reading a video to upload) is tried again while the claim is held."""
        try:
            await self._deliver(record)
        except StoreUnavailable as exc:
            self._again(record, "delivering", exc, failures,
                        lambda: self._deliver_claimed(record, failures + 1))  # fmt: skip
            return
        if not self.store.shared_schedule:
            self._done(record)  # (shared: once finished, see _finish)

    def _again(
        self,
        record: TaskRecord,
        doing: str,
        exc: StoreUnavailable,
        failures: int,
        retry: Callable[[], Any],
    ) -> None:
        wait = retry_after(failures)
        self._failures.warning("storage unavailable %s task %s (again in %.1f s): %s",
                               doing, record.task_uuid, wait, exc)  # fmt: skip
        self.scheduler.at(self.config.clock() + wait, retry)

    async def _deliver(self, record: TaskRecord) -> None:
        results = record.results
        body: dict[str, Any] = (
            {"errors": [record.failure]} if record.failure is not None else {"data": results}
        )
        deliverer = self.deliverer
        uploads: list[tuple[Callable[[], Awaitable[bytes]], str]] = []
        if deliverer is not None and record.upload_endpoint and record.failure is None:
            field = LIFECYCLES[record.task_type].uuid_field
            for item in results:  # read before anything is sent: a retry repeats nothing
                video = await self.store.get_video(record.owner, item[field])
                if video is not None:
                    content = self._file_of(record.owner, video.video_uuid)
                    uploads.append((content, CONTAINERS[video.container].media_type))
        if record.session_id:
            await self.relay.push(record.session_id, body)
        if deliverer is None:
            return
        hooks: list[dict[str, Any]] = []
        if record.webhook_url:
            hooks = [body] if record.failure is not None else [{"data": [i]} for i in results]
        count = len(hooks) + len(uploads)
        done = self._when_all_done(record, count) if self.store.shared_schedule else None
        for hook in hooks:
            assert record.webhook_url is not None
            deliverer.webhook(record.webhook_url, record.task_uuid, hook, done)
        for content, media_type in uploads:
            assert record.upload_endpoint is not None
            deliverer.upload(record.upload_endpoint, record.task_uuid, content, media_type, done)

    def _when_all_done(self, record: TaskRecord, count: int) -> Callable[[], None] | None:
        """A callback for each of ``count`` deliveries; the last marks the task done (at once
        when there are none)."""
        left = count

        def one() -> None:
            nonlocal left
            left -= 1
            if left <= 0:
                task = asyncio.get_running_loop().create_task(self._finish(record))
                self._finishing.add(task)
                task.add_done_callback(self._finishing.discard)

        if count == 0:
            one()
            return None
        return one

    async def _finish(self, record: TaskRecord, failures: int = 0) -> None:
        try:
            await self.store.finish_completion(record.owner, record.task_uuid)
        except StoreUnavailable as exc:  # again, until it is recorded (or the task is gone)
            self._again(record, "finishing", exc, failures,
                        lambda: self._finish(record, failures + 1))  # fmt: skip
            return
        self._done(record)

    def _file_of(self, owner: str, media_uuid: str) -> Callable[[], Awaitable[bytes]]:
        async def content() -> bytes:
            video = await self.store.get_video(owner, media_uuid)
            if video is None:
                raise LookupError(f"file {media_uuid} was forgotten before its upload")
            # A background upload waits its turn rather than failing.
            return await self.media.get(video, wait=True)

        return content


def retry_after(failures: int) -> float:
    """Seconds before the next try after ``failures`` earlier failures in a row: doubling
    from COMPLETION_RETRY to COMPLETION_RETRY_MAX, each within +-25% (jitter)."""
    return backoff(failures + 1, COMPLETION_RETRY, COMPLETION_RETRY_MAX) * random.uniform(
        0.75, 1.25
    )
