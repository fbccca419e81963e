"""Validated POST /v1 throughput and latency: this mock against Prism 5 and against the
machine's limit, all in one run.

The mock and Prism validate the same body (the first documented example, with a fresh
taskUUID per request): the mock with the generated runtime, Prism with the generated OpenAPI
document. The limit is ``bare_responder.py``: the mock's stack (uvloop, httptools) answering a
fixed acknowledgement without reading the body. The load comes from autocannon
(benchmarks/node/load.js), at each ``--connections`` count in turn. Each server gets a
warm-up, then a measured run (``--baseline DIR``: another checkout's mock too, such as the
code before a change); the mock is measured first and again last, so drift on this
noisy machine shows (``drift``: the second over the first), and the figures use the lower
of the two throughputs and the higher of the two p99s. ``mock (log)`` is the mock with
``--log-level info``: a log line per request (uvicorn's access line), against the default
``warning``. The mock runs its request path compiled where a build of it exists
(``mockserver.compiled``; ``./dev`` makes one), and ``mock (Python)`` is the same mock with
``--pure-python``. Each server's CPU time per request (its process group, from /proc) is reported
beside its throughput: on a shared machine it does not depend on the share of the cores a
server got, so Prism / mock CPU per request is the steadier form of the ratio. ``--repeat N``
runs it all N times and reports each run and the medians, and each run's 1-minute load
average before and after it (the machine is shared: the figures are of that load).

Usage: python benchmarks/mock_vs_prism.py [--connections 20 100] [--seconds 10] [--repeat 1]
       [--json]
Needs Node.js; installs benchmarks/node's packages (Prism, autocannon) from npm if missing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from mockserver.testing import running_process

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "benchmarks" / "node"
OPENAPI = ROOT / "generated" / "runware_contract" / "openapi.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_node_packages() -> None:
    if not (NODE / "node_modules" / ".bin" / "prism").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=NODE, check=True)


@contextmanager
def process(
    cmd: list[str], ready_url: str, body: list[dict[str, Any]], checkout: Path = ROOT
) -> Iterator[int]:
    """``cmd`` running until it answers a validated task at ``ready_url``; its pid."""

    def ready() -> bool:
        stamp = f"{int(time.time() * 1e6) % 10**12:012d}"
        task = dict(body[0], taskUUID=f"00000000-0000-4000-8000-{stamp}")
        with contextlib.suppress(httpx.TransportError):
            headers = {"Authorization": "Bearer bench-key"}
            return httpx.post(ready_url, json=[task], headers=headers).status_code == 200
        return False

    # another checkout's mock runs on its own code and generated package
    env = None
    if checkout != ROOT:
        env = {**os.environ, "PYTHONPATH": f"{checkout}{os.pathsep}{checkout / 'generated'}"}
    with running_process(cmd, ready, cwd=checkout, timeout=60, env=env) as server:
        yield server.pid


def group_cpu_seconds(group: int) -> float:
    """CPU time (user + system) used so far by the live processes of process group ``group``
    (a server started by ``running_process`` leads its own group; Prism's node children too)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group:
                total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def load(url: str, connections: int, seconds: int, body_file: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["node", str(NODE / "load.js"), url, str(connections), str(seconds), str(body_file)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


SERVERS = ("mock", "mock_log", "mock_pure", "prism", "limit", "baseline", "mock_again")
LABELS = {"mock_log": "mock (log)", "mock_pure": "mock (Python)", "mock_again": "mock again"}
Command = tuple[list[str], str, Path]  # command line, URL, checkout


def measure(
    commands: dict[str, Command],
    connections: int,
    args: argparse.Namespace,
    body: list[dict[str, Any]],
    body_file: Path,
) -> dict[str, Any]:
    """One run at ``connections``: every server in SERVERS order, then the ratios."""
    results: dict[str, Any] = {}
    load_before = os.getloadavg()[0]  # the machine is shared: its load is part of the figure
    for name in SERVERS:
        if name not in commands:
            continue
        cmd, url, checkout = commands[name]
        with process(cmd, url, body, checkout) as pid:
            load(url, connections, args.warmup, body_file)
            cpu = group_cpu_seconds(pid)
            results[name] = result = load(url, connections, args.seconds, body_file)
            # CPU per request: what the server spends, whatever share of the cores it got
            cpu_us = (group_cpu_seconds(pid) - cpu) / max(1, result["total"]) * 1e6
            result["cpu_us_per_request"] = round(cpu_us, 1)
    mock_rps = min(results["mock"]["rps"], results["mock_again"]["rps"])
    return {
        "connections": connections,
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        **results,
        "mock_vs_prism": round(mock_rps / results["prism"]["rps"], 2),
        "mock_vs_limit": round(mock_rps / results["limit"]["rps"], 2),
        "prism_cpu_vs_mock_cpu": round(
            results["prism"]["cpu_us_per_request"] / mock_cpu(results), 2
        ),
        "log_vs_no_log": round(results["mock_log"]["rps"] / mock_rps, 2),
        "drift": round(results["mock_again"]["rps"] / results["mock"]["rps"], 2),
        **(
            {"mock_vs_baseline": round(mock_rps / results["baseline"]["rps"], 2)}
            if "baseline" in results
            else {}
        ),
        "mock_vs_pure": round(mock_rps / results["mock_pure"]["rps"], 2),
        "mock_p99_ms": max(results["mock"]["p99_ms"], results["mock_again"]["p99_ms"]),
    }


def mock_cpu(results: dict[str, Any]) -> float:
    """The mock's CPU per request: the higher of its two runs."""
    return max(float(results[name]["cpu_us_per_request"]) for name in ("mock", "mock_again"))


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = (
        "mock_vs_baseline",
        "mock_vs_pure",
        "mock_vs_prism",
        "prism_cpu_vs_mock_cpu",
        "mock_vs_limit",
        "log_vs_no_log",
        "drift",
        "mock_p99_ms",
    )
    ratios = {k: statistics.median(r[k] for r in runs) for k in keys if k in runs[0]}
    # each server's own figures, median over the runs (a table row per server)
    rows = {
        name: {
            k: statistics.median(r[name][k] for r in runs)
            for k in ("rps", "p50_ms", "p99_ms", "cpu_us_per_request")
        }
        for name in SERVERS
        if name in runs[0]
    }
    return {**ratios, "mock_p99_ms_each_run": [r["mock_p99_ms"] for r in runs], "servers": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="DIR",
        help="also run another checkout's mock (e.g. `git archive` of main), before the mock again",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    ensure_node_packages()

    sys.path.insert(0, str(ROOT))
    from runware_contract import klingai_video_3_0_pro as kling

    body = [dict(kling.EXAMPLES[0].request)]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(body[0], f)
        body_file = Path(f.name)

    def mock(log_level: str, checkout: Path = ROOT, *flags: str) -> Command:
        port = free_port()
        cmd = [sys.executable, "-m", "mockserver", "--port", str(port)]
        cmd += ["--log-level", log_level, "--api-key", "bench-key", *flags]
        return cmd, f"http://127.0.0.1:{port}/v1", checkout

    prism_port, limit_port = free_port(), free_port()
    prism = [str(NODE / "node_modules" / ".bin" / "prism"), "mock", str(OPENAPI)]
    prism += ["-h", "127.0.0.1", "-p", str(prism_port), "-v", "silent"]
    limit = [sys.executable, str(ROOT / "benchmarks" / "bare_responder.py")]
    limit += ["--port", str(limit_port)]
    commands = {
        "mock": mock("warning"),
        "mock_log": mock("info"),
        "mock_pure": mock("warning", ROOT, "--pure-python"),
        "prism": (prism, f"http://127.0.0.1:{prism_port}/v1", ROOT),
        "limit": (limit, f"http://127.0.0.1:{limit_port}/v1", ROOT),
    }
    if args.baseline is not None:
        commands["baseline"] = mock("warning", args.baseline.resolve())
    commands["mock_again"] = commands["mock"]

    runs = []
    try:
        for _ in range(args.repeat):
            for connections in args.connections:
                runs.append(measure(commands, connections, args, body, body_file))
                if not args.json:
                    show(runs[-1])
    finally:
        body_file.unlink()
    summary = {
        "seconds": args.seconds,
        "runs": runs,
        "medians": {
            c: medians([r for r in runs if r["connections"] == c]) for c in args.connections
        },
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    if args.repeat > 1:
        for c, m in summary["medians"].items():
            print(f"medians of {args.repeat} runs at {c} connections: {m}")


def show(run: dict[str, Any]) -> None:
    before, after = run["load_average"]
    print(f"{run['connections']} connections (load average {before} before, {after} after):")
    for name in SERVERS:
        if name not in run:
            continue
        r = run[name]
        print(
            f"{LABELS.get(name, name):>11}: {r['rps']:8.0f} req/s  p50 {r['p50_ms']} ms  "
            f"p99 {r['p99_ms']} ms  CPU {r['cpu_us_per_request']} us/request  "
            f"non-2xx {r['non2xx']}  errors {r['errors']}"
        )
    print(
        f"mock / Prism {run['mock_vs_prism']}x (goal >= 2), Prism / mock CPU per request "
        f"{run['prism_cpu_vs_mock_cpu']}, mock / limit {run['mock_vs_limit']}, "
        f"mock p99 {run['mock_p99_ms']} ms (goal <= 5), log on / off {run['log_vs_no_log']}, "
        f"drift {run['drift']}, mock / mock (Python) {run['mock_vs_pure']}"
        + (f", mock / baseline {run['mock_vs_baseline']}" if "mock_vs_baseline" in run else "")
    )


if __name__ == "__main__":
    main()
