"""Where the mock keeps its state: the ``Store`` interface, its records, and the in-memory store.

Tasks, their videos and uploaded images live in a ``Store``: ``MemoryStore`` (the default: one
process, nothing survives a restart) or ``SqliteStore`` (``sqlite_store.py``: survives a restart
and is shared by several worker processes on one host). The engine and the app only use the
methods of ``Store``, so they do not care which one they have.

WebSocket sessions are per process in every store (a session is a live connection and the
results buffered for it), so they are a plain dict beside the shared state.

Every task, video and upload belongs to the key that created it (``owner``: a keyed hash of
the key, never the key): a taskUUID is unique per owner, and lookups name the owner, so one
key can neither see nor collide with another's records. Only a signed media URL (a
capability) reaches a record without its owner's key.

Everything is bounded: tasks and videos expire (``task_ttl_seconds``, the task's ``ttl``);
at most ``max_tasks`` tasks are kept (oldest first out), and in memory at most ``max_results``
finished items over all tasks (a task of 20 results costs about eight times one of 1);
uploaded images are capped by count
and total bytes; a detached session's buffer holds at most ``session_buffer_max`` frames.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from runware_contract.runtime import RunwareError


@dataclass(slots=True)
class TaskRecord:
    """An accepted async task and everything needed to answer for it later.

    Compact on purpose (a server may hold 100,000 of them): the request itself is not kept
    (the journal has recent ones), only what polls and completion need; the finished items
    are kept as their JSON."""

    task_uuid: str
    task_type: str
    owner: str  # security.owner_tag of the submitting key
    created: float
    ready_at: float
    results_json: str  # the finished items (each with status "success"), as a JSON array
    expires_at: float
    webhook_url: str | None = None
    upload_endpoint: str | None = None
    session_id: str | None = None  # the WebSocket session that submitted it
    failure: RunwareError | None = None
    fail_at: float | None = None
    pushed: bool = False  # completion (push, webhook, upload) claimed; see Store.claim_completion

    @property
    def results(self) -> list[dict[str, Any]]:
        """The finished items (a fresh copy each time)."""
        items: list[dict[str, Any]] = orjson.loads(self.results_json)
        return items

    def failed(self, now: float) -> bool:
        return self.failure is not None and self.fail_at is not None and now >= self.fail_at

    def done(self, now: float) -> bool:
        return self.failure is None and now >= self.ready_at

    def progress(self, now: float) -> int:
        span = max(self.ready_at - self.created, 1e-9)
        return max(0, min(99, int(100 * (now - self.created) / span)))

    @property
    def due(self) -> float:
        """When the task completes (or fails)."""
        failing = self.failure is not None and self.fail_at is not None
        return self.fail_at if failing and self.fail_at is not None else self.ready_at

    @property
    def wants_completion(self) -> bool:
        """Something must happen when it completes: a push, a webhook or an upload."""
        return bool(self.session_id or self.webhook_url or self.upload_endpoint)


@dataclass(slots=True)
class VideoRecord:
    video_uuid: str
    container: str  # MP4 | WEBM | MOV
    width: int
    height: int
    seconds: int
    ready_at: float
    expires_at: float | None  # from the task's ttl: served with 410 after it
    forget_at: float = float("inf")  # when the store drops it: the later of task and ttl expiry


@dataclass
class ImageRecord:
    image_uuid: str
    owner: str
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
    # The attached connection's token and its async close: a connection that resumes the
    # session takes it over, closes the old one, and only the owner may detach it.
    owner: object | None = None
    evict: Any = None
    buffer: list[dict[str, Any]] = field(default_factory=list)
    detached_at: float | None = None
    buffer_max: int = 1000  # frames kept while detached; the oldest go first

    def keep(self, body: dict[str, Any]) -> None:
        """Buffer a frame for a resumed connection, dropping the oldest past ``buffer_max``."""
        self.buffer.append(body)
        if len(self.buffer) > self.buffer_max:
            del self.buffer[: len(self.buffer) - self.buffer_max]


class StoreUnavailable(Exception):
    """The store could not read or write (disk full, I/O error, a lock held too long);
    answered as 503 ``storageUnavailable``. Nothing of the failed write was kept."""


@dataclass(frozen=True)
class Limits:
    """The caps every store applies."""

    max_tasks: int = 100_000
    # Results held in memory over all tasks, oldest task first out: what a task costs grows
    # with its numberResults (measured: 1.5 KiB at 1, 11.9 KiB at 20), so this, not
    # max_tasks, bounds the memory store (about 210 MiB at both caps). The SQLite store
    # keeps results on disk and needs no such cap.
    max_results: int = 200_000
    max_images: int = 1000
    max_image_bytes: int = 256 * 1024 * 1024


class Store(Protocol):
    """What the engine and the app need from a store. ``add_task`` is the one atomic check of
    taskUUID uniqueness (per owner); ``claim_completion`` makes completion happen once,
    whichever process of several would do it. Tasks and videos are keyed by (owner, UUID)."""

    sessions: dict[str, Session]  # per process, in every store

    def add_task(self, record: TaskRecord, videos: Sequence[VideoRecord]) -> bool:
        """Store a new task and its videos (owned by ``record.owner``); False (and nothing
        stored) if the owner has used the taskUUID already."""

    def get_task(self, owner: str, task_uuid: str) -> TaskRecord | None: ...

    def drop_task(self, owner: str, task_uuid: str) -> None: ...

    def claim_completion(self, owner: str, task_uuid: str) -> bool:
        """True once per task (the caller then pushes, delivers and uploads); False after, or
        when the task is gone."""

    def pending_completions(self) -> list[TaskRecord]:
        """Tasks whose completion is still unclaimed (to reschedule after a restart)."""

    def get_video(self, owner: str, video_uuid: str) -> VideoRecord | None: ...

    def add_image(self, record: ImageRecord) -> None: ...

    def get_image(self, image_uuid: str, owner: str | None) -> ImageRecord | None:
        """The upload if ``owner`` made it; any owner's for None (a signed URL's holder)."""

    def sweep(self, now: float, session_keep: float) -> None:
        """Forget expired tasks and videos, and detached sessions past ``session_keep``."""

    def counts(self) -> dict[str, int]:
        """How many tasks, videos, images and sessions are held."""

    def shared_secret(self, name: str, proposed: bytes) -> bytes:
        """The secret every process on this store uses (and keeps across restarts): the first
        ``proposed`` value stored under ``name``."""

    def reset(self) -> None: ...

    def close(self) -> None: ...


def merged(old: VideoRecord | None, new: VideoRecord) -> VideoRecord:
    """The record of a video two tasks of one owner name (a documented example's videoUUID):
    one file, served from the earlier ready time until the later expiry."""
    if old is None:
        return new
    expires = (
        None
        if None in (old.expires_at, new.expires_at)
        else max(old.expires_at or 0.0, new.expires_at or 0.0)
    )
    return dataclasses.replace(
        new,
        ready_at=min(old.ready_at, new.ready_at),
        expires_at=expires,
        forget_at=max(old.forget_at, new.forget_at),
    )


def sweep_sessions(sessions: dict[str, Session], now: float, keep: float) -> None:
    stale = [
        s.session_id
        for s in sessions.values()
        if s.send is None and s.detached_at is not None and now - s.detached_at > keep
    ]
    for session_id in stale:
        sessions.pop(session_id, None)


class MemoryStore:
    """Tasks and videos by (owner, UUID) (tasks in insertion order, so the oldest is evicted
    first), uploads by UUID."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.tasks: OrderedDict[tuple[str, str], TaskRecord] = OrderedDict()
        self.videos: dict[tuple[str, str], VideoRecord] = {}
        self.images: OrderedDict[str, ImageRecord] = OrderedDict()
        self.sessions: dict[str, Session] = {}
        self._image_bytes = 0
        self.results = 0  # finished items held, over all tasks (Limits.max_results)

    def add_task(self, record: TaskRecord, videos: Sequence[VideoRecord]) -> bool:
        tasks = self.tasks
        key = (record.owner, record.task_uuid)
        if key in tasks:
            return False
        tasks[key] = record
        self.results += _result_count(record)
        for video in videos:
            at = (record.owner, video.video_uuid)
            self.videos[at] = merged(self.videos.get(at), video)
        limits = self.limits
        while len(tasks) > 1 and (
            len(tasks) > limits.max_tasks or self.results > limits.max_results
        ):
            self._forget(tasks.popitem(last=False)[1])
        return True

    def _forget(self, record: TaskRecord) -> None:
        """Account for a task taken out of ``tasks``: its results and videos go too."""
        items = record.results
        self.results -= len(items)
        for item in items:
            self.videos.pop((record.owner, item.get("videoUUID", "")), None)

    def get_task(self, owner: str, task_uuid: str) -> TaskRecord | None:
        return self.tasks.get((owner, task_uuid))

    def drop_task(self, owner: str, task_uuid: str) -> None:
        record = self.tasks.pop((owner, task_uuid), None)
        if record is not None:
            self.results -= _result_count(record)

    def claim_completion(self, owner: str, task_uuid: str) -> bool:
        record = self.tasks.get((owner, task_uuid))
        if record is None or record.pushed:
            return False
        record.pushed = True
        return True

    def pending_completions(self) -> list[TaskRecord]:
        return [r for r in self.tasks.values() if not r.pushed and r.wants_completion]

    def get_video(self, owner: str, video_uuid: str) -> VideoRecord | None:
        return self.videos.get((owner, video_uuid))

    def add_image(self, record: ImageRecord) -> None:
        old = self.images.pop(record.image_uuid, None)
        self._image_bytes += len(record.data or b"") - len(old.data or b"" if old else b"")
        self.images[record.image_uuid] = record
        limits = self.limits
        while self.images and (
            len(self.images) > limits.max_images or self._image_bytes > limits.max_image_bytes
        ):
            _, dropped = self.images.popitem(last=False)
            self._image_bytes -= len(dropped.data or b"")

    def get_image(self, image_uuid: str, owner: str | None) -> ImageRecord | None:
        image = self.images.get(image_uuid)
        return image if image is not None and owner in (None, image.owner) else None

    def sweep(self, now: float, session_keep: float) -> None:
        for uuid_ in [u for u, r in self.tasks.items() if r.expires_at <= now]:
            self.results -= _result_count(self.tasks.pop(uuid_))
        for uuid_ in [u for u, v in self.videos.items() if v.forget_at <= now]:
            del self.videos[uuid_]
        sweep_sessions(self.sessions, now, session_keep)

    def counts(self) -> dict[str, int]:
        return {
            "tasks": len(self.tasks),
            "videos": len(self.videos),
            "images": len(self.images),
            "sessions": len(self.sessions),
        }

    def reset(self) -> None:
        self.tasks.clear()
        self.videos.clear()
        self.images.clear()
        self.sessions.clear()
        self._image_bytes = 0
        self.results = 0

    def shared_secret(self, name: str, proposed: bytes) -> bytes:
        return proposed  # one process, no restarts to survive

    def close(self) -> None:
        self.reset()


def _result_count(record: TaskRecord) -> int:
    return len(orjson.loads(record.results_json))


def open_store(spec: str, limits: Limits | None = None) -> Store:
    """``memory`` or ``sqlite:PATH[?max_pages=N]``; ValueError for anything else.

    ``max_pages`` caps the database file at N pages (SQLite's ``max_page_count``): a disk
    that fills up, on demand, for tests of what the server does then."""
    if spec == "memory":
        return MemoryStore(limits)
    kind, _, rest = spec.partition(":")
    path, _, option = rest.partition("?max_pages=")
    if kind == "sqlite" and path and (not option or option.isdigit()):
        from .sqlite_store import SqliteStore

        return SqliteStore(path, limits, max_pages=int(option) if option else None)
    raise ValueError(f"unknown store {spec!r}: use 'memory' or 'sqlite:PATH[?max_pages=N]'")
