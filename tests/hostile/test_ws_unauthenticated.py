"""Unauthenticated WebSocket upgrades against a mock limited to 256 descriptors.

300 upgrades from one address that complete the handshake and then send nothing (no key,
no frame): the mock holds at most its per-address cap of them (128 by default, and never
more than its descriptor limit less the reserve), refuses the rest at once (429
``rateLimitExceeded`` before the handshake), closes the held ones once the authentication
deadline passes (10 s by default; the close handshake gets 2 s more), and answers
``/health`` within 100 ms throughout, with descriptors to spare. Defaults only, so the
same attack runs against an older checkout.
"""

from __future__ import annotations

import base64
import os
import select
import socket
import time
from pathlib import Path

from .harness import Effect, Watch, mock_process, open_fds, report

UPGRADES = 300
NOFILE = 256
AUTH_TIMEOUT = 10.0  # the mock's default --ws-auth-timeout


def _upgrade(port: int) -> socket.socket:
    """A WebSocket handshake on a new connection, sent but not read."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /v1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    return sock


def _status(sock: socket.socket) -> int | None:
    """The HTTP status the handshake got (None: no answer within 5 s, or none at all)."""
    sock.settimeout(5)
    try:
        head = sock.recv(4096)
    except OSError:
        return None
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def _closed_by_server(sock: socket.socket) -> bool:
    """Whether the server ended the connection (a close frame then EOF, or a reset)."""
    sock.setblocking(False)
    try:
        while select.select([sock], [], [], 0)[0]:
            if not sock.recv(4096):
                return True
    except OSError:
        return True
    return False


def test_unauthenticated_upgrades_are_capped_and_timed_out(tmp_path: Path) -> None:
    with mock_process(nofile=NOFILE) as proc:
        fds_before = open_fds(proc.pid)
        socks: list[socket.socket] = []
        try:
            with Watch(proc) as watch:
                started = time.monotonic()
                for _ in range(UPGRADES):
                    try:
                        socks.append(_upgrade(proc.port))
                    except OSError:
                        break
                statuses = [_status(s) for s in socks]
                fds_held = open_fds(proc.pid)
                held = [s for s, code in zip(socks, statuses, strict=True) if code == 101]
                # The held ones are closed once the authentication deadline passes.
                time.sleep(max(0.0, started + AUTH_TIMEOUT + 4.0 - time.monotonic()))
                still_open = sum(not _closed_by_server(s) for s in held)
                fds_after = open_fds(proc.pid)
        finally:
            for sock in socks:
                sock.close()
    counts = {str(code): statuses.count(code) for code in set(statuses)}
    report(Effect.of(f"{UPGRADES} unauthenticated WebSocket upgrades, {NOFILE} descriptors",
                     watch, statuses=counts,
                     note=f"descriptors {fds_before} -> {fds_held} held -> {fds_after} after "
                          f"{AUTH_TIMEOUT:g} s; {still_open} still open then; "
                          f"/health failures {watch.failures}"))  # fmt: skip
    assert watch.failures == 0, f"{watch.failures} /health probes failed"
    assert watch.health_p99_ms < 100, watch.health_p99_ms
    assert len(held) <= 128, f"{len(held)} unauthenticated connections held"
    assert statuses.count(429) == len(socks) - len(held), counts  # refused at once, not hung
    assert fds_held < NOFILE - 64, f"{fds_held} descriptors in use: no reserve left"
    assert still_open == 0, f"{still_open} unauthenticated connections outlived the deadline"
