"""The mock's state: the ``Store`` protocol (``protocol.py``) and its backends, memory
(``memory.py``), SQLite (``sqlite.py``) and Redis (``redis.py``), chosen by ``open_store``'s
spec string."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable

from .memory import MemoryStore
from .protocol import (
    STORE_TIMEOUT,
    ImageRecord,
    Limits,
    Store,
    StoreUnavailable,
    TaskRecord,
    VideoRecord,
    merged,
    request_deadline,
)
from .sqlite import SqliteStore

__all__ = [
    "STORE_TIMEOUT",
    "ImageRecord",
    "Limits",
    "MemoryStore",
    "SqliteStore",
    "Store",
    "StoreUnavailable",
    "TaskRecord",
    "VideoRecord",
    "check_spec",
    "merged",
    "open_store",
    "reachable",
    "request_deadline",
]


STORES = "memory, sqlite:PATH[?max_pages=N] or redis://[:password@]HOST:PORT/DB[?lease=S]"


def open_store(
    spec: str,
    limits: Limits | None = None,
    clock: Callable[[], float] = time.time,
    timeout: float = STORE_TIMEOUT,
) -> Store:
    """``memory``, ``sqlite:PATH[?max_pages=N]`` or ``redis://...`` (``rediss://`` for TLS);
    ValueError for anything else.

    ``max_pages`` caps the database file at N pages (SQLite's ``max_page_count``): a disk
    that fills up, on demand, for tests of what the server does then. ``lease=S`` is how
    long a Redis claim on a completion lasts before another process may take it (default
    30). ``clock`` is the server's: the Redis store computes TTLs from it. ``timeout``: how
    long a store call may take, and one request's store calls together (``--store-timeout``)."""
    if spec == "memory":
        return MemoryStore(limits)
    if spec.startswith(("redis://", "rediss://")):
        url, lease = _redis_spec(spec)
        from .redis import RedisStore  # imports redis only when it is used

        return RedisStore(url, limits, clock=clock, lease_seconds=lease, timeout=timeout)
    kind, _, rest = spec.partition(":")
    path, _, option = rest.partition("?max_pages=")
    if kind == "sqlite" and path and (not option or option.isdigit()):
        return SqliteStore(path, limits, timeout=timeout, max_pages=int(option) if option else None)
    raise ValueError(f"unknown store {spec!r}: use {STORES}")


def _redis_spec(spec: str) -> tuple[str, float]:
    """The Redis URL and the lease of ``spec``; ValueError naming what is wrong."""
    parts = urllib.parse.urlsplit(spec)
    query = urllib.parse.parse_qs(parts.query)
    unknown = set(query) - {"lease"}
    if unknown:
        raise ValueError(f"unknown store option {sorted(unknown)[0]!r}: only lease=S")
    try:
        lease = float(query.get("lease", ["30"])[-1])
        port = parts.port
    except ValueError:
        raise ValueError(f"bad store {spec!r}: lease must be seconds, the port a number") from None
    if not parts.hostname or not lease > 0 or port is None:
        raise ValueError(f"bad store {spec!r}: use redis://[:password@]HOST:PORT/DB[?lease=S]")
    db = parts.path.lstrip("/")
    if db and not db.isdigit():
        raise ValueError(f"bad store {spec!r}: the database is a number (/0)")
    return urllib.parse.urlunsplit(parts._replace(query="")), lease


def check_spec(spec: str) -> str | None:
    """What is wrong with a store spec (None: nothing), without opening anything."""
    if spec == "memory":
        return None
    if spec.startswith("sqlite:"):
        return None if spec.partition(":")[2] else "--store sqlite:PATH needs a PATH"
    if spec.startswith(("redis://", "rediss://")):
        try:
            _redis_spec(spec)
        except ValueError as exc:
            return f"--store: {exc}"
        return None
    return f"--store must be {STORES}"


async def reachable(spec: str) -> str | None:
    """Why the store of ``spec`` cannot be used now (None: it can): the CLI checks before
    serving, in an event loop of its own (nothing made ready for requests: the server's own
    ``open`` does that)."""
    store = open_store(spec)
    try:
        await store.open(ahead=False)
    except StoreUnavailable as exc:
        return str(exc)
    finally:
        await store.close()
    return None
