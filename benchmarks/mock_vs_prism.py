"""Validated POST /v1 throughput and p99 latency: this mock against Prism 5, same run.

Both servers validate the same body (the first documented example, with a fresh taskUUID
per request): the mock with the generated runtime, Prism with the generated OpenAPI
document. The load comes from autocannon (benchmarks/node/load.js). Each server gets a
warm-up, then a measured run; the mock is measured before and after Prism so drift on
this noisy machine shows. Figures are ratios against Prism measured in the same run.

Usage: python benchmarks/mock_vs_prism.py [--connections 20] [--seconds 10] [--json]
Needs Node.js; installs benchmarks/node's packages (Prism, autocannon) from npm if missing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
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
def process(cmd: list[str], ready_url: str, body: list[dict[str, Any]]) -> Iterator[None]:
    """``cmd`` running until it answers a validated task at ``ready_url``."""

    def ready() -> bool:
        stamp = f"{int(time.time() * 1e6) % 10**12:012d}"
        task = dict(body[0], taskUUID=f"00000000-0000-4000-8000-{stamp}")
        with contextlib.suppress(httpx.TransportError):
            headers = {"Authorization": "Bearer bench-key"}
            return httpx.post(ready_url, json=[task], headers=headers).status_code == 200
        return False

    with running_process(cmd, ready, cwd=ROOT, timeout=60):
        yield


def load(url: str, connections: int, seconds: int, body_file: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["node", str(NODE / "load.js"), url, str(connections), str(seconds), str(body_file)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    ensure_node_packages()

    sys.path.insert(0, str(ROOT))
    from runware_contract import klingai_video_3_0_pro as kling

    body = [dict(kling.EXAMPLES[0].request)]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(body[0], f)
        body_file = Path(f.name)

    mock_port, prism_port = free_port(), free_port()
    mock_cmd = [
        sys.executable,
        "-m",
        "mockserver",
        "--port",
        str(mock_port),
        "--log-level",
        "warning",
        "--api-key",
        "bench-key",
    ]
    prism_cmd = [
        str(NODE / "node_modules" / ".bin" / "prism"),
        "mock",
        str(OPENAPI),
        "-h",
        "127.0.0.1",
        "-p",
        str(prism_port),
        "-v",
        "silent",
    ]
    mock_url, prism_url = f"http://127.0.0.1:{mock_port}/v1", f"http://127.0.0.1:{prism_port}/v1"

    results: dict[str, Any] = {}
    with process(mock_cmd, mock_url, body):
        load(mock_url, args.connections, args.warmup, body_file)
        results["mock"] = load(mock_url, args.connections, args.seconds, body_file)
    with process(prism_cmd, prism_url, body):
        load(prism_url, args.connections, args.warmup, body_file)
        results["prism"] = load(prism_url, args.connections, args.seconds, body_file)
    with process(mock_cmd, mock_url, body):
        load(mock_url, args.connections, args.warmup, body_file)
        results["mock_again"] = load(mock_url, args.connections, args.seconds, body_file)
    body_file.unlink()

    mock_rps = min(results["mock"]["rps"], results["mock_again"]["rps"])
    mock_p99 = max(results["mock"]["p99_ms"], results["mock_again"]["p99_ms"])
    summary = {
        "connections": args.connections,
        "seconds": args.seconds,
        **results,
        "rps_ratio_mock_vs_prism": round(mock_rps / results["prism"]["rps"], 2),
        "mock_p99_ms": mock_p99,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    for name in ("mock", "prism", "mock_again"):
        r = results[name]
        print(
            f"{name:>10}: {r['rps']:8.0f} req/s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  "
            f"non-2xx {r['non2xx']}  errors {r['errors']}"
        )
    print(
        f"mock / Prism throughput: {summary['rps_ratio_mock_vs_prism']}x (target >= 2x); "
        f"mock p99 {mock_p99} ms (target <= 5 ms) at {args.connections} connections"
    )


if __name__ == "__main__":
    main()
