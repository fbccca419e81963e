"""Run the mock for tests: on a loopback socket in a thread, or in-process behind respx.

- ``serve(config)``: a real uvicorn server on 127.0.0.1 and a free port, in a thread;
  yields a ``RunningMock`` with its URLs and an httpx client that sends the key.
- ``running_process(cmd, ready)``: a command (``python -m mockserver ...``, or another
  server) as a subprocess, until ``ready()``; stopped with its children afterwards.
- ``respx_router(server)``: a respx router that answers ``https://api.runware.ai`` (REST
  and the media URLs it hands out) from the in-process app, so code under test needs
  no configuration change.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import uvicorn
from anyio.from_thread import BlockingPortal, start_blocking_portal

from .core.config import MockConfig
from .core.models import ModelRegistry
from .http.app import MockServer
from .serving import uvicorn_options

RUNWARE_HOST = "api.runware.ai"


@dataclass
class RunningMock:
    """A mock listening on a loopback port."""

    server: MockServer
    host: str
    port: int
    api_key: str
    client: httpx.Client

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The REST endpoint (POST)."""
        return f"{self.base_url}/v1"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/v1"

    def run(self, tasks: list[dict[str, Any]]) -> httpx.Response:
        """POST tasks to /v1 with the fixture's key."""
        return self.client.post("/v1", json=tasks)

    def arm(self, scenario: dict[str, Any]) -> dict[str, Any]:
        """Arm a scenario through the admin API (with the admin key when the mock has one);
        returns its description."""
        response = self.client.post(
            "/__admin/scenarios", json=scenario, headers=self._admin_headers()
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def reset(self) -> None:
        """Forget every task, scenario, journal entry and pending result
        (``POST /__admin/reset``, with the admin key when the mock has one)."""
        response = self.client.post("/__admin/reset", headers=self._admin_headers())
        response.raise_for_status()

    def _admin_headers(self) -> dict[str, str]:
        key = self.server.config.admin_key or self.api_key
        return {"Authorization": f"Bearer {key}"}


@contextlib.contextmanager
def serve(
    config: MockConfig | None = None,
    *,
    api_key: str = "test-key",
    host: str = "127.0.0.1",
    models: ModelRegistry | None = None,
    **overrides: Any,
) -> Iterator[RunningMock]:
    """Serve a fresh mock on ``host`` and a free port until the block ends (``models``:
    what it serves, default the package's; ``overrides`` override uvicorn.Config's options,
    e.g. ``log_level``)."""
    server = MockServer(config, models)
    options = uvicorn_options(server, **{"log_level": "warning", "lifespan": "on", **overrides})
    uv = uvicorn.Server(uvicorn.Config(server.app, host=host, port=0, **options))
    thread = threading.Thread(target=uv.run, name="runware-mock", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the mock server did not start")
        time.sleep(0.01)
    port = uv.servers[0].sockets[0].getsockname()[1]
    client = httpx.Client(
        base_url=f"http://{host}:{port}", headers={"Authorization": f"Bearer {api_key}"}, timeout=30
    )
    try:
        yield RunningMock(server, host, port, api_key, client)
    finally:
        client.close()
        uv.should_exit = True
        thread.join(timeout=10)
        if thread.is_alive():  # connections still open after 10 s: closed without waiting
            uv.force_exit = True
            thread.join(timeout=10)
        if thread.is_alive():  # a server left running would outlive what it depends on
            raise RuntimeError("the mock server did not stop within 20 s")


def answers_get(url: str) -> Callable[[], bool]:
    """A readiness check: ``GET url`` answers 200."""

    def ready() -> bool:
        with contextlib.suppress(httpx.TransportError):
            return httpx.get(url).status_code == 200
        return False

    return ready


@contextlib.contextmanager
def running_process(
    cmd: Sequence[str],
    ready: Callable[[], bool],
    *,
    cwd: Path | str | None = None,
    timeout: float = 30.0,
    stderr: IO[bytes] | None = None,
    env: Mapping[str, str] | None = None,
    stdout: IO[bytes] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """``cmd`` in its own process group until ``ready()`` holds (RuntimeError if it exits or
    ``timeout`` passes first); afterwards the whole group (``--workers`` children too) gets
    SIGTERM, then SIGKILL if it is still there after 10 s. Its stdout and stderr go to
    ``stdout`` and ``stderr`` (files), else nowhere; ``env`` replaces the environment when
    given."""
    process = subprocess.Popen(
        list(cmd),
        cwd=cwd,
        env=None if env is None else dict(env),
        stdout=subprocess.DEVNULL if stdout is None else stdout,
        stderr=subprocess.DEVNULL if stderr is None else stderr,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[0]} did not become ready")
            time.sleep(0.05)
        yield process
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue


class InProcessMock:
    """A MockServer's app with its lifespan running on a private event-loop thread, so sync
    and async callers alike can reach it through ``handle``."""

    def __init__(self, server: MockServer | None = None) -> None:
        self.server = server or MockServer()
        self._stack = contextlib.ExitStack()
        self.portal: BlockingPortal = self._stack.enter_context(start_blocking_portal())
        self._stack.enter_context(
            self.portal.wrap_async_context_manager(
                self.server.app.router.lifespan_context(self.server.app)
            )
        )
        self._transport = httpx.ASGITransport(app=self.server.app)

    async def _forward(self, request: httpx.Request) -> httpx.Response:
        body = request.content
        inner = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        response = await self._transport.handle_async_request(inner)
        content = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return self.portal.call(self._forward, request)

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> InProcessMock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def respx_router(mock: InProcessMock, host: str = RUNWARE_HOST) -> Any:
    """A respx router sending every request for ``host`` to the in-process mock.

    Use it as a context manager (``with respx_router(mock): ...``) around code that calls
    ``https://api.runware.ai/v1`` with httpx, sync or async.
    """
    import respx

    router = respx.mock(assert_all_called=False)
    router.route(host=host).mock(side_effect=mock.handle)
    return router
