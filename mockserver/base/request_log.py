"""One log line per request, at info level, on the ``mockserver.request`` logger.

Each transport calls ``line`` once per request (REST and WebSocket task frames through
``Answering.record``, beside the journal; refused WebSocket frames in ``websocket.py``;
media, admin and the other routes through ``http``, around the Starlette app; requests
uvicorn's protocol answers itself in ``limits.py``). Each call first asks whether info is
enabled (the logger caches that), so with ``--log-level warning`` a request costs one
method call and builds nothing.

Text: ``rest POST /v1 400 2.1 ms taskTypes=videoInference taskUUIDs=… errors=invalidDuration``.
JSON fields: ``event`` ("request"), ``transport`` (rest, websocket, media, admin, http),
``method``, ``path`` (media signatures redacted), ``status``, ``ms``, ``taskTypes``,
``taskUUIDs``, ``errorCodes``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import orjson

from .logs import FIELDS
from .security import mask

if TYPE_CHECKING:  # types only: the bottom layer needs no web framework
    from starlette.types import Message, Receive, Scope, Send

log = logging.getLogger("mockserver.request")
ERROR_BODY_MAX = 64 * 1024  # error bodies read for their codes; larger ones are not parsed


def enabled() -> bool:
    return log.isEnabledFor(logging.INFO)


def task_ids(tasks: Any) -> tuple[list[str], list[str]]:
    """The taskTypes and taskUUIDs of a parsed body (whatever it is), as strings."""
    items = [t for t in tasks if isinstance(t, dict)] if isinstance(tasks, list) else []
    kinds = [t.get("taskType") for t in items]
    uuids = [t.get("taskUUID") for t in items]
    return [k for k in kinds if isinstance(k, str)], [u for u in uuids if isinstance(u, str)]


def line(
    transport: str,
    method: str,
    path: str,
    status: int,
    started: float,
    tasks: Any = None,
    error_codes: Iterable[str] = (),
) -> None:
    """Log one request; ``started`` is its ``time.perf_counter()`` on arrival."""
    if not log.isEnabledFor(logging.INFO):
        return
    ms = round((time.perf_counter() - started) * 1000, 2)
    kinds, uuids = task_ids(tasks)
    codes = list(error_codes)
    shown = mask(path)
    text = f"{transport} {method} {shown} {status} {ms} ms"
    for name, values in (("taskTypes", kinds), ("taskUUIDs", uuids), ("errors", codes)):
        if values:
            text += f" {name}={','.join(values)}"
    fields = {
        "event": "request",
        "transport": transport,
        "method": method,
        "path": shown,
        "status": status,
        "ms": ms,
        "taskTypes": kinds,
        "taskUUIDs": uuids,
        "errorCodes": codes,
    }
    # The record made here rather than by log.info, which looks up the caller's frame.
    log.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, text, (), None,
                              extra={FIELDS: fields}))  # fmt: skip


def transport_of(path: str) -> str:
    if path.startswith("/__admin/"):
        return "admin"
    if path.startswith(("/video/", "/image/")):
        return "media"
    return "rest" if path == "/v1" else "http"


def error_codes(body: bytes) -> list[str]:
    """The codes of a Runware error body (none if it is not one)."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return []
    errors = parsed.get("errors") if isinstance(parsed, dict) else None
    if not isinstance(errors, list):
        return []
    codes = [e.get("code") for e in errors if isinstance(e, dict)]
    return [c for c in codes if isinstance(c, str)]


ASGI = Callable[["Scope", "Receive", "Send"], Awaitable[None]]


async def http(app: ASGI, scope: Scope, receive: Receive, send: Send) -> None:
    """``app`` answering one HTTP request (media, admin, health, ...), logged: its status,
    the codes of an error body, and the time to the end of the response."""
    if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
        await app(scope, receive, send)
        return
    started = time.perf_counter()
    status = 500  # unless the app starts a response
    error_body = bytearray()

    async def logged_send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body" and status >= 400:
            error_body.extend(message.get("body", b"")[: ERROR_BODY_MAX - len(error_body)])
        await send(message)

    try:
        await app(scope, receive, logged_send)
    finally:
        path = scope["path"]
        codes = error_codes(bytes(error_body)) if error_body else []
        line(transport_of(path), scope["method"], path, status, started, error_codes=codes)
