"""What an open dashboard costs the mock, and how the page holds up under a full journal.

1. Throughput: validated ``POST /v1`` throughput and server CPU per request of a fresh
   ``python -m mockserver`` with no dashboard open ("none"), against one with the dashboard
   open in headless Chromium on its requests view (logged in, its live stream connected,
   fetching every new request: "chromium"), and one with a small Python client doing what
   the page does over HTTP (the live stream, and on each change the new rows: "stream"; the
   mock's cost without a browser's CPU on the same cores). They alternate for ``--rounds``
   rounds in one run; the report gives each one's medians and their ratios to none. The load
   is ``--connections`` keep-alive connections (raw asyncio streams) posting the first
   documented example with a fresh taskUUID, as ``log_cost.py`` does. Server CPU per request
   is the figure to judge by: the browser shares the machine's cores with the client.
2. Full journal: the journal filled to ``--journal-size`` (its maximum), then
   ``--rate`` requests a second for ``--hold`` seconds with the page open. Measured in the
   page: the worst lateness of a 50 ms timer (how long the page was unresponsive), the time
   from a request's answer to its row showing (live latency), the rows kept (bounded at
   500) and the JS heap before and after; and the mock's own /health loop lag.

Usage: python benchmarks/dashboard_cost.py [--connections 16] [--seconds 5] [--rounds 3]
    [--rate 100] [--hold 20] [--json]
Not part of CI; Linux only (/proc); needs chromium and chromium-driver (Debian packages).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from log_cost import cpu_seconds, drive, free_port, mock  # noqa: E402

from tests.browser.chromium import headless_chromium, missing  # noqa: E402

KEY = "bench-key"  # log_cost's: its load generator sends it
ADMIN = "bench-admin"
PROBE = """
window.__lag = 0;
let last = performance.now();
setInterval(() => {
  const now = performance.now();
  window.__lag = Math.max(window.__lag, now - last - 50);
  last = now;
}, 50);
"""


def open_dashboard(driver: Any, port: int) -> None:
    """Log in and wait until the live stream is connected (requests view)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"http://127.0.0.1:{port}/__admin/ui")
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "login").is_displayed())
    driver.find_element(By.ID, "login-key").send_keys(ADMIN)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return document.getElementById('live').textContent") == "live"
    )


def follow(port: int, stop: threading.Event, fetched: list[int]) -> None:
    """What the page does, over HTTP: the live stream, and the new rows on each change."""
    headers = {"Authorization": f"Bearer {ADMIN}"}
    last = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as c:
        while not stop.is_set():  # a stream ends after live.STREAM_SECONDS: open another
            with c.stream("GET", "/__admin/ui/events") as events:
                for line in events.iter_lines():
                    if stop.is_set():
                        return
                    if line.startswith("data: ") and '"requests"' in line:
                        rows = c.get(
                            "/__admin/ui/api/requests", params={"after": last, "limit": 50}
                        ).json()
                        last = rows["lastId"]
                        fetched[0] += len(rows["requests"])


def throughput(
    args: argparse.Namespace, task: dict[str, Any], folder: Path, name: str
) -> dict[str, Any]:
    port = free_port()
    flags = ["--log-level", "warning", "--admin-key", ADMIN]
    stop, fetched = threading.Event(), [0]
    with mock(flags, port, folder / f"{name}.log") as pid:
        browser = (
            headless_chromium(folder / f"chromium-{time.monotonic_ns()}")
            if name == "chromium"
            else None
        )
        driver = browser.__enter__() if browser is not None else None
        follower = threading.Thread(target=follow, args=(port, stop, fetched), daemon=True)
        try:
            if driver is not None:
                open_dashboard(driver, port)
            if name == "stream":
                follower.start()
            asyncio.run(drive(port, task, args.connections, args.warmup))
            cpu = cpu_seconds(pid)
            started = time.perf_counter()
            ok, other = asyncio.run(drive(port, task, args.connections, args.seconds))
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds(pid) - cpu
            rows = (
                driver.execute_script("return document.getElementById('requests-body').rows.length")
                if driver is not None
                else None
            )
        finally:
            stop.set()
            if browser is not None:
                browser.__exit__(None, None, None)
    return {
        "rps": (ok + other) / elapsed,
        "cpu_us_per_request": cpu / max(1, ok + other) * 1e6,
        "non200": other,
        "rows_shown": rows if name == "chromium" else fetched[0] if name == "stream" else None,
    }


def full_journal(args: argparse.Namespace, task: dict[str, Any], folder: Path) -> dict[str, Any]:
    port = free_port()
    flags = [
        "--log-level",
        "warning",
        "--admin-key",
        ADMIN,
        "--journal-size",
        str(args.journal_size),
    ]
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {KEY}"}
    with (
        mock(flags, port, folder / "full.log"),
        headless_chromium(folder / "chromium-full") as driver,
    ):
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            for _ in range(args.journal_size):  # the journal at its maximum
                client.post("/v1", json=[{**task, "taskUUID": _uuid()}])
        open_dashboard(driver, port)
        driver.execute_script(PROBE)
        heap_before = driver.execute_script("return performance.memory.usedJSHeapSize")
        lags: list[float] = []
        stop = threading.Event()

        def watch_health() -> None:
            with httpx.Client(base_url=base, timeout=30) as watcher:
                while not stop.is_set():
                    lags.append(watcher.get("/health").json()["loopLagMs"])
                    time.sleep(0.5)

        watcher = threading.Thread(target=watch_health, daemon=True)
        watcher.start()
        latencies = []
        sent = 0
        started = time.perf_counter()
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            while time.perf_counter() - started < args.hold:
                due = started + sent / args.rate
                if (wait := due - time.perf_counter()) > 0:
                    time.sleep(wait)
                uuid = _uuid()
                client.post("/v1", json=[{**task, "taskUUID": uuid}])
                sent += 1
                if sent % args.rate == 0:  # once a second: how long until its row shows
                    answered = time.perf_counter()
                    while not driver.execute_script(
                        "return document.getElementById('requests-body').textContent"
                        ".includes(arguments[0])",
                        uuid,
                    ):
                        time.sleep(0.01)
                    latencies.append((time.perf_counter() - answered) * 1000)
        achieved = sent / (time.perf_counter() - started)
        stop.set()
        watcher.join()
        page = driver.execute_script(
            "return {lag: window.__lag, rows: document.getElementById('requests-body').rows.length,"
            " heap: performance.memory.usedJSHeapSize}"
        )
    return {
        "requests_per_second": round(achieved, 1),
        "journal_size": args.journal_size,
        "page_worst_timer_lateness_ms": round(page["lag"], 1),
        "row_shown_after_ms_median": round(statistics.median(latencies), 1),
        "row_shown_after_ms_worst": round(max(latencies), 1),
        "rows_kept": page["rows"],
        "js_heap_mib_before": round(heap_before / 2**20, 1),
        "js_heap_mib_after": round(page["heap"] / 2**20, 1),
        "mock_loop_lag_ms_worst": max(lags) if lags else None,
    }


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--hold", type=float, default=20)
    parser.add_argument("--journal-size", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if absent := missing():
        sys.exit(f"{', '.join(absent)} not installed (apt-get install chromium chromium-driver)")
    sys.path.insert(0, str(ROOT / "generated"))
    from runware_contract import klingai_video_3_0_pro as kling

    task = dict(kling.EXAMPLES[0].request)
    runs: dict[str, list[dict[str, Any]]] = {"none": [], "stream": [], "chromium": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for _ in range(args.rounds):
            for name, results in runs.items():
                results.append(throughput(args, task, folder, name))
        full = full_journal(args, task, folder)
    summary: dict[str, Any] = {}
    for name, results in runs.items():
        summary[name] = {
            "rps": round(statistics.median(r["rps"] for r in results)),
            "cpu_us_per_request": round(
                statistics.median(r["cpu_us_per_request"] for r in results), 1
            ),
            "non200": sum(r["non200"] for r in results),
            "rows_shown": [r["rows_shown"] for r in results],
        }
    none = summary["none"]
    for shown in summary.values():
        shown["rps_vs_none"] = round(shown["rps"] / none["rps"], 3)
        shown["cpu_vs_none"] = round(shown["cpu_us_per_request"] / none["cpu_us_per_request"], 3)
    report = {"throughput": summary, "full_journal": full}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{args.connections} connections, {args.seconds} s x {args.rounds} rounds (medians)")
    for name, f in summary.items():
        print(f"{name:>10}: {f['rps']:6d} req/s ({f['rps_vs_none']:.3f}x)  server CPU "
              f"{f['cpu_us_per_request']:7.1f} us/req ({f['cpu_vs_none']:.3f}x)  non-200 "
              f"{f['non200']}  rows {f['rows_shown']}")  # fmt: skip
    print(f"full journal ({full['journal_size']}) at {full['requests_per_second']} req/s: "
          f"page timer late by at most {full['page_worst_timer_lateness_ms']} ms; row shown "
          f"{full['row_shown_after_ms_median']} ms after its answer (worst "
          f"{full['row_shown_after_ms_worst']}); {full['rows_kept']} rows kept; JS heap "
          f"{full['js_heap_mib_before']} -> {full['js_heap_mib_after']} MiB; mock loop lag at "
          f"most {full['mock_loop_lag_ms_worst']} ms")  # fmt: skip


if __name__ == "__main__":
    main()
