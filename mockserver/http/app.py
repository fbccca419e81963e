"""The ASGI application, wired: REST and WebSocket on /v1, media, health, OpenAPI, admin API.

``create_app(config)`` returns a Starlette app; ``MockServer`` holds its state, so tests and
the pytest plugin can reach the store, the journal and the scheduler. The behaviour is in
the modules this wires: ``rest``, ``websocket``, ``media_routes``, ``admin`` (transports),
``answer`` (scenarios, latency, journal), ``engine``, ``completion`` and ``store``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from ..base import request_log
from ..base.security import redact_logs
from ..core.answer import Answering
from ..core.config import MockConfig
from ..core.engine import Engine
from ..core.journal import Journal
from ..core.models import ModelRegistry
from ..core.scenarios import Scenarios
from ..core.sessions import Sessions
from ..lifecycle.completion import Completion
from ..lifecycle.delivery import Deliverer
from ..lifecycle.relay import LocalRelay, RedisRelay, Relay
from ..lifecycle.scheduler import Scheduler
from ..lifecycle.supervise import LagMonitor, Repeated, backoff, supervised
from ..lifecycle.targets import Allowlist
from ..media.files import MediaFiles
from ..media.images import ImageFiles
from ..media.rendering import VideoFiles
from ..store import Limits, StoreUnavailable, open_store
from .admin import Admin
from .dashboard import Dashboard
from .media_routes import MediaRoutes
from .responses import http_error, store_failed, wrong_method
from .rest import Rest
from .websocket import WebSocketTransport

# A process recovering unclaimed completions waits this long past their due time, so that
# a live worker holding the task's WebSocket session claims (and pushes) it first.
RECOVERY_GRACE = 1.0
DUE_POLL_SECONDS = 0.25  # how often a process polls a shared schedule (the Redis store)
log = logging.getLogger("mockserver")


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
        else:  # media, admin, health, OpenAPI, unknown paths: one log line each
            await request_log.http(super().__call__, scope, receive, send)


class MockServer:
    """State of one mock instance, and the app over it."""

    def __init__(
        self, config: MockConfig | None = None, models: ModelRegistry | None = None
    ) -> None:
        given = config or MockConfig()
        # the models served: the package's unless a registry is given (--spec, --page)
        self.registry = models if models is not None else ModelRegistry()
        redact_logs()
        self.store = open_store(
            given.store,
            Limits(
                max_tasks=given.max_tasks,
                max_results=given.max_results,
                max_result_bytes=given.max_result_bytes,
                max_images=given.max_images,
            ),
            clock=given.clock,
            timeout=given.store_timeout_seconds,
        )
        # This server's own copy of the config (the caller's is left as it was): the
        # lifespan puts the store's shared secret in it.
        self.config = dataclasses.replace(given)
        self.sessions = Sessions()  # this process's WebSocket sessions
        self.relay: Relay = LocalRelay(self.sessions)
        if self.store.shared_schedule:  # only the Redis store (imported only when used)
            from ..store.redis import FAILURES, RedisStore

            assert isinstance(self.store, RedisStore)
            self.relay = RedisRelay(
                self.store.client,
                self.sessions,
                self.config.session_buffer_seconds,
                self.config.session_buffer_max,
                self.store.slots,
                FAILURES,
            )
        self.scenarios = Scenarios(seed=self.config.seed)
        self.journal = Journal(self.config.journal_size)
        self.videos = VideoFiles(self.config.video_cache_bytes, self.config.render_queue)
        self.media = MediaFiles(
            self.videos, ImageFiles(self.config.image_cache_bytes, self.config.image_render_queue)
        )
        self.engine = Engine(self.config, self.store, self.scenarios, self.registry, self.media)
        self.answering = Answering(self.engine, self.scenarios, self.journal)
        self.scheduler = Scheduler(self.config.clock)
        self.completion = Completion(
            self.config, self.store, self.scheduler, self.relay, self.media
        )
        self.lag = LagMonitor()
        self._poll_failures = 0
        self._poll_log = Repeated(log, 10.0)
        self.engine.on_accept.append(self.completion.schedule)
        media, admin = MediaRoutes(self), Admin(self)
        self.dashboard = Dashboard(self)
        self.rest = Rest(self)  # POST /v1, also answered by the HTTP protocol (direct.py)
        self.app = _MockApp(
            fast_post=self.rest,
            routes=[
                Route("/v1", wrong_method, methods=["GET", "PUT", "PATCH", "DELETE", "OPTIONS"]),
                WebSocketRoute("/v1", WebSocketTransport(self).handle),
                Route("/", media.index, methods=["GET"]),
                Route("/health", media.health, methods=["GET"]),
                Route("/openapi.json", media.openapi, methods=["GET"]),
                Route("/video/{name}", media.video, methods=["GET", "HEAD"]),
                Route("/video/{sig}/{owner}/{name}", media.video, methods=["GET", "HEAD"]),
                Route("/image/{uuid}", media.image, methods=["GET", "HEAD"]),
                Route("/image/{sig}/{uuid}", media.image, methods=["GET", "HEAD"]),
                Route("/image/{sig}/{owner}/{name}", media.image, methods=["GET", "HEAD"]),
                *admin.routes(),
                *self.dashboard.routes(),
            ],
            lifespan=self.lifespan,
            exception_handlers={HTTPException: http_error, StoreUnavailable: store_failed},
        )
        self.app.router.redirect_slashes = False  # an API: unknown paths are 404, not 307

    @property
    def deliverer(self) -> Deliverer | None:
        """Webhook and upload delivery, while the app runs."""
        return self.completion.deliverer

    @property
    def models(self) -> list[str]:
        return self.registry.names

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        deliverer = self.completion.deliverer = Deliverer(
            attempts=self.config.webhook_attempts,
            timeout=self.config.webhook_timeout_seconds,
            backoff=self.config.webhook_backoff_seconds,
            allow=Allowlist.parse(self.config.delivery_allow),
        )
        await self.store.open()
        # Signed media URLs and owner tags must agree in every process, on every host and
        # after a restart: the first secret stored is everyone's.
        secret = await self.store.shared_secret("media", self.config.media_secret)
        self.config.media_secret = secret
        self.scheduler.start()
        self.relay.start()
        for record in await self.store.pending_completions():  # from before a restart, or
            self.completion.schedule(record, grace=RECOVERY_GRACE)  # a worker's: it claims
        loops = [supervised("sweep", self._sweep), supervised("loop lag", self.lag.step)]
        if self.store.shared_schedule:
            loops.append(supervised("due completions", self._poll_due))
        try:
            yield
        finally:
            for loop in loops:
                loop.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await self.scheduler.stop()
            await self.relay.stop()
            await deliverer.close()
            self.media.close()
            await self.store.close()

    async def _sweep(self) -> None:
        await asyncio.sleep(self.config.sweep_seconds)
        now = self.config.clock()
        self.sessions.sweep(now, self.config.session_buffer_seconds)
        try:
            await self.store.sweep(now)
        except StoreUnavailable as exc:  # one line; the next sweep tries again
            log.warning("sweep: storage unavailable: %s", exc)

    async def _poll_due(self) -> None:
        """The shared schedule: completions due (past the accepting process's own timer, or
        an expired lease) are claimed here too, so a task whose process died completes.
        While the store fails, the poll backs off and logs once per interval."""
        await asyncio.sleep(DUE_POLL_SECONDS)
        try:
            due = await self.store.pending_completions(self.config.clock() - RECOVERY_GRACE)
        except StoreUnavailable as exc:
            self._poll_failures += 1
            self._poll_log.warning("due completions: storage unavailable: %s", exc)
            await asyncio.sleep(backoff(self._poll_failures))
            return
        self._poll_failures = 0
        for record in due:
            self.completion.schedule(record)  # (not again if this process has it already)

    async def reset(self) -> None:
        """Forget every task, session, scenario, journal entry and pending completion."""
        await self.store.reset()
        self.sessions.clear()
        self.scenarios.reset()
        self.journal.clear()
        self.scheduler.clear()
        self.dashboard.board.clear()


def create_app(config: MockConfig | None = None) -> Starlette:
    """An ASGI app of a fresh mock (its MockServer is ``app.state.mock``)."""
    server = MockServer(config)
    server.app.state.mock = server
    return server.app
