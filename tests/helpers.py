"""What the tests share: free ports, waiting on a condition, the tasks they send and the
videos they check, a real Redis. One module, so test modules do not import each other."""

from __future__ import annotations

import contextlib
import copy
import io
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import httpx
import pytest

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


def new_task(**changes: Any) -> dict[str, Any]:
    task = copy.deepcopy(T2V)
    task["taskUUID"] = str(uuid.uuid4())
    task.update(changes)
    return task


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


def png(width: int, height: int) -> bytes:
    context = av.CodecContext.create("png", "w")
    context.width, context.height, context.pix_fmt = width, height, "rgb24"
    frame = av.VideoFrame(width, height, "rgb24")
    return b"".join(bytes(p) for p in context.encode(frame))


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
