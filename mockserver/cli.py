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
from .limits import http_protocol
from .targets import LOOPBACK, Allowlist

# (flag, type, MockConfig field, metavar, help): each must be positive
LIMITS: tuple[tuple[str, type, str, str, str], ...] = (
    (
        "--max-body-bytes",
        int,
        "max_body_bytes",
        "N",
        "larger request bodies get 413, larger WebSocket frames close 1009 (default 10 MiB)",
    ),
    (
        "--body-timeout",
        float,
        "body_timeout_seconds",
        "S",
        "a request body must arrive within S seconds, else 408 (default 10)",
    ),
    (
        "--header-timeout",
        float,
        "header_timeout_seconds",
        "S",
        "request headers must arrive within S seconds, else 408 and close (default 10)",
    ),
    (
        "--ws-max-in-flight",
        int,
        "ws_max_in_flight",
        "N",
        "unanswered task frames per WebSocket before rateLimitExceeded (default 64)",
    ),
    (
        "--ws-max-frames-per-second",
        int,
        "ws_max_frames_per_second",
        "N",
        "WebSocket frames per second before rateLimitExceeded; twice that closes 1008 "
        "(default 200)",
    ),
)


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
    limits = parser.add_argument_group("limits and security")
    for flag, kind, dest, metavar, text in LIMITS:
        limits.add_argument(
            flag,
            type=kind,
            dest=dest,
            default=getattr(MockConfig, dest),
            metavar=metavar,
            help=text,
        )
    limits.add_argument(
        "--delivery-allow",
        action="append",
        default=[],
        metavar="HOST|CIDR",
        help="a host name or network webhookURL/uploadEndpoint may reach; repeat for several; "
        "replaces the default, loopback only (127.0.0.0/8 and ::1)",
    )
    limits.add_argument(
        "--admin-key",
        default=None,
        metavar="KEY",
        help="only this key opens /__admin/ (default: any accepted API key)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.job_seconds < 0:
        print("--job-seconds must not be negative", file=sys.stderr)
        return 2
    for flag, _, dest, _, _ in LIMITS:
        if getattr(args, dest) <= 0:
            print(f"{flag} must be positive", file=sys.stderr)
            return 2
    allow = tuple(args.delivery_allow) or LOOPBACK
    try:
        Allowlist.parse(allow)
    except ValueError as exc:
        print(f"--delivery-allow: {exc}", file=sys.stderr)
        return 2
    config = MockConfig(
        api_keys=frozenset(args.api_keys),
        job_seconds=args.job_seconds,
        seed=args.seed,
        journal_size=args.journal_size,
        delivery_allow=allow,
        admin_key=args.admin_key,
        **{dest: getattr(args, dest) for _, _, dest, _, _ in LIMITS},
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
        http=http_protocol(config.header_timeout_seconds),
        ws="websockets-sansio",
        ws_ping_interval=None,
        ws_max_size=config.max_body_bytes,
        access_log=args.log_level in ("info", "debug"),
    )
    return 0
