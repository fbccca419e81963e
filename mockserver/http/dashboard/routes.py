"""The dashboard's routes under ``/__admin/ui``: its page and static files (no data, no key
needed), the login and logout, the JSON each view reads, and the live stream.

The page is plain HTML, CSS and JavaScript shipped in the package (``static/``): no CDN, no
external fonts, no build step. Every JSON route takes the admin key like the admin API
(``session.admin_denied``: the bearer header, or the session cookie). Scenarios are armed
and removed through the admin API itself (``/__admin/scenarios``), with the session's CSRF
token.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ...core.journal import TRANSPORTS
from ...core.reply import BadRequest, ClientGone
from ..auth import refusal
from ..body import read_body
from ..responses import bad_request_response
from . import views
from .live import MAX_STREAMS, Streams
from .session import (
    COOKIE,
    SECURITY_HEADERS,
    SESSION_SECONDS,
    admin_denied,
    cross_site,
    csrf_token,
    new_session,
    refused,
    session_cookie,
)
from .tasks import TaskBoard

if TYPE_CHECKING:
    from ..state import ServerState

STATIC = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
LOGIN_BYTES = 4096
NUMBER = re.compile(r"[0-9]{1,9}")
ROWS = 500  # requests in one answer of the requests view (the page keeps as many)


def _static(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


def _json(body: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json",
        headers=SECURITY_HEADERS,
    )  # fmt: skip


def _number(request: Request, name: str, default: int) -> int | Response:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    if NUMBER.fullmatch(text) is None:
        return refused("invalidParameterValue", f"{name} must be a whole number.", name)
    return int(text)


class Dashboard:
    """The dashboard of one ServerState."""

    def __init__(self, server: ServerState) -> None:
        self.server = server
        self.board = TaskBoard(server.config.clock)
        self.streams = Streams(server, self.board)
        server.engine.on_accept.append(self.board.accepted)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/__admin/ui", self.page, methods=["GET"]),
            Route("/__admin/ui/static/{name}", self.static, methods=["GET"]),
            Route("/__admin/ui/login", self.login, methods=["POST"]),
            Route("/__admin/ui/logout", self.logout, methods=["POST"]),
            Route("/__admin/ui/api/session", self.session, methods=["GET"]),
            Route("/__admin/ui/api/requests", self.requests, methods=["GET"]),
            Route("/__admin/ui/api/requests/{id}", self.request, methods=["GET"]),
            Route("/__admin/ui/api/tasks", self.tasks, methods=["GET"]),
            Route("/__admin/ui/api/tasks/{uuid}", self.task, methods=["GET"]),
            Route("/__admin/ui/api/deliveries", self.deliveries, methods=["GET"]),
            Route("/__admin/ui/api/models", self.models, methods=["GET"]),
            Route("/__admin/ui/api/health", self.health, methods=["GET"]),
            Route("/__admin/ui/events", self.events, methods=["GET"]),
        ]

    def _denied(self, request: Request) -> Response | None:
        response = admin_denied(self.server.config, request)
        if response is not None:
            response.headers.update(SECURITY_HEADERS)
        return response

    async def page(self, request: Request) -> Response:
        return Response(
            _static("index.html"), media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS
        )

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return refused("invalidEndpoint", "No such file.")
        return Response(_static(name), media_type=STATIC[name], headers=SECURITY_HEADERS)

    async def login(self, request: Request) -> Response:
        """``{"key": ...}`` as JSON (a cross-site form cannot send that type), from this
        origin: the session cookie if the key may administer, else its 401 or 403."""
        config = self.server.config
        if cross_site(request):
            return refused("forbidden", "Cross-site login refused.")
        if request.headers.get("content-type", "").partition(";")[0].strip() != "application/json":
            return refused("unsupportedContentType", "Send the key as application/json.")
        try:
            raw = await read_body(request.headers, request.receive, LOGIN_BYTES, 10.0)
        except BadRequest as exc:
            return bad_request_response(exc)
        except ClientGone:
            return Response(status_code=400)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        key = body.get("key") if isinstance(body, dict) else None
        if not isinstance(key, str):
            return refused("missingApiKey", "Give the admin key.", "key")
        code = refusal(config, key, admin=True)
        if code is not None:
            message = {
                "forbidden": "This key is not the admin key (--admin-key): it may not see "
                "the dashboard.",
                "invalidApiKey": "This key is not valid.",
                "missingApiKey": "Give the admin key.",
            }[code]
            return refused(code, message, "key")
        session = new_session(config)
        response = _json({"csrf": csrf_token(config, session)})
        session_cookie(response, request, session, SESSION_SECONDS)
        return response

    async def logout(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        response = Response(status_code=204, headers=SECURITY_HEADERS)
        session_cookie(response, request, "", 0)
        return response

    async def session(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        cookie = request.cookies.get(COOKIE)
        config = self.server.config
        return _json(
            {
                "csrf": csrf_token(config, cookie) if cookie else None,
                "adminKey": config.admin_key is not None,
                "transports": list(TRANSPORTS),
            }
        )

    async def requests(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        q = request.query_params
        after = _number(request, "after", 0)
        status = _number(request, "status", -1)
        limit = _number(request, "limit", ROWS)
        for value in (after, status, limit):
            if isinstance(value, Response):
                return value
        assert isinstance(after, int) and isinstance(status, int) and isinstance(limit, int)
        journal = self.server.journal
        entries = journal.query(
            task_type=q.get("taskType") or None,
            task_uuid=q.get("taskUUID") or None,
            error_code=q.get("errorCode") or None,
            status=None if status < 0 else status,
            after=after,
            limit=min(limit, ROWS),
            rows=True,
        )
        return _json(
            {
                "requests": entries,
                "lastId": journal.last_id,
                "total": len(journal),
            }
        )

    async def request(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        text = request.path_params["id"]
        entry = self.server.journal.find(int(text)) if NUMBER.fullmatch(text) else None
        if entry is None:
            return refused("invalidEndpoint", "The journal no longer holds this request.", "id")
        return _json(entry)

    async def tasks(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        board = self.board
        return _json({"tasks": [board.summary(r) for r in reversed(board.records)]})

    async def task(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        record = self.board.find(request.path_params["uuid"])
        if record is None:
            return refused("taskNotFound", "The dashboard no longer shows this task.", "taskUUID")
        deliverer = self.server.deliverer
        attempts = list(deliverer.attempt_log) if deliverer else []
        outcomes = list(deliverer.outcomes) if deliverer else []
        found = self.board.lifecycle(record, attempts, outcomes)
        found["requests"] = self.server.journal.query(task_uuid=record.task_uuid, rows=True)
        return _json(found)

    async def deliveries(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        return _json(views.deliveries(self.server))

    async def models(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        return _json({"models": views.models(self.server)})

    async def health(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        return _json(await views.health(self.server, self.streams.open))

    async def events(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        if self.streams.full():
            message = f"{MAX_STREAMS} dashboard streams are open already; close one."
            return refused("rateLimitExceeded", message)
        return StreamingResponse(
            self.streams.events(),
            media_type="text/event-stream",
            headers={**SECURITY_HEADERS, "X-Accel-Buffering": "no"},
        )
