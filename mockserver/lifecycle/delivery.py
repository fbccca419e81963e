"""Webhook POSTs and upload PUTs: a bounded queue, a fixed set of senders, per-host limits.

A completion hands its deliveries to ``Deliverer.webhook``/``upload`` and returns at once;
nothing here ever delays a request. ``senders`` supervised tasks take deliveries off one
queue and make one attempt each, over one connection pool with exactly ``senders``
connections: a request never waits for a pool slot, so the per-attempt timeout measures
the receiver alone (an unbounded pool spent that time scheduling its own queue, timed out
requests the receiver had already taken, and retried them: the duplicates). At most
``per_host`` attempts go to one host at a time; a delivery for a busy host waits in that
host's line without holding a sender, so a hanging receiver slows only itself.

Bounded memory: at most ``max_pending`` deliveries exist at once (queued, in flight or
waiting to retry); one more is refused, recorded in ``outcomes`` with the reason
"delivery queue full" and logged, never queued. Retries (5xx, refused connections,
timeouts) wait their doubling backoff in a timer, not in a sender. Targets must pass the
delivery allowlist (``targets.py``; loopback by default), so the mock cannot reach other
hosts; a refused or unusable URL is a failed outcome with its reason and is never
contacted. Redirects are not followed: a 3xx is a failed delivery (its target was never
checked). Outcomes are kept (the last 1000) for the admin API.

Every attempt is logged (``mockserver.delivery``): one line with the kind, the URL (its
query and user info redacted: presigned upload URLs carry their signature there), the
task, the attempt number, the status or the reason, and what happens next (``ok``,
``retry`` with the wait, ``failed``); a refused target is one ``refused`` line with the
reason, a dropped delivery a ``dropped`` line. Success is info, the rest warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..base.logs import FIELDS
from ..base.security import redact_url
from ..core.config import LOOPBACK
from ..core.journal import iso_utc
from ..core.reply import dumps
from .supervise import cancelled, supervised
from .targets import Allowlist, Refused, Resolver, Target, check, system_resolve

log = logging.getLogger("mockserver.delivery")
Done = Callable[[], None]


@dataclass
class Outcome:
    kind: str  # webhook | upload
    url: str
    task_uuid: str
    attempts: int
    status: int | None
    ok: bool
    finished: float  # wall clock, seconds since the epoch
    reason: str | None = None  # why it failed, when it did

    def as_dict(self) -> dict[str, Any]:
        """The outcome as the admin API lists it: camelCase, ``finished`` in ISO 8601 (as the
        journal), the URL as the logs show it (no query or credentials)."""
        return {
            "kind": self.kind,
            "url": redact_url(self.url),
            "taskUUID": self.task_uuid,
            "attempts": self.attempts,
            "status": self.status,
            "ok": self.ok,
            "finished": iso_utc(self.finished),
            "reason": self.reason,
        }


@dataclass(eq=False)
class Delivery:
    """One webhook or upload, from its first attempt to its outcome."""

    kind: str
    url: str
    task_uuid: str
    method: str
    content: Callable[[], Awaitable[bytes]]
    content_type: str
    host: str  # the per-host limit's key: the URL's host and port as given
    target: Target | None = None  # checked on the first attempt
    attempt: int = 0
    status: int | None = None
    reason: str | None = None
    done: Done | None = None  # called once with the outcome (completion.py marks it done)


@dataclass
class _Host:
    active: int = 0
    waiting: deque[Delivery] = field(default_factory=deque)


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
        senders: int = 16,
        per_host: int = 8,
        max_pending: int = 10_000,
    ) -> None:
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.timeout = timeout
        self.allow = allow or Allowlist.parse(LOOPBACK)
        self.resolve = resolve
        self.senders = max(1, senders)
        self.per_host = max(1, per_host)
        self.max_pending = max(1, max_pending)
        # One connection per sender: no attempt ever queues for a connection, and
        # connections are reused (keep-alive) across deliveries to the same receiver.
        self._client = httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
            limits=httpx.Limits(
                max_connections=self.senders, max_keepalive_connections=self.senders
            ),
        )
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue()  # bounded by max_pending
        self._hosts: dict[str, _Host] = {}
        self._pending = 0  # deliveries not yet finished: queued, in flight, retrying
        self._idle = asyncio.Event()
        self._idle.set()
        self._workers: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.Task[None]] = set()
        self.dropped = 0
        self._drop_logged = 0.0
        self.outcomes: deque[Outcome] = deque(maxlen=1000)
        # every attempt (the last 1000), for the dashboard: kind, redacted URL, task, attempt,
        # status, verdict (ok, retry, failed, refused), reason, retry wait, time
        self.attempt_log: deque[dict[str, Any]] = deque(maxlen=1000)
        self.attempts_made = 0

    @property
    def pending(self) -> int:
        return self._pending

    def webhook(
        self, url: str, task_uuid: str, body: dict[str, Any], done: Done | None = None
    ) -> None:
        """Queue a webhook POST; ``done`` is called once it has an outcome (or is dropped)."""
        content = dumps(body)
        self._submit("webhook", url, task_uuid, "POST", lambda: _const(content), JSON, done)

    def upload(
        self,
        url: str,
        task_uuid: str,
        content: Callable[[], Awaitable[bytes]],
        content_type: str,
        done: Done | None = None,
    ) -> None:
        self._submit("upload", url, task_uuid, "PUT", content, content_type, done)

    def _submit(
        self,
        kind: str,
        url: str,
        task_uuid: str,
        method: str,
        content: Callable[[], Awaitable[bytes]],
        content_type: str,
        done: Done | None = None,
    ) -> None:
        if self._pending >= self.max_pending:
            self._drop(kind, url, task_uuid)
            if done is not None:
                done()
            return
        if not self._workers:
            self._workers = [
                supervised(f"delivery sender {i}", self._send_next) for i in range(self.senders)
            ]
        host = _host_key(url)
        self._pending += 1
        self._idle.clear()
        delivery = Delivery(kind, url, task_uuid, method, content, content_type, host, done=done)
        self._queue.put_nowait(delivery)

    def _drop(self, kind: str, url: str, task_uuid: str) -> None:
        self.dropped += 1
        reason = f"delivery queue full ({self.max_pending} pending); not sent"
        self.outcomes.append(Outcome(kind, url, task_uuid, 0, None, False, time.time(), reason))
        now = time.monotonic()
        if now - self._drop_logged >= 1.0:  # one line a second, with the running count
            self._drop_logged = now
            fields = {"event": "delivery", "kind": kind, "url": redact_url(url),
                      "taskUUID": task_uuid, "outcome": "dropped", "reason": reason,
                      "dropped": self.dropped}  # fmt: skip
            log.warning("%s %s for task %s dropped: %s (%d dropped so far)",
                        kind, redact_url(url), task_uuid, reason, self.dropped,
                        extra={FIELDS: fields})  # fmt: skip

    async def _send_next(self) -> None:
        """One sender's step: take a delivery and make one attempt, unless its host is busy."""
        delivery = await self._queue.get()
        host = self._hosts.setdefault(delivery.host, _Host())
        if host.active >= self.per_host:
            host.waiting.append(delivery)  # released by the attempt that frees a slot
            return
        host.active += 1
        started = time.perf_counter()
        try:
            verdict = await self._attempt(delivery)
        except Exception as exc:  # a bug or a vanished video: this delivery's failure only
            log.exception("%s for task %s failed", delivery.kind, delivery.task_uuid)
            delivery.reason, verdict = f"{type(exc).__name__}: {exc}", "failed"
        finally:
            host.active -= 1
            if host.waiting:
                self._queue.put_nowait(host.waiting.popleft())
            elif not host.active:
                del self._hosts[delivery.host]
        self._log(delivery, verdict, started)
        self._note(delivery, verdict, started)
        if verdict == "refused":
            verdict = "failed"
        if verdict == "retry":
            timer = asyncio.get_running_loop().create_task(self._retry_later(delivery))
            self._timers.add(timer)
            timer.add_done_callback(self._timers.discard)
        else:
            self._finish(delivery, ok=verdict == "ok")

    async def _attempt(self, delivery: Delivery) -> str:
        """One attempt: "ok", "retry", "failed", or "refused" when the target may not be
        contacted (the reason is on ``delivery``)."""
        if delivery.target is None:
            try:
                delivery.target = await check(delivery.url, self.allow, self.resolve)
            except Refused as refused:
                delivery.reason = str(refused)
                return "refused"
        target = delivery.target
        delivery.attempt += 1
        body = await delivery.content()
        headers = {"Content-Type": delivery.content_type, "Host": target.host_header}
        try:
            async with asyncio.timeout(self.timeout):  # the whole attempt, not each read
                response = await self._client.request(
                    delivery.method,
                    target.url,
                    content=body,
                    headers=headers,
                    extensions={"sni_hostname": target.server_name},
                )
            delivery.status = response.status_code
            if 200 <= delivery.status < 300:
                return "ok"
            if 300 <= delivery.status < 400:
                delivery.reason = "redirects are not followed"
                return "failed"
            delivery.reason = f"answered {delivery.status}"
        except TimeoutError:
            delivery.status, delivery.reason = None, f"no answer within {self.timeout} s"
        except httpx.HTTPError as exc:
            delivery.status, delivery.reason = None, type(exc).__name__
        return "retry" if delivery.attempt < self.attempts else "failed"

    def _log(self, delivery: Delivery, verdict: str, started: float) -> None:
        """One line for one attempt (or refusal) and what comes next."""
        ok = verdict == "ok"
        if not log.isEnabledFor(logging.INFO if ok else logging.WARNING):
            return
        url = redact_url(delivery.url)
        ms = round((time.perf_counter() - started) * 1000, 2)
        wait = self._wait(delivery) if verdict == "retry" else None
        what = {
            "ok": f"answered {delivery.status}",
            "retry": f"{delivery.reason}; again in {wait} s",
            "failed": f"{delivery.reason}; giving up",
            "refused": f"refused, not contacted: {delivery.reason}",
        }[verdict]
        tries = f"attempt {delivery.attempt}/{self.attempts}"
        fields = {
            "event": "delivery",
            "kind": delivery.kind,
            "method": delivery.method,
            "url": url,
            "taskUUID": delivery.task_uuid,
            "attempt": delivery.attempt,
            "attempts": self.attempts,
            "status": delivery.status,
            "outcome": verdict,
            "reason": None if ok else delivery.reason,
            "retryIn": wait,
            "ms": ms,
        }
        log.log(
            logging.INFO if ok else logging.WARNING,
            "%s %s %s for task %s, %s: %s (%s ms)",
            delivery.kind, delivery.method, url, delivery.task_uuid, tries, what, ms,
            extra={FIELDS: fields},
        )  # fmt: skip

    def _note(self, delivery: Delivery, verdict: str, started: float) -> None:
        """Keep one attempt (or refusal) in ``attempt_log``."""
        self.attempts_made += 1
        self.attempt_log.append(
            {
                "kind": delivery.kind,
                "method": delivery.method,
                "url": redact_url(delivery.url),
                "taskUUID": delivery.task_uuid,
                "attempt": delivery.attempt,
                "attempts": self.attempts,
                "status": delivery.status,
                "outcome": verdict,
                "reason": None if verdict == "ok" else delivery.reason,
                "retryIn": self._wait(delivery) if verdict == "retry" else None,
                "ms": round((time.perf_counter() - started) * 1000, 2),
                "time": iso_utc(time.time()),
            }
        )

    def _wait(self, delivery: Delivery) -> float:
        """The backoff before the attempt after ``delivery.attempt``."""
        return float(self.backoff * 2 ** (delivery.attempt - 1))

    async def _retry_later(self, delivery: Delivery) -> None:
        """Wait the backoff (holding no sender), then queue the next attempt."""
        try:
            await asyncio.sleep(self._wait(delivery))
        except asyncio.CancelledError:
            self._finish(delivery, ok=False)
            raise
        self._queue.put_nowait(delivery)

    def _finish(self, delivery: Delivery, *, ok: bool) -> None:
        outcome = Outcome(
            delivery.kind,
            delivery.url,
            delivery.task_uuid,
            delivery.attempt,
            delivery.status,
            ok,
            time.time(),
            None if ok else delivery.reason,
        )
        self.outcomes.append(outcome)
        if delivery.done is not None:
            delivery.done()
        self._pending -= 1
        if not self._pending:
            self._idle.set()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every delivery has an outcome (tests and shutdown)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._idle.wait()

    async def close(self) -> None:
        await cancelled(*self._workers, *self._timers)
        self._workers = []
        await self._client.aclose()


JSON = "application/json"


def _host_key(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return ""
    return f"{parsed.host}:{parsed.port or ''}".lower()


async def _const(content: bytes) -> bytes:
    return content
