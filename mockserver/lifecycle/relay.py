"""WebSocket pushes to a session wherever it is connected.

``LocalRelay`` (memory and SQLite stores): a session is in this process or nowhere; a push
goes to its connection, or to its buffer while it is detached. ``RedisRelay`` (the Redis
store): any process may complete a task, and the session may be connected to another host.
A push to a session attached here is sent at once; otherwise it is published on the
session's channel (``rwm:push:{id}``), which the process holding the connection subscribes
to; when no process does (the session is detached), it is appended to the session's buffer
in Redis (``rwm:buffer:{id}``, capped at ``session_buffer_max`` frames, expiring with the
session), which the connection that resumes the session, on any host, receives first. A
process that resumes a session publishes an ``evict`` on its channel, so a connection still
holding it on another host is closed with 4000, as on one host.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any, Protocol

import orjson

from ..core.sessions import Session, Sessions
from ..store import StoreUnavailable
from .supervise import Repeated, backoff, cancelled, supervised

log = logging.getLogger("mockserver")
ATTACHED_SECONDS = 24 * 3600.0  # a session record's TTL while connected (its host may die)


class Relay(Protocol):
    def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def push(self, session_id: str, body: dict[str, Any]) -> None:
        """Send ``body`` to the session's connection, or keep it for its return."""

    async def known(self, session_id: str, owner: str) -> bool:
        """True if another process has (or had) this session of ``owner``'s."""

    async def attached(self, session: Session, owner: str) -> list[dict[str, Any]]:
        """A connection now holds ``session``: the frames kept for it meanwhile."""

    async def detached(self, session: Session) -> None: ...


class LocalRelay:
    """Sessions of this process only."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def push(self, session_id: str, body: dict[str, Any]) -> None:
        session = self.sessions.get(session_id)
        if session is None:
            return
        if session.send is not None:
            await session.send(body)
        else:
            session.keep(body)

    async def known(self, session_id: str, owner: str) -> bool:
        return False

    async def attached(self, session: Session, owner: str) -> list[dict[str, Any]]:
        buffered, session.buffer = session.buffer, []
        return buffered

    async def detached(self, session: Session) -> None:
        pass


class RedisRelay:
    """Sessions shared by every process on one Redis (see the module's docstring)."""

    def __init__(
        self,
        client: Any,
        sessions: Sessions,
        keep_seconds: float,
        buffer_max: int,
        slots: contextlib.AbstractAsyncContextManager[Any],
        failures: tuple[type[BaseException], ...] = (StoreUnavailable,),
    ) -> None:
        self.client = client
        # What Redis and its connection raise (store.redis.FAILURES): the only errors caught
        # here; anything else is a bug, logged with its traceback by the supervised loop.
        self.failures = failures
        self._away = Repeated(log, 10.0)
        self._away_count = 0
        self.slots = slots  # the store's: its commands count against the same connections
        self.sessions = sessions
        self.keep_ms = max(1, int(keep_seconds * 1000))
        self.buffer_max = buffer_max
        self.token = uuid.uuid4().hex  # this process, in the evictions it publishes
        self.pubsub = client.pubsub()
        self._loop: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()

    @staticmethod
    def channel(session_id: str) -> str:
        return f"rwm:push:{session_id}"

    def start(self) -> None:
        self._loop = supervised("session relay", self._step)

    async def stop(self) -> None:
        if self._loop is not None:
            await cancelled(self._loop)
        with contextlib.suppress(*self.failures):
            await self.pubsub.aclose()

    async def _step(self) -> None:
        try:
            await self._receive()
        except self.failures as exc:  # Redis away: a line per interval, then again (it
            self._away_count += 1  # resubscribes), waiting longer while it stays away
            self._away.warning("session relay: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(backoff(self._away_count))
            return
        self._away_count = 0

    async def _receive(self) -> None:
        if not self.pubsub.subscribed:  # a channel of its own keeps the connection open
            await self.pubsub.subscribe(f"rwm:process:{self.token}")
        message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if message is None or message.get("type") != "message":
            return
        session_id = message["channel"].decode().removeprefix("rwm:push:")
        data = orjson.loads(message["data"])
        session = self.sessions.get(session_id)
        if "evict" in data:
            if data["evict"] != self.token and session is not None and session.evict is not None:
                evict = session.evict
                session.send = session.owner = session.evict = None
                self.sessions.pop(session_id, None)  # it lives on another host now
                self._spawn(evict())
                await self.pubsub.unsubscribe(self.channel(session_id))
            return
        if session is not None and session.send is not None:
            self._spawn(session.send(data["body"]))
        else:  # detached since it was published: kept for its return
            async with self.slots:
                await self._keep(session_id, data["body"])

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def push(self, session_id: str, body: dict[str, Any]) -> None:
        session = self.sessions.get(session_id)
        if session is not None and session.send is not None:
            await session.send(body)
            return
        try:
            message = orjson.dumps({"body": body})
            async with self.slots:
                if not await self.client.publish(self.channel(session_id), message):
                    await self._keep(session_id, body)
        except self.failures as exc:  # the completion is not finished: it is tried again
            raise StoreUnavailable(f"Redis: {type(exc).__name__}: {exc}") from exc

    async def _keep(self, session_id: str, body: dict[str, Any]) -> None:
        key = f"rwm:buffer:{session_id}"
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.rpush(key, orjson.dumps(body))
            pipe.ltrim(key, -self.buffer_max, -1)
            pipe.pexpire(key, self.keep_ms)
            await pipe.execute()

    async def known(self, session_id: str, owner: str) -> bool:
        try:
            async with self.slots:
                stored = await self.client.get(f"rwm:session:{session_id}")
        except self.failures as exc:  # Redis away: a new session, as for an unknown one
            log.warning("cannot look up session %s: %s", session_id, exc)
            return False
        return stored is not None and stored.decode() == owner

    async def attached(self, session: Session, owner: str) -> list[dict[str, Any]]:
        kept, session.buffer = session.buffer, []
        session_id = session.session_id
        key = f"rwm:buffer:{session_id}"
        try:
            evict = orjson.dumps({"evict": self.token})
            async with self.slots:
                await self.client.publish(self.channel(session_id), evict)
            await self.pubsub.subscribe(self.channel(session_id))
            async with self.slots, self.client.pipeline(transaction=True) as pipe:
                pipe.set(f"rwm:session:{session_id}", owner, px=int(ATTACHED_SECONDS * 1000))
                pipe.lrange(key, 0, -1)
                pipe.delete(key)
                _, frames, _ = await pipe.execute()
        except self.failures as exc:  # Redis away: this host's pushes still reach it
            log.warning("cannot attach session %s in Redis: %s", session_id, exc)
            return kept
        return kept + [orjson.loads(frame) for frame in frames]

    async def detached(self, session: Session) -> None:
        session_id = session.session_id
        try:
            await self.pubsub.unsubscribe(self.channel(session_id))
            async with self.slots:
                await self.client.pexpire(f"rwm:session:{session_id}", self.keep_ms)
        except self.failures as exc:  # the record expires a day after it was attached
            log.warning("cannot detach session %s in Redis: %s", session_id, exc)
