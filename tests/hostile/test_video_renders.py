"""Video rendering: many distinct signed video URLs fetched at once.

Every (format, size, duration) is its own render of 0.3-1 CPU-s, and a signed videoURL needs no
key, so a burst of distinct ones could pin both cores and pile up threads and memory. The mock
renders in a bounded pool with a bounded queue: beyond it a request gets 503 `renderQueueFull`
with Retry-After at once, and a retry after the burst gets the file.
"""

from __future__ import annotations

import copy
import itertools
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from runware_contract import klingai_video_3_0_pro as kling
from tests.helpers import eventually

from .harness import Effect, MockProcess, Watch, mock_process, report, statuses


def _parameter(path: str) -> dict[str, Any]:
    return next(p for p in kling.tables.PARAMETERS if p["path"] == path)


def combinations() -> list[tuple[str, int, int, int]]:
    """Every (format, width, height, duration) the model allows, longest videos first."""
    duration = _parameter("duration")
    seconds = range(int(duration["maximum"]), int(duration["minimum"]) - 1, -1)
    dimensions = kling.tables.DIMENSIONS
    assert dimensions is not None
    rows = [(int(r["width"]), int(r["height"])) for r in dimensions["rows"]]
    return [
        (fmt, w, h, s)
        for s, (w, h), fmt in itertools.product(seconds, rows, _parameter("outputFormat")["enum"])
    ]


def video_urls(proc: MockProcess, combos: list[tuple[str, int, int, int]]) -> list[str]:
    """Tasks of each combination (none a documented example), run to completion."""
    tasks = []
    for fmt, width, height, seconds in combos:
        task = copy.deepcopy(kling.EXAMPLES[0].request)
        task.update(
            taskUUID=str(uuid.uuid4()),
            positivePrompt=f"render {fmt} {width}x{height} {seconds}s",
            outputFormat=fmt,
            width=width,
            height=height,
            duration=seconds,
        )
        tasks.append(task)
    for start in range(0, len(tasks), 100):  # --max-tasks-per-request's default
        accepted = proc.client.post("/v1", json=tasks[start : start + 100])
        assert accepted.status_code == 200, accepted.text
    polls = [{"taskType": "getResponse", "taskUUID": t["taskUUID"]} for t in tasks]

    def finished() -> list[str]:
        items = [
            item
            for start in range(0, len(polls), 100)
            for item in proc.client.post("/v1", json=polls[start : start + 100])
            .json()
            .get("data", [])
        ]
        done = [i["videoURL"] for i in items if i.get("status") == "success"]
        return done if len(done) == len(tasks) else []

    urls: list[str] = eventually(finished, timeout=30)
    assert len(urls) == len(tasks)
    return urls


def burst(proc: MockProcess, combos: list[tuple[str, int, int, int]], name: str) -> None:
    urls = video_urls(proc, combos)
    limits = httpx.Limits(max_connections=len(urls) + 10)
    with httpx.Client(timeout=120, limits=limits) as anonymous:  # signed URLs need no key
        with Watch(proc) as watch, ThreadPoolExecutor(len(urls)) as pool:
            started = time.perf_counter()
            responses = list(pool.map(anonymous.get, urls))
            seconds = time.perf_counter() - started
        refused = [(u, r) for u, r in zip(urls, responses, strict=True) if r.status_code == 503]
        retried = None
        if refused:  # after the burst, as Retry-After says: the file
            url, first = refused[0]
            time.sleep(float(first.headers["retry-after"]))
            retried = eventually(lambda: anonymous.get(url).status_code == 200, 60, 0.5)
    codes = [r.status_code for r in responses]
    report(
        Effect.of(
            name,
            watch,
            statuses=statuses(codes),
            note=f"burst answered in {seconds:.1f} s; retry of a 503: {retried}",
        )
    )
    assert proc.alive() and watch.failures == 0
    assert set(codes) <= {200, 503}, statuses(codes)
    for response in responses:
        if response.status_code == 503:
            assert response.json()["errors"][0]["code"] == "renderQueueFull"
            assert float(response.headers["retry-after"]) > 0
        else:
            assert int(response.headers["content-length"]) == len(response.content) > 0
    assert refused == [] or retried
    assert watch.health_p99_ms < 300, watch.health_p99_ms
    assert watch.rss_growth_mib < 400, watch.rss_growth_mib  # one render at a time (VP9: ~200)


def test_a_burst_of_distinct_video_urls_is_answered_without_pinning_the_server() -> None:
    with mock_process("--job-seconds", "0.1") as proc:
        burst(proc, combinations()[:24], "24 distinct 13-15 s video URLs at once")


@pytest.mark.hostile_full
def test_every_video_combination_at_once() -> None:
    with mock_process("--job-seconds", "0.1") as proc:
        burst(proc, combinations(), f"all {len(combinations())} video combinations at once")
