"""Runware's reply, for every transport: error entries, replies and their status, bounded
error lists, JSON encoding, and the task array of a body or frame.

One place, so REST, WebSocket, media and admin answer in the same shape. No web framework
here: the engine uses it, and Starlette's responses of these errors are ``http.responses``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

import runware_contract as rc
from runware_contract.runtime import RunwareError

from ..store import StoreUnavailable
from .json_problems import json_problem

JSON = "application/json"
log = logging.getLogger("mockserver")


def error(
    code: str,
    message: str,
    *,
    parameter: str | None = None,
    task: Mapping[str, Any] | None = None,
    task_type: str | None = None,
) -> RunwareError:
    """A Runware error entry; taskType and taskUUID are echoed from the task when it has them."""
    task_uuid = task.get("taskUUID") if task else None
    kind = task.get("taskType") if task and task_type is None else task_type
    return {
        "code": code,
        "message": message,
        "parameter": parameter,
        "type": None,
        "documentation": None,
        "taskType": kind if isinstance(kind, str) else None,
        "taskUUID": task_uuid if isinstance(task_uuid, str) else None,
    }


@dataclass(slots=True)
class Reply:
    """``errors`` are about the request (they set the HTTP status); ``failures`` are tasks
    that were accepted and then failed, reported by a poll that itself succeeded."""

    data: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RunwareError] = field(default_factory=list)
    failures: list[RunwareError] = field(default_factory=list)
    # tasks delivered sync, answered once done: (due time, failure or None, finished items)
    waiting: list[tuple[float, RunwareError | None, list[dict[str, Any]]]] = field(
        default_factory=list
    )
    bulk: int = 0  # about how many bytes of results it carries (inline files: the journal's)

    @property
    def all_errors(self) -> list[RunwareError]:
        if not self.errors and not self.failures:
            return []  # the common answer: nothing to join or bound
        return bounded(self.errors + self.failures)

    @property
    def status(self) -> int:
        return status_of(self.errors[0]["code"]) if self.errors and not self.data else 200

    def body(self) -> dict[str, Any]:
        if not self.errors and not self.failures:
            return {"data": self.data}  # the common answer
        body: dict[str, Any] = {}
        errors = self.all_errors
        if self.data or not errors:
            body["data"] = self.data
        if errors:
            body["errors"] = errors
        return body


def storage_error(
    exc: StoreUnavailable, task: Mapping[str, Any] | None = None, *, logged: bool = True
) -> RunwareError:
    """The 503 for a store failure, logged (one line per failure; ``logged=False`` for the
    batch's later tasks refused for the same failure)."""
    if logged:
        log.warning("storage unavailable: %s", exc)
    return error(
        "storageUnavailable",
        f"The task store cannot be read or written right now ({exc}); nothing of this task "
        "was kept. Try again.",
        task=task,
    )


# A reply holds at most ERRORS_MAX errors (the first, in task order), and no string in an
# error is longer than TEXT_MAX characters: a reply cannot outgrow its request.
ERRORS_MAX = 100
TEXT_MAX = 300


def bounded(errors: list[RunwareError]) -> list[RunwareError]:
    """``errors`` cut to ERRORS_MAX entries and TEXT_MAX characters per string."""
    kept = errors[:ERRORS_MAX]
    if all(len(v) <= TEXT_MAX for e in kept for v in e.values() if isinstance(v, str)):
        return kept
    return [_shortened(e) for e in kept]


def _shortened(err: RunwareError) -> RunwareError:
    out: dict[str, Any] = {
        k: v[: TEXT_MAX - 3] + "..." if isinstance(v, str) and len(v) > TEXT_MAX else v
        for k, v in err.items()
    }
    return out  # type: ignore[return-value]


def status_of(code: str) -> int:
    entry = rc.errors.ERRORS.get(code)
    return int(entry["status"]) if entry else 400


def dumps(body: Any) -> bytes:
    return orjson.dumps(body)


class ClientGone(Exception):
    """The client disconnected before its request body arrived."""


class BadRequest(Exception):
    """A request that fails before its tasks can be looked at."""

    def __init__(self, status: int, err: RunwareError) -> None:
        super().__init__(err["message"])
        self.status = status
        self.error = err


def parse_tasks(raw: bytes | str, max_tasks: int) -> list[Any]:
    """The task array of a request body or WebSocket frame, or BadRequest saying why not.
    orjson is strict JSON: no NaN/Infinity, UTF-8 only, integers within 64 bits; what is
    wrong is said in plain words with its line and column (``json_problem``). A leading
    byte-order mark is refused by name (JSON text must not start with one, RFC 8259 8.1).
    More than ``max_tasks`` tasks get one error before any task is looked at."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = json_problem(raw, exc)
        raise BadRequest(400, error("invalidRequestBody", f"The body {reason}.")) from None
    if not isinstance(body, list):
        raise BadRequest(
            400, error("invalidRequestBody", "The body must be a JSON array of tasks.")
        )
    if not body:
        raise BadRequest(400, error("invalidEmptyRequest", "The task array is empty."))
    if len(body) > max_tasks:
        raise BadRequest(
            400,
            error(
                "tooManyTasks",
                f"Send at most {max_tasks} tasks per request or frame; got {len(body)}.",
            ),
        )
    return body


def throttled(why: str) -> RunwareError:
    return error("rateLimitExceeded", f"Too many requests on this connection: {why}.")


def seconds_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
