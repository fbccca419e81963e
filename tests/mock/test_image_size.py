"""Image sizes read from headers: every format a real encoder writes, and damaged headers."""

from __future__ import annotations

import io
from typing import cast

import av
import pytest
from av.video.codeccontext import VideoCodecContext

from mockserver.media.image_size import image_size
from tests.hostile.test_image_bombs import png_bomb


def encoded(codec: str, width: int, height: int, pix_fmt: str) -> bytes:
    """One frame, as ``codec`` writes it (PNG, JPEG, GIF and BMP encoders write whole files)."""
    context = cast(VideoCodecContext, av.CodecContext.create(codec, "w"))
    context.width, context.height, context.pix_fmt = width, height, pix_fmt
    return b"".join(bytes(p) for p in context.encode(av.VideoFrame(width, height, pix_fmt)))


def webp(width: int, height: int, pix_fmt: str, **options: str) -> bytes:
    """A WebP file from libwebp through FFmpeg's WebP muxer."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webp") as out:
        stream = out.add_stream("libwebp", rate=1)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.options = dict(options)
        frame = av.VideoFrame(width, height, pix_fmt)
        frame.pts = 0
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("codec", "pix_fmt"),
    [("png", "rgb24"), ("png", "gray"), ("mjpeg", "yuvj420p"), ("gif", "rgb8"), ("bmp", "bgr24")],
)
def test_sizes_of_real_encodings(codec: str, pix_fmt: str) -> None:
    assert image_size(encoded(codec, 321, 123, pix_fmt)) == (321, 123)


@pytest.mark.parametrize(
    ("pix_fmt", "options", "chunk"),
    [
        ("yuv420p", {}, b"VP8 "),
        ("bgra", {"lossless": "1"}, b"VP8L"),
        ("yuva420p", {}, b"VP8X"),  # lossy with alpha: the extended header
    ],
)
def test_sizes_of_each_webp_kind(pix_fmt: str, options: dict[str, str], chunk: bytes) -> None:
    data = webp(321, 123, pix_fmt, **options)
    assert data[12:16] == chunk
    assert image_size(data) == (321, 123)


def test_a_bomb_is_measured_without_decoding() -> None:
    assert image_size(png_bomb()) == (16000, 16000)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an image at all",
        b"\x89PNG\r\n\x1a\n",  # signature only
        b"\xff\xd8\xff",  # JPEG cut inside the first marker
        b"\xff\xd8\xff\xda\x00\x02",  # scan before any frame header
        b"\xff\xd8\x00\x00",  # not a marker
        b"RIFF\x00\x00\x00\x00WEBPVP8 \x00\x00\x00\x00\x00\x00\x00\x00\x00",  # no start code
        b"GIF89a\x00\x00\x00\x00",  # zero size
    ],
)
def test_unreadable_headers_have_no_size(data: bytes) -> None:
    assert image_size(data) is None
