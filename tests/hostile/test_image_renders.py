"""Image rendering: 20 results at the largest size a real image page documents.

Nano Banana 2's dimension table goes up to 12288 x 1536 (19 MP) and numberResults to 20, and
a sync task with an inline outputType carries every file in its answer: twenty renders of
about a quarter CPU-second and 57 MB of pixels each. The mock renders them one at a time on
its image thread, never on the event loop, so /health keeps answering and memory stays at
about one render's worth; with URLs, twenty fetches at once share that thread the same way.
"""

from __future__ import annotations

import base64
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from mockserver.core import models
from mockserver.media.image_size import image_size
from tests.helpers import real_page

from .harness import Effect, MockProcess, Watch, mock_process, report, statuses

PAGE = "google-nano-banana-2.md"
RESULTS = 20


def largest(page: Any) -> tuple[str, int, int, int]:
    """The model id, the largest documented size (by pixels) and the most results."""
    registry = models.load([], [page])
    (model_id,) = [m for m, s in registry.sources.items() if s.kind == "page"]
    module = registry.models[model_id]
    rows = module.tables.DIMENSIONS["rows"]
    row = max(rows, key=lambda r: r["width"] * r["height"])
    most = next(p for p in module.tables.PARAMETERS if p["path"] == "numberResults")["maximum"]
    return model_id, int(row["width"]), int(row["height"]), int(most)


def task(model_id: str, width: int, height: int, **changes: Any) -> dict[str, Any]:
    return {
        "taskType": "imageInference",
        "taskUUID": str(uuid.uuid4()),
        "model": model_id,
        "positivePrompt": "twenty of the largest",
        "width": width,
        "height": height,
        "numberResults": RESULTS,
    } | changes


def check(watch: Watch, proc: MockProcess) -> None:
    assert proc.alive() and watch.failures == 0
    assert watch.health_p99_ms < 300, watch.health_p99_ms  # the loop was never held
    assert watch.rss_growth_mib < 400, watch.rss_growth_mib  # about one render at a time


def test_twenty_of_the_largest_images_inline_neither_freeze_nor_exhaust_the_server() -> None:
    page = real_page(PAGE)
    model_id, width, height, most = largest(page)
    assert most >= RESULTS
    with mock_process("--page", str(page), "--sync-job-seconds", "0") as proc:
        with Watch(proc) as watch:
            started = time.perf_counter()
            response = proc.client.post(
                "/v1", json=[task(model_id, width, height, outputType="base64Data")], timeout=300
            )
            seconds = time.perf_counter() - started
        assert response.status_code == 200, response.text[:500]
        items = response.json()["data"]
        sizes = {image_size(base64.b64decode(i["imageBase64Data"])) for i in items}
        report(
            Effect.of(
                f"{RESULTS} sync base64 JPG results at {width}x{height}",
                watch,
                statuses=statuses([response.status_code]),
                note=f"answered in {seconds:.1f} s, {len(response.content) >> 20} MiB",
            )
        )
        assert len(items) == RESULTS and sizes == {(width, height)}
        check(watch, proc)


def test_twenty_of_the_largest_image_urls_at_once_are_served_in_turn() -> None:
    page = real_page(PAGE)
    model_id, width, height, _ = largest(page)
    with mock_process("--page", str(page), "--sync-job-seconds", "0") as proc:
        answer = proc.client.post("/v1", json=[task(model_id, width, height)], timeout=60)
        urls = [i["imageURL"] for i in answer.json()["data"]]
        limits = httpx.Limits(max_connections=len(urls) + 10)
        with (
            httpx.Client(timeout=300, limits=limits) as anonymous,  # signed URLs need no key
            Watch(proc) as watch,
            ThreadPoolExecutor(len(urls)) as pool,
        ):
            started = time.perf_counter()
            responses = list(pool.map(anonymous.get, urls))
            seconds = time.perf_counter() - started
        codes = [r.status_code for r in responses]
        report(
            Effect.of(
                f"{RESULTS} URLs of {width}x{height} JPG results at once",
                watch,
                statuses=statuses(codes),
                note=f"all answered in {seconds:.1f} s",
            )
        )
        assert codes == [200] * RESULTS, statuses(codes)  # the image queue holds two such tasks
        assert {image_size(r.content) for r in responses} == {(width, height)}
        assert len({r.content for r in responses}) == RESULTS
        check(watch, proc)
