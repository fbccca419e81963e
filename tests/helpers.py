"""What the tests share: free ports, waiting on a condition, the tasks they send, the
videos they check, the webhook/upload receiver, a real Redis. One module, so test modules do
not import each other."""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import copy
import io
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import httpx
import orjson
import pytest
from pydantic import ValidationError

import runware_contract as rc
from mockserver.store import TaskRecord, VideoRecord
from runware_contract import klingai_video_3_0_pro as kling

if TYPE_CHECKING:  # conftest imports the hostile harness, which imports this module
    from tests.conftest import MockHandle

T2V = copy.deepcopy(kling.EXAMPLES[0].request)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def eventually(check: Any, timeout: float = 30.0, interval: float = 0.05) -> Any:
    """``check()``'s first truthy value within ``timeout`` seconds, else its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def model_errors(task: dict[str, Any], model: Any = kling) -> set[tuple[str, str]]:
    """(code, parameter) of every error ``model``'s typed request raises for ``task``."""
    try:
        model.Request.model_validate(task)
    except ValidationError as exc:
        return {(e["ctx"]["code"], e["ctx"]["parameter"]) for e in exc.errors()}
    return set()


def expected_codes(model: Any, name: str) -> set[str]:
    """The codes a strategies case of ``model`` may raise: a field constraint's
    (``path:constraint``, the parameter's own code first) or a rule kind's."""
    from runware_contract.platform import CONSTRAINT_CODES, RULE_CODES

    if ":" in name:
        path, constraint = name.rsplit(":", 1)
        p = next(p for p in model.tables.PARAMETERS if p["path"] == path)
        return {p.get("codes", {}).get(constraint, CONSTRAINT_CODES[constraint])}
    rule = next(r for r in model.tables.RULES if r["id"] == name)
    return set(RULE_CODES[rule["kind"]].values())


def validator_errors(task: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["code"], str(e["parameter"])) for e in rc.validate(task)}


def new_task(**changes: Any) -> dict[str, Any]:
    task = copy.deepcopy(T2V)
    task["taskUUID"] = str(uuid.uuid4())
    task.update(changes)
    return task


def image_task(model: str, /, **changes: Any) -> dict[str, Any]:
    """An imageInference task for ``model`` (1024x1024, a prompt, a new taskUUID), with
    ``changes`` (a ``model`` among them replaces it)."""
    task: dict[str, Any] = {
        "taskType": "imageInference",
        "taskUUID": str(uuid.uuid4()),
        "model": model,
        "positivePrompt": "a lighthouse at dusk",
        "width": 1024,
        "height": 1024,
    }
    return task | changes


def wait_results(mock: MockHandle, task_uuid: str, timeout: float = 10) -> httpx.Response:
    """The first poll of ``task_uuid`` that has its results (or an error)."""

    def finished() -> httpx.Response | None:
        response = mock.poll(task_uuid)
        body = response.json()
        items = body.get("data", [])
        done = items and all(i.get("status") == "success" for i in items)
        return response if body.get("errors") or done else None

    response: httpx.Response | None = eventually(finished, timeout)
    assert response is not None, f"no results for {task_uuid} within {timeout} s"
    return response


def outcomes(mock: MockHandle) -> list[dict[str, Any]]:
    """The mock's delivery outcomes (``GET /__admin/deliveries``)."""
    result: list[dict[str, Any]] = mock.client.get("/__admin/deliveries").json()["deliveries"]
    return result


def wait_outcomes(mock: MockHandle, count: int, timeout: float = 15) -> list[dict[str, Any]]:
    """The delivery outcomes once there are ``count``; fails after ``timeout`` seconds."""
    found: list[dict[str, Any]] | None = eventually(
        lambda: got if len(got := outcomes(mock)) >= count else None, timeout
    )
    assert found is not None, outcomes(mock)
    return found


def png(width: int, height: int) -> bytes:
    context = av.CodecContext.create("png", "w")
    context.width, context.height, context.pix_fmt = width, height, "rgb24"
    frame = av.VideoFrame(width, height, "rgb24")
    return b"".join(bytes(p) for p in context.encode(frame))


SHARED_DOCS = Path(__file__).resolve().parents[2] / "shared" / "docs"
# An image model page this project wrote, which the mock's and the SDKs' image tests serve
IMAGE_PAGE = Path(__file__).resolve().parent / "data" / "pages" / "mock" / "acme-still-1.md"


def real_page(name: str) -> Path:
    """One of Runware's published model pages in ../shared/docs/ (never committed here):
    skipped with the reason where it is absent, failed in CI (which has them)."""
    path = SHARED_DOCS / name
    if not path.is_file():
        message = f"Runware's page {name} not found in {SHARED_DOCS} (it is not committed here)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def image_file(item: dict[str, Any], get: Callable[[str], bytes]) -> bytes:
    """The bytes of an image result, whichever field carries them: ``imageURL`` (fetched with
    ``get``), ``imageDataURI`` or ``imageBase64Data``."""
    if item.get("imageURL"):
        return get(item["imageURL"])
    if item.get("imageDataURI"):
        head, _, data = item["imageDataURI"].partition(",")
        assert head.startswith("data:image/") and head.endswith(";base64"), head
        return base64.b64decode(data)
    return base64.b64decode(item["imageBase64Data"])


def image_probe(data: bytes) -> tuple[str, int, int]:
    """An image's codec (Pillow's format name), width and height, from the whole file
    decoded (not only its header)."""
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    return str(image.format), image.width, image.height


def probe(data: bytes) -> tuple[str, str, int, int, float]:
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.video[0]
        duration = float(container.duration or 0) / av.time_base
        return (
            container.format.name,
            stream.codec_context.name,
            stream.codec_context.width,
            stream.codec_context.height,
            duration,
        )


def frame_rate(data: bytes) -> tuple[float, int]:
    """A video's frame rate as its container states it (frames per second) and the number
    of frames it really holds (decoded, not taken from the header)."""
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 0)
        return rate, sum(1 for _ in container.decode(stream))


# ── a real Redis (Debian's redis-server), for the Redis store's tests ───────────


@dataclass
class RedisServer:
    """A ``redis-server`` on a free loopback port, its data in ``directory``."""

    directory: Path
    appendonly: bool = False
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            redis_server_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", "always",
            "--daemonize", "no",
        ]  # fmt: skip
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        assert eventually(self.answers, timeout=10), f"redis-server on {self.port} never answered"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


def redis_server_binary() -> str:
    """The redis-server to run: skipped without one, but a failure in CI (where .ci/run
    installs it), since CI must run the tests of real components."""
    found = shutil.which("redis-server")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed: CI must run the Redis store tests")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    return found


@contextlib.contextmanager
def redis_server(directory: Path, appendonly: bool = False) -> Iterator[RedisServer]:
    server = RedisServer(directory, appendonly)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# ── a webhook and upload receiver ───────────────────────────────────────────


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


# How the receiver answers the ``attempt``-th request (1-based): the status it sent, if any.
Behaviour = Callable[["Receiver", BaseHTTPRequestHandler, int], int | None]


def answer(status: int, **headers: str) -> Behaviour:
    def behaviour(receiver: Receiver, handler: BaseHTTPRequestHandler, attempt: int) -> int:
        handler.send_response(status)
        for name, value in {"Content-Length": "0", **headers}.items():
            handler.send_header(name, value)
        handler.end_headers()
        return status

    return behaviour


def fail_first(count: int) -> Behaviour:
    """500 to the first ``count`` requests, 200 after."""

    def behaviour(receiver: Receiver, handler: BaseHTTPRequestHandler, attempt: int) -> int | None:
        return answer(500 if attempt <= count else 200)(receiver, handler, attempt)

    return behaviour


def hang(receiver: Receiver, handler: BaseHTTPRequestHandler, attempt: int) -> None:
    """No answer until the receiver closes (at most 30 s)."""
    receiver.release.wait(30)
    handler.close_connection = True


class Receiver:
    """A loopback HTTP server for webhook POSTs and upload PUTs: ``requests`` is every
    request in arrival order, ``received`` those it answered with 2xx; ``behaviour`` answers
    (default 200). A context manager: serving inside the block, closed after it.
    ``keep_alive`` answers in HTTP/1.1 (connections reused, as most receivers do)."""

    def __init__(self, behaviour: Behaviour | None = None, keep_alive: bool = False) -> None:
        self.behaviour = behaviour or answer(200)
        self.requests: list[Received] = []
        self.received: list[Received] = []
        self.release = threading.Event()  # ends hanging answers
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def _take(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                got = Received(self.command, self.path, self.headers.get("Content-Type", ""), body)
                with receiver._lock:
                    receiver.requests.append(got)
                    attempt = len(receiver.requests)
                if len(body) < length:  # the sender went away mid-body: nothing delivered
                    self.close_connection = True
                    return
                status = receiver.behaviour(receiver, self, attempt)
                if status is not None and 200 <= status < 300:
                    with receiver._lock:
                        receiver.received.append(got)

            do_POST = do_PUT = _take

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def hook(self) -> str:
        """A webhook URL on this receiver."""
        return f"{self.url}/hook"

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        """``received`` once it holds ``count`` requests; fails after ``timeout`` seconds."""
        assert eventually(lambda: len(self.received) >= count, timeout), (self.received, count)
        return self.received

    @property
    def json_bodies(self) -> list[Any]:
        """The JSON bodies of the POSTs answered 2xx (what a webhook consumer got)."""
        found = []
        for r in list(self.received):
            if r.method == "POST":
                with contextlib.suppress(ValueError):
                    found.append(r.json())
        return found

    @property
    def duplicates(self) -> int:
        """Bodies received more than once (a delivery repeated)."""
        return len(self.received) - len({r.body for r in list(self.received)})

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


# ── store records, for the Store contract tests (memory, SQLite, Redis) ──────────


OWNER = "0123456789abcdef0123456789abcdef"  # an owner tag (a keyed hash of a key)


def record(
    n: int, *, expires_at: float = 100.0, webhook: bool = False, owner: str = OWNER
) -> TaskRecord:
    task_uuid = f"00000000-0000-4000-8000-{n:012d}"
    return TaskRecord(
        task_uuid=task_uuid,
        task_type="videoInference",
        owner=owner,
        created=0.0,
        ready_at=1.0,
        results_json=orjson.dumps(
            [{"taskUUID": task_uuid, "videoUUID": video_uuid(n), "cost": 0.56}]
        ).decode(),
        expires_at=expires_at,
        webhook_url="http://127.0.0.1:9/hook" if webhook else None,
    )


def video_uuid(n: int) -> str:
    return f"11111111-0000-4000-8000-{n:012d}"


def video(n: int, forget_at: float = float("inf")) -> VideoRecord:
    return VideoRecord(video_uuid(n), "MP4", 1920, 1080, 5, 1.0, None, forget_at)


def assert_accepted_once(
    clients: tuple[httpx.Client, httpx.Client], tasks: list[dict[str, Any]]
) -> None:
    """Send every task to both clients at once: each taskUUID is accepted by exactly one, and
    the other answers ``conflictTaskUUID``."""
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        replies = list(
            pool.map(
                lambda pair: pair[0].post("/v1", json=[pair[1]]).json(),
                [(client, t) for t in tasks for client in clients],
            )
        )
    for index in range(len(tasks)):
        pair = replies[2 * index : 2 * index + 2]
        assert sorted("data" in r for r in pair) == [False, True], pair
        assert [e["code"] for r in pair for e in r.get("errors", [])] == ["conflictTaskUUID"]


def spec_with_pages(spec_dir: Path, source: Path, pages: list[Path]) -> Path:
    """``spec_dir``: a copy of the spec folder ``source`` with each docs page imported into
    ``models/<page stem>.yaml`` (the family tests' one spec of many models)."""
    from codegen.docs.importer import import_page, load_platform

    shutil.copytree(source, spec_dir)
    platform = load_platform(source)
    for page in pages:
        result = import_page(page.read_text(encoding="utf-8"), platform)
        (spec_dir / "models" / f"{page.stem}.yaml").write_text(result.text, encoding="utf-8")
    return spec_dir
