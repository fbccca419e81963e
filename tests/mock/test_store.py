"""The stores: one contract for memory and SQLite, caps that keep memory bounded, and the SQLite
store across a SIGKILL restart and across worker processes (real subprocesses on loopback)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import orjson
import pytest
from websockets.sync.client import connect

from mockserver import MockConfig, MockServer, cli
from mockserver.core.journal import REPLY_BYTES_KEEP, Journal
from mockserver.core.reply import Reply
from mockserver.core.sessions import Session, Sessions
from mockserver.lifecycle.eager import eagerly
from mockserver.store import (
    ImageRecord,
    Limits,
    MemoryStore,
    SqliteStore,
    Store,
    StoreUnavailable,
    TaskRecord,
    open_store,
    request_deadline,
)
from mockserver.store.sqlite import file_problem
from mockserver.testing import InProcessMock, answers_get, running_process
from runware_contract import klingai_video_3_0_pro as kling
from tests.conftest import REPO, MockHandle
from tests.helpers import (
    OWNER,
    Receiver,
    assert_accepted_once,
    eventually,
    free_port,
    new_task,
    png,
    record,
    redis_server,
    video,
    video_uuid,
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each store, its clock at 0 (the records' times are small numbers)."""
    with contextlib.ExitStack() as stack:
        spec = {"memory": "memory", "sqlite": f"sqlite:{tmp_path / 'mock.db'}"}.get(
            request.param
        ) or stack.enter_context(redis_server(tmp_path)).url
        limits = Limits(max_tasks=5, max_images=3, max_image_bytes=1000)
        opened = open_store(spec, limits, clock=lambda: 0.0)
        await opened.open()
        yield opened
        await opened.close()


# ── one contract, two stores ────────────────────────────────────────────────


@pytest.mark.anyio
async def test_a_taskuuid_is_stored_once_per_owner(store: Store) -> None:
    assert await store.add_task(record(1), [video(1)])
    clash = record(1)
    clash.expires_at = 5.0
    assert not await store.add_task(clash, [])
    kept = await store.get_task(OWNER, record(1).task_uuid)
    assert kept is not None and kept.expires_at == 100.0 and kept.results == record(1).results
    assert await store.get_video(OWNER, video_uuid(1)) == video(1)
    assert await store.get_task(OWNER, "00000000-0000-4000-8000-999999999999") is None
    other = "f" * 32
    assert await store.get_task(other, record(1).task_uuid) is None  # not another owner's
    assert await store.get_video(other, video_uuid(1)) is None
    assert not await store.claim_completion(other, record(1).task_uuid, "a")
    assert await store.add_task(record(1, owner=other), [video(1, forget_at=7.0)])  # its own
    assert await store.get_video(other, video_uuid(1)) == video(1, forget_at=7.0)
    assert await store.get_video(OWNER, video_uuid(1)) == video(1)
    assert (await store.counts())["tasks"] == 2 and (await store.counts())["videos"] == 2


@pytest.mark.anyio
async def test_the_direct_path_never_drives_a_store_call_that_suspends(store: Store) -> None:
    """``POST /v1`` answered inside the HTTP protocol (``direct.py``) drives the engine's
    coroutine with ``rest.completed``, which raises (a 500) if a store call suspends. Each
    store: one that may suspend (Redis waits on the network, SQLite's writes on their thread)
    is never given to that path; one that says it never suspends finishes every method, and
    a whole request of every kind of task, at its first step."""
    from mockserver.core.engine import RequestContext
    from mockserver.http.rest import completed

    server = MockServer(MockConfig())
    server.store = server.engine.store = store
    json_headers = {"content-type": "application/json"}
    assert server.rest.direct_ok(json_headers) is (not store.suspends)
    if store.suspends:
        return
    task = record(1, webhook=True)
    assert completed(store.add_task(task, [video(1)]))
    assert not completed(store.add_task(task, []))
    assert completed(store.get_task(OWNER, task.task_uuid)) is not None
    assert completed(store.get_video(OWNER, video_uuid(1))) is not None
    assert [r.task_uuid for r in completed(store.pending_completions())] == [task.task_uuid]
    assert completed(store.claim_completion(OWNER, task.task_uuid, "a"))
    completed(store.finish_completion(OWNER, task.task_uuid))
    completed(store.add_image(ImageRecord("i1", OWNER, b"x", "image/png", (1, 1))))
    assert completed(store.get_image("i1", OWNER)) is not None
    completed(store.sweep(1000.0))
    assert completed(store.counts())["tasks"] == 0
    assert completed(store.shared_secret("media", b"s")) == b"s"
    completed(store.drop_task(OWNER, task.task_uuid))
    completed(store.reset())
    ctx = RequestContext(api_key="k", base_url="http://127.0.0.1")
    uuid = new_task()["taskUUID"]
    data = base64.b64encode(png(2, 2)).decode()
    image = {"taskType": "imageUpload", "taskUUID": new_task()["taskUUID"], "image": data}
    tasks = [
        {"taskType": "authentication", "apiKey": "k"},
        {"taskType": "ping", "ping": True},
        new_task(taskUUID=uuid),
        new_task(taskUUID=uuid),  # conflictTaskUUID
        {"taskType": "getResponse", "taskUUID": uuid},
        {"taskType": "getResponse", "taskUUID": new_task()["taskUUID"]},  # taskNotFound
        image,
    ]
    reply = completed(server.engine.handle(tasks, ctx))
    codes = [e["code"] for e in reply.errors]
    assert codes == ["conflictTaskUUID", "taskNotFound"], reply.errors
    assert len(reply.data) == 5


@pytest.mark.anyio
async def test_one_video_named_by_two_tasks_of_an_owner_is_served_for_both(store: Store) -> None:
    """A documented example's videoUUID: ready from the first task, kept until the last."""
    early = dataclasses.replace(video(1, forget_at=50.0), ready_at=1.0, expires_at=40.0)
    late = dataclasses.replace(video(1, forget_at=90.0), ready_at=5.0, expires_at=80.0)
    await store.add_task(record(1), [early])
    await store.add_task(record(2), [late])
    served = await store.get_video(OWNER, video_uuid(1))
    assert served == dataclasses.replace(late, ready_at=1.0)


@pytest.mark.anyio
async def test_a_shared_video_without_a_ttl_on_one_task_never_expires(store: Store) -> None:
    """Named by a task with a ttl and by one without (in either order): served from the
    earlier ready time, never expired, forgotten at the later of the two times."""
    with_ttl = dataclasses.replace(video(1, forget_at=60.0), ready_at=5.0, expires_at=40.0)
    without = dataclasses.replace(video(1, forget_at=30.0), ready_at=2.0, expires_at=None)
    await store.add_task(record(1), [with_ttl])
    await store.add_task(record(2), [without])
    assert await store.get_video(OWNER, video_uuid(1)) == dataclasses.replace(
        without, ready_at=2.0, expires_at=None, forget_at=60.0
    )
    later = dataclasses.replace(video(2, forget_at=60.0), ready_at=5.0, expires_at=40.0)
    earlier = dataclasses.replace(video(2, forget_at=30.0), ready_at=2.0, expires_at=20.0)
    await store.add_task(record(3), [later])
    await store.add_task(record(4), [earlier])
    assert await store.get_video(OWNER, video_uuid(2)) == dataclasses.replace(
        earlier, ready_at=2.0, expires_at=40.0, forget_at=60.0
    )


@pytest.mark.anyio
async def test_uploads_are_found_only_by_their_owner_or_a_signature(store: Store) -> None:
    image = ImageRecord("22222222-0000-4000-8000-000000000001", OWNER, b"png", "image/png", (1, 1))
    await store.add_image(image)
    assert await store.get_image(image.image_uuid, OWNER) == image
    assert await store.get_image(image.image_uuid, "f" * 32) is None
    assert await store.get_image(image.image_uuid, None) == image  # a signed URL's holder


@pytest.mark.anyio
async def test_an_upload_by_url_is_read_back_as_that_url_without_bytes(store: Store) -> None:
    """An imageUpload of a URL keeps the URL and no bytes (None, not empty bytes: whoever
    reads it fetches the URL); one of bytes keeps them, an empty image included."""
    by_url = ImageRecord(
        "22222222-0000-4000-8000-000000000002", OWNER, None, None, None,
        source_url="https://example.com/cat.png",
    )  # fmt: skip
    empty = ImageRecord("22222222-0000-4000-8000-000000000003", OWNER, b"", "image/png", (1, 1))
    for image in (by_url, empty):
        await store.add_image(image)
    assert await store.get_image(by_url.image_uuid, OWNER) == by_url
    assert await store.get_image(by_url.image_uuid, None) == by_url
    assert await store.get_image(empty.image_uuid, OWNER) == empty


@pytest.mark.anyio
async def test_completion_is_claimed_once(store: Store) -> None:
    assert store.problem() is None  # a healthy store (asked without waiting, by /health)
    await store.add_task(record(1, webhook=True), [])
    await store.add_task(record(2), [])  # nothing to deliver: never pending
    assert [r.task_uuid for r in await store.pending_completions()] == [record(1).task_uuid]
    assert await store.claim_completion(OWNER, record(1).task_uuid, "a")
    assert not await store.claim_completion(OWNER, record(1).task_uuid, "b")
    assert await store.pending_completions() == []
    assert not await store.claim_completion(OWNER, "00000000-0000-4000-8000-999999999999", "a")


@pytest.mark.anyio
async def test_a_completion_is_pending_from_the_instant_it_is_due(store: Store) -> None:
    """The due-completions poll asks for what is due by a time: a task due exactly then is
    included, and not a moment before."""
    await store.add_task(record(1, webhook=True), [])  # due when ready: 1.0
    assert await store.pending_completions(0.999) == []
    assert [r.task_uuid for r in await store.pending_completions(1.0)] == [record(1).task_uuid]


@pytest.mark.anyio
async def test_oldest_tasks_and_their_videos_go_first_past_the_cap(store: Store) -> None:
    for n in range(12):
        await store.add_task(record(n), [video(n)])
    await store.sweep(now=0.0)
    assert (await store.counts())["tasks"] == 5 and (await store.counts())["videos"] == 5
    assert (
        await store.get_task(OWNER, record(6).task_uuid) is None
        and await store.get_video(OWNER, video_uuid(6)) is None
    )
    assert await store.get_task(OWNER, record(7).task_uuid) is not None
    assert await store.get_video(OWNER, video_uuid(11)) is not None


@pytest.mark.anyio
async def test_expired_tasks_and_videos_are_swept(store: Store) -> None:
    await store.add_task(record(1, expires_at=10.0), [video(1, forget_at=10.0)])
    await store.add_task(record(2, expires_at=10.0), [video(2, forget_at=30.0)])  # a longer ttl
    await store.add_task(record(3, expires_at=50.0), [video(3, forget_at=50.0)])
    await asyncio.wait_for(store.sweep(now=20.0), 10)  # (a sweep that never ends fails)
    assert (
        await store.get_task(OWNER, record(1).task_uuid) is None
        and await store.get_video(OWNER, video_uuid(1)) is None
    )
    assert await store.get_task(OWNER, record(2).task_uuid) is None and await store.get_video(
        OWNER, video_uuid(2)
    )
    assert await store.get_task(OWNER, record(3).task_uuid) is not None
    assert await store.counts() == {"tasks": 1, "videos": 2, "images": 0}


def test_detached_sessions_are_swept_per_process() -> None:
    sessions = Sessions()
    sessions["gone"] = Session("gone", "k", detached_at=-100.0)
    sessions["resumable"] = Session("resumable", "k", detached_at=0.0)
    sessions["attached"] = Session("attached", "k", send=print, detached_at=None)
    sessions.sweep(now=20.0, keep=60)
    assert sorted(sessions) == ["attached", "resumable"]


@pytest.mark.anyio
async def test_images_are_capped_by_count_and_bytes(store: Store) -> None:
    def image(n: int, size: int) -> ImageRecord:
        return ImageRecord(
            f"22222222-0000-4000-8000-{n:012d}", OWNER, b"x" * size, "image/png", (8, 8)
        )

    for n in range(6):
        await store.add_image(image(n, 10))
    await store.sweep(now=0.0)
    assert (await store.counts())["images"] == 3 and await store.get_image(
        image(2, 0).image_uuid, OWNER
    ) is None
    assert await store.get_image(image(5, 10).image_uuid, OWNER) == image(5, 10)
    await store.add_image(image(6, 600))
    await store.add_image(image(7, 600))  # 1200 bytes with the one before: over the byte cap
    await store.sweep(now=0.0)
    assert await store.get_image(image(7, 0).image_uuid, OWNER) is not None
    assert await store.get_image(image(6, 0).image_uuid, OWNER) is None


@pytest.mark.anyio
async def test_images_exactly_at_both_caps_are_all_kept(store: Store) -> None:
    """3 images of 1000 bytes in all (the fixture's caps, both reached): none dropped; one
    more byte, in a fourth image, drops the oldest."""

    def image(n: int, size: int) -> ImageRecord:
        return ImageRecord(
            f"33333333-0000-4000-8000-{n:012d}", OWNER, b"x" * size, "image/png", None
        )

    for n, size in enumerate((500, 250, 250)):
        await store.add_image(image(n, size))
    await store.sweep(now=0.0)
    assert (await store.counts())["images"] == 3
    await store.add_image(image(3, 1))
    await store.sweep(now=0.0)
    assert await store.get_image(image(0, 0).image_uuid, OWNER) is None
    assert [
        await store.get_image(image(n, 0).image_uuid, OWNER) is not None for n in (1, 2, 3)
    ] == [True] * 3


@pytest.mark.anyio
async def test_tasks_exactly_at_the_cap_are_all_kept(store: Store) -> None:
    for n in range(5):  # the fixture's max_tasks
        await store.add_task(record(n), [video(n)])
    await store.sweep(now=0.0)
    assert await store.counts() == {"tasks": 5, "videos": 5, "images": 0}
    await store.add_task(record(5), [video(5)])
    await store.sweep(now=0.0)
    assert await store.get_task(OWNER, record(0).task_uuid) is None
    assert (await store.counts())["tasks"] == 5


def test_detached_session_buffers_and_the_journal_are_bounded() -> None:
    session = Session("s", "k", buffer_max=3)
    for n in range(10):
        session.keep({"data": [n]})
    assert session.buffer == [{"data": [7]}, {"data": [8]}, {"data": [9]}]
    journal = Journal(4)
    for _ in range(10):
        journal.record(
            transport="rest", path="/v1", status=200, tasks=[], error_codes=[], started=0.0
        )
    assert len(journal) == 4
    weighed = Journal(100, max_bytes=1000)
    held = []
    for size in (400, 400, 400, 5000, 10, 10):
        weighed.record(
            transport="rest",
            path="/v1",
            status=200,
            tasks=[],
            error_codes=[],
            started=0.0,
            size=size,
        )
        held.append(len(weighed))
    assert held == [1, 2, 2, 1, 1, 2]  # an oversized newest request is kept alone


def test_the_journal_keeps_no_reply_carrying_images_inline() -> None:
    """A reply of few items may still carry megabytes (images as base64Data): the journal
    keeps a reply for the dashboard only while its results are small."""
    journal = Journal(10)
    for bulk in (REPLY_BYTES_KEEP, REPLY_BYTES_KEEP + 1):
        reply = Reply(data=[{"taskType": "imageInference"}], bulk=bulk)
        journal.record(transport="rest", path="/v1", status=200, tasks=[], error_codes=[],
                       started=0.0, reply=reply)  # fmt: skip
    kept, dropped = (journal.find(e["id"]) for e in journal.query(rows=True)[::-1])
    assert kept is not None and kept["reply"] == {"data": [{"taskType": "imageInference"}]}
    assert dropped is not None and dropped["reply"] is None


@pytest.mark.anyio
async def test_memory_store_keeps_no_more_than_max_tasks_on_the_hot_path() -> None:
    store = MemoryStore(Limits(max_tasks=100))
    for n in range(1000):
        assert await store.add_task(record(n), [video(n)])
    assert len(store.tasks) == 100 and len(store.videos) == 100  # no sweep needed
    assert next(iter(store.tasks)) == (OWNER, record(900).task_uuid)


def test_a_store_file_from_before_owners_is_refused_with_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.db"
    with contextlib.closing(sqlite3.connect(path)) as old:  # the layout before owners
        old.execute(
            "CREATE TABLE tasks (uuid TEXT PRIMARY KEY, expires_at REAL NOT NULL, "
            "wants INTEGER NOT NULL, claimed INTEGER NOT NULL DEFAULT 0, record BLOB NOT NULL)"
        )
    with pytest.raises(ValueError, match="older mock"):
        open_store(f"sqlite:{path}")
    assert cli.main(["--store", f"sqlite:{path}"]) == 2
    assert "older mock" in capsys.readouterr().err
    with contextlib.closing(sqlite3.connect(path)) as newer:
        newer.execute("DROP TABLE tasks")
        newer.execute("PRAGMA user_version = 99")
    with pytest.raises(ValueError, match="newer mock"):
        open_store(f"sqlite:{path}")


def test_unknown_store_is_refused() -> None:
    for spec in ("redis://x", "sqlite:", "disk"):
        with pytest.raises(ValueError):
            open_store(spec)


# ── real processes on one SQLite file ───────────────────────────────────────


@contextlib.contextmanager
def server(
    db: Path, *flags: str, port: int | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``python -m mockserver --store sqlite:DB`` on a loopback port, until healthy."""
    port = port or free_port()
    store = ["--store", f"sqlite:{db}", "--log-level", "warning"]
    cmd = [sys.executable, "-m", "mockserver", "--port", str(port), *store, *flags]
    base = f"http://127.0.0.1:{port}"
    with running_process(cmd, answers_get(f"{base}/health"), cwd=REPO) as process:
        yield process, base


def poll(client: httpx.Client, task_uuid: str) -> httpx.Response:
    return client.post("/v1", json=[{"taskType": "getResponse", "taskUUID": task_uuid}])


def done(polled: httpx.Response) -> list[dict[str, Any]] | None:
    """A poll's items once the first has succeeded."""
    items: list[dict[str, Any]] = polled.json()["data"]
    return items if items[0]["status"] == "success" else None


@pytest.mark.slow
def test_tasks_acknowledged_before_a_sigkill_complete_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "mock.db"
    headers = {"Authorization": "Bearer k"}
    with Receiver() as hook:
        plain = new_task(duration=3, includeCost=True, numberResults=2)
        hooked = new_task(duration=3, webhookURL=f"{hook.url}/done")
        port = free_port()  # the restarted server listens where the videoURLs point
        with server(db, "--job-seconds", "3", port=port) as (process, base):
            with httpx.Client(base_url=base, headers=headers) as client:
                assert client.post("/v1", json=[plain, hooked]).status_code == 200
                before = poll(client, plain["taskUUID"]).json()["data"]
            assert {i["status"] for i in before} == {"processing"}
            os.kill(process.pid, signal.SIGKILL)  # no shutdown: only what was committed
            process.wait(timeout=10)
        assert hook.received == []
        with (
            server(db, "--job-seconds", "3", port=port) as (_, base),
            httpx.Client(base_url=base, headers=headers) as client,
        ):
            after = eventually(lambda: done(poll(client, plain["taskUUID"])), 15)
            assert after, poll(client, plain["taskUUID"]).json()
            assert [i["videoUUID"] for i in after] == [i["videoUUID"] for i in before]
            assert {i["cost"] for i in after} == {kling.price(kling.with_defaults(plain))}
            video = client.get(after[0]["videoURL"])
            assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
            # Signed by the process that accepted the task, valid after the restart (no key).
            assert httpx.get(after[0]["videoURL"]).status_code == 200
            (delivered,) = hook.wait_for(1)
            body = json.loads(delivered.body)
            assert body["data"][0]["taskUUID"] == hooked["taskUUID"]
            assert client.post("/v1", json=[plain]).json()["errors"][0]["code"] == (
                "conflictTaskUUID"
            )
        time.sleep(0.3)
        assert len(hook.received) == 1  # delivered once, not again by the second restart


def pinned_clients(base: str, workers: int) -> list[httpx.Client]:
    """One keep-alive client per worker process (a connection stays with the worker that
    accepted it; /health names the process)."""
    by_worker: dict[int, httpx.Client] = {}
    spare: list[httpx.Client] = []
    for _ in range(200):
        client = httpx.Client(base_url=base, headers={"Authorization": "Bearer k"})
        worker = client.get("/health").json()["worker"]
        if worker in by_worker:
            spare.append(client)  # held open, so the next connection is a new accept
        else:
            by_worker[worker] = client
        if len(by_worker) == workers:
            break
    for client in spare:
        client.close()
    assert len(by_worker) == workers, "connections never reached every worker"
    return list(by_worker.values())


@pytest.mark.slow
def test_workers_share_tasks_and_a_reused_taskuuid_conflicts(tmp_path: Path) -> None:
    with server(tmp_path / "mock.db", "--workers", "2", "--job-seconds", "0.5") as (_, base):
        one, two = pinned_clients(base, 2)
        try:
            task = new_task(duration=3)
            assert one.post("/v1", json=[task]).status_code == 200
            items = eventually(lambda: done(poll(two, task["taskUUID"])), 15)
            assert items, poll(two, task["taskUUID"]).json()
            assert two.get(items[0]["videoURL"]).status_code == 200
            # The signature verifies in whichever worker answers a plain download.
            assert (
                httpx.get(items[0]["videoURL"], headers={"Connection": "close"}).status_code == 200
            )
            assert two.post("/v1", json=[task]).json()["errors"][0]["code"] == "conflictTaskUUID"
            # The same taskUUIDs sent to both workers at once: each is accepted exactly once.
            assert_accepted_once((one, two), [new_task(duration=3) for _ in range(30)])

            # A WebSocket session is the worker's that holds the connection: it gets the push.
            with connect(base.replace("http", "ws") + "/v1") as ws:
                ws.send(json.dumps([{"taskType": "authentication", "apiKey": "k"}]))
                json.loads(ws.recv(timeout=10))
                pushed = new_task(duration=3)
                ws.send(json.dumps([pushed]))
                frames = [json.loads(ws.recv(timeout=10)) for _ in range(2)]
            assert frames[1]["data"][0]["status"] == "success"
            assert frames[1]["data"][0]["taskUUID"] == pushed["taskUUID"]
        finally:
            one.close()
            two.close()


@pytest.mark.anyio
async def test_a_store_file_is_shared_by_two_stores_in_one_process(tmp_path: Path) -> None:
    first = open_store(f"sqlite:{tmp_path / 'shared.db'}")
    second = open_store(f"sqlite:{tmp_path / 'shared.db'}")
    try:
        assert await first.add_task(record(1, webhook=True), [video(1)])
        assert not await second.add_task(record(1), [])
        assert await second.get_video(OWNER, video_uuid(1)) == video(1)
        assert await second.claim_completion(OWNER, record(1).task_uuid, "a")
        assert not await first.claim_completion(OWNER, record(1).task_uuid, "b")
    finally:
        await first.close()
        await second.close()


@pytest.mark.runware_mock(sweep_seconds=0.1)
def test_background_loops_survive_store_failures(
    socket_mock: MockHandle, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The store fails the first claims and sweeps (a full disk): the failures are logged
    (the repeats of one kind once per interval, with their count), the completion is tried
    again, and both loops go on: every webhook arrives, and the sweep runs again.

    (The tasks keep the default TTL: a TTL as short as the claim's retry raced it, and a task
    that expired before its retry never delivered, under load.)"""
    store = socket_mock.server.store
    failing = {"claim_completion": 2, "sweep": 3}
    succeeded = {"claim_completion": 0, "sweep": 0}

    def flaky(name: str) -> Any:
        real = getattr(store, name)

        async def call(*args: Any) -> Any:
            if failing[name]:
                failing[name] -= 1
                raise StoreUnavailable("database or disk is full")
            result = await real(*args)
            succeeded[name] += 1
            return result

        return call

    for name in failing:
        monkeypatch.setattr(store, name, flaky(name))
    with caplog.at_level(logging.WARNING), Receiver() as hooks:
        tasks = [new_task(webhookURL=f"{hooks.url}/hook") for _ in range(4)]
        for task in tasks:
            assert socket_mock.post([task]).status_code == 200
        settled = eventually(lambda: len(hooks.received) >= 4 and succeeded["sweep"] >= 1, 30)
        assert settled, (len(hooks.received), succeeded)
    assert failing == {"claim_completion": 0, "sweep": 0}
    got = sorted(json.loads(r.body)["data"][0]["taskUUID"] for r in hooks.received)
    assert got == sorted(t["taskUUID"] for t in tasks)  # the failed claims were retried
    assert succeeded["claim_completion"] == 4  # each task claimed once, after its failure
    text = caplog.text
    # Two claims failed within one interval: one line (the second is counted in the next).
    assert text.count("storage unavailable claiming task") == 1, text
    assert text.count("sweep: storage unavailable") == 3  # one line each, no traceback
    assert "Traceback" not in text


@pytest.mark.anyio
@pytest.mark.parametrize("counted", [True, False], ids=["set_results", "results_json"])
async def test_memory_store_bounds_results_not_only_tasks(counted: bool) -> None:
    """Memory grows with results (a task of 20 costs about eight of 1): at most max_results
    are held, oldest task first out, and dropping or expiring tasks gives them back. The
    count is the same whether the record says it (the engine's set_results) or not."""
    store = MemoryStore(Limits(max_tasks=1000, max_results=100))

    def big(n: int) -> TaskRecord:
        task = record(n, expires_at=50.0 if n % 2 else 100.0)
        items = [{"taskUUID": task.task_uuid, "videoUUID": video_uuid(n * 100 + i)}
                 for i in range(20)]  # fmt: skip
        if counted:
            task.set_results(items)
        else:
            task.results_json = orjson.dumps(items).decode()
        return task

    for n in range(50):
        assert await store.add_task(big(n), [video(n * 100 + i) for i in range(20)])
        assert store.results <= 100 and len(store.videos) <= 100
    assert len(store.tasks) == 5 and store.results == 100
    oldest = big(45)
    assert next(iter(store.tasks)) == (oldest.owner, oldest.task_uuid)
    await store.drop_task(oldest.owner, oldest.task_uuid)
    assert store.results == 80
    await store.sweep(60.0)  # 47 and 49 expire
    assert len(store.tasks) == 2 and store.results == 40
    for n in range(50, 70):
        await store.add_task(record(n), [video(n)])  # small ones: more of them fit
    assert len(store.tasks) == 22 and store.results == 60


def test_a_requests_store_deadline_is_its_seconds_from_now_and_moves_on_each_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One request's store calls share one deadline, ``seconds`` from when it began; each
    answer from the store moves it ``seconds`` past that moment; outside a request there is
    none (the background loops' calls each get the whole timeout)."""
    from mockserver.store import protocol

    now = [100.0]
    monkeypatch.setattr(protocol, "time", SimpleNamespace(monotonic=lambda: now[0]))
    assert protocol.request_time_left() is None and protocol.time_left(2.0) == 2.0
    with request_deadline(2.0) as answered:
        assert protocol.request_time_left() == 2.0
        now[0] = 101.5
        assert protocol.request_time_left() == protocol.time_left(9.0) == 0.5
        answered()
        assert protocol.request_time_left() == 2.0
        now[0] = 104.0
        assert protocol.request_time_left() == -0.5  # past it: the next call is refused
    assert protocol.request_time_left() is None


@pytest.mark.anyio
async def test_a_reset_forgets_every_task_video_and_upload(store: Store) -> None:
    await store.add_task(record(1, webhook=True), [video(1)])
    await store.add_image(ImageRecord("an-upload", OWNER, b"x", "image/png", None))
    assert await store.counts() == {"tasks": 1, "videos": 1, "images": 1}
    await store.reset()
    assert await store.counts() == {"tasks": 0, "videos": 0, "images": 0}
    assert await store.get_task(OWNER, record(1).task_uuid) is None
    assert await store.pending_completions() == []
    assert await store.add_task(record(1), [])  # its taskUUID free again


@pytest.mark.anyio
async def test_a_lone_task_over_the_result_caps_is_kept_until_another_arrives() -> None:
    """The newest task is never evicted for its own size (its client has just been told it
    was accepted): a task of more results or bytes than the caps stays alone, and goes when
    the next one comes."""
    one = len(record(0).results_json)
    store = MemoryStore(Limits(max_results=2, max_result_bytes=3 * one))
    big = record(1)
    big.set_results([{"taskUUID": big.task_uuid, "videoUUID": video_uuid(n)} for n in range(3)])
    assert await store.add_task(big, [])
    assert list(store.tasks) == [(OWNER, big.task_uuid)] and store.results == 3
    assert await store.add_task(record(2), [])
    assert list(store.tasks) == [(OWNER, record(2).task_uuid)] and store.results == 1


@pytest.mark.anyio
async def test_results_exactly_at_the_byte_cap_are_all_kept() -> None:
    one = len(record(0).results_json)  # every record(n) has results of the same length
    store = MemoryStore(Limits(max_result_bytes=3 * one))
    for n in range(3):
        assert await store.add_task(record(n), [])
    assert len(store.tasks) == 3 and store.result_bytes == 3 * one
    assert await store.add_task(record(3), [])  # one byte over: the oldest goes
    assert [t for _, t in store.tasks] == [record(n).task_uuid for n in (1, 2, 3)]


@pytest.mark.anyio
async def test_an_upload_stored_again_under_its_uuid_counts_its_new_size_once() -> None:
    store = MemoryStore(Limits(max_images=10, max_image_bytes=1000))

    def image(name: str, size: int | None) -> ImageRecord:
        data = None if size is None else b"x" * size
        return ImageRecord(name, OWNER, data, "image/png", None)

    await store.add_image(image("a", 400))
    await store.add_image(image("a", 700))  # replaced: 700 held, not 1100
    assert await store.get_image("a", OWNER) is not None
    await store.add_image(image("url-only", None))  # no bytes held for a URL-only upload
    await store.add_image(image("b", 300))  # 1000: exactly the cap
    assert [await store.get_image(n, OWNER) is not None for n in ("a", "url-only", "b")] == [
        True
    ] * 3
    await store.add_image(image("b", 301))  # one byte over: the oldest goes
    assert await store.get_image("a", OWNER) is None
    assert await store.get_image("b", OWNER) is not None


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["tasks", "videos"])
async def test_a_sweep_yields_once_per_slice_of_its_work_and_reads_the_clock_per_chunk(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a clock that charges each forgotten record 1/180 of ``SWEEP_SLICE``, a sweep of
    2,000 expired records lets the loop run after every 200 (the first clock reading past a
    slice, read every ``SWEEP_CHUNK`` = 50 records), and reads the clock no more than that."""
    from mockserver.store import memory

    store = MemoryStore(Limits(max_tasks=10_000, max_results=10_000))
    count = 2000
    for n in range(count):
        task_at, video_at = (10.0, 1000.0) if kind == "tasks" else (1000.0, 10.0)
        assert await store.add_task(record(n, expires_at=task_at), [video(n, video_at)])
    if kind == "videos":  # the tasks stay; only their videos' time has come
        held = len(store.videos)
    reads: list[int] = []
    yields: list[int] = []

    def forgotten() -> int:
        return count - len(store.tasks) if kind == "tasks" else held - len(store.videos)

    def perf_counter() -> float:
        reads.append(forgotten())
        return forgotten() * memory.SWEEP_SLICE / 180

    async def sleep(seconds: float) -> None:
        yields.append(forgotten())
        await asyncio.sleep(seconds)

    monkeypatch.setattr(memory, "time", SimpleNamespace(perf_counter=perf_counter))
    monkeypatch.setattr(memory, "asyncio", SimpleNamespace(sleep=sleep))
    await store.sweep(now=20.0)
    assert forgotten() == count
    assert yields == list(range(200, count + 1, 200))
    assert len(reads) == 1 + count // memory.SWEEP_CHUNK + len(yields)


@pytest.mark.anyio
async def test_a_large_memory_sweep_lets_the_loop_run_and_misses_nothing_changed_meanwhile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Forgetting many expired tasks must not freeze the event loop (the server sweeps every
    5 s, with up to 1,000,000 tasks held): the sweep yields between slices of work. What the
    loop does meanwhile is respected: a task added, dropped or re-added under the same
    taskUUID with a later expiry while the sweep is suspended is kept or forgotten exactly as
    its own expiry says, and its results are counted once."""
    monkeypatch.setattr("mockserver.store.memory.SWEEP_SLICE", 0.0)  # yield at every chunk
    store = MemoryStore(Limits(max_tasks=10_000, max_results=20_000))
    for n in range(3000):
        assert await store.add_task(record(n, expires_at=10.0 + n / 1000), [video(n, 10.0)])
    ran_during_sweep: list[int] = []

    async def meanwhile() -> None:
        await asyncio.sleep(0)
        ran_during_sweep.append(len(store.tasks))
        await store.drop_task(OWNER, record(2999).task_uuid)  # not yet reached by the sweep
        assert await store.add_task(record(2999, expires_at=500.0), [])  # re-added, later
        assert await store.add_task(record(5000, expires_at=11.0), [video(5000, 11.0)])
        assert await store.add_task(record(5001, expires_at=400.0), [video(5001, 400.0)])

    await asyncio.gather(store.sweep(now=20.0), meanwhile())
    assert ran_during_sweep and 0 < ran_during_sweep[0] < 3000  # in the middle of the sweep
    await store.sweep(now=20.0)  # 5000 was added behind the first sweep's walk, perhaps
    kept = sorted(task_uuid for _, task_uuid in store.tasks)
    assert kept == [record(2999).task_uuid, record(5001).task_uuid]
    assert store.results == 2 and set(store.videos) == {(OWNER, video_uuid(5001))}
    await store.sweep(now=450.0)
    assert [task_uuid for _, task_uuid in store.tasks] == [record(2999).task_uuid]
    await store.sweep(now=500.0)  # exactly at its expiry: gone
    assert not store.tasks and not store.videos and store.results == 0


def test_a_store_failure_fails_only_its_task(
    mock: MockHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write the store refuses is a 503 storageUnavailable for that task, in Runware's
    shape; the other tasks of the batch are still accepted."""
    store = mock.server.store
    real = store.add_task

    async def add_task(record: TaskRecord, videos: Any) -> bool:
        if record.task_uuid == doomed["taskUUID"]:
            raise StoreUnavailable("database or disk is full")
        return await real(record, videos)

    monkeypatch.setattr(store, "add_task", add_task)
    fine, doomed = new_task(), new_task()
    both = mock.post([fine, doomed])
    assert both.status_code == 200
    assert [d["taskUUID"] for d in both.json()["data"]] == [fine["taskUUID"]]
    (failure,) = both.json()["errors"]
    assert failure["code"] == "storageUnavailable" and failure["taskUUID"] == doomed["taskUUID"]
    alone = mock.post([doomed])
    assert alone.status_code == 503 and alone.json()["errors"][0]["code"] == "storageUnavailable"


def test_the_server_takes_the_stores_secret_into_its_own_copy_of_the_config(
    tmp_path: Path,
) -> None:
    """Workers over one file sign media alike, and the caller's config is left as it was."""
    spec = f"sqlite:{tmp_path / 'mock.db'}"
    config = MockConfig(store=spec)
    own = config.media_secret
    with (
        InProcessMock(MockServer(MockConfig(store=spec))) as first,
        InProcessMock(MockServer(config)) as second,
    ):
        assert config.media_secret == own
        assert second.server.config.media_secret == first.server.config.media_secret != own


# ── SQLite off the event loop; a damaged file; one deadline per request ─────


@pytest.mark.anyio
async def test_sqlite_writes_wait_for_a_lock_off_the_loop_and_never_commit_late(
    tmp_path: Path,
) -> None:
    """Another process holds the write lock: the write waits on its thread (the loop runs
    on, reads answer), fails after the store timeout naming the lock, and does not commit
    once the lock is released."""
    path = tmp_path / "mock.db"
    store = SqliteStore(str(path), timeout=0.5)
    holder = sqlite3.connect(path, isolation_level=None)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beat = asyncio.get_running_loop().create_task(ticker())
    try:
        assert await store.add_task(record(1), [])
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="locked by another process"):
            await store.add_task(record(2), [])
        waited = time.monotonic() - started
        assert 0.4 < waited < 2.0, waited
        assert ticks >= 10, ticks  # the loop was free while the write waited
        assert await store.get_task(OWNER, record(1).task_uuid) is not None  # reads go on
        holder.execute("ROLLBACK")
        await asyncio.sleep(0.2)
        assert await store.get_task(OWNER, record(2).task_uuid) is None  # refused: not kept
        assert await store.add_task(record(2), [])
    finally:
        beat.cancel()
        holder.close()
        await store.close()


@pytest.mark.anyio
async def test_sqlite_writes_run_on_the_loop_when_uncontended_and_on_their_thread_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An uncontended write is made on the event loop at once (no hop to the writes' thread:
    the coroutine finishes at its first step), and the WAL those writes grow is
    checkpointed into the database file. A write that finds the lock held by another
    connection for a moment neither fails nor blocks the loop: it waits on the thread and
    commits once the lock is released."""
    from mockserver.http.rest import completed

    monkeypatch.setattr("mockserver.store.sqlite.CHECKPOINT_EVERY", 5)
    path = tmp_path / "mock.db"
    store = SqliteStore(str(path), timeout=2.0)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        empty = path.stat().st_size
        for n in range(4):
            assert completed(store.add_task(record(n, webhook=True), [video(n)]))
        assert completed(store.claim_completion(OWNER, record(1).task_uuid, "a"))  # the 5th
        assert not completed(store.claim_completion(OWNER, record(1).task_uuid, "b"))
        for n in range(4, 20):
            assert completed(store.add_task(record(n, webhook=True), [video(n)]))
        assert eventually(lambda: path.stat().st_size > empty, timeout=10)  # checkpointed
        holder.execute("BEGIN IMMEDIATE")
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, holder.execute, "ROLLBACK")  # runs only if the loop is free
        started = time.monotonic()
        assert await store.add_task(record(30), [])
        assert 0.25 < time.monotonic() - started < 1.9
        assert await store.get_task(OWNER, record(30).task_uuid) is not None
        assert (await store.counts())["tasks"] == 21
    finally:
        holder.close()
        await store.close()


class SqliteClock:
    """The SQLite store's monotonic clock, moved by the test (time.time stays real)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    time = staticmethod(time.time)


@pytest.fixture
def sqlite_clock(monkeypatch: pytest.MonkeyPatch) -> SqliteClock:
    from mockserver.store import sqlite

    clock = SqliteClock()
    monkeypatch.setattr(sqlite, "time", clock)
    return clock


def on_the_loop(write: Any) -> bool:
    """Whether a store write finished on the event loop at once (not sent to the thread)."""
    from mockserver.http.rest import completed

    try:
        completed(write)
    except RuntimeError:
        return False
    return True


@pytest.mark.anyio
async def test_after_meeting_another_process_lock_writes_go_to_the_thread_for_twice_the_timeout(
    tmp_path: Path, sqlite_clock: SqliteClock
) -> None:
    """A write that found the lock held by another process sends the writes after it to the
    thread (where they may wait for it) for twice the store timeout, then back on the loop."""
    path = tmp_path / "mock.db"
    store = SqliteStore(str(path), timeout=0.25)  # (times in binary fractions: exact)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        assert on_the_loop(store.add_task(record(1), []))
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailable, match="locked by another process"):
            # met the lock (on the loop, then on the thread for the timeout)
            await asyncio.wait_for(store.add_task(record(2), []), 5)
        holder.execute("ROLLBACK")
        sqlite_clock.now += 0.5 - 2**-10
        late = ImageRecord("late", OWNER, b"x", "image/png", None)
        # a write that waited past its deadline in the queue, then one after the lock is gone
        with request_deadline(-1.0), pytest.raises(StoreUnavailable, match="lock another process"):
            await store.add_image(late)
        assert not on_the_loop(store.add_task(record(3), []))
        sqlite_clock.now += 2**-10  # exactly twice the timeout since
        assert on_the_loop(store.add_task(record(4), []))
        with request_deadline(-1.0), pytest.raises(StoreUnavailable, match=r"s\) behind writes"):
            await store.add_image(late)
        assert await store.get_image("late", OWNER) is None  # nothing was written
    finally:
        holder.close()
        await store.close()


async def wal_bytes_after_writes(tmp_path: Path, name: str, writes: int) -> int:
    """The WAL's size after ``writes`` tasks written on the loop, each finished at once."""
    store = SqliteStore(str(tmp_path / name))
    try:
        assert all(on_the_loop(store.add_task(record(n), [video(n)])) for n in range(writes))
        return (tmp_path / f"{name}-wal").stat().st_size
    finally:
        await store.close()


@pytest.mark.anyio
async def test_every_checkpoint_every_loop_writes_the_wal_is_checkpointed_on_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every CHECKPOINT_EVERY writes made on the loop, the loop's connection copies the WAL
    into the database there and then: every write still finishes at once (nothing waits
    on the thread), and the WAL starts again from its start instead of growing. A reader
    of another connection holding an old snapshot does not make it wait: what it cannot
    copy yet is copied by a later checkpoint."""
    from mockserver.store import sqlite

    monkeypatch.setattr(sqlite, "CHECKPOINT_EVERY", 10**9)
    unchecked = await wal_bytes_after_writes(tmp_path, "never.db", 30)
    monkeypatch.setattr(sqlite, "CHECKPOINT_EVERY", 3)
    assert await wal_bytes_after_writes(tmp_path, "every3.db", 30) < unchecked / 3

    path = tmp_path / "mock.db"
    store = SqliteStore(str(path))
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        assert on_the_loop(store.add_task(record(0), []))
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM tasks").fetchone() == (1,)  # a snapshot
        assert all(on_the_loop(store.add_task(record(n), [video(n)])) for n in range(1, 10))
        held = path.stat().st_size  # what could be copied with the snapshot held
        reader.execute("COMMIT")
        assert all(on_the_loop(store.add_task(record(n), [])) for n in range(10, 13))
        assert path.stat().st_size > held  # the rest, copied once the snapshot was let go
        assert (await store.counts())["tasks"] == 13
    finally:
        reader.close()
        await store.close()


@pytest.mark.anyio
async def test_slow_checkpoints_in_a_row_send_the_next_to_the_thread_for_a_while(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sqlite_clock: SqliteClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """SLOW_CHECKPOINTS checkpoints in a row that each held the loop over CHECKPOINT_LOOP_MAX
    (a disk whose syncs are slow; one fast one between starts the count again) send the
    checkpoints of the next SLOW_SYNC_SECONDS to the writes' thread, with one warning; the
    writes after each wait behind it there, the loop free; then the loop checkpoints
    again."""
    from mockserver.store import sqlite

    monkeypatch.setattr(sqlite, "CHECKPOINT_EVERY", 2)
    where: list[str] = []
    real = SqliteStore._checkpoint
    fast = {2}  # the 3rd checkpoint on the loop (counting from 0) is fast

    def slow(db: sqlite3.Connection) -> None:
        on_loop = threading.current_thread() is threading.main_thread()
        if on_loop and where.count("loop") not in fast:
            sqlite_clock.now += 0.01  # the time two slow syncs take
        where.append("loop" if on_loop else "thread")
        real(db)

    monkeypatch.setattr(SqliteStore, "_checkpoint", staticmethod(slow))
    store = SqliteStore(str(tmp_path / "mock.db"))
    try:
        with caplog.at_level(logging.WARNING, "mockserver"):
            writes = [on_the_loop(store.add_task(record(n), [])) for n in range(12)]
            assert writes == [True] * 12  # 6 checkpoints on the loop: slow, slow, fast, slow x3
            assert where == ["loop"] * 6
            assert on_the_loop(store.add_task(record(12), []))
            assert on_the_loop(store.add_task(record(13), []))  # the 7th: to the thread
        assert eventually(lambda: where == ["loop"] * 6 + ["thread"], 10)
        warned = [r.getMessage() for r in caplog.records if "WAL checkpoint" in r.getMessage()]
        assert len(warned) == 1 and "3 WAL checkpoints in a row" in warned[0], warned
        # Its end reaches the loop only on the loop's next turn: until then writes go there.
        assert not on_the_loop(store.add_task(record(14), []))
        await asyncio.sleep(0.05)
        sqlite_clock.now += sqlite.SLOW_SYNC_SECONDS
        assert [on_the_loop(store.add_task(record(n), [])) for n in (15, 16)] == [True, True]
        assert where == ["loop"] * 6 + ["thread", "loop"]
    finally:
        await store.close()


@pytest.mark.anyio
async def test_uploads_sweeps_and_resets_never_write_on_the_event_loop(tmp_path: Path) -> None:
    """An upload (up to megabytes), a sweep and a reset may take long: they always go to the
    writes' thread, even on an uncontended file where a task is written on the loop; and
    closing the store waits for what the thread still has to write."""
    path = tmp_path / "mock.db"
    store = SqliteStore(str(path))
    upload = ImageRecord("an-upload", OWNER, b"x" * 100_000, "image/png", None)
    assert on_the_loop(store.add_task(record(1), []))
    for write in (store.sweep(0.0), store.reset()):
        on_thread = eagerly(write)  # None: it finished at once, on the loop
        assert on_thread is not None
        await on_thread
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # the upload waits on the thread for 0.3 s
    threading.Timer(0.3, holder.execute, ["ROLLBACK"]).start()
    assert not on_the_loop(store.add_image(upload))  # left to the thread, not awaited
    await store.close()  # returns once the upload is written
    holder.close()
    again = SqliteStore(str(path))
    try:
        kept = await again.get_image("an-upload", OWNER)
        assert kept is not None and kept.data == upload.data
    finally:
        await again.close()


@pytest.mark.anyio
async def test_a_short_sqlite_file_is_damage_only_when_seen_again_half_a_second_later(
    tmp_path: Path, sqlite_clock: SqliteClock
) -> None:
    """A checkpoint of another process may show a short file for a moment: a file is
    called damaged when it still looks wrong 0.5 s after it was first seen so, and a file
    that looked right in between starts the wait again."""
    path = tmp_path / "mock.db"
    store = SqliteStore(str(path))
    whole = path.read_bytes()
    try:
        path.write_bytes(whole[:50])
        assert store.problem() is None  # first seen
        sqlite_clock.now += 0.499
        assert store.problem() is None
        path.write_bytes(whole)
        sqlite_clock.now += 0.001
        assert store.problem() is None  # right again: the wait starts over
        path.write_bytes(whole[:50])
        assert store.problem() is None
        sqlite_clock.now += 0.5
        problem = store.problem()
        assert problem is not None and "not an SQLite database" in problem
    finally:
        await store.close()


@pytest.mark.anyio
async def test_a_damaged_sqlite_file_is_reported_and_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "mock.db"
    store = SqliteStore(str(path))
    try:
        assert await store.add_task(record(1), [])
        assert store.problem() is None
        os.truncate(path, 50)
        store.problem()  # seen once: a checkpoint may show a short file for a moment
        time.sleep(0.6)
        problem = store.problem()
        assert problem is not None and "not an SQLite database" in problem
        with pytest.raises(StoreUnavailable, match="not an SQLite database"):
            await store.add_task(record(2), [])
    finally:
        await store.close()


def sqlite_header(page_size: int, pages: int, counted: bool = True) -> bytes:
    """The first 100 bytes of an SQLite file of ``pages`` pages of ``page_size`` (1: 65536);
    ``counted``: the change counter matches the version-valid-for field, so the page count
    is to be believed."""
    header = bytearray(100)
    header[:16] = b"SQLite format 3\x00"
    header[16:18] = page_size.to_bytes(2, "big")
    header[24:28] = (7).to_bytes(4, "big")
    header[28:32] = pages.to_bytes(4, "big")
    header[92:96] = (7 if counted else 6).to_bytes(4, "big")
    return bytes(header)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (sqlite_header(4096, 3) + bytes(3 * 4096 - 100), None),  # exactly its pages
        (sqlite_header(4096, 3) + bytes(3 * 4096 - 101), "truncated: 12287 bytes of 12288"),
        (sqlite_header(1, 1) + bytes(65536 - 100), None),  # a page size of 1 means 65536
        (sqlite_header(1, 1) + bytes(4096 - 100), "truncated: 4096 bytes of 65536"),
        (sqlite_header(4096, 3, counted=False) + bytes(100), None),  # count not to be believed
        (sqlite_header(4096, 1)[:99], "not an SQLite database any more (99 bytes)"),
        (sqlite_header(4096, 1)[:100], "truncated: 100 bytes of 4096"),  # a whole header
        (b"PostgreSQL".ljust(4096, b"\x00"), "not an SQLite database any more (4096 bytes)"),
    ],
    ids=["whole", "short-by-one", "64k-whole", "64k-short", "uncounted", "99-bytes",
         "100-bytes", "other-file"],
)  # fmt: skip
def test_a_damaged_sqlite_file_is_told_apart_by_its_header(
    tmp_path: Path, content: bytes, problem: str | None
) -> None:
    path = tmp_path / "mock.db"
    path.write_bytes(content)
    found = file_problem(str(path))
    assert found == problem if problem is None else problem in (found or ""), found


def test_a_missing_or_unreadable_sqlite_file_is_said_so(tmp_path: Path) -> None:
    assert file_problem(str(tmp_path / "gone.db")) == "the database file is gone"
    unreadable = file_problem(str(tmp_path))  # a folder: open() fails with an OSError
    assert unreadable is not None and unreadable.startswith("the database file cannot be read")


@pytest.mark.anyio
async def test_a_full_sqlite_file_refuses_a_task_as_storage_unavailable(tmp_path: Path) -> None:
    """A disk that fills up (the file capped at the pages it has) refuses the write as the
    store's own failure, which the app answers 503, not as SQLite's exception (a 500)."""
    store = SqliteStore(str(tmp_path / "mock.db"), max_pages=1)
    try:
        big = record(1)
        big.set_results([{"taskUUID": big.task_uuid, "blob": "x" * 200_000}])
        with pytest.raises(StoreUnavailable, match="full"):
            await store.add_task(big, [])
        assert await store.get_task(OWNER, big.task_uuid) is None  # nothing of it kept
    finally:
        await store.close()


def test_after_a_store_failure_the_rest_of_the_batch_fails_at_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The first task's insert fails: the others of the batch are not tried (each would
    wait out the timeout on a dead store); they get the same 503, logged once."""
    from mockserver.core.engine import RequestContext
    from mockserver.http.rest import completed

    server = MockServer(MockConfig())
    calls = 0

    async def dead(*args: Any) -> bool:
        nonlocal calls
        calls += 1
        raise StoreUnavailable("Redis did not answer")

    monkeypatch.setattr(server.store, "add_task", dead)
    tasks = [new_task() for _ in range(5)]
    ping = {"taskType": "ping", "ping": True}
    ctx = RequestContext(api_key="k", base_url="http://127.0.0.1")
    with caplog.at_level(logging.WARNING):
        reply = completed(server.engine.handle([*tasks, ping], ctx))
    assert calls == 1
    assert [e["code"] for e in reply.errors] == ["storageUnavailable"] * 5
    assert [e["taskUUID"] for e in reply.errors] == [t["taskUUID"] for t in tasks]
    assert "Redis did not answer" in reply.errors[0]["message"]
    assert reply.data == [{"taskType": "ping", "pong": True}]  # needs no store
    assert caplog.text.count("storage unavailable") == 1


@pytest.mark.anyio
async def test_memory_store_bounds_result_bytes_and_forgets_image_files() -> None:
    """Images delivered inline (base64Data, dataURI) carry their files in the results: at most
    max_result_bytes of results are held, oldest task first out, and a forgotten task's image
    records go with it (its items name them by imageUUID)."""
    store = MemoryStore(Limits(max_result_bytes=50_000))

    def inline(n: int) -> TaskRecord:
        task = record(n)
        task.set_results([{"taskUUID": task.task_uuid, "imageUUID": video_uuid(n),
                           "imageBase64Data": "A" * 20_000}])  # fmt: skip
        return task

    for n in range(5):
        assert await store.add_task(inline(n), [video(n)])
        assert store.result_bytes <= 50_000
    assert len(store.tasks) == 2 and len(store.videos) == 2  # 0-2 forgotten, files too
    assert {v for _, v in store.videos} == {video_uuid(3), video_uuid(4)}
    last = inline(4)
    await store.drop_task(last.owner, last.task_uuid)
    assert store.result_bytes == len(inline(3).results_json)
