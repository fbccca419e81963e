"""The WebSocket frame rate at its exact edges (``ws_max_frames_per_second``), as a client sees
it over a real socket: the frame at the limit is answered, the next is throttled, and only a
frame past twice the limit ends the connection; a new second starts a new count. Every kind of
frame counts (text, binary, pongs nobody asked for; a fragmented message once), and frames
that arrive in one read are judged one by one. A peer that does not read what it is sent is
not read from either, and is cut once its output has been stuck for ``WRITE_STALL_SECONDS``;
one that reads again before that keeps its connection."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.sync.client import ClientConnection, connect

from mockserver import MockConfig
from mockserver.protocols import limits
from mockserver.protocols.limits import FrameRate
from mockserver.testing import RunningMock, serve
from tests.helpers import eventually, new_task

KEY = "limits-key"
MOST = 3  # frames per second
PING = json.dumps([{"taskType": "ping", "ping": True}])


@pytest.fixture(scope="module")
def mock() -> Iterator[RunningMock]:
    config = MockConfig(api_keys=frozenset({KEY}), ws_max_frames_per_second=MOST)
    with serve(config, api_key=KEY) as running:
        yield running


def answer(sock: ClientConnection) -> str:
    """What one text frame was answered with: "pong" or the error code."""
    frame = json.loads(sock.recv(timeout=10))
    if "errors" in frame:
        return str(frame["errors"][0]["code"])
    assert frame == {"data": [{"taskType": "ping", "pong": True}]}
    return "pong"


def within_one_second(running: RunningMock, burst: Callable[[ClientConnection], Any]) -> Any:
    """``burst`` on a fresh connection, retried if it did not fit in the server's one-second
    window (a loaded machine); the frames of one attempt are sent back to back."""
    for _ in range(5):
        with connect(running.ws_url, open_timeout=10) as sock:
            started = time.monotonic()
            result = burst(sock)
            if time.monotonic() - started < 0.8:
                return result
    pytest.fail("five bursts in a row took most of a second each")


def test_the_frame_at_the_rate_is_answered_and_the_next_is_throttled(mock: RunningMock) -> None:
    def burst(sock: ClientConnection) -> list[str]:
        for _ in range(2 * MOST):
            sock.send(PING)
        return [answer(sock) for _ in range(2 * MOST)]

    answers = within_one_second(mock, burst)
    assert answers == ["pong"] * MOST + ["rateLimitExceeded"] * MOST


def answers_until_closed(sock: ClientConnection) -> tuple[list[str], int | None]:
    """Every answer until the server closes the connection, and its close code."""
    answers = []
    with contextlib.suppress(ConnectionClosed):
        while True:
            answers.append(answer(sock))
    return answers, sock.close_code


def test_a_connection_is_closed_one_frame_past_twice_the_rate(mock: RunningMock) -> None:
    def burst(sock: ClientConnection) -> tuple[list[str], int | None]:
        for _ in range(2 * MOST + 1):
            sock.send(PING)
        return answers_until_closed(sock)

    answers, close_code = within_one_second(mock, burst)
    assert answers == ["pong"] * MOST + ["rateLimitExceeded"] * MOST
    assert close_code == 1008


def test_pings_count_too_and_the_ping_past_the_rate_gets_no_pong(mock: RunningMock) -> None:
    def burst(sock: ClientConnection) -> tuple[list[bool], str]:
        pongs = [sock.ping() for _ in range(MOST + 1)]
        sock.send(PING)  # answered after any pong of the frames before it
        code = answer(sock)
        return [pong.is_set() for pong in pongs], code

    pongs, code = within_one_second(mock, burst)
    assert pongs == [True] * MOST + [False]
    assert code == "pong"  # the app's own count is of task frames only


def test_control_frames_up_to_twice_the_rate_keep_the_connection(
    mock: RunningMock, caplog: pytest.LogCaptureFixture
) -> None:
    def burst(sock: ClientConnection) -> tuple[str, int | None]:
        for _ in range(2 * MOST):  # the last one at twice the rate: not dropped
            sock.ping()
        sock.send(PING)  # a task frame: the app's to answer (its first)
        code = answer(sock)
        sock.ping()  # a control frame past twice the rate: the connection is dropped
        with contextlib.suppress(ConnectionClosed):
            sock.recv(timeout=10)
        return code, sock.close_code

    code, close_code = within_one_second(mock, burst)
    assert code == "pong"
    assert close_code == 1008
    dropped = [r.getMessage() for r in caplog.records if r.name == "mockserver.limits"]
    assert dropped and dropped[-1].endswith(f"dropped: over {2 * MOST} frames per second")


def test_a_new_second_starts_a_new_count() -> None:
    now = [100.0]
    rate = FrameRate(clock=lambda: now[0])
    assert [rate.tick() for _ in range(3)] == [1, 2, 3]
    now[0] = 100.999
    assert rate.tick() == 4 and rate.tick_count() == 4
    now[0] = 101.0  # one second after the window opened: a new window
    assert rate.tick() == 1
    now[0] = 101.5
    assert rate.tick() == 2 and rate.tick_count() == 2


def test_a_request_sent_before_the_keep_alive_deadline_is_answered_after_it() -> None:
    """The idle connection is closed at the keep-alive deadline only if no request came: one
    that arrived in time and takes longer to answer gets its answer on the same connection."""
    config = MockConfig(api_keys=frozenset({KEY}))
    with (
        serve(config, api_key=KEY, timeout_keep_alive=1) as running,
        httpx.Client(
            base_url=running.base_url,
            headers={"Authorization": f"Bearer {KEY}"},
            limits=httpx.Limits(max_connections=1),
            timeout=30,
        ) as client,
    ):
        ping = [{"taskType": "ping", "ping": True}]
        assert client.post("/v1", json=ping).status_code == 200  # arms the idle timer
        # the next request arrives at once and is answered past the deadline
        running.arm({"latency": {"fixedMs": 2000}, "times": 1})
        started = time.monotonic()
        answer = client.post("/v1", json=ping)
        assert answer.status_code == 200 and time.monotonic() - started >= 1.9


async def _idle_close(running: RunningMock) -> tuple[bytes, float]:
    """One request on a raw connection, then silence: what the server sends until it closes
    the connection, and when (seconds after the answer)."""
    reader, writer = await asyncio.open_connection(running.host, running.port)
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    await asyncio.wait_for(reader.readexactly(length), 10)
    answered = time.monotonic()
    rest = await asyncio.wait_for(reader.read(), 8)
    writer.close()
    return rest, time.monotonic() - answered


def test_an_idle_connection_is_closed_quietly_at_the_keep_alive_timeout() -> None:
    """uvicorn's keep-alive timeout (here 1 s) closes a connection with no request after its
    answer, without a word: well before the header timeout (10 s) would answer 408."""
    config = MockConfig(api_keys=frozenset({KEY}))
    with serve(config, api_key=KEY, timeout_keep_alive=1) as running:
        rest, after = asyncio.run(_idle_close(running))
    assert rest == b"" and 0.9 <= after < 8


def frames(opcode: Opcode, payloads: list[bytes], fragmented: bool = False) -> bytes:
    """Client frames (masked), back to back, to be sent in one write (one read on the
    server: the frame rate judges each frame of a read, not the read). ``fragmented``: one
    message, the first frame ``opcode`` and the rest continuations."""
    out = []
    for n, payload in enumerate(payloads):
        code = opcode if n == 0 or not fragmented else Opcode.CONT
        fin = not fragmented or n == len(payloads) - 1
        out.append(Frame(code, payload, fin=fin).serialize(mask=True))
    return b"".join(out)


def drops(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "mockserver.limits"]


def test_unanswered_pongs_count_and_one_past_twice_the_rate_drops_the_connection_once(
    mock: RunningMock, caplog: pytest.LogCaptureFixture
) -> None:
    """Pongs nobody asked for are frames too: twice the rate of them keeps the connection (a
    task frame after them is answered), the next ends it with 1008, and the frames that
    arrived with it change nothing: one drop, one log line."""

    def burst(sock: ClientConnection) -> tuple[str, int | None, str | None, str]:
        client = str(sock.local_address)
        sock.socket.sendall(frames(Opcode.PONG, [b""] * (2 * MOST)))
        sock.send(PING)  # a task frame: the app's own count, its first
        code = answer(sock)
        sock.socket.sendall(frames(Opcode.PONG, [b""] * 3))  # past twice the rate, together
        with contextlib.suppress(ConnectionClosed):
            sock.recv(timeout=10)
        return code, sock.close_code, sock.close_reason, client

    code, close_code, reason, client = within_one_second(mock, burst)
    assert code == "pong"
    assert (close_code, reason) == (1008, "too many frames")
    lines = [line for line in drops(caplog) if client in line]
    assert lines == [f"WebSocket from {client} dropped: over {2 * MOST} frames per second"]


def test_binary_frames_are_answered_like_text_frames_up_to_the_close(mock: RunningMock) -> None:
    """Binary frames count as task frames: each up to twice the rate is answered (refused:
    tasks are JSON text), past the rate with rateLimitExceeded, and only then is the
    connection closed, even when they all arrive at once."""

    def burst(sock: ClientConnection) -> tuple[list[str], int | None]:
        sock.socket.sendall(frames(Opcode.BINARY, [b"\x00"] * (2 * MOST + 1)))
        return answers_until_closed(sock)

    answers, close_code = within_one_second(mock, burst)
    assert answers == ["invalidRequestBody"] * MOST + ["rateLimitExceeded"] * MOST
    assert close_code == 1008


def test_a_task_frame_sent_in_fragments_is_one_frame_to_the_rate(mock: RunningMock) -> None:
    """A message in more fragments than twice the rate is still one task frame: answered,
    the connection kept."""
    text = PING.encode()
    cut = [text[n : n + 4] for n in range(0, len(text), 4)]
    assert len(cut) > 2 * MOST

    def burst(sock: ClientConnection) -> str:
        sock.socket.sendall(frames(Opcode.TEXT, cut, fragmented=True))
        return answer(sock)

    assert within_one_second(mock, burst) == "pong"


# A peer that does not read what it is sent: raw sockets (a WebSocket client library reads in
# the background), a small receive buffer, and frames of many pings (each answered at length).
PINGS = json.dumps([{"taskType": "ping", "ping": True}] * 100).encode()
STALL = 2.0  # WRITE_STALL_SECONDS, for these tests


@pytest.fixture
def flooded(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[RunningMock]:
    """A mock whose frame rate is no limit here, dropping output stuck for ``STALL`` s (or
    the seconds a test passes as the fixture's parameter)."""
    monkeypatch.setattr(limits, "WRITE_STALL_SECONDS", getattr(request, "param", STALL))
    config = MockConfig(api_keys=frozenset({KEY}), ws_max_frames_per_second=1_000_000)
    with serve(config, api_key=KEY) as running:
        yield running


def opened(running: RunningMock, buffer: int = 4096) -> socket.socket:
    """A WebSocket, opened by hand on a socket that buffers little (``buffer`` bytes)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, buffer)
    sock.settimeout(10)
    sock.connect((running.host, running.port))
    sock.sendall(
        b"GET /v1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


class Flood(threading.Thread):
    """Frames of pings sent without reading, until ``stop``; returns once the server has
    stopped reading them too (no byte has gone out for a while), or once the sending has
    ended (the server may cut the connection before this notices it stopped reading, on a
    loaded machine). ``error``: how the sending ended, if it was not stopped."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(daemon=True)
        self.sock = sock
        self.sent = 0
        self.stop = threading.Event()
        self.error: OSError | None = None
        self.start()
        before = -1
        while self.sent != before and self.is_alive():
            before = self.sent
            time.sleep(0.2)

    def run(self) -> None:
        chunk = frames(Opcode.TEXT, [PINGS] * 50)
        try:
            while not self.stop.is_set():
                self.sock.sendall(chunk)
                self.sent += len(chunk)
        except OSError as exc:
            self.error = exc


def opcodes(stream: bytes) -> list[int]:
    """The opcodes of the server's (unmasked) frames in ``stream``, up to a cut one."""
    found = []
    while len(stream) >= 2:
        length, start = stream[1] & 0x7F, 2
        if length == 126:
            length, start = int.from_bytes(stream[2:4]), 4
        elif length == 127:
            length, start = int.from_bytes(stream[2:10]), 10
        if len(stream) < start + length:
            break
        found.append(stream[0] & 0x0F)
        stream = stream[start + length :]
    return found


def drain(sock: socket.socket, until: bytes | None = None) -> bytes:
    """Read until ``until`` arrives (returning only the last bytes read) or the stream ends,
    by its end or an error (returning all that was read)."""
    got = b""
    with contextlib.suppress(OSError):
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got = got[-len(until) :] + chunk if until is not None else got + chunk
            if until is not None and until in got:
                break
    return got


def test_a_peer_that_does_not_read_is_cut_once_its_output_is_stuck_for_the_stall_time(
    flooded: RunningMock, caplog: pytest.LogCaptureFixture
) -> None:
    """Not read from while it does not read (it cannot make the server queue replies), and
    cut without a closing handshake (it would never read one) after ``WRITE_STALL_SECONDS``."""
    with opened(flooded) as sock:
        client = str(sock.getsockname())
        flood = Flood(sock)
        line = f"WebSocket from {client} dropped: output unread for {STALL} s"
        assert eventually(lambda: line in drops(caplog), 10), drops(caplog)
        flood.join(limits.LINGER_SECONDS / 2)  # at once, not after a lingering close
        assert isinstance(flood.error, ConnectionResetError), flood.error
        sent = drain(sock)
    assert opcodes(sent) and Opcode.CLOSE.value not in opcodes(sent)  # replies, cut short


PATIENT = 6.0  # a stall time the reader surely starts within, even on a loaded machine


@pytest.mark.parametrize("flooded", [PATIENT], indirect=True)
def test_a_peer_that_reads_again_within_the_stall_time_keeps_its_connection(
    flooded: RunningMock, caplog: pytest.LogCaptureFixture
) -> None:
    with opened(flooded) as sock:
        client = str(sock.getsockname())
        flood = Flood(sock)
        assert flood.is_alive(), flood.error  # blocked: the server has stopped reading
        marker = b"invalidRequestBody"  # the answer to a binary frame (never to a ping)
        read: list[bytes] = []
        reader = threading.Thread(target=lambda: read.append(drain(sock, marker)), daemon=True)
        reader.start()  # reads again, well within the stall time
        sent = flood.sent
        assert eventually(lambda: flood.sent > sent, 10)  # the server reads again
        flood.stop.set()
        flood.join(30)
        assert flood.error is None
        time.sleep(PATIENT)  # past the stall time since the output was stuck
        sock.sendall(frames(Opcode.BINARY, [b"\x00"]))
        reader.join(30)
        assert marker in read[0]  # answered, after every frame before it
    assert not [line for line in drops(caplog) if client in line]


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    """The opcode and payload of the server's next (unmasked) frame."""

    def exactly(count: int) -> bytes:
        got = b""
        while len(got) < count:
            chunk = sock.recv(min(65536, count - len(got)))
            assert chunk, "the connection ended inside a frame"
            got += chunk
        return got

    head = exactly(2)
    length = head[1] & 0x7F
    if length == 126:
        length = int.from_bytes(exactly(2))
    elif length == 127:
        length = int.from_bytes(exactly(8))
    return head[0] & 0x0F, exactly(length)


BIG = 250_000  # pings in one frame: an answer of 8 MB, past the kernel's send buffer too


def test_a_peer_that_reads_a_large_answer_late_is_read_from_again() -> None:
    """One frame whose answer fills the server's output while the peer does not read: once
    the peer has read it all, its next frame is read and answered (reading, paused for the
    stuck output, resumes with it)."""
    config = MockConfig(
        api_keys=frozenset({KEY}), max_tasks_per_request=BIG, max_body_bytes=16 * 1024 * 1024
    )
    with serve(config, api_key=KEY) as running, opened(running, 65536) as sock:
        pings = json.dumps([{"taskType": "ping", "ping": True}] * BIG, separators=(",", ":"))
        sock.sendall(frames(Opcode.TEXT, [pings.encode()]))
        opcode, answer = read_frame(sock)  # read only now: most of the answer was stuck
        assert opcode == Opcode.TEXT.value and len(json.loads(answer)["data"]) == BIG
        sock.sendall(frames(Opcode.TEXT, [PING.encode()]))
        opcode, answer = read_frame(sock)
        assert opcode == Opcode.TEXT.value, (opcode, answer)  # not a close, nor nothing
        assert json.loads(answer) == {"data": [{"taskType": "ping", "pong": True}]}


def test_a_task_frame_that_arrives_with_the_dropping_frame_is_not_run(mock: RunningMock) -> None:
    """Once the connection is dropped, a task in the same read is thrown away, not accepted
    (nobody would ever be answered for it)."""
    task = new_task()

    def burst(sock: ClientConnection) -> int | None:
        sock.send(json.dumps([{"taskType": "authentication", "apiKey": KEY}]))
        sock.recv(timeout=10)
        flood = frames(Opcode.PONG, [b""] * (2 * MOST + 1))
        sock.socket.sendall(flood + frames(Opcode.TEXT, [json.dumps([task]).encode()]))
        with contextlib.suppress(ConnectionClosed):
            while True:
                sock.recv(timeout=10)
        return sock.close_code

    assert within_one_second(mock, burst) == 1008
    poll = [{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]

    def codes() -> list[str]:
        body = mock.client.post("/v1", json=poll).json()
        return [e["code"] for e in body.get("errors", [])]

    assert eventually(lambda: codes() != ["taskNotFound"], 1.0) is False


# ── the header deadline (``header_timeout``) ─────────────────────────────────

HEADER_TIMEOUT = 0.3


@pytest.fixture(scope="module")
def deadline_mock() -> Iterator[RunningMock]:
    config = MockConfig(api_keys=frozenset({KEY}), header_timeout_seconds=HEADER_TIMEOUT)
    with serve(config, api_key=KEY) as running:
        yield running


def silent_connection(running: RunningMock, sent: bytes = b"") -> tuple[bytes, float]:
    """A connection that sends ``sent`` (no complete request headers), then nothing: all the
    server sends until it closes the connection, and after how many seconds."""
    with socket.create_connection((running.host, running.port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(sent)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received, time.monotonic() - started


def test_headers_that_never_finish_get_a_408_logged_as_lasting_the_header_timeout(
    deadline_mock: RunningMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="mockserver.request")
    received, after = silent_connection(deadline_mock, b"POST /v1 HTTP/1.1\r\nHost: x\r\n")
    head, body = received.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 408 ")
    assert json.loads(body)["errors"][0]["code"] == "timeoutRequestHeaders"
    assert HEADER_TIMEOUT * 0.9 <= after < 5
    (logged,) = [
        r.getMessage().split()
        for r in caplog.records
        if r.name == "mockserver.request" and " 408 " in r.getMessage()
    ]
    assert logged[:4] == ["http", "-", "-", "408"] and logged[-1] == "errors=timeoutRequestHeaders"
    # ms, from the connection: the server's count starts at its accept, which may come a
    # little before the client's own start (the handshake completes in the kernel first)
    assert HEADER_TIMEOUT * 900 <= float(logged[4]) <= (after + 0.05) * 1000


def test_a_websocket_outlives_the_header_timeout_that_closes_a_silent_connection_after_it(
    deadline_mock: RunningMock,
) -> None:
    """The header deadline is for HTTP requests: a WebSocket upgraded from a connection's
    first request keeps working past it, while a connection opened after it that never sends
    a request is answered 408 (so the WebSocket's deadline, had it one, has passed)."""
    with connect(deadline_mock.ws_url, open_timeout=10) as sock:
        sock.send(PING)
        assert answer(sock) == "pong"
        received, _ = silent_connection(deadline_mock)
        assert received.startswith(b"HTTP/1.1 408 ")
        sock.send(PING)
        assert answer(sock) == "pong"
