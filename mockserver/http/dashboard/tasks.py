"""The tasks the dashboard shows: the last ``size`` accepted by this process, kept by
reference from the engine's ``on_accept`` hook (one deque append per accepted task; the
store holds the same records). A task's state, progress and results are read from its
record when shown: it is ``processing`` until its ``ready_at``, then ``done``, or ``failed``
from its ``fail_at`` when a scenario failed it."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from ...base.security import redact_url
from ...core.journal import iso_utc
from ...store import TaskRecord

SHOWN = 500  # tasks kept for the dashboard


class TaskBoard:
    def __init__(self, clock: Callable[[], float], size: int = SHOWN) -> None:
        self.clock = clock
        self.records: deque[TaskRecord] = deque(maxlen=size)
        self.added = 0  # tasks accepted since start (the live view's change counter)

    def accepted(self, record: TaskRecord) -> None:
        """The engine's ``on_accept`` hook."""
        self.records.append(record)
        self.added += 1

    def clear(self) -> None:
        self.records.clear()

    def settled(self) -> int:
        """How many shown tasks are done or failed now (changes as tasks finish)."""
        now = self.clock()
        return sum(1 for r in self.records if r.failed(now) or r.done(now))

    def find(self, task_uuid: str) -> TaskRecord | None:
        for record in reversed(self.records):
            if record.task_uuid == task_uuid:
                return record
        return None

    def wall(self, at: float) -> str:
        """A time of the store's clock as ISO 8601 UTC."""
        return iso_utc(time.time() - (self.clock() - at))

    def summary(self, record: TaskRecord) -> dict[str, Any]:
        """One task as the tasks view lists it."""
        now = self.clock()
        if record.failed(now):
            state, progress = "failed", 100
        elif record.done(now):
            state, progress = "done", 100
        else:
            state, progress = "processing", record.progress(now)
        results = record.results if state == "done" else []
        costs = [r["cost"] for r in results if isinstance(r.get("cost"), int | float)]
        failure = record.failure if state == "failed" else None
        return {
            "taskUUID": record.task_uuid,
            "taskType": record.task_type,
            "owner": record.owner[:8],
            "state": state,
            "progress": progress,
            "accepted": self.wall(record.created),
            "results": [_media(r) for r in results],
            "cost": round(sum(costs), 6) if costs else None,
            "error": {"code": failure["code"], "message": failure["message"]} if failure else None,
        }

    def lifecycle(
        self, record: TaskRecord, attempts: Iterable[dict[str, Any]], outcomes: Iterable[Any]
    ) -> dict[str, Any]:
        """One task with its lifecycle: accepted, processing, done or failed, deliveries."""
        summary = self.summary(record)
        now = self.clock()
        events: list[dict[str, Any]] = [{"event": "accepted", "time": self.wall(record.created)}]
        events.append({"event": "processing", "time": self.wall(record.created)})
        if summary["state"] == "failed":
            assert record.fail_at is not None
            events.append({"event": "failed", "time": self.wall(record.fail_at)})
        elif summary["state"] == "done":
            events.append({"event": "done", "time": self.wall(record.ready_at)})
        else:
            events.append({"event": "due", "time": self.wall(record.due), "future": True})
        uuid = record.task_uuid
        return {
            **summary,
            "due": self.wall(record.due),
            "now": self.wall(now),
            "events": events,
            "webhookURL": redact_url(record.webhook_url) if record.webhook_url else None,
            "uploadEndpoint": (
                redact_url(record.upload_endpoint) if record.upload_endpoint else None
            ),
            "webSocketSession": record.session_id is not None,
            "attempts": [a for a in attempts if a["taskUUID"] == uuid],
            "outcomes": [o.as_dict() for o in outcomes if o.task_uuid == uuid],
        }


def _media(item: dict[str, Any]) -> dict[str, Any]:
    """What the dashboard shows of one result: its media URL, kind and cost."""
    shown: dict[str, Any] = {
        k: item[k] for k in ("videoUUID", "imageUUID", "cost", "seed") if k in item
    }
    for key, kind in (("videoURL", "video"), ("imageURL", "image")):
        if isinstance(item.get(key), str):
            shown["url"], shown["kind"] = item[key], kind
    return shown
