"""Byte ranges on media URLs: a browser seeking in a video asks for part of the file.

Every range is checked against the whole file's bytes, on the mock in-process and on a
socket, through the signed URL the task handed out (as a browser has it) and with the key.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from mockserver import MockConfig
from mockserver.http.byte_ranges import Unsatisfiable, byte_range
from tests.conftest import MockHandle, start_mock
from tests.helpers import new_task, png, probe, wait_results


@dataclass
class Video:
    mock: MockHandle
    url: str  # the signed videoURL's path
    data: bytes  # the whole file


@pytest.fixture(scope="module", params=["inprocess", "socket"])
def video(request: pytest.FixtureRequest) -> Iterator[Video]:
    with start_mock(request.param, MockConfig(job_seconds=0.05, seed=3)) as mock:
        task = new_task(duration=3)
        mock.post([task])
        (item,) = wait_results(mock, task["taskUUID"]).json()["data"]
        path = httpx.URL(item["videoURL"]).path
        whole = mock.client.get(path)
        assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
        yield Video(mock, path, whole.content)


def get(
    video: Video, range_: str | bytes | None, method: str = "GET", **headers: str
) -> httpx.Response:
    sent = {"authorization": b"", **{k.lower(): v.encode() for k, v in headers.items()}}
    if range_ is not None:
        sent["range"] = range_.encode() if isinstance(range_, str) else range_
    return video.mock.client.request(
        method, video.url, headers={k.encode(): v for k, v in sent.items()}
    )


def test_the_whole_file_says_ranges_are_accepted(video: Video) -> None:
    assert probe(video.data)[4] == 3.0  # a real video
    whole = get(video, None)
    assert whole.status_code == 200 and whole.content == video.data
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-length"] == str(len(video.data))
    assert "content-range" not in whole.headers


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-100", 100, 100),
        ("bytes=0-0", 0, 0),
        ("bytes=1000-", 1000, None),  # to the end
        ("bytes=-500", -500, None),  # the last 500 bytes
        ("bytes=0-999999999999", 0, None),  # past the end: up to the end
        ("bytes=-999999999", 0, None),  # a suffix longer than the file: all of it
        ("bytes=0-", 0, None),
    ],
)
def test_one_range_is_a_206_of_exactly_those_bytes(
    video: Video, header: str, first: int, last: int | None
) -> None:
    length = len(video.data)
    start = first % length if first < 0 else first
    end = length - 1 if last is None else last
    part = get(video, header)
    assert part.status_code == 206, part.text[:200]
    assert part.content == video.data[start : end + 1]
    assert part.headers["content-range"] == f"bytes {start}-{end}/{length}"
    assert part.headers["content-length"] == str(end - start + 1)
    assert part.headers["content-type"] == "video/mp4"
    assert part.headers["accept-ranges"] == "bytes"


def test_a_player_reassembles_the_file_from_ranges(video: Video) -> None:
    chunk, pieces = 4096, list[bytes]()
    while (offset := sum(map(len, pieces))) < len(video.data):
        pieces.append(get(video, f"bytes={offset}-{offset + chunk - 1}").content)
    assert b"".join(pieces) == video.data


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=999999999-1000000000", "bytes=-0"])
def test_a_range_past_the_end_is_a_416_saying_the_length(video: Video, header: str) -> None:
    refused = get(video, header)
    assert refused.status_code == 416
    assert refused.headers["content-range"] == f"bytes */{len(video.data)}"
    (err,) = refused.json()["errors"]
    assert (err["code"], err["parameter"]) == ("rangeNotSatisfiable", "Range")
    assert str(len(video.data)) in err["message"]


@pytest.mark.parametrize(
    "header",
    [
        "bytes=0-9, 20-29",  # several ranges: the whole file (RFC 9110 lets a server ignore Range)
        "bytes=9-0",  # last before first: invalid, ignored
        "items=0-9",  # another unit
        "bytes=abc",
        "bytes=0x10-",
        "bytes=" + "9" * 5000 + "-",
        "bytes=٣-٤".encode(),  # non-ASCII digits (Arabic-Indic), sent as UTF-8
        "",
    ],
)
def test_what_is_not_one_byte_range_gets_the_whole_file(video: Video, header: str | bytes) -> None:
    whole = get(video, header)
    assert whole.status_code == 200 and whole.content == video.data
    assert "content-range" not in whole.headers


def test_head_answers_as_get_without_a_body(video: Video) -> None:
    head = get(video, None, "HEAD")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(video.data))
    assert head.headers["accept-ranges"] == "bytes"
    part = get(video, "bytes=10-19", "HEAD")
    assert part.status_code == 206 and part.content == b""
    assert part.headers["content-range"] == f"bytes 10-19/{len(video.data)}"
    assert part.headers["content-length"] == "10"


def test_if_range_serves_the_range_only_for_the_same_file(video: Video) -> None:
    etag = get(video, None).headers["etag"]
    same = get(video, "bytes=0-9", **{"If-Range": etag})
    assert same.status_code == 206 and same.content == video.data[:10]
    for other in ('"another-file"', "Wed, 21 Oct 2015 07:28:00 GMT", "W/" + etag):
        changed = get(video, "bytes=0-9", **{"If-Range": other})
        assert changed.status_code == 200 and changed.content == video.data, other


def test_the_signature_is_checked_before_the_range(video: Video) -> None:
    _, _, signature, owner, name = video.url.split("/")
    forged = video.mock.client.get(
        f"/video/{'0' * len(signature)}/{owner}/{name}",
        headers={"Authorization": "", "Range": "bytes=0-9"},
    )
    assert forged.status_code == 403 and forged.json()["errors"][0]["code"] == "invalidSignature"
    unsigned = video.mock.client.get(
        f"/video/{name}", headers={"Authorization": "", "Range": "bytes=0-9"}
    )
    assert unsigned.status_code == 401
    keyed = video.mock.client.get(f"/video/{name}", headers={"Range": "bytes=0-9"})
    assert keyed.status_code == 206 and keyed.content == video.data[:10]


def test_images_take_ranges_too(video: Video) -> None:
    image = png(64, 64)
    upload = {
        "taskType": "imageUpload",
        "taskUUID": str(uuid.uuid4()),
        "image": "data:image/png;base64," + base64.b64encode(image).decode(),
    }
    (item,) = video.mock.post([upload]).json()["data"]
    path = httpx.URL(item["imageURL"]).path
    part = video.mock.client.get(path, headers={"Authorization": "", "Range": "bytes=1-3"})
    assert part.status_code == 206 and part.content == image[1:4] == b"PNG"


def test_byte_range_reads_only_one_range() -> None:
    assert byte_range(None, 10) is None
    assert byte_range("bytes=2-", 10) == (2, 9)
    assert byte_range("bytes=-3", 10) == (7, 9)
    with pytest.raises(Unsatisfiable):
        byte_range("bytes=0-0", 0)  # an empty file has no byte to give
