"""`python -m mockserver` / `runware-mock`: serve the mock on a socket."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import re
import socket
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import uvicorn
from uvicorn.supervisors import Multiprocess

from . import compiled
from .base import logs
from .core import models
from .core.config import LOOPBACK, MockConfig
from .extras import version
from .http.app import MockServer
from .http.base_url import parse_public_url
from .lifecycle.targets import Allowlist
from .serving import shared_options, uvicorn_options
from .store import check_spec, reachable

# (flag, type, MockConfig field, metavar, help): each must be positive; {default} in the help
# is MockConfig's default (the one place it is stated)
LIMITS: tuple[tuple[str, type, str, str, str], ...] = (
    (
        "--max-results",
        int,
        "max_results",
        "N",
        "results (numberResults summed over tasks) the memory store keeps, oldest task "
        "first out (default {default}, about 210 MiB with --max-tasks at its default)",
    ),
    (
        "--max-result-bytes",
        int,
        "max_result_bytes",
        "N",
        "bytes of results the memory store keeps (images delivered as base64Data or dataURI "
        "carry their files), oldest task first out (default {default})",
    ),
    (
        "--max-render-pixels",
        int,
        "max_render_pixels",
        "N",
        "width x height of a result image, at most; larger tasks get maxImagePixelsExceeded "
        "(default {default})",
    ),
    (
        "--max-body-bytes",
        int,
        "max_body_bytes",
        "N",
        "larger request bodies get 413, larger WebSocket frames close 1009 (default {default})",
    ),
    (
        "--max-tasks-per-request",
        int,
        "max_tasks_per_request",
        "N",
        "tasks in one request body or WebSocket frame; more get one tooManyTasks error "
        "(default {default})",
    ),
    (
        "--body-timeout",
        float,
        "body_timeout_seconds",
        "S",
        "a request body must arrive within S seconds, else 408 (default {default})",
    ),
    (
        "--header-timeout",
        float,
        "header_timeout_seconds",
        "S",
        "request headers must arrive within S seconds, else 408 and close (default {default})",
    ),
    (
        "--ws-max-in-flight",
        int,
        "ws_max_in_flight",
        "N",
        "unanswered task frames per WebSocket before rateLimitExceeded (default {default})",
    ),
    (
        "--ws-max-frames-per-second",
        int,
        "ws_max_frames_per_second",
        "N",
        "WebSocket frames per second (pings and pongs too) before rateLimitExceeded; twice "
        "that closes 1008 (default {default})",
    ),
    (
        "--ws-auth-timeout",
        float,
        "ws_auth_timeout_seconds",
        "S",
        "a WebSocket must send its authentication frame within S seconds of opening, else "
        "it is closed 1008 (default 10)",
    ),
    (
        "--ws-max-unauthenticated",
        int,
        "ws_max_unauthenticated",
        "N",
        "WebSockets open but not authenticated yet, at most; more are refused at once with "
        "429 (default 256, and never more than the descriptor limit less a quarter of it)",
    ),
    (
        "--ws-max-unauthenticated-per-client",
        int,
        "ws_max_unauthenticated_per_client",
        "N",
        "the same, from one client address (default 128: a CI runner or load test may open "
        "many at once)",
    ),
    (
        "--max-image-pixels",
        int,
        "max_image_pixels",
        "N",
        "imageUpload refuses images of more pixels, read from the header "
        "(maxImagePixelsExceeded; default {default})",
    ),
    (
        "--store-timeout",
        float,
        "store_timeout_seconds",
        "S",
        "how long one request's store calls (SQLite, Redis) may take together; then 503 "
        "storageUnavailable, and nothing of the request's refused tasks is kept (default 2)",
    ),
    (
        "--video-cache-bytes",
        int,
        "video_cache_bytes",
        "N",
        "rendered video files kept in memory, least recently used out first (default {default})",
    ),
)


EXAMPLES = """\
examples:
  python -m mockserver                                  127.0.0.1:8080, any non-empty key
  python -m mockserver --port 0 --api-key k1            a free port (printed), one key
  python -m mockserver --job-seconds 0.2 --seed 7       fast, deterministic runs
  python -m mockserver --log-format json --log-level warning
  python -m mockserver --store sqlite:mock.db --workers 4
"""


MIB = 1024 * 1024


def shown(field: str, value: float) -> str:
    """A default as the help text shows it: byte sizes in MiB when whole, numbers plain."""
    if field.endswith("_bytes") and value % MIB == 0:
        return f"{value // MIB:g} MiB"
    return f"{value:g}" if isinstance(value, float) else str(value)


class _Parser(argparse.ArgumentParser):
    """A mistake on the command line is one line on stderr and exit status 2 (argparse's
    usage of every flag would bury it)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m mockserver",
        description="A Runware API mock (REST and WebSocket on /v1) for the models in the spec.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8080,
        help="port, 0 to 65535; 0 takes a free one, printed at startup (default 8080, the "
        "official SDKs' test port)",
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
        default=MockConfig.job_seconds,
        metavar="S",
        help="how long a task delivered async (every video task) stays processing "
        f"(default {MockConfig.job_seconds:g})",
    )
    parser.add_argument(
        "--sync-job-seconds",
        type=float,
        default=MockConfig.sync_job_seconds,
        metavar="S",
        help="how long a task delivered sync (an image task's default) runs before its "
        f"request is answered (default {MockConfig.sync_job_seconds:g})",
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
        choices=logs.LEVELS,
        help="log level; info logs a line per request and per delivery attempt (default info)",
    )
    parser.add_argument(
        "--pure-python",
        action="store_true",
        help="run the request path as Python even where a compiled build of it exists "
        "(python -m mockserver.compiled build; ./dev makes one)",
    )
    parser.add_argument(
        "--log-format",
        default="text",
        choices=logs.FORMATS,
        help="log lines as text, or one JSON object per line (default text)",
    )
    parser.add_argument(
        "--journal-size",
        type=int,
        default=MockConfig.journal_size,
        metavar="N",
        help="requests kept in the journal at /__admin/requests "
        f"(default {MockConfig.journal_size})",
    )
    parser.add_argument(
        "--store",
        default=MockConfig.store,
        metavar="memory|sqlite:PATH|redis://HOST:PORT/DB",
        help="where tasks live: in memory (default); in an SQLite file that keeps them "
        "across restarts and shares them between --workers (sqlite:PATH?max_pages=N caps "
        "the file at N pages: a full disk, for tests); or in one Redis that any number of "
        "mock processes on any number of hosts share (redis://[:password@]HOST:PORT/DB, "
        "rediss:// for TLS; ?lease=S: how long a claimed completion is held, default 30)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="worker processes on the one port (N > 1 needs --store sqlite:PATH; default 1)",
    )
    parser.add_argument(
        "--spec",
        dest="spec_dirs",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="also serve the model spec files in DIR (repeatable); one whose model ID the "
        "package serves replaces it (the banner says so)",
    )
    parser.add_argument(
        "--page",
        dest="pages",
        action="append",
        default=[],
        type=Path,
        metavar="PAGE.md",
        help="also serve the model of this docs page, imported in memory (repeatable); a page "
        "with errors is refused (exit 2), one with warnings served with a one-line summary, "
        "one whose model ID the package serves replaces it (the banner says so)",
    )
    parser.add_argument(
        "--max-tasks",
        type=int,
        default=MockConfig.max_tasks,
        metavar="N",
        help=f"tasks kept at most, the oldest forgotten first (default {MockConfig.max_tasks})",
    )
    limits = parser.add_argument_group("limits and security")
    for flag, kind, dest, metavar, text in LIMITS:
        limits.add_argument(
            flag,
            type=kind,
            dest=dest,
            default=getattr(MockConfig, dest),
            metavar=metavar,
            help=text.format(default=shown(dest, getattr(MockConfig, dest))),
        )
    limits.add_argument(
        "--delivery-allow",
        action="append",
        default=[],
        metavar="HOST|CIDR",
        help="a host name or network webhookURL/uploadEndpoint may reach; repeat for several; "
        "replaces the default, loopback only (127.0.0.0/8 and ::1)",
    )
    parser.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="base of every URL the mock hands out (videoURL, imageURL), e.g. "
        "https://mock.example:8443; default: the request's Host header when it is a plain "
        "host[:port], else the listening address",
    )
    limits.add_argument(
        "--admin-key",
        default=None,
        metavar="KEY",
        help="only this key opens /__admin/ (default: any accepted API key)",
    )
    return parser


WORKER_ARGS = compiled.WORKER_ARGS  # how --workers processes get the command line


def _config(args: argparse.Namespace) -> MockConfig:
    return MockConfig(
        api_keys=frozenset(args.api_keys),
        job_seconds=args.job_seconds,
        sync_job_seconds=args.sync_job_seconds,
        seed=args.seed,
        journal_size=args.journal_size,
        delivery_allow=tuple(args.delivery_allow) or LOOPBACK,
        admin_key=args.admin_key,
        public_url=parse_public_url(args.public_url) if args.public_url else None,
        **{dest: getattr(args, dest) for _, _, dest, _, _ in LIMITS},
        store=args.store,
        max_tasks=args.max_tasks,
        # Stored times must mean the same in every process and after a restart.
        clock=time.monotonic if args.store == "memory" else time.time,
    )


def _problem(args: argparse.Namespace) -> str | None:
    if not 0 <= args.port <= 65535:
        return f"--port must be from 0 to 65535 (0: any free port), not {args.port}"
    for flag, keys in (("--api-key", args.api_keys), ("--admin-key", [args.admin_key])):
        if any(k is not None and (not k or k != k.strip()) for k in keys):
            return f"{flag} must not be empty nor start or end with a space"
    if args.job_seconds < 0:
        return "--job-seconds must not be negative"
    if args.sync_job_seconds < 0:
        return "--sync-job-seconds must not be negative"
    if args.workers < 1 or args.max_tasks < 1 or args.journal_size < 1:
        return "--workers, --max-tasks and --journal-size must be at least 1"
    if (store_problem := check_spec(args.store)) is not None:
        return store_problem
    if args.workers > 1 and args.store == "memory":
        return "--workers N > 1 needs a shared store: --store sqlite:PATH or redis://..."
    for flag, _, dest, _, _ in LIMITS:
        if getattr(args, dest) <= 0:
            return f"{flag} must be positive"
    try:
        Allowlist.parse(tuple(args.delivery_allow) or LOOPBACK)
    except ValueError as exc:
        return f"--delivery-allow: {exc}"
    if args.public_url is not None:
        try:
            parse_public_url(args.public_url)
        except ValueError as exc:
            return f"--public-url {exc}"
    return None


def redacted(spec: str) -> str:
    """A store spec without its password."""
    return re.sub(r"//[^@/]*@", "//***@", spec)


def _server(config: MockConfig, registry: models.ModelRegistry) -> MockServer:
    server = MockServer(config, registry)
    # A server process holds many long-lived, acyclic task records: collect cycles less
    # often (measured: about 7% more requests per second under load).
    gc.set_threshold(100_000, 50, 100)
    # What start-up built (modules, validators, the app) lives as long as the process: out
    # of every later collection, so a full one walks only what requests left (with 20,000
    # tasks held, a sixth of the pause: benchmarks/tail.py gc).
    gc.collect()
    gc.freeze()
    return server


def worker_server() -> MockServer:
    """The server of one --workers process, from the command line the parent left in
    ``WORKER_ARGS``."""
    args = build_parser().parse_args(json.loads(os.environ[WORKER_ARGS]))
    logs.configure(args.log_level, args.log_format)
    return _server(_config(args), models.load(args.spec_dirs, args.pages))


class WorkerConfig(uvicorn.Config):
    """The uvicorn config a --workers parent pickles into each worker: there, ``load`` builds
    the worker's own server and takes its app and protocol classes from ``uvicorn_options``,
    as a single process does (nothing is set on a class)."""

    def load(self) -> None:
        server = worker_server()
        self.app, self.factory = server.app, False
        for name, value in uvicorn_options(server).items():
            setattr(self, name, value)
        super().load()


def banner(args: argparse.Namespace, config: MockConfig, server: MockServer, address: Any) -> str:
    """What the mock prints once its socket is bound: where it listens (the real port,
    with --port 0), what it accepts, and where its health and admin routes are."""
    host, port = address[0], address[1]
    base = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    keys = (
        f"{len(config.api_keys)} configured key(s)" if config.api_keys else "any non-empty API key"
    )
    admin = "the admin key" if config.admin_key else "any accepted API key"
    store = "memory" if config.store == "memory" else redacted(config.store)
    workers = f", {args.workers} workers" if args.workers > 1 else ""
    return (
        f"Runware mock listening on http://{base}/v1 (WebSocket ws://{base}/v1); accepts {keys}\n"
        f"models: {', '.join(f'{m} ({server.registry.describe(m)})' for m in server.models)}\n"
        f"health: http://{base}/health; admin: http://{base}/__admin/ ({admin}); "
        f"store: {store}{workers}; job seconds: {config.job_seconds:g}; "
        f"request path: {compiled.status}"
    )


def listening(host: str, port: int) -> socket.socket:
    """The server's socket, bound before uvicorn starts (as uvicorn binds it), so that an
    address in use is one line from ``main`` rather than uvicorn's log lines and exit."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)  # --workers processes serve it too
    return sock


class _Announcing(uvicorn.Server):
    """uvicorn's server, printing the banner once it listens (the socket bound, the app
    started), with the address the socket really has."""

    def __init__(self, config: uvicorn.Config, text: Any) -> None:
        super().__init__(config)
        self.text = text

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            print(self.text(self.servers[0].sockets[0].getsockname()), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if (problem := _problem(args)) is not None:
        print(problem, file=sys.stderr)
        return 2
    logs.configure(args.log_level, args.log_format)
    try:
        registry = models.load(args.spec_dirs, args.pages)
    except (OSError, ValueError) as exc:  # ModelLoadError, unreadable files
        print(f"cannot load the models: {exc}", file=sys.stderr)
        return 2
    for line in registry.summary():
        print(line, file=sys.stderr)
    config = _config(args)
    try:
        server = _server(config, registry)  # also creates the SQLite schema once, before any worker
        unreachable = asyncio.run(reachable(args.store))
    except (OSError, ValueError, sqlite3.Error) as exc:
        print(f"cannot open the store: {exc}", file=sys.stderr)
        return 2
    if unreachable is not None:
        print(f"cannot reach the store {redacted(args.store)}: {unreachable}", file=sys.stderr)
        return 2
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "log_config": None,  # logs.configure's one handler and format, uvicorn's loggers too
    }
    try:
        sock = listening(args.host, args.port)
    except OSError as exc:  # a port in use, an address not this machine's
        print(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        asyncio.run(server.store.close())
        return 2
    if args.workers == 1:
        uv = _Announcing(
            uvicorn.Config(server.app, **uvicorn_options(server, **options)),
            lambda address: banner(args, config, server, address),
        )
        with contextlib.suppress(KeyboardInterrupt, SystemExit):
            uv.run(sockets=[sock])
        return 0 if uv.started else 2  # not started: uvicorn logged why
    asyncio.run(server.store.close())
    os.environ[WORKER_ARGS] = json.dumps(list(sys.argv[1:] if argv is None else argv))
    multi = WorkerConfig(
        "mockserver.cli:worker_server",  # each worker's load() builds its server
        workers=args.workers,
        **shared_options(config),
        **options,
    )
    print(banner(args, config, server, sock.getsockname()), flush=True)
    Multiprocess(multi, sockets=[sock]).run()
    return 0
