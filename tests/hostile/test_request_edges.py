"""Edges of the HTTP layer: Host headers in handed-out URLs (before: copied verbatim into
stored videoURLs), unparsable requests (before: uvicorn's text/plain), slow admin bodies."""

from __future__ import annotations

import json
import socket
import time
import uuid
from typing import Any

import pytest

from tests.helpers import eventually

from .harness import Effect, MockProcess, Watch, mock_process, report, statuses

TEXT_TO_VIDEO: dict[str, Any] = {
    "taskType": "videoInference",
    "model": "klingai:kling-video@3-pro",
    "positivePrompt": "a lighthouse",
    "width": 1920,
    "height": 1080,
}


def _video_url(proc: MockProcess, host: str | None) -> str:
    task = {**TEXT_TO_VIDEO, "taskUUID": str(uuid.uuid4())}
    headers = {"host": host} if host is not None else {}
    assert proc.client.post("/v1", json=[task], headers=headers).status_code == 200
    poll = [{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]
    items = eventually(lambda: done(proc.client.post("/v1", json=poll).json()["data"]), 10)
    assert items, "the task did not finish"
    return str(items[0]["videoURL"])


def done(items: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    return items if items[0]["status"] == "success" else None


HOSTILE_HOSTS = [
    "evil.example/phish?x=",
    "a@b",
    "x\"'<>",
    "host:99999999",
    "x%2F.example",
    "a,b",
    "a" * 300,
]


def test_a_hostile_host_header_does_not_reach_stored_urls() -> None:
    with mock_process("--job-seconds", "0.1") as proc:
        bound = f"http://127.0.0.1:{proc.port}/"
        urls = {host: _video_url(proc, host) for host in HOSTILE_HOSTS}
        plain = _video_url(proc, f"localhost:{proc.port}")
    for host, url in urls.items():
        assert url.startswith(bound), (host, url)
    assert plain.startswith(f"http://localhost:{proc.port}/")


def test_public_url_is_the_base_of_handed_out_urls() -> None:
    with mock_process("--job-seconds", "0.1", "--public-url", "https://mock.example:8443/") as proc:
        url = _video_url(proc, "evil.example")
    assert url.startswith("https://mock.example:8443/video/")


def _raw(proc: MockProcess, data: bytes, wait: float = 10.0) -> bytes:
    with socket.create_connection(("127.0.0.1", proc.port), timeout=wait) as sock:
        sock.sendall(data)
        answer = b""
        while part := sock.recv(65536):
            answer += part
        return answer


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"POST /v1 HTTP/1.1\r\nhost: x\r\ncontent-length: nope\r\n\r\n",
        b"GET /health HTTP/1.1\r\nbad header\r\n\r\n",
        b"POST /v1 HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
    ],
    ids=["request line", "content-length", "header", "chunk size"],
)
def test_unparsable_requests_get_runware_errors(request_bytes: bytes) -> None:
    with mock_process() as proc:
        answer = _raw(proc, request_bytes)
        assert proc.alive()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body)["errors"][0]["code"] == "invalidRequest"


def test_a_slow_admin_body_times_out() -> None:
    codes: list[int] = []
    with mock_process("--body-timeout", "1") as proc, Watch(proc) as watch:
        started = time.perf_counter()
        answer = _raw(
            proc,
            b"POST /__admin/scenarios HTTP/1.1\r\nhost: x\r\nauthorization: Bearer "
            + proc.api_key.encode()
            + b"\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
        )
        took = time.perf_counter() - started
        codes.append(int(answer.split(b" ", 2)[1]))
    report(Effect.of("slow admin body", watch, statuses=statuses(codes),
                     note=f"408 after {took * 1000:.0f} ms"))  # fmt: skip
    assert codes == [408]
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["errors"][0]["code"] == "timeoutRequestBody"
    assert took < 5
