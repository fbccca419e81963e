"""What the request log costs: validated ``POST /v1`` throughput and server CPU per request
with ``--log-level warning`` (no request lines) against ``info`` (a line per request), same run.

Each configuration is a fresh ``python -m mockserver`` process writing its log to a file;
the load is ``--connections`` keep-alive HTTP/1.1 connections (raw asyncio streams, so the
client costs little) posting the first documented example with a fresh taskUUID, for
``--seconds`` after a warm-up. Configurations alternate for ``--rounds`` rounds, so drift on
a noisy machine shows; the report gives each one's median requests per second and server
CPU time per request (utime + stime from /proc, the better comparison when the client
shares the cores), and both as ratios to ``warning``.

Usage: python benchmarks/log_cost.py [--connections 16] [--seconds 5] [--rounds 3] [--json]
Not part of CI; Linux only (/proc).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mockserver.testing import answers_get, running_process

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-key"
CONFIGS = {
    "warning": ["--log-level", "warning"],
    "info text": ["--log-level", "info"],
    "info json": ["--log-level", "info", "--log-format", "json"],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def request_bytes(task: dict[str, Any], port: int) -> bytes:
    body = json.dumps([{**task, "taskUUID": str(uuid.uuid4())}]).encode()
    head = (
        f"POST /v1 HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
        f"authorization: Bearer {KEY}\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def connection(port: int, task: dict[str, Any], until: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            writer.write(request_bytes(task, port))
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            counts[0 if status == 200 else 1] += 1
    finally:
        writer.close()


async def drive(port: int, task: dict[str, Any], connections: int, seconds: float) -> list[int]:
    counts = [0, 0]  # 200s, others
    until = time.perf_counter() + seconds
    await asyncio.gather(*(connection(port, task, until, counts) for _ in range(connections)))
    return counts


@contextlib.contextmanager
def mock(flags: list[str], port: int, log: Path) -> Iterator[int]:
    cmd = [sys.executable, "-m", "mockserver", "--port", str(port), "--api-key", KEY, *flags]
    with (
        log.open("wb") as stderr,
        running_process(
            cmd, answers_get(f"http://127.0.0.1:{port}/health"), cwd=ROOT, stderr=stderr
        ) as process,
    ):
        yield process.pid


def measure(
    name: str, args: argparse.Namespace, task: dict[str, Any], folder: Path
) -> dict[str, Any]:
    port = free_port()
    log = folder / f"{name.replace(' ', '-')}.log"
    with mock(CONFIGS[name], port, log) as pid:
        asyncio.run(drive(port, task, args.connections, args.warmup))
        cpu = cpu_seconds(pid)
        started = time.perf_counter()
        ok, other = asyncio.run(drive(port, task, args.connections, args.seconds))
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(pid) - cpu
    lines = sum(1 for line in log.read_text().splitlines() if "mockserver.request" in line)
    return {
        "rps": (ok + other) / elapsed,
        "cpu_us_per_request": cpu / max(1, ok + other) * 1e6,
        "non200": other,
        "request_lines": lines,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "generated"))
    from runware_contract import klingai_video_3_0_pro as kling

    task = dict(kling.EXAMPLES[0].request)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in CONFIGS}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for name in CONFIGS:
                runs[name].append(measure(name, args, task, Path(tmp)))
    summary: dict[str, Any] = {}
    for name, results in runs.items():
        summary[name] = {
            "rps": round(statistics.median(r["rps"] for r in results)),
            "cpu_us_per_request": round(
                statistics.median(r["cpu_us_per_request"] for r in results), 1
            ),
            "non200": sum(r["non200"] for r in results),
            "request_lines": sum(r["request_lines"] for r in results),
        }
    base = summary["warning"]
    for figures in summary.values():
        figures["rps_vs_warning"] = round(figures["rps"] / base["rps"], 3)
        figures["cpu_vs_warning"] = round(
            figures["cpu_us_per_request"] / base["cpu_us_per_request"], 3
        )
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{args.connections} connections, {args.seconds} s x {args.rounds} rounds (medians)")
    for name, f in summary.items():
        print(
            f"{name:>10}: {f['rps']:6d} req/s ({f['rps_vs_warning']:.3f}x)  "
            f"server CPU {f['cpu_us_per_request']:7.1f} us/req ({f['cpu_vs_warning']:.3f}x)  "
            f"non-200 {f['non200']}  request lines {f['request_lines']}"
        )


if __name__ == "__main__":
    main()
