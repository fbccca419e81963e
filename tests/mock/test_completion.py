"""Completion with a shared schedule (Redis): a task is marked finished when its last delivery
has an outcome, not before (a lease that ran out while a delivery was still going would have it
delivered twice) and not never (it would be delivered again each time its lease runs out).

And, in process on a clock the test moves, what completion does when the store fails: the
same claimant asks again, each retry waits longer up to the cap (within the jitter's quarter),
a task already being completed is not taken twice, a recovered task waits its grace, and an
upload waits for a render slot."""

from __future__ import annotations

import asyncio
import random
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import redis as redis_client

from mockserver import MockConfig
from mockserver.lifecycle.completion import Completion, retry_after
from mockserver.lifecycle.scheduler import Callback, Scheduler
from mockserver.media.rendering import RenderBusy
from mockserver.store import StoreUnavailable, TaskRecord, VideoRecord
from mockserver.testing import serve
from tests.helpers import Receiver, RedisServer, answer, eventually, new_task, redis_server

KEY = "completion-key"
LEASE = 1.0  # seconds a claim is held unfinished


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as server:
        yield server


def test_the_last_delivery_marks_the_task_finished(redis: RedisServer) -> None:
    held = threading.Event()

    def third_waits(receiver: Receiver, handler: Any, attempt: int) -> int | None:
        if attempt == 3:  # the last result's webhook: held until the test lets it go
            held.set()
            receiver.release.wait(30)
            handler.close_connection = True
            return None  # no answer: delivered again
        return answer(200)(receiver, handler, attempt)

    config = MockConfig(
        api_keys=frozenset({KEY}),
        store=f"{redis.url}?lease={LEASE}",
        clock=time.time,
        job_seconds=0.1,
        webhook_backoff_seconds=0.1,
    )
    client = redis_client.Redis.from_url(redis.url)
    with Receiver(third_waits) as hook, serve(config, api_key=KEY) as running:
        task = new_task(numberResults=3, webhookURL=hook.hook)
        assert running.client.post("/v1", json=[task]).status_code == 200
        owner = running.server.config.owner_of(KEY)
        claim = f"rwm:claim:{owner}:{task['taskUUID']}"

        def finished() -> bool:
            return client.get(claim) == b"done" or client.pttl(claim) > LEASE * 1000

        hook.wait_for(2)
        assert held.wait(10)
        assert not finished()  # a delivery is still going
        hook.release.set()
        hook.wait_for(3)
        assert eventually(finished, 10), (client.get(claim), client.pttl(claim))
        assert client.zscore("rwm:due", f"{owner}:{task['taskUUID']}") is None
    client.close()


# In process, on a clock the test moves: what completion does when the store fails, exactly.
# The store below keeps Redis's claim semantics (a lease held by one claimant; asking again
# as the same claimant is answered yes) and fails on the calls a test tells it to.


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Timeline(Scheduler):
    """The real scheduler, also remembering when each callback was asked for."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock)
        self.asked: list[float] = []
        self.waiting: list[float] = []

    def at(self, due: float, callback: Callback) -> None:
        self.asked.append(due)
        self.waiting.append(due)
        super().at(due, callback)

    def run_due(self) -> int:
        now = self.clock()
        self.waiting = [due for due in self.waiting if due > now]
        return super().run_due()


class FlakyStore:
    """Claims as Redis does; ``fail[name]`` calls of ``name`` raise ``StoreUnavailable``
    (a claim's after it was recorded: its answer was lost)."""

    def __init__(self, shared_schedule: bool = True) -> None:
        self.shared_schedule = shared_schedule
        self.holder: dict[str, str] = {}
        self.claims: list[str] = []
        self.finished: list[str] = []
        self.fail: dict[str, int] = {"claim": 0, "finish": 0, "get_video": 0}
        self.videos: dict[str, VideoRecord] = {}

    def _failing(self, name: str) -> bool:
        if self.fail[name] > 0:
            self.fail[name] -= 1
            return True
        return False

    async def claim_completion(self, owner: str, task_uuid: str, claimant: str) -> bool:
        assert isinstance(claimant, str) and claimant
        self.claims.append(claimant)
        mine = self.holder.setdefault(task_uuid, claimant) == claimant
        if self._failing("claim"):
            raise StoreUnavailable("connection lost before the answer")
        return mine

    async def finish_completion(self, owner: str, task_uuid: str) -> None:
        if self._failing("finish"):
            raise StoreUnavailable("connection refused")
        self.finished.append(task_uuid)

    async def get_video(self, owner: str, video_uuid: str) -> VideoRecord | None:
        if self._failing("get_video"):
            raise StoreUnavailable("connection refused")
        return self.videos.get(video_uuid)


class Pushes:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def push(self, session_id: str, body: dict[str, Any]) -> None:
        self.sent.append(body)


class Deliveries:
    """Takes deliveries and holds them; the test says when each has its outcome."""

    def __init__(self) -> None:
        self.hooks: list[tuple[dict[str, Any], Any]] = []
        self.uploads: list[tuple[Callable[[], Awaitable[bytes]], str, Any]] = []

    def webhook(self, url: str, task_uuid: str, body: dict[str, Any], done: Any = None) -> None:
        self.hooks.append((body, done))

    def upload(
        self,
        url: str,
        task_uuid: str,
        content: Callable[[], Awaitable[bytes]],
        media_type: str,
        done: Any = None,
    ) -> None:
        self.uploads.append((content, media_type, done))


class BusyRenders:
    """Renders as ``MediaFiles`` does while every render slot and queue place is taken: a
    request that does not wait gets ``RenderBusy``; one that waits gets its file when a slot
    frees (``free``)."""

    def __init__(self) -> None:
        self.free = asyncio.Event()

    async def get(self, media: Any, *, wait: bool = False) -> bytes:
        if not wait:
            raise RenderBusy(3)
        await self.free.wait()
        return b"video bytes"


def record_of(**changes: Any) -> TaskRecord:
    fields: dict[str, Any] = {
        "task_uuid": str(uuid.uuid4()),
        "task_type": "videoInference",
        "owner": "owner",
        "created": 1000.0,
        "ready_at": 1005.0,
        "results_json": '[{"taskUUID": "t", "videoUUID": "v1", "status": "success"}]',
        "expires_at": 5000.0,
        "session_id": "session",
    }
    fields.update(changes)
    return TaskRecord(**fields)


class Harness:
    def __init__(self, store: FlakyStore, media: Any = None) -> None:
        self.clock = Clock()
        self.scheduler = Timeline(self.clock)
        self.store = store
        self.relay = Pushes()
        self.completion = Completion(
            MockConfig(clock=self.clock),
            cast(Any, store),
            self.scheduler,
            cast(Any, self.relay),
            cast(Any, media),
        )
        self.deliveries = Deliveries()
        self.completion.deliverer = cast(Any, self.deliveries)

    async def settle(self) -> None:
        for _ in range(20):  # the tasks run_due started, and the tasks they start
            await asyncio.sleep(0)

    async def run_next(self) -> float:
        """Move the clock to the next callback asked for, run it; the wait before it."""
        due = min(self.scheduler.waiting)
        wait = due - self.clock.now
        self.clock.now = due
        assert self.scheduler.run_due() >= 1
        await self.settle()
        return wait


EXPECTED_WAITS = [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]  # COMPLETION_RETRY doubling to the cap


@pytest.mark.parametrize("failing", ["claim", "finish"])
def test_a_store_failing_again_and_again_is_retried_later_each_time_up_to_the_cap(
    failing: str,
) -> None:
    async def run() -> list[float]:
        store = FlakyStore()
        store.fail[failing] = len(EXPECTED_WAITS)
        harness = Harness(store)
        record = record_of()
        harness.completion.schedule(record)
        assert await harness.run_next() == record.due - 1000.0  # due: the first attempt
        waits = [await harness.run_next() for _ in EXPECTED_WAITS]
        assert store.finished == [record.task_uuid]  # recorded at last
        assert len(harness.relay.sent) == 1  # and pushed once, however many claims it took
        return waits

    waits = asyncio.run(run())
    for wait, expected in zip(waits, EXPECTED_WAITS, strict=True):
        assert 0.75 * expected <= wait <= 1.25 * expected, waits


def test_a_delivery_the_store_failed_is_retried_later_each_time_until_it_is_sent() -> None:
    async def run() -> list[float]:
        store = FlakyStore()
        store.videos["v1"] = VideoRecord("v1", "MP4", 64, 64, 1, 1000.0, None)
        store.fail["get_video"] = 4  # reading the video to upload, before anything is sent
        harness = Harness(store)
        deliveries = harness.deliveries
        record = record_of(upload_endpoint="https://example.com/up")
        harness.completion.schedule(record)
        await harness.run_next()
        waits = [await harness.run_next() for _ in range(4)]
        assert len(deliveries.uploads) == 1 and len(harness.relay.sent) == 1
        return waits

    waits = asyncio.run(run())
    for wait, expected in zip(waits, EXPECTED_WAITS, strict=False):
        assert 0.75 * expected <= wait <= 1.25 * expected, waits


@pytest.mark.parametrize("draw", ["low", "high"])
def test_the_jitter_moves_each_wait_at_most_a_quarter_either_way(
    draw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the edges of the draw: exactly 0.75 and 1.25 times the wait, the cap included."""
    edge = (lambda low, high: low) if draw == "low" else (lambda low, high: high)
    monkeypatch.setattr(random, "uniform", edge)  # the draw, at its edge
    factor = 0.75 if draw == "low" else 1.25
    assert [retry_after(n) for n in range(7)] == [factor * w for w in [1, 2, 4, 8, 8, 8, 8]]


def test_a_claim_whose_answer_was_lost_is_still_ours_and_no_one_elses() -> None:
    """The retry asks as the same claimant (so the claim Redis recorded is ours), and another
    process's attempt at the same task is refused: delivered once."""

    async def run() -> None:
        store = FlakyStore()
        store.fail["claim"] = 1
        first, other = Harness(store), Harness(store)
        record = record_of()
        first.completion.schedule(record)
        await first.run_next()  # claimed, but the answer is lost
        other.clock.now = record.due
        other.completion.schedule(record)
        await other.run_next()  # another process's attempt: held
        await first.run_next()  # the retry
        assert len(store.claims) == 3 and store.claims[0] == store.claims[2] != store.claims[1]
        assert len(first.relay.sent) == 1 and other.relay.sent == []

    asyncio.run(run())


def test_a_task_being_delivered_is_not_taken_again_until_it_is_finished() -> None:
    """Shared schedule: the due poll offers the task again while its webhook is still going;
    this process does not start a second attempt then, and does once the task is finished."""

    async def run() -> None:
        store = FlakyStore()
        harness = Harness(store)
        deliveries = harness.deliveries
        record = record_of(webhook_url="https://example.com/hook")
        harness.completion.schedule(record)
        await harness.run_next()
        assert len(deliveries.hooks) == 1
        asked = len(harness.scheduler.asked)
        harness.completion.schedule(record)  # the due poll, while the webhook is going
        assert len(harness.scheduler.asked) == asked
        _, done = deliveries.hooks[0]
        done()  # the webhook has its outcome
        await harness.settle()
        assert store.finished == [record.task_uuid]
        harness.completion.schedule(record)  # offered again (a lease ran out, say): taken
        assert len(harness.scheduler.asked) == asked + 1

    asyncio.run(run())


def test_a_recovered_task_waits_the_grace_past_its_due_time() -> None:
    """A task found pending at start is claimed ``grace`` after it is due, not sooner (the
    worker holding its session claims it first) and not later."""

    async def run() -> None:
        harness = Harness(FlakyStore(shared_schedule=False))
        record = record_of()
        harness.completion.schedule(record, grace=1.5)
        assert harness.scheduler.asked == [record.due + 1.5]
        harness.clock.now = record.due + 1.5 - 0.001
        assert harness.scheduler.run_due() == 0 and harness.store.claims == []
        harness.clock.now = record.due + 1.5
        assert harness.scheduler.run_due() == 1
        await harness.settle()
        assert len(harness.store.claims) == 1 and len(harness.relay.sent) == 1

    asyncio.run(run())


def test_an_upload_waits_for_a_render_slot_instead_of_failing() -> None:
    async def run() -> None:
        store = FlakyStore(shared_schedule=False)
        store.videos["v1"] = VideoRecord("v1", "MP4", 64, 64, 1, 1000.0, None)
        renders = BusyRenders()
        harness = Harness(store, renders)
        deliveries = harness.deliveries
        harness.completion.schedule(record_of(upload_endpoint="https://example.com/up"))
        await harness.run_next()
        [(content, media_type, _)] = deliveries.uploads
        assert media_type == "video/mp4"
        reading = asyncio.ensure_future(content())  # the deliverer reads it when it sends
        await harness.settle()
        assert not reading.done()  # waiting its turn, not failed with RenderBusy
        renders.free.set()
        assert await reading == b"video bytes"

    asyncio.run(run())


def test_a_task_is_finished_when_its_last_delivery_of_each_kind_has_its_outcome() -> None:
    """Shared schedule: a webhook and an upload; finished after both, not after either."""

    async def run() -> None:
        store = FlakyStore()
        store.videos["v1"] = VideoRecord("v1", "MP4", 64, 64, 1, 1000.0, None)
        harness = Harness(store)
        record = record_of(webhook_url="https://example.com/hook", upload_endpoint="https://x/up")
        harness.completion.schedule(record)
        await harness.run_next()
        [(_, hook_done)] = harness.deliveries.hooks
        [(_, _, upload_done)] = harness.deliveries.uploads
        hook_done()
        await harness.settle()
        assert store.finished == []  # the upload is still going
        upload_done()
        await harness.settle()
        assert store.finished == [record.task_uuid]

    asyncio.run(run())
