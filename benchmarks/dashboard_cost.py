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
   is the figure to judge by. With two or more cores the mock runs on its own core
   (``taskset``) and the load, the follower and the browser on the others, so what the mock
   does for an open dashboard shows in its own throughput, not the browser's CPU use.
2. Full journal: the journal filled to ``--journal-size`` (its maximum), then
   ``--rate`` requests a second for ``--hold`` seconds with the page open. Measured in the
   page: the worst lateness of a 50 ms timer (how long the page was unresponsive; also
   measured idle for ``--idle`` seconds first, for comparison), the time
   from a request's answer to its row showing (live latency), the rows kept (bounded at
   500) and the JS heap before and after; and the mock's own /health loop lag.

3. The mock's own CPU for one open page, measured inside one process (``dashboard_cpu``):
   the stream's counters and the page's fetch of 100 new rows from a full journal, per tick
   (4 a second), as a share of the one core a saturated mock uses (one event loop).
   This is the figure the noise of a shared machine does not swamp.

Usage: python benchmarks/dashboard_cost.py [--connections 16] [--seconds 5] [--rounds 3]
    [--rate 100] [--hold 20] [--json]
Not part of CI; Linux only (/proc); needs chromium and chromium-driver (Debian packages).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from log_cost import cpu_seconds, drive, free_port, request_bytes  # noqa: E402

from mockserver.testing import answers_get, running_process  # noqa: E402
from tests.browser.chromium import headless_chromium, missing  # noqa: E402

LIVE_ROWS = 100  # rows the page fetches at most a change (app.js LIVE_ROWS)
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


PROBE_SECONDS = 10.0  # a row not shown within this is counted as not shown
SERVER_CPU = {0}  # the mock's core; the load, the follower and the browser get the others


@contextlib.contextmanager
def pinned_mock(flags: list[str], port: int, log: Path) -> Iterator[int]:
    """``python -m mockserver`` on its own core (with two or more), its log in ``log``."""
    cmd = [sys.executable, "-m", "mockserver", "--port", str(port), "--api-key", KEY, *flags]
    if len(os.sched_getaffinity(0)) > 1:
        cmd = ["taskset", "-c", ",".join(map(str, SERVER_CPU)), *cmd]
    with (
        log.open("wb") as stderr,
        running_process(
            cmd, answers_get(f"http://127.0.0.1:{port}/health"), cwd=ROOT, stderr=stderr
        ) as process,
    ):
        yield process.pid


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
                            "/__admin/ui/api/requests", params={"after": last, "limit": LIVE_ROWS}
                        ).json()
                        last = rows["lastId"]
                        fetched[0] += len(rows["requests"])


async def paced(
    port: int, task: dict[str, Any], connections: int, rate: float, seconds: float
) -> int:
    """``rate`` requests a second over ``connections`` connections for ``seconds``: the
    same work for the mock whatever else runs (answers counted)."""
    done = [0]

    async def one(offset: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        start = time.perf_counter() + offset
        sent = 0
        try:
            while (due := start + sent * connections / rate) < start + seconds:
                if (pause := due - time.perf_counter()) > 0:
                    await asyncio.sleep(pause)
                writer.write(request_bytes(task, port))
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                sent += 1
                done[0] += 1
        finally:
            writer.close()

    await asyncio.gather(*(one(i / rate) for i in range(connections)))
    return done[0]


def throughput(
    args: argparse.Namespace, task: dict[str, Any], folder: Path, name: str
) -> dict[str, Any]:
    port = free_port()
    flags = ["--log-level", "warning", "--admin-key", ADMIN]
    stop, fetched = threading.Event(), [0]
    with pinned_mock(flags, port, folder / f"{name}.log") as pid:
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
            fixed_cpu = cpu_seconds(pid)
            fixed = asyncio.run(paced(port, task, args.connections, args.load, args.seconds))
            fixed_cpu = cpu_seconds(pid) - fixed_cpu
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
        "server_busy": cpu / elapsed,
        "fixed_cpu_us_per_request": fixed_cpu / max(1, fixed) * 1e6,
        "cpu_us_per_request": cpu / max(1, ok + other) * 1e6,
        "non200": other,
        "rows_shown": rows if name == "chromium" else fetched[0] if name == "stream" else None,
    }


def full_journal(args: argparse.Namespace, task: dict[str, Any], folder: Path) -> dict[str, Any]:
    port = free_port()
    flags = ["--log-level", "warning", "--admin-key", ADMIN]
    flags += ["--journal-size", str(args.journal_size)]
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {KEY}"}
    with (
        pinned_mock(flags, port, folder / "full.log"),
        headless_chromium(folder / "chromium-full") as driver,
    ):
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            for _ in range(args.journal_size):  # the journal at its maximum
                client.post("/v1", json=[{**task, "taskUUID": _uuid()}])
        open_dashboard(driver, port)
        driver.execute_script(PROBE)
        time.sleep(args.idle)  # the page idle: its timer's lateness with nothing arriving
        idle_lag = driver.execute_script("const l = window.__lag; window.__lag = 0; return l")
        heap_before = driver.execute_script("return performance.memory.usedJSHeapSize")
        lags: list[float] = []
        probes: list[tuple[str, float]] = []  # (taskUUID, answered at), one a second
        stop = threading.Event()
        sent: list[float] = []

        def send() -> None:
            """``--rate`` requests a second, paced over 4 connections, for ``--hold`` s."""
            started = time.perf_counter()
            count = asyncio.run(paced(port, task, 4, args.rate, args.hold))
            sent.append(round(count / (time.perf_counter() - started), 1))
            stop.set()

        def probe() -> None:
            """One more request a second, whose row the page is watched for."""
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                while not stop.wait(1.0):
                    uuid = _uuid()
                    client.post("/v1", json=[{**task, "taskUUID": uuid}])
                    probes.append((uuid, time.perf_counter()))
                    lags.append(client.get("/health").json()["loopLagMs"])

        sender = threading.Thread(target=send, daemon=True)
        prober = threading.Thread(target=probe, daemon=True)
        sender.start()
        prober.start()
        latencies: list[float] = []
        missed = 0  # probes not shown within PROBE_SECONDS
        waiting: list[tuple[str, float]] = []
        taken = 0
        while not stop.is_set() or waiting or len(probes) > taken:
            waiting += probes[taken:]
            taken = len(waiting) + len(latencies) + missed
            shown = driver.execute_script(
                "const t = document.getElementById('requests-body').textContent;"
                "return arguments[0].filter(u => t.includes(u))",
                [u for u, _ in waiting],
            )
            now = time.perf_counter()
            latencies += [(now - at) * 1000 for u, at in waiting if u in shown]
            missed += sum(1 for u, at in waiting if u not in shown and now - at > PROBE_SECONDS)
            waiting = [(u, at) for u, at in waiting if u not in shown and now - at <= PROBE_SECONDS]
            time.sleep(0.02)
        sender.join()
        prober.join()
        page = driver.execute_script(
            "return {lag: window.__lag, rows: document.getElementById('requests-body').rows.length,"
            " heap: performance.memory.usedJSHeapSize}"
        )
    return {
        "requests_per_second": sent[0],
        "journal_size": args.journal_size,
        "page_worst_timer_lateness_ms_idle": round(idle_lag, 1),
        "page_worst_timer_lateness_ms": round(page["lag"], 1),
        "row_shown_after_ms_median": round(statistics.median(latencies), 1),
        "row_shown_after_ms_worst": round(max(latencies), 1),
        "rows_not_shown": missed,
        "rows_kept": page["rows"],
        "js_heap_mib_before": round(heap_before / 2**20, 1),
        "js_heap_mib_after": round(page["heap"] / 2**20, 1),
        "mock_loop_lag_ms_worst": max(lags) if lags else None,
    }


def dashboard_cpu(task: dict[str, Any], ticks: int = 400) -> dict[str, float]:
    """The mock's own CPU for one open page, measured inside one process (no network, no
    browser, no other process's noise): per live-stream tick, the counters the stream
    compares and the page's fetch of 100 new rows from a full journal (the most it asks for
    at a time), through the ASGI app as a request arrives. Four ticks a second."""
    import orjson

    from mockserver.core.config import MockConfig
    from mockserver.core.reply import Reply
    from mockserver.http.app import MockServer
    from mockserver.http.dashboard.live import TICK, counters

    server = MockServer(MockConfig(api_keys=frozenset({KEY}), admin_key=ADMIN))
    journal = server.journal

    def arrive(count: int) -> None:
        for _ in range(count):
            body = [{**task, "taskUUID": _uuid()}]
            raw = orjson.dumps(body)
            accepted = {"taskType": task["taskType"], "taskUUID": body[0]["taskUUID"]}
            journal.record(transport="rest", path="/v1", status=200, tasks=body, error_codes=[],
                           started=time.perf_counter(), size=len(raw), body=raw,
                           reply=Reply(data=[accepted]))  # fmt: skip

    async def fetch(after: int) -> None:
        scope = {
            "type": "http", "method": "GET", "path": "/__admin/ui/api/requests",
            "raw_path": b"/__admin/ui/api/requests", "root_path": "", "scheme": "http",
            "query_string": f"after={after}&limit={LIVE_ROWS}".encode(),
            "server": ("127.0.0.1", 80),
            "headers": [(b"authorization", f"Bearer {ADMIN}".encode()), (b"host", b"x")],
            "http_version": "1.1", "client": ("127.0.0.1", 1), "app": server.app,
        }  # fmt: skip
        sent: list[Any] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        await server.app(scope, receive, send)
        assert sent[0]["status"] == 200, sent

    async def run() -> float:
        arrive(1000)  # a full journal
        spent = 0.0
        for _ in range(ticks):
            after = journal.last_id
            arrive(LIVE_ROWS)
            started = time.process_time()
            counters(server, server.dashboard.board)
            await fetch(after)
            spent += time.process_time() - started
        return spent / ticks

    per_tick = asyncio.run(run())
    return {"tick_us": round(per_tick * 1e6, 1), "ms_per_second": round(per_tick / TICK * 1e3, 2)}


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
    parser.add_argument("--load", type=float, default=800, help="fixed load, requests/s")
    parser.add_argument("--hold", type=float, default=20)
    parser.add_argument("--idle", type=float, default=5)
    parser.add_argument("--journal-size", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if absent := missing():
        sys.exit(f"{', '.join(absent)} not installed (apt-get install chromium chromium-driver)")
    cores = os.sched_getaffinity(0)
    if len(cores) > 1:  # the load, the follower and the browser off the mock's core
        os.sched_setaffinity(0, cores - SERVER_CPU)
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
            "server_busy": round(statistics.median(r["server_busy"] for r in results), 2),
            "fixed_cpu_us_per_request": round(
                statistics.median(r["fixed_cpu_us_per_request"] for r in results), 1
            ),
            "non200": sum(r["non200"] for r in results),
            "rows_shown": [r["rows_shown"] for r in results],
        }
    none = summary["none"]
    for shown in summary.values():
        shown["rps_vs_none"] = round(shown["rps"] / none["rps"], 3)
        shown["cpu_vs_none"] = round(shown["cpu_us_per_request"] / none["cpu_us_per_request"], 3)
        shown["fixed_cpu_vs_none"] = round(
            shown["fixed_cpu_us_per_request"] / none["fixed_cpu_us_per_request"], 3
        )
    own = dashboard_cpu(task)
    # A saturated mock is one event loop on one core: an open page takes this share of it
    # (and of its throughput); and this share of what the mock spent at the rate run 1 saw.
    own["share_of_one_core"] = round(own["ms_per_second"] / 1e3, 4)
    busy = none["cpu_us_per_request"] * none["rps"] / 1e6  # CPU seconds a second, no page
    own["share_of_mock_cpu_in_run_1"] = round(own["ms_per_second"] / 1e3 / max(busy, 1e-9), 4)
    report = {"throughput": summary, "full_journal": full, "dashboard_cpu": own}
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{args.connections} connections, {args.seconds} s x {args.rounds} rounds (medians)")
    for name, f in summary.items():
        print(f"{name:>10}: saturated {f['rps']:6d} req/s ({f['rps_vs_none']:.3f}x, mock "
              f"{f['server_busy']:.0%} busy) {f['cpu_us_per_request']:6.1f} us/req "
              f"({f['cpu_vs_none']:.3f}x); at {args.load:g} req/s "
              f"{f['fixed_cpu_us_per_request']:6.1f} us/req ({f['fixed_cpu_vs_none']:.3f}x); "
              f"non-200 {f['non200']}; rows {f['rows_shown']}")  # fmt: skip
    print(f"the mock's own CPU for one open page: {own['tick_us']} us a tick, "
          f"{own['ms_per_second']} ms a second = {own['share_of_one_core']:.2%} of the one core "
          f"a saturated mock uses ({own['share_of_mock_cpu_in_run_1']:.2%} of what it spent a "
          f"second in run 1)")  # fmt: skip
    print(f"full journal ({full['journal_size']}) at {full['requests_per_second']} req/s: "
          f"page timer late by at most {full['page_worst_timer_lateness_ms']} ms (idle "
          f"{full['page_worst_timer_lateness_ms_idle']} ms); row shown "
          f"{full['row_shown_after_ms_median']} ms after its answer (worst "
          f"{full['row_shown_after_ms_worst']}; {full['rows_not_shown']} probes never shown); "
          f"{full['rows_kept']} rows kept; JS heap "
          f"{full['js_heap_mib_before']} -> {full['js_heap_mib_after']} MiB; mock loop lag at "
          f"most {full['mock_loop_lag_ms_worst']} ms")  # fmt: skip


if __name__ == "__main__":
    main()
