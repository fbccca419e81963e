"""Webhook receivers that hang, refuse, answer 5xx or redirect: retried with backoff up to a
limit, each attempt timed out, never delaying other deliveries or REST responses."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import socket
import time

import httpx
import pytest

from mockserver.base.logs import FIELDS
from mockserver.lifecycle import delivery as delivery_module
from mockserver.lifecycle.delivery import Deliverer
from mockserver.lifecycle.targets import Allowlist
from tests.conftest import MockHandle
from tests.helpers import (
    Receiver,
    answer,
    eventually,
    hang,
    new_task,
    outcomes,
    wait_outcomes,
    wait_results,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


FAULTS = {"webhook_attempts": 3, "webhook_timeout_seconds": 1.0, "webhook_backoff_seconds": 0.05}


@pytest.mark.slow
@pytest.mark.runware_mock(**FAULTS)
def test_hanging_receiver_delays_no_other_delivery_nor_response(socket_mock: MockHandle) -> None:
    with Receiver(hang) as receiver_hang, Receiver(answer(200)) as healthy:
        stuck = new_task(webhookURL=f"{receiver_hang.url}/hang")
        fine = new_task(webhookURL=f"{healthy.url}/ok")
        assert socket_mock.post([stuck]).status_code == 200
        assert socket_mock.post([fine]).status_code == 200
        assert wait_results(socket_mock, fine["taskUUID"]).status_code == 200
        assert eventually(lambda: healthy.requests, 10)
        # The healthy receiver got its webhook and REST answered while the first delivery
        # was still hanging on its first attempt.
        assert len(receiver_hang.requests) >= 1
        assert [o["url"] for o in outcomes(socket_mock)] == [f"{healthy.url}/ok"]
        (done_fine, done_stuck) = wait_outcomes(socket_mock, 2)
    assert done_fine["ok"] is True
    assert done_stuck["ok"] is False and done_stuck["attempts"] == 3
    assert done_stuck["status"] is None and "no answer within" in done_stuck["reason"]


@pytest.mark.runware_mock(**FAULTS)
def test_refused_connections_are_retried_then_given_up(socket_mock: MockHandle) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    socket_mock.post([new_task(webhookURL=f"http://127.0.0.1:{port}/hook")])
    (outcome,) = wait_outcomes(socket_mock, 1)
    assert outcome["ok"] is False and outcome["attempts"] == 3
    assert outcome["status"] is None and outcome["reason"] == "ConnectError"


@pytest.mark.runware_mock(**FAULTS)
def test_5xx_is_retried_up_to_the_limit(socket_mock: MockHandle) -> None:
    with Receiver(answer(503)) as failing:
        socket_mock.post([new_task(webhookURL=f"{failing.url}/down")])
        (outcome,) = wait_outcomes(socket_mock, 1)
        assert len(failing.requests) == 3
    assert outcome["ok"] is False and outcome["attempts"] == 3 and outcome["status"] == 503


@pytest.mark.runware_mock(**FAULTS)
def test_redirects_are_not_followed(socket_mock: MockHandle) -> None:
    """A 3xx is a failed delivery: its Location never passed the allowlist."""
    with (
        Receiver(answer(200)) as target,
        Receiver(answer(307, Location=f"{target.url}/elsewhere")) as hop,
    ):
        socket_mock.post([new_task(webhookURL=f"{hop.url}/hook")])
        (outcome,) = wait_outcomes(socket_mock, 1)
        assert len(hop.requests) == 1 and target.requests == []
    assert outcome["ok"] is False and outcome["attempts"] == 1 and outcome["status"] == 307
    assert outcome["reason"] == "redirects are not followed"


async def test_backoff_doubles_between_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    calls: list[httpx.Request] = []

    def down(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(502)

    deliverer = Deliverer(attempts=4, timeout=1, backoff=0.5, transport=httpx.MockTransport(down))
    monkeypatch.setattr("mockserver.lifecycle.delivery.asyncio.sleep", no_wait)
    deliverer.webhook("http://127.0.0.1:9/hook", "t", {"data": []})
    await deliverer.drain()
    await deliverer.close()
    assert waits == [0.5, 1.0, 2.0] and len(calls) == 4
    (outcome,) = deliverer.outcomes
    assert outcome.attempts == 4 and outcome.status == 502
    assert json.loads(calls[0].content) == {"data": []}


class Counting(httpx.AsyncBaseTransport):
    """An httpx transport that holds each request until released, counting per host."""

    def __init__(self) -> None:
        self.active: dict[str, int] = {}
        self.most: dict[str, int] = {}
        self.done: list[str] = []
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.headers["host"]
        self.active[host] = self.active.get(host, 0) + 1
        self.most[host] = max(self.most.get(host, 0), self.active[host])
        try:
            if host.startswith("slow"):
                await self.release.wait()
            return httpx.Response(200)
        finally:
            self.active[host] -= 1
            self.done.append(host)


async def local(name: str, port: int) -> list[str]:
    return ["127.0.0.1"]


async def test_one_busy_host_holds_at_most_per_host_senders_and_others_go_on() -> None:
    transport = Counting()
    deliverer = Deliverer(
        attempts=1, timeout=5, backoff=0, senders=4, per_host=2,
        allow=Allowlist.parse(("slow.test", "fast.test")), resolve=local,
        transport=transport,
    )  # fmt: skip
    for i in range(20):
        deliverer.webhook("http://slow.test/hook", f"s{i}", {"data": []})
    for i in range(20):
        deliverer.webhook("http://fast.test/hook", f"f{i}", {"data": []})
    while transport.done.count("fast.test") < 20:  # all while slow.test hangs
        await asyncio.sleep(0.01)
    assert transport.most["slow.test"] == 2 and "slow.test" not in transport.done
    assert transport.most["fast.test"] <= 2 and deliverer.pending == 20
    transport.release.set()
    await deliverer.drain()
    assert deliverer.pending == 0 and all(o.ok for o in deliverer.outcomes)
    assert len(deliverer.outcomes) == 40
    await deliverer.close()


async def test_a_full_queue_drops_the_delivery_with_its_reason() -> None:
    transport = Counting()
    deliverer = Deliverer(
        attempts=1, timeout=5, backoff=0, max_pending=3,
        allow=Allowlist.parse(("slow.test",)), resolve=local,
        transport=transport,
    )  # fmt: skip
    for i in range(5):
        deliverer.webhook("http://slow.test/hook", f"t{i}", {"data": []})
    assert deliverer.pending == 3 and deliverer.dropped == 2
    dropped = [o for o in deliverer.outcomes if not o.ok]
    assert [o.task_uuid for o in dropped] == ["t3", "t4"]
    assert all("delivery queue full" in (o.reason or "") for o in dropped)
    transport.release.set()
    await deliverer.drain()
    assert sum(o.ok for o in deliverer.outcomes) == 3
    await deliverer.close()


async def test_a_retry_waiting_its_backoff_holds_no_sender() -> None:
    calls: list[str] = []

    def answer_by_host(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers["host"])
        return httpx.Response(503 if request.headers["host"] == "down.test" else 200)

    deliverer = Deliverer(
        attempts=2, timeout=5, backoff=1.0, senders=1,
        allow=Allowlist.parse(("down.test", "up.test")), resolve=local,
        transport=httpx.MockTransport(answer_by_host),
    )  # fmt: skip
    deliverer.webhook("http://down.test/hook", "d", {"data": []})
    await asyncio.sleep(0.1)  # the first attempt failed; its retry waits 1 s
    started = time.monotonic()
    deliverer.webhook("http://up.test/hook", "u", {"data": []})
    while not any(o.task_uuid == "u" for o in deliverer.outcomes):
        await asyncio.sleep(0.01)
    assert time.monotonic() - started < 0.5  # the only sender was free during the backoff
    await deliverer.drain()
    assert calls == ["down.test", "up.test", "down.test"]
    await deliverer.close()


@pytest.mark.parametrize(
    ("status", "ok", "attempts"),
    [(200, True, 1), (204, True, 1), (299, True, 1), (300, False, 1), (399, False, 1),
     (400, False, 2), (499, False, 2), (500, False, 2), (199, False, 2)],
)  # fmt: skip
async def test_each_status_class_is_a_success_a_failure_or_a_retry(
    status: int, ok: bool, attempts: int
) -> None:
    """2xx delivered; 3xx failed at once (not followed); anything else tried again, up to
    ``attempts``; each delivery's ``done`` is called once, with its outcome."""
    calls: list[httpx.Request] = []

    def answering(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(status)

    deliverer = Deliverer(
        attempts=2, timeout=5, backoff=0, transport=httpx.MockTransport(answering)
    )
    done: list[str] = []
    deliverer.webhook("http://127.0.0.1:9/hook", "t", {"data": []}, lambda: done.append("t"))
    await deliverer.drain()
    await deliverer.close()
    (outcome,) = deliverer.outcomes
    assert (outcome.ok, outcome.attempts, len(calls), outcome.status) == (
        ok,
        attempts,
        attempts,
        status,
    )
    assert done == ["t"] and deliverer.pending == 0


async def test_a_delivery_dropped_from_a_full_queue_is_done_at_once() -> None:
    transport = Counting()
    deliverer = Deliverer(
        attempts=1, timeout=5, backoff=0, max_pending=1,
        allow=Allowlist.parse(("slow.test",)), resolve=local, transport=transport,
    )  # fmt: skip
    done: list[str] = []
    for name in ("kept", "dropped"):
        deliverer.webhook(
            "http://slow.test/hook", name, {"data": []}, functools.partial(done.append, name)
        )
    assert done == ["dropped"] and deliverer.pending == 1
    transport.release.set()
    await deliverer.drain()
    assert done == ["dropped", "kept"]
    await deliverer.close()


class StopWatch:
    """The delivery module's clocks, with ``perf_counter`` in the test's hands (wall time and
    the monotonic clock stay real)."""

    def __init__(self) -> None:
        self.now = 500.0

    def perf_counter(self) -> float:
        return self.now

    @staticmethod
    def time() -> float:
        return time.time()

    @staticmethod
    def monotonic() -> float:
        return time.monotonic()


async def test_each_attempt_is_logged_and_listed_with_its_duration_outcome_and_next_step(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A receiver that takes 250 ms and answers 503, then 200: the log and the dashboard's
    attempt list both say how long each attempt took, why it failed and when it is tried
    again; the delivered attempt has no reason and no retry."""
    watch = StopWatch()
    monkeypatch.setattr(delivery_module, "time", watch)
    statuses = iter([503, 200])

    def slow(request: httpx.Request) -> httpx.Response:
        watch.now += 0.25
        return httpx.Response(next(statuses))

    deliverer = Deliverer(attempts=2, timeout=5, backoff=0.0, transport=httpx.MockTransport(slow))
    with caplog.at_level(logging.INFO, logger="mockserver.delivery"):
        deliverer.webhook("http://127.0.0.1:9/hook?sig=secret", "t", {"data": []})
        await deliverer.drain()
    await deliverer.close()
    listed = [
        {k: a[k] for k in ("attempt", "status", "outcome", "reason", "retryIn", "ms", "url")}
        for a in deliverer.attempt_log
    ]
    url = "http://127.0.0.1:9/hook?[redacted]"  # a presigned URL's signature stays out
    assert listed == [
        {"attempt": 1, "status": 503, "outcome": "retry", "reason": "answered 503",
         "retryIn": 0.0, "ms": 250.0, "url": url},
        {"attempt": 2, "status": 200, "outcome": "ok", "reason": None,
         "retryIn": None, "ms": 250.0, "url": url},
    ]  # fmt: skip
    logged = [getattr(r, FIELDS) for r in caplog.records if r.name == "mockserver.delivery"]
    assert [{k: f[k] for k in ("outcome", "reason", "retryIn", "ms")} for f in logged] == [
        {"outcome": "retry", "reason": "answered 503", "retryIn": 0.0, "ms": 250.0},
        {"outcome": "ok", "reason": None, "retryIn": None, "ms": 250.0},
    ]
    assert "(250.0 ms)" in caplog.records[0].getMessage()


async def test_a_delivery_whose_content_cannot_be_read_fails_alone_with_its_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An upload whose file vanished: that delivery fails (done, with the error as its
    reason) and the sender goes on with the next one."""
    calls: list[str] = []

    def answering(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200)

    async def vanished() -> bytes:
        raise FileNotFoundError("the video was forgotten")

    deliverer = Deliverer(
        attempts=3, timeout=5, backoff=0, senders=1, transport=httpx.MockTransport(answering)
    )
    done: list[str] = []
    deliverer.upload(
        "http://127.0.0.1:9/put", "gone", vanished, "video/mp4", lambda: done.append("gone")
    )
    deliverer.webhook("http://127.0.0.1:9/hook", "next", {"data": []}, lambda: done.append("next"))
    await deliverer.drain(timeout=5)
    await deliverer.close()
    failed, delivered = deliverer.outcomes
    assert (failed.task_uuid, failed.ok) == ("gone", False)
    assert failed.reason == "FileNotFoundError: the video was forgotten"
    assert (delivered.task_uuid, delivered.ok) == ("next", True) and calls == ["/hook"]
    assert done == ["gone", "next"] and deliverer.pending == 0


async def test_a_retry_still_waiting_at_shutdown_is_finished_as_failed() -> None:
    """Closing the deliverer while a delivery waits its backoff: that delivery gets its
    outcome (failed, with the last attempt's reason) and its ``done``, not silence."""
    deliverer = Deliverer(
        attempts=3, timeout=5, backoff=3600.0,
        transport=httpx.MockTransport(lambda request: httpx.Response(503)),
    )  # fmt: skip
    done: list[str] = []
    deliverer.webhook("http://127.0.0.1:9/hook", "t", {"data": []}, lambda: done.append("t"))
    async with asyncio.timeout(10):
        while not deliverer.attempt_log:  # the first attempt was answered 503
            await asyncio.sleep(0.01)
    await deliverer.close()
    (outcome,) = deliverer.outcomes
    assert (outcome.ok, outcome.attempts, outcome.status) == (False, 1, 503)
    assert outcome.reason == "answered 503"
    assert done == ["t"] and deliverer.pending == 0


class HoldingPort(httpx.AsyncBaseTransport):
    """Answers 200, except that requests to ``port`` wait until ``release`` is set."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.port == self.port:
            await self.release.wait()
        return httpx.Response(200)


async def test_the_per_host_limit_counts_each_port_of_a_host_apart() -> None:
    """Two receivers on one address but different ports are two hosts: one hanging holds no
    slot of the other."""
    transport = HoldingPort(8001)
    deliverer = Deliverer(attempts=1, timeout=30, backoff=0, per_host=1, transport=transport)
    deliverer.webhook("http://127.0.0.1:8001/hook", "held", {"data": []})
    deliverer.webhook("http://127.0.0.1:8002/hook", "free", {"data": []})
    async with asyncio.timeout(10):
        while not deliverer.outcomes:
            await asyncio.sleep(0.01)
    assert [o.task_uuid for o in deliverer.outcomes] == ["free"]
    transport.release.set()
    await deliverer.drain()
    assert [o.task_uuid for o in deliverer.outcomes] == ["free", "held"]
    await deliverer.close()


async def test_deliveries_dropped_in_one_second_are_logged_once_with_the_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A full queue refusing a burst writes one line a second (with the running count),
    not one per refused delivery; every drop is still an outcome."""
    transport = HoldingPort(9)
    deliverer = Deliverer(attempts=1, timeout=30, backoff=0, max_pending=1, transport=transport)
    with caplog.at_level(logging.WARNING, logger="mockserver.delivery"):
        for n in range(4):
            deliverer.webhook("http://127.0.0.1:9/hook", f"t{n}", {"data": []})
    lines = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(lines) == 1 and "(1 dropped so far)" in lines[0]
    assert deliverer.dropped == 3 and [o.task_uuid for o in deliverer.outcomes] == [
        "t1",
        "t2",
        "t3",
    ]
    transport.release.set()
    await deliverer.drain()
    await deliverer.close()
