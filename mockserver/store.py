"""In-memory state: tasks, uploaded images, served videos, WebSocket sessions."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from runware_contract.runtime import RunwareError


@dataclass
class TaskRecord:
    """An accepted async task and everything needed to answer for it later."""

    task_uuid: str
    task_type: str
    api_key: str
    task: dict[str, Any]  # with defaults applied
    created: float
    ready_at: float
    results: list[dict[str, Any]]  # the finished items, each with status "success"
    expires_at: float
    session_id: str | None = None  # the WebSocket session that submitted it
    failure: RunwareError | None = None
    fail_at: float | None = None
    pushed: bool = False

    def failed(self, now: float) -> bool:
        return self.failure is not None and self.fail_at is not None and now >= self.fail_at

    def done(self, now: float) -> bool:
        return self.failure is None and now >= self.ready_at

    def progress(self, now: float) -> int:
        span = max(self.ready_at - self.created, 1e-9)
        return max(0, min(99, int(100 * (now - self.created) / span)))


@dataclass
class VideoRecord:
    video_uuid: str
    container: str  # MP4 | WEBM | MOV
    width: int
    height: int
    seconds: int
    ready_at: float
    expires_at: float | None  # from the task's ttl


@dataclass
class ImageRecord:
    image_uuid: str
    data: bytes | None
    content_type: str | None
    size: tuple[int, int] | None
    source_url: str | None = None


@dataclass
class Session:
    """A WebSocket session; it outlives its connection for a while so results can resume."""

    session_id: str
    api_key: str
    send: Any = None  # async callable(dict) while a connection is attached
    buffer: list[dict[str, Any]] = field(default_factory=list)
    detached_at: float | None = None


class Store:
    """Tasks by taskUUID, media by UUID, sessions by id. Bounded by expiry sweeps."""

    def __init__(self) -> None:
        self.tasks: OrderedDict[str, TaskRecord] = OrderedDict()
        self.videos: dict[str, VideoRecord] = {}
        self.images: dict[str, ImageRecord] = {}
        self.sessions: dict[str, Session] = {}

    def sweep(self, now: float, session_keep: float) -> None:
        """Forget tasks past their expiry, their videos, and detached sessions past their keep."""
        expired = [u for u, r in self.tasks.items() if r.expires_at <= now]
        for uuid_ in expired:
            record = self.tasks.pop(uuid_)
            for item in record.results:
                video = self.videos.get(item.get("videoUUID", ""))
                if video is not None and (video.expires_at or record.expires_at) <= now:
                    self.videos.pop(video.video_uuid, None)
        stale = [
            s.session_id
            for s in self.sessions.values()
            if s.send is None and s.detached_at is not None and now - s.detached_at > session_keep
        ]
        for session_id in stale:
            self.sessions.pop(session_id, None)

    def reset(self) -> None:
        self.tasks.clear()
        self.videos.clear()
        self.images.clear()
        self.sessions.clear()
