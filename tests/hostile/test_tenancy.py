"""Tenancy: two keys on one shared mock; what one key creates, the other cannot see or use.

Each test runs one real server accepting two keys, A (the harness's) and B. Signed media URLs
stay capabilities (whoever holds one may fetch it); everything else is scoped to the key that
created it.
"""

from __future__ import annotations

import base64
import copy
import io
import struct
import time
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from runware_contract import klingai_video_3_0_pro as kling
from tests.helpers import eventually

from .harness import KEY, Effect, MockProcess, mock_process, report

OTHER = "hostile-other-key"
T2V = kling.EXAMPLES[0].request
I2V = kling.EXAMPLES[2].request  # image-to-video: the size follows the first frame's aspect


@pytest.fixture
def proc() -> Iterator[MockProcess]:
    with mock_process("--api-key", OTHER, "--job-seconds", "0.5") as running:
        yield running


@pytest.fixture
def other(proc: MockProcess) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=proc.base_url, headers={"Authorization": f"Bearer {OTHER}"}, timeout=60
    ) as client:
        yield client


def png(width: int, height: int) -> bytes:
    """A tiny valid greyscale PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = zlib.compress(b"\0" * (width + 1) * height)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def task(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    made = copy.deepcopy(base)
    made["taskUUID"] = str(uuid.uuid4())
    made.update(changes)
    return made


def upload(client: httpx.Client, image: bytes) -> dict[str, Any]:
    data_uri = "data:image/png;base64," + base64.b64encode(image).decode()
    body = [{"taskType": "imageUpload", "taskUUID": str(uuid.uuid4()), "image": data_uri}]
    response = client.post("/v1", json=body)
    assert response.status_code == 200, response.text
    item: dict[str, Any] = response.json()["data"][0]
    return item


def results(client: httpx.Client, task_uuid: str) -> list[dict[str, Any]]:
    """The finished items of a task, polled until they are all there."""

    def done() -> list[dict[str, Any]]:
        body = client.post("/v1", json=[{"taskType": "getResponse", "taskUUID": task_uuid}])
        items = body.json().get("data", [])
        return items if items and all(i["status"] == "success" for i in items) else []

    items: list[dict[str, Any]] = eventually(done, timeout=20)
    assert items, f"task {task_uuid} did not finish"
    return items


def unsigned(url: str) -> str:
    """The keyed form of a media URL: ``/<kind>/<name>``, without the signature."""
    path = httpx.URL(url).path.split("/")
    return f"/{path[1]}/{path[-1]}"


def test_another_keys_image_is_not_served_without_its_signature(
    proc: MockProcess, other: httpx.Client
) -> None:
    item = upload(proc.client, png(30, 60))
    path = unsigned(item["imageURL"])
    assert proc.client.get(path).status_code == 200  # the owner, with its key
    leak = other.get(path)
    assert httpx.get(item["imageURL"]).status_code == 200  # the signed URL stays a capability
    report(
        Effect(attack="B fetches A's /image/<uuid> with its own key", note=str(leak.status_code))
    )
    assert leak.status_code == 404 and leak.json()["errors"][0]["code"] == "taskNotFound"


def test_another_keys_video_is_not_served_without_its_signature(
    proc: MockProcess, other: httpx.Client
) -> None:
    mine = task(T2V, positivePrompt="a tenancy test", duration=3)
    assert proc.client.post("/v1", json=[mine]).status_code == 200
    (item,) = results(proc.client, mine["taskUUID"])
    path = unsigned(item["videoURL"])
    assert proc.client.get(path).status_code == 200
    leak = other.get(path)
    assert httpx.get(item["videoURL"]).status_code == 200
    report(
        Effect(attack="B fetches A's /video/<uuid> with its own key", note=str(leak.status_code))
    )
    assert leak.status_code == 404


def test_another_keys_image_uuid_is_not_usable_as_a_reference(
    proc: MockProcess, other: httpx.Client
) -> None:
    portrait = upload(proc.client, png(30, 60))  # A's image: 1:2, so a 9:16 video for A
    mine = task(I2V)
    mine["inputs"]["frameImages"][0]["image"] = portrait["imageUUID"]
    theirs = copy.deepcopy(mine) | {"taskUUID": str(uuid.uuid4())}
    assert proc.client.post("/v1", json=[mine]).status_code == 200
    assert other.post("/v1", json=[theirs]).status_code == 200
    mine_size = _size(results(proc.client, mine["taskUUID"])[0])
    theirs_size = _size(results(other, theirs["taskUUID"])[0])
    again = {
        "taskType": "imageUpload",
        "taskUUID": str(uuid.uuid4()),
        "image": portrait["imageUUID"],
    }
    reupload = other.post("/v1", json=[again])  # B "uploads" A's image by its UUID
    copy_url = reupload.json()["data"][0]["imageURL"] if reupload.status_code == 200 else None
    copied = httpx.get(copy_url) if copy_url else None
    copied_bytes = copied.content if copied else b""
    report(
        Effect(
            attack="B uses A's imageUUID (task input, imageUpload)",
            note=f"A's video {mine_size}, B's {theirs_size}; "
            f"B's copy: {copied.status_code if copied else None}, {len(copied_bytes)} bytes",
        )
    )
    assert mine_size == (1080, 1920)
    assert theirs_size == (1920, 1080)  # an image B cannot see: the default size
    assert png(30, 60) not in copied_bytes


def _size(item: dict[str, Any]) -> tuple[int, int]:
    """Width and height of a finished video's file."""
    data = httpx.get(item["videoURL"]).content
    with av.open(io.BytesIO(data)) as container:
        context = container.streams.video[0].codec_context
        return int(context.width), int(context.height)


def test_another_keys_task_uuid_is_a_fresh_task_uuid(
    proc: MockProcess, other: httpx.Client
) -> None:
    mine = task(T2V, positivePrompt="A's own task", duration=3)
    theirs = task(T2V, positivePrompt="B's own task", duration=4, numberResults=2)
    theirs["taskUUID"] = mine["taskUUID"]
    assert proc.client.post("/v1", json=[mine]).status_code == 200
    reused = other.post("/v1", json=[theirs])
    report(
        Effect(
            attack="B reuses A's taskUUID",
            note=", ".join(e["code"] for e in reused.json().get("errors", [])) or "accepted",
        )
    )
    assert reused.status_code == 200, reused.text  # nothing says the taskUUID exists elsewhere
    assert len(results(proc.client, mine["taskUUID"])) == 1  # each key sees its own task
    assert len(results(other, mine["taskUUID"])) == 2
    again = other.post("/v1", json=[theirs]).json()["errors"][0]
    assert again["code"] == "conflictTaskUUID"  # within one key, a taskUUID is still used once


def test_documented_example_tasks_of_two_keys_keep_their_own_videos(
    proc: MockProcess, other: httpx.Client
) -> None:
    mine, theirs = task(T2V), task(T2V)  # equal to the example: its documented videoUUID
    assert proc.client.post("/v1", json=[mine]).status_code == 200
    time.sleep(0.3)
    assert other.post("/v1", json=[theirs]).status_code == 200
    (item,) = results(proc.client, mine["taskUUID"])  # A's is done, B's still processing
    mine_status = httpx.get(item["videoURL"]).status_code
    (their_item,) = results(other, theirs["taskUUID"])
    report(
        Effect(
            attack="A and B replay one documented example",
            note=f"A's finished video: {mine_status}",
        )
    )
    documented = kling.EXAMPLES[0].response["videoUUID"]
    assert item["videoUUID"] == their_item["videoUUID"] == documented
    assert mine_status == 200
    assert httpx.get(their_item["videoURL"]).status_code == 200


def test_a_sqlite_store_holds_no_api_key(tmp_path: Path) -> None:
    path = tmp_path / "tasks.db"
    with mock_process("--store", f"sqlite:{path}", "--job-seconds", "0.1") as running:
        submitted = task(T2V, positivePrompt="stored without its key", duration=3)
        assert running.client.post("/v1", json=[submitted]).status_code == 200
        upload(running.client, png(8, 8))
        results(running.client, submitted["taskUUID"])
        stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    report(Effect(attack="API key in the SQLite file", note=str(KEY.encode() in stored)))
    assert KEY.encode() not in stored
