"""Real, playable video files (PyAV), small and cached."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from fractions import Fraction
from typing import cast

import av
from av.video.stream import VideoStream

CONTENT_TYPES = {"MP4": "video/mp4", "WEBM": "video/webm", "MOV": "video/quicktime"}
_CONTAINERS = {"MP4": ("mp4", "libx264"), "WEBM": ("webm", "libvpx-vp9"), "MOV": ("mov", "libx264")}
FPS = 2  # enough to be a real video, few enough frames to stay small and fast


def render_video(container: str, width: int, height: int, seconds: int) -> bytes:
    """A video of ``seconds`` at ``width`` x ``height``: slowly changing grey frames."""
    fmt, codec = _CONTAINERS[container]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as out:
        stream = cast(VideoStream, out.add_stream(codec, rate=FPS))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, FPS)
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "crf": "45"}
        else:
            stream.options = {"deadline": "realtime", "cpu-used": "8", "crf": "60", "b": "0"}
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


class VideoCache:
    """Rendered files by (container, width, height, seconds), least recently used first out."""

    def __init__(self, capacity: int = 32) -> None:
        self.capacity = capacity
        self._files: OrderedDict[tuple[str, int, int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._rendering: dict[tuple[str, int, int, int], threading.Lock] = {}

    def get(self, container: str, width: int, height: int, seconds: int) -> bytes:
        key = (container, width, height, seconds)
        with self._lock:
            if key in self._files:
                self._files.move_to_end(key)
                return self._files[key]
            gate = self._rendering.setdefault(key, threading.Lock())
        with gate:  # one render per key, even under concurrent requests
            with self._lock:
                if key in self._files:
                    return self._files[key]
            try:
                data = render_video(container, width, height, seconds)
            finally:  # a failed render leaves no gate behind either
                with self._lock:
                    self._rendering.pop(key, None)
            with self._lock:
                self._files[key] = data
                while len(self._files) > self.capacity:
                    self._files.popitem(last=False)
            return data
