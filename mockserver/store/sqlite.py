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

The event loop never waits on a lock. Reads run on it, on a connection of their own (WAL:
a reader never waits for a writer, in this process or another; a busy database costs a read
at most ``READ_BUSY_MS``). A small write (a task, a claim) runs on the loop too, on a third
connection that never waits (busy timeout 0), unless a lock held by another process was seen
lately: a write that finds the lock taken (``SQLITE_BUSY``, by the
thread or another process; nothing written) goes to the thread instead. That saves the
thread hop on an uncontended file. (Writes of different requests have no order to keep; one
request's writes are awaited one after the other.) Every ``CHECKPOINT_EVERY`` writes made on
the loop, that connection checkpoints the WAL there and then (PASSIVE, as SQLite's own
automatic checkpoint does on the thread's writes: it waits on nobody, and what it cannot copy
now is copied next time). A checkpoint costs about 40 us per write since the last (the pages
each write changed), so a short interval keeps each pause short: about 1 ms every 25 writes,
at the same cost per write as every 100; every 10, the checkpoint's own fixed cost doubles it
(``benchmarks/sqlite_checkpoint.py``). No loop write can interleave with it, so it copies
every frame unless the thread or another process wrote meanwhile or a reader still holds an
older snapshot; once it has, the next write starts the WAL again from its start, rather than
let it grow and slow every read.
Not on the thread: under load the loop holds the GIL, and the thread waits for it at each
step, so a checkpoint there took 5-40 ms and the writes waiting behind it as long (measured:
docs/performance.md, "SQLite checkpoints on the loop"). But a checkpoint syncs the WAL and the
database file (synchronous=NORMAL), and on a disk whose syncs are slow that would pause the
loop every ``CHECKPOINT_EVERY`` writes: ``SLOW_CHECKPOINTS`` checkpoints in a row that each
took over ``CHECKPOINT_LOOP_MAX`` on the loop (one alone may be the machine's hiccup) send
the checkpoints of the next ``SLOW_SYNC_SECONDS`` to the thread (a warning says so), and
until each is done the writes queue behind it there, the loop free.

Writes on the thread (an upload, the sweep and a reset always; the rest when the loop may
not write) run on their own connection, each within the time left of the request's store deadline
(``request_deadline``: the store timeout, 2 s by default): another process holding the
write lock (``BEGIN IMMEDIATE`` in the sqlite3 shell, a backup) makes writes wait at most
that long and then fail with 503 ``storageUnavailable`` naming the lock, while ``/health``,
reads and everything else go on. A write is refused before it starts once its deadline
passed, and the coroutine always waits for the thread's real outcome, so a refused write
never commits later.

A file damaged under a running mock (truncated, overwritten) is noticed: its header is read
on every ``problem()`` (``GET /health``, each sweep) and SQLite's own corruption errors mark
it; from then on ``/health`` reports the store unhealthy and writes answer 503 rather than
accept tasks that could not survive a restart.

Failures (a full disk, an I/O error, a lock held past the deadline) never leave a
transaction open: every write runs in ``_transaction``, rolled back when any statement or
the COMMIT fails, and every method raises them as ``StoreUnavailable``, which the app
answers as a 503 ``storageUnavailable`` in Runware's error shape.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import orjson

from .protocol import (
    STORE_TIMEOUT,
    ImageRecord,
    Limits,
    StoreUnavailable,
    TaskRecord,
    VideoRecord,
    finite,
    merged,
    task_blob,
    task_of,
    time_left,
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


log = logging.getLogger("mockserver")
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
READ_BUSY_MS = 20  # the longest a read on the event loop waits for a busy database
CHECKPOINT_EVERY = 25  # writes on the loop between two checkpoints (about 1 ms each)
CHECKPOINT_LOOP_MAX = 0.005  # seconds: a checkpoint on the loop slower than this is slow
SLOW_CHECKPOINTS = 3  # slow ones in a row: checkpoints go to the thread
SLOW_SYNC_SECONDS = 60.0  # for that long (then the loop tries again)
MAGIC = b"SQLite format 3\x00"
# SQLite's result codes of a damaged file: the database is marked unhealthy for good.
DAMAGED = {11: "malformed", 26: "not a database"}  # SQLITE_CORRUPT, SQLITE_NOTADB


def _unavailable(method: F) -> F:
    """``method`` with SQLite's failures raised as StoreUnavailable (a lost taskUUID race,
    IntegrityError, is an answer, handled where it happens); a damaged file is remembered."""

    @functools.wraps(method)
    async def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF in DAMAGED:
                self.damaged = f"the database file is damaged: {exc}"
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc

    return guarded  # type: ignore[return-value]


def file_problem(path: str) -> str | None:
    """What is wrong with the database file as its header shows (None: nothing): gone, not
    an SQLite file, or shorter than the pages its header counts (truncated)."""
    try:
        with open(path, "rb") as file:
            header = file.read(100)
            size = os.fstat(file.fileno()).st_size
    except FileNotFoundError:
        return "the database file is gone"
    except OSError as exc:
        return f"the database file cannot be read: {exc}"
    if len(header) < 100 or not header.startswith(MAGIC):
        return f"the database file is not an SQLite database any more ({size} bytes)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    counted = header[24:28] == header[92:96]  # the page count is valid (SQLite >= 3.7)
    if counted and size < pages * page_size:
        return f"the database file is truncated: {size} bytes of {pages * page_size}"
    return None


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
        timeout: float = STORE_TIMEOUT,
        max_pages: int | None = None,
    ) -> None:
        self.path = path
        self.limits = limits or Limits()
        self.timeout = timeout
        self.damaged: str | None = None  # set once the file is seen damaged (never unset)
        self._suspect_since: float | None = None  # file_problem() first seen (see problem)
        self._locked_at = -1e9  # when a write last found the lock held elsewhere (monotonic)
        self._loop_writes = 0  # writes made on the loop since the last checkpoint
        self._slow_checkpoints = 0  # checkpoints on the loop in a row over CHECKPOINT_LOOP_MAX
        self._slow_sync_until = -1e9  # checkpoints go to the thread until then (monotonic)
        self._checkpointing = False  # a checkpoint is queued or running on the thread
        # Autocommit (isolation_level=None): each statement is its own transaction unless
        # wrapped in BEGIN/COMMIT. Three connections per process: the writer, used only on
        # the writes' thread (the constructor's own statements aside), the reader and the
        # loop's writer (busy timeout 0, checkpoints of its own), used only on the event loop.
        self._writer = self._connect(timeout)
        self._writer.execute("PRAGMA journal_mode = WAL")
        self._writer.execute("PRAGMA synchronous = NORMAL")  # WAL: durable across crashes
        self._db = self._writer  # _check_layout and the schema: before the threads start
        self._check_layout()
        self._writer.executescript(SCHEMA)
        self._db = self._connect(READ_BUSY_MS / 1000)
        self._now_writer = self._connect(0)
        self._now_writer.execute("PRAGMA wal_autocheckpoint = 0")
        self._now_writer.execute("PRAGMA synchronous = NORMAL")
        if max_pages is not None:  # after the schema, so the tables always fit
            for writer in (self._writer, self._now_writer):  # a setting of each connection
                writer.execute(f"PRAGMA max_page_count = {int(max_pages)}")
        self._writes = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writes")

    def _connect(self, busy: float) -> sqlite3.Connection:
        """A connection waiting at most ``busy`` seconds for a lock (its busy timeout)."""
        return sqlite3.connect(
            self.path, timeout=busy, isolation_level=None, check_same_thread=False
        )

    def problem(self) -> str | None:
        """The file's damage, if seen: by SQLite, or by its header here (twice, half a
        second apart: a checkpoint of another process may show a short file for a moment)."""
        if self.damaged is None:
            found = file_problem(self.path)
            now = time.monotonic()
            if found is None:
                self._suspect_since = None
            elif self._suspect_since is None:
                self._suspect_since = now
            elif now - self._suspect_since >= 0.5:
                self.damaged = found
        return self.damaged

    async def _write(self, work: Callable[[sqlite3.Connection], T], now: bool = True) -> T:
        """``work(writer)`` (in a ``_transaction`` of that writer): on the loop at once when
        ``now`` and the loop may write (see the module), else on the writes' thread within
        the time left of the request's store deadline; this coroutine waits for its
        outcome, whatever it is."""
        if self.damaged is not None:
            raise StoreUnavailable(f"{self.damaged}; nothing is written to it")
        if now and self._may_write_now():
            try:
                done = work(self._now_writer)
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_BUSY:
                    raise
            else:
                self._loop_writes += 1
                if self._loop_writes >= CHECKPOINT_EVERY:
                    self._loop_writes = 0
                    self._checkpoint_due()
                return done
        deadline = time.monotonic() + time_left(self.timeout)
        return await self._on_thread(self._written, work, deadline)

    def _may_write_now(self) -> bool:
        """Whether a write may run on the loop: no lock seen held by another process lately
        (each write would fail once more first), no checkpoint under way on the thread, time
        left before the deadline."""
        quiet = time.monotonic() - self._locked_at >= 2 * self.timeout
        return quiet and not self._checkpointing and time_left(self.timeout) > 0

    def _on_thread(self, call: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """``call(*args)`` on the writes' thread."""
        return asyncio.get_running_loop().run_in_executor(self._writes, call, *args)

    def _checkpoint_due(self) -> None:
        """A checkpoint, on the loop unless syncs were seen slow lately (see the module)."""
        if time.monotonic() < self._slow_sync_until:
            self._checkpointing = True
            done = self._on_thread(self._checkpoint, self._writer)
            done.add_done_callback(self._checkpointed)
            return
        started = time.monotonic()
        self._checkpoint(self._now_writer)
        took = time.monotonic() - started
        self._slow_checkpoints = self._slow_checkpoints + 1 if took > CHECKPOINT_LOOP_MAX else 0
        if self._slow_checkpoints >= SLOW_CHECKPOINTS:
            self._slow_checkpoints = 0
            self._slow_sync_until = time.monotonic() + SLOW_SYNC_SECONDS
            log.warning(
                "SQLite: %d WAL checkpoints in a row held the event loop over %.0f ms (the "
                "last %.0f ms: slow disk syncs?); checkpoints run on the writes' thread for "
                "the next %.0f s",
                SLOW_CHECKPOINTS,
                CHECKPOINT_LOOP_MAX * 1000,
                took * 1000,
                SLOW_SYNC_SECONDS,
            )

    def _checkpointed(self, _: asyncio.Future[None]) -> None:
        self._checkpointing = False

    @staticmethod
    def _checkpoint(db: sqlite3.Connection) -> None:
        """The WAL's frames into the database, waiting on nobody (PASSIVE; what cannot be
        copied now, behind a reader's older snapshot or another checkpoint, is copied next
        time)."""
        with contextlib.suppress(sqlite3.Error):
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _written(self, work: Callable[[sqlite3.Connection], T], deadline: float) -> T:
        """On the writes' thread: ``work`` if it can start before ``deadline``, waiting for
        another process's write lock until then."""
        left = deadline - time.monotonic()
        if left <= 0:
            behind = "writes waiting for it"
            if time.monotonic() - self._locked_at < 2 * self.timeout:
                behind = "a write waiting for the lock another process holds: the database is "
                behind += "locked by another process"
            raise StoreUnavailable(
                f"the write waited past the request's store deadline ({self.timeout} s) behind "
                f"{behind}; nothing was written"
            )
        self._writer.execute(f"PRAGMA busy_timeout = {max(1, int(left * 1000))}")
        try:
            return work(self._writer)
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            self._locked_at = time.monotonic()
            raise StoreUnavailable(
                f"the database is locked by another process (a write waited {left:.1f} s for "
                "it); nothing was written"
            ) from exc

    @staticmethod
    @contextlib.contextmanager
    def _transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT on a writer, rolled back if a statement or the COMMIT
        fails."""
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

    suspends = True  # writes wait on their thread (see Store.suspends)

    async def open(self, *, ahead: bool = True) -> None:
        pass  # opened in the constructor: the CLI creates the schema before any worker

    async def shared_secret(self, name: str, proposed: bytes) -> bytes:
        def work(writer: sqlite3.Connection) -> bytes:
            with self._transaction(writer) as db:
                db.execute(
                    "INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)", (name, proposed)
                )
            row = writer.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
            return bytes(row[0])

        return await self._write(work)

    # ── tasks ───────────────────────────────────────────────────────────────

    async def add_task(self, record: TaskRecord, videos: Sequence[VideoRecord]) -> bool:
        blob = task_blob(record)
        return await self._write(lambda writer: self._add_task(writer, record, blob, videos))

    def _add_task(
        self,
        writer: sqlite3.Connection,
        record: TaskRecord,
        blob: bytes,
        videos: Sequence[VideoRecord],
    ) -> bool:
        try:
            with self._transaction(writer) as db:
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
                    video = merged(self._get_video(record.owner, new.video_uuid, db), new)
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
        def work(writer: sqlite3.Connection) -> None:
            with self._transaction(writer) as db:
                db.execute("DELETE FROM tasks WHERE owner = ? AND uuid = ?", (owner, task_uuid))

        await self._write(work)

    async def claim_completion(self, owner: str, task_uuid: str, claimant: str) -> bool:
        def work(writer: sqlite3.Connection) -> bool:
            with self._transaction(writer) as db:
                cursor = db.execute(
                    "UPDATE tasks SET claimed = 1 WHERE owner = ? AND uuid = ? AND claimed = 0",
                    (owner, task_uuid),
                )
            return cursor.rowcount == 1

        return await self._write(work)

    async def pending_completions(self, due_before: float = float("inf")) -> list[TaskRecord]:
        rows = self._db.execute(
            "SELECT record, claimed FROM tasks WHERE claimed = 0 AND wants = 1"
        ).fetchall()
        return [task for task in map(_task, rows) if task.due <= due_before]

    async def finish_completion(self, owner: str, task_uuid: str) -> None:
        pass  # a claim is final already (claimed = 1)

    # ── media ───────────────────────────────────────────────────────────────

    async def get_video(self, owner: str, video_uuid: str) -> VideoRecord | None:
        return self._get_video(owner, video_uuid, self._db)

    def _get_video(self, owner: str, video_uuid: str, db: sqlite3.Connection) -> VideoRecord | None:
        row = db.execute(
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

        def work(writer: sqlite3.Connection) -> None:
            with self._transaction(writer) as db:
                db.execute(
                    "INSERT OR REPLACE INTO images (uuid, owner, bytes, data, record) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (record.image_uuid, record.owner, len(record.data or b""), record.data, meta),
                )

        await self._write(work, now=False)  # up to megabytes: never on the loop

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
        if (damaged := self.problem()) is not None:
            raise StoreUnavailable(damaged)
        await self._write(lambda writer: self._sweep(writer, now), now=False)

    def _sweep(self, writer: sqlite3.Connection, now: float) -> None:
        limits = self.limits
        with self._transaction(writer) as db:
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
        def work(writer: sqlite3.Connection) -> None:
            with self._transaction(writer) as db:
                for table in ("tasks", "videos", "images"):
                    db.execute(f"DELETE FROM {table}")

        await self._write(work, now=False)

    async def close(self) -> None:
        self._writes.shutdown(wait=True)
        self._db.close()
        self._now_writer.close()
        self._writer.close()


def _task(row: tuple[bytes, int]) -> TaskRecord:
    return task_of(row[0], pushed=bool(row[1]))
