"""Bad input at the HTTP and WebSocket layers: each gets a 4xx (or a Runware error frame)
in Runware's error shape, never a 5xx or a crash, and the server keeps serving.

Slow and half-sent requests go over a real loopback socket with raw asyncio streams,
since an HTTP client cannot stall mid-request."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from mockserver import MockConfig, MockServer
from mockserver.core.reply import BadRequest, parse_tasks
from mockserver.http.body import LINGER_IDLE_SECONDS
from mockserver.testing import RunningMock, serve
from tests.asgi import Answer, call, runware_error_shape
from tests.conftest import REPO
from tests.helpers import eventually, new_task

pytestmark = pytest.mark.anyio
KEY = "bad-input-key"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


AUTH = [(b"authorization", f"Bearer {KEY}".encode()), (b"content-type", b"application/json")]


def nested(depth: int) -> bytes:
    task = new_task()
    task["inputs"] = "HOLE"
    return orjson.dumps([task]).replace(b'"HOLE"', b"[" * depth + b"]" * depth)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "invalidRequestBody"),
        (b"   ", "invalidRequestBody"),
        (b"{nope", "invalidRequestBody"),
        (b'{"taskType": "ping"}', "invalidRequestBody"),
        (b'"tasks"', "invalidRequestBody"),
        (b"null", "invalidRequestBody"),
        (b"[]", "invalidEmptyRequest"),
        (b'[1, "a", null, [], true]', "invalidRequestBody"),
        (b"\xff\xfe[]", "invalidRequestBody"),
        (b'[{"taskType": "ping\xc3\x28"}]', "invalidRequestBody"),  # invalid UTF-8 inside
        (b'[{"taskType": "\\ud800"}]', "invalidRequestBody"),  # lone surrogate escape
        (b"[NaN]", "invalidRequestBody"),
        (b'[{"width": Infinity}]', "invalidRequestBody"),
        (b'[{"width": 1e400}]', "invalidRequestBody"),  # overflows a double
        (b"[" * 5000 + b"]" * 5000, "invalidRequestBody"),  # deeper than the parser allows
        (nested(5000), "invalidRequestBody"),
    ],
)
async def test_malformed_bodies_are_400s_in_runware_shape(body: bytes, code: str) -> None:
    server = MockServer(MockConfig(api_keys=frozenset({KEY})))
    async with server.app.router.lifespan_context(server.app):
        answer = await call(server, "POST", "/v1", body, AUTH)
        assert answer.status == 400 and runware_error_shape(answer), answer
        assert {e["code"] for e in answer.json()["errors"]} == {code}
        assert (await call(server, "GET", "/health")).status == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\xef\xbb\xbf[]", "The body starts with a byte-order mark; send UTF-8 without one."),
        (b"\xff\xfe[]", "The body is not UTF-8."),
        (b"[" + b"1," * 100 + b"1]", "Send at most 100 tasks per request or frame; got 101."),
        # JSON errors in plain words, with where (orjson counts characters, not bytes)
        (b"", "The body is empty; send a JSON value."),
        (b'[{"a": 1,}]', "The body has a comma with no value after it at line 1, column 9."),
        (
            b'[{"a": 1}',
            "The body ends before the JSON is complete (a bracket, brace or string is left "
            "open) at line 1, column 10.",
        ),
        (
            b"[{'taskType': 'ping'}]",
            'The body has an unexpected character "\'" at line 1, column 3 (JSON strings and '
            "keys take double quotes).",
        ),
        (
            '[{"p": "éé",\n "x": NaN}]'.encode(),
            "The body has an unexpected character 'N' at line 2, column 7 (NaN is not a JSON "
            "number).",
        ),
        (b"[1] [2]", "The body has more after the JSON value at line 1, column 5."),
        (b"[1e999]", "The body has a number too large for a double at line 1, column 2."),
    ],
)
async def test_malformed_bodies_get_precise_messages(body: bytes, message: str) -> None:
    server = MockServer(MockConfig(api_keys=frozenset({KEY})))
    async with server.app.router.lifespan_context(server.app):
        answer = await call(server, "POST", "/v1", body, AUTH)
        assert answer.status == 400 and runware_error_shape(answer), answer
        assert [e["message"] for e in answer.json()["errors"]] == [message]


async def test_the_task_limit_is_a_setting() -> None:
    server = MockServer(MockConfig(api_keys=frozenset({KEY}), max_tasks_per_request=2))
    async with server.app.router.lifespan_context(server.app):
        ping = b'{"taskType": "ping", "ping": true}'
        two = await call(server, "POST", "/v1", b"[" + ping + b"," + ping + b"]", AUTH)
        three = await call(server, "POST", "/v1", b"[" + b",".join([ping] * 3) + b"]", AUTH)
        assert two.status == 200
        assert three.status == 400 and three.json()["errors"][0]["code"] == "tooManyTasks"


@pytest.mark.parametrize(
    "task",
    [
        {"taskType": "videoInference", "model": "klingai:kling-video@3-pro", "width": 1e23},
        {"taskType": "videoInference", "model": "klingai:kling-video@3-pro", "duration": 2**63},
        {"taskType": "videoInference", "model": ["klingai:kling-video@3-pro"]},
        {"taskType": 7, "taskUUID": 7},
        {"taskType": "getResponse", "taskUUID": {"$ne": None}},
        {"taskType": "imageUpload", "taskUUID": str(uuid.uuid4()), "image": 5},
        {"taskType": "authentication", "apiKey": ["x"]},
    ],
)
async def test_wrong_types_in_tasks_are_4xx(task: dict[str, Any]) -> None:
    server = MockServer(MockConfig(api_keys=frozenset({KEY})))
    async with server.app.router.lifespan_context(server.app):
        answer = await call(server, "POST", "/v1", orjson.dumps([task]), AUTH)
        assert 400 <= answer.status < 500 and runware_error_shape(answer), answer


async def test_integers_beyond_64_bits_are_400() -> None:
    server = MockServer(MockConfig(api_keys=frozenset({KEY})))
    body = b'[{"taskType": "videoInference", "width": 99999999999999999999999}]'
    async with server.app.router.lifespan_context(server.app):
        answer = await call(server, "POST", "/v1", body, AUTH)
        assert answer.status == 400 and runware_error_shape(answer), answer


async def test_deep_nesting_within_the_parser_limit_is_a_validation_error() -> None:
    server = MockServer(MockConfig(api_keys=frozenset({KEY})))
    async with server.app.router.lifespan_context(server.app):
        answer = await call(server, "POST", "/v1", nested(1000), AUTH)
        assert answer.status == 400 and runware_error_shape(answer)
        assert answer.json()["errors"][0]["parameter"].startswith("inputs")


@pytest.mark.parametrize(
    "content_type",
    [b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data; boundary=x"],
)
async def test_wrong_content_types_are_415(content_type: bytes) -> None:
    server = MockServer(MockConfig(api_keys=frozenset({KEY})))
    headers = [AUTH[0], (b"content-type", content_type)]
    async with server.app.router.lifespan_context(server.app):
        answer = await call(server, "POST", "/v1", orjson.dumps([new_task()]), headers)
        assert answer.status == 415 and runware_error_shape(answer)


async def test_declared_oversized_body_is_413_before_reading_it() -> None:
    server = MockServer(MockConfig(api_keys=frozenset({KEY}), max_body_bytes=100))
    headers = [*AUTH, (b"content-length", b"5000000")]
    async with server.app.router.lifespan_context(server.app):
        answer: Answer = await call(server, "POST", "/v1", b"[]", headers)
        assert answer.status == 413 and runware_error_shape(answer)
        assert answer.json()["errors"][0]["code"] == "maxPayloadSizeExceeded"
        assert answer.headers[b"connection"] == b"close"


# ── over a real socket: stalled, slow and half-sent requests ────────────────


@pytest.fixture
def slow_mock() -> Iterator[RunningMock]:
    config = MockConfig(
        api_keys=frozenset({KEY}),
        body_timeout_seconds=0.5,
        header_timeout_seconds=0.5,
        max_body_bytes=10_000,
        job_seconds=0.1,
    )
    with serve(config, api_key=KEY) as running:
        yield running


async def read_response(reader: asyncio.StreamReader, timeout: float = 5) -> tuple[int, Any]:
    """Status and JSON body of one HTTP/1.1 response; (0, None) if the server just closed."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if line)
    body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), timeout)
    return int(lines[0].split()[1]), json.loads(body)


async def healthy_meanwhile(running: RunningMock) -> None:
    """Another client is served promptly while the stalled one waits."""
    async with httpx.AsyncClient(base_url=running.base_url, timeout=2) as client:
        response = await client.post(
            "/v1",
            json=[{"taskType": "ping", "ping": True}],
            headers={"Authorization": f"Bearer {KEY}"},
        )
        assert response.json() == {"data": [{"taskType": "ping", "pong": True}]}


async def test_stalled_body_gets_408_and_others_are_served(slow_mock: RunningMock) -> None:
    reader, writer = await asyncio.open_connection(slow_mock.host, slow_mock.port)
    body = orjson.dumps([new_task()])
    writer.write(
        b"POST /v1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {KEY}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body[: len(body) // 2]
    )
    await writer.drain()
    await healthy_meanwhile(slow_mock)
    status, reply = await read_response(reader)
    assert status == 408 and reply["errors"][0]["code"] == "timeoutRequestBody"
    assert await asyncio.wait_for(reader.read(), 5) == b""  # and the connection is closed
    writer.close()
    await healthy_meanwhile(slow_mock)


async def test_slow_headers_get_408_and_close(slow_mock: RunningMock) -> None:
    reader, writer = await asyncio.open_connection(slow_mock.host, slow_mock.port)
    started = time.monotonic()
    for piece in (b"POST /v1 HTTP/1.1\r\n", b"Host: x\r\n", b"X-Slow: 1\r\n"):
        writer.write(piece)
        await writer.drain()
        await healthy_meanwhile(slow_mock)
        await asyncio.sleep(0.1)
    status, reply = await read_response(reader)
    assert status == 408 and reply["errors"][0]["code"] == "timeoutRequestHeaders"
    assert await asyncio.wait_for(reader.read(), 5) == b""
    assert time.monotonic() - started < 5
    writer.close()


async def test_idle_connection_after_a_response_is_closed(slow_mock: RunningMock) -> None:
    reader, writer = await asyncio.open_connection(slow_mock.host, slow_mock.port)
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    status, _ = await read_response(reader)
    assert status == 200
    writer.write(b"GET /hea")  # the next request never finishes its headers
    await writer.drain()
    status, reply = await read_response(reader)
    assert status == 408 and reply["errors"][0]["code"] == "timeoutRequestHeaders"
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()


async def test_half_sent_requests_hold_nothing(slow_mock: RunningMock) -> None:
    """Many clients that send half a request and vanish; the server keeps serving."""
    body = orjson.dumps([new_task()])
    for _ in range(20):
        _, writer = await asyncio.open_connection(slow_mock.host, slow_mock.port)
        writer.write(
            b"POST /v1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {KEY}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body[:10]
        )
        await writer.drain()
        writer.transport.abort()
    await healthy_meanwhile(slow_mock)
    assert (await slow_mock.server.store.counts())["tasks"] == 0  # no half-read task was accepted


@pytest.mark.slow
async def test_chunked_body_over_the_limit_is_413(slow_mock: RunningMock) -> None:
    """No Content-Length to refuse early: the limit holds while the body streams in."""
    reader, writer = await asyncio.open_connection(slow_mock.host, slow_mock.port)
    writer.write(
        b"POST /v1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {KEY}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    )
    chunk = b"[" + b" " * 4000
    for _ in range(4):
        writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
    await writer.drain()
    # The refused rest of the body is drained before the 413 goes out, and this client sends
    # no more: its answer comes after the linger's idle bound, not at once.
    status, reply = await read_response(reader, timeout=LINGER_IDLE_SECONDS + 5)
    assert status == 413 and reply["errors"][0]["code"] == "maxPayloadSizeExceeded"
    writer.close()
    await healthy_meanwhile(slow_mock)


# ── WebSocket: floods and abrupt disconnects ────────────────────────────────


@contextlib.contextmanager
def ws_mock(**settings: Any) -> Iterator[RunningMock]:
    config = MockConfig(api_keys=frozenset({KEY}), job_seconds=0.3, **settings)
    with serve(config, api_key=KEY) as running:
        yield running


def auth(sock: Any, session: str | None = None) -> str:
    task: dict[str, Any] = {"taskType": "authentication", "apiKey": KEY}
    if session:
        task["connectionSessionUUID"] = session
    sock.send(json.dumps([task]))
    return str(json.loads(sock.recv(timeout=5))["data"][0]["connectionSessionUUID"])


def test_frame_flood_is_throttled_then_closed_1008() -> None:
    with ws_mock(ws_max_frames_per_second=20) as running:
        with connect(running.ws_url) as sock:
            auth(sock)
            ping = json.dumps([{"taskType": "ping", "ping": True}])
            with contextlib.suppress(Exception):
                for _ in range(100):
                    sock.send(ping)
            codes: list[str] = []
            with contextlib.suppress(Exception):
                while True:
                    frame = json.loads(sock.recv(timeout=5))
                    codes += [e["code"] for e in frame.get("errors", [])]
            assert sock.close_code == 1008
            assert "rateLimitExceeded" in codes
        with connect(running.ws_url) as fresh:  # the server still serves everyone else
            auth(fresh)


def test_in_flight_tasks_per_connection_are_bounded() -> None:
    with ws_mock(ws_max_in_flight=3) as running, connect(running.ws_url) as sock:
        running.arm({"latency": {"fixedMs": 1000}, "times": 10})
        auth(sock)
        for _ in range(5):
            sock.send(json.dumps([{"taskType": "ping", "ping": True}]))
        frames = [json.loads(sock.recv(timeout=5)) for _ in range(5)]
        throttled = [f for f in frames if f.get("errors")]
        assert len(throttled) == 2  # frames 4 and 5: three were already in flight
        assert all(f["errors"][0]["code"] == "rateLimitExceeded" for f in throttled)
        assert sum(1 for f in frames if f.get("data")) == 3


def test_abrupt_disconnect_mid_task_keeps_results_for_resume() -> None:
    task = new_task()
    with ws_mock() as running:
        with connect(running.ws_url) as sock:
            session = auth(sock)
            sock.send(json.dumps([task]))
            assert json.loads(sock.recv(timeout=5))["data"][0]["taskUUID"] == task["taskUUID"]
            # No close frame: the TCP connection just goes away.
            sock.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00" * 2)
            sock.socket.close()
        # the job finishes while no connection is attached: its frame waits in the session
        assert eventually(lambda: running.server.sessions[session].buffer, 10)
        with connect(running.ws_url) as sock:
            assert auth(sock, session) == session
            (item,) = json.loads(sock.recv(timeout=5))["data"]
            assert item["taskUUID"] == task["taskUUID"] and item["status"] == "success"


def test_oversized_websocket_frame_closes_1009() -> None:
    with ws_mock(max_body_bytes=2000) as running:
        with connect(running.ws_url) as sock:
            auth(sock)
            sock.send(json.dumps([new_task(positivePrompt="x" * 5000)]))
            with pytest.raises(ConnectionClosed):
                sock.recv(timeout=5)
            assert sock.close_code == 1009
        with connect(running.ws_url) as fresh:
            auth(fresh)


def test_tasks_before_authentication_get_errors_not_a_session() -> None:
    with ws_mock() as running, connect(running.ws_url) as sock:
        sock.send(json.dumps([new_task()]))
        (err,) = json.loads(sock.recv(timeout=5))["errors"]
        assert err["code"] == "missingApiKey" and err["taskType"] == "authentication"
        sock.send(b"\x00binary")
        assert json.loads(sock.recv(timeout=5))["errors"][0]["code"] == "invalidRequestBody"
        auth(sock)  # the connection still works
    assert asyncio.run(running.server.store.counts())["tasks"] == 0


def test_every_error_code_the_mock_sends_is_in_the_spec_catalogue() -> None:
    """The mock's own codes (timeouts, unknown endpoints, signatures) are spec facts too, so
    the generated client classifies them by family like every other code."""
    import re

    from runware_contract.errors import ERRORS

    files = sorted((REPO / "mockserver").rglob("*.py"))  # every layer's modules
    assert {"reply.py", "responses.py", "limits.py", "engine.py"} <= {p.name for p in files}
    source = "\n".join(p.read_text() for p in files)
    used = set(re.findall(r"""error\(\s*["']([A-Za-z]+)["']""", source))
    used |= set(re.findall(r""": "(invalid[A-Za-z]+)"[,}]""", source))  # code tables
    assert used, "no error codes found in the mock's source"
    assert used <= set(ERRORS), sorted(used - set(ERRORS))


def test_a_websocket_frame_with_a_bom_is_named_as_such() -> None:
    with pytest.raises(BadRequest) as info:
        parse_tasks("\ufeff[]", 100)
    assert "byte-order mark" in info.value.error["message"]


# ── the body size limit, exactly ────────────────────────────────────────────

LIMIT = 10_000


@pytest.fixture(scope="module")
def limit_mock() -> Iterator[RunningMock]:
    config = MockConfig(api_keys=frozenset({KEY}), max_body_bytes=LIMIT, body_timeout_seconds=10)
    with serve(config, api_key=KEY) as running:
        yield running


def ping_body(size: int) -> bytes:
    """A ping request padded with JSON whitespace to exactly ``size`` bytes."""
    body = b'[{"taskType": "ping", "ping": true}]'
    return body + b" " * (size - len(body))


def chunked(body: bytes) -> Iterator[bytes]:
    """``body`` as one chunk (httpx sends it without a Content-Length), the end of the body
    a moment later: the server has read all of it before it knows no more is coming."""
    yield body
    time.sleep(0.2)


@pytest.mark.parametrize("stream", [False, True], ids=["content-length", "chunked"])
def test_a_body_of_exactly_the_limit_is_served_and_one_byte_more_is_413(
    limit_mock: RunningMock, stream: bool
) -> None:
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    with httpx.Client(base_url=limit_mock.base_url, timeout=LINGER_IDLE_SECONDS + 5) as client:
        for size, status in ((LIMIT, 200), (LIMIT + 1, 413)):
            body = ping_body(size)
            content = chunked(body) if stream else body
            response = client.post("/v1", content=content, headers=headers)
            assert response.status_code == status, (size, response.text)
            if status == 200:
                assert response.json() == {"data": [{"taskType": "ping", "pong": True}]}
            else:
                assert response.json()["errors"][0]["code"] == "maxPayloadSizeExceeded"


def test_a_websocket_frame_of_exactly_the_limit_is_served_and_one_byte_more_closes(
    limit_mock: RunningMock,
) -> None:
    with connect(limit_mock.ws_url, open_timeout=10) as sock:
        sock.send(ping_body(LIMIT).decode())
        assert json.loads(sock.recv(timeout=10)) == {"data": [{"taskType": "ping", "pong": True}]}
        sock.send(ping_body(LIMIT + 1).decode())
        with pytest.raises(ConnectionClosed):
            sock.recv(timeout=10)
        assert sock.close_code == 1009  # message too big
