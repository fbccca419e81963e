"""Format checks on adversarial strings: a long image reference must not freeze the server.

``http://`` plus many letters plus a trailing space used to backtrack quadratically in the
``url`` pattern (4 s for 20 KB, 19 s for 40 KB), holding the event loop the whole time.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from .harness import Effect, Watch, mock_process, report, statuses


def _image_upload(image: str) -> list[dict[str, object]]:
    return [{"taskType": "imageUpload", "taskUUID": str(uuid.uuid4()), "image": image}]


def test_long_url_with_trailing_space_is_rejected_at_once() -> None:
    image = "http://" + "a" * 20_000 + " "
    codes: list[int] = []
    with mock_process() as proc, Watch(proc) as watch:
        started = time.perf_counter()
        for _ in range(5):
            reply = proc.client.post("/v1", json=_image_upload(image))
            codes.append(reply.status_code)
        elapsed = (time.perf_counter() - started) / 5
    report(Effect.of("20 KB url image + space (x5)", watch, statuses=statuses(codes),
                     note=f"request {elapsed * 1000:.0f} ms"))  # fmt: skip
    assert codes == [400] * 5
    assert reply.json()["errors"][0]["code"] == "invalidFormat"
    assert elapsed < 1.0
    assert watch.health_max_ms < 500


@pytest.mark.hostile_full
def test_many_long_urls_in_frame_images_keep_health_fast() -> None:
    """Eight clients sending 40 KB adversarial frame images for a while."""
    codes: list[int] = []
    lock = threading.Lock()

    def attack(proc_url: str, key: str) -> None:
        import httpx

        with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
            for _ in range(5):
                task = {
                    "taskType": "videoInference",
                    "taskUUID": str(uuid.uuid4()),
                    "model": "klingai:kling-video@3-pro",
                    "positivePrompt": "a lighthouse",
                    "inputs": {"frameImages": [{"image": "https://" + "b" * 40_000 + " "}]},
                }
                status = client.post(proc_url, json=[task]).status_code
                with lock:
                    codes.append(status)

    with mock_process() as proc, Watch(proc) as watch:
        threads = [threading.Thread(target=attack, args=(proc.url, proc.api_key)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    report(Effect.of("8x5 40 KB frame-image urls", watch, statuses=statuses(codes)))
    assert codes == [400] * 40
    assert watch.health_max_ms < 500


def test_two_workers_survive_long_url_images(tmp_path: Path) -> None:
    """With ``--workers 2`` a frozen worker used to be killed by uvicorn's health check,
    taking its sessions and claimed deliveries with it: both workers must answer throughout,
    and the same two process ids must be there afterwards."""
    store = f"sqlite:{tmp_path / 'mock.db'}"
    image = "http://" + "a" * 40_000 + " "
    with mock_process("--store", store, "--workers", "2") as proc:
        before = _workers(proc.base_url)
        with Watch(proc) as watch:
            codes = [proc.client.post("/v1", json=_image_upload(image)).status_code
                     for _ in range(20)]  # fmt: skip
        after = _workers(proc.base_url)
    note = f"workers {len(before)} -> {len(after)}"
    name = "40 KB url image + space (x20), --workers 2"
    report(Effect.of(name, watch, statuses=statuses(codes), note=note))
    assert codes == [400] * 20
    assert watch.failures == 0 and watch.health_max_ms < 500
    assert len(before) == 2 and after == before, "a worker was replaced"


def _workers(base_url: str) -> set[int]:
    """The process ids answering /health, over fresh connections (the kernel spreads them)."""
    seen: set[int] = set()
    for _ in range(200):
        with httpx.Client(base_url=base_url, timeout=10) as client:
            seen.add(client.get("/health").json()["worker"])
        if len(seen) == 2:
            break
    return seen
