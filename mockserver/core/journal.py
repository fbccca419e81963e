"""A bounded journal of the requests the mock received (REST and WebSocket).

Recording is on every request's path, so it stores little and builds nothing: the body as
it arrived, not its parsed tree (a body of many small JSON values is tens of times its size
as Python objects); the task types and taskUUIDs an entry is filtered by are read from that
body when the journal is queried. Bodies over ``BODY_KEEP`` bytes are kept only as their size
and their task ids; entries (API keys redacted) are built when the journal is queried.
It keeps the last ``size`` requests, and fewer when their bodies add up to more than
``max_bytes``.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson

from ..base.request_log import task_ids
from ..base.security import redact_url

# The transports a request arrives on (``transport`` of an entry; the admin API's filter).
TRANSPORTS = ("rest", "websocket")
# A body longer than this is journalled as its size only (``request`` is null, ``truncated``).
BODY_KEEP = 64 * 1024
# A reply of more items (data and errors) than this is not kept (the dashboard says so).
REPLY_ITEMS_KEEP = 16
# Nor one carrying more bytes of results than this (images delivered inline: megabytes each).
REPLY_BYTES_KEEP = 64 * 1024


@dataclass
class Entry:
    id: int
    time: str  # wall clock, ISO 8601 in UTC to the millisecond: 2026-02-05T10:00:00.123Z
    transport: str  # rest | websocket
    path: str
    status: int
    task_types: list[str]
    task_uuids: list[str]
    error_codes: list[str]
    duration_ms: float
    request: Any  # the parsed body (API keys redacted), when it was JSON of at most BODY_KEEP
    size: int  # the body's length in bytes
    truncated: bool  # the body was over BODY_KEEP bytes and is not kept

    def as_dict(self) -> dict[str, Any]:
        """The entry as the admin API lists it (camelCase, as the wire format and the logs)."""
        return {
            "id": self.id,
            "time": self.time,
            "transport": self.transport,
            "path": self.path,
            "status": self.status,
            "taskTypes": self.task_types,
            "taskUUIDs": self.task_uuids,
            "errorCodes": self.error_codes,
            "durationMs": self.duration_ms,
            "request": self.request,
            "size": self.size,
            "truncated": self.truncated,
        }


class Raw(NamedTuple):
    """What recording keeps of one request (an Entry is built from it on query)."""

    id: int
    time: float  # seconds since the epoch
    transport: str
    path: str
    status: int
    body: bytes | str | None  # None when over BODY_KEEP
    # (taskTypes, taskUUIDs): None while they can be read from ``body`` (it was kept and
    # parsed as a task array); for a body over BODY_KEEP, read at recording
    ids: tuple[list[str], list[str]] | None
    error_codes: list[str]
    duration: float
    size: int
    reply: Any  # the wire.Reply answered (its body is built when shown), or None


class Journal:
    def __init__(self, size: int, max_bytes: int = 4 * 1024 * 1024) -> None:
        self._raw: deque[Raw] = deque(maxlen=max(1, size))
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.max_bytes = max_bytes
        self._bytes = 0  # body bytes of the entries held
        self.last_id = 0  # the id of the latest entry (the dashboard's live view polls it)

    def record(
        self,
        transport: str,
        path: str,
        status: int,
        tasks: Any,
        error_codes: Iterable[str],
        started: float,
        size: int = 0,
        body: bytes | str | None = None,
        reply: Any = None,
    ) -> None:
        """Keep one request: ``tasks`` is its parsed body (read here, not kept), ``body`` the
        body as received and ``size`` its length in bytes; ``reply`` (a ``wire.Reply``) is
        kept by reference when it has at most REPLY_ITEMS_KEEP items."""
        duration = (time.perf_counter() - started) * 1000
        kept = body if body is not None and len(body) <= BODY_KEEP else None
        # A body kept and parsed gives its task ids again when queried; otherwise they are
        # read now (none when it did not parse as a task array: ``tasks`` is None).
        ids = None if kept is not None and tasks is not None else task_ids(tasks)
        raw = Raw(
            next(self._ids),
            time.time(),
            transport,
            path,
            status,
            kept,
            ids,
            list(error_codes),
            duration,
            size,
            reply if reply is not None and _keeps(reply) else None,
        )
        with self._lock:
            raws = self._raw
            if len(raws) == raws.maxlen:
                self._bytes -= raws[0].size
            raws.append(raw)
            self.last_id = raw.id
            self._bytes += size
            while self._bytes > self.max_bytes and len(raws) > 1:
                self._bytes -= raws.popleft().size

    def query(
        self,
        *,
        task_type: str | None = None,
        task_uuid: str | None = None,
        transport: str | None = None,
        limit: int = 100,
        after: int = 0,
        status: int | None = None,
        error_code: str | None = None,
        rows: bool = False,
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` entries that match every filter given, newest first (only
        those after the entry id ``after``). With ``rows``, each as the dashboard lists it
        (``row``: no body, its errors' messages; built without copying the body)."""
        with self._lock:
            raws = list(self._raw)
        found: list[dict[str, Any]] = []
        for raw in raws[::-1]:  # (mypyc 2.4 cannot compile reversed() here: compiled.py)
            if len(found) >= limit or raw.id <= after:
                break
            if (
                (transport is not None and raw.transport != transport)
                or (status is not None and raw.status != status)
                or (error_code is not None and error_code not in raw.error_codes)
            ):
                continue
            parsed = _parsed(raw.body) if raw.ids is None or not rows else None
            kinds, uuids = raw.ids if raw.ids is not None else task_ids(parsed)
            if (task_type is None or task_type in kinds) and (
                task_uuid is None or task_uuid in uuids
            ):
                found.append(
                    row(raw, kinds, uuids) if rows else _entry(raw, parsed, kinds, uuids).as_dict()
                )
        return found

    def find(self, entry_id: int) -> dict[str, Any] | None:
        """The entry ``entry_id`` with the body of its reply (``reply``: None when not
        kept), if the journal still holds it."""
        with self._lock:
            raws = list(self._raw)
        for raw in raws:
            if raw.id == entry_id:
                parsed = _parsed(raw.body)
                kinds, uuids = raw.ids if raw.ids is not None else task_ids(parsed)
                entry = _entry(raw, parsed, kinds, uuids).as_dict()
                entry["reply"] = raw.reply.body() if raw.reply is not None else None
                return entry
        return None

    @property
    def bytes_held(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._raw)

    def clear(self) -> None:
        with self._lock:
            self._raw.clear()
            self._bytes = 0


_UNPARSED = object()  # a kept body that is not JSON


def _parsed(body: bytes | str | None) -> Any:
    """A kept body as JSON (None when not kept, _UNPARSED when not JSON)."""
    if body is None:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return _UNPARSED


def _keeps(reply: Any) -> bool:
    """Whether a reply is small enough to keep (by items and by bytes of results)."""
    return _items(reply) <= REPLY_ITEMS_KEEP and reply.bulk <= REPLY_BYTES_KEEP


def _items(reply: Any) -> int:
    """How many items (results and errors) a reply holds."""
    return len(reply.data) + len(reply.errors) + len(reply.failures)


def row(raw: Raw, kinds: list[str], uuids: list[str]) -> dict[str, Any]:
    """One request as the dashboard lists it: what an Entry has but the body, and the
    messages of its errors (when its reply was kept)."""
    reply = raw.reply
    return {
        "id": raw.id,
        "time": iso_utc(raw.time),
        "transport": raw.transport,
        "path": raw.path,
        "status": raw.status,
        "taskTypes": kinds,
        "taskUUIDs": uuids,
        "errorCodes": raw.error_codes,
        "errorMessages": [e["message"] for e in reply.all_errors] if reply is not None else [],
        "durationMs": round(raw.duration, 3),
        "size": raw.size,
        "truncated": raw.size > BODY_KEEP,
    }


def _entry(raw: Raw, parsed: Any, kinds: list[str], uuids: list[str]) -> Entry:
    entry_id, when, transport, path, status, _, _, codes, duration, size, _ = raw
    request = None if parsed is _UNPARSED else _redact(parsed)
    return Entry(
        id=entry_id,
        time=iso_utc(when),
        transport=transport,
        path=path,
        status=status,
        task_types=kinds,
        task_uuids=uuids,
        error_codes=codes,
        duration_ms=round(duration, 3),
        request=request,
        size=size,
        truncated=size > BODY_KEEP,
    )


def iso_utc(seconds: float) -> str:
    """``seconds`` since the epoch as ISO 8601 in UTC, to the millisecond, with a Z."""
    text = datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="milliseconds")
    return text.removesuffix("+00:00") + "Z"


DELIVERY_URLS = ("webhookURL", "uploadEndpoint")


def _redact(tasks: Any) -> Any:
    """The body without API keys (authentication tasks carry one), and with delivery URLs
    as the logs show them (no query, where tokens and presigned signatures are, nor
    credentials)."""
    if not isinstance(tasks, list):
        return tasks
    return [_redact_task(t) if isinstance(t, dict) else t for t in tasks]


def _redact_task(task: dict[str, Any]) -> dict[str, Any]:
    hidden = {"apiKey": "***"} if "apiKey" in task else {}
    hidden |= {k: redact_url(task[k]) for k in DELIVERY_URLS if isinstance(task.get(k), str)}
    return {**task, **hidden} if hidden else task
