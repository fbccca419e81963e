"""A ``Store`` in one SQLite file: tasks survive a restart, and worker processes share them.

WAL mode (readers never wait for the writer) with a busy timeout (writers queue instead of
failing). taskUUID uniqueness is the table's PRIMARY KEY (owner, uuid): two processes
inserting the same owner's taskUUID at once get one row and one ``IntegrityError``, never two
tasks. A completion is claimed with a conditional UPDATE, so one process (of several, or
after a restart) pushes, delivers and uploads it. Records are stored as JSON; the columns
beside them are what the queries select on. Times are the server clock's (the CLI uses the
wall clock with this store, so they stay meaningful across restarts). ``PRAGMA user_version``
is the layout's version: a file of the layout before owners (keyed by taskUUID alone,
holding API keys) is refused with a message rather than misread.

Failures (a full disk, an I/O error, a lock held past the busy timeout) never leave a
transaction open: every write runs in ``_transaction``, rolled back when any statement or
the COMMIT fails, and every method raises them as ``StoreUnavailable``, which the app
answers as a 503 ``storageUnavailable`` in Runware's error shape.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import orjson

from .protocol import (
    ImageRecord,
    Limits,
    StoreUnavailable,
    TaskRecord,
    VideoRecord,
    finite,
    merged,
    task_blob,
    task_of,
    video_blob,
    video_of,
)

VERSION = 1  # 1: records owned by a key's owner tag
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS tasks (
    owner TEXT NOT NULL,
    uuid TEXT NOT NULL,
    expires_at REAL NOT NULL,
    wants INTEGER NOT NULL,
    claimed INTEGER NOT NULL DEFAULT 0,
    record BLOB NOT NULL,
    PRIMARY KEY (owner, uuid)
);
CREATE INDEX IF NOT EXISTS tasks_expiry ON tasks (expires_at);
CREATE INDEX IF NOT EXISTS tasks_pending ON tasks (uuid) WHERE claimed = 0 AND wants = 1;
CREATE TABLE IF NOT EXISTS videos (
    owner TEXT NOT NULL,
    uuid TEXT NOT NULL,
    task_uuid TEXT NOT NULL,
    forget_at REAL NOT NULL,
    record BLOB NOT NULL,
    PRIMARY KEY (owner, uuid)
);
CREATE INDEX IF NOT EXISTS videos_forget ON videos (forget_at);
CREATE INDEX IF NOT EXISTS videos_task ON videos (owner, task_uuid);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS images (
    uuid TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    data BLOB,
    record BLOB NOT NULL
);
PRAGMA user_version = {VERSION};
"""


F = TypeVar("F", bound=Callable[..., Any])


def _unavailable(method: F) -> F:
    """``method`` with SQLite's failures raised as StoreUnavailable (a lost taskUUID race,
    IntegrityError, is an answer, handled where it happens)."""

    @functools.wraps(method)
    async def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return await method(*args, **kwargs)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc

    return guarded  # type: ignore[return-value]


def _guarded(cls: type[Any]) -> type[Any]:
    for name, value in list(vars(cls).items()):
        if inspect.iscoroutinefunction(value) and not name.startswith("_") and name != "close":
            setattr(cls, name, _unavailable(value))
    return cls


@_guarded
class SqliteStore:
    def __init__(
        self,
        path: str,
        limits: Limits | None = None,
        timeout: float = 10.0,
        max_pages: int | None = None,
    ) -> None:
        self.path = path
        self.limits = limits or Limits()
        # Autocommit (isolation_level=None): each statement is its own transaction unless
        # wrapped in BEGIN/COMMIT. One connection per process, used from its event loop.
        self._db = sqlite3.connect(
            path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        self._db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")  # WAL: durable across process crashes
        self._check_layout()
        self._db.executescript(SCHEMA)
        if max_pages is not None:  # after the schema, so the tables always fit
            self._db.execute(f"PRAGMA max_page_count = {int(max_pages)}")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back if a statement or the COMMIT fails."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _check_layout(self) -> None:
        """ValueError for a file this version cannot read (older or newer layout)."""
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        tables = self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'tasks'").fetchone()
        if version == 0 and tables is not None:
            self._db.close()
            raise ValueError(
                f"{self.path} was written by an older mock (tasks keyed by taskUUID alone, "
                "holding API keys); delete it or name another file"
            )
        if version > VERSION:
            self._db.close()
            raise ValueError(f"{self.path} was written by a newer mock (layout {version})")

    shared_schedule = False  # recovery at startup only (pending_completions)

    suspends = False  # see Store.suspends

    async def open(self) -> None:
        pass  # opened in the constructor: the CLI creates the schema before any worker

    async def shared_secret(self, name: str, proposed: bytes) -> bytes:
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)", (name, proposed)
            )
        row = self._db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
        return bytes(row[0])

    # ── tasks ───────────────────────────────────────────────────────────────

    async def add_task(self, record: TaskRecord, videos: Sequence[VideoRecord]) -> bool:
        blob = task_blob(record)
        try:
            with self._transaction() as db:
                db.execute(
                    "INSERT INTO tasks (owner, uuid, expires_at, wants, record) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        record.owner,
                        record.task_uuid,
                        record.expires_at,
                        int(record.wants_completion),
                        blob,
                    ),
                )
                rows = []
                for new in videos:
                    video = merged(self._get_video(record.owner, new.video_uuid), new)
                    forget = finite(video.forget_at)
                    rows.append(
                        (
                            record.owner,
                            video.video_uuid,
                            record.task_uuid,
                            forget,
                            video_blob(video),
                        )
                    )
                db.executemany(
                    "INSERT OR REPLACE INTO videos (owner, uuid, task_uuid, forget_at, record) "
                    "VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
        except sqlite3.IntegrityError:
            return False  # the owner's taskUUID is taken (videos have no other unique key)
        return True

    async def get_task(self, owner: str, task_uuid: str) -> TaskRecord | None:
        row = self._db.execute(
            "SELECT record, claimed FROM tasks WHERE owner = ? AND uuid = ?", (owner, task_uuid)
        ).fetchone()
        return _task(row) if row else None

    async def drop_task(self, owner: str, task_uuid: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM tasks WHERE owner = ? AND uuid = ?", (owner, task_uuid))

    async def claim_completion(self, owner: str, task_uuid: str, claimant: str) -> bool:
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE tasks SET claimed = 1 WHERE owner = ? AND uuid = ? AND claimed = 0",
                (owner, task_uuid),
            )
        return cursor.rowcount == 1

    async def pending_completions(self, due_before: float = float("inf")) -> list[TaskRecord]:
        rows = self._db.execute(
            "SELECT record, claimed FROM tasks WHERE claimed = 0 AND wants = 1"
        ).fetchall()
        return [task for task in map(_task, rows) if task.due <= due_before]

    async def finish_completion(self, owner: str, task_uuid: str) -> None:
        pass  # a claim is final already (claimed = 1)

    # ── media ───────────────────────────────────────────────────────────────

    async def get_video(self, owner: str, video_uuid: str) -> VideoRecord | None:
        return self._get_video(owner, video_uuid)

    def _get_video(self, owner: str, video_uuid: str) -> VideoRecord | None:
        row = self._db.execute(
            "SELECT record FROM videos WHERE owner = ? AND uuid = ?", (owner, video_uuid)
        ).fetchone()
        return video_of(row[0]) if row is not None else None

    async def add_image(self, record: ImageRecord) -> None:
        meta = orjson.dumps(
            {
                "image_uuid": record.image_uuid,
                "content_type": record.content_type,
                "size": record.size,
                "source_url": record.source_url,
            }
        )
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO images (uuid, owner, bytes, data, record) "
                "VALUES (?, ?, ?, ?, ?)",
                (record.image_uuid, record.owner, len(record.data or b""), record.data, meta),
            )

    async def get_image(self, image_uuid: str, owner: str | None) -> ImageRecord | None:
        row = self._db.execute(
            "SELECT data, record, owner FROM images WHERE uuid = ?", (image_uuid,)
        ).fetchone()
        if row is None or owner not in (None, row[2]):
            return None
        meta = orjson.loads(row[1])
        size = tuple(meta["size"]) if meta["size"] else None
        return ImageRecord(
            image_uuid=meta["image_uuid"],
            owner=row[2],
            data=row[0],
            content_type=meta["content_type"],
            size=(size[0], size[1]) if size else None,
            source_url=meta["source_url"],
        )

    # ── bounds ──────────────────────────────────────────────────────────────

    async def sweep(self, now: float) -> None:
        limits = self.limits
        with self._transaction() as db:
            db.execute("DELETE FROM tasks WHERE expires_at <= ?", (now,))
            db.execute("DELETE FROM videos WHERE forget_at <= ?", (now,))
            # Past the caps, the oldest rows (lowest rowid) go first, with their videos.
            db.execute(
                "DELETE FROM videos WHERE (owner, task_uuid) IN (SELECT owner, uuid FROM tasks "
                "ORDER BY rowid DESC LIMIT -1 OFFSET ?)",
                (limits.max_tasks,),
            )
            db.execute(
                "DELETE FROM tasks WHERE rowid IN (SELECT rowid FROM tasks "
                "ORDER BY rowid DESC LIMIT -1 OFFSET ?)",
                (limits.max_tasks,),
            )
            db.execute(
                "DELETE FROM images WHERE rowid IN (SELECT rowid FROM images "
                "ORDER BY rowid DESC LIMIT -1 OFFSET ?)",
                (limits.max_images,),
            )
            db.execute(
                "DELETE FROM images WHERE rowid IN (SELECT rowid FROM (SELECT rowid, SUM(bytes) "
                "OVER (ORDER BY rowid DESC) AS total FROM images) WHERE total > ?)",
                (limits.max_image_bytes,),
            )

    async def counts(self) -> dict[str, int]:
        db = self._db
        return {
            table: int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table in ("tasks", "videos", "images")
        }

    async def reset(self) -> None:
        with self._transaction() as db:
            for table in ("tasks", "videos", "images"):
                db.execute(f"DELETE FROM {table}")

    async def close(self) -> None:
        self._db.close()


def _task(row: tuple[bytes, int]) -> TaskRecord:
    return task_of(row[0], pushed=bool(row[1]))
