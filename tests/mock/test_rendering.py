"""The rendered-video cache: counted in bytes, renders shared per file, a bounded queue."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from codegen import SpecSet
from mockserver.media import rendering as media
from mockserver.media.containers import CONTAINERS
from mockserver.media.rendering import RenderBusy, VideoFiles
from tests.helpers import frame_rate, probe


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, int, int, int]]]:
    """The renders that really ran (each a real, small PyAV render), in order."""
    done: list[tuple[str, int, int, int]] = []
    real = media.render_video

    def counted(container: str, width: int, height: int, seconds: int) -> bytes:
        done.append((container, width, height, seconds))
        return real(container, width, height, seconds)

    monkeypatch.setattr(media, "render_video", counted)
    yield done


def test_the_cache_is_bounded_by_bytes(renders: list[tuple[str, int, int, int]]) -> None:
    async def run() -> None:
        scratch = VideoFiles()
        sizes = [len(await scratch.get("MP4", 64, 64, s)) for s in (1, 2, 3)]
        files = VideoFiles(cache_bytes=sizes[1] + sizes[2])
        for seconds in (1, 2, 3, 3, 2):  # the third pushes the first out; then hits
            await files.get("MP4", 64, 64, seconds)
        assert files.held_bytes == sizes[1] + sizes[2]
        await files.get("MP4", 64, 64, 1)  # rendered again
        assert files.held_bytes <= files.cache_bytes
        scratch.close()
        files.close()

    asyncio.run(run())
    assert [seconds for *_, seconds in renders] == [1, 2, 3, 1, 2, 3, 1]


def test_a_file_larger_than_the_cache_is_served_but_not_kept(
    renders: list[tuple[str, int, int, int]],
) -> None:
    async def run() -> None:
        files = VideoFiles(cache_bytes=10)
        assert await files.get("MP4", 64, 64, 1) == await files.get("MP4", 64, 64, 1)
        assert files.held_bytes == 0
        files.close()

    asyncio.run(run())
    assert len(renders) == 2


def test_concurrent_requests_share_one_render_and_the_queue_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = threading.Event()
    started: list[tuple[str, int, int, int]] = []

    def slow(container: str, width: int, height: int, seconds: int) -> bytes:
        started.append((container, width, height, seconds))
        gate.wait(10)
        return b"video %d" % seconds

    monkeypatch.setattr(media, "render_video", slow)

    async def run() -> None:
        files = VideoFiles(queue=2)
        same = [asyncio.ensure_future(files.get("MP4", 64, 64, 1)) for _ in range(20)]
        queued = [asyncio.ensure_future(files.get("MP4", 64, 64, s)) for s in (2, 3)]
        await asyncio.sleep(0.1)
        with pytest.raises(RenderBusy) as busy:
            await files.get("MP4", 64, 64, 4)  # one running and two waiting: refused at once
        assert busy.value.retry_after >= 1
        background = asyncio.ensure_future(files.get("MP4", 64, 64, 5, wait=True))
        gate.set()
        assert set(await asyncio.gather(*same)) == {b"video 1"}
        assert await asyncio.gather(*queued, background) == [b"video 2", b"video 3", b"video 5"]
        assert await files.get("MP4", 64, 64, 4) == b"video 4"  # after the burst: served
        files.close()

    asyncio.run(run())
    assert sorted(s for *_, s in started) == [1, 2, 3, 4, 5]  # one render per file


def test_a_failed_render_reaches_every_waiter_and_leaves_nothing() -> None:
    async def run() -> None:
        files = VideoFiles()
        results = await asyncio.gather(
            files.get("AVI", 64, 64, 1), files.get("AVI", 64, 64, 1), return_exceptions=True
        )
        assert all(isinstance(r, KeyError) for r in results)  # no such container
        assert files._pending == {} and files.held_bytes == 0
        files.close()

    asyncio.run(run())


@pytest.mark.parametrize(
    "container", sorted(n for n, c in CONTAINERS.items() if c.media == "video")
)
def test_a_rendered_file_has_the_mocks_frame_rate_and_as_many_frames(container: str) -> None:
    """docs/mock.md: files are rendered at media.FPS (no model states its frame rate)."""
    data = media.render_video(container, 320, 240, 3)
    assert frame_rate(data) == (media.FPS, 3 * media.FPS)
    assert probe(data)[4] == 3.0


FRAME_RATE_WORDS = ("fps", "framerate", "frame rate", "frames per second", "frame-rate")


def test_no_model_states_a_frame_rate(spec: SpecSet, docs_page_text: str) -> None:
    """Why the mock renders at its own rate (docs/mock.md): neither the spec nor the page it came
    from says what frame rate a model delivers. When one does, this fails: the rate must
    then come from the spec (per model, through the video record) instead of media.FPS."""
    for model in spec.models:
        paths = {p.path.lower() for p in model.parameters}
        assert not paths & {"fps", "framerate", "frame_rate"}, model.id
    text = docs_page_text.lower()
    assert not [w for w in FRAME_RATE_WORDS if w in text]
