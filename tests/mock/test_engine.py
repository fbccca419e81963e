"""The engine's times at their exact edges, on every store, with the mock's clock in the test's
hands: a task is polled until the instant it expires and not at it; a video is kept until the
later of its task's expiry and its own ttl, whichever is longer."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from mockserver import MockConfig, MockServer
from mockserver.core import engine as engine_module
from mockserver.core.engine import KEY_KEPT_MAX, OWNERS_KEPT, RequestContext
from mockserver.core.scenarios import parse
from mockserver.media.image_size import image_size
from mockserver.store import open_store
from tests import helpers
from tests.helpers import new_task, png, redis_server

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


async def test_a_task_reports_its_progress_and_is_ready_at_the_instant_its_job_ends(
    server: MockServer, clock: Clock
) -> None:
    """A poll while the job runs says how far it is (the share of the job's time gone, 0 to
    99); at the instant the job ends the result is there."""
    task = new_task()
    accepted = clock.now
    assert not (await run(server, [task]))["errors"]
    for share, progress in ((0.0, 0), (0.25, 25), (0.5, 50), (0.999, 99)):
        clock.now = accepted + JOB * share
        (item,) = (await poll(server, task["taskUUID"]))["data"]
        assert (item["status"], item["progress"]) == ("processing", progress), share
    clock.now = accepted + JOB
    (item,) = (await poll(server, task["taskUUID"]))["data"]
    assert item["status"] == "success" and "progress" not in item


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


# ── what a client gets back, on the mock's clock ─────────────────────────────

NANO = "google:4@3"  # the package's image model (google_nano_banana_2), delivered sync


def image_task(**changes: Any) -> dict[str, Any]:
    return helpers.image_task(NANO, **changes)


async def test_a_sync_task_is_answered_with_its_results_the_moment_its_job_is_done(
    server: MockServer, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request waits the job's time on the mock's clock, no more and no less."""

    async def advance(seconds: float) -> None:
        clock.now += seconds

    monkeypatch.setattr(engine_module, "asyncio", SimpleNamespace(sleep=advance))
    task, accepted = image_task(), clock.now
    (item,) = (await run(server, [task]))["data"]
    assert (item["taskUUID"], item["status"]) == (task["taskUUID"], "success")
    assert clock.now == accepted + server.config.sync_job_seconds


async def answer(mock: MockServer, tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """The body a client gets for ``tasks`` (data, and errors of the request or its tasks)."""
    reply = await mock.engine.handle(tasks, RequestContext(KEY, "http://127.0.0.1:1"))
    return reply.body()


async def test_a_failure_scenario_fails_its_task_exactly_after_its_seconds(
    server: MockServer, clock: Clock
) -> None:
    """A task armed to fail after 5 s (longer than its job) is processing until then, and a
    poll at that instant gets the scenario's error for it."""
    server.scenarios.add(parse({"fail": {"code": "inferenceError", "afterSeconds": 5}}, "f"))
    task, accepted = new_task(), clock.now
    assert "errors" not in await answer(server, [task])
    getter = [{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]
    clock.now = accepted + 5 - 0.001
    assert [i["status"] for i in (await answer(server, getter))["data"]] == ["processing"]
    clock.now = accepted + 5
    (err,) = (await answer(server, getter))["errors"]
    assert (err["code"], err["taskUUID"]) == ("inferenceError", task["taskUUID"])


async def test_a_failure_sooner_than_the_job_is_due_for_delivery_when_it_fails(
    server: MockServer, clock: Clock
) -> None:
    """A task with a webhook, armed to fail after 0.5 s of its 2 s job: its failure is due
    for delivery then (the due-completions poll finds it from that instant), not when the
    job would have ended."""
    server.scenarios.add(parse({"fail": {"code": "inferenceError", "afterSeconds": 0.5}}, "f"))
    task, accepted = new_task(webhookURL="http://127.0.0.1:9/hook"), clock.now
    assert "errors" not in await answer(server, [task])
    assert await server.store.pending_completions(accepted + 0.5 - 0.001) == []
    (due,) = await server.store.pending_completions(accepted + 0.5)
    assert due.task_uuid == task["taskUUID"] and due.due == accepted + 0.5


@pytest.fixture
def memory_server(clock: Clock) -> MockServer:
    """A mock on the memory store, on ``clock``, with small render bounds."""
    config = MockConfig(
        api_keys=frozenset({KEY}), job_seconds=JOB, task_ttl_seconds=TASK_TTL, clock=clock,
        max_render_pixels=1024 * 1024, image_render_queue=0,
    )  # fmt: skip
    return MockServer(config)


def test_the_owner_table_is_bounded_in_keys_and_in_key_length(memory_server: MockServer) -> None:
    """At most OWNERS_KEPT keys are remembered (one more starts the table afresh), each of at
    most KEY_KEPT_MAX characters; a longer key still gets its owner, computed each time."""
    engine = memory_server.engine
    for n in range(OWNERS_KEPT):
        engine.owner_of(f"key-{n}")
    assert len(engine._owners) == OWNERS_KEPT
    engine.owner_of("one key more")
    assert len(engine._owners) <= OWNERS_KEPT
    longest, too_long = "k" * KEY_KEPT_MAX, "k" * (KEY_KEPT_MAX + 1)
    assert engine.owner_of(longest) == memory_server.config.owner_of(longest)
    assert engine.owner_of(too_long) == memory_server.config.owner_of(too_long)
    assert longest in engine._owners and too_long not in engine._owners


async def test_an_image_past_the_render_bound_is_refused_naming_it_and_nothing_is_kept(
    memory_server: MockServer,
) -> None:
    """max_render_pixels bounds result images, exactly: 1024x1024 is accepted, 2048x2048
    refused (maxImagePixelsExceeded on width, with its taskUUID) and never stored; a video of
    more pixels is not an image and is accepted."""
    at, past = image_task(deliveryMethod="async"), image_task(width=2048, height=2048)
    video = new_task()  # 1920x1080
    body = await answer(memory_server, [at, past, video])
    assert [i["taskUUID"] for i in body["data"]] == [at["taskUUID"], video["taskUUID"]]
    (err,) = body["errors"]
    assert (err["code"], err["parameter"], err["taskUUID"]) == (
        "maxImagePixelsExceeded", "width", past["taskUUID"],
    )  # fmt: skip
    getter = [{"taskType": "getResponse", "taskUUID": past["taskUUID"]}]
    assert (await answer(memory_server, getter))["errors"][0]["code"] == "taskNotFound"


async def test_an_inline_render_past_a_full_queue_is_refused_with_a_retry_time(
    memory_server: MockServer,
) -> None:
    """With no render waiting allowed, a second inline image while one renders gets
    renderQueueFull (its taskUUID, when to retry) and is not kept; the first is answered."""
    first, second = (
        image_task(deliveryMethod="async", outputType="base64Data", seed=n) for n in (1, 2)
    )
    done, busy = await asyncio.gather(
        answer(memory_server, [first]), answer(memory_server, [second])
    )
    assert done["data"] == [{"taskType": "imageInference", "taskUUID": first["taskUUID"]}]
    (err,) = busy["errors"]
    assert (err["code"], err["taskUUID"]) == ("renderQueueFull", second["taskUUID"])
    assert re.fullmatch(r"Too many files are being rendered; retry after \d+ s\.", err["message"])
    getter = [{"taskType": "getResponse", "taskUUID": second["taskUUID"]}]
    assert (await answer(memory_server, getter))["errors"][0]["code"] == "taskNotFound"


async def finished(mock: MockServer, clock: Clock, task: dict[str, Any]) -> list[dict[str, Any]]:
    """The items of ``task`` (sent async), once its job is done."""
    assert "errors" not in await answer(mock, [task | {"deliveryMethod": "async"}])
    clock.now += JOB
    body = await answer(mock, [{"taskType": "getResponse", "taskUUID": task["taskUUID"]}])
    assert [i["status"] for i in body["data"]] == ["success"] * len(body["data"]), body
    return list(body["data"])


async def test_inline_results_are_the_image_as_base64_or_as_a_data_uri(
    memory_server: MockServer, clock: Clock
) -> None:
    common = {"width": 512, "height": 512, "outputFormat": "PNG", "seed": 3}
    (raw,) = await finished(memory_server, clock, image_task(outputType="base64Data", **common))
    (uri,) = await finished(memory_server, clock, image_task(outputType="dataURI", **common))
    image = base64.b64decode(raw["imageBase64Data"], validate=True)
    assert image.startswith(b"\x89PNG") and image_size(image) == (512, 512)
    assert uri["imageDataURI"] == "data:image/png;base64," + raw["imageBase64Data"]


async def test_each_result_of_a_seeded_task_has_the_next_seed(
    memory_server: MockServer, clock: Clock
) -> None:
    items = await finished(memory_server, clock, image_task(seed=42, numberResults=3))
    assert [i["seed"] for i in items] == [42, 43, 44]


async def sizes(mock: MockServer, items: list[dict[str, Any]], field: str) -> list[tuple[int, int]]:
    """The width x height of each result file, as the mock renders it."""
    owner = mock.config.owner_of(KEY)
    found = []
    for item in items:
        record = await mock.store.get_video(owner, item[field])
        assert record is not None
        found.append((record.width, record.height))
    return found


async def test_a_size_left_to_the_mock_takes_the_preset_and_the_first_readable_input_image(
    memory_server: MockServer, clock: Clock
) -> None:
    """Without width and height, a result's size is the dimension row of the task's
    resolution preset whose aspect is closest to the first input image the mock can read, in
    the spec's order (an image it cannot fetch is passed over), else the preset's first row."""
    tall = base64.b64encode(png(300, 600)).decode()
    wide = base64.b64encode(png(600, 300)).decode()
    unknown = "https://images.example.com/unknown.jpg"
    cases = [
        ({"resolution": "0.5K", "inputs": {"referenceImages": [tall]}}, (384, 688)),
        ({"resolution": "0.5K", "inputs": {"referenceImages": [tall, wide]}}, (384, 688)),
        ({"resolution": "0.5K", "inputs": {"referenceImages": [unknown]}}, (512, 512)),
        (
            {"resolution": "0.5K", "inputs": {"referenceImages": [unknown]},
             "watermark": {"image": wide}},
            (688, 384),
        ),
    ]  # fmt: skip
    for changes, size in cases:
        task = image_task(**changes)
        del task["width"], task["height"]
        items = await finished(memory_server, clock, task)
        assert await sizes(memory_server, items, "imageUUID") == [size], changes


async def test_a_video_takes_its_first_frames_aspect_and_a_last_frame_alone_sets_none(
    memory_server: MockServer, clock: Clock
) -> None:
    tall = base64.b64encode(png(300, 600)).decode()
    got = []
    for frame in ("first", "last"):
        task = new_task(inputs={"frameImages": [{"image": tall, "frame": frame}]})
        del task["width"], task["height"]
        got += await sizes(memory_server, await finished(memory_server, clock, task), "videoUUID")
    assert got == [(1080, 1920), (1920, 1080)]


async def test_inline_results_and_files_fetched_by_url_share_one_render_queue(
    memory_server: MockServer, clock: Clock
) -> None:
    """The render bound is the server's, whoever asks: with no render allowed to wait, an
    inline image asked for while a result fetched by its URL renders gets renderQueueFull."""
    (linked,) = await finished(memory_server, clock, image_task(outputType="URL", seed=1))
    owner = memory_server.config.owner_of(KEY)
    record = await memory_server.store.get_video(owner, linked["imageUUID"])
    assert record is not None
    inline = image_task(deliveryMethod="async", outputType="base64Data", seed=2)
    fetched, busy = await asyncio.gather(
        memory_server.media.get(record),  # what GET on the imageURL renders
        answer(memory_server, [inline]),
    )
    assert image_size(fetched) == (1024, 1024)
    (err,) = busy["errors"]
    assert (err["code"], err["taskUUID"]) == ("renderQueueFull", inline["taskUUID"])
    assert "errors" not in await answer(memory_server, [inline])  # once it is done: rendered
