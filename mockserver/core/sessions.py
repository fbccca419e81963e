"""WebSocket sessions: per process, beside the shared store.

A session outlives its connection for ``session_buffer_seconds`` so a client that reconnects
with its ``connectionSessionUUID`` gets the results pushed meanwhile; a detached session's
buffer holds at most ``session_buffer_max`` frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Session:
    """A WebSocket session; it outlives its connection for a while so results can resume."""

    session_id: str
    api_key: str
    send: Any = None  # async callable(dict) while a connection is attached
    # The attached connection's token and its async close: a connection that resumes the
    # session takes it over, closes the old one, and only the owner may detach it.
    owner: object | None = None
    evict: Any = None
    buffer: list[dict[str, Any]] = field(default_factory=list)
    detached_at: float | None = None
    buffer_max: int = 1000  # frames kept while detached; the oldest go first

    def keep(self, body: dict[str, Any]) -> None:
        """Buffer a frame for a resumed connection, dropping the oldest past ``buffer_max``."""
        self.buffer.append(body)
        if len(self.buffer) > self.buffer_max:
            del self.buffer[: len(self.buffer) - self.buffer_max]


class Sessions(dict[str, Session]):
    """This process's WebSocket sessions by ID. Not shared through the store: a session is
    a live connection (or the frames buffered for its return) in one process."""

    def sweep(self, now: float, keep: float) -> None:
        """Forget sessions detached for longer than ``keep`` seconds."""
        stale = [
            s.session_id
            for s in self.values()
            if s.send is None and s.detached_at is not None and now - s.detached_at > keep
        ]
        for session_id in stale:
            self.pop(session_id, None)
