"""Result images (media/images.py): real JPG, PNG and WEBP files at the requested size, one
image per seed, outputQuality honoured where the format is lossy, bounded in pixels."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from mockserver.media.containers import CONTAINERS
from mockserver.media.images import ImageFiles, render_image, render_problem

IMAGE_FORMATS = sorted(n for n, c in CONTAINERS.items() if c.media == "image")
DECODED_AS = {"JPG": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()  # the whole file decodes, not just its header
    return image


@pytest.mark.parametrize("container", IMAGE_FORMATS)
@pytest.mark.parametrize("size", [(1024, 1024), (632, 424), (192, 1536), (7, 5)])
def test_an_image_has_its_format_and_size(container: str, size: tuple[int, int]) -> None:
    image = decoded(render_image(container, *size, 90, 1))
    assert (image.format, image.size) == (DECODED_AS[container], size)
    assert CONTAINERS[container].media_type == Image.MIME[str(image.format)]


@pytest.mark.parametrize("container", IMAGE_FORMATS)
def test_each_seed_has_its_image_and_a_seed_always_the_same(container: str) -> None:
    files = [render_image(container, 256, 256, 90, seed) for seed in range(20)]
    assert len(set(files)) == 20
    assert render_image(container, 256, 256, 90, 7) == files[7]
    pixels = {decoded(f).convert("RGB").tobytes() for f in files}
    assert len(pixels) == 20  # distinct pictures, not only distinct bytes


def test_jpg_quality_sets_its_quantization() -> None:
    low, high = (decoded(render_image("JPG", 512, 512, q, 3)) for q in (20, 99))
    assert isinstance(low, Image.Image) and isinstance(high, Image.Image)
    low_table = low.quantization[0]  # type: ignore[attr-defined]
    high_table = high.quantization[0]  # type: ignore[attr-defined]
    assert sum(low_table) > 5 * sum(high_table)


@pytest.mark.parametrize("container", [n for n in IMAGE_FORMATS if CONTAINERS[n].quality])
def test_a_lower_quality_is_a_smaller_file(container: str) -> None:
    sizes = [len(render_image(container, 1024, 1024, q, 3)) for q in (20, 60, 99)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[2] / 1.5


def test_png_is_lossless() -> None:
    """outputQuality does not apply to PNG: every quality gives the same pixels."""
    files = {render_image("PNG", 300, 200, q, 3) for q in (20, 99)}
    assert len(files) == 1


def test_sizes_beyond_the_bounds_are_named() -> None:
    assert render_problem("JPG", 12288, 1536, 1 << 25) is None
    too_many = render_problem("JPG", 8192, 8192, 1 << 25)
    assert too_many is not None and "8192x8192" in too_many and str(1 << 25) in too_many
    too_wide = render_problem("WEBP", 16384, 64, 1 << 25)
    assert too_wide is not None and "16383" in too_wide
    assert render_problem("PNG", 16384, 64, 1 << 25) is None


def test_a_video_container_is_not_an_image() -> None:
    with pytest.raises(KeyError):
        render_image("MP4", 64, 64, 90, 1)


def test_image_files_render_once_per_key_and_count_hits() -> None:
    async def run() -> None:
        files = ImageFiles()
        first = await asyncio.gather(*(files.get("PNG", 64, 64, 90, 5) for _ in range(5)))
        again = await files.get("PNG", 64, 64, 90, 5)
        other = await files.get("PNG", 64, 64, 90, 6)
        assert len(set(first)) == 1 and again == first[0] and other != again
        assert (files.hits, files.misses) == (1, 6)  # five joined one render, then a hit
        files.close()

    asyncio.run(run())
