"""`python -m mockserver` / `runware-mock`: serve the mock on a socket."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Sequence

import uvicorn

from .app import MockServer
from .config import MockConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mockserver",
        description="A Runware API mock (REST and WebSocket on /v1) for the models in the spec.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8080, help="port (default 8080, the official SDKs' test port)"
    )
    parser.add_argument(
        "--api-key",
        dest="api_keys",
        action="append",
        default=[],
        metavar="KEY",
        help="accept this API key; repeat for several (default: any non-empty key)",
    )
    parser.add_argument(
        "--job-seconds",
        type=float,
        default=3.0,
        metavar="S",
        help="how long a video task stays processing (default 3)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="N",
        help="make UUIDs, seeds and timings deterministic",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="log level (default info)",
    )
    parser.add_argument(
        "--journal-size",
        type=int,
        default=1000,
        metavar="N",
        help="requests kept in the journal at /__admin/requests (default 1000)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.job_seconds < 0:
        print("--job-seconds must not be negative", file=sys.stderr)
        return 2
    config = MockConfig(
        api_keys=frozenset(args.api_keys),
        job_seconds=args.job_seconds,
        seed=args.seed,
        journal_size=args.journal_size,
    )
    server = MockServer(config)
    # A server process holds many long-lived, acyclic task records: collect cycles less
    # often (measured: about 7% more requests per second under load).
    gc.set_threshold(100_000, 50, 100)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    keys = (
        f"{len(config.api_keys)} configured key(s)" if config.api_keys else "any non-empty API key"
    )
    print(
        f"Runware mock listening on http://{args.host}:{args.port}/v1 "
        f"(WebSocket ws://{args.host}:{args.port}/v1); accepts {keys}\n"
        f"models: {', '.join(server.models)}",
        flush=True,
    )
    uvicorn.run(
        server.app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        ws="websockets-sansio",
        ws_ping_interval=None,
        access_log=args.log_level in ("info", "debug"),
    )
    return 0
