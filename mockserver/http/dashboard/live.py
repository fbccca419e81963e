"""The dashboard's live stream: Server-Sent Events telling an open page what changed.

A stream carries no data a client sent, only counters: every ``TICK`` seconds it compares
what the views show (the journal's latest entry, tasks accepted and settled, delivery
attempts and outcomes, the armed scenarios and their use) with what it last said, and sends
one ``change`` event naming the views to fetch again; every ``HEALTH_EVERY`` seconds it
sends ``health``. Nothing is queued per client: what a stream holds is its last counters,
so a slow client slows only its own stream (the send waits on the socket), and 100 changes a
second cost one event a tick. Recording a request costs nothing more with a page open (the
stream polls; nothing is pushed from the request path). At most ``MAX_STREAMS`` streams are
open at once (503 beyond); each ends after ``STREAM_SECONDS`` (the browser reconnects at
once), so a server shutting down waits for none for long.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from ..state import ServerState
    from .tasks import TaskBoard

TICK = 0.25
HEALTH_EVERY = 2.0
MAX_STREAMS = 16
STREAM_SECONDS = 15.0


def counters(server: ServerState, board: TaskBoard) -> dict[str, Any]:
    """What each view shows, as values that change when the view would."""
    deliverer = server.deliverer
    outcomes = deliverer.outcomes if deliverer else None
    return {
        "requests": server.journal.last_id,
        "tasks": (board.added, board.settled()),
        "deliveries": (
            deliverer.attempts_made if deliverer else 0,
            id(outcomes[-1]) if outcomes else 0,
            deliverer.dropped if deliverer else 0,
        ),
        "scenarios": tuple((s.id, s.used) for s in server.scenarios.items),
    }


class Streams:
    """The open live streams of one server."""

    def __init__(self, server: ServerState, board: TaskBoard) -> None:
        self.server = server
        self.board = board
        self.open = 0

    def full(self) -> bool:
        return self.open >= MAX_STREAMS

    async def events(self) -> AsyncIterator[bytes]:
        """One client's stream (the caller checked ``full`` first)."""
        self.open += 1
        try:
            yield b"retry: 500\n\n"
            last: dict[str, Any] = {}
            started = time.monotonic()
            health_at = 0.0
            while time.monotonic() - started < STREAM_SECONDS:
                now = counters(self.server, self.board)
                changed = [view for view, value in now.items() if last.get(view) != value]
                last = now
                if changed:
                    data = orjson.dumps({"views": changed, "lastRequest": now["requests"]})
                    yield b"event: change\ndata: " + data + b"\n\n"
                if time.monotonic() >= health_at:
                    health_at = time.monotonic() + HEALTH_EVERY
                    yield b"event: health\ndata: {}\n\n"
                await asyncio.sleep(TICK)
        finally:
            self.open -= 1
