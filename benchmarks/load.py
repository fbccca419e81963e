"""Load and memory of the mock as a real process: many clients, REST and WebSocket, to completion.

``python benchmarks/load.py load`` starts ``python -m mockserver`` (short ``--job-seconds``) with
the memory store, the SQLite store, SQLite with ``--workers`` processes, the Redis store (one
process, and two processes on two ports over one Redis, the clients split between them: a
``redis-server`` this script starts on a free port) (and, with ``--baseline DIR``, another
checkout's mock on every store, each of its runs right before this checkout's), and drives
each with ``--clients`` concurrent clients until ``--requests`` requests were sent
(``--no-sqlite``, ``--no-redis`` skip those runs; ``--repeat N`` runs each N times and
prints the medians): REST clients submit a video task and poll ``getResponse`` until it
succeeds; WebSocket clients submit tasks and wait for the pushed results. Every client
connects (and a WebSocket authenticates) before any sends its first task, and the clock
starts when all have: a request's latency is its own, as wrk and autocannon measure it, not
also its connection's TCP handshake (reported apart: ``connect_p99_ms``, the 100
handshakes at once). It reports
throughput (req/s), p50/p99 latency (and p99 per kind: submit, poll, WebSocket
acknowledgement), errors, lost tasks (acknowledged but never completed), server RSS and CPU
time per request, the server's own loop-lag maximum (``/health``), the load generator's
loop lag (its share of the latencies) and the machine's load average per run, each store's
throughput and CPU per request over the memory store's (CPU per request is the better
comparison when the client, not the server, is what limits throughput), and the baseline's
p99 over this checkout's per store. Exit status 1 on any error or lost task. ``all`` (the
default) runs ``load`` then ``rss``.

``python benchmarks/load.py rss`` submits ``--tasks`` tasks (batched) to a memory-store mock and
reads the server's resident set size from /proc before and after; then the same to a
Redis-store mock, reading Redis's ``used_memory`` (INFO memory) before and after.

Not part of CI (``nox -s load``). The client shares the machine's cores with the server, so
absolute figures are the pair's; compare stores by the ratio measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import websockets

from mockserver.testing import answers_get, running_process

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-key"
T = TypeVar("T")
TASK: dict[str, Any] = {
    "taskType": "videoInference",
    "model": "klingai:kling-video@3-pro",
    "positivePrompt": "A lighthouse on a cliff in a storm, waves crashing, cinematic",
    "width": 1920,
    "height": 1080,
    "duration": 5,
    "includeCost": True,
}


def new_task(results: int = 1) -> dict[str, Any]:
    return {**TASK, "taskUUID": str(uuid.uuid4()), "numberResults": results}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    """Resident set size (VmRSS) in MiB of the process and its children (--workers), from /proc."""
    total = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total = int(line.split()[1]) / 1024
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        with contextlib.suppress(FileNotFoundError):
            total += rss_mib(int(child))
    return total


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by the process and its children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        with contextlib.suppress(FileNotFoundError):
            total += cpu_seconds(int(child))
    return total


@contextlib.contextmanager
def redis_server() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A throwaway ``redis-server`` (no persistence) on a free loopback port, and its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp, "--save", ""]
        cmd += ["--appendonly", "no"]

        def ready() -> bool:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
            return False

        with running_process(cmd, ready) as process:
            yield process, f"redis://127.0.0.1:{port}/0"


def redis_used_memory(url: str) -> int:
    """Redis's INFO memory ``used_memory``, in bytes."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        return int(client.info("memory")["used_memory"])
    finally:
        client.close()


@contextlib.contextmanager
def mock(*flags: str, cwd: Path = ROOT) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``python -m mockserver`` from ``cwd`` (another checkout's mock, for a baseline: with
    that checkout's own generated package and codegen ahead of this one's install)."""
    port = free_port()
    env = None
    if Path(cwd).resolve() != ROOT:
        env = {**os.environ, "PYTHONPATH": f"{cwd}{os.pathsep}{Path(cwd) / 'generated'}"}
    quiet = ["--log-level", "error"]
    cmd = [sys.executable, "-m", "mockserver", "--port", str(port), "--api-key", KEY, *quiet]
    ready = answers_get(f"http://127.0.0.1:{port}/health")
    with running_process([*cmd, *flags], ready, cwd=cwd, env=env) as process:
        yield process, port


# ── load ────────────────────────────────────────────────────────────────────


@dataclass
class Tally:
    target: int
    sent: int = 0
    latencies: list[float] = field(default_factory=list)
    connects: list[float] = field(default_factory=list)  # connection (and authentication)
    by_kind: dict[str, list[float]] = field(default_factory=dict)  # submit, poll, websocket
    client_lag: list[float] = field(default_factory=list)  # the load generator's own loop lag
    errors: list[str] = field(default_factory=list)
    started: float = 0.0  # perf_counter when every client had connected (the clock's start)
    acknowledged: set[str] = field(default_factory=set)
    completed: set[str] = field(default_factory=set)

    def take(self) -> bool:
        """Claim one more request to send; False once the target is reached."""
        if self.sent >= self.target:
            return False
        self.sent += 1
        return True


class Connection:
    """One keep-alive HTTP/1.1 connection: a load generator's minimal client (the mock always
    sends Content-Length), so the client spends little of the machine's CPU per request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def post(self, tasks: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        if self.writer is None:  # again, after an error
            await self.connect()
        assert self.reader is not None and self.writer is not None
        body = json.dumps(tasks).encode()
        self.writer.write(
            b"POST /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
            + KEY.encode()
            + b"\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, json.loads(await self.reader.readexactly(length))

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


async def rest_client(port: int, tally: Tally, poll_every: float, start: Start) -> None:
    connection = Connection(port)
    try:
        await start.connected(connection.connect())
    except OSError as exc:  # counted; the first request connects again
        tally.errors.append(f"connect: {type(exc).__name__}: {exc}")
        connection.writer = None
    try:
        while tally.take():
            task = new_task()
            body = await timed_post(connection, tally, [task], "submit")
            if body is None or body.get("data") != [
                {"taskType": "videoInference", "taskUUID": task["taskUUID"]}
            ]:
                continue
            tally.acknowledged.add(task["taskUUID"])
            poll = [{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]
            while True:  # polls of a task in flight are sent even past the target
                await asyncio.sleep(poll_every)
                tally.sent += 1
                body = await timed_post(connection, tally, poll, "poll")
                if body is None:
                    break
                items = body.get("data") or []
                if items and all(i.get("status") == "success" for i in items):
                    tally.completed.add(task["taskUUID"])
                    break
    finally:
        await connection.close()


async def timed_post(
    connection: Connection, tally: Tally, tasks: list[dict[str, Any]], kind: str
) -> dict[str, Any] | None:
    started = time.perf_counter()
    try:
        status, body = await connection.post(tasks)
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        tally.errors.append(f"{type(exc).__name__}: {exc}")
        connection.writer = None
        return None
    took = time.perf_counter() - started
    tally.latencies.append(took)
    tally.by_kind.setdefault(kind, []).append(took)
    if status != 200 or "errors" in body:
        tally.errors.append(f"{status} {body.get('errors')}")
        return None
    return body


async def ws_client(url: str, tally: Tally, window: int, start: Start) -> None:
    """Submit tasks over one WebSocket (at most ``window`` unfinished), count pushed results."""

    async def session() -> Any:
        ws = await websockets.connect(url, max_size=None)
        try:
            await ws.send(json.dumps([{"taskType": "authentication", "apiKey": KEY}]))
            json.loads(await ws.recv())
        except BaseException:
            await ws.close()
            raise
        return ws

    try:
        opened = await start.connected(session())
    except (OSError, websockets.exceptions.WebSocketException, ValueError) as exc:
        tally.errors.append(f"websocket connect: {type(exc).__name__}: {exc}")
        return
    async with opened as ws:
        unfinished: set[str] = set()
        sent_at: dict[str, float] = {}
        done_sending = False
        while not done_sending or unfinished:
            if not done_sending and len(unfinished) < window:
                if tally.take():
                    task = new_task()
                    sent_at[task["taskUUID"]] = time.perf_counter()
                    unfinished.add(task["taskUUID"])
                    await ws.send(json.dumps([task]))
                    continue
                done_sending = True
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
            except TimeoutError:
                tally.errors.append(f"websocket: {len(unfinished)} results never pushed")
                return
            for err in frame.get("errors", []):
                tally.errors.append(f"websocket {err.get('code')}")
                unfinished.discard(err.get("taskUUID") or "")
            for item in frame.get("data", []):
                task_uuid = item.get("taskUUID", "")
                if "status" not in item and task_uuid in sent_at:  # the acknowledgement
                    took = time.perf_counter() - sent_at.pop(task_uuid)
                    tally.latencies.append(took)
                    tally.by_kind.setdefault("websocket", []).append(took)
                    tally.acknowledged.add(task_uuid)
                elif item.get("status") == "success":
                    tally.completed.add(task_uuid)
                    unfinished.discard(task_uuid)


class Start:
    """The starting line: each client connects, then waits until every client has, so the
    clock starts with all connected (``connected`` times each connection)."""

    def __init__(self, tally: Tally, clients: int) -> None:
        self.tally = tally
        self.waiting = clients
        self.all_in = asyncio.Event()
        self.at = 0.0  # when the last client connected

    async def connected(self, connecting: Coroutine[Any, Any, T]) -> T:
        started = time.perf_counter()
        try:
            return await connecting
        finally:
            self.tally.connects.append(time.perf_counter() - started)
            self.waiting -= 1
            if self.waiting == 0:
                self.at = time.perf_counter()
                self.all_in.set()
            await self.all_in.wait()


async def drive(
    ports: list[int], requests: int, clients: int, ws_share: float, poll: float
) -> Tally:
    """``clients`` clients, spread over ``ports`` in turn (REST and WebSocket alike)."""
    tally = Tally(target=requests)
    n_ws = round(clients * ws_share)
    start = Start(tally, clients)

    async def lag() -> None:  # the client's own share of the latencies: its loop running late
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            tally.client_lag.append(time.perf_counter() - started - 0.01)

    watch = asyncio.create_task(lag())
    await asyncio.gather(
        *(rest_client(ports[i % len(ports)], tally, poll, start) for i in range(clients - n_ws)),
        *(
            ws_client(f"ws://127.0.0.1:{ports[i % len(ports)]}/v1", tally, 4, start)
            for i in range(n_ws)
        ),
    )
    watch.cancel()
    tally.started = start.at
    return tally


def p99_ms(values: list[float]) -> float | None:
    ordered = sorted(values)
    return round(1000 * ordered[int(0.99 * (len(ordered) - 1))], 2) if ordered else None


def server_lag_ms(port: int) -> float:
    """The mock's own loop-lag monitor: the longest any callback blocked its loop (/health)."""
    answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).json()
    return float(answer.get("loopLagMaxMs", -1.0))


def run(coroutine: Coroutine[Any, Any, Tally]) -> Tally:
    """On uvloop when it is installed (uvicorn[standard] brings it): a cheaper client."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def run_load(
    label: str,
    flags: list[str],
    args: argparse.Namespace,
    cwd: Path = ROOT,
    processes: int = 1,
    redis_pid: int | None = None,
) -> dict[str, Any]:
    """One load run of ``processes`` mocks started with ``flags`` from the checkout at ``cwd``
    (each on its own port; with ``redis_pid``, the Redis they share, whose CPU is counted
    beside theirs)."""
    with contextlib.ExitStack() as stack:
        mocks = [
            stack.enter_context(mock("--job-seconds", str(args.job_seconds), *flags, cwd=cwd))
            for _ in range(processes)
        ]
        pids = [process.pid for process, _ in mocks]
        started, cpu = time.perf_counter(), sum(map(cpu_seconds, pids))
        redis_cpu = cpu_seconds(redis_pid) if redis_pid else 0.0
        ports = [port for _, port in mocks]
        tally = run(drive(ports, args.requests, args.clients, args.ws_share, args.poll_seconds))
        elapsed = time.perf_counter() - (tally.started or started)
        lag = max(map(server_lag_ms, ports))
        cpu = sum(map(cpu_seconds, pids)) - cpu
        redis_cpu = cpu_seconds(redis_pid) - redis_cpu if redis_pid else 0.0
        rss = sum(map(rss_mib, pids))
    latencies = sorted(tally.latencies)
    lost = tally.acknowledged - tally.completed
    return {
        "store": label,
        "requests": tally.sent,
        "seconds": round(elapsed, 2),
        "req_per_s": round(tally.sent / elapsed),
        "p50_ms": round(1000 * statistics.median(latencies), 2) if latencies else None,
        "p99_ms": p99_ms(latencies),
        "p99_ms_by_kind": {kind: p99_ms(values) for kind, values in tally.by_kind.items()},
        "connect_p99_ms": p99_ms(tally.connects),
        "server_loop_lag_max_ms": lag,
        "client_loop_lag_p99_ms": p99_ms(tally.client_lag),
        "errors": len(tally.errors),
        "first_errors": tally.errors[:3],
        "acknowledged": len(tally.acknowledged),
        "completed": len(tally.completed),
        "lost": len(lost),
        "server_rss_mib": round(rss, 1),
        "server_cpu_us_per_request": round(1e6 * cpu / max(tally.sent, 1)),
        "redis_cpu_us_per_request": round(1e6 * redis_cpu / max(tally.sent, 1)),
        "load": round(os.getloadavg()[0], 2),  # the machine's, at the run's end
    }


# ── memory ──────────────────────────────────────────────────────────────────


def run_rss(args: argparse.Namespace, store: str = "memory") -> dict[str, Any]:
    """Submit ``args.tasks`` tasks; the mock's RSS before and after (memory), or Redis's
    used_memory (a ``redis://`` store)."""
    with (
        mock("--job-seconds", "0.01", "--store", store) as (process, port),
        httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=60,
        ) as client,
    ):

        def used() -> float:
            if store == "memory":
                return rss_mib(process.pid)
            return redis_used_memory(store) / (1024 * 1024)

        before = used()
        first: str | None = None
        last = ""
        for start in range(0, args.tasks, args.batch):
            batch = [new_task(args.results) for _ in range(min(args.batch, args.tasks - start))]
            response = client.post("/v1", json=batch)
            if response.status_code != 200 or len(response.json()["data"]) != len(batch):
                raise RuntimeError(f"submission failed: {response.text[:300]}")
            first = first or batch[0]["taskUUID"]
            last = batch[-1]["taskUUID"]
        time.sleep(0.5)
        kept = [
            client.post("/v1", json=[{"taskType": "getResponse", "taskUUID": u}]).status_code == 200
            for u in (first or "", last)
        ]
        after = used()
    return {
        "store": store.split(":")[0],
        "measured": "server RSS" if store == "memory" else "Redis used_memory",
        "tasks": args.tasks,
        "results_per_task": args.results,
        "rss_before_mib": round(before, 1),
        "rss_after_mib": round(after, 1),
        "kib_per_task": round((after - before) * 1024 / args.tasks, 2),
        "kib_per_result": round((after - before) * 1024 / (args.tasks * args.results), 2),
        "first_and_last_task_pollable": kept,
    }


def flush(url: str) -> None:
    """Empty the Redis between runs (each run starts from no tasks)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def load_runs(args: argparse.Namespace, tmp: str) -> list[dict[str, Any]]:
    """Every store's runs, ``--repeat`` times, each store's runs of this checkout and of
    ``--baseline`` (if given) alternating; each run from no tasks (a fresh SQLite file, an
    emptied Redis)."""
    checkouts = [("", ROOT)] + ([("baseline ", args.baseline)] if args.baseline else [])
    runs: list[dict[str, Any]] = []

    def each(label: str, flags: Any, processes: int = 1, pid: int | None = None) -> None:
        for repeat in range(args.repeat):
            for prefix, cwd in checkouts:
                if prefix and "redis" in label and not (cwd / "mockserver/store/redis.py").exists():
                    continue  # a baseline from before the Redis store
                db = f"{tmp}/{prefix.strip() or 'this'}-{repeat}-{len(runs)}.db"
                run = run_load(prefix + label, flags(db), args, cwd, processes, pid)
                run["repeat"] = repeat
                runs.append(run)

    each("memory", lambda _: ["--store", "memory"])
    if args.sqlite:
        each("sqlite", lambda db: ["--store", f"sqlite:{db}"])
    if args.sqlite and args.workers > 1:
        workers = ["--workers", str(args.workers)]
        each(f"sqlite x{args.workers} workers", lambda db: ["--store", f"sqlite:{db}", *workers])
    if args.redis:
        with redis_server() as (redis_process, url):

            def redis(_: str) -> list[str]:
                flush(url)
                return ["--store", url]

            each("redis x1", redis, 1, redis_process.pid)
            each("redis x2", redis, 2, redis_process.pid)
    return runs


def medians(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per store and checkout: the median of its repeats' figures (errors and lost
    tasks summed over them)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        rows.setdefault(run["store"], []).append(run)
    table = []
    for label, of in rows.items():
        row = {"store": label, "repeats": len(of)}
        for key in ("req_per_s", "p50_ms", "p99_ms", "server_cpu_us_per_request", "load"):
            row[key] = statistics.median(r[key] for r in of)
        for kind in ("submit", "poll", "websocket"):
            found = [r["p99_ms_by_kind"][kind] for r in of if kind in r["p99_ms_by_kind"]]
            row[f"p99_{kind}_ms"] = statistics.median(found) if found else None
        row["errors"] = sum(r["errors"] for r in of)
        row["lost"] = sum(r["lost"] for r in of)
        table.append(row)
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("mode", choices=["load", "rss", "all"], nargs="?", default="all")
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--ws-share", type=float, default=0.2, help="share of WebSocket clients")
    parser.add_argument("--job-seconds", type=float, default=0.2)
    parser.add_argument("--poll-seconds", type=float, default=0.02, help="REST poll interval")
    parser.add_argument("--repeat", type=int, default=1, help="load: runs of each store")
    parser.add_argument("--tasks", type=int, default=100_000, help="rss: tasks to submit")
    parser.add_argument("--batch", type=int, default=50, help="rss: tasks per request")
    parser.add_argument("--results", type=int, default=1, help="rss: numberResults per task")
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="DIR",
        help="load: also run another checkout's mock (e.g. `git worktree add` of main) on every "
        "store, alternating with this one's",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="load: also SQLite with N workers (1: skip)"
    )
    parser.add_argument(
        "--no-redis", dest="redis", action="store_false", help="skip the Redis store runs"
    )
    parser.add_argument(
        "--no-sqlite", dest="sqlite", action="store_false", help="load: skip the SQLite runs"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {}
    if args.mode in ("load", "all"):
        with tempfile.TemporaryDirectory() as tmp:
            runs = load_runs(args, tmp)
        report["load"] = runs
        report["medians"] = table = medians(runs)
        memory = table[0]["req_per_s"]
        report["throughput_over_memory"] = {
            row["store"]: round(row["req_per_s"] / memory, 3) for row in table[1:]
        }
        memory_cpu = table[0]["server_cpu_us_per_request"]
        report["cpu_per_request_over_memory"] = {
            row["store"]: round(row["server_cpu_us_per_request"] / memory_cpu, 3)
            for row in table[1:]
        }
        rows = {row["store"]: row for row in table}
        report["baseline_p99_over_this"] = {
            label: round(rows[f"baseline {label}"]["p99_ms"] / row["p99_ms"], 2)
            for label, row in rows.items()
            if f"baseline {label}" in rows
        }
    if args.mode in ("rss", "all"):
        report["rss"] = [run_rss(args)]
        if args.redis:
            with redis_server() as (_, url):
                report["rss"].append(run_rss(args, url))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for run in report.get("load", []):
            print(
                f"{run['store']}: {run['requests']} requests in {run['seconds']} s = "
                f"{run['req_per_s']} req/s, p50 {run['p50_ms']} ms, p99 {run['p99_ms']} ms, "
                f"errors {run['errors']}, lost {run['lost']} of {run['acknowledged']} "
                f"acknowledged, server RSS {run['server_rss_mib']} MiB, server CPU "
                f"{run['server_cpu_us_per_request']} us/request, p99 by kind "
                f"{run['p99_ms_by_kind']}, connect p99 {run['connect_p99_ms']} ms, "
                f"server loop lag max {run['server_loop_lag_max_ms']} "
                f"ms, client loop lag p99 {run['client_loop_lag_p99_ms']} ms"
                + (
                    f" (+ Redis {run['redis_cpu_us_per_request']} us/request)"
                    if run["redis_cpu_us_per_request"]
                    else ""
                )
            )
            for line in run["first_errors"]:
                print(f"        {line}")
        if args.repeat > 1 or args.baseline:
            print(f"medians of {args.repeat} (errors and lost: summed)")
            print(
                "store                        req/s   p50 ms   p99 ms  submit   poll     ws  "
                "errors lost  us/req  load"
            )
            for row in report["medians"]:
                kinds = [row[f"p99_{k}_ms"] for k in ("submit", "poll", "websocket")]
                print(
                    f"{row['store']:27} {row['req_per_s']:7.0f} {row['p50_ms']:8.2f} "
                    f"{row['p99_ms']:8.2f} "
                    + " ".join("     -" if v is None else f"{v:6.1f}" for v in kinds)
                    + f" {row['errors']:6d} {row['lost']:4d}"
                    f" {row['server_cpu_us_per_request']:7.0f} {row['load']:5.2f}"
                )
            for label, ratio in report["baseline_p99_over_this"].items():
                print(f"{label}: baseline p99 / this p99 = {ratio}")
        for label, ratio in report.get("throughput_over_memory", {}).items():
            cpu_ratio = report["cpu_per_request_over_memory"][label]
            print(f"{label} / memory: throughput {ratio}, server CPU per request {cpu_ratio}")
        for r in report.get("rss", []):
            print(
                f"{r['store']} ({r['measured']}): {r['rss_before_mib']} MiB idle, "
                f"{r['rss_after_mib']} MiB after {r['tasks']} "
                f"tasks of {r['results_per_task']} result(s) ({r['kib_per_task']} KiB/task, "
                f"{r['kib_per_result']} KiB/result); first and last pollable: "
                f"{r['first_and_last_task_pollable']}"
            )
    bad = any(run["errors"] or run["lost"] for run in report.get("load", []))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
