"""The cost of one validated ``POST /v1`` inside the server process, without a network or a
load generator: the mock's HTTP protocol (uvicorn's httptools protocol with the direct path
and the header deadline) fed whole requests over an in-memory transport, each a fresh
taskUUID on the first documented example, as ``mock_vs_prism.py`` sends them.

Two figures per checkout: microseconds per request (the fastest of ``--repeat`` passes) and,
with ``--instructions``, CPU instructions per request counted by valgrind's callgrind (the
difference between a run of ``--requests`` + 200 requests and one of 200, so start-up and
imports cancel out). Instruction counts do not depend on what else the machine is doing:
the same code and inputs give the same count to a fraction of a percent, which makes small
changes measurable on a shared machine where req/s drift by tens of percent. The requests
are built before the first is fed, almost for free (one is encoded, the rest are copies
with another taskUUID), and the collector is set as the served process sets it, so the
count is the server's own work per request (before 2026-12-07 it also held this script's
``json.dumps`` of each request and collections the server does not run: about a fifth of
the count; a figure is only comparable with one of the same script). ``--no-validate``
measures the same path with ``runware_contract.validate`` answering no errors without
looking (to split validation from the rest). ``--baseline DIR`` measures another checkout
(e.g. ``git archive`` of main before a change) in the same run and prints the ratios.

``--compiled`` also measures this checkout with its request path compiled
(``mockserver.compiled``: build it first with ``python -m mockserver.compiled build``).

Usage: python benchmarks/hot_path.py [--requests 2000] [--repeat 5] [--instructions]
       [--no-validate] [--compiled] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WARMUP = 200
KEY = "bench-key"


class Transport:
    """What the protocol writes to, and the little else it asks of a transport."""

    def __init__(self) -> None:
        self.out: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.out.append(data)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def requests(count: int) -> list[bytes]:
    """``count`` whole POST /v1 requests, the first documented example with fresh taskUUIDs.
    One request is encoded and the others are it with another taskUUID put in place (a
    UUID is always as long): building them costs next to nothing, so the difference
    between two runs' instruction counts is the server's work, not this script's."""
    from runware_contract import klingai_video_3_0_pro as kling

    def request(task_uuid: str) -> bytes:
        task = dict(kling.EXAMPLES[0].request, taskUUID=task_uuid)
        body = json.dumps([task]).encode()
        return (
            b"POST /v1 HTTP/1.1\r\nhost: 127.0.0.1:8000\r\ncontent-type: application/json\r\n"
            b"authorization: Bearer " + KEY.encode() + b"\r\nuser-agent: hot-path\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )

    placeholder = str(uuid.UUID(int=0, version=4))
    template = request(placeholder)
    at = template.index(placeholder.encode())
    head, tail = template[:at], template[at + len(placeholder) :]
    out = [head + str(uuid.UUID(int=n + 1, version=4)).encode() + tail for n in range(count)]
    assert out[0] == request(str(uuid.UUID(int=1, version=4)))
    return out


def connected(server: Any, http_protocol: Any) -> tuple[Any, Transport]:
    """``server``'s HTTP protocol (the class ``http_protocol`` of its checkout makes) over an
    in-memory transport, connected."""
    import uvicorn
    from uvicorn.server import ServerState

    protocol_class = http_protocol(server.config.header_timeout_seconds, server.rest)
    config = uvicorn.Config(server.app, http=protocol_class, lifespan="off")
    config.load()
    protocol = protocol_class(
        config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop()
    )
    transport = Transport()
    protocol.connection_made(transport)
    return protocol, transport


async def feed(count: int, repeat: int, no_validate: bool) -> list[float]:
    """Seconds per request of each pass (this checkout's code, as imported)."""
    import runware_contract as rc

    try:  # mockserver/ by role; a baseline checkout may have the flat layout before it
        from mockserver.core.config import MockConfig
        from mockserver.http.app import MockServer
        from mockserver.protocols.limits import http_protocol
    except ImportError:
        from mockserver.app import MockServer  # type: ignore[import-not-found, no-redef]
        from mockserver.config import MockConfig  # type: ignore[import-not-found, no-redef]
        from mockserver.limits import http_protocol  # type: ignore[import-not-found, no-redef]

    if no_validate:
        rc.validate = lambda task: []  # a checkout whose engine calls the package's validate
    server = MockServer(MockConfig(api_keys=frozenset({KEY}), seed=1))
    # The collector as the served process sets it (cli._server): what start-up built is
    # frozen out of collections, and a young collection runs once per 100,000 objects.
    gc.set_threshold(100_000, 50, 100)
    gc.collect()
    gc.freeze()
    if no_validate and hasattr(server, "registry"):
        server.registry.validate = lambda task: []  # type: ignore[method-assign]
    protocol, transport = connected(server, http_protocol)
    all_requests = requests(WARMUP + count * repeat)
    for request in all_requests[:WARMUP]:
        protocol.data_received(request)
    passes = []
    for n in range(repeat):
        transport.out.clear()
        batch = all_requests[WARMUP + n * count : WARMUP + (n + 1) * count]
        started = time.perf_counter()
        for request in batch:
            protocol.data_received(request)
        passes.append((time.perf_counter() - started) / count)
        answered = [r for r in transport.out if r.startswith(b"HTTP/1.1 200 ")]
        if len(answered) != count:
            raise SystemExit(f"expected {count} answers of 200, got: {transport.out[:1]!r}")
    protocol.connection_lost(None)
    return passes


def child(checkout: Path, args: list[str]) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of this script's child mode on ``checkout``'s code
    and generated package."""
    env = {**os.environ, "PYTHONPATH": f"{checkout}{os.pathsep}{checkout / 'generated'}"}
    return [sys.executable, str(Path(__file__).resolve()), "--child", *args], env


def microseconds(checkout: Path, args: argparse.Namespace, compiled: bool = False) -> float:
    flags = ["--requests", str(args.requests), "--repeat", str(args.repeat)]
    flags += ["--no-validate"] if args.no_validate else []
    flags += ["--compiled"] if compiled else []
    cmd, env = child(checkout, flags)
    out = subprocess.run(cmd, env=env, cwd=checkout, check=True, capture_output=True, text=True)
    return float(json.loads(out.stdout)["best_us"])


def instructions(checkout: Path, args: argparse.Namespace, compiled: bool = False) -> int:
    """Instructions per request: callgrind's total for WARMUP + N requests minus for WARMUP."""

    def total(count: int) -> int:
        flags = ["--requests", str(count), "--repeat", "1"]
        flags += ["--no-validate"] if args.no_validate else []
        flags += ["--compiled"] if compiled else []
        cmd, env = child(checkout, flags)
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd]
        run = subprocess.run(cmd, env=env, cwd=checkout, check=True, capture_output=True, text=True)
        found = re.search(r"Collected : (\d+)", run.stderr)
        if found is None:
            raise SystemExit(f"no instruction count from valgrind:\n{run.stderr[-2000:]}")
        return int(found[1])

    count: int = args.requests
    return (total(count + 1) - total(1)) // count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--instructions", action="store_true")
    parser.add_argument("--no-validate", action="store_true")
    parser.add_argument("--baseline", type=Path, default=None, metavar="DIR")
    parser.add_argument(
        "--compiled",
        action="store_true",
        help="also this checkout with its request path compiled (python -m mockserver.compiled "
        "build first)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.compiled:  # before anything imports the modules it compiles
            from mockserver import compiled

            status = compiled.activate()
            if not status.startswith("compiled"):
                raise SystemExit(f"--compiled: the request path runs as {status}")
        passes = asyncio.run(feed(args.requests, args.repeat, args.no_validate))
        print(json.dumps({"best_us": round(min(passes) * 1e6, 2)}))
        return
    if args.instructions and shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (Debian: apt-get install valgrind)")
    checkouts = {"this checkout": (ROOT, False)}
    if args.compiled:
        checkouts["compiled"] = (ROOT, True)
    if args.baseline is not None:
        checkouts["baseline"] = (args.baseline.resolve(), False)
    figures: dict[str, dict[str, float]] = {}
    for name, (checkout, built) in checkouts.items():
        figures[name] = {"us_per_request": microseconds(checkout, args, built)}
        if args.instructions:
            figures[name]["instructions_per_request"] = instructions(checkout, args, built)
    for name, row in figures.items():
        text = f"{name:>13}: {row['us_per_request']:7.2f} us per request"
        if "instructions_per_request" in row:
            text += f"  {int(row['instructions_per_request']):,} instructions per request"
        print(text)
    mine = figures["this checkout"]
    for name in ("compiled", "baseline"):
        if name in figures:
            other = figures[name]
            ratios = {k: round(mine[k] / other[k], 3) for k in mine}
            print(f"this checkout / {name}: {ratios}")


if __name__ == "__main__":
    main()
