"""Limits on what one client can hold: header time, WebSocket frame rate and unsent output;
and the answer to a request uvicorn cannot parse (Runware's error shape, not text/plain).

uvicorn times out idle keep-alive connections but not a request whose headers never
finish (slowloris); ``http_protocol`` adds that: a connection that has not sent a
request's complete headers within ``header_timeout`` of opening (or of its previous
response) gets a 408 in Runware's error shape and is closed. The body timeout is the
app's (``body.read_body``), since uvicorn has none.

``ws_protocol`` does the same for WebSockets below the app, where uvicorn answers pings by
itself: every frame, control frames included, counts against the frame rate (past it pings
get no pong; at twice it the connection is dropped), and a peer that does not read what it
is sent is not read from either (so it cannot make the server queue replies) and is dropped
once its output has been stuck for ``WRITE_STALL_SECONDS``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame

from ..base import request_log
from ..core.config import MockConfig
from ..core.reply import dumps, error
from .direct import DirectAnswer, DirectPost


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


class HeaderTimeoutProtocol(DirectPost):
    """uvicorn's HTTP protocol with a deadline on request headers (``header_timeout``).

    Module level so ``--workers`` can hand it to worker processes (they pickle the
    config); each worker sets ``header_timeout`` from its own configuration."""

    header_timeout: float = MockConfig.header_timeout_seconds  # http_protocol sets its own
    _header_timer: asyncio.TimerHandle | None = None
    _header_deadline = 0.0  # loop time by which the next request's headers are due
    _waiting_after: object = None  # the request cycle when armed
    # uvicorn's keep-alive timeout, kept the same way: one timer per connection
    _idle_timer: asyncio.TimerHandle | None = None
    _idle_deadline = 0.0  # loop time at which an idle connection is closed
    _idle = False  # no byte has arrived since the last response

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        self._idle = False
        super().data_received(data)

    def on_response_complete(self) -> None:
        """uvicorn's, but its keep-alive timer (a new one after every response, cancelled
        by the next request's first bytes) is one timer per connection, moved on only
        when it fires, as the header deadline's is."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        now = self.loop.time()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        else:
            self._idle = True
            self._idle_deadline = now + self.timeout_keep_alive
            if self._idle_timer is None:
                self._idle_timer = self.loop.call_at(self._idle_deadline, self._idle_due)
        self._arm(now)

    def _idle_due(self) -> None:
        self._idle_timer = None
        if not self._idle:
            return  # a request came: the next response arms it again
        if self.loop.time() < self._idle_deadline:  # another response since: wait the rest
            self._idle_timer = self.loop.call_at(self._idle_deadline, self._idle_due)
        else:
            self.timeout_keep_alive_handler()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self, *args: Any) -> None:
        self._disarm()  # the transport now belongs to the WebSocket protocol
        super().handle_websocket_upgrade(*args)

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers a request it cannot parse in text/plain; Runware's shape instead.
        request_log.line("http", "-", "-", 400, time.perf_counter(), error_codes=["invalidRequest"])
        self.transport.write(
            raw_error_response(
                "400 Bad Request", "invalidRequest", "The HTTP request could not be parsed."
            )
        )
        self.transport.close()

    def _disarm(self) -> None:
        for timer in (self._header_timer, self._idle_timer):
            if timer is not None:
                timer.cancel()
        self._header_timer = self._idle_timer = None

    def _arm(self, now: float | None = None) -> None:
        """Headers are due ``header_timeout`` from now (``now``: the loop's time, if the
        caller has it). Re-armed after every response: the timer already running is kept
        and moved on only when it fires (one timer per connection per timeout, not a new one
        per request)."""
        self._header_deadline = (self.loop.time() if now is None else now) + self.header_timeout
        self._waiting_after = self.cycle
        if self._header_timer is None:
            self._header_timer = self.loop.call_at(self._header_deadline, self._due)

    def _due(self) -> None:
        self._header_timer = None
        if self.loop.time() < self._header_deadline:  # re-armed since: wait the rest
            self._header_timer = self.loop.call_at(self._header_deadline, self._due)
        else:
            self._expire(self._waiting_after)

    def _expire(self, waiting_after: object) -> None:
        # A new request (cycle) since arming means its headers arrived in time.
        if self.cycle is waiting_after and not self.transport.is_closing():
            started = time.perf_counter() - self.header_timeout
            request_log.line("http", "-", "-", 408, started, error_codes=["timeoutRequestHeaders"])
            self.transport.write(
                timeout_response(f"Request headers must arrive within {self.header_timeout} s.")
            )
            self.transport.close()


def http_protocol(
    header_timeout: float, rest: DirectAnswer | None = None
) -> type[HeaderTimeoutProtocol]:
    """The protocol class with its own header deadline, answering a whole ``POST /v1`` with
    ``rest`` (``direct.py``), for servers in one process."""
    return type(
        "HeaderTimeoutProtocol",
        (HeaderTimeoutProtocol,),
        {"header_timeout": header_timeout, "rest": rest},
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

    def tick_count(self) -> int:
        """Frames in the current window, without counting one more."""
        return self._count


log = logging.getLogger("mockserver.limits")
WRITE_STALL_SECONDS = 10.0  # a peer whose output has not drained for this long is dropped
# A dropped connection is half-closed and drained this long before it is cut (lingering close).
LINGER_SECONDS = 2.0


class FrameLimitProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol with the frame rate applied to every frame and
    reading paused while the peer does not drain its output.

    Module level for ``--workers`` (see ``HeaderTimeoutProtocol``)."""

    max_frames_per_second: int = MockConfig.ws_max_frames_per_second  # ws_protocol: its own
    _rate: FrameRate | None = None
    _write_blocked = False
    _stall: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._rate = FrameRate()
        self._lingering = False
        # After the server's close frame the peer has this long to answer it before the
        # connection is cut (uvicorn waits 10 s: a peer that never reads, say one that
        # never authenticated, would hold its descriptor that much longer).
        self.close_timeout = LINGER_SECONDS

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # dropped: what still arrives is read and thrown away, never parsed
        super().data_received(data)

    def _admit(self, control: bool) -> bool:
        """Count one frame; False if the connection is (now) dropped. Data frames past the
        rate are the app's to answer (it sends rateLimitExceeded, then closes 1008); control
        frames, and frames after the app's close, never reach it, so they are judged here."""
        assert self._rate is not None
        if self.transport.is_closing():
            return False
        most = self.max_frames_per_second
        if self._rate.tick() > 2 * most and (control or self.close_sent):
            self._drop(f"over {2 * most} frames per second")
            return False
        return True

    def handle_text(self, event: Frame) -> None:
        if self._admit(control=False):
            super().handle_text(event)

    def handle_bytes(self, event: Frame) -> None:
        if self._admit(control=False):
            super().handle_bytes(event)

    def handle_cont(self, event: Frame) -> None:
        if self._admit(control=False):
            super().handle_cont(event)

    def handle_pong(self, event: Frame) -> None:
        if self._admit(control=True):
            super().handle_pong(event)

    def handle_ping(self) -> None:
        """Pong this ping unless it is past the rate. websockets queues a pong for every ping
        of one read before any is handled here: this ping's is the first; the rest wait for
        their own pings (sending them all at the first would pong pings past the rate)."""
        assert self._rate is not None
        queued = self.conn.data_to_send()
        answered = self._admit(control=True)
        answered = answered and self._rate.tick_count() <= self.max_frames_per_second
        if self._lingering or self.transport.is_closing():
            return  # dropped: nothing more goes out
        self.conn.writes[:0] = queued[1:]
        if answered:
            self.transport.write(b"".join(queued[:1]))

    def pause_writing(self) -> None:
        super().pause_writing()
        self._write_blocked = True
        self.transport.pause_reading()
        self._stall = self.loop.call_later(
            WRITE_STALL_SECONDS, self._drop, f"output unread for {WRITE_STALL_SECONDS} s"
        )

    def resume_writing(self) -> None:
        super().resume_writing()
        self._write_blocked = False
        if self._stall is not None:
            self._stall.cancel()
        if not self.read_paused:
            self.transport.resume_reading()

    async def receive(self) -> Any:
        message = await self.queue.get()
        if self.read_paused and self.queue.empty():
            self.read_paused = False
            if not self._write_blocked:
                self.transport.resume_reading()
        return message

    def connection_lost(self, exc: Exception | None) -> None:
        if self._stall is not None:
            self._stall.cancel()
        super().connection_lost(exc)

    def _drop(self, why: str) -> None:
        """End the connection. A peer that does not read is aborted at once (it would hold a
        graceful close open forever). Otherwise the close frame goes out followed by EOF, and
        what the peer still sends is read and thrown away until it closes, for at most
        LINGER_SECONDS (nginx's lingering close): closing while it is still sending makes the
        kernel answer with a reset, which destroys the close frame before the peer reads it."""
        if self.transport.is_closing() or self._lingering:
            return
        log.warning("WebSocket from %s dropped: %s", self.client, why)
        if self._write_blocked:
            self.transport.abort()
            return
        if not self.close_sent:
            self.conn.fail(1008, "too many frames" if "frames" in why else "output unread")
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.close_sent = True
        self._lingering = True
        self.transport.resume_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.abort)


def ws_protocol(max_frames_per_second: int) -> type[FrameLimitProtocol]:
    """The WebSocket protocol class with its own frame limit (for servers in one process)."""
    return type(
        "FrameLimitProtocol",
        (FrameLimitProtocol,),
        {"max_frames_per_second": max_frames_per_second},
    )
