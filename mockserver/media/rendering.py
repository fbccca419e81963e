"""Real, playable video files (PyAV), small and cached; the bounded render cache that video and
image files (``images.py``) share."""

from __future__ import annotations

import asyncio
import io
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import cast

import av
from av.video.stream import VideoStream

from .containers import CONTAINERS

# Frames per second of every rendered file: the mock's own choice, not a model's. No model
# page states the frame rate its videos have (the spec has no such fact to render at), and
# 2 is enough to be a real, seekable video while a 1080p 15 s render stays under a CPU-second.
FPS = 2


def render_video(container: str, width: int, height: int, seconds: int) -> bytes:
    """A video of ``seconds`` at ``width`` x ``height``: slowly changing grey frames."""
    fmt, codec = CONTAINERS[container].extension, CONTAINERS[container].codec
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as out:
        stream = cast(VideoStream, out.add_stream(codec, rate=FPS))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, FPS)
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "crf": "45"}
        else:
            # No lookahead (lag-in-frames 0): about 100 MB less per 1080p render, measured.
            stream.options = {
                "deadline": "realtime",
                "cpu-used": "8",
                "crf": "60",
                "b": "0",
                "lag-in-frames": "0",
            }
        chroma = None
        for index in range(seconds * FPS):
            frame = av.VideoFrame(width, height, "yuv420p")
            frame.planes[0].update(bytes([40 + (index * 7) % 160]) * frame.planes[0].buffer_size)
            chroma = chroma or bytes([128]) * frame.planes[1].buffer_size
            frame.planes[1].update(chroma)
            frame.planes[2].update(chroma)
            frame.pts = index
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buffer.getvalue()


Key = tuple[str | int, ...]  # what a file is rendered from (its container first)


class RenderBusy(Exception):
    """Too many renders are waiting; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many renders waiting; retry after {retry_after} s")
        self.retry_after = retry_after


class RenderedFiles:
    """Files made by ``render`` from their key: rendered by ``workers`` threads (off the event
    loop) with at most ``queue`` more renders waiting, kept in an LRU cache of
    ``cache_bytes``. Past the queue, ``get`` raises ``RenderBusy`` at once; requests for a file
    being rendered (or waiting) share that render (coalesced). State is touched only on the
    event loop."""

    def __init__(
        self,
        render: Callable[[Key], bytes],
        cache_bytes: int = 64 * 1024 * 1024,
        queue: int = 4,
        workers: int = 1,
    ) -> None:
        self.render = render
        self.hits = self.misses = 0  # gets answered from the cache, and the others
        self.cache_bytes = cache_bytes
        self.queue = queue
        self.workers = workers
        self._files: OrderedDict[Key, bytes] = OrderedDict()
        self._held = 0  # bytes in _files
        self._pending: dict[Key, asyncio.Future[tuple[bytes, float]]] = {}
        self._seconds = 1.0  # a render's recent duration (for Retry-After)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="render")

    @property
    def rendering(self) -> int:
        """Distinct files being rendered or waiting to be (the dashboard's queue depth)."""
        return len(self._pending)

    async def get(self, *key: str | int, wait: bool = False) -> bytes:
        """The file; ``wait`` (background uploads) queues past the bound instead of failing."""
        if (cached := self._files.get(key)) is not None:
            self._files.move_to_end(key)
            self.hits += 1
            return cached
        self.misses += 1
        future = self._pending.get(key)
        if future is None:
            if not wait and len(self._pending) >= self.workers + self.queue:
                waiting = len(self._pending) / self.workers
                raise RenderBusy(max(1, math.ceil(waiting * self._seconds)))
            future = asyncio.get_running_loop().run_in_executor(self._pool, self._timed, key)
            self._pending[key] = future
            future.add_done_callback(lambda done: self._finished(key, done))
        data, _ = await asyncio.shield(future)  # a client that leaves does not cancel it
        return data

    def _finished(self, key: Key, future: asyncio.Future[tuple[bytes, float]]) -> None:
        self._pending.pop(key, None)
        if future.cancelled() or future.exception() is not None:
            return  # a failed render leaves nothing behind; the caller gets the exception
        data, seconds = future.result()
        self._seconds = 0.5 * self._seconds + 0.5 * seconds
        if len(data) > self.cache_bytes:
            return
        self._files[key] = data
        self._held += len(data)
        while self._held > self.cache_bytes:
            _, dropped = self._files.popitem(last=False)
            self._held -= len(dropped)

    @property
    def held_bytes(self) -> int:
        return self._held

    def close(self) -> None:
        """Drop waiting renders (the running one ends on its own); usable again afterwards."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="render")

    def _timed(self, key: Key) -> tuple[bytes, float]:
        started = time.perf_counter()
        data = self.render(key)
        return data, time.perf_counter() - started


class VideoFiles(RenderedFiles):
    """Rendered videos by (container, width, height, seconds). A render costs 0.3-1 CPU-s and
    up to 150 MB (VP9 at 1080p), and there are over a hundred distinct files, so a burst of
    distinct URLs must neither pile up threads nor pin both cores."""

    def __init__(
        self, cache_bytes: int = 64 * 1024 * 1024, queue: int = 4, workers: int = 1
    ) -> None:
        super().__init__(_video, cache_bytes, queue, workers)


def _video(key: Key) -> bytes:
    container, width, height, seconds = key
    return render_video(str(container), int(width), int(height), int(seconds))
