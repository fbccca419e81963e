"""WebSocket clients that send and never read what comes back.

Pings answered with pongs the client never reads used to pile up in the server's write
buffer (about 260 MB in 20 s). Control frames count against the frame rate, and the
server stops reading from a peer that does not drain its output (and drops it if that
lasts), so memory stays bounded and the connection is closed."""

from __future__ import annotations

import base64
import json
import os
import socket
import time
import uuid

import pytest

from tests.helpers import T2V

from .harness import KEY, Effect, MockProcess, Watch, mock_process, report


def _raw_websocket(proc: MockProcess) -> socket.socket:
    """A handshaken WebSocket on a plain socket with a tiny receive buffer."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", proc.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /v1 HTTP/1.1\r\nHost: 127.0.0.1:{proc.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def _frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (payload under 126 bytes)."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


def _flood(proc: MockProcess, chunk: bytes, seconds: float) -> tuple[int, bool]:
    """Send ``chunk`` for ``seconds`` without reading; (bytes sent, whether the server hung up)."""
    sock = _raw_websocket(proc)
    sock.settimeout(0.5)
    sent, closed = 0, False
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            try:
                sock.sendall(chunk)
                sent += len(chunk)
            except TimeoutError:
                continue  # the server is not reading from us right now
            except OSError:
                closed = True
                break
    finally:
        sock.close()
    return sent, closed


def test_unread_pings_stay_bounded_and_get_the_connection_closed() -> None:
    with mock_process() as proc, Watch(proc) as watch:
        sent, closed = _flood(proc, _frame(0x9, b"x" * 100) * 500, seconds=5.0)
        alive = proc.alive()
    report(Effect.of("unread WebSocket pings (5 s)", watch,
                     note=f"{sent // 1024} KiB of pings sent; closed: {closed}"))  # fmt: skip
    assert alive and watch.failures == 0
    assert watch.rss_growth_mib < 50, f"RSS grew {watch.rss_growth_mib:.0f} MiB"
    assert closed, "the server kept a peer that never reads"


def test_unread_replies_to_text_frames_stay_bounded() -> None:
    ping = json.dumps([{"taskType": "ping", "ping": True}]).encode()  # answered unauthenticated
    with mock_process() as proc, Watch(proc) as watch:
        sent, closed = _flood(proc, _frame(0x1, ping) * 200, seconds=4.0)
        alive = proc.alive()
    report(Effect.of("unread WebSocket replies (4 s)", watch,
                     note=f"{sent // 1024} KiB of frames sent; closed: {closed}"))  # fmt: skip
    assert alive and watch.failures == 0
    assert watch.rss_growth_mib < 50, f"RSS grew {watch.rss_growth_mib:.0f} MiB"
    assert closed


@pytest.mark.hostile_full
def test_a_slow_client_that_never_reads_is_dropped() -> None:
    """Under the frame rate, but never reading ~10 KB replies: the server stops reading from
    it once its output backs up, and drops it after WRITE_STALL_SECONDS."""
    with mock_process("--job-seconds", "0.1") as proc, Watch(proc) as watch:
        task = {**T2V, "taskUUID": str(uuid.uuid4()), "numberResults": 20}
        assert proc.client.post("/v1", json=[task]).status_code == 200
        time.sleep(0.5)
        sock = _raw_websocket(proc)
        sock.settimeout(0.5)
        auth = [{"taskType": "authentication", "apiKey": KEY}]
        poll = _frame(
            0x1, json.dumps([{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]).encode()
        )
        started, closed = time.monotonic(), False
        try:
            sock.sendall(_frame(0x1, json.dumps(auth).encode()))
            while time.monotonic() - started < 30:
                try:
                    sock.sendall(poll)
                except TimeoutError:
                    continue
                except OSError:
                    closed = True
                    break
                time.sleep(0.01)  # about 100 frames a second: under the limit
        finally:
            sock.close()
        seconds = time.monotonic() - started
    report(Effect.of("slow WebSocket client that never reads", watch,
                     note=f"closed: {closed} after {seconds:.0f} s"))  # fmt: skip
    assert watch.rss_growth_mib < 50, f"RSS grew {watch.rss_growth_mib:.0f} MiB"
    assert closed, "the server kept a peer that never reads its output"
