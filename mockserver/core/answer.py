"""Answering one task array, the same for REST and WebSocket: a matching ``respond``
scenario answers instead of the engine, a ``latency`` scenario delays it, and the journal
keeps every exchange and logs it (``request_log``). The transports only read, authenticate
and send."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from runware_contract.runtime import RunwareError

from ..base import request_log
from .engine import Engine, RequestContext
from .journal import Journal
from .reply import Reply, error
from .scenarios import Scenarios
from .task_types import may_wait


class MustWait(Exception):
    """``answer(wait=False)`` was given tasks whose answer may wait (a task delivered sync,
    an inline render): nothing was done; answer them with ``wait``."""


class Exchange(NamedTuple):
    """One request or frame, as the journal keeps it (a tuple: made on every request)."""

    transport: str  # rest | websocket
    path: str
    started: float  # time.perf_counter() when it arrived
    raw: bytes | str


@dataclass(slots=True)
class Answer:
    reply: Reply
    status: int
    retry_after: float | None = None  # a respond scenario's Retry-After


class Answering:
    """Scenarios, latency, the engine and the journal, in that order, for each request."""

    def __init__(self, engine: Engine, scenarios: Scenarios, journal: Journal) -> None:
        self.engine = engine
        self.scenarios = scenarios
        self.journal = journal

    async def answer(
        self,
        tasks: list[Any],
        context: Callable[[], RequestContext],
        exchange: Exchange,
        *,
        wait: bool = True,
    ) -> Answer:
        """The answer to ``tasks``, journaled. ``context`` is called after any latency (it
        may raise the transport's BadRequest, which the transport journals). With ``wait``
        false no latency scenario applies and nothing here suspends: the HTTP protocol's
        direct path (``direct.py``) runs it to the end at once, having seen ``may_wait``
        false; tasks whose answer may wait raise ``MustWait`` then, before anything is done."""
        if not wait and may_wait(tasks):
            raise MustWait
        canned = self.scenarios.respond_for(tasks)
        if canned is not None:
            reply = Reply(errors=canned_errors(tasks, canned.code, canned.message))
            result = Answer(reply, canned.status, canned.retry_after)
        else:
            delay = self.scenarios.latency_for(tasks) if wait else 0.0
            if delay:
                await asyncio.sleep(delay)
            reply = await self.engine.handle(tasks, context())
            result = Answer(reply, reply.status)
        self.record(exchange, result.status, tasks, result.reply)
        return result

    def may_wait(self) -> bool:
        """Whether a latency scenario is armed: only then can ``answer`` wait."""
        items = self.scenarios.items  # asked on every direct POST: mostly none armed
        return bool(items) and any(s.action == "latency" for s in items)

    def record(self, exchange: Exchange, status: int, tasks: Any, reply: Reply) -> None:
        raw = exchange.raw
        codes = [e["code"] for e in reply.all_errors]
        # positional: on every request (transport, path, status, tasks, error_codes,
        # started, size, body, reply)
        self.journal.record(
            exchange.transport, exchange.path, status, tasks, codes, exchange.started, len(raw),
            raw, reply,
        )  # fmt: skip
        method = "POST" if exchange.transport == "rest" else "FRAME"
        request_log.line(exchange.transport, method, exchange.path, status, exchange.started,
                         tasks, codes)  # fmt: skip


def canned_errors(tasks: list[Any], code: str, message: str) -> list[RunwareError]:
    """A respond scenario's error, once per task it answers (echoing each task's UUID)."""
    dicts = [t for t in tasks if isinstance(t, dict) and t.get("taskType") != "authentication"]
    return [error(code, message, task=t) for t in dicts] or [error(code, message)]
