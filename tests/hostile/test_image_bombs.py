"""Image bombs: huge pixel counts in a few compressed bytes, sent to imageUpload.

A 16000x16000 greyscale PNG of zeros compresses to about 250 KB but decodes to 256 MB. The
mock must read its size from the header (never decode pixels), refuse it over the pixel cap,
and keep answering everyone else meanwhile.
"""

from __future__ import annotations

import base64
import copy
import functools
import struct
import threading
import time
import uuid
import zlib
from typing import Any

import httpx

from runware_contract import klingai_video_3_0_pro as kling

from .harness import Effect, Watch, mock_process, report, statuses

SIDE = 16000


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


@functools.cache
def png_bomb(width: int = SIDE, height: int = SIDE) -> bytes:
    """A valid 8-bit greyscale PNG of ``width`` x ``height`` zeros, built without the pixels."""
    packer = zlib.compressobj(9)
    row = b"\0" * (width + 1)  # filter byte + one byte per pixel
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def test_four_png_bombs_in_one_image_upload_neither_stall_nor_bloat_the_server() -> None:
    data_uri = "data:image/png;base64," + base64.b64encode(png_bomb()).decode()
    tasks = [
        {"taskType": "imageUpload", "taskUUID": str(uuid.uuid4()), "image": data_uri}
        for _ in range(4)
    ]
    with mock_process() as proc:
        codes: list[int] = []
        body: dict[str, Any] = {}

        def attack() -> None:
            response = proc.client.post("/v1", json=tasks, timeout=120)
            codes.append(response.status_code)
            body.update(response.json())

        with Watch(proc) as watch:
            attacker = threading.Thread(target=attack)
            attacker.start()
            attacker.join(timeout=120)
            time.sleep(0.5)  # and a few more /health samples after it
        alive = proc.alive()
    errors = body.get("errors") or []
    report(
        Effect.of(
            "4 PNG bombs (16000x16000) in one imageUpload",
            watch,
            statuses=statuses(codes),
            note=", ".join(sorted({e["code"] for e in errors if isinstance(e, dict)})),
        )
    )
    assert alive and watch.failures == 0 and len(watch.latencies) > 5
    assert watch.health_p99_ms < 300, watch.health_p99_ms
    assert watch.rss_growth_mib < 64, watch.rss_growth_mib
    assert codes == [400], body
    assert [e["code"] for e in errors] == ["maxImagePixelsExceeded"] * 4, body
    assert {e["parameter"] for e in errors} == {"image"}


def test_a_png_bomb_as_an_image_to_video_frame_is_sized_from_its_header() -> None:
    """The first frame sets the output size (closest aspect): read from the header at once."""
    task = copy.deepcopy(kling.EXAMPLES[2].request)  # image-to-video, no width/height
    task["taskUUID"] = str(uuid.uuid4())
    task["inputs"]["frameImages"][0]["image"] = base64.b64encode(png_bomb()).decode()
    with mock_process("--job-seconds", "0.1") as proc:
        with Watch(proc) as watch:
            started = time.perf_counter()
            accepted = proc.client.post("/v1", json=[task], timeout=120)
            seconds = time.perf_counter() - started
            time.sleep(0.5)
        poll = [{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]
        (item,) = proc.client.post("/v1", json=poll).json()["data"]
        served = httpx.get(item["videoURL"])
    report(
        Effect.of(
            "PNG bomb (16000x16000) as an image-to-video frame",
            watch,
            statuses=statuses([accepted.status_code]),
            note=f"accepted in {seconds:.2f} s",
        )
    )
    assert accepted.status_code == 200, accepted.text
    assert item["status"] == "success" and served.status_code == 200
    assert served.content[4:8] == b"ftyp"  # an MP4 of the closest size (1:1)
    assert watch.health_p99_ms < 300, watch.health_p99_ms
    assert watch.rss_growth_mib < 64, watch.rss_growth_mib
