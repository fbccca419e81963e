"""The admin API under hostile input: numbers, sizes, query strings and counts.

Before: ``afterSeconds: 1e999`` (or NaN) was armed despite a 500, made polls 500 and left an
SQLite store the server could not start on again; a 300 MB admin body was read whole;
``limit=%C2%B2`` or a 5,000-digit limit was a 500; journal bodies were kept as object trees;
scenarios had no cap.
"""

from __future__ import annotations

import contextlib
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from .harness import Effect, MockProcess, Watch, mock_process, report, statuses

TEXT_TO_VIDEO: dict[str, Any] = {
    "taskType": "videoInference",
    "model": "klingai:kling-video@3-pro",
    "positivePrompt": "a volcano at dusk",
    "width": 1920,
    "height": 1080,
}


def _scenario(proc: MockProcess, body: bytes) -> Any:
    return proc.client.post(
        "/__admin/scenarios", content=body, headers={"content-type": "application/json"}
    )


# A body and its code: what is not JSON (orjson refuses NaN, Infinity, 1e999 and integers
# past 64 bits) is invalidRequestBody; a number that is JSON but too large, valueTooLarge.
NON_FINITE = [
    (b'{"fail": {"code": "inferenceError", "afterSeconds": 1e999}}', "invalidRequestBody"),
    (b'{"fail": {"code": "inferenceError", "afterSeconds": NaN}}', "invalidRequestBody"),
    (b'{"fail": {"code": "inferenceError", "afterSeconds": Infinity}}', "invalidRequestBody"),
    (b'{"fail": {"code": "inferenceError", "afterSeconds": 1e300}}', "valueTooLarge"),
    (b'{"respond": {"status": 429, "retryAfter": 1e308}}', "valueTooLarge"),
    (b'{"latency": {"fixedMs": 1e200}}', "valueTooLarge"),
    (b'{"latency": {"minMs": 0, "maxMs": -Infinity}}', "invalidRequestBody"),
    (b'{"respond": {"status": 503}, "times": 1' + b"0" * 5000 + b"}", "invalidRequestBody"),
]


def test_non_finite_and_huge_scenario_numbers_are_400s(tmp_path: Path) -> None:
    store = f"sqlite:{tmp_path / 'mock.db'}"
    codes: list[int] = []
    with mock_process("--store", store, "--job-seconds", "0.1") as proc, Watch(proc) as watch:
        for body, code in NON_FINITE:
            reply = _scenario(proc, body)
            codes.append(reply.status_code)
            assert reply.status_code == 400, (body[:80], reply.text[:200])
            assert reply.json()["errors"][0]["code"] == code, (body[:80], reply.text[:200])
        assert proc.client.get("/__admin/scenarios").json()["scenarios"] == []
        task = {**TEXT_TO_VIDEO, "taskUUID": str(uuid.uuid4())}
        assert proc.client.post("/v1", json=[task]).status_code == 200
        time.sleep(0.3)
        poll = [{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]
        codes.append(proc.client.post("/v1", json=poll).status_code)
    report(Effect.of("non-finite scenario numbers", watch, statuses=statuses(codes)))
    assert codes[-1] == 200
    with mock_process("--store", store) as again:  # the store still opens
        assert again.alive()


def test_a_scenario_names_the_field_it_refuses() -> None:
    with mock_process() as proc:
        reply = _scenario(proc, b'{"latency": {"minMs": 0, "maxMs": 1e12}}')
    assert reply.status_code == 400
    err = reply.json()["errors"][0]
    assert err["parameter"] == "latency.maxMs" and "maxMs" in err["message"]


def test_scenarios_are_capped() -> None:
    codes: list[int] = []
    with mock_process() as proc, Watch(proc) as watch:
        for _ in range(120):
            codes.append(_scenario(proc, b'{"latency": {"fixedMs": 1}}').status_code)
        armed = len(proc.client.get("/__admin/scenarios").json()["scenarios"])
        refused = _scenario(proc, b'{"latency": {"fixedMs": 1}}').json()
    report(Effect.of("120 scenarios armed", watch, statuses=statuses(codes)))
    assert armed == 100
    assert codes.count(201) == 100 and codes.count(400) == 20
    assert "100" in refused["errors"][0]["message"]
    assert refused["errors"][0]["code"] == "tooManyScenarios"


@pytest.mark.parametrize("limit", ["%C2%B2", "1" * 5000, "-1", "1e3", " 5", "abc"])
def test_bad_journal_limits_are_400s(limit: str) -> None:
    with mock_process() as proc:
        reply = proc.client.get(f"/__admin/requests?limit={limit}")
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["parameter"] == "limit"


def test_journal_limit_zero_returns_nothing() -> None:
    with mock_process() as proc:
        proc.client.post("/v1", json=[{"taskType": "ping", "ping": True}])
        reply = proc.client.get("/__admin/requests?limit=0")
    assert reply.status_code == 200
    assert reply.json()["requests"] == [] and reply.json()["total"] == 1


def _send_admin_body(proc: MockProcess, size: int) -> tuple[int, float]:
    """POST a ``size``-byte scenario body over a raw socket; the status and seconds taken."""
    started = time.perf_counter()
    head = (
        f"POST /__admin/scenarios HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {proc.api_key}"
        f"\r\ncontent-type: application/json\r\ncontent-length: {size}\r\n\r\n"
    ).encode()
    answer = b""
    with socket.create_connection(("127.0.0.1", proc.port), timeout=60) as sock:
        sock.sendall(head)
        chunk = b" " * (1024 * 1024)
        with contextlib.suppress(OSError):  # the server may stop reading: that is fine
            for _ in range(size // len(chunk)):
                sock.sendall(chunk)
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in answer and (part := sock.recv(65536)):
                answer += part
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return status, time.perf_counter() - started


def test_a_huge_admin_body_is_refused_unread() -> None:
    """Before: a 300 MB body was read whole (RSS +300 MiB, 7.5 s) and then a 400."""
    with mock_process() as proc, Watch(proc) as watch:
        status, took = _send_admin_body(proc, 100 * 1024 * 1024)
    report(Effect.of("100 MB admin body", watch, statuses=statuses([status]),
                     note=f"413 after {took * 1000:.0f} ms"))  # fmt: skip
    assert status == 413
    assert watch.rss_growth_mib < 50


def test_the_journal_keeps_no_object_trees() -> None:
    """Bodies of many tiny JSON values were kept parsed: 4 MiB of ``[]`` is ~130 MB of lists."""
    body = b'[{"taskType": "ping", "ping": true, "k": [' + b"[]," * 340_000 + b"[]]}]"
    with mock_process() as proc:
        before = proc.rss_mib()
        for _ in range(4):
            proc.client.post("/v1", content=body, headers={"content-type": "application/json"})
        held = proc.rss_mib() - before
        entries = proc.client.get("/__admin/requests?limit=4").json()["requests"]
    report(Effect("4 journalled 1 MB bodies of []", rss_growth_mib=round(held, 1),
                  note="RSS held after the requests"))  # fmt: skip
    assert held < 60  # before: 102 MiB held (this run's parse alone leaves about 30)
    assert len(entries) == 4 and entries[0]["size"] == len(body) and entries[0]["truncated"]
