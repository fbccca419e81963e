"""REST on ``POST /v1``: raw ASGI, so the hot path builds no Request/Response/URL objects."""

from __future__ import annotations

import re
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar, cast

from starlette.types import Receive, Scope, Send

from runware_contract.runtime import RunwareError

from ..core.answer import Answer, Exchange, MustWait
from ..core.engine import RequestContext
from ..core.reply import (
    JSON,
    BadRequest,
    ClientGone,
    Reply,
    dumps,
    error,
    parse_tasks,
    seconds_text,
)
from .auth import bearer, refusal
from .base_url import base_url
from .body import read_body

if TYPE_CHECKING:
    from .state import ServerState

T = TypeVar("T")
PREFER_EXAMPLE = re.compile(r"(?:^|[;,\s])example=\"?(?P<name>[^\";,\s]+)\"?")


# What a REST request gets back: HTTP status, headers beside content-type and length, body.
Framed = tuple[int, list[tuple[bytes, bytes]], bytes]


def header_map(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Request headers (names lowercase, as ASGI servers give them) by name."""
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in raw}


def json_body(headers: dict[str, str]) -> bool:
    """Whether the request's content type is one of JSON's (or not given)."""
    given = headers.get("content-type")
    if given is None or given == JSON:
        return True  # what nearly every request sends: nothing to split or fold
    content_type = given.split(";")[0].strip().lower()
    return content_type in (JSON, "", "application/*+json", "text/json")


def unsupported_type(headers: dict[str, str]) -> RunwareError:
    """The 415 entry: which header to send, and the type this request named (cut short:
    the client's text, echoed back as a JSON string)."""
    given = headers.get("content-type", "")
    shown = given if len(given) <= 80 else f"{given[:80]}..."
    return error(
        "unsupportedContentType",
        "Send the tasks as a JSON array with the header 'Content-Type: application/json' "
        f"(this request's Content-Type was {shown!r}; curl -d sends a form type unless "
        "told otherwise with -H).",
        parameter="Content-Type",
    )


def completed(coroutine: Coroutine[Any, Any, T]) -> T:
    """The result of a coroutine that finishes without suspending (RuntimeError if not)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    coroutine.close()
    raise RuntimeError("the coroutine suspended")


class Rest:
    """``POST /v1`` of one MockServer: as a raw ASGI app, and, for a body that has arrived
    whole, as a plain call (``answer_now``) that the HTTP protocol makes itself
    (``direct.py``). Both read, parse, authenticate and answer the same way here."""

    def __init__(self, server: ServerState) -> None:
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        config = self.server.config
        started = time.perf_counter()
        headers = header_map(scope["headers"])
        try:
            if not json_body(headers):
                raise BadRequest(415, unsupported_type(headers))
            raw = await read_body(
                headers, receive, config.max_body_bytes, config.body_timeout_seconds
            )
        except BadRequest as exc:
            status, extra, body = self._refused(exc, scope, started, b"", None)
        except ClientGone:
            return
        else:
            status, extra, body = await self._answer(scope, headers, raw, started, wait=True)
        response_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *extra,
        ]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": body})

    def direct_ok(self, headers: dict[str, str]) -> bool:
        """Whether a whole body with these headers may be answered by ``answer_now`` outside
        ASGI: a JSON body, a store whose calls finish at once (not Redis's), and no latency
        scenario that could make the answer wait."""
        return (
            not self.server.store.suspends
            and json_body(headers)
            and not self.server.answering.may_wait()
        )

    def answer_now(
        self, scope: Scope, headers: dict[str, str], raw: bytes, started: float
    ) -> Framed | None:
        """The response to the whole body ``raw``, at once (no latency scenario applies);
        None, with nothing done, when its answer may wait (a task delivered sync, an inline
        render): the caller hands it to the ASGI path."""
        try:
            return completed(self._answer(scope, headers, raw, started, wait=False))
        except MustWait:
            return None

    async def _answer(
        self, scope: Scope, headers: dict[str, str], raw: bytes, started: float, *, wait: bool
    ) -> Framed:
        tasks: Any = None
        try:
            tasks = parse_tasks(raw, self.server.config.max_tasks_per_request)
            key = self._key(headers, tasks)
            answer = await self.server.answering.answer(
                tasks,
                lambda: self._context(scope, headers, key),
                Exchange("rest", scope["path"], started, raw),
                wait=wait,
            )
        except BadRequest as exc:
            return self._refused(exc, scope, started, raw, tasks)
        return self._answered(answer)

    def _answered(self, answer: Answer) -> Framed:
        extra = []
        if answer.retry_after is not None:
            extra = [(b"retry-after", seconds_text(answer.retry_after).encode())]
        return self._framed(answer.status, answer.reply, extra)

    def _refused(
        self, exc: BadRequest, scope: Scope, started: float, raw: bytes, tasks: Any
    ) -> Framed:
        reply = Reply(errors=[exc.error])
        exchange = Exchange("rest", scope["path"], started, raw)
        self.server.answering.record(exchange, exc.status, tasks, reply)
        # 408/413 leave the rest of the body unread: the connection cannot carry another request.
        extra = [(b"connection", b"close")] if exc.status in (408, 413) else []
        return self._framed(exc.status, reply, extra)

    def _framed(self, status: int, reply: Reply, extra: list[tuple[bytes, bytes]]) -> Framed:
        """Every REST answer, whichever path made it, leaves through here."""
        return status, extra, dumps(reply.body())

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
        header = headers.get("prefer")
        prefer = PREFER_EXAMPLE.search(header) if header else None
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
