"""Completion fan-out: when a task is due, its push, webhook deliveries and upload, once.

The store's ``claim_completion`` makes it happen once over all processes; a store failure
leaves nothing claimed and is tried again after ``COMPLETION_RETRY`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .config import MockConfig
from .containers import CONTAINERS
from .delivery import Deliverer
from .media import VideoFiles
from .scheduler import Scheduler
from .sessions import Sessions
from .store import Store, StoreUnavailable, TaskRecord

log = logging.getLogger("mockserver")
COMPLETION_RETRY = 1.0  # seconds before a completion the store failed to claim is tried again


class Completion:
    """Schedules each accepted task's completion and performs it when due."""

    def __init__(
        self,
        config: MockConfig,
        store: Store,
        scheduler: Scheduler,
        sessions: Sessions,
        videos: VideoFiles,
    ) -> None:
        self.config = config
        self.store = store
        self.scheduler = scheduler
        self.sessions = sessions
        self.videos = videos
        self.deliverer: Deliverer | None = None  # while the app runs (its lifespan)

    def schedule(self, record: TaskRecord, grace: float = 0.0) -> None:
        if record.wants_completion:
            self.scheduler.at(record.due + grace, lambda: self.complete(record))

    def complete(self, record: TaskRecord) -> None:
        try:
            claimed = self.store.claim_completion(record.owner, record.task_uuid)
        except StoreUnavailable as exc:  # nothing was claimed: try again, losing nothing
            log.warning("storage unavailable completing task %s (again in %s s): %s",
                        record.task_uuid, COMPLETION_RETRY, exc)  # fmt: skip
            self.scheduler.at(self.config.clock() + COMPLETION_RETRY, lambda: self.complete(record))
            return
        if not claimed:
            return  # gone, or completed already (by another worker, or before a restart)
        results = record.results
        body: dict[str, Any] = (
            {"errors": [record.failure]} if record.failure is not None else {"data": results}
        )
        self.push(record.session_id, body)
        webhook = record.webhook_url
        if webhook and self.deliverer is not None:
            if record.failure is not None:
                self.deliverer.webhook(webhook, record.task_uuid, body)
            for item in [] if record.failure is not None else results:
                self.deliverer.webhook(webhook, record.task_uuid, {"data": [item]})
        upload = record.upload_endpoint
        if upload and self.deliverer is not None and record.failure is None:
            for item in results:
                video = self.store.get_video(record.owner, item["videoUUID"])
                if video is not None:
                    self.deliverer.upload(
                        upload,
                        record.task_uuid,
                        self._video_bytes_of(record.owner, video.video_uuid),
                        CONTAINERS[video.container].media_type,
                    )

    def _video_bytes_of(self, owner: str, video_uuid: str) -> Callable[[], Awaitable[bytes]]:
        async def content() -> bytes:
            video = self.store.get_video(owner, video_uuid)
            if video is None:
                raise LookupError(f"video {video_uuid} was forgotten before its upload")
            # A background upload waits its turn rather than failing.
            return await self.videos.get(
                video.container, video.width, video.height, video.seconds, wait=True
            )

        return content

    def push(self, session_id: str | None, body: dict[str, Any]) -> None:
        session = self.sessions.get(session_id) if session_id else None
        if session is None:
            return
        if session.send is not None:
            asyncio.get_running_loop().create_task(session.send(body))
        else:
            session.keep(body)
