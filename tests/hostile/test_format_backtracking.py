"""Format checks on adversarial strings: a long image reference must not freeze the server.

``http://`` plus many letters plus a trailing space used to backtrack quadratically in the
``url`` pattern (4 s for 20 KB, 19 s for 40 KB), holding the event loop the whole time.
"""

from __future__ import annotations

import threading
import time
import uuid

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
