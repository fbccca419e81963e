"""Log forging: what a client sends reaches the text log as one line, escaped.

Four requests carry a taskUUID with ``\\n<fake line>``, a taskType with CRLF, a path with
``%0A`` and a taskUUID with ANSI escape sequences: the log gets exactly one line per request
(no forged line, no line starting with the attacker's text) and no raw control character.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

from tests.helpers import T2V, eventually

from .harness import KEY, Effect, Watch, mock_process, report

FAKE = "2026-01-01T00:00:00.000Z INFO mockserver.request: rest POST /v1 200 forged"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _raw_post(port: int, path: str, body: str) -> None:
    """A POST with ``path`` sent as given (httpx would encode it)."""
    data = body.encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            f"Connection: close\r\n\r\n".encode()
            + data
        )
        while sock.recv(65536):
            pass


def _attack_lines(log: Path, before: int) -> list[str]:
    """The log's lines since line ``before``, but the watch's /health requests."""
    lines = log.read_text(errors="replace").splitlines()[before:]
    return [line for line in lines if "GET /health" not in line]


def test_client_text_cannot_forge_log_lines(tmp_path: Path) -> None:
    log = tmp_path / "mock.log"
    with mock_process(log=log, log_level="info") as proc, Watch(proc) as watch:
        before = len(log.read_bytes().splitlines())
        attacks = [
            [{**T2V, "taskUUID": f"x\n{FAKE}"}],
            [{**T2V, "taskType": f"videoInference\r\n{FAKE}"}],
            [{**T2V, "taskUUID": "\x1b[2J\x1b[31mred\x1b[0m\x9b0m"}],
        ]
        for tasks in attacks:
            proc.client.post("/v1", json=tasks)
        _raw_post(proc.port, "/v1%0A" + FAKE.replace(" ", "%20"), "[]")
        _raw_post(proc.port, "/video/x%0A" + FAKE.replace(" ", "%20"), "[]")
        assert eventually(lambda: len(_attack_lines(log, before)) >= 5, timeout=10)
        lines = _attack_lines(log, before)
    forged = [line for line in lines if line.startswith(FAKE[:24]) or "\r" in line]
    raw = [line for line in lines if CONTROL.search(line)]
    report(Effect.of("log forging: CR/LF/ANSI in taskUUID, taskType, path", watch,
                     note=f"{len(lines)} lines for 5 requests; {len(forged)} forged; "
                          f"{len(raw)} with raw control characters"))  # fmt: skip
    assert len(lines) == 5, lines
    assert forged == [], forged
    assert raw == [], raw
    assert sum("\\n" in line for line in lines) >= 3  # written escaped, still readable
