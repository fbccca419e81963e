"""The mock's logs: a line per request and per delivery attempt, one format for every
logger (text or JSON), and no key, media signature or delivery URL secret in any line."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

import runware_contract as rc
from mockserver import compiled
from mockserver.base import logs, request_log
from mockserver.base.security import mask, redact_url, sign
from mockserver.lifecycle.delivery import Deliverer
from mockserver.lifecycle.targets import Allowlist
from tests.conftest import REPO
from tests.helpers import eventually, new_task

KEY = "sk-logs-0123456789abcdef"
BANNER = re.compile(r"listening on http://127\.0\.0\.1:(?P<port>\d+)/v1")
TEXT_LINE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: \S"
)


class Mock:
    """A ``python -m mockserver`` process, its banner and its log (stderr, in a file)."""

    def __init__(self, process: subprocess.Popen[str], banner: list[str], log: Path) -> None:
        self.process, self.banner, self.log = process, banner, log
        found = BANNER.search(banner[0])
        assert found, banner
        self.base = f"http://127.0.0.1:{found['port']}"

    def lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines()

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines()]


@contextlib.contextmanager
def mock_process(tmp_path: Path, *flags: str) -> Iterator[Mock]:
    log = tmp_path / "stderr.log"
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "--port", "0", "--api-key", KEY, *flags],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(3)]
        mock = Mock(process, banner, log)
        ready = eventually(lambda: _answers(f"{mock.base}/health"), timeout=20)
        assert ready, mock.lines()
        yield mock
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def json_mock(tmp_path: Path) -> Iterator[Mock]:
    with mock_process(tmp_path, "--job-seconds", "0.1", "--log-format", "json") as mock:
        yield mock


def test_the_banner_comes_after_the_bind_with_the_real_port(json_mock: Mock) -> None:
    first, models, routes = json_mock.banner
    assert f"{json_mock.base}/v1" in first and ":0/" not in first
    assert "klingai:kling-video@3-pro" in models
    path = "compiled" if (compiled.build_dir() / compiled.MANIFEST).is_file() else "Python"
    assert routes.strip().startswith(
        f"health: {json_mock.base}/health; admin: {json_mock.base}/__admin/ (any accepted API "
        f"key); store: memory; job seconds: 0.1; request path: {path} ("
    )


def test_json_lines_per_request_and_delivery_with_no_secret(json_mock: Mock) -> None:
    base = json_mock.base
    auth = {"Authorization": f"Bearer {KEY}"}
    hook = "http://10.9.8.7:9/hook?token=hook-secret"
    put = "http://user:pw-secret@10.9.8.7/put?X-Amz-Signature=put-secret"
    task = new_task(webhookURL=hook, uploadEndpoint=put)
    with rc.Client(KEY, base_url=f"{base}/v1", poll_interval=0.05) as client:
        (result,) = client.run(task)
    signature = result.videoURL.split("/video/")[1].split("/")[0]
    assert httpx.get(result.videoURL).status_code == 200
    bad = new_task(duration=99)
    assert httpx.post(f"{base}/v1", json=[bad], headers=auth).status_code == 400
    assert httpx.get(f"{base}/__admin/requests", headers=auth).status_code == 200
    assert httpx.get(f"{base}/nowhere", headers=auth).status_code == 404
    with connect(base.replace("http", "ws") + "/v1") as ws:
        ws.send(json.dumps([{"taskType": "authentication", "apiKey": "sk-wrong-key-secret"}]))
        ws.recv(timeout=5)
        ws.send(json.dumps([{"taskType": "authentication", "apiKey": KEY}]))
        ws.recv(timeout=5)
        ws.send(json.dumps([bad]))
        ws.recv(timeout=5)

    def deliveries() -> list[dict[str, Any]]:
        return [r for r in json_mock.records() if r.get("event") == "delivery"]

    assert len(eventually(lambda: len(deliveries()) >= 2 and deliveries())) == 2
    json_mock.process.terminate()
    json_mock.process.wait(timeout=10)
    records = json_mock.records()
    for record in records:
        assert list(record)[:4] == ["time", "level", "logger", "message"], record
    assert {r["logger"] for r in records} >= {"uvicorn.error", "mockserver.request"}
    requests = [r for r in records if r.get("event") == "request"]
    for r in requests:
        assert set(r) >= {"transport", "method", "path", "status", "ms", "taskTypes"}, r
        assert isinstance(r["ms"], float) and r["ms"] >= 0
    by = {(r["transport"], r["status"], tuple(r["taskTypes"])): r for r in requests}
    submitted = by["rest", 200, ("videoInference",)]
    assert submitted["taskUUIDs"] == [task["taskUUID"]] and submitted["errorCodes"] == []
    assert by["rest", 200, ("getResponse",)]["method"] == "POST"
    refused = by["rest", 400, ("videoInference",)]
    assert refused["taskUUIDs"] == [bad["taskUUID"]] and refused["errorCodes"]
    media = by["media", 200, ()]
    assert media["path"].startswith("/video/[redacted]/") and media["method"] == "GET"
    assert by["admin", 200, ()]["path"] == "/__admin/requests"
    assert by["http", 404, ()]["errorCodes"] == ["invalidEndpoint"]
    assert by["websocket", 401, ("authentication",)]["errorCodes"] == ["invalidApiKey"]
    assert by["websocket", 200, ("authentication",)]["method"] == "FRAME"
    assert by["websocket", 400, ("videoInference",)]["errorCodes"] == refused["errorCodes"]
    kinds = {d["kind"]: d for d in deliveries()}
    for kind, method in (("webhook", "POST"), ("upload", "PUT")):
        line = kinds[kind]
        assert (line["outcome"], line["method"], line["level"]) == ("refused", method, "WARNING")
        assert "outside --delivery-allow" in line["reason"], line
        assert line["taskUUID"] == task["taskUUID"]
    assert kinds["webhook"]["url"] == "http://10.9.8.7:9/hook?[redacted]"
    assert kinds["upload"]["url"] == "http://[redacted]@10.9.8.7/put?[redacted]"
    text = json_mock.log.read_text(encoding="utf-8")
    for secret in (KEY, "sk-wrong-key-secret", signature, "hook-secret", "pw-secret", "put-secret"):
        assert secret not in text, secret
    assert "HTTP/1.1" not in text  # uvicorn's access log is replaced, not doubled


def test_text_lines_of_every_logger_share_one_format(tmp_path: Path) -> None:
    with mock_process(tmp_path) as mock:
        reply = httpx.post(f"{mock.base}/v1", json=[new_task(duration=99)])
        assert reply.status_code == 401
        mock.process.terminate()
        mock.process.wait(timeout=10)
        lines = mock.lines()
        assert [line for line in lines if not TEXT_LINE.match(line)] == []
        (request,) = [line for line in lines if " mockserver.request: rest " in line]
        assert any(" mockserver.request: http GET /health 200 " in line for line in lines)
        assert re.search(
            r"INFO mockserver\.request: rest POST /v1 401 [0-9.]+ ms taskTypes=videoInference "
            r"taskUUIDs=\S+ errors=missingApiKey$",
            request,
        ), request
        assert any(" uvicorn.error: Application startup complete." in line for line in lines)


def test_workers_log_in_the_same_format_without_an_access_log(tmp_path: Path) -> None:
    flags = ("--workers", "2", "--store", f"sqlite:{tmp_path / 'mock.db'}", "--log-format", "json")
    with mock_process(tmp_path, *flags) as mock:
        assert "store: sqlite:" in mock.banner[2] and "2 workers" in mock.banner[2]
        headers = {"Authorization": f"Bearer {KEY}"}
        assert httpx.post(f"{mock.base}/v1", json=[new_task()], headers=headers).is_success
        mock.process.terminate()
        mock.process.wait(timeout=10)
        records = mock.records()  # every line JSON, the workers' too
        assert any(r.get("transport") == "rest" and r["status"] == 200 for r in records)
        assert {r["logger"] for r in records} >= {"uvicorn.error", "mockserver.request"}
        assert not [r for r in records if r["logger"] == "uvicorn.access"]


def test_warning_level_logs_no_request_lines(tmp_path: Path) -> None:
    with mock_process(tmp_path, "--log-level", "warning") as mock:
        headers = {"Authorization": f"Bearer {KEY}"}
        assert httpx.post(f"{mock.base}/v1", json=[new_task()], headers=headers).is_success
        assert httpx.get(f"{mock.base}/health").is_success
        mock.process.terminate()
        mock.process.wait(timeout=10)
        assert mock.lines() == []


def test_above_info_a_request_line_builds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(tasks: Any) -> Any:
        raise AssertionError("built a request line at warning level")

    monkeypatch.setattr(request_log, "task_ids", forbidden)
    logger = logging.getLogger("mockserver.request")
    saved = logger.level
    try:
        logger.setLevel(logging.WARNING)  # setLevel: the enabled cache is cleared
        request_log.line("rest", "POST", "/v1", 200, time.perf_counter(), [new_task()])
        logger.setLevel(logging.INFO)
        with pytest.raises(AssertionError, match="built a request line"):
            request_log.line("rest", "POST", "/v1", 200, time.perf_counter(), [new_task()])
    finally:
        logger.setLevel(saved)


def record(message: str, *args: Any, **fields: Any) -> logging.LogRecord:
    made = logging.LogRecord("mockserver.x", logging.WARNING, __file__, 1, message, args, None)
    made.fields = fields
    return made


def test_both_formats_mask_keys_and_signatures_in_any_record() -> None:
    signature = sign(b"secret", "video", "abc/clip.mp4")
    path = f"/video/{signature}/abc/clip.mp4"
    made = record("GET %s with apiKey=%s", path, KEY, path=path)
    text = logs.TextFormatter().format(made)
    as_json = json.loads(logs.JsonFormatter().format(made))
    for line in (text, json.dumps(as_json)):
        assert signature not in line and KEY not in line
    assert as_json["path"] == as_json["message"].split()[1] == "/video/[redacted]/abc/clip.mp4"
    try:
        raise ValueError(f"bad {path}")
    except ValueError:
        failed = record("failed")
        failed.exc_info = sys.exc_info()
    entry = json.loads(logs.JsonFormatter().format(failed))
    assert "ValueError: bad /video/[redacted]/abc/clip.mp4" in entry["exception"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:9/hook", "http://127.0.0.1:9/hook"),
        ("https://hooks.test/h?token=abc", "https://hooks.test/h?[redacted]"),
        (
            "https://u:p@s3.test/b/k?X-Amz-Signature=f00",
            "https://[redacted]@s3.test/b/k?[redacted]",
        ),
        ("not a url", "not a url"),
    ],
)
def test_delivery_urls_lose_their_credentials_in_logs(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_mask_leaves_unsigned_paths_alone() -> None:
    assert mask("/video/abc.mp4 and /image/0123") == "/video/abc.mp4 and /image/0123"


def test_configure_puts_every_logger_through_one_handler() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    names = ("uvicorn", "uvicorn.error", "uvicorn.access", "mockserver")
    loggers = [logging.getLogger(name) for name in names]
    states = [(lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    try:
        logs.configure("info", "json", stream)
        logs.configure("info", "json", stream)  # again: still one handler of ours
        logging.getLogger("uvicorn.error").info("from uvicorn")
        logging.getLogger("mockserver.delivery").debug("below the level")
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        assert [(e["logger"], e["message"]) for e in lines] == [("uvicorn.error", "from uvicorn")]
        with pytest.raises(ValueError, match="log format"):
            logs.configure("info", "xml")
        # uvicorn logs access whenever its access logger has a handler: it has none
        assert not logging.getLogger("uvicorn.access").hasHandlers()
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        for lg, (handlers, level, propagate) in zip(loggers, states, strict=True):
            lg.handlers[:], lg.propagate = handlers, propagate
            lg.setLevel(level)


def test_each_delivery_attempt_is_one_line(caplog: pytest.LogCaptureFixture) -> None:
    answers = iter([500, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(answers))

    async def deliver() -> None:
        deliverer = Deliverer(
            attempts=3,
            timeout=5,
            backoff=0.01,
            allow=Allowlist.parse(["127.0.0.1"]),
            transport=httpx.MockTransport(handler),
        )
        deliverer.webhook("http://127.0.0.1:9/hook?token=t0k", "task-1", {"data": []})
        deliverer.webhook("http://192.0.2.1/hook", "task-2", {"data": []})
        await deliverer.drain()
        await deliverer.close()

    caplog.set_level(logging.INFO, logger="mockserver.delivery")
    asyncio.run(deliver())
    lines = [r for r in caplog.records if r.name == "mockserver.delivery"]
    found = {(r.fields["taskUUID"], r.fields["outcome"]): r for r in lines}  # type: ignore[attr-defined]
    assert sorted(found) == [("task-1", "ok"), ("task-1", "retry"), ("task-2", "refused")]
    retry = found["task-1", "retry"]
    assert retry.levelname == "WARNING" and retry.fields["status"] == 500  # type: ignore[attr-defined]
    assert retry.fields["retryIn"] == 0.01  # type: ignore[attr-defined]
    assert "attempt 1/3: answered 500; again in 0.01 s" in retry.getMessage()
    ok = found["task-1", "ok"]
    assert ok.levelname == "INFO" and "attempt 2/3: answered 200" in ok.getMessage()
    assert "t0k" not in ok.getMessage() and ok.fields["url"].endswith("?[redacted]")  # type: ignore[attr-defined]
    refused = found["task-2", "refused"].getMessage()
    assert "refused, not contacted: 192.0.2.1 resolves to 192.0.2.1, outside" in refused


def test_text_lines_escape_control_characters_a_client_sent() -> None:
    """A taskUUID with a newline, a taskType with CRLF, ANSI and C1 escapes: one line, with
    the characters written as escapes; a traceback keeps its own line breaks."""
    forged = "x\n2026-01-01T00:00:00.000Z INFO mockserver.request: forged\r\x1b[31m\x9b0m\u2028"
    line = logs.TextFormatter().format(record("rest POST /v1 400 taskUUIDs=%s", forged))
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\x9b" not in line
    assert line.endswith("taskUUIDs=x\\n2026-01-01T00:00:00.000Z INFO mockserver.request: "
                         "forged\\r\\x1b[31m\\x9b0m\\u2028")  # fmt: skip
    assert logs.escaped("plain ünïcode text") == "plain ünïcode text"
    try:
        raise ValueError("boom")
    except ValueError:
        failed = record("failed")
        failed.exc_info = sys.exc_info()
    assert "\nTraceback" in logs.TextFormatter().format(failed)


def test_a_repeated_warning_is_logged_once_per_interval_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from mockserver.lifecycle.supervise import Repeated

    now = [0.0]
    repeated = Repeated(logging.getLogger("mockserver.test"), interval=10.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING):
        for second in range(25):  # 25 failures a second for 25 s
            now[0] = float(second)
            for _ in range(25):
                repeated.warning("storage unavailable claiming task %s", "t")
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "storage unavailable claiming task t",
        "storage unavailable claiming task t (and 249 more like it in the last 10 s)",
        "storage unavailable claiming task t (and 249 more like it in the last 10 s)",
    ]
