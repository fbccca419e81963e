"""``RedisStore``: one Redis shared by any number of mock processes on any number of hosts.

Every key starts with ``rwm:`` (ARCHITECTURE.md lists the layout). Each write that must be
atomic is one Lua script, so two processes never interleave inside it: ``add_task`` is the
taskUUID uniqueness check (the task key must not exist), the task, its videos, its place in
the ``tasks`` and ``due`` sorted sets and the ``max_tasks`` trim in one step; a claim is a
lease (``SET NX PX``) that also moves the task's due time past the lease, so the processes
polling ``due`` skip it until the lease expires unfinished (its holder died): then another
process claims it again (at least once). ``finish_completion`` marks it done (the claim key
holds ``done`` until the task expires) and takes it off ``due``.

Everything has a TTL or a cap: tasks and videos expire by their Redis TTL (``task_ttl`` past
``ready_at``, the task's ``ttl``), claims by their lease or the task's expiry, images after
``image_ttl`` and past the count and byte caps, sessions and their buffers (``relay.py``)
after the session buffer time; the sorted sets are swept of expired members. Times are the
store's clock (the wall clock: every host must have it right, as NTP does).

Redis errors (unreachable, a timeout, a Redis still loading its data) are raised as
``StoreUnavailable``; the client reconnects by itself on the next command.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from .protocol import (
    STORE_TIMEOUT,
    ImageRecord,
    Limits,
    StoreUnavailable,
    TaskRecord,
    VideoRecord,
    merged,
    request_time_left,
    task_blob,
    task_of,
    time_left,
    video_blob,
    video_of,
)

log = logging.getLogger("mockserver")
P = "rwm:"  # every key of the mock's
TASKS, DUE, VIDEOS, IMAGES = P + "tasks", P + "due", P + "videos", P + "images"
IMAGE_BYTES, IMAGE_SIZES = P + "image-bytes", P + "image-sizes"
MAX_CONNECTIONS = 64  # Redis commands in flight per process (see Slots)
LEASE_SECONDS = 30.0  # a claim's lease: longer than a completion's deliveries usually take
IMAGE_TTL_SECONDS = 24 * 3600.0
# A write must start in Redis this long before the request's deadline, or it refuses: room
# for its answer to come back before the client gives up (see ADD_TASK).
DEADLINE_GRACE = 0.5

# Deletes one task (member "owner:uuid") with its claim and the videos its results name.
_FORGET = """
local function forget(member)
  local blob = redis.call('GET', 'rwm:task:' .. member)
  if blob then
    local owner = string.match(member, '^([^:]*):')
    for _, item in ipairs(cjson.decode(blob)['results']) do
      local video = item['videoUUID']
      if type(video) == 'string' then
        redis.call('DEL', 'rwm:video:' .. owner .. ':' .. video)
        redis.call('ZREM', 'rwm:videos', owner .. ':' .. video)
      end
    end
  end
  redis.call('DEL', 'rwm:task:' .. member, 'rwm:claim:' .. member)
  redis.call('ZREM', 'rwm:tasks', member)
  redis.call('ZREM', 'rwm:due', member)
end
"""
# KEYS: task key, then each video key. ARGV: member, record, ttl ms, expiry score, due score
# ('' for none), max tasks, the deadline (Redis's clock, ms), then per video: the value read
# before ('' for none), the merged value, its ttl ms, its forget score. 1: stored; 0: the
# taskUUID is taken; -1: a video changed since it was read (read again and retry); -2: Redis
# runs it past the deadline (it was frozen or busy): the client has answered 503 by now, so
# nothing is stored.
ADD_TASK = (
    _FORGET
    + """
local now = redis.call('TIME')
if tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > tonumber(ARGV[7]) then
  return -2
end
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 2, #KEYS do
  local before = redis.call('GET', KEYS[i]) or ''
  if before ~= ARGV[8 + (i - 2) * 4] then return -1 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', 'rwm:tasks', ARGV[4], ARGV[1])
if ARGV[5] ~= '' then redis.call('ZADD', 'rwm:due', ARGV[5], ARGV[1]) end
for i = 2, #KEYS do
  local at = 8 + (i - 2) * 4
  redis.call('SET', KEYS[i], ARGV[at + 1], 'PX', ARGV[at + 2])
  redis.call('ZADD', 'rwm:videos', ARGV[at + 3], string.sub(KEYS[i], 11))
end
local over = redis.call('ZCARD', 'rwm:tasks') - tonumber(ARGV[6])
if over > 0 then
  local oldest = redis.call('ZRANGE', 'rwm:tasks', 0, over - 1)
  for _, member in ipairs(oldest) do forget(member) end
end
return 1
"""
)
# KEYS: task, claim. ARGV: member, claimant, lease ms, the due score past the lease. The
# claimant that holds the lease already gets it again (renewed): a retried claim whose first
# answer was lost (a timeout after Redis ran it) is still that claimant's.
CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', 'rwm:due', ARGV[1])
  return 0
end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
  if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
redis.call('ZADD', 'rwm:due', 'XX', ARGV[4], ARGV[1])
return 1
"""
# KEYS: task, claim. ARGV: member. The claim is kept until the task expires (never claimed
# again); PEXPIRE and ZREM allocate nothing, so a Redis at maxmemory (noeviction, where SET
# is refused) still records a finish: otherwise the lease would expire and the task be
# delivered twice. Only a claim whose lease expired already needs SET.
FINISH = """
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 and redis.call('PEXPIRE', KEYS[2], ttl) == 0 then
  redis.call('SET', KEYS[2], 'done', 'PX', ttl)
end
redis.call('ZREM', 'rwm:due', ARGV[1])
"""
DROP = _FORGET + "forget(ARGV[1])"
# KEYS: image hash. ARGV: uuid, owner, data, meta, bytes, ttl ms, score, max images, max bytes.
_DROP_IMAGE = """
local function drop_image(uuid)
  if redis.call('ZREM', 'rwm:images', uuid) == 1 then
    redis.call('DECRBY', 'rwm:image-bytes', redis.call('HGET', 'rwm:image-sizes', uuid) or 0)
    redis.call('HDEL', 'rwm:image-sizes', uuid)
  end
  redis.call('DEL', 'rwm:image:' .. uuid)
end
"""
ADD_IMAGE = (
    _DROP_IMAGE
    + """
drop_image(ARGV[1])
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'data', ARGV[3], 'meta', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZADD', 'rwm:images', ARGV[7], ARGV[1])
redis.call('HSET', 'rwm:image-sizes', ARGV[1], ARGV[5])
redis.call('INCRBY', 'rwm:image-bytes', ARGV[5])
while redis.call('ZCARD', 'rwm:images') > tonumber(ARGV[8])
    or tonumber(redis.call('GET', 'rwm:image-bytes') or 0) > tonumber(ARGV[9]) do
  local oldest = redis.call('ZRANGE', 'rwm:images', 0, 0)
  if #oldest == 0 then break end
  drop_image(oldest[1])
end
"""
)
# ARGV: now, the images' created-before score. What expired by the store's clock goes (the
# Redis TTLs are the same times, a safety net): tasks with their claims, videos by their own
# expiry, images past image_ttl. At most 10,000 of each a call (the next sweep goes on).
SWEEP = (
    _DROP_IMAGE
    + """
local function expired(set, top)
  return redis.call('ZRANGEBYSCORE', set, '-inf', top, 'LIMIT', 0, 10000)
end
for _, member in ipairs(expired('rwm:tasks', ARGV[1])) do
  redis.call('DEL', 'rwm:task:' .. member, 'rwm:claim:' .. member)
  redis.call('ZREM', 'rwm:tasks', member)
  redis.call('ZREM', 'rwm:due', member)
end
for _, member in ipairs(expired('rwm:videos', ARGV[1])) do
  redis.call('DEL', 'rwm:video:' .. member)
  redis.call('ZREM', 'rwm:videos', member)
end
for _, uuid in ipairs(expired('rwm:images', ARGV[2])) do
  drop_image(uuid)
end
"""
)

F = TypeVar("F", bound=Callable[..., Any])


class Slots:
    """At most ``size`` Redis commands in flight in this process (one connection each): a
    command past that waits for a free slot, up to ``timeout``, rather than failing, so a
    burst of concurrent requests on a healthy Redis is not an outage. (redis-py's own pool
    raises ``MaxConnectionsError`` when full, and its blocking pool costs a lock and a timer
    per command; a free semaphore costs neither.)"""

    def __init__(self, size: int, timeout: float) -> None:
        self.size = size
        self.timeout = timeout
        self._free = asyncio.Semaphore(size)

    async def __aenter__(self) -> None:
        if not self._free.locked():
            await self._free.acquire()  # free: returns at once
            return
        try:
            async with asyncio.timeout(self.timeout):
                await self._free.acquire()
        except TimeoutError:
            raise StoreUnavailable(
                f"Redis: all {self.size} connections busy for {self.timeout} s"
            ) from None

    async def __aexit__(self, *exc: object) -> None:
        self._free.release()


# Errors of Redis and of the connection to it: what the store and the relay catch (and
# nothing else: a bug is a bug, logged with its traceback, not "Redis away").
FAILURES = (RedisError, OSError, StoreUnavailable)


def _unavailable(method: F) -> F:
    """``method`` in a slot (``Slots``), within the time left of the request's store
    deadline (``request_deadline``; outside a request each command has the timeout, as a
    reset's many commands do), with Redis's failures (and a lost connection's OSError)
    raised as StoreUnavailable."""

    @functools.wraps(method)
    async def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        left = request_time_left()
        try:
            if left is not None and left <= 0:
                raise TimeoutError
            async with asyncio.timeout(left), self.slots:
                return await method(self, *args, **kwargs)
        except TimeoutError:  # asyncio's, or the socket's (an OSError: first)
            raise StoreUnavailable(
                f"Redis did not answer within the request's store deadline ({self.timeout} s)"
            ) from None
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"Redis: {type(exc).__name__}: {exc}") from exc

    return guarded  # type: ignore[return-value]


def _guarded(cls: type[Any]) -> type[Any]:
    for name, value in list(vars(cls).items()):
        if inspect.iscoroutinefunction(value) and not name.startswith("_"):
            setattr(cls, name, _unavailable(value))
    return cls


def _bytes(value: Any) -> bytes:
    """A reply as bytes (the client decodes nothing; its annotations allow str too)."""
    return value if isinstance(value, bytes) else str(value).encode()


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


@_guarded
class RedisStore:
    """The Store over one Redis (``redis://[:password@]HOST:PORT/DB`` or ``rediss://``)."""

    shared_schedule = True  # every process polls the due set

    suspends = True  # see Store.suspends

    def __init__(
        self,
        url: str,
        limits: Limits | None = None,
        *,
        clock: Callable[[], float] = time.time,
        lease_seconds: float = LEASE_SECONDS,
        image_ttl_seconds: float = IMAGE_TTL_SECONDS,
        timeout: float = STORE_TIMEOUT,
    ) -> None:
        self.url = url
        self.limits = limits or Limits()
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.image_ttl_seconds = image_ttl_seconds
        self.timeout = timeout
        self.clock_offset = 0.0  # Redis's clock minus ours (seconds), measured on open and sweep
        # One attempt per command: a lost Redis answers 503 at once rather than after retries.
        # Every command (the store's and the relay's) runs in one of MAX_CONNECTIONS slots; the
        # pool has room for them and the relay's subscription.
        self.slots = Slots(MAX_CONNECTIONS, timeout)
        pool = aioredis.ConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS + 2,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=5,
        )
        self.client: aioredis.Redis = aioredis.Redis(connection_pool=pool)
        self._host = f"{socket.gethostname()}:{os.getpid()}"
        self._add_task = self.client.register_script(ADD_TASK)
        self._claim = self.client.register_script(CLAIM)
        self._finish = self.client.register_script(FINISH)
        self._drop = self.client.register_script(DROP)
        self._add_image = self.client.register_script(ADD_IMAGE)
        self._sweep = self.client.register_script(SWEEP)
        self._scripts = (
            self._add_task, self._claim, self._finish, self._drop, self._add_image, self._sweep
        )  # fmt: skip

    def problem(self) -> str | None:
        return None  # known only by asking: each call answers 503 when Redis does not

    async def open(self, *, ahead: bool = True) -> None:
        await self.client.ping()
        await self._measure_clock()
        if ahead:
            await self._ready_ahead()

    async def _ready_ahead(self) -> None:
        """Load the scripts and open the pool's connections now, not in the first burst of
        requests: there, each of up to ``MAX_CONNECTIONS`` concurrent commands opened its
        connection, and each script ran once as ``NOSCRIPT``, a load and a second try.
        Best effort: a Redis that refuses some connections (``maxclients``) costs a warning
        here, and the commands that find no connection later open one as before."""
        for script in self._scripts:
            await self.client.script_load(script.script)
        opened = await asyncio.gather(
            *(self.client.ping() for _ in range(MAX_CONNECTIONS)), return_exceptions=True
        )
        failed = [answer for answer in opened if isinstance(answer, BaseException)]
        if failed:
            log.warning("Redis: %d of %d connections opened ahead; the first refusal: %s",
                        len(opened) - len(failed), len(opened), failed[0])  # fmt: skip

    async def _measure_clock(self) -> None:
        """How far Redis's clock is from ours: a write's deadline is given in Redis's."""
        before = time.time()
        seconds, micros = await self.client.time()
        self.clock_offset = seconds + micros / 1e6 - (before + time.time()) / 2

    def _deadline_ms(self) -> int:
        """When a write must have started, in Redis's clock (ms): the request's deadline less
        the grace its answer needs to arrive in time (see ADD_TASK)."""
        left = time_left(self.timeout)
        start_by = left - min(DEADLINE_GRACE, left / 2)
        return int((time.time() + self.clock_offset + start_by) * 1000)

    async def shared_secret(self, name: str, proposed: bytes) -> bytes:
        key = f"{P}secret:{name}"
        while True:
            await self.client.set(key, proposed, nx=True)
            value = await self.client.get(key)
            if value is not None:  # None: deleted in between (a FLUSHDB): set it again
                return _bytes(value)

    # ── tasks ───────────────────────────────────────────────────────────────

    async def add_task(self, record: TaskRecord, videos: Sequence[VideoRecord]) -> bool:
        member = f"{record.owner}:{record.task_uuid}"
        video_keys = [f"{P}video:{record.owner}:{v.video_uuid}" for v in videos]
        # First as if no video existed (new videoUUIDs, the usual case): one round trip. A
        # video that exists (a documented example's) or changed meanwhile: read, merge, again.
        before: list[Any] = [None] * len(videos)
        for attempt in range(10):
            now = self.clock()
            if attempt:
                before = await self.client.mget(video_keys)
            args: list[str | bytes | int | float] = [
                member,
                task_blob(record),
                _ms(record.expires_at - now),
                record.expires_at,
                record.due if record.wants_completion else "",
                self.limits.max_tasks,
                self._deadline_ms(),
            ]
            for old, new in zip(before, videos, strict=True):
                video = merged(video_of(old) if old else None, new)
                forget = video.forget_at if video.forget_at != float("inf") else record.expires_at
                args += [old or b"", video_blob(video), _ms(forget - now), forget]
            outcome = await self._add_task(keys=[f"{P}task:{member}", *video_keys], args=args)
            if outcome == -2:
                raise StoreUnavailable("Redis ran the write past the request's deadline: refused")
            if outcome != -1:
                return bool(outcome)
        raise StoreUnavailable("a video record kept changing while the task was stored")

    async def get_task(self, owner: str, task_uuid: str) -> TaskRecord | None:
        member = f"{owner}:{task_uuid}"
        blob, claim = await self.client.mget([f"{P}task:{member}", f"{P}claim:{member}"])
        return task_of(blob, pushed=claim is not None) if blob is not None else None

    async def drop_task(self, owner: str, task_uuid: str) -> None:
        await self._drop(keys=[], args=[f"{owner}:{task_uuid}"])

    async def claim_completion(self, owner: str, task_uuid: str, claimant: str) -> bool:
        member = f"{owner}:{task_uuid}"
        keys = [f"{P}task:{member}", f"{P}claim:{member}"]
        next_due = self.clock() + self.lease_seconds
        holder = f"{self._host}:{claimant}"  # the host and pid for whoever looks
        args: list[str | int | float] = [member, holder, _ms(self.lease_seconds), next_due]
        return bool(await self._claim(keys=keys, args=args))

    async def finish_completion(self, owner: str, task_uuid: str) -> None:
        member = f"{owner}:{task_uuid}"
        await self._finish(keys=[f"{P}task:{member}", f"{P}claim:{member}"], args=[member])

    async def pending_completions(self, due_before: float = float("inf")) -> list[TaskRecord]:
        """At most 500 due tasks a call (the pollers come back for the rest); a task whose
        record expired leaves the due set."""
        top = "+inf" if due_before == float("inf") else due_before
        members = await self.client.zrangebyscore(DUE, "-inf", top, start=0, num=500)
        if not members:
            return []
        names = [_bytes(m) for m in members]
        found = await self.client.mget(
            [P.encode() + kind + m for kind in (b"task:", b"claim:") for m in names]
        )
        blobs, claims = found[: len(names)], found[len(names) :]
        gone = [m for m, blob in zip(names, blobs, strict=True) if blob is None]
        if gone:
            await self.client.zrem(DUE, *gone)
        return [
            task_of(blob, pushed=False)
            for blob, claim in zip(blobs, claims, strict=True)
            if blob is not None and claim is None  # unclaimed, or its lease expired
        ]

    # ── media ───────────────────────────────────────────────────────────────

    async def get_video(self, owner: str, video_uuid: str) -> VideoRecord | None:
        blob = await self.client.get(f"{P}video:{owner}:{video_uuid}")
        return video_of(blob) if blob is not None else None

    async def add_image(self, record: ImageRecord) -> None:
        meta = orjson.dumps(
            {
                "content_type": record.content_type,
                "size": record.size,
                "source_url": record.source_url,
                "has_data": record.data is not None,
            }
        )
        limits = self.limits
        await self._add_image(
            keys=[f"{P}image:{record.image_uuid}"],
            args=[
                record.image_uuid,
                record.owner,
                record.data or b"",
                meta,
                len(record.data or b""),
                _ms(self.image_ttl_seconds),
                self.clock(),
                limits.max_images,
                limits.max_image_bytes,
            ],
        )

    async def get_image(self, image_uuid: str, owner: str | None) -> ImageRecord | None:
        found = await self.client.hmget(f"{P}image:{image_uuid}", ["owner", "data", "meta"])
        stored_owner, data, meta_blob = (_bytes(f) if f is not None else None for f in found)
        if stored_owner is None or meta_blob is None or owner not in (None, stored_owner.decode()):
            return None
        meta = orjson.loads(meta_blob)
        size = meta["size"]
        return ImageRecord(
            image_uuid=image_uuid,
            owner=stored_owner.decode(),
            data=data if meta["has_data"] else None,
            content_type=meta["content_type"],
            size=(size[0], size[1]) if size else None,
            source_url=meta["source_url"],
        )

    # ── bounds ──────────────────────────────────────────────────────────────

    async def sweep(self, now: float) -> None:
        await self._sweep(keys=[], args=[now, now - self.image_ttl_seconds])
        await self._measure_clock()

    async def counts(self) -> dict[str, int]:
        """Tasks and videos not expired by ``now``, images held."""
        now = self.clock()
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.zcount(TASKS, f"({now}", "+inf")
            pipe.zcount(VIDEOS, f"({now}", "+inf")
            pipe.zcard(IMAGES)
            tasks, videos, images = await pipe.execute()
        return {"tasks": int(tasks), "videos": int(videos), "images": int(images)}

    async def reset(self) -> None:
        """Forget every task, video, image, claim and session; the secrets stay (signed URLs
        handed out before go on verifying)."""
        async for key in self.client.scan_iter(match=f"{P}*", count=1000):
            if not key.startswith(f"{P}secret:".encode()):
                await self.client.delete(key)

    async def memory_used(self) -> int:
        """Bytes Redis uses (INFO memory ``used_memory``), for the load benchmark."""
        info = await self.client.info("memory")
        return int(info["used_memory"])

    async def close(self) -> None:
        # The pool is the store's own (made above, not by the client): the client closes it
        # only when told to, and its connections (one per slot, opened ahead) with it.
        await self.client.aclose(close_connection_pool=True)
