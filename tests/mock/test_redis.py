"""The Redis store against a real ``redis-server`` (Debian's, started on a free loopback port
by each test): leases, and mock processes on two ports over one Redis behaving as one mock
(submit on one, poll and download on the other; raced taskUUIDs; WebSocket sessions that
move between hosts; a SIGKILLed process during a burst; Redis restarted under load).

The store's contract shared with memory and SQLite is in ``test_mock_store.py`` (its
``store`` fixture runs every test on all three)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from mockserver.store import ImageRecord, StoreUnavailable, open_store, request_deadline
from mockserver.store.redis import RedisStore
from mockserver.testing import answers_get, running_process
from tests.conftest import REPO
from tests.helpers import (
    OWNER,
    Receiver,
    RedisServer,
    assert_accepted_once,
    eventually,
    fail_first,
    free_port,
    new_task,
    png,
    record,
    redis_server,
    video,
    video_uuid,
)

KEY = "k"
HEADERS = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as server:
        yield server


@contextlib.contextmanager
def mock_on(
    url: str, *flags: str, port: int | None = None, stderr: Path | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``python -m mockserver --store URL`` on a loopback port, until healthy."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "mockserver", "--port", str(port), "--store", url, *flags]
    base = f"http://127.0.0.1:{port}"
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(stderr.open("ab")) if stderr else None
        process = stack.enter_context(
            running_process(
                [*cmd, "--log-level", "warning"],
                answers_get(f"{base}/health"),
                cwd=REPO,
                stderr=log,
            )
        )
        yield process, base


def poll(client: httpx.Client, task_uuid: str) -> httpx.Response:
    return client.post("/v1", json=[{"taskType": "getResponse", "taskUUID": task_uuid}])


def finished(client: httpx.Client, task_uuid: str, timeout: float = 20) -> list[dict[str, object]]:
    def done() -> list[dict[str, object]] | None:
        items = poll(client, task_uuid).json().get("data") or []
        return items if items and all(i["status"] == "success" for i in items) else None

    items = eventually(done, timeout)
    assert items, f"{task_uuid} never finished"
    return list(items)


# ── leases, on the store itself ─────────────────────────────────────────────


def test_a_lease_that_expires_unfinished_is_claimed_again(redis: RedisServer) -> None:
    """The claimer died (it never finished): once the lease expires the task is pending
    again and another process claims it; once finished, never again."""

    async def run() -> None:
        one = open_store(f"{redis.url}?lease=0.3", clock=lambda: 0.0)
        other = open_store(f"{redis.url}?lease=0.3", clock=lambda: 0.0)
        try:
            task = record(1, webhook=True)
            assert await one.add_task(task, [])
            assert await one.claim_completion(OWNER, task.task_uuid, "one")
            assert not await other.claim_completion(OWNER, task.task_uuid, "other")  # held
            # A claim retried after its answer was lost is still its claimant's (renewed).
            assert await one.claim_completion(OWNER, task.task_uuid, "one")
            assert await other.pending_completions() == []
            await asyncio.sleep(0.5)  # the lease expires: its holder is taken for dead
            assert [r.task_uuid for r in await other.pending_completions()] == [task.task_uuid]
            assert await other.claim_completion(OWNER, task.task_uuid, "other")
            await other.finish_completion(OWNER, task.task_uuid)
            await asyncio.sleep(0.5)
            assert await one.pending_completions() == []
            assert not await one.claim_completion(OWNER, task.task_uuid, "one")  # done for good
            got = await one.get_task(OWNER, task.task_uuid)
            assert got is not None and got.pushed
        finally:
            await one.close()
            await other.close()

    asyncio.run(run())


def test_every_key_expires_or_is_capped(redis: RedisServer) -> None:
    """Tasks, videos, claims and images carry a TTL; the sets they are listed in are the
    capped or swept ones; the secret is one key."""
    import redis as redis_py

    async def run() -> None:
        store = open_store(redis.url)
        assert isinstance(store, RedisStore)
        try:
            now = time.time()
            task = record(1, webhook=True)
            task.created, task.ready_at, task.expires_at = now, now + 1, now + 60
            assert await store.add_task(task, [])
            assert await store.claim_completion(OWNER, task.task_uuid, "one")
            await store.shared_secret("media", b"s" * 32)
        finally:
            await store.close()

    asyncio.run(run())
    client = redis_py.Redis(port=redis.port)
    try:
        for key in client.scan_iter("rwm:*"):
            name = key.decode()
            if name.startswith(("rwm:task:", "rwm:claim:")):
                assert 0 < client.pttl(key) <= 60_000, name
            else:
                assert name in {"rwm:tasks", "rwm:due", "rwm:secret:media"}, name
    finally:
        client.close()


# ── two mock processes over one Redis ───────────────────────────────────────


def test_two_hosts_behave_as_one_mock(redis: RedisServer) -> None:
    with (
        mock_on(redis.url, "--job-seconds", "0.5") as (_, a_base),
        mock_on(redis.url, "--job-seconds", "0.5") as (_, b_base),
        httpx.Client(base_url=a_base, headers=HEADERS) as a,
        httpx.Client(base_url=b_base, headers=HEADERS) as b,
    ):
        task = new_task(duration=3, numberResults=2)
        assert a.post("/v1", json=[task]).status_code == 200
        items = finished(b, task["taskUUID"])  # submitted on A, polled on B
        assert len(items) == 2
        for item in items:
            url = str(item["videoURL"])
            assert url.startswith(a_base)  # A handed it out; B serves it, signature and all
            on_b = url.replace(a_base, b_base)
            video = httpx.get(on_b)
            assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
            assert httpx.get(on_b.replace("/video/", "/video/0")).status_code in (403, 404)
        assert b.post("/v1", json=[task]).json()["errors"][0]["code"] == "conflictTaskUUID"
        # An upload made through B is an image A can read (by owner key and by signed URL).
        upload = {"taskType": "imageUpload", "taskUUID": new_task()["taskUUID"]}
        data = base64.b64encode(png(8, 8)).decode()
        (image,) = b.post("/v1", json=[{**upload, "image": data}]).json()["data"]
        signed = str(image["imageURL"]).replace(b_base, a_base)
        assert httpx.get(signed).status_code == 200
        assert a.get(f"/image/{image['imageUUID']}").status_code == 200

        # The same taskUUIDs sent to both at once: each is accepted exactly once.
        assert_accepted_once((a, b), [new_task(duration=3) for _ in range(30)])


def authenticate(ws: ClientConnection, session: str | None = None) -> tuple[str, list[object]]:
    """The session ID, and the frames that came with the answer (buffered results)."""
    auth: dict[str, object] = {"taskType": "authentication", "apiKey": KEY}
    if session:
        auth["connectionSessionUUID"] = session
    ws.send(json.dumps([auth]))
    answer = json.loads(ws.recv(timeout=10))
    return str(answer["data"][0]["connectionSessionUUID"]), []


def results(ws: ClientConnection, want: set[str], timeout: float = 20) -> set[str]:
    """taskUUIDs of the success pushes received until ``want`` are all in (or timeout)."""
    got: set[str] = set()
    deadline = time.monotonic() + timeout
    while not want <= got and time.monotonic() < deadline:
        try:
            frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        except TimeoutError:
            break
        got |= {i["taskUUID"] for i in frame.get("data", []) if i.get("status") == "success"}
    return got


def submit(ws: ClientConnection, count: int) -> set[str]:
    tasks = [new_task(duration=3) for _ in range(count)]
    for task in tasks:
        ws.send(json.dumps([task]))
    acks: set[str] = set()
    while len(acks) < count:
        frame = json.loads(ws.recv(timeout=10))
        acks |= {i["taskUUID"] for i in frame.get("data", []) if "status" not in i}
    assert acks == {t["taskUUID"] for t in tasks}
    return acks


def test_a_websocket_session_gets_its_pushes_on_whichever_host_holds_it(
    redis: RedisServer,
) -> None:
    with (
        mock_on(redis.url, "--job-seconds", "1") as (_, a_base),
        mock_on(redis.url, "--job-seconds", "1") as (_, b_base),
    ):
        a_ws, b_ws = a_base.replace("http", "ws") + "/v1", b_base.replace("http", "ws") + "/v1"
        with connect(a_ws) as ws:
            session, _ = authenticate(ws)
            detached = submit(ws, 5)  # completed on A while no connection holds the session
        time.sleep(2.5)
        with connect(b_ws) as ws:  # resumed on B: A's results were kept in Redis
            assert authenticate(ws, session)[0] == session
            assert results(ws, detached) == detached
            with connect(a_ws) as again:  # taken back on A: B's connection is closed, 4000
                assert authenticate(again, session)[0] == session
                with pytest.raises(ConnectionClosed) as closed:
                    ws.recv(timeout=10)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000
                attached_elsewhere = submit(again, 5)
        with connect(b_ws) as ws:  # on B before A completes them: published to B
            assert authenticate(ws, session)[0] == session
            assert results(ws, attached_elsewhere) == attached_elsewhere


def test_a_process_killed_during_a_burst_loses_no_acknowledged_task(
    redis: RedisServer, tmp_path: Path
) -> None:
    """A is SIGKILLed while it delivers (its receiver fails the first attempts, so deliveries
    wait to retry, leased to A): B takes the expired leases and the unclaimed tasks, every
    webhook arrives at least once, every task completes, and A restarted serves them."""
    store = f"{redis.url}?lease=2"
    flags = ("--job-seconds", "1")
    a_port = free_port()
    with (
        Receiver(fail_first(15)) as hooks,
        mock_on(store, *flags) as (_, b_base),
        httpx.Client(base_url=b_base, headers=HEADERS) as b,
    ):
        tasks = [new_task(duration=3, webhookURL=f"{hooks.url}/hook") for _ in range(40)]
        with (
            mock_on(store, *flags, port=a_port, stderr=tmp_path / "a.log") as (a_proc, a_base),
            httpx.Client(base_url=a_base, headers=HEADERS) as a,
        ):
            for start in range(0, 40, 5):
                reply = a.post("/v1", json=tasks[start : start + 5])
                assert reply.status_code == 200 and len(reply.json()["data"]) == 5
            assert eventually(lambda: len(hooks.requests) >= 5, timeout=15)  # A is delivering
            os.kill(a_proc.pid, signal.SIGKILL)
            a_proc.wait(timeout=10)
        wanted = {t["taskUUID"] for t in tasks}

        def arrived() -> set[str]:
            return {json.loads(r.body)["data"][0]["taskUUID"] for r in hooks.received}

        assert eventually(lambda: arrived() >= wanted, timeout=30), wanted - arrived()
        for task in tasks:  # B answers for A's tasks
            assert poll(b, task["taskUUID"]).json()["data"][0]["status"] == "success"
        with (
            mock_on(store, *flags, port=a_port) as (_, a_base),
            httpx.Client(base_url=a_base, headers=HEADERS) as a,
        ):
            for task in tasks:
                assert poll(a, task["taskUUID"]).json()["data"][0]["status"] == "success"


def test_redis_lost_while_serving_gives_503s_and_service_comes_back(tmp_path: Path) -> None:
    with redis_server(tmp_path, appendonly=True) as redis:
        with (
            mock_on(redis.url, "--job-seconds", "0.2", stderr=tmp_path / "mock.log") as (_, base),
            httpx.Client(base_url=base, headers=HEADERS) as client,
        ):
            before = new_task(duration=3)
            assert client.post("/v1", json=[before]).status_code == 200
            finished(client, before["taskUUID"])
            redis.stop()
            for attempt in (new_task(duration=3), {"taskType": "getResponse", **before}):
                reply = client.post("/v1", json=[attempt])
                assert reply.status_code == 503, reply.text
                (error,) = reply.json()["errors"]
                assert error["code"] == "storageUnavailable"
                assert error["taskUUID"] == attempt["taskUUID"]
            video = client.get("/video/00000000-0000-4000-8000-000000000000.mp4")  # by key
            assert video.status_code == 503
            assert video.json()["errors"][0]["code"] == "storageUnavailable"
            assert client.get("/health").status_code == 200  # the process itself is fine
            redis.start()  # same port, same data (append-only file)
            after = new_task(duration=3)
            assert eventually(lambda: client.post("/v1", json=[after]).status_code == 200, 15)
            assert finished(client, after["taskUUID"])
            assert finished(client, before["taskUUID"])  # kept across the Redis restart
        log = (tmp_path / "mock.log").read_text()
        assert "Traceback" not in log, log[-3000:]
        assert "storage unavailable" in log


def test_an_unreachable_redis_at_start_is_one_line_and_exit_2() -> None:
    port = free_port()  # nothing listens there
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "--store", f"redis://:secret@127.0.0.1:{port}/0"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        timeout=30,
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"cannot reach the store redis://***@127.0.0.1:{port}/0: ")
    assert "secret" not in result.stderr


def test_a_burst_of_concurrent_clients_gets_no_storage_errors_and_loses_nothing(
    redis: RedisServer, tmp_path: Path
) -> None:
    """More requests in flight at once than Redis connections the process opens (120 WebSocket
    connections sending 4 tasks each at once, and 80 REST requests) on a healthy Redis: none
    is answered ``storageUnavailable`` (they wait for a connection), and every acknowledged
    task completes, pushed or polled."""
    import websockets

    async def burst(base: str) -> tuple[list[object], set[str], set[str]]:
        errors: list[object] = []
        acknowledged: set[str] = set()
        completed: set[str] = set()

        async def ws_client() -> None:
            async with websockets.connect(base.replace("http", "ws") + "/v1") as ws:
                await ws.send(json.dumps([{"taskType": "authentication", "apiKey": KEY}]))
                await ws.recv()
                tasks = [new_task(duration=3) for _ in range(4)]
                await asyncio.gather(*(ws.send(json.dumps([t])) for t in tasks))
                unfinished = {t["taskUUID"] for t in tasks}
                while unfinished:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
                    errors.extend(frame.get("errors", []))
                    for err in frame.get("errors", []):
                        unfinished.discard(err.get("taskUUID"))
                    for item in frame.get("data", []):
                        if "status" not in item:
                            acknowledged.add(item["taskUUID"])
                        elif item["status"] == "success":
                            completed.add(item["taskUUID"])
                            unfinished.discard(item["taskUUID"])

        async def rest_client(client: httpx.AsyncClient) -> None:
            task = new_task(duration=3)
            reply = (await client.post("/v1", json=[task])).json()
            errors.extend(reply.get("errors", []))
            if "data" not in reply:
                return
            acknowledged.add(task["taskUUID"])
            poll = [{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                reply = (await client.post("/v1", json=poll)).json()
                errors.extend(reply.get("errors", []))
                items = reply.get("data") or []
                if items and all(i["status"] == "success" for i in items):
                    completed.add(task["taskUUID"])
                    return

        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=base, headers=HEADERS, limits=limits) as client:
            await asyncio.gather(
                *(ws_client() for _ in range(120)), *(rest_client(client) for _ in range(80))
            )
        return errors, acknowledged, completed

    log = tmp_path / "mock.log"
    with mock_on(redis.url, "--job-seconds", "0.5", stderr=log) as (_, base):
        errors, acknowledged, completed = asyncio.run(burst(base))
    assert errors == [], log.read_text()[-2000:]
    assert len(acknowledged) == 120 * 4 + 80
    assert acknowledged - completed == set()


def test_a_claim_whose_answer_was_lost_and_a_failed_push_are_retried(redis: RedisServer) -> None:
    """Redis ran the claim but its answer was lost (as after a timeout), then the push failed
    once: the same claimant asks again and gets its claim, the push is tried again, and the
    result is pushed exactly once and marked done."""
    import dataclasses

    from mockserver.core.config import MockConfig
    from mockserver.core.sessions import Session, Sessions
    from mockserver.lifecycle.completion import Completion
    from mockserver.lifecycle.delivery import Deliverer
    from mockserver.lifecycle.relay import LocalRelay
    from mockserver.lifecycle.scheduler import Scheduler
    from mockserver.media.files import MediaFiles
    from mockserver.media.images import ImageFiles
    from mockserver.media.rendering import VideoFiles
    from mockserver.store import StoreUnavailable

    async def run() -> None:
        store = open_store(redis.url)
        assert isinstance(store, RedisStore)
        await store.open()
        config = MockConfig(clock=time.time)  # the store's clock, as the CLI's
        scheduler = Scheduler(config.clock)
        scheduler.start()
        pushed: list[object] = []

        async def send(body: object) -> None:
            pushed.append(body)

        sessions = Sessions(s=Session("s", KEY, send=send))
        relay = LocalRelay(sessions)
        media = MediaFiles(VideoFiles(config.video_cache_bytes, config.render_queue), ImageFiles())
        completion = Completion(config, store, scheduler, relay, media)
        completion.deliverer = Deliverer(attempts=1, timeout=1.0, backoff=0.1)
        real_claim, real_push = store.claim_completion, relay.push
        failures = {"claim": 1, "push": 1}

        async def claim_answer_lost(*args: str) -> bool:
            claimed = await real_claim(*args)
            if failures["claim"]:
                failures["claim"] -= 1
                raise StoreUnavailable("Redis: TimeoutError: Timeout reading from socket")
            return claimed

        async def push_fails_once(session_id: str, body: dict[str, object]) -> None:
            if failures["push"]:
                failures["push"] -= 1
                raise StoreUnavailable("Redis: ConnectionError: Connection reset by peer")
            await real_push(session_id, body)

        store.claim_completion = claim_answer_lost  # type: ignore[method-assign,assignment]
        relay.push = push_fails_once  # type: ignore[method-assign]
        now = time.time()
        task = dataclasses.replace(
            record(1), session_id="s", created=now, ready_at=now, expires_at=now + 60
        )
        try:
            assert await store.add_task(task, [])
            completion.schedule(task)
            deadline = time.monotonic() + 10
            while not pushed and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.5)  # a duplicate would have come by now
            assert failures == {"claim": 0, "push": 0}
            assert len(pushed) == 1
            assert await store.pending_completions() == []
            # Finished: the claim is kept as long as the task (never claimed again).
            claim_key, task_key = (
                f"rwm:{kind}:{OWNER}:{task.task_uuid}" for kind in ("claim", "task")
            )
            assert await store.client.pttl(claim_key) > store.lease_seconds * 1000
            assert (
                abs(await store.client.pttl(claim_key) - await store.client.pttl(task_key)) < 1000
            )
        finally:
            await scheduler.stop()
            await completion.deliverer.close()
            media.close()
            await store.close()

    asyncio.run(run())


def test_a_finish_is_recorded_on_a_redis_out_of_memory(redis: RedisServer) -> None:
    """Redis at maxmemory (noeviction) refuses SET: the finish allocates nothing, so it is
    recorded, and the task is not claimed again when the lease would have run out (before,
    the finish failed, the lease expired and the webhook went out twice)."""

    async def run() -> None:
        store = open_store(f"{redis.url}?lease=0.5", clock=time.time)
        assert isinstance(store, RedisStore)
        await store.open()
        now = time.time()
        task = dataclasses.replace(
            record(1, webhook=True), created=now, ready_at=now, expires_at=now + 60
        )
        try:
            assert await store.add_task(task, [])
            assert await store.claim_completion(OWNER, task.task_uuid, "first")
            await store.client.config_set("maxmemory", 1)
            with pytest.raises(StoreUnavailable, match="OutOfMemoryError"):
                await store.claim_completion(OWNER, task.task_uuid, "x")  # SET refused
            await store.finish_completion(OWNER, task.task_uuid)  # recorded all the same
            await asyncio.sleep(0.8)  # past the lease
            assert await store.pending_completions() == []
            await store.client.config_set("maxmemory", 0)  # memory freed
            assert not await store.claim_completion(OWNER, task.task_uuid, "second")
        finally:
            await store.client.config_set("maxmemory", 0)
            await store.close()

    asyncio.run(run())


# ── the store's arithmetic and bookkeeping, against a real Redis ─────────────


def test_writes_get_their_deadline_on_redis_clock_less_the_grace(redis: RedisServer) -> None:
    """Redis runs a write only if it starts before the request's deadline less the time its
    answer needs (DEADLINE_GRACE, or half what is left), by Redis's own clock: the store
    measures how far that clock is from its own when it opens."""
    from mockserver.store.redis import DEADLINE_GRACE

    async def run() -> None:
        store = RedisStore(redis.url)
        before = time.time()
        await store.open()
        took = time.time() - before
        try:
            assert abs(store.clock_offset) <= took  # one host: one clock, within a round trip
            for seconds in (0.4, 2.0):  # half of what is left, then the grace, held back
                with request_deadline(seconds):
                    expected = time.time() + seconds - min(DEADLINE_GRACE, seconds / 2)
                    deadline = store._deadline_ms() / 1000
                assert abs(deadline - expected - store.clock_offset) < 0.05, seconds
            store.clock_offset += 3600.0  # a Redis an hour ahead: its deadlines are too
            with request_deadline(2.0):
                expected = time.time() + 2.0 - DEADLINE_GRACE + store.clock_offset
                assert abs(store._deadline_ms() / 1000 - expected) < 0.05
        finally:
            await store.close()

    asyncio.run(run())


def test_a_write_redis_runs_past_its_deadline_is_refused_and_not_kept(
    redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis frozen while the write was queued: the script finds its start deadline passed,
    writes nothing, and the client is told the store is unavailable (never "accepted")."""

    async def run() -> None:
        store = RedisStore(redis.url)
        await store.open()
        try:
            monkeypatch.setattr(store, "_deadline_ms", lambda: 1)  # long past, on any clock
            with pytest.raises(StoreUnavailable, match="past the request's deadline"):
                await store.add_task(record(1), [video(1)])
            assert await store.get_task(OWNER, record(1).task_uuid) is None
            assert await store.get_video(OWNER, video_uuid(1)) is None
        finally:
            await store.close()

    asyncio.run(run())


def test_keys_expire_when_their_records_do(redis: RedisServer) -> None:
    """Redis forgets a task when it expires, a video when its later of task expiry and ttl
    comes, an upload a day after it was stored, by the server's clock."""
    import redis as redis_py

    async def run() -> None:
        store = open_store(redis.url)  # the wall clock
        await store.open()
        try:
            now = time.time()
            task = record(1, expires_at=now + 60)
            assert await store.add_task(task, [video(1, forget_at=now + 90)])
            await store.add_image(ImageRecord("an-upload", OWNER, b"x", "image/png", None))
        finally:
            await store.close()

    asyncio.run(run())
    client = redis_py.Redis.from_url(redis.url)
    try:
        ttl = {
            "task": client.pttl(f"rwm:task:{OWNER}:{record(1).task_uuid}"),
            "video": client.pttl(f"rwm:video:{OWNER}:{video_uuid(1)}"),
            "upload": client.pttl("rwm:image:an-upload"),
        }
    finally:
        client.close()
    assert 55_000 < ttl["task"] <= 60_000 and 85_000 < ttl["video"] <= 90_000, ttl
    assert 86_395_000 < ttl["upload"] <= 86_400_000, ttl


def test_a_claimed_task_is_due_again_when_its_lease_ends(redis: RedisServer) -> None:
    import redis as redis_py

    async def run() -> None:
        store = open_store(f"{redis.url}?lease=7", clock=lambda: 50.0)  # (expiry: 100)
        await store.open()
        try:
            assert await store.add_task(record(1, webhook=True), [])
            (pending,) = await store.pending_completions()
            assert not pending.pushed  # to be delivered
            assert await store.claim_completion(OWNER, record(1).task_uuid, "one")
        finally:
            await store.close()

    asyncio.run(run())
    client = redis_py.Redis.from_url(redis.url)
    try:
        assert client.zscore("rwm:due", f"{OWNER}:{record(1).task_uuid}") == 57.0
    finally:
        client.close()


def test_processes_on_one_redis_agree_on_the_first_secret_stored(redis: RedisServer) -> None:
    """Signed media URLs must open on every host: the first secret stored is everyone's."""

    async def run() -> None:
        one, other = RedisStore(redis.url), RedisStore(redis.url)
        await one.open()
        await other.open()
        try:
            first = await asyncio.wait_for(one.shared_secret("media", b"first"), 5)
            second = await asyncio.wait_for(other.shared_secret("media", b"second"), 5)
            assert first == second == b"first"
            await one.reset()  # forgets tasks, not the secret: URLs handed out still open
            assert await asyncio.wait_for(other.shared_secret("media", b"third"), 5) == b"first"
        finally:
            await one.close()
            await other.close()

    asyncio.run(run())


def test_as_many_commands_as_slots_at_once_all_get_a_connection(redis: RedisServer) -> None:
    """Every slot's command gets a connection of the pool (which also holds the session
    relay's subscription): a burst fills the slots, never fails for want of a connection."""
    from mockserver.store.redis import MAX_CONNECTIONS

    async def run() -> None:
        store = RedisStore(redis.url)
        await store.open()
        try:
            found = await asyncio.gather(
                *(store.get_task(OWNER, record(n).task_uuid) for n in range(2 * MAX_CONNECTIONS))
            )
            assert found == [None] * (2 * MAX_CONNECTIONS)
        finally:
            await store.close()

    asyncio.run(run())


def test_open_loads_the_scripts_and_opens_the_pool_before_the_first_burst(
    redis: RedisServer,
) -> None:
    """After ``open`` every script is in Redis's cache (no request runs one as NOSCRIPT
    first) and the pool holds a connection per slot (no request of a burst waits for its
    connection to be made); ``close`` closes them all (the CLI's reachability check opens
    and closes a store before serving)."""
    import redis as redis_py

    from mockserver.store.redis import MAX_CONNECTIONS

    admin = redis_py.Redis.from_url(redis.url)
    admin.script_flush()

    async def run() -> None:
        store = RedisStore(redis.url)
        await store.open()
        try:
            shas = [script.sha for script in store._scripts]
            assert admin.script_exists(*shas) == [True] * len(shas)
            assert len(admin.client_list()) >= MAX_CONNECTIONS + 1  # (+ admin's own)
        finally:
            await store.close()

    try:
        asyncio.run(run())
        assert eventually(lambda: len(admin.client_list()) == 1, timeout=5)  # admin's alone
    finally:
        admin.close()


def test_the_clis_reachability_check_makes_nothing_ready_ahead(redis: RedisServer) -> None:
    """The CLI's check before serving opens and closes a store: it loads no script and opens
    no connection per slot (the server's own ``open`` does, once)."""
    import redis as redis_py

    from mockserver.store import reachable

    admin = redis_py.Redis.from_url(redis.url)
    admin.script_flush()
    try:
        assert asyncio.run(reachable(redis.url)) is None
        shas = [script.sha for script in RedisStore(redis.url)._scripts]
        assert admin.script_exists(*shas) == [False] * len(shas)
        assert eventually(lambda: len(admin.client_list()) == 1, timeout=5)
    finally:
        admin.close()


def test_a_redis_refusing_connections_past_its_maxclients_still_opens_with_a_warning(
    redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Opening connections ahead is best effort: a Redis with room for fewer clients than
    the slots opens the store with one warning, and the store serves."""
    import redis as redis_py

    admin = redis_py.Redis.from_url(redis.url)
    before = str(admin.config_get("maxclients")["maxclients"])
    admin.config_set("maxclients", 12)

    async def run() -> None:
        store = RedisStore(redis.url)
        with caplog.at_level(logging.WARNING, "mockserver"):
            await store.open()
        try:
            assert await store.add_task(record(1), [video(1)])
            assert await store.get_task(OWNER, record(1).task_uuid) is not None
        finally:
            await store.close()

    try:
        asyncio.run(run())
    finally:
        admin.config_set("maxclients", before)
        admin.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "connections opened ahead" in warnings[0], warnings
    assert "max number of clients" in warnings[0]


def test_a_command_waits_for_a_free_slot_up_to_the_timeout_then_fails_unavailable() -> None:
    from mockserver.store.redis import Slots

    async def run() -> None:
        slots = Slots(1, timeout=0.2)
        async with slots:
            started = time.monotonic()
            with pytest.raises(StoreUnavailable, match=r"all 1 connections busy for 0\.2 s"):
                async with slots:
                    pass
            assert time.monotonic() - started >= 0.2
        released = asyncio.Event()

        async def hold() -> None:
            async with slots:
                await released.wait()

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0)
        asyncio.get_running_loop().call_later(0.05, released.set)
        async with slots:  # freed within the timeout: it waits, then runs
            pass
        await holder

    asyncio.run(asyncio.wait_for(run(), 5))  # (a slot that waits forever fails the test)
