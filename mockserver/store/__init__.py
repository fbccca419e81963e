"""The mock's state: the ``Store`` protocol (``protocol.py``) and its backends, memory
(``memory.py``) and SQLite (``sqlite.py``), chosen by ``open_store``'s spec string."""

from __future__ import annotations

from .memory import MemoryStore
from .protocol import (
    ImageRecord,
    Limits,
    Store,
    StoreUnavailable,
    TaskRecord,
    VideoRecord,
    merged,
)
from .sqlite import SqliteStore

__all__ = [
    "ImageRecord",
    "Limits",
    "MemoryStore",
    "SqliteStore",
    "Store",
    "StoreUnavailable",
    "TaskRecord",
    "VideoRecord",
    "merged",
    "open_store",
]


def open_store(spec: str, limits: Limits | None = None) -> Store:
    """``memory`` or ``sqlite:PATH[?max_pages=N]``; ValueError for anything else.

    ``max_pages`` caps the database file at N pages (SQLite's ``max_page_count``): a disk
    that fills up, on demand, for tests of what the server does then."""
    if spec == "memory":
        return MemoryStore(limits)
    kind, _, rest = spec.partition(":")
    path, _, option = rest.partition("?max_pages=")
    if kind == "sqlite" and path and (not option or option.isdigit()):
        return SqliteStore(path, limits, max_pages=int(option) if option else None)
    raise ValueError(f"unknown store {spec!r}: use 'memory' or 'sqlite:PATH[?max_pages=N]'")
