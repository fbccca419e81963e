"""Webhook POSTs and upload PUTs, each in its own task, retried with backoff.

A slow or failing receiver never delays anything else: every delivery is a
separate asyncio task with a per-attempt timeout and a bounded number of attempts.
Targets must pass the delivery allowlist (``targets.py``; loopback by default), so
the mock cannot be used to reach other hosts; a refused or unusable URL is a failed
outcome with its reason and is never contacted. Redirects are not followed: a 3xx
answer is a failed delivery (its target was never checked). 5xx answers, refused
connections and timeouts are retried. Outcomes are kept (bounded) for the admin API.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from .engine import dumps
from .targets import LOOPBACK, Allowlist, Refused, Resolver, check, system_resolve


@dataclass
class Outcome:
    kind: str  # webhook | upload
    url: str
    task_uuid: str
    attempts: int
    status: int | None
    ok: bool
    finished: float  # wall clock
    reason: str | None = None  # why it failed, when it did

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Deliverer:
    def __init__(
        self,
        *,
        attempts: int,
        timeout: float,
        backoff: float,
        allow: Allowlist | None = None,
        resolve: Resolver = system_resolve,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.timeout = timeout
        self.allow = allow or Allowlist.parse(LOOPBACK)
        self.resolve = resolve
        # No pool limit: a receiver that hangs holds its own connection, never a pool slot
        # another delivery waits for.
        self._client = httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=20),
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
        try:
            target = await check(url, self.allow, self.resolve)
        except Refused as refused:
            self._done(kind, url, task_uuid, 0, None, ok=False, reason=str(refused))
            return
        body = await content()
        headers = {"Content-Type": content_type, "Host": target.host_header}
        extensions = {"sni_hostname": target.server_name}
        status: int | None = None
        reason: str | None = None
        attempt = 0
        for attempt in range(1, self.attempts + 1):
            try:
                async with asyncio.timeout(self.timeout):  # the whole attempt, not each read
                    response = await self._client.request(
                        method, target.url, content=body, headers=headers, extensions=extensions
                    )
                status = response.status_code
                if 200 <= status < 300:
                    self._done(kind, url, task_uuid, attempt, status, ok=True)
                    return
                if 300 <= status < 400:
                    reason = "redirects are not followed"
                    break
                reason = f"answered {status}"
            except TimeoutError:
                status, reason = None, f"no answer within {self.timeout} s"
            except httpx.HTTPError as exc:
                status, reason = None, type(exc).__name__
            if attempt < self.attempts:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        self._done(kind, url, task_uuid, attempt, status, ok=False, reason=reason)

    def _done(
        self,
        kind: str,
        url: str,
        task_uuid: str,
        attempts: int,
        status: int | None,
        *,
        ok: bool,
        reason: str | None = None,
    ) -> None:
        outcome = Outcome(kind, url, task_uuid, attempts, status, ok, time.time(), reason)
        self.outcomes.append(outcome)

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
