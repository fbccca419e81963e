"""A bounded journal of the requests the mock received (REST and WebSocket).

Recording is on every request's path, so it only stores references; entries (with
task types, taskUUIDs and API keys redacted) are built when the journal is queried.
The stored bodies are the parsed requests, which the mock never changes. It keeps the
last ``size`` requests, and fewer when their bodies add up to more than ``max_bytes``.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Entry:
    id: int
    time: float  # wall clock, seconds since the epoch
    transport: str  # rest | websocket
    path: str
    status: int
    task_types: list[str]
    task_uuids: list[str]
    error_codes: list[str]
    duration_ms: float
    request: Any  # the parsed body (API keys redacted), when it was JSON

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Raw = tuple[int, float, str, str, int, Any, list[str], float, int]


class Journal:
    def __init__(self, size: int, max_bytes: int = 4 * 1024 * 1024) -> None:
        self._raw: deque[Raw] = deque(maxlen=max(1, size))
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.max_bytes = max_bytes
        self._bytes = 0  # body bytes of the entries held

    def record(
        self,
        *,
        transport: str,
        path: str,
        status: int,
        tasks: Any,
        error_codes: Iterable[str],
        started: float,
        size: int = 0,
    ) -> None:
        """Keep one request; ``size`` is its body's length in bytes."""
        duration = (time.perf_counter() - started) * 1000
        raw = (
            next(self._ids),
            time.time(),
            transport,
            path,
            status,
            tasks,
            list(error_codes),
            duration,
            size,
        )
        with self._lock:
            raws = self._raw
            if len(raws) == raws.maxlen:
                self._bytes -= raws[0][8]
            raws.append(raw)
            self._bytes += size
            while self._bytes > self.max_bytes and len(raws) > 1:
                self._bytes -= raws.popleft()[8]

    def query(
        self,
        *,
        task_type: str | None = None,
        task_uuid: str | None = None,
        transport: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        with self._lock:
            raws = list(self._raw)
        found: list[dict[str, Any]] = []
        for raw in reversed(raws):
            entry = _entry(raw)
            if (
                (task_type is None or task_type in entry.task_types)
                and (task_uuid is None or task_uuid in entry.task_uuids)
                and (transport is None or entry.transport == transport)
            ):
                found.append(entry.as_dict())
                if len(found) >= limit:
                    break
        return found

    def __len__(self) -> int:
        return len(self._raw)

    def clear(self) -> None:
        with self._lock:
            self._raw.clear()
            self._bytes = 0


def _entry(raw: Raw) -> Entry:
    entry_id, when, transport, path, status, tasks, codes, duration, _ = raw
    items = tasks if isinstance(tasks, list) else []
    kinds = [t.get("taskType") for t in items if isinstance(t, dict)]
    uuids = [t.get("taskUUID") for t in items if isinstance(t, dict)]
    return Entry(
        id=entry_id,
        time=when,
        transport=transport,
        path=path,
        status=status,
        task_types=[k for k in kinds if isinstance(k, str)],
        task_uuids=[u for u in uuids if isinstance(u, str)],
        error_codes=codes,
        duration_ms=round(duration, 3),
        request=_redact(tasks),
    )


def _redact(tasks: Any) -> Any:
    """The body without API keys (authentication tasks carry one)."""
    if not isinstance(tasks, list):
        return tasks
    return [{**t, "apiKey": "***"} if isinstance(t, dict) and "apiKey" in t else t for t in tasks]
