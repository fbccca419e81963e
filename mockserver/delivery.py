"""Webhook POSTs and upload PUTs, each in its own task, retried with backoff.

A slow or failing receiver never delays anything else: every delivery is a
separate asyncio task with a per-attempt timeout and a bounded number of attempts.
Targets must be loopback addresses (the mock must not become a way to reach other
hosts); a refused or unusable URL is a failed outcome, never an exception.
Outcomes are kept (bounded) for the admin API.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from .engine import dumps


@dataclass
class Outcome:
    kind: str  # webhook | upload
    url: str
    task_uuid: str
    attempts: int
    status: int | None
    ok: bool
    finished: float  # wall clock

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Deliverer:
    def __init__(
        self,
        *,
        attempts: int,
        timeout: float,
        backoff: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self._client = httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, transport=transport
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self.outcomes: deque[Outcome] = deque(maxlen=1000)

    def webhook(self, url: str, task_uuid: str, body: dict[str, Any]) -> None:
        content = dumps(body)
        self._spawn(
            self._deliver(
                "webhook", url, task_uuid, "POST", lambda: _const(content), "application/json"
            )
        )

    def upload(
        self, url: str, task_uuid: str, content: Callable[[], Awaitable[bytes]], content_type: str
    ) -> None:
        self._spawn(self._deliver("upload", url, task_uuid, "PUT", content, content_type))

    def _spawn(self, delivery: Coroutine[Any, Any, None]) -> None:
        """Run a delivery on its own, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(delivery)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self,
        kind: str,
        url: str,
        task_uuid: str,
        method: str,
        content: Callable[[], Awaitable[bytes]],
        content_type: str,
    ) -> None:
        status: int | None = None
        attempt = 0
        if not loopback_target(url):
            self._done(kind, url, task_uuid, 0, None, ok=False)
            return
        body = await content()
        for attempt in range(1, self.attempts + 1):
            try:
                response = await self._client.request(
                    method, url, content=body, headers={"Content-Type": content_type}
                )
                status = response.status_code
                if 200 <= status < 300:
                    self._done(kind, url, task_uuid, attempt, status, ok=True)
                    return
            except httpx.InvalidURL:
                self._done(kind, url, task_uuid, attempt, None, ok=False)
                return
            except httpx.HTTPError:
                status = None
            if attempt < self.attempts:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        self._done(kind, url, task_uuid, attempt, status, ok=False)

    def _done(
        self, kind: str, url: str, task_uuid: str, attempts: int, status: int | None, *, ok: bool
    ) -> None:
        self.outcomes.append(Outcome(kind, url, task_uuid, attempts, status, ok, time.time()))

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for deliveries in flight (tests and shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self._client.aclose()


async def _const(content: bytes) -> bytes:
    return content


def loopback_target(url: str) -> bool:
    """An http(s) URL whose host is localhost or a loopback address."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return False
    if parsed.scheme not in ("http", "https"):
        return False
    host = parsed.host
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
