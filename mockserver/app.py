"""The ASGI application: REST and WebSocket on /v1, media, health, OpenAPI, admin API.

``create_app(config)`` returns a Starlette app; ``MockServer`` holds its state, so
tests and the pytest plugin can reach the store, the journal and the scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from importlib import resources
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

import runware_contract as rc
from runware_contract.runtime import RunwareError

from .base_url import base_url
from .config import MockConfig
from .delivery import Deliverer
from .engine import Engine, Reply, RequestContext, dumps, error, status_of, storage_error
from .journal import Journal
from .limits import FrameRate
from .media import CONTENT_TYPES, RenderBusy, VideoFiles
from .scenarios import Scenario, ScenarioError, Scenarios, parse
from .scheduler import Scheduler
from .security import redact_logs, signature_valid
from .sessions import Session, Sessions
from .store import Limits, StoreUnavailable, TaskRecord, open_store
from .supervise import LagMonitor, supervised
from .targets import Allowlist

JSON = "application/json"
log = logging.getLogger("mockserver")
VIDEO_PATH = re.compile(
    r"(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(?P<ext>mp4|webm|mov)"
)
UUID_PATH = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# A process recovering unclaimed completions waits this long past their due time, so that
# a live worker holding the task's WebSocket session claims (and pushes) it first.
RECOVERY_GRACE = 1.0
COMPLETION_RETRY = 1.0  # seconds before a completion the store failed to claim is tried again
# The close reason (code 4000) of a connection whose session another connection resumed.
RESUMED_ELSEWHERE = "session resumed by another connection"
JOURNAL_LIMIT = re.compile(r"[0-9]{1,7}")  # ASCII digits only (str.isdigit takes "²")
# Admin bodies are small JSON objects; larger ones get 413 before they are read.
ADMIN_BODY_BYTES = 64 * 1024
PREFER_EXAMPLE = re.compile(r"(?:^|[;,\s])example=\"?(?P<name>[^\";,\s]+)\"?")


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
    orjson is strict JSON: no NaN/Infinity, UTF-8 only, integers within 64 bits. A leading
    byte-order mark is refused by name (JSON text must not start with one, RFC 8259 8.1).
    More than ``max_tasks`` tasks get one error before any task is looked at."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        text = str(exc)
        reason = (
            "starts with a byte-order mark; send UTF-8 without one"
            if raw[:3] == b"\xef\xbb\xbf" or raw[:1] == "\ufeff"
            else "is not UTF-8"
            if "UTF-8" in text
            else "is nested too deeply"
            if "depth limit" in text
            else "is not valid JSON"
        )
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


def bearer(headers: Mapping[str, str]) -> str | None:
    header = headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class _MockApp(Starlette):
    """Starlette, with ``POST /v1`` (the hot path) handed straight to a raw ASGI handler."""

    def __init__(
        self, fast_post: Callable[[Scope, Receive, Send], Awaitable[None]], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.fast_post = fast_post

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/v1":
            await self.fast_post(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


# A refused body is read and dropped before the 413 goes out, as nginx's lingering close
# does: closing a socket with unread data makes the kernel send a reset, which destroys the
# 413 of a client that sends its whole body before reading (urllib and many others). Bounded
# by time, not bytes (dropping costs no memory): LINGER_SECONDS in all (nginx's
# lingering_time), LINGER_IDLE_SECONDS between chunks (lingering_timeout).
LINGER_SECONDS = 30.0
LINGER_IDLE_SECONDS = 5.0


async def _discard(receive: Receive) -> None:
    """Read and drop the rest of a request body, within the linger bounds."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(LINGER_SECONDS):
            while True:
                message = await asyncio.wait_for(receive(), LINGER_IDLE_SECONDS)
                if message["type"] == "http.disconnect" or not message.get("more_body"):
                    return


class MockServer:
    """State and behaviour of one mock instance."""

    def __init__(self, config: MockConfig | None = None) -> None:
        self.config = config or MockConfig()
        redact_logs()
        self.store = open_store(
            self.config.store,
            Limits(
                max_tasks=self.config.max_tasks,
                max_results=self.config.max_results,
                max_images=self.config.max_images,
            ),
        )
        # Signed media URLs must verify in every worker and after a restart.
        self.config.media_secret = self.store.shared_secret("media", self.config.media_secret)
        self.sessions = Sessions()  # this process's WebSocket sessions
        self.scenarios = Scenarios(seed=self.config.seed)
        self.journal = Journal(self.config.journal_size)
        self.engine = Engine(self.config, self.store, self.scenarios)
        self.scheduler = Scheduler(self.config.clock)
        self.videos = VideoFiles(self.config.video_cache_bytes, self.config.render_queue)
        self.deliverer: Deliverer | None = None
        self.lag = LagMonitor()
        self._scenario_ids = 0
        self.engine.on_accept.append(self._schedule)
        self.app = _MockApp(
            fast_post=self.rest,
            routes=[
                Route(
                    "/v1", self.wrong_method, methods=["GET", "PUT", "PATCH", "DELETE", "OPTIONS"]
                ),
                WebSocketRoute("/v1", self.websocket),
                Route("/health", self.health, methods=["GET"]),
                Route("/openapi.json", self.openapi, methods=["GET"]),
                Route("/video/{name}", self.video, methods=["GET", "HEAD"]),
                Route("/video/{sig}/{owner}/{name}", self.video, methods=["GET", "HEAD"]),
                Route("/image/{uuid}", self.image, methods=["GET"]),
                Route("/image/{sig}/{uuid}", self.image, methods=["GET"]),
                Route(
                    "/__admin/scenarios", self.admin_scenarios, methods=["GET", "POST", "DELETE"]
                ),
                Route("/__admin/scenarios/{id}", self.admin_scenario, methods=["DELETE"]),
                Route("/__admin/requests", self.admin_requests, methods=["GET", "DELETE"]),
                Route("/__admin/deliveries", self.admin_deliveries, methods=["GET"]),
                Route("/__admin/reset", self.admin_reset, methods=["POST"]),
            ],
            lifespan=self.lifespan,
            exception_handlers={HTTPException: _http_error, StoreUnavailable: _store_error},
        )
        self.app.router.redirect_slashes = False  # an API: unknown paths are 404, not 307

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.deliverer = Deliverer(
            attempts=self.config.webhook_attempts,
            timeout=self.config.webhook_timeout_seconds,
            backoff=self.config.webhook_backoff_seconds,
            allow=Allowlist.parse(self.config.delivery_allow),
        )
        self.scheduler.start()
        for record in self.store.pending_completions():  # from before a restart, or a
            self._schedule(record, grace=RECOVERY_GRACE)  # worker's, which claims it first
        loops = [supervised("sweep", self._sweep), supervised("loop lag", self.lag.step)]
        try:
            yield
        finally:
            for loop in loops:
                loop.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await self.scheduler.stop()
            await self.deliverer.close()
            self.videos.close()
            self.store.close()

    async def _sweep(self) -> None:
        await asyncio.sleep(self.config.sweep_seconds)
        now = self.config.clock()
        self.store.sweep(now)
        self.sessions.sweep(now, self.config.session_buffer_seconds)

    @property
    def models(self) -> list[str]:
        return sorted(rc.MODELS)

    # ── completion: pushes, webhooks, uploads ───────────────────────────────

    def _schedule(self, record: TaskRecord, grace: float = 0.0) -> None:
        if record.wants_completion:
            self.scheduler.at(record.due + grace, lambda: self._complete(record))

    def _complete(self, record: TaskRecord) -> None:
        try:
            claimed = self.store.claim_completion(record.owner, record.task_uuid)
        except StoreUnavailable as exc:  # nothing was claimed: try again, losing nothing
            log.warning("storage unavailable completing task %s (again in %s s): %s",
                        record.task_uuid, COMPLETION_RETRY, exc)  # fmt: skip
            self.scheduler.at(
                self.config.clock() + COMPLETION_RETRY, lambda: self._complete(record)
            )
            return
        if not claimed:
            return  # gone, or completed already (by another worker, or before a restart)
        results = record.results
        body: dict[str, Any] = (
            {"errors": [record.failure]} if record.failure is not None else {"data": results}
        )
        self._push(record.session_id, body)
        webhook = record.webhook_url
        if webhook and self.deliverer is not None:
            if record.failure is not None:
                self.deliverer.webhook(webhook, record.task_uuid, body)
            for item in [] if record.failure is not None else results:
                self.deliverer.webhook(webhook, record.task_uuid, {"data": [item]})
        upload = record.upload_endpoint
        if upload and self.deliverer is not None and record.failure is None:
            for item in results:
                video = self.store.get_video(record.owner, item["videoUUID"])
                if video is not None:
                    self.deliverer.upload(
                        upload,
                        record.task_uuid,
                        self._video_bytes_of(record.owner, video.video_uuid),
                        CONTENT_TYPES[video.container],
                    )

    def _video_bytes_of(self, owner: str, video_uuid: str) -> Any:
        async def content() -> bytes:
            video = self.store.get_video(owner, video_uuid)
            if video is None:
                raise LookupError(f"video {video_uuid} was forgotten before its upload")
            # A background upload waits its turn rather than failing.
            return await self.videos.get(
                video.container, video.width, video.height, video.seconds, wait=True
            )

        return content

    def _push(self, session_id: str | None, body: dict[str, Any]) -> None:
        session = self.sessions.get(session_id) if session_id else None
        if session is None:
            return
        if session.send is not None:
            asyncio.get_running_loop().create_task(session.send(body))
        else:
            session.keep(body)

    # ── REST: raw ASGI, so the hot path builds no Request/Response/URL objects ──

    async def rest(self, scope: Scope, receive: Receive, send: Send) -> None:
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
            raw = await self._read_body(headers, receive)
            tasks = parse_tasks(raw, self.config.max_tasks_per_request)
            key = self._rest_key(headers, tasks)
            reply, status, extra = await self._rest_tasks(scope, headers, tasks, key)
        except BadRequest as exc:
            reply, status = Reply(errors=[exc.error]), exc.status
            if status in (408, 413):  # the rest of the body is unread: end the connection
                extra = [(b"connection", b"close")]
        except ClientGone:
            return
        self.journal.record(
            transport="rest",
            path=scope["path"],
            status=status,
            tasks=tasks,
            error_codes=[e["code"] for e in reply.all_errors],
            started=started,
            size=len(raw),
            body=raw,
        )
        body = dumps(reply.body())
        response_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *extra,
        ]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": body})

    async def _read_body(
        self, headers: Mapping[str, str], receive: Receive, limit: int | None = None
    ) -> bytes:
        """The whole body (at most ``limit`` bytes, default ``max_body_bytes``), read as it
        arrives within the body timeout; else BadRequest 413 or 408."""
        limit = self.config.max_body_bytes if limit is None else limit
        too_large = BadRequest(
            413, error("maxPayloadSizeExceeded", f"The body is over {limit} bytes.")
        )
        declared = headers.get("content-length", "")
        chunks: list[bytes] = []
        size = 0
        seconds = self.config.body_timeout_seconds
        if declared.isdigit() and int(declared) > limit:
            # A client waiting for "100 Continue" has sent nothing: nothing to drain.
            if "100-continue" not in headers.get("expect", "").lower():
                await _discard(receive)
            raise too_large
        try:
            async with asyncio.timeout(seconds):  # uvicorn has no body-read timeout
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise ClientGone
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if not message.get("more_body") and size <= limit:
                        chunks.append(chunk)
                        return b"".join(chunks)
                    if size > limit:
                        break
                    chunks.append(chunk)
        except TimeoutError:
            raise BadRequest(
                408,
                error("timeoutRequestBody", f"The body did not arrive within {seconds} s."),
            ) from None
        if message.get("more_body"):
            await _discard(receive)
        raise too_large

    def _rest_key(self, headers: dict[str, str], tasks: list[Any]) -> str:
        first = tasks[0] if isinstance(tasks[0], dict) else None
        key = bearer(headers)
        if first is not None and first.get("taskType") == "authentication":
            key = first.get("apiKey") if isinstance(first.get("apiKey"), str) else key
        if not key:
            raise BadRequest(
                401,
                error(
                    "missingApiKey",
                    "Send an API key: Authorization: Bearer <key>.",
                    parameter="apiKey",
                    task=first,
                ),
            )
        if not self.config.key_is_valid(key):
            raise BadRequest(
                401,
                error("invalidApiKey", "The API key is not valid.", parameter="apiKey", task=first),
            )
        return key

    async def _rest_tasks(
        self, scope: Scope, headers: dict[str, str], tasks: list[Any], key: str
    ) -> tuple[Reply, int, list[tuple[bytes, bytes]]]:
        canned = self.scenarios.respond_for(tasks)
        if canned is not None:
            reply = Reply(errors=self._canned_errors(tasks, canned.code, canned.message))
            retry = canned.retry_after
            extra = [(b"retry-after", _seconds(retry).encode())] if retry is not None else []
            return reply, canned.status, extra
        delay = self.scenarios.latency_for(tasks)
        if delay:
            await asyncio.sleep(delay)
        prefer = PREFER_EXAMPLE.search(headers.get("prefer", ""))
        example = prefer["name"] if prefer else None
        if example is not None and self.engine.examples.by_name(example) is None:
            known = ", ".join(self.engine.examples.names)
            raise BadRequest(
                400,
                error(
                    "invalidParameterValue",
                    f"No example named {example!r}; known: {known}.",
                    parameter="Prefer",
                ),
            )
        ctx = RequestContext(
            api_key=key,
            base_url=base_url(scope, self.config.public_url),
            prefer_example=example,
        )
        reply = self.engine.handle(tasks, ctx)
        return reply, reply.status, []

    async def wrong_method(self, request: Request) -> Response:
        body = {"errors": [error("invalidRequestBody", "POST the task array to /v1.")]}
        return JSONResponse(body, status_code=405, headers={"Allow": "POST"})

    @staticmethod
    def _canned_errors(tasks: list[Any], code: str, message: str) -> list[RunwareError]:
        dicts = [t for t in tasks if isinstance(t, dict) and t.get("taskType") != "authentication"]
        return [error(code, message, task=t) for t in dicts] or [error(code, message)]

    # ── WebSocket ───────────────────────────────────────────────────────────

    async def websocket(self, websocket: WebSocket) -> None:
        await websocket.accept()
        lock = asyncio.Lock()
        session: Session | None = None
        pending: set[asyncio.Task[None]] = set()
        rate = FrameRate()
        most = self.config.ws_max_frames_per_second
        token = object()  # this connection, as a session's owner

        async def send(body: dict[str, Any]) -> None:
            async with lock:
                with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                    await websocket.send_text(dumps(body).decode())

        async def evict() -> None:
            async with lock:
                with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                    await websocket.close(code=4000, reason=RESUMED_ELSEWHERE)

        try:
            while True:
                try:
                    message = await asyncio.wait_for(
                        websocket.receive(), timeout=self.config.session_buffer_seconds
                    )
                except TimeoutError:
                    await websocket.close(code=1000, reason="idle")
                    break
                if message["type"] == "websocket.disconnect":
                    break
                frames = rate.tick()
                if frames > 2 * most:
                    await websocket.close(code=1008, reason="too many frames")
                    break
                if frames > most:
                    await send({"errors": [_throttled(f"over {most} frames per second")]})
                    continue
                started = time.perf_counter()
                text = message.get("text")
                if text is None:
                    await send(
                        {"errors": [error("invalidRequestBody", "Send tasks as JSON text frames.")]}
                    )
                    continue
                try:
                    tasks = parse_tasks(text, self.config.max_tasks_per_request)
                except BadRequest as exc:
                    await send({"errors": [exc.error]})
                    continue
                if session is None:
                    session, tasks = await self._ws_authenticate(
                        tasks, send, websocket, token, evict
                    )
                    if not tasks:
                        continue
                if session is None:
                    continue
                if session.owner is not token:
                    break  # resumed by another connection, which now gets its results
                if len(pending) >= self.config.ws_max_in_flight:
                    limit = self.config.ws_max_in_flight
                    await send({"errors": [_throttled(f"{limit} task frames are unanswered")]})
                    continue
                task = asyncio.get_running_loop().create_task(
                    self._ws_tasks(websocket, session, tasks, send, started, text)
                )
                pending.add(task)
                task.add_done_callback(pending.discard)
        except WebSocketDisconnect:
            pass
        finally:
            if session is not None and session.owner is token:  # not if taken over
                session.send = session.owner = session.evict = None
                session.detached_at = self.config.clock()

    async def _ws_authenticate(
        self, tasks: list[Any], send: Any, websocket: WebSocket, token: object, evict: Any
    ) -> tuple[Session | None, list[Any]]:
        first = tasks[0] if isinstance(tasks[0], dict) else {}
        if all(isinstance(t, dict) and t.get("taskType") == "ping" for t in tasks):
            await send({"data": [{"taskType": "ping", "pong": True} for _ in tasks]})
            return None, []
        if first.get("taskType") != "authentication":
            await send(
                {
                    "errors": [
                        error(
                            "missingApiKey",
                            "Authenticate first: send an authentication task with your apiKey.",
                            parameter="apiKey",
                            task_type="authentication",
                        )
                    ]
                }
            )
            return None, []
        key = first.get("apiKey") if isinstance(first.get("apiKey"), str) else None
        if not self.config.key_is_valid(key):
            code = "invalidApiKey" if key else "missingApiKey"
            await send(
                {
                    "errors": [
                        error(
                            code,
                            "The API key is not valid." if key else "Send an apiKey.",
                            parameter="apiKey",
                            task_type="authentication",
                        )
                    ]
                }
            )
            return None, []
        assert key is not None
        wanted = first.get("connectionSessionUUID")
        session = self.sessions.get(wanted) if isinstance(wanted, str) else None
        if session is None or session.api_key != key:
            session_id = self.engine.ids.uuid4("session", key, self.config.clock(), id(websocket))
            session = Session(
                session_id=session_id, api_key=key, buffer_max=self.config.session_buffer_max
            )
            self.sessions[session_id] = session
        previous = session.evict if session.owner is not None else None
        session.send, session.owner, session.evict = send, token, evict
        session.detached_at = None
        if previous is not None:  # still open elsewhere: that connection is closed
            asyncio.get_running_loop().create_task(previous())
        await send(
            {"data": [{"taskType": "authentication", "connectionSessionUUID": session.session_id}]}
        )
        buffered, session.buffer = session.buffer, []
        for body in buffered:
            await send(body)
        return session, tasks[1:]

    async def _ws_tasks(
        self,
        websocket: WebSocket,
        session: Session,
        tasks: list[Any],
        send: Any,
        started: float,
        text: str,
    ) -> None:
        canned = self.scenarios.respond_for(tasks)
        if canned is not None:
            errors = self._canned_errors(tasks, canned.code, canned.message)
            self.journal.record(
                transport="websocket",
                path="/v1",
                status=canned.status,
                tasks=tasks,
                error_codes=[e["code"] for e in errors],
                started=started,
                size=len(text),
                body=text,
            )
            await send({"errors": errors})
            return
        delay = self.scenarios.latency_for(tasks)
        if delay:
            await asyncio.sleep(delay)
        ctx = RequestContext(
            api_key=session.api_key,
            base_url=base_url(websocket.scope, self.config.public_url),
            session=session,
        )
        reply = self.engine.handle(tasks, ctx)
        # One frame for data, another for errors: runware-sdk 1.8 drops data beside errors.
        if reply.data or not reply.all_errors:
            await send({"data": reply.data})
        if reply.all_errors:
            await send({"errors": reply.all_errors})
        self.journal.record(
            transport="websocket",
            path="/v1",
            status=reply.status,
            tasks=tasks,
            error_codes=[e["code"] for e in reply.all_errors],
            started=started,
            size=len(text),
            body=text,
        )

    # ── media, health, OpenAPI ──────────────────────────────────────────────

    async def health(self, request: Request) -> Response:
        # The process id tells --workers processes apart (tests pin a connection to each).
        # loopLagMs: the longest the event loop was blocked lately (supervise.LagMonitor).
        return JSONResponse(
            {"status": "ok", "models": self.models, "worker": os.getpid(), **self.lag.as_dict()}
        )

    def _denied(self, request: HTTPConnection, *, admin: bool = False) -> Response | None:
        """A 401 unless the request carries a valid key (the admin key, for admin routes)."""
        key = bearer(request.headers)
        if (self.config.admin_key_is_valid if admin else self.config.key_is_valid)(key):
            return None
        code = "invalidApiKey" if key else "missingApiKey"
        what = "an admin key" if admin and self.config.admin_key else "a valid API key"
        return JSONResponse(
            {"errors": [error(code, f"This endpoint needs {what}.", parameter="apiKey")]},
            status_code=401,
        )

    def _media_owner(self, request: Request, kind: str, name: str) -> str | Response | None:
        """Whose media the request may see: with the signature its URL was handed out with,
        the owner the URL names (None: anyone's, for image URLs, whose UUIDs are unique); with
        a key, that key's own. Otherwise a 401 or 403 to send."""
        signature = request.path_params.get("sig")
        owner = request.path_params.get("owner")
        signed = f"{owner}/{name}" if owner is not None else name
        if signature is not None:
            if signature_valid(self.config.media_secret, kind, signed, signature):
                return owner
            return JSONResponse(
                {"errors": [error("invalidSignature", "This media URL's signature is wrong.")]},
                status_code=403,
            )
        if (denied := self._denied(request)) is not None:
            return denied
        key = bearer(request.headers)
        assert key is not None  # _denied checked it
        return self.config.owner_of(key)

    async def openapi(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        text = resources.files("runware_contract").joinpath("openapi.json").read_bytes()
        return Response(text, media_type=JSON)

    async def video(self, request: Request) -> Response:
        owner = self._media_owner(request, "video", request.path_params["name"])
        if isinstance(owner, Response):
            return owner
        match = VIDEO_PATH.fullmatch(request.path_params["name"])
        video = self.store.get_video(owner, match["uuid"]) if match and owner else None
        now = self.config.clock()
        if video is None or video.ready_at > now or match is None:
            return _not_found("No such video.")
        if video.expires_at is not None and now >= video.expires_at:
            return JSONResponse(
                {"errors": [error("taskNotFound", "This video's ttl has passed.")]}, status_code=410
            )
        if {"mp4": "MP4", "webm": "WEBM", "mov": "MOV"}[match["ext"]] != video.container:
            return _not_found("No such video in that format.")
        try:
            data = await self.videos.get(video.container, video.width, video.height, video.seconds)
        except RenderBusy as busy:
            code = "renderQueueFull"
            message = f"Too many videos are being rendered; retry after {busy.retry_after} s."
            return JSONResponse(
                {"errors": [error(code, message)]},
                status_code=status_of(code),
                headers={"Retry-After": str(busy.retry_after)},
            )
        return Response(
            data if request.method == "GET" else b"",
            media_type=CONTENT_TYPES[video.container],
            headers={"Content-Length": str(len(data))},
        )

    async def image(self, request: Request) -> Response:
        image_uuid = request.path_params["uuid"]
        owner = self._media_owner(request, "image", image_uuid)
        if isinstance(owner, Response):
            return owner
        valid = UUID_PATH.fullmatch(image_uuid)
        record = self.store.get_image(image_uuid, owner) if valid else None
        if record is None or record.data is None:
            return _not_found("No such image.")
        return Response(record.data, media_type=record.content_type or "application/octet-stream")

    # ── admin ───────────────────────────────────────────────────────────────

    def _admin_denied(self, request: Request) -> Response | None:
        return self._denied(request, admin=True)

    async def _admin_json(self, request: Request) -> Any:
        """An admin body parsed as strict JSON, read under ADMIN_BODY_BYTES and the body
        timeout (BadRequest otherwise)."""
        raw = await self._read_body(request.headers, request.receive, ADMIN_BODY_BYTES)
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise BadRequest(
                400, error("invalidRequestBody", "Bad scenario: the body is not valid JSON.")
            ) from None

    async def admin_scenarios(self, request: Request) -> Response:
        if (denied := self._admin_denied(request)) is not None:
            return denied
        if request.method == "GET":
            return JSONResponse({"scenarios": [s.describe() for s in self.scenarios.items]})
        if request.method == "DELETE":
            self.scenarios.reset()
            return JSONResponse({"scenarios": []})
        try:
            body = await self._admin_json(request)
            self._scenario_ids += 1
            scenario: Scenario = parse(body, f"s{self._scenario_ids}")
            self.scenarios.add(scenario)
        except BadRequest as exc:
            return _bad_request(exc)
        except ClientGone:
            return Response(status_code=400)
        except ScenarioError as exc:
            return JSONResponse(
                {
                    "errors": [
                        error("invalidRequestBody", f"Bad scenario: {exc}", parameter=exc.parameter)
                    ]
                },
                status_code=400,
            )
        return JSONResponse(scenario.describe(), status_code=201)

    async def admin_scenario(self, request: Request) -> Response:
        if (denied := self._admin_denied(request)) is not None:
            return denied
        if self.scenarios.remove(request.path_params["id"]):
            return Response(status_code=204)
        return _not_found("No such scenario.")

    async def admin_requests(self, request: Request) -> Response:
        if (denied := self._admin_denied(request)) is not None:
            return denied
        if request.method == "DELETE":
            self.journal.clear()
            return Response(status_code=204)
        q = request.query_params
        limit = q.get("limit", "100")
        if JOURNAL_LIMIT.fullmatch(limit) is None:
            return JSONResponse(
                {
                    "errors": [
                        error(
                            "invalidParameterValue",
                            "limit must be a whole number from 0 to 9999999.",
                            parameter="limit",
                        )
                    ]
                },
                status_code=400,
            )
        entries = self.journal.query(
            task_type=q.get("taskType"),
            task_uuid=q.get("taskUUID"),
            transport=q.get("transport"),
            limit=int(limit),
        )
        return JSONResponse({"requests": entries, "total": len(self.journal)})

    async def admin_deliveries(self, request: Request) -> Response:
        if (denied := self._admin_denied(request)) is not None:
            return denied
        outcomes = [o.as_dict() for o in self.deliverer.outcomes] if self.deliverer else []
        return JSONResponse({"deliveries": outcomes})

    async def admin_reset(self, request: Request) -> Response:
        if (denied := self._admin_denied(request)) is not None:
            return denied
        self.store.reset()
        self.sessions.clear()
        self.scenarios.reset()
        self.journal.clear()
        self.scheduler.clear()
        return Response(status_code=204)


async def _store_error(request: Request, exc: Exception) -> Response:
    """A store failure on any Starlette route (media, admin), in Runware's error shape."""
    assert isinstance(exc, StoreUnavailable)
    return JSONResponse({"errors": [storage_error(exc)]}, status_code=503)


def _throttled(why: str) -> RunwareError:
    return error("rateLimitExceeded", f"Too many requests on this connection: {why}.")


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 and friends, in Runware's error shape."""
    assert isinstance(exc, HTTPException)
    code = {404: "invalidEndpoint", 405: "invalidRequestMethod"}.get(
        exc.status_code, "invalidRequest"
    )
    message = {404: "No such endpoint.", 405: "Method not allowed here."}.get(
        exc.status_code, str(exc.detail)
    )
    return JSONResponse(
        {"errors": [error(code, message)]}, status_code=exc.status_code, headers=exc.headers
    )


def _bad_request(exc: BadRequest) -> Response:
    # 408/413 leave the body unread: the connection cannot carry another request.
    close = {"connection": "close"} if exc.status in (408, 413) else None
    return JSONResponse({"errors": [exc.error]}, status_code=exc.status, headers=close)


def _not_found(message: str) -> Response:
    return JSONResponse({"errors": [error("taskNotFound", message)]}, status_code=404)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def create_app(config: MockConfig | None = None) -> Starlette:
    """An ASGI app of a fresh mock (its MockServer is ``app.state.mock``)."""
    server = MockServer(config)
    server.app.state.mock = server
    return server.app
