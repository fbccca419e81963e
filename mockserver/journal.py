"""A bounded journal of the requests the mock received (REST and WebSocket)."""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Entry:
    id: int
    time: float  # wall clock, seconds since the epoch
    transport: str  # rest | websocket | admin
    path: str
    status: int
    task_types: list[str]
    task_uuids: list[str]
    error_codes: list[str]
    duration_ms: float
    request: Any = field(default=None)  # the parsed body, when it was JSON

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    def __init__(self, size: int) -> None:
        self._entries: deque[Entry] = deque(maxlen=max(1, size))
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def record(
        self,
        *,
        transport: str,
        path: str,
        status: int,
        tasks: Any,
        error_codes: Iterable[str],
        started: float,
    ) -> None:
        items = tasks if isinstance(tasks, list) else []
        kinds = [t.get("taskType") for t in items if isinstance(t, dict)]
        uuids = [t.get("taskUUID") for t in items if isinstance(t, dict)]
        entry = Entry(
            id=next(self._ids),
            time=time.time(),
            transport=transport,
            path=path,
            status=status,
            task_types=[k for k in kinds if isinstance(k, str)],
            task_uuids=[u for u in uuids if isinstance(u, str)],
            error_codes=list(error_codes),
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            request=_redact(tasks),
        )
        with self._lock:
            self._entries.append(entry)

    def query(
        self,
        *,
        task_type: str | None = None,
        task_uuid: str | None = None,
        transport: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        with self._lock:
            entries = list(self._entries)
        found = [
            e
            for e in reversed(entries)
            if (task_type is None or task_type in e.task_types)
            and (task_uuid is None or task_uuid in e.task_uuids)
            and (transport is None or e.transport == transport)
        ]
        return [e.as_dict() for e in found[:limit]]

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _redact(tasks: Any) -> Any:
    """The body without API keys (authentication tasks carry one)."""
    if not isinstance(tasks, list):
        return tasks
    return [{**t, "apiKey": "***"} if isinstance(t, dict) and "apiKey" in t else t for t in tasks]
