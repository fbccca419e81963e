"""The engine's times at their exact edges, on every store, with the mock's clock in the test's
hands: a task is polled until the instant it expires and not at it; a video is kept until the
later of its task's expiry and its own ttl, whichever is longer."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from mockserver import MockConfig, MockServer
from mockserver.core.engine import RequestContext
from mockserver.store import open_store
from tests.helpers import new_task, redis_server

pytestmark = pytest.mark.anyio
KEY = "engine-key"
JOB = 2.0  # seconds a task is processing
TASK_TTL = 100.0  # seconds a finished task can be polled


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def server(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> AsyncIterator[MockServer]:
    """A mock whose engine runs on each store, all on ``clock``."""
    with contextlib.ExitStack() as stack:
        spec = {"memory": "memory", "sqlite": f"sqlite:{tmp_path / 'mock.db'}"}.get(
            request.param
        ) or stack.enter_context(redis_server(tmp_path)).url
        config = MockConfig(
            api_keys=frozenset({KEY}), job_seconds=JOB, task_ttl_seconds=TASK_TTL, clock=clock
        )
        mock = MockServer(config)
        store = open_store(spec, clock=clock)
        await store.open()
        mock.store = mock.engine.store = store
        yield mock
        await store.close()


async def run(mock: MockServer, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    reply = await mock.engine.handle(tasks, RequestContext(KEY, "http://127.0.0.1:1"))
    return {"data": reply.data, "errors": reply.errors}


async def poll(mock: MockServer, task_uuid: str) -> dict[str, Any]:
    return await run(mock, [{"taskType": "getResponse", "taskUUID": task_uuid}])


async def test_a_task_is_found_until_the_instant_it_expires(
    server: MockServer, clock: Clock
) -> None:
    task = new_task()
    accepted = clock.now
    assert not (await run(server, [task]))["errors"]
    expiry = accepted + JOB + TASK_TTL
    clock.now = expiry - 0.001
    (item,) = (await poll(server, task["taskUUID"]))["data"]
    assert item["status"] == "success"
    clock.now = expiry
    (err,) = (await poll(server, task["taskUUID"]))["errors"]
    assert err["code"] == "taskNotFound"


async def video_of(server: MockServer, task: dict[str, Any]) -> tuple[str, str]:
    """The owner and videoUUID of ``task``'s one video, read back from the store."""
    owner = server.config.owner_of(KEY)
    record = await server.store.get_task(owner, task["taskUUID"])
    assert record is not None
    (item,) = orjson.loads(record.results_json)
    return owner, item["videoUUID"]


async def test_a_video_is_kept_until_the_later_of_its_task_expiry_and_its_ttl(
    server: MockServer, clock: Clock
) -> None:
    """A ttl shorter than the task's life: the video is served as expired (410) until the
    task is forgotten; a longer one: the video outlives its task until the ttl."""
    short, long = new_task(ttl=60), new_task(ttl=3600)
    ready = clock.now + JOB
    assert not (await run(server, [short, long]))["errors"]
    short_video, long_video = await video_of(server, short), await video_of(server, long)
    store = server.store

    await store.sweep(ready + 61)  # past the short ttl, before the task expires
    kept = await store.get_video(*short_video)
    assert kept is not None and kept.expires_at == ready + 60
    await store.sweep(ready + TASK_TTL)  # the task expires: the short video goes with it
    assert await store.get_video(*short_video) is None
    assert await store.get_task(short_video[0], short["taskUUID"]) is None
    outlived = await store.get_video(*long_video)  # kept past its task, until its ttl
    assert outlived is not None and outlived.forget_at == ready + 3600
    await store.sweep(ready + 3600 - 0.001)
    assert await store.get_video(*long_video) is not None
    await store.sweep(ready + 3600)
    assert await store.get_video(*long_video) is None
