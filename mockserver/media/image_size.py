"""Pixel size of an encoded image, read from its header alone (never from its pixels).

Decoding is what an image bomb attacks: a 16000x16000 PNG of zeros is 250 KB on the wire and
256 MB decoded. Every format Runware takes states its size in the first bytes (PNG IHDR,
JPEG SOF, WebP VP8/VP8L/VP8X, GIF's screen descriptor, BMP's DIB header), so reading it costs
microseconds whatever the size claimed, and no pixel is ever decoded. Other formats (and
damaged headers) have no readable size: ``None``.
"""

from __future__ import annotations

import struct

# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic): they carry the size.
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# Markers without a length field: TEM, RST0-7, SOI.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the header of a PNG, JPEG, WebP, GIF or BMP; None otherwise."""
    try:
        size = _read(data)
    except (struct.error, IndexError):
        return None
    return size if size and size[0] > 0 and size[1] > 0 else None


def _read(data: bytes) -> tuple[int, int] | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        width, height = struct.unpack_from(">II", data, 16)
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        return _jpeg(data)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return _webp(data)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        width, height = struct.unpack_from("<HH", data, 6)
        return int(width), int(height)
    if data.startswith(b"BM"):
        if struct.unpack_from("<I", data, 14)[0] == 12:  # OS/2 core header: 16-bit sizes
            width, height = struct.unpack_from("<HH", data, 18)
        else:
            width, height = struct.unpack_from("<ii", data, 18)  # height < 0: top-down rows
        return abs(int(width)), abs(int(height))
    return None


def _jpeg(data: bytes) -> tuple[int, int] | None:
    """Walk the marker segments (each skipped by its length) to the first start of frame."""
    at = 2
    while at < len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _STANDALONE:
            at += 2
            continue
        if marker == 0xDA:  # start of scan before any frame header: no size
            return None
        (length,) = struct.unpack_from(">H", data, at + 2)
        if marker in _SOF:
            height, width = struct.unpack_from(">HH", data, at + 5)
            return int(width), int(height)
        at += 2 + int(length)
    return None


def _webp(data: bytes) -> tuple[int, int] | None:
    kind, payload = data[12:16], 20
    if kind == b"VP8 ":  # lossy: a key frame's start code, then 14-bit sizes
        if data[payload + 3 : payload + 6] != b"\x9d\x01\x2a":
            return None
        width, height = struct.unpack_from("<HH", data, payload + 6)
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    if kind == b"VP8L":  # lossless: signature 0x2f, then 14-bit sizes minus one
        if data[payload] != 0x2F:
            return None
        (bits,) = struct.unpack_from("<I", data, payload + 1)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X" and len(data) >= payload + 10:  # extended: 24-bit sizes minus one
        width = int.from_bytes(data[payload + 4 : payload + 7], "little") + 1
        height = int.from_bytes(data[payload + 7 : payload + 10], "little") + 1
        return width, height
    return None
