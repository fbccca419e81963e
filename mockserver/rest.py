"""REST on ``POST /v1``: raw ASGI, so the hot path builds no Request/Response/URL objects."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from .answer import Exchange
from .auth import bearer, refusal
from .base_url import base_url
from .body import read_body
from .engine import RequestContext
from .wire import JSON, BadRequest, ClientGone, Reply, dumps, error, parse_tasks, seconds_text

if TYPE_CHECKING:
    from .app import MockServer

PREFER_EXAMPLE = re.compile(r"(?:^|[;,\s])example=\"?(?P<name>[^\";,\s]+)\"?")


class Rest:
    """``POST /v1`` of one MockServer."""

    def __init__(self, server: MockServer) -> None:
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = self.server
        config = server.config
        started = time.perf_counter()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        tasks: Any = None
        raw = b""
        extra: list[tuple[bytes, bytes]] = []
        try:
            content_type = headers.get("content-type", JSON).split(";")[0].strip().lower()
            if content_type not in (JSON, "", "application/*+json", "text/json"):
                raise BadRequest(
                    415, error("unsupportedContentType", "Send the tasks as application/json.")
                )
            raw = await read_body(
                headers, receive, config.max_body_bytes, config.body_timeout_seconds
            )
            tasks = parse_tasks(raw, config.max_tasks_per_request)
            key = self._key(headers, tasks)
            answer = await server.answering.answer(
                tasks,
                lambda: self._context(scope, headers, key),
                Exchange("rest", scope["path"], started, raw),
            )
            reply, status = answer.reply, answer.status
            if answer.retry_after is not None:
                extra = [(b"retry-after", seconds_text(answer.retry_after).encode())]
        except BadRequest as exc:
            reply, status = Reply(errors=[exc.error]), exc.status
            if status in (408, 413):  # the rest of the body is unread: end the connection
                extra = [(b"connection", b"close")]
            exchange = Exchange("rest", scope["path"], started, raw)
            server.answering.record(exchange, status, tasks, reply)
        except ClientGone:
            return
        body = dumps(reply.body())
        response_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *extra,
        ]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": body})

    def _key(self, headers: dict[str, str], tasks: list[Any]) -> str:
        """The bearer key, or the apiKey of a leading authentication task."""
        first = tasks[0] if isinstance(tasks[0], dict) else None
        key = bearer(headers)
        if first is not None and first.get("taskType") == "authentication":
            key = first.get("apiKey") if isinstance(first.get("apiKey"), str) else key
        code = refusal(self.server.config, key)
        if code is not None:
            message = (
                "The API key is not valid."
                if key
                else "Send an API key: Authorization: Bearer <key>."
            )
            raise BadRequest(401, error(code, message, parameter="apiKey", task=first))
        assert key is not None
        return key

    def _context(self, scope: Scope, headers: dict[str, str], key: str) -> RequestContext:
        engine = self.server.engine
        prefer = PREFER_EXAMPLE.search(headers.get("prefer", ""))
        example = prefer["name"] if prefer else None
        if example is not None and engine.examples.by_name(example) is None:
            known = ", ".join(engine.examples.names)
            raise BadRequest(
                400,
                error(
                    "invalidParameterValue",
                    f"No example named {example!r}; known: {known}.",
                    parameter="Prefer",
                ),
            )
        return RequestContext(
            api_key=key,
            base_url=base_url(scope, self.server.config.public_url),
            prefer_example=example,
        )


async def wrong_method(request: Request) -> Response:
    body = {"errors": [error("invalidRequestBody", "POST the task array to /v1.")]}
    return JSONResponse(body, status_code=405, headers={"Allow": "POST"})
