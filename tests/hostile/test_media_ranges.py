"""Range requests on a real mock process: a player seeking through a 1080p video by its
signed URL (no key), and Range headers built to cost the server: a thousand ranges, numbers
of thousands of digits, suffixes longer than any file.

Before: every Range was ignored (200 and the whole file each time), so a browser could not
seek in a served video.
"""

from __future__ import annotations

import copy
import uuid

import httpx

from runware_contract import klingai_video_3_0_pro as kling
from tests.helpers import eventually

from .harness import Effect, mock_process, report, statuses

HOSTILE = [
    "bytes=" + ",".join(["0-0"] * 1000),  # a thousand ranges: the whole file once
    "bytes=" + "9" * 5000 + "-",  # a number of 5,000 digits: not a range
    "bytes=-" + "9" * 18,  # a suffix longer than any file: all of it
    "bytes=0-" + "9" * 18,
    "bytes=" + "-" * 4000,
    "bytes=" + "1-2," * 2000,
]


def test_a_player_seeks_and_hostile_ranges_cost_nothing() -> None:
    task = copy.deepcopy(kling.EXAMPLES[0].request)
    task.update(taskUUID=str(uuid.uuid4()), positivePrompt="seek", duration=15)
    codes: list[int] = []
    with mock_process("--job-seconds", "0.1") as proc:
        assert proc.client.post("/v1", json=[task]).status_code == 200
        poll = [{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]

        def video_url() -> str | None:
            (item,) = proc.client.post("/v1", json=poll).json()["data"]
            return item.get("videoURL") if item["status"] == "success" else None

        url = eventually(video_url)
        with httpx.Client(timeout=30) as anonymous:  # the signed URL, as a <video> element has it
            whole = anonymous.get(url)
            assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
            data, pieces = whole.content, list[bytes]()
            while (offset := sum(map(len, pieces))) < len(data):
                part = anonymous.get(url, headers={"Range": f"bytes={offset}-{offset + 65535}"})
                codes.append(part.status_code)
                assert part.status_code == 206, part.text[:200]
                pieces.append(part.content)
            assert b"".join(pieces) == data
            tail = anonymous.get(url, headers={"Range": "bytes=-1000"})
            assert tail.status_code == 206 and tail.content == data[-1000:]
            past = anonymous.get(url, headers={"Range": f"bytes={len(data)}-"})
            assert past.status_code == 416
            assert past.headers["content-range"] == f"bytes */{len(data)}"
            before = proc.rss_mib()
            for header in HOSTILE * 20:
                answer = anonymous.get(url, headers={"Range": header})
                codes.append(answer.status_code)
                assert answer.status_code in (200, 206), (header[:40], answer.status_code)
                assert len(answer.content) <= len(data)  # never more than the file
            grown = proc.rss_mib() - before
        assert proc.alive()
    report(Effect("Range: seek + 120 hostile headers", rss_growth_mib=round(grown, 1),
                  statuses=statuses(codes), note=f"{len(pieces)} ranges reassembled"))  # fmt: skip
    assert grown < 50
