"""``POST /v1`` answered inside the HTTP protocol when the whole request came in one read.

uvicorn hands every request to the ASGI app as a task: a cycle object, an event, receive
and send messages, and two socket writes (status line and headers, then the body). On the
hot path that machinery costs more than the mock's own work. ``DirectPost`` answers a
``POST /v1`` whose headers and whole body arrived together by calling ``Rest.answer_now``
(the same parsing, authentication, answer and journal as the ASGI path, in ``rest.py``) and
writes the response at once, in one write.

Everything else goes to the ASGI app exactly as before, with what was held back handed on:
a body still arriving (the app's body timeout and size limit then apply), no or a too large
Content-Length, a chunked body, ``Expect`` (100-continue), forwarded headers (uvicorn's proxy
middleware reads them), a request pipelined behind one still being answered, a client not
reading its responses (the ASGI path waits for it), a content type that is not JSON, and
any request while a latency scenario is armed (only the ASGI path can wait).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from ..core.config import MockConfig

log = logging.getLogger("uvicorn.error")


class _Configured(Protocol):
    @property
    def config(self) -> MockConfig: ...


class DirectAnswer(Protocol):
    """What the protocol calls to answer a whole ``POST /v1`` itself: ``http.rest.Rest``
    (typed here so this layer never imports the one above it)."""

    @property
    def server(self) -> _Configured: ...

    def direct_ok(self, headers: dict[str, str]) -> bool: ...

    def answer_now(
        self, scope: Any, headers: dict[str, str], raw: bytes, started: float
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None: ...


# Headers that send a request the ASGI way: body framing the app must see through,
# a client waiting for 100 Continue, and what uvicorn's proxy-headers middleware rewrites.
ASGI_ONLY = frozenset(
    {b"transfer-encoding", b"expect", b"x-forwarded-for", b"x-forwarded-proto", b"forwarded"}
)
INTERNAL_ERROR = (
    b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 21\r\nconnection: close\r\n\r\nInternal Server Error"
)


class DirectPost(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering a whole ``POST /v1`` itself (see above).
    ``rest`` is the server's; None leaves every request to the ASGI app."""

    rest: DirectAnswer | None = None
    _held: list[bytes] | None = None  # body parts of a request that may be answered here
    _held_headers: dict[str, str]
    _started = 0.0

    def on_message_begin(self) -> None:
        """uvicorn's, but the ASGI scope (a dict of nine entries and a copy of the app
        state) is built only for a request that goes the ASGI way (``_asgi``)."""
        self.url = b""
        self.expect_100_continue = False
        self.headers = []

    def _asgi(self) -> None:
        """uvicorn's ``on_headers_complete``, after its ``on_message_begin`` made the scope
        late, around what the parser gathered since."""
        url, headers, expect = self.url, self.headers, self.expect_100_continue
        super().on_message_begin()
        self.url, self.expect_100_continue = url, expect
        self.headers.extend(headers)  # the scope holds this list
        super().on_headers_complete()

    def on_headers_complete(self) -> None:
        if self.rest is None or not self._direct(self.rest):
            self._asgi()
            return
        self._held = []

    def on_body(self, body: bytes) -> None:
        if self._held is None:
            super().on_body(body)
        else:
            self._held.append(body)  # at most Content-Length bytes, checked against the limit

    def on_message_complete(self) -> None:
        if self._held is None:
            super().on_message_complete()
        else:
            self._answer()

    def data_received(self, data: bytes) -> None:
        # uvicorn's, without its keep-alive handle (limits.py keeps that timer its own way)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        if self._held is not None:  # the body is still on its way: the ASGI app reads it
            self._release()

    def _direct(self, rest: DirectAnswer) -> bool:
        """Whether the request whose headers just ended may be answered here."""
        parser = self.parser
        if self.url != b"/v1" or parser.get_method() != b"POST" or parser.should_upgrade():
            return False
        if self.cycle is not None and not self.cycle.response_complete:
            return False  # pipelined behind a request still being answered: keep the order
        if self.flow.write_paused or self.transport.is_closing():
            return False
        length: bytes | None = None
        headers: dict[str, str] = {}  # as rest.header_map makes them, in the same pass
        for name, value in self.headers:
            if name == b"content-length":
                if length is not None:
                    return False
                length = value
            elif name in ASGI_ONLY:
                return False
            headers[name.decode("latin-1")] = value.decode("latin-1")  # every one, length too
        limit = rest.server.config.max_body_bytes
        if length is None or not length.isdigit() or int(length) > limit:
            return False
        if not rest.direct_ok(headers):
            return False
        self._held_headers = headers
        self._started = time.perf_counter()
        return True

    def _release(self) -> None:
        """Hand the held request to uvicorn's own path (a cycle and an ASGI task)."""
        held, self._held = self._held or [], None
        if self.transport.is_closing():
            return
        self._asgi()
        for part in held:
            super().on_body(part)

    def _answer(self) -> None:
        held, self._held = self._held or [], None
        assert self.rest is not None
        version = self.parser.get_http_version()
        scope = {  # what the REST answer reads of a scope (``_release`` makes uvicorn's)
            "type": "http", "method": "POST", "path": "/v1", "headers": self.headers,
            "server": self.server, "scheme": self.scheme, "http_version": version,
        }  # fmt: skip
        try:
            framed = self.rest.answer_now(scope, self._held_headers, b"".join(held), self._started)
        except Exception as exc:  # as uvicorn answers an app that raised
            log.error("Exception in ASGI application\n", exc_info=exc)
            self.transport.write(INTERNAL_ERROR)
            self.transport.close()
            return
        if framed is None:  # its answer may wait (a task delivered sync): the ASGI path
            if not self.transport.is_closing():
                self._held = held
                self._release()
                super().on_message_complete()
            return
        status, extra, body = framed
        keep_alive = version != "1.0" and self.parser.should_keep_alive()
        head = [
            STATUS_LINE[status],
            default_head(self.server_state.default_headers),
            b"content-type: application/json\r\ncontent-length: ",
            str(len(body)).encode(),
            b"\r\n",
        ]
        for name, value in extra:
            head += [name, b": ", value, b"\r\n"]
            if name == b"connection" and value == b"close":
                keep_alive = False
        if not keep_alive and (b"connection", b"close") not in extra:
            head.append(b"connection: close\r\n")
        head += [b"\r\n", body]
        self.transport.write(b"".join(head))
        if not keep_alive:
            self.transport.close()
        self.on_response_complete()


_default_head: tuple[object, bytes] = (None, b"")


def default_head(headers: list[tuple[bytes, bytes]]) -> bytes:
    """uvicorn's default headers (date, server) as response bytes. uvicorn puts a new list
    in place each second (the date changes), so the bytes are joined once per list, not per
    response."""
    global _default_head
    source, joined = _default_head
    if source is not headers:
        joined = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
        _default_head = (headers, joined)
    return joined
