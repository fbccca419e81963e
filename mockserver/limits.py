"""Limits on what one client can hold: header time, WebSocket frame rate; and the answer
to a request uvicorn cannot parse (Runware's error shape, not uvicorn's text/plain).

uvicorn times out idle keep-alive connections but not a request whose headers never
finish (slowloris); ``http_protocol`` adds that: a connection that has not sent a
request's complete headers within ``header_timeout`` of opening (or of its previous
response) gets a 408 in Runware's error shape and is closed. The body timeout is the
app's (``MockServer._read_body``), since uvicorn has none.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from .engine import dumps, error

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Base
except ImportError:  # pragma: no cover - httptools is optional in uvicorn
    _Base = H11Protocol  # type: ignore[assignment,misc]


def raw_error_response(status: str, code: str, message: str) -> bytes:
    """A raw HTTP/1.1 response (``status`` is "408 Request Timeout") with a Runware error
    body, closing the connection: for answers given before the app sees a request."""
    body = dumps({"errors": [error(code, message)]})
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


def timeout_response(message: str) -> bytes:
    """The 408 for request headers that did not arrive in time."""
    return raw_error_response("408 Request Timeout", "timeoutRequestHeaders", message)


class HeaderTimeoutProtocol(_Base):
    """uvicorn's HTTP protocol with a deadline on request headers (``header_timeout``).

    Module level so ``--workers`` can hand it to worker processes (they pickle the
    config); each worker sets ``header_timeout`` from its own configuration."""

    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self, *args: Any) -> None:
        self._disarm()  # the transport now belongs to the WebSocket protocol
        super().handle_websocket_upgrade(*args)

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers a request it cannot parse in text/plain; Runware's shape instead.
        self.transport.write(
            raw_error_response(
                "400 Bad Request", "invalidRequest", "The HTTP request could not be parsed."
            )
        )
        self.transport.close()

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()

    def _arm(self) -> None:
        self._disarm()
        waiting_after = self.cycle
        self._header_timer = self.loop.call_later(self.header_timeout, self._expire, waiting_after)

    def _expire(self, waiting_after: object) -> None:
        # A new request (cycle) since arming means its headers arrived in time.
        if self.cycle is waiting_after and not self.transport.is_closing():
            self.transport.write(
                timeout_response(f"Request headers must arrive within {self.header_timeout} s.")
            )
            self.transport.close()


def http_protocol(header_timeout: float) -> type[asyncio.Protocol]:
    """The protocol class with its own header deadline (for servers in one process)."""
    return type(
        "HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout": header_timeout}
    )


class FrameRate:
    """How many frames arrived in the current one-second window."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._window = clock()
        self._count = 0

    def tick(self) -> int:
        now = self._clock()
        if now - self._window >= 1.0:
            self._window, self._count = now, 0
        self._count += 1
        return self._count
