"""A client that sends its whole body before reading (urllib, many others) reads its 413.

The mock used to read at most 1 MiB (for 0.5 s) of a refused body and then close: the kernel
answers unread data with a reset, which destroyed the 413 before urllib read it. Now the rest
is read and dropped (bounded by time, like nginx's lingering close: 30 s in all, 5 s idle).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from .harness import KEY, Effect, MockProcess, Watch, mock_process, report, statuses


def _urllib_post(proc: MockProcess, path: str, size: int) -> tuple[int, dict[str, object], float]:
    request = urllib.request.Request(
        f"{proc.base_url}{path}",
        data=b"[" + b" " * (size - 2) + b"]",
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        method="POST",
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read()), time.perf_counter() - started
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), time.perf_counter() - started


@pytest.mark.parametrize(
    ("path", "mib"), [("/v1", 20), ("/v1", 50), ("/__admin/scenarios", 20)], ids=str
)
def test_urllib_reads_the_413_of_a_large_body(path: str, mib: int) -> None:
    with mock_process() as proc, Watch(proc) as watch:
        status, body, took = _urllib_post(proc, path, mib * 1024 * 1024)
        assert proc.alive()
    report(Effect.of(f"urllib {mib} MB body to {path}", watch, statuses=statuses([status]),
                     note=f"413 read after {took * 1000:.0f} ms"))  # fmt: skip
    assert status == 413
    assert body["errors"][0]["code"] == "maxPayloadSizeExceeded"  # type: ignore[index]
    assert watch.rss_growth_mib < 50
