"""Answering one task array, the same for REST and WebSocket: a matching ``respond``
scenario answers instead of the engine, a ``latency`` scenario delays it, and the journal
keeps every exchange. The transports only read, authenticate and send."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from runware_contract.runtime import RunwareError

from .engine import Engine, RequestContext
from .journal import Journal
from .scenarios import Scenarios
from .wire import Reply, error


@dataclass(frozen=True)
class Exchange:
    """One request or frame, as the journal keeps it."""

    transport: str  # rest | websocket
    path: str
    started: float  # time.perf_counter() when it arrived
    raw: bytes | str


@dataclass
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
    ) -> Answer:
        """The answer to ``tasks``, journaled. ``context`` is called after any latency (it
        may raise the transport's BadRequest, which the transport journals)."""
        canned = self.scenarios.respond_for(tasks)
        if canned is not None:
            reply = Reply(errors=canned_errors(tasks, canned.code, canned.message))
            result = Answer(reply, canned.status, canned.retry_after)
        else:
            delay = self.scenarios.latency_for(tasks)
            if delay:
                await asyncio.sleep(delay)
            reply = await self.engine.handle(tasks, context())
            result = Answer(reply, reply.status)
        self.record(exchange, result.status, tasks, result.reply)
        return result

    def record(self, exchange: Exchange, status: int, tasks: Any, reply: Reply) -> None:
        raw = exchange.raw
        codes = [e["code"] for e in reply.all_errors]
        self.journal.record(
            transport=exchange.transport,
            path=exchange.path,
            status=status,
            tasks=tasks,
            error_codes=codes,
            started=exchange.started,
            size=len(raw),
            body=raw,
        )


def canned_errors(tasks: list[Any], code: str, message: str) -> list[RunwareError]:
    """A respond scenario's error, once per task it answers (echoing each task's UUID)."""
    dicts = [t for t in tasks if isinstance(t, dict) and t.get("taskType") != "authentication"]
    return [error(code, message, task=t) for t in dicts] or [error(code, message)]
