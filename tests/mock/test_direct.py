"""``POST /v1`` on a real socket, where the HTTP protocol answers a whole request itself
(``mockserver/protocols/direct.py``) and hands everything else to the ASGI app: both must
give the same answer, in order, with the same framing."""

from __future__ import annotations

import io
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from mockserver.core.config import MockConfig
from mockserver.testing import RunningMock, serve
from runware_contract import google_nano_banana_2 as nano
from tests.helpers import image_task as helpers_image_task
from tests.helpers import new_task

KEY = "direct-key"


@pytest.fixture(scope="module")
def running() -> Iterator[RunningMock]:
    with serve(MockConfig(api_keys=frozenset({KEY})), api_key=KEY) as mock:
        yield mock


def request(body: bytes, *, extra: bytes = b"", version: bytes = b"1.1") -> tuple[bytes, bytes]:
    """A POST /v1 as (head, body)."""
    head = (
        b"POST /v1 HTTP/" + version + b"\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        b"authorization: Bearer " + KEY.encode() + b"\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n"
    )
    return head, body


Response = tuple[bytes, dict[bytes, bytes], bytes]


def read_responses(sock: socket.socket, count: int) -> list[Response]:
    """``count`` responses as (status line, headers, body), read by content-length."""
    buffer = b""
    out: list[Response] = []
    sock.settimeout(10)
    while len(out) < count:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {len(out)} responses"
            buffer += chunk
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        status, *lines = head.split(b"\r\n")
        headers = dict(line.lower().split(b": ", 1) for line in lines)
        length = int(headers[b"content-length"])
        while len(buffer) < length:
            chunk = sock.recv(65536)
            assert chunk, "connection closed inside a body"
            buffer += chunk
        out.append((status, headers, buffer[:length]))
        buffer = buffer[length:]
    return out


def closed(sock: socket.socket) -> bool:
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def body_of(*tasks: dict[str, object]) -> bytes:
    return orjson.dumps(list(tasks))


def test_whole_and_split_requests_get_the_same_answer_and_framing(running: RunningMock) -> None:
    whole, split = new_task(), new_task()
    with socket.create_connection(("127.0.0.1", running.port)) as sock:
        sock.sendall(b"".join(request(body_of(whole))))
        [(status_whole, headers_whole, reply_whole)] = read_responses(sock, 1)
        head, body = request(body_of(split))
        sock.sendall(head + body[:10])  # the body is still arriving: the ASGI app reads it
        time.sleep(0.2)
        sock.sendall(body[10:])
        [(status_split, headers_split, reply_split)] = read_responses(sock, 1)
    assert status_whole == status_split == b"HTTP/1.1 200 OK"
    assert (
        set(headers_whole)
        == set(headers_split)
        == {
            b"date",
            b"server",
            b"content-type",
            b"content-length",
        }
    )
    assert orjson.loads(reply_whole) == {
        "data": [{"taskType": "videoInference", "taskUUID": whole["taskUUID"]}]
    }
    assert orjson.loads(reply_split) == {
        "data": [{"taskType": "videoInference", "taskUUID": split["taskUUID"]}]
    }


def test_pipelined_requests_are_answered_in_order(running: RunningMock) -> None:
    tasks = [new_task() for _ in range(5)]
    bodies = [body_of(t) for t in tasks]
    bodies[2] = b"[{not json"
    with socket.create_connection(("127.0.0.1", running.port)) as sock:
        sock.sendall(b"".join(b"".join(request(b)) for b in bodies))
        replies = read_responses(sock, 5)
    assert [status for status, _, _ in replies] == [b"HTTP/1.1 200 OK"] * 2 + [
        b"HTTP/1.1 400 Bad Request"
    ] + [b"HTTP/1.1 200 OK"] * 2
    for (_, _, reply), task in zip(replies[:2] + replies[3:], tasks[:2] + tasks[3:], strict=True):
        assert orjson.loads(reply)["data"][0]["taskUUID"] == task["taskUUID"]
    assert orjson.loads(replies[2][2])["errors"][0]["code"] == "invalidRequestBody"


def test_http_1_0_and_connection_close_end_the_connection(running: RunningMock) -> None:
    for extra, version in ((b"", b"1.0"), (b"connection: close\r\n", b"1.1")):
        with socket.create_connection(("127.0.0.1", running.port)) as sock:
            sock.sendall(b"".join(request(body_of(new_task()), extra=extra, version=version)))
            [(status, headers, _)] = read_responses(sock, 1)
            assert status.endswith(b"200 OK")
            assert headers[b"connection"] == b"close"
            assert closed(sock)


def test_keep_alive_closes_an_idle_connection_and_not_a_busy_one() -> None:
    """uvicorn's keep-alive timeout (1 s here), kept by one timer per connection: requests
    0.6 s apart for longer than the timeout keep the connection, direct and ASGI alike; a
    connection left idle is closed about the timeout after its last response."""
    config = MockConfig(api_keys=frozenset({KEY}))
    with (
        serve(config, api_key=KEY, timeout_keep_alive=1) as mock,
        socket.create_connection(("127.0.0.1", mock.port)) as sock,
    ):
        for n in range(5):
            head, body = request(body_of(new_task()))
            if n % 2:  # the ASGI path: the body arrives after the headers
                sock.sendall(head)
                time.sleep(0.05)
                sock.sendall(body)
            else:
                sock.sendall(head + body)
            [(status, _, _)] = read_responses(sock, 1)
            assert status.endswith(b"200 OK"), n
            answered = time.monotonic()
            time.sleep(0.6)
        assert closed(sock)
        assert 0.8 < time.monotonic() - answered < 3.0


def test_errors_answered_directly_keep_the_connection(running: RunningMock) -> None:
    with socket.create_connection(("127.0.0.1", running.port)) as sock:
        head, body = request(body_of(new_task(duration=-1)))
        sock.sendall(head.replace(KEY.encode(), b"wrong-key") + body + head + body)
        [(first, _, refused), (second, _, invalid)] = read_responses(sock, 2)
    assert first == b"HTTP/1.1 401 Unauthorized"
    assert orjson.loads(refused)["errors"][0]["code"] == "invalidApiKey"
    assert second == b"HTTP/1.1 400 Bad Request"
    assert orjson.loads(invalid)["errors"][0]["parameter"] == "duration"


def test_a_latency_scenario_still_delays_whole_requests(running: RunningMock) -> None:
    running.arm({"match": {"promptContains": "zz-direct-slow"}, "latency": {"fixedMs": 400}})
    try:
        slow, fast = new_task(positivePrompt="zz-direct-slow"), new_task()
        with socket.create_connection(("127.0.0.1", running.port)) as sock:
            started = time.monotonic()
            sock.sendall(b"".join(request(body_of(slow))))
            read_responses(sock, 1)
            slow_seconds = time.monotonic() - started
            sock.sendall(b"".join(request(body_of(fast))))
            [(status, _, _)] = read_responses(sock, 1)
        assert slow_seconds >= 0.4
        assert status == b"HTTP/1.1 200 OK"
    finally:
        running.reset()


def test_every_direct_request_is_journaled(running: RunningMock) -> None:
    task = new_task()
    with socket.create_connection(("127.0.0.1", running.port)) as sock:
        sock.sendall(b"".join(request(body_of(task))))
        read_responses(sock, 1)
    entries = running.client.get("/__admin/requests", params={"taskUUID": task["taskUUID"]})
    [entry] = entries.json()["requests"]
    assert (entry["transport"], entry["path"], entry["status"]) == ("rest", "/v1", 200)


def test_one_request_line_on_both_paths() -> None:
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    request_log = logging.getLogger("mockserver.request")
    level = request_log.level
    with serve(MockConfig(api_keys=frozenset({KEY})), api_key=KEY) as mock:
        request_log.addHandler(handler)
        request_log.setLevel(logging.INFO)
        try:
            with socket.create_connection(("127.0.0.1", mock.port)) as sock:
                tasks = [new_task(), new_task()]
                sock.sendall(b"".join(request(body_of(tasks[0]))))  # the direct path
                read_responses(sock, 1)
                head, body = request(body_of(tasks[1]))
                sock.sendall(head)  # the ASGI path
                time.sleep(0.2)
                sock.sendall(body)
                read_responses(sock, 1)
        finally:
            request_log.removeHandler(handler)
            request_log.setLevel(level)
    got = [line.split(" ms ")[0].rsplit(" ", 1)[0] + " | " + line.split(" ms ")[1]
           for line in lines.getvalue().splitlines()]  # fmt: skip
    assert got == [
        f"mockserver.request rest POST /v1 200 | taskTypes=videoInference taskUUIDs={t['taskUUID']}"
        for t in tasks
    ]


def image_task() -> dict[str, Any]:
    return helpers_image_task(nano.MODEL_ID)


def test_a_request_whose_answer_waits_takes_the_asgi_path_once(running: RunningMock) -> None:
    """A sync image task arriving whole is handed to uvicorn's path (the direct one must not
    suspend), with nothing done twice: one answer with its result, one journal entry; a video
    task pipelined behind it is answered after it, in order, and an inline render too."""
    sync, video, inline = image_task(), new_task(), image_task() | {"deliveryMethod": "async"}
    inline["outputType"] = "base64Data"
    with socket.create_connection(("127.0.0.1", running.port)) as sock:
        sock.sendall(b"".join(b"".join(request(body_of(t))) for t in (sync, video, inline)))
        replies = read_responses(sock, 3)
    assert [status for status, _, _ in replies] == [b"HTTP/1.1 200 OK"] * 3
    first, second, third = (orjson.loads(body)["data"] for _, _, body in replies)
    assert [i["taskUUID"] for i in first] == [sync["taskUUID"]] and "imageURL" in first[0]
    assert second == [{"taskType": "videoInference", "taskUUID": video["taskUUID"]}]
    assert third == [{"taskType": "imageInference", "taskUUID": inline["taskUUID"]}]
    for task in (sync, inline):
        entries = running.client.get("/__admin/requests", params={"taskUUID": task["taskUUID"]})
        assert len(entries.json()["requests"]) == 1
