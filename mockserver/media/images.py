"""Real image files (Pillow): JPG, PNG or WEBP at the requested size, one per seed.

What an image shows is the mock's choice: an 8 x 8 grid of colours drawn from the result's
seed, blended at a sixteenth of the size and scaled up in blocks. So each seed gives its own
image and the same seed the same bytes (the encoders are deterministic), lossy formats
really lose with a lower ``outputQuality`` (the blend is there for them to lose), and a
4096 x 4096 file costs about 0.1 CPU-s as JPG (WEBP, the slowest, about 1 s; see
docs/performance.md). Renders run on ``ImageFiles``' thread, never on the event loop.
"""

from __future__ import annotations

import io
import random

from PIL import Image

from .containers import CONTAINERS
from .rendering import Key, RenderedFiles

GRID = 8  # colours a side
BLEND = 16  # the blend is made at 1/BLEND of the size, then scaled up in blocks


def render_problem(container: str, width: int, height: int, max_pixels: int) -> str | None:
    """Why an image of this size cannot be rendered (None: it can)."""
    if width * height > max_pixels:
        pixels = width * height
        return f"{width}x{height} is {pixels} pixels; the mock renders at most {max_pixels}."
    side = CONTAINERS[container].max_side
    if max(width, height) > side:
        return f"{container} images are at most {side} pixels a side; {width}x{height} is not."
    return None


def render_image(container: str, width: int, height: int, quality: int, seed: int) -> bytes:
    """The image of ``seed`` at ``width`` x ``height`` in ``container`` (JPG, PNG or WEBP),
    at ``quality`` where the format is lossy (PNG is lossless: it has none)."""
    spec = CONTAINERS[container]
    if spec.media != "image":
        raise KeyError(container)
    colours = random.Random(seed).randbytes(GRID * GRID * 3)
    small = (max(1, width // BLEND), max(1, height // BLEND))
    image = (
        Image.frombytes("RGB", (GRID, GRID), colours)
        .resize(small, Image.Resampling.BILINEAR)
        .resize((width, height), Image.Resampling.NEAREST)
    )
    buffer = io.BytesIO()
    if spec.codec == "PNG":
        image.save(buffer, "PNG", compress_level=1)  # the fastest zlib level that compresses
    elif spec.codec == "WEBP":
        image.save(buffer, "WEBP", quality=quality, method=0)  # method 0: the fastest
    else:
        image.save(buffer, spec.codec, quality=quality)
    return buffer.getvalue()


class ImageFiles(RenderedFiles):
    """Rendered images by (container, width, height, quality, seed), bounded like videos:
    one render thread, ``queue`` renders waiting, an LRU cache of ``cache_bytes``."""

    def __init__(
        self, cache_bytes: int = 64 * 1024 * 1024, queue: int = 64, workers: int = 1
    ) -> None:
        super().__init__(_image, cache_bytes, queue, workers)


def _image(key: Key) -> bytes:
    container, width, height, quality, seed = key
    return render_image(str(container), int(width), int(height), int(quality), int(seed))
