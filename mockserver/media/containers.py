"""The video containers the mock writes: one table, keyed by the spec's outputFormat values."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Container:
    """How the mock writes and serves one value of the spec's ``outputFormat`` enum."""

    extension: str  # of the file name in its URL, and PyAV's format name
    media_type: str
    codec: str


# The one table of containers, keyed by the spec's outputFormat values (a test holds the two
# equal). A model that declares no outputFormat gets the first.
CONTAINERS = {
    "MP4": Container("mp4", "video/mp4", "libx264"),
    "WEBM": Container("webm", "video/webm", "libvpx-vp9"),
    "MOV": Container("mov", "video/quicktime", "libx264"),
}
BY_EXTENSION = {c.extension: name for name, c in CONTAINERS.items()}
DEFAULT_CONTAINER = next(iter(CONTAINERS))
# What the mock renders for a model that names no duration, or no size (neither a dimension
# table nor width/height): its own choice, not a spec fact.
UNTIMED_SECONDS = 5
UNSIZED = (1920, 1080)
