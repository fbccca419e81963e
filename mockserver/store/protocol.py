"""What every store is: the ``Store`` protocol, the records it keeps, its caps and its failure.

Tasks, their videos and uploaded images live in a ``Store``: ``MemoryStore`` (``memory.py``, the
default: one process, nothing survives a restart), ``SqliteStore`` (``sqlite.py``: survives a
restart and is shared by several worker processes on one host) or ``RedisStore`` (``redis.py``:
one Redis shared by processes on any number of hosts). The engine and the app only use the
methods of ``Store``, so they do not care which one they have; another backend implements this
protocol and is named in ``open_store`` (``__init__.py``).

WebSocket sessions are not in the store (a session is a live connection, in one process): they
live in ``mockserver.sessions``; ``mockserver.relay`` carries pushes to them, through Redis when
the store is Redis.

Every task, video and upload belongs to the key that created it (``owner``: a keyed hash of
the key, never the key): a taskUUID is unique per owner, and lookups name the owner, so one
key can neither see nor collide with another's records. Only a signed media URL (a
capability) reaches a record without its owner's key.

Everything is bounded: tasks and videos expire (``task_ttl_seconds``, the task's ``ttl``);
at most ``max_tasks`` tasks are kept (oldest first out), and in memory at most ``max_results``
finished items over all tasks (a task of 20 results costs about eight times one of 1);
uploaded images are capped by count and total bytes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
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
    # len(results), when known without parsing results_json (set_results); -1: not known
    known_count: int = -1

    @property
    def results(self) -> list[dict[str, Any]]:
        """The finished items (a fresh copy each time)."""
        items: list[dict[str, Any]] = orjson.loads(self.results_json)
        return items

    def set_results(self, items: list[dict[str, Any]]) -> None:
        self.results_json = orjson.dumps(items).decode()  # exact size: orjson over-allocates
        self.known_count = len(items)

    @property
    def result_count(self) -> int:
        """How many finished items the task has (parsed only if set_results did not say)."""
        return self.known_count if self.known_count >= 0 else len(self.results)

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
    """A result's media file, rendered when asked for: a video (MP4, WEBM, MOV: ``seconds``
    long) or an image (JPG, PNG, WEBP: at ``quality``, showing ``seed``); the container says
    which (``media.containers``)."""

    video_uuid: str  # the result's media UUID (its videoUUID or imageUUID)
    container: str  # the task's outputFormat
    width: int
    height: int
    seconds: int
    ready_at: float
    expires_at: float | None  # from the task's ttl: served with 410 after it
    forget_at: float = float("inf")  # when the store drops it: the later of task and ttl expiry
    quality: int = 0  # an image's outputQuality
    seed: int = 0  # an image's seed (what it shows)


@dataclass
class ImageRecord:
    image_uuid: str
    owner: str
    data: bytes | None
    content_type: str | None
    size: tuple[int, int] | None
    source_url: str | None = None


class StoreUnavailable(Exception):
    """The store could not read or write (disk full, I/O error, a lock held too long, the
    request's store deadline passed); answered as 503 ``storageUnavailable``. Nothing of the
    failed write was kept, nor will be: a write the store runs later (Redis running a script
    queued while it was frozen) checks the deadline and refuses (see ``request_deadline``)."""


STORE_TIMEOUT = 2.0  # seconds one request may spend on store calls (--store-timeout)
# time.monotonic() by which the current request's store calls must be done; 0: no request
_DEADLINE: ContextVar[float] = ContextVar("store_deadline", default=0.0)


class request_deadline:
    """The store calls in the block (one request or WebSocket frame, however many tasks it
    holds) must be answered by one deadline, ``seconds`` from now; the function it yields
    moves the deadline ``seconds`` past now (after a task the store answered: a store that
    answers, however slowly the request's many tasks go, is not a failure). A store that
    stops answering costs the request ``seconds`` once, not once per task. A class rather
    than a generator: it wraps every request, and a generator's context manager costs more."""

    __slots__ = ("seconds", "token")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __enter__(self) -> Callable[[], None]:
        self.token = _DEADLINE.set(time.monotonic() + self.seconds)
        return self.answered

    def answered(self) -> None:
        _DEADLINE.set(time.monotonic() + self.seconds)

    def __exit__(self, *exc: object) -> None:
        _DEADLINE.reset(self.token)


def request_time_left() -> float | None:
    """Seconds left before the current request's store deadline; None outside a request."""
    deadline = _DEADLINE.get()
    return deadline - time.monotonic() if deadline else None


def time_left(default: float) -> float:
    """Seconds left before the current request's store deadline (``default`` outside a
    request: the background loops' calls each get the whole timeout)."""
    left = request_time_left()
    return default if left is None else left


@dataclass(frozen=True)
class Limits:
    """The caps every store applies."""

    max_tasks: int = 100_000
    # Results held in memory over all tasks, oldest task first out: what a task costs grows
    # with its numberResults (measured: 1.5 KiB at 1, 11.9 KiB at 20), so this, not
    # max_tasks, bounds the memory store (about 210 MiB at both caps). The SQLite store
    # keeps results on disk and needs no such cap.
    max_results: int = 200_000
    # Bytes of finished items held in memory over all tasks: an image task's base64Data or
    # dataURI results carry their files (megabytes a task), so count bounds them no more.
    max_result_bytes: int = 256 * 1024 * 1024
    max_images: int = 1000
    max_image_bytes: int = 256 * 1024 * 1024


class Store(Protocol):
    """What the engine and the app need from a store. ``add_task`` is the one atomic check of
    taskUUID uniqueness (per owner); ``claim_completion`` makes completion happen once,
    whichever process of several would do it. Tasks and videos are keyed by (owner, UUID).

    Every method is a coroutine: the Redis store waits on the network, the SQLite store's
    writes on their thread when the lock is taken. The memory store's coroutines never suspend
    (their work is done before the first ``await`` returns), but for a sweep with more than a
    slice of work, which lets the loop run between slices.
    """

    # True when the due completions live in the store, shared by every process (Redis):
    # each process then polls ``pending_completions`` so a task whose host died completes.
    shared_schedule: bool
    # True when a method's coroutine may really suspend (Redis waits on the network); False
    # when each finishes at its first step, which lets the HTTP protocol answer POST /v1
    # without the event loop (mockserver/protocols/direct.py).
    suspends: bool

    def problem(self) -> str | None:
        """What is wrong with the store now, without waiting on it (None: nothing known):
        ``GET /health`` reports it, and a store with a problem refuses writes."""

    async def open(self, *, ahead: bool = True) -> None:
        """Connect and check the store (a store that cannot be reached raises
        StoreUnavailable); ``ahead``: also make ready now what the first requests would
        wait for (Redis: its connections and scripts), not for a check closed at once."""

    async def add_task(self, record: TaskRecord, videos: Sequence[VideoRecord]) -> bool:
        """Store a new task and its videos (owned by ``record.owner``); False (and nothing
        stored) if the owner has used the taskUUID already."""

    async def get_task(self, owner: str, task_uuid: str) -> TaskRecord | None: ...

    async def drop_task(self, owner: str, task_uuid: str) -> None: ...

    async def claim_completion(self, owner: str, task_uuid: str, claimant: str) -> bool:
        """True when this process may complete the task (push, deliver, upload); False when
        another holds it, it is done, or the task is gone. Memory and SQLite: true once per
        task. Redis: a lease, taken again by another process once it expires unfinished.
        ``claimant`` names one completion attempt: Redis answers True again to the claimant
        holding the lease, so a claim retried after a lost answer (a timeout after Redis ran
        it) is not refused as another's. Memory and SQLite never lose an answer (a claim that
        raised changed nothing) and ignore it."""

    async def finish_completion(self, owner: str, task_uuid: str) -> None:
        """The claimer has delivered everything: the completion is never claimed again."""

    async def pending_completions(self, due_before: float = float("inf")) -> list[TaskRecord]:
        """Tasks due before ``due_before`` whose completion is unclaimed (or, in Redis,
        whose lease expired): rescheduled after a restart, or polled (``shared_schedule``)."""

    async def get_video(self, owner: str, video_uuid: str) -> VideoRecord | None: ...

    async def add_image(self, record: ImageRecord) -> None: ...

    async def get_image(self, image_uuid: str, owner: str | None) -> ImageRecord | None:
        """The upload if ``owner`` made it; any owner's for None (a signed URL's holder)."""

    async def sweep(self, now: float) -> None:
        """Forget expired tasks and videos."""

    async def counts(self) -> dict[str, int]:
        """How many tasks, videos and images are held."""

    async def shared_secret(self, name: str, proposed: bytes) -> bytes:
        """The secret every process on this store uses (and keeps across restarts): the first
        ``proposed`` value stored under ``name``."""

    async def reset(self) -> None: ...

    async def close(self) -> None: ...


_TASK_FIELDS = [
    f.name
    for f in dataclasses.fields(TaskRecord)
    if f.name not in ("pushed", "results_json", "known_count")
]
_VIDEO_FIELDS = [f.name for f in dataclasses.fields(VideoRecord)]
_FOREVER = 1e300  # JSON and SQLite REAL hold no infinity that survives a round trip


def task_blob(record: TaskRecord) -> bytes:
    """A task record as the JSON the SQLite and Redis stores keep (results inline)."""
    fields: dict[str, Any] = {name: getattr(record, name) for name in _TASK_FIELDS}
    return orjson.dumps(fields | {"results": orjson.Fragment(record.results_json)})


def task_of(blob: bytes | str, pushed: bool) -> TaskRecord:
    fields = orjson.loads(blob)
    results = orjson.dumps(fields.pop("results")).decode()
    return TaskRecord(**fields, results_json=results, pushed=pushed)


def video_blob(video: VideoRecord) -> bytes:
    fields: dict[str, Any] = {name: getattr(video, name) for name in _VIDEO_FIELDS}
    fields["forget_at"] = finite(video.forget_at)
    return orjson.dumps(fields)


def video_of(blob: bytes | str) -> VideoRecord:
    fields = orjson.loads(blob)
    if fields["forget_at"] >= _FOREVER:
        fields["forget_at"] = float("inf")
    return VideoRecord(**fields)


def finite(value: float) -> float:
    """``value`` with infinity as a large finite number (for JSON and SQL)."""
    return min(value, _FOREVER)


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
    return VideoRecord(  # positional and not dataclasses.replace: on every accepted task
        new.video_uuid,
        new.container,
        new.width,
        new.height,
        new.seconds,
        min(old.ready_at, new.ready_at),
        expires,
        max(old.forget_at, new.forget_at),
        new.quality,
        new.seed,
    )
