"""WebSocket on ``/v1``: authenticate (or resume a session), then task frames answered
concurrently, bounded per connection in frame rate and frames in flight.

A connection not yet authenticated is cheap to open and holds a descriptor, so it is
bounded apart: it must authenticate within ``ws_auth_timeout_seconds`` of opening (else it
is closed 1008), and at most ``ws_max_unauthenticated`` such connections are open at once,
``ws_max_unauthenticated_per_client`` from one client address; past either cap an upgrade
is refused at once (HTTP 429 ``rateLimitExceeded`` with Retry-After, before the handshake).
The total cap is also kept below the process's descriptor limit (``RLIMIT_NOFILE``) less a
reserve (a quarter of it, at least ``FD_RESERVE_MIN``) for ``/health``, REST and
authenticated connections, so unauthenticated upgrades can never take the last descriptors."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from runware_contract.runtime import RunwareError

from ..base import request_log
from ..core.answer import Exchange
from ..core.engine import RequestContext
from ..core.reply import BadRequest, dumps, error, parse_tasks, status_of, throttled
from ..core.sessions import Session
from ..lifecycle.eager import eagerly
from ..protocols.limits import FrameRate
from .auth import refusal
from .base_url import base_url

if TYPE_CHECKING:
    from .state import ServerState

# The close reason (code 4000) of a connection whose session another connection resumed.
RESUMED_ELSEWHERE = "session resumed by another connection"
Sender = Callable[[dict[str, Any]], Awaitable[None]]


FD_RESERVE_MIN = 64  # descriptors kept from unauthenticated WebSockets, at the least


def unauthenticated_cap(configured: int) -> int:
    """``configured``, or less: what the descriptor limit leaves after the reserve."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return configured
    return max(1, min(configured, soft - max(FD_RESERVE_MIN, soft // 4)))


class Unauthenticated:
    """The open connections that have not authenticated yet, in total and by address."""

    def __init__(self, most: int, most_per_client: int) -> None:
        self.most = unauthenticated_cap(most)
        self.most_per_client = most_per_client
        self.by_client: Counter[str] = Counter()
        self.total = 0

    def enter(self, client: str) -> str | None:
        """Count a new connection from ``client``; the cap it is over (None: admitted)."""
        if self.total >= self.most:
            return f"{self.most} unauthenticated WebSocket connections are open"
        if self.by_client[client] >= self.most_per_client:
            return f"{self.most_per_client} unauthenticated WebSocket connections from one address"
        self.total += 1
        self.by_client[client] += 1
        return None

    def leave(self, client: str) -> None:
        self.total -= 1
        self.by_client[client] -= 1
        if self.by_client[client] <= 0:
            del self.by_client[client]


class WebSocketTransport:
    """``WebSocket /v1`` of one MockServer."""

    def __init__(self, server: ServerState) -> None:
        self.server = server
        config = server.config
        self.unauthenticated = Unauthenticated(
            config.ws_max_unauthenticated, config.ws_max_unauthenticated_per_client
        )

    async def handle(self, websocket: WebSocket) -> None:
        client = websocket.client.host if websocket.client else "-"
        over = self.unauthenticated.enter(client)
        if over is not None:
            await self._refuse(websocket, over)
            return
        counted = True

        def authenticated() -> None:
            nonlocal counted
            if counted:
                counted = False
                self.unauthenticated.leave(client)

        try:
            await self._handle(websocket, authenticated)
        finally:
            authenticated()  # (or gone)

    async def _refuse(self, websocket: WebSocket, over: str) -> None:
        """Refuse an upgrade before the handshake: 429, Runware's error shape."""
        started = time.perf_counter()
        err = throttled(over)
        await websocket.send_denial_response(
            JSONResponse({"errors": [err]}, status_code=429, headers={"Retry-After": "1"})
        )
        request_log.line("websocket", "GET", "/v1", 429, started, error_codes=[err["code"]])

    async def _handle(self, websocket: WebSocket, authenticated: Callable[[], None]) -> None:
        config = self.server.config
        await websocket.accept()
        auth_by = time.monotonic() + config.ws_auth_timeout_seconds
        lock = asyncio.Lock()
        session: Session | None = None
        pending: set[asyncio.Task[None]] = set()
        rate = FrameRate()
        most = config.ws_max_frames_per_second
        token = object()  # this connection, as a session's owner

        async def send(body: dict[str, Any]) -> None:
            async with lock:
                with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                    await websocket.send_text(dumps(body).decode())

        async def refuse(started: float, err: RunwareError, tasks: Any = None) -> None:
            """Answer a frame with one error, and log it (the frames answered by the engine
            are logged with the journal, in ``Answering.record``)."""
            await send({"errors": [err]})
            code = err["code"]
            request_log.line("websocket", "FRAME", "/v1", status_of(code), started, tasks, [code])

        async def evict() -> None:
            async with lock:
                with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                    await websocket.close(code=4000, reason=RESUMED_ELSEWHERE)

        try:
            while True:
                wait = config.session_buffer_seconds
                if session is None:  # the authentication frame is due by auth_by
                    wait = auth_by - time.monotonic()
                try:  # not wait_for: it would run receive() as a task of its own, each frame
                    async with asyncio.timeout(max(0, wait)):
                        message = await websocket.receive()
                except TimeoutError:
                    if session is None:
                        reason = f"authenticate within {config.ws_auth_timeout_seconds:g} s"
                        await websocket.close(code=1008, reason=reason)
                    else:
                        await websocket.close(code=1000, reason="idle")
                    break
                if message["type"] == "websocket.disconnect":
                    break
                started = time.perf_counter()
                frames = rate.tick()
                if frames > 2 * most:
                    await websocket.close(code=1008, reason="too many frames")
                    break
                if frames > most:
                    await refuse(started, throttled(f"over {most} frames per second"))
                    continue
                text = message.get("text")
                if text is None:
                    await refuse(
                        started, error("invalidRequestBody", "Send tasks as JSON text frames.")
                    )
                    continue
                try:
                    tasks = parse_tasks(text, config.max_tasks_per_request)
                except BadRequest as exc:
                    await refuse(started, exc.error)
                    continue
                if session is None:
                    session, tasks = await self._authenticate(
                        tasks, send, refuse, started, websocket, token, evict
                    )
                    if session is not None:
                        authenticated()
                    if not tasks:
                        continue
                if session is None:
                    continue
                if session.owner is not token:
                    break  # resumed by another connection, which now gets its results
                if len(pending) >= config.ws_max_in_flight:
                    limit = config.ws_max_in_flight
                    await refuse(started, throttled(f"{limit} task frames are unanswered"), tasks)
                    continue
                # Answered here and now unless it suspends (then a task goes on with it).
                task = eagerly(self._tasks(websocket, session, tasks, send, started, text))
                if task is not None:
                    pending.add(task)
                    task.add_done_callback(pending.discard)
        except WebSocketDisconnect:
            pass
        finally:
            if session is not None and session.owner is token:  # not if taken over
                session.send = session.owner = session.evict = None
                session.detached_at = config.clock()
                await self.server.relay.detached(session)

    async def _authenticate(
        self,
        tasks: list[Any],
        send: Sender,
        refuse: Callable[[float, RunwareError, Any], Awaitable[None]],
        started: float,
        websocket: WebSocket,
        token: object,
        evict: Callable[[], Awaitable[None]],
    ) -> tuple[Session | None, list[Any]]:
        server = self.server
        config = server.config
        first = tasks[0] if isinstance(tasks[0], dict) else {}
        if all(isinstance(t, dict) and t.get("taskType") == "ping" for t in tasks):
            await send({"data": [{"taskType": "ping", "pong": True} for _ in tasks]})
            return None, []
        if first.get("taskType") != "authentication":
            message = "Authenticate first: send an authentication task with your apiKey."
            await refuse(started, _auth_error("missingApiKey", message), tasks)
            return None, []
        key = first.get("apiKey") if isinstance(first.get("apiKey"), str) else None
        code = refusal(config, key)
        if code is not None:
            message = "The API key is not valid." if key else "Send an apiKey."
            await refuse(started, _auth_error(code, message), tasks[:1])
            return None, []
        assert key is not None
        wanted = first.get("connectionSessionUUID")
        owner = config.owner_of(key)
        session = server.sessions.get(wanted) if isinstance(wanted, str) else None
        if session is None and isinstance(wanted, str) and await server.relay.known(wanted, owner):
            session = Session(session_id=wanted, api_key=key, buffer_max=config.session_buffer_max)
            server.sessions[wanted] = session  # resumed here, from another host
        if session is None or session.api_key != key:
            session_id = server.engine.ids.uuid4("session", key, config.clock(), id(websocket))
            session = Session(
                session_id=session_id, api_key=key, buffer_max=config.session_buffer_max
            )
            server.sessions[session_id] = session
        previous = session.evict if session.owner is not None else None
        session.send, session.owner, session.evict = send, token, evict
        session.detached_at = None
        if previous is not None:  # still open elsewhere: that connection is closed
            asyncio.get_running_loop().create_task(previous())
        await send(
            {"data": [{"taskType": "authentication", "connectionSessionUUID": session.session_id}]}
        )
        request_log.line("websocket", "FRAME", "/v1", 200, started, tasks[:1])
        for body in await server.relay.attached(session, owner):
            await send(body)
        return session, tasks[1:]

    async def _tasks(
        self,
        websocket: WebSocket,
        session: Session,
        tasks: list[Any],
        send: Sender,
        started: float,
        text: str,
    ) -> None:
        server = self.server
        answer = await server.answering.answer(
            tasks,
            lambda: RequestContext(
                api_key=session.api_key,
                base_url=base_url(websocket.scope, server.config.public_url),
                session=session,
            ),
            Exchange("websocket", "/v1", started, text),
        )
        reply = answer.reply
        # One frame for data, another for errors: runware-sdk 1.8 drops data beside errors.
        if reply.data or not reply.all_errors:
            await send({"data": reply.data})
        if reply.all_errors:
            await send({"errors": reply.all_errors})


def _auth_error(code: str, message: str) -> Any:
    return error(code, message, parameter="apiKey", task_type="authentication")
