"""What the tests share: free ports, waiting on a condition, the tasks they send and the
videos they check. One module, so test modules do not import each other."""

from __future__ import annotations

import copy
import io
import socket
import time
import uuid
from typing import TYPE_CHECKING, Any

import av
import httpx

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
