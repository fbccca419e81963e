"""The files the mock writes: one table, keyed by the spec's outputFormat values."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Container:
    """How the mock writes and serves one value of the spec's ``outputFormat`` enum."""

    extension: str  # of the file name in its URL; PyAV's format name for a video
    media_type: str
    codec: str  # PyAV's encoder for a video; Pillow's format name for an image
    media: str = "video"  # which task type's files (the platform's taskTypes `media`)
    quality: bool = False  # whether outputQuality applies (a lossy image format)
    max_side: int = 1 << 16  # the format's own limit on a side, in pixels (WebP's 16383)


# The one table of containers, keyed by the spec's outputFormat values (a test holds the two
# equal). A model that declares no outputFormat gets the first of its media.
CONTAINERS = {
    "MP4": Container("mp4", "video/mp4", "libx264"),
    "WEBM": Container("webm", "video/webm", "libvpx-vp9"),
    "MOV": Container("mov", "video/quicktime", "libx264"),
    "JPG": Container("jpg", "image/jpeg", "JPEG", "image", quality=True),
    "PNG": Container("png", "image/png", "PNG", "image"),
    "WEBP": Container("webp", "image/webp", "WEBP", "image", quality=True, max_side=16383),
}
BY_EXTENSION = {c.extension: name for name, c in CONTAINERS.items()}
DEFAULTS = {c.media: name for name, c in reversed(CONTAINERS.items())}  # the first per media
DEFAULT_CONTAINER = DEFAULTS["video"]
# What the mock renders for a model that names no duration, or no size (neither a dimension
# table nor width/height): its own choice, not a spec fact.
UNTIMED_SECONDS = 5
UNSIZED = (1920, 1080)
