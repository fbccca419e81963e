"""A body of many tiny invalid tasks must not become a huge error reply.

``[1,1,1,...]`` of 10 MB used to be answered with one error per element: a 785 MB reply
built in 2.3 GB of memory (over a compressed WebSocket, a 10 KB frame did the same). Now a
request or frame holds at most ``--max-tasks-per-request`` tasks (one ``tooManyTasks`` error
beyond it, before anything is validated), a task reports at most 100 violations, a reply at
most 100 errors, and no error echoes more than a short prefix of a value.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
from websockets.sync.client import connect

from .harness import Effect, MockProcess, Watch, mock_process, report, statuses


def _ones(size: int) -> bytes:
    return b"[" + b"1," * (size // 2 - 1) + b"1]"


def _post(proc: MockProcess, body: bytes) -> tuple[int, bytes, float]:
    started = time.perf_counter()
    reply = proc.client.post("/v1", content=body, headers={"content-type": "application/json"})
    return reply.status_code, reply.content, time.perf_counter() - started


def _rest_attack(size: int, name: str) -> None:
    body = _ones(size)
    with mock_process() as proc, Watch(proc) as watch:
        status, reply, took = _post(proc, body)
    report(Effect.of(name, watch, statuses=statuses([status]),
                     note=f"reply {len(reply)} B in {took * 1000:.0f} ms"))  # fmt: skip
    assert status == 400
    assert json.loads(reply)["errors"][0]["code"] == "tooManyTasks"
    assert len(reply) < 2_000
    assert watch.rss_growth_mib < 100


def test_a_megabyte_of_ones_gets_one_small_error() -> None:
    _rest_attack(1024 * 1024, "1 MB [1,1,...] REST")


@pytest.mark.hostile_full
def test_ten_megabytes_of_ones_gets_one_small_error() -> None:
    _rest_attack(10 * 1024 * 1024 - 16, "10 MB [1,1,...] REST")


def test_a_websocket_frame_of_ones_gets_one_small_error() -> None:
    frame = _ones(1024 * 1024).decode()
    with (
        mock_process() as proc,
        Watch(proc) as watch,
        connect(proc.ws_url, open_timeout=10, max_size=None) as sock,
    ):
        sock.send(json.dumps([{"taskType": "authentication", "apiKey": proc.api_key}]))
        json.loads(sock.recv(timeout=10))
        started = time.perf_counter()
        sock.send(frame)
        reply = sock.recv(timeout=60)
        took = time.perf_counter() - started
    report(Effect.of("1 MB [1,1,...] WebSocket frame", watch,
                     note=f"reply {len(reply)} B in {took * 1000:.0f} ms"))  # fmt: skip
    assert json.loads(reply)["errors"][0]["code"] == "tooManyTasks"
    assert len(reply) < 2_000
    assert watch.rss_growth_mib < 100


def test_errors_of_allowed_tasks_stay_smaller_than_the_request() -> None:
    """100 tasks (the limit), each with a long taskUUID and many long unknown keys."""
    long = "u" * 2000
    tasks = [
        {"taskType": "ping", "taskUUID": long + str(i), **{f"{long}{k}": 1 for k in range(40)}}
        for i in range(100)
    ]
    body = json.dumps(tasks).encode()
    with mock_process() as proc, Watch(proc) as watch:
        status, reply, _ = _post(proc, body)
    report(Effect.of("100 tasks x 40 long unknown keys", watch, statuses=statuses([status]),
                     note=f"request {len(body)} B, reply {len(reply)} B"))  # fmt: skip
    assert status == 400
    errors = json.loads(reply)["errors"]
    assert len(errors) == 100  # the first 100 of 4,100
    assert len(reply) < len(body) / 10


def test_a_long_enum_value_is_echoed_only_in_part() -> None:
    task = {
        "taskType": "videoInference",
        "taskUUID": str(uuid.uuid4()),
        "model": "klingai:kling-video@3-pro",
        "positivePrompt": "a lighthouse",
        "outputFormat": "X" * 100_000,
    }
    with mock_process() as proc:
        reply = proc.client.post("/v1", json=[task])
    assert reply.status_code == 400
    (err,) = [e for e in reply.json()["errors"] if e["parameter"] == "outputFormat"]
    assert len(err["message"]) < 400
