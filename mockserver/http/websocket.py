"""WebSocket on ``/v1``: authenticate (or resume a session), then task frames answered
concurrently, bounded per connection in frame rate and frames in flight."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from runware_contract.runtime import RunwareError

from ..base import request_log
from ..core.answer import Exchange
from ..core.engine import RequestContext
from ..core.reply import BadRequest, dumps, error, parse_tasks, status_of, throttled
from ..core.sessions import Session
from ..protocols.limits import FrameRate
from .auth import refusal
from .base_url import base_url

if TYPE_CHECKING:
    from .state import ServerState

# The close reason (code 4000) of a connection whose session another connection resumed.
RESUMED_ELSEWHERE = "session resumed by another connection"
Sender = Callable[[dict[str, Any]], Awaitable[None]]


class WebSocketTransport:
    """``WebSocket /v1`` of one MockServer."""

    def __init__(self, server: ServerState) -> None:
        self.server = server

    async def handle(self, websocket: WebSocket) -> None:
        config = self.server.config
        await websocket.accept()
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
                try:
                    message = await asyncio.wait_for(
                        websocket.receive(), timeout=config.session_buffer_seconds
                    )
                except TimeoutError:
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
                task = asyncio.get_running_loop().create_task(
                    self._tasks(websocket, session, tasks, send, started, text)
                )
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
