"""The generated client against respx and httpx.MockTransport: submit, poll, errors, retries."""

from __future__ import annotations

import asyncio
import copy
import datetime
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

import runware_contract as rc
from runware_contract import google_nano_banana_2 as banana
from runware_contract import klingai_video_3_0_pro as kling
from runware_contract.client import DEFAULT_BASE_URL

T2V = copy.deepcopy(kling.EXAMPLES[0].request)
UUID = T2V["taskUUID"]
VIDEO_A = "baf38118-1b77-4a2b-9ec1-78a697bd135f"
VIDEO_B = "673e3e9c-26a2-4259-8fc3-03b1a783fb72"


class FakeTime:
    """A clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def clock(self) -> float:
        return self.now


def success(video: str, **extra: Any) -> dict[str, Any]:
    return {
        "taskType": "videoInference",
        "taskUUID": UUID,
        "status": "success",
        "videoUUID": video,
        "videoURL": f"https://vm.example/{video}.mp4",
        "seed": 7,
        "NSFWContent": False,
        **extra,
    }


def processing(progress: int) -> dict[str, Any]:
    return {
        "taskType": "videoInference",
        "taskUUID": UUID,
        "status": "processing",
        "progress": progress,
    }


def lifecycle(polls_before_done: int, results: int) -> Callable[[httpx.Request], httpx.Response]:
    """A backend: acks video tasks, answers getResponse with processing items, then results."""
    state = {"polls": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        tasks = json.loads(request.content)
        data: list[dict[str, Any]] = []
        for task in tasks:
            if task["taskType"] == "videoInference":
                data.append({"taskType": "videoInference", "taskUUID": task["taskUUID"]})
            elif task["taskType"] == "getResponse":
                state["polls"] += 1
                if state["polls"] <= polls_before_done:
                    data += [processing(30 * state["polls"]) for _ in range(results)]
                else:
                    data += [success(v) for v in (VIDEO_A, VIDEO_B)[:results]]
        return httpx.Response(200, json={"data": data})

    return handler


def client(time_: FakeTime, **kwargs: Any) -> rc.Client:
    return rc.Client("key", sleep=time_.sleep, clock=time_.clock, **kwargs)


@respx.mock
def test_run_polls_through_processing_to_typed_results() -> None:
    route = respx.post(DEFAULT_BASE_URL).mock(side_effect=lifecycle(polls_before_done=2, results=2))
    time_ = FakeTime()
    with client(time_) as c:
        results = c.run({**T2V, "numberResults": 2})
    assert [type(r) for r in results] == [kling.Result, kling.Result]
    assert {r.videoUUID for r in results} == {VIDEO_A, VIDEO_B}
    assert route.call_count == 4  # submit + 3 polls
    assert time_.sleeps == [1.0, 1.5]  # 1 s, growing x1.5
    sent = route.calls[0].request
    assert sent.headers["Authorization"] == "Bearer key"
    assert json.loads(sent.content)[0]["taskUUID"] == UUID


@respx.mock
def test_results_expected_default_to_the_models_number_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A task without numberResults waits for as many results as its model's spec default."""
    respx.post(DEFAULT_BASE_URL).mock(side_effect=lifecycle(polls_before_done=0, results=2))
    assert kling.CONTRACT.defaults["numberResults"] == 1
    with client(FakeTime()) as c:
        c.submit(dict(T2V))
        assert c._core.known[UUID].expected == 1
        monkeypatch.setitem(kling.CONTRACT.defaults, "numberResults", 2)
        c.submit(dict(T2V))
        assert c._core.known[UUID].expected == 2
        c.submit({**T2V, "numberResults": 3})
        assert c._core.known[UUID].expected == 3


@respx.mock
def test_submit_assigns_a_task_uuid_when_missing() -> None:
    respx.post(DEFAULT_BASE_URL).mock(side_effect=lifecycle(0, 1))
    task = {k: v for k, v in T2V.items() if k != "taskUUID"}
    with client(FakeTime()) as c:
        (ack,) = c.submit(task)
    assert ack["taskType"] == "videoInference" and len(ack["taskUUID"]) == 36


@respx.mock
def test_invalid_task_is_rejected_before_sending() -> None:
    route = respx.post(DEFAULT_BASE_URL).mock(return_value=httpx.Response(200, json={"data": []}))
    with client(FakeTime()) as c, pytest.raises(rc.InvalidRequestError) as info:
        c.submit({**T2V, "duration": 99})
    assert not route.called
    assert (info.value.code, info.value.parameter) == ("valueTooLarge", "duration")


@respx.mock
def test_validation_can_be_switched_off() -> None:
    error = {
        "code": "valueTooLarge",
        "message": "duration too large",
        "parameter": "duration",
        "taskUUID": UUID,
        "taskType": "videoInference",
    }
    route = respx.post(DEFAULT_BASE_URL).mock(
        return_value=httpx.Response(400, json={"errors": [error]})
    )
    with client(FakeTime(), validate=False) as c, pytest.raises(rc.InvalidRequestError) as info:
        c.submit({**T2V, "duration": 99})
    assert route.call_count == 1  # 400 is not retried
    assert info.value.status == 400 and info.value.errors == [error]


@pytest.mark.parametrize(
    ("status", "code", "exception"),
    [
        (401, "invalidApiKey", rc.AuthenticationError),
        (401, "missingApiKey", rc.AuthenticationError),
        (402, "insufficientCredits", rc.PaymentRequiredError),
        (403, "forbidden", rc.AuthenticationError),
        (404, "taskNotFound", rc.NotFoundError),
        (400, "conflictTaskUUID", rc.ConflictError),
        (400, "unsupportedParameter", rc.InvalidRequestError),
        (400, "someNewValidationCode", rc.InvalidRequestError),
        (500, "inferenceError", rc.ServerError),
        (504, "timeoutProvider", rc.ProviderTimeoutError),
    ],
)
@respx.mock
def test_errors_map_to_exceptions_by_family(
    status: int, code: str, exception: type[rc.RunwareAPIError]
) -> None:
    body = {"errors": [{"code": code, "message": "m", "parameter": None, "taskUUID": UUID}]}
    respx.post(DEFAULT_BASE_URL).mock(return_value=httpx.Response(status, json=body))
    with client(FakeTime(), max_retries=0) as c, pytest.raises(exception) as info:
        c.submit(T2V)
    assert info.value.code == code and info.value.status == status


@respx.mock
def test_retries_503_honouring_retry_after() -> None:
    busy = httpx.Response(
        503,
        headers={"Retry-After": "2"},
        json={"errors": [{"code": "providerInternalError", "message": "busy"}]},
    )
    ack = httpx.Response(200, json={"data": [{"taskType": "videoInference", "taskUUID": UUID}]})
    route = respx.post(DEFAULT_BASE_URL).mock(side_effect=[busy, ack])
    time_ = FakeTime()
    with client(time_) as c:
        assert c.submit(T2V) == [{"taskType": "videoInference", "taskUUID": UUID}]
    assert route.call_count == 2 and time_.sleeps == [2.0]


@respx.mock
def test_429_retries_with_backoff_then_gives_up() -> None:
    limited = httpx.Response(
        429, json={"errors": [{"code": "rateLimitExceeded", "message": "slow down"}]}
    )
    route = respx.post(DEFAULT_BASE_URL).mock(return_value=limited)
    time_ = FakeTime()
    with client(time_, max_retries=3) as c, pytest.raises(rc.RateLimitError):
        c.submit(T2V)
    assert route.call_count == 4 and time_.sleeps == [0.5, 1.0, 2.0]


@respx.mock
def test_network_error_is_retried() -> None:
    ack = httpx.Response(200, json={"data": [{"taskType": "videoInference", "taskUUID": UUID}]})
    route = respx.post(DEFAULT_BASE_URL).mock(side_effect=[httpx.ConnectError("down"), ack])
    with client(FakeTime()) as c:
        c.submit(T2V)
    assert route.call_count == 2


@respx.mock
def test_conflict_after_a_retry_means_accepted() -> None:
    conflict = {
        "code": "conflictTaskUUID",
        "message": "used",
        "taskUUID": UUID,
        "taskType": "videoInference",
    }
    respx.post(DEFAULT_BASE_URL).mock(
        side_effect=[httpx.ReadTimeout("lost"), httpx.Response(400, json={"errors": [conflict]})]
    )
    with client(FakeTime()) as c:
        assert c.submit(T2V) == [{"taskType": "videoInference", "taskUUID": UUID}]


@respx.mock
def test_failed_task_raises_while_waiting() -> None:
    failure = {
        "code": "inferenceError",
        "message": "boom",
        "taskUUID": UUID,
        "taskType": "videoInference",
    }
    respx.post(DEFAULT_BASE_URL).mock(
        side_effect=[
            httpx.Response(200, json={"data": [{"taskType": "videoInference", "taskUUID": UUID}]}),
            httpx.Response(200, json={"errors": [failure]}),
        ]
    )
    with client(FakeTime()) as c, pytest.raises(rc.ServerError) as info:
        c.run(T2V)
    assert info.value.errors[0]["taskUUID"] == UUID


@respx.mock
def test_wait_times_out() -> None:
    respx.post(DEFAULT_BASE_URL).mock(side_effect=lifecycle(polls_before_done=10**6, results=1))
    time_ = FakeTime()
    with client(time_) as c, pytest.raises(rc.TaskTimeoutError):
        c.run(T2V, timeout=20)
    assert time_.now <= 20


@respx.mock
def test_wait_for_a_task_submitted_elsewhere() -> None:
    respx.post(DEFAULT_BASE_URL).mock(side_effect=lifecycle(polls_before_done=0, results=2))
    with client(FakeTime()) as c:
        results = c.wait(UUID, number_results=2, model=kling.MODEL_ID)
    assert len(results) == 2


def test_injected_transport_and_base_url() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return lifecycle(0, 1)(request)

    c = rc.Client(
        "key",
        base_url="http://127.0.0.1:9/v1",
        transport=httpx.MockTransport(handler),
        sleep=FakeTime().sleep,
    )
    with c:
        (result,) = c.run(T2V)
    assert str(seen[0].url) == "http://127.0.0.1:9/v1"
    assert result.videoUUID == VIDEO_A


@respx.mock
def test_upload_image() -> None:
    item = {
        "taskType": "imageUpload",
        "taskUUID": UUID,
        "imageUUID": VIDEO_A,
        "imageURL": "https://im.example/a.png",
    }
    respx.post(DEFAULT_BASE_URL).mock(return_value=httpx.Response(200, json={"data": [item]}))
    with client(FakeTime()) as c:
        assert c.upload_image("data:image/png;base64,iVBORw0KGgo=")["imageUUID"] == VIDEO_A


def test_parse_webhook() -> None:
    body = json.dumps({"data": [success(VIDEO_A, cost=1.12)]}).encode()
    (result,) = rc.parse_webhook(body)
    assert isinstance(result, kling.Result) and result.cost == 1.12
    with pytest.raises(rc.ServerError):
        rc.parse_webhook({"errors": [{"code": "inferenceError", "message": "x"}]})
    with pytest.raises(ValueError):
        rc.parse_webhook(b"[]")


def test_async_client_runs_and_retries() -> None:
    handler = lifecycle(polls_before_done=1, results=1)
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(
                503, json={"errors": [{"code": "providerInternalError", "message": "x"}]}
            )
        return handler(request)

    time_ = FakeTime()

    async def main() -> list[Any]:
        async with rc.AsyncClient(
            "key", transport=httpx.MockTransport(flaky), sleep=time_.asleep, clock=time_.clock
        ) as c:
            return await c.run(T2V)

    (result,) = asyncio.run(main())
    assert result.videoUUID == VIDEO_A
    assert time_.sleeps == [0.5, 1.0]  # one retry backoff, one poll interval


def test_async_client_validates_before_sending() -> None:
    async def main() -> None:
        async with rc.AsyncClient("key", transport=httpx.MockTransport(lifecycle(0, 1))) as c:
            await c.submit({**T2V, "outputFormat": "AVI"})

    with pytest.raises(rc.InvalidRequestError):
        asyncio.run(main())


def test_client_needs_a_key() -> None:
    with pytest.raises(ValueError):
        rc.Client("")


@respx.mock
def test_a_finished_item_a_poll_repeats_is_counted_once() -> None:
    """A poll that repeats an item already seen finished does not complete a task of two."""
    answers = iter([[success(VIDEO_A)], [success(VIDEO_A)], [success(VIDEO_A), success(VIDEO_B)]])

    def handler(request: httpx.Request) -> httpx.Response:
        (task,) = json.loads(request.content)
        if task["taskType"] == "videoInference":
            return httpx.Response(200, json={"data": [{"taskType": "videoInference",
                                                        "taskUUID": UUID}]})  # fmt: skip
        return httpx.Response(200, json={"data": next(answers)})

    respx.post(DEFAULT_BASE_URL).mock(side_effect=handler)
    with client(FakeTime()) as c:
        results = c.run({**T2V, "numberResults": 2})
    assert sorted(r.videoUUID for r in results) == sorted([VIDEO_A, VIDEO_B])


# ── timing and progress at their edges ──────────────────────────────────────


@respx.mock
def test_the_retry_backoff_doubles_up_to_its_cap_and_stays_there() -> None:
    down = httpx.Response(503, json={"errors": [{"code": "serverError", "message": "down"}]})
    route = respx.post(DEFAULT_BASE_URL).mock(return_value=down)
    time_ = FakeTime()
    with (
        client(time_, max_retries=6, backoff=0.5, max_backoff=3.0) as c,
        pytest.raises(rc.ServerError),
    ):
        c.submit(T2V)
    assert route.call_count == 7
    assert time_.sleeps == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


@respx.mock
def test_the_poll_interval_grows_up_to_its_cap_and_stays_there() -> None:
    respx.post(DEFAULT_BASE_URL).mock(side_effect=lifecycle(polls_before_done=5, results=1))
    time_ = FakeTime()
    with client(time_, poll_interval=1.0, max_poll_interval=2.0) as c:
        c.run(T2V)
    assert time_.sleeps == [1.0, 1.5, 2.0, 2.0, 2.0]


@respx.mock
def test_a_negative_retry_after_waits_nothing() -> None:
    busy = httpx.Response(429, headers={"Retry-After": "-5"}, json={"errors": []})
    ack = httpx.Response(200, json={"data": [{"taskType": "videoInference", "taskUUID": UUID}]})
    respx.post(DEFAULT_BASE_URL).mock(side_effect=[busy, ack])
    time_ = FakeTime()
    with client(time_) as c:
        c.submit(T2V)
    assert time_.sleeps == [0.0]


@respx.mock
def test_a_tasks_progress_is_that_of_its_least_advanced_result() -> None:
    polls = iter(
        [
            [processing(70), processing(20), processing(45)],
            [processing(90), processing(60), success(VIDEO_A)],
            [success(VIDEO_A), success(VIDEO_B), processing(95)],
            [success(VIDEO_A), success(VIDEO_B), success("5b9b3a2e-4a9f-4e0b-9a51-1f3c1d9d2b70")],
        ]
    )
    seen: list[int | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        (task,) = json.loads(request.content)
        if task["taskType"] != "getResponse":
            return httpx.Response(
                200, json={"data": [{"taskType": "videoInference", "taskUUID": UUID}]}
            )
        seen.append(c._core.known[UUID].progress)
        return httpx.Response(200, json={"data": next(polls)})

    respx.post(DEFAULT_BASE_URL).mock(side_effect=handler)
    with client(FakeTime()) as c:
        results = c.run({**T2V, "numberResults": 3})
    assert len(results) == 3
    assert seen == [None, 20, 60, 95]  # before each poll: the slowest result's progress


def run_either(
    asynchronous: bool, handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any
) -> tuple[list[Any], FakeTime]:
    """``run(T2V)`` with the sync or the async client on ``handler``; kwargs: its options,
    ``timeout`` for run."""
    time_ = FakeTime()
    timeout = kwargs.pop("timeout", 600.0)
    transport = httpx.MockTransport(handler)
    if not asynchronous:
        with rc.Client(
            "key", transport=transport, sleep=time_.sleep, clock=time_.clock, **kwargs
        ) as c:
            return c.run(T2V, timeout=timeout), time_

    async def main() -> list[Any]:
        async with rc.AsyncClient(
            "key", transport=transport, sleep=time_.asleep, clock=time_.clock, **kwargs
        ) as c:
            return await c.run(T2V, timeout=timeout)

    return asyncio.run(main()), time_


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_task_finishing_exactly_at_the_timeout_is_waited_for(asynchronous: bool) -> None:
    # two polls before the result: waits of 1 s and 1.5 s
    (result,), time_ = run_either(asynchronous, lifecycle(2, 1), timeout=2.5)
    assert result.videoUUID == VIDEO_A and time_.now == 2.5
    with pytest.raises(rc.TaskTimeoutError):
        run_either(asynchronous, lifecycle(2, 1), timeout=2.4)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_backoff_and_poll_caps_hold_on_both_clients(asynchronous: bool) -> None:
    answers = iter([503, 503, 503, 503])
    handler = lifecycle(3, 1)

    def flaky(request: httpx.Request) -> httpx.Response:
        if next(answers, 200) == 503:
            return httpx.Response(503, json={"errors": [{"code": "serverError", "message": "x"}]})
        return handler(request)

    _, time_ = run_either(
        asynchronous, flaky, max_backoff=1.0, max_poll_interval=1.2, max_retries=5
    )
    assert time_.sleeps == [0.5, 1.0, 1.0, 1.0, 1.0, 1.2, 1.2]


@respx.mock
@pytest.mark.parametrize("bad", [0, -1, "2", 1.5])
def test_a_task_with_a_bad_number_of_results_waits_for_one(bad: Any) -> None:
    respx.post(DEFAULT_BASE_URL).mock(side_effect=lifecycle(polls_before_done=1, results=1))
    with rc.Client("key", validate=False, sleep=FakeTime().sleep) as c:
        (result,) = c.run({**T2V, "numberResults": bad})
    assert result.videoUUID == VIDEO_A


@respx.mock
def test_a_processing_item_naming_its_video_is_not_a_result_yet() -> None:
    early = {**processing(50), "videoUUID": VIDEO_A}
    polls = iter([[early], [success(VIDEO_A)]])

    def handler(request: httpx.Request) -> httpx.Response:
        (task,) = json.loads(request.content)
        if task["taskType"] != "getResponse":
            ack = {"taskType": "videoInference", "taskUUID": UUID}
            return httpx.Response(200, json={"data": [ack]})
        return httpx.Response(200, json={"data": next(polls)})

    respx.post(DEFAULT_BASE_URL).mock(side_effect=handler)
    time_ = FakeTime()
    with client(time_) as c:
        (result,) = c.run(T2V)
    assert result.videoUUID == VIDEO_A and time_.sleeps == [1.0]


# ── image tasks: sync results come with the POST, async ones are polled ─────────

IMAGE_TASK = {
    "taskType": "imageInference",
    "taskUUID": "6f1c2a8e-3b5d-4c7e-9f0a-1b2c3d4e5f60",
    "model": banana.MODEL_ID,
    "positivePrompt": "a lighthouse at dusk",
    "width": 1024,
    "height": 1024,
}
IMAGE_A = "0c0e3d2a-5b1f-4f7e-8a9b-0c1d2e3f4a5b"
IMAGE_B = "1d1f4e3b-6c2a-4a8f-9b0c-1d2e3f4a5b6c"


def image_item(image: str, status: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "taskType": "imageInference",
        "taskUUID": IMAGE_TASK["taskUUID"],
        "imageUUID": image,
        "imageURL": f"https://im.example/{image}.jpg",
        "seed": 11,
        "NSFWContent": False,
    }
    return item | ({"status": status} if status else {})


def image_backend(
    polls_before_done: int,
) -> tuple[Callable[[httpx.Request], httpx.Response], list[str]]:
    """Answers a sync image task with its results, an async one with an acknowledgement
    and then getResponse polls; records each request's task types."""
    seen: list[str] = []
    state = {"polls": 0, "results": 1}

    def handler(request: httpx.Request) -> httpx.Response:
        data: list[dict[str, Any]] = []
        for task in json.loads(request.content):
            seen.append(task["taskType"])
            if task["taskType"] == "imageInference":
                state["results"] = task.get("numberResults", 1)
                if task.get("deliveryMethod", "sync") == "sync":
                    data += [image_item(i) for i in (IMAGE_A, IMAGE_B)[: state["results"]]]
                else:
                    data.append({"taskType": "imageInference", "taskUUID": task["taskUUID"]})
            elif task["taskType"] == "getResponse":
                state["polls"] += 1
                if state["polls"] <= polls_before_done:
                    data.append({**image_item(IMAGE_A, "processing"), "progress": 50})
                    del data[-1]["imageURL"]
                else:
                    data += [
                        image_item(i, "success") for i in (IMAGE_A, IMAGE_B)[: state["results"]]
                    ]
        return httpx.Response(200, json={"data": data})

    return handler, seen


def test_a_sync_image_task_gets_its_results_from_the_post_itself() -> None:
    handler, seen = image_backend(polls_before_done=0)
    time_ = FakeTime()
    with rc.Client(
        "key", transport=httpx.MockTransport(handler), sleep=time_.sleep, clock=time_.clock
    ) as c:
        results = c.run({**IMAGE_TASK, "numberResults": 2})
    assert seen == ["imageInference"]  # no getResponse: the POST answered with the results
    assert [type(r) for r in results] == [banana.Result, banana.Result]
    assert [r.imageUUID for r in results] == [IMAGE_A, IMAGE_B]
    assert time_.sleeps == []


@respx.mock
def test_submit_keeps_sync_results_so_wait_returns_them_unpolled() -> None:
    handler, seen = image_backend(polls_before_done=0)
    respx.post(DEFAULT_BASE_URL).mock(side_effect=handler)
    with rc.Client("key") as c:
        (item,) = c.submit(IMAGE_TASK)
        assert item["imageUUID"] == IMAGE_A
        (result,) = c.wait(IMAGE_TASK["taskUUID"])
    assert result.imageUUID == IMAGE_A and seen == ["imageInference"]


@respx.mock
def test_an_async_image_task_is_acknowledged_then_polled() -> None:
    handler, seen = image_backend(polls_before_done=1)
    respx.post(DEFAULT_BASE_URL).mock(side_effect=handler)
    time_ = FakeTime()
    with client(time_) as c:
        (result,) = c.run({**IMAGE_TASK, "deliveryMethod": "async"})
    assert seen == ["imageInference", "getResponse", "getResponse"]
    assert isinstance(result, banana.Result) and result.imageUUID == IMAGE_A
    assert time_.sleeps == [1.0]


@pytest.mark.parametrize(
    ("method", "expected"),
    [("sync", ["imageInference"]), ("async", ["imageInference", "getResponse", "getResponse"])],
)
def test_the_async_client_takes_sync_results_from_the_post_and_polls_async_ones(
    method: str, expected: list[str]
) -> None:
    handler, seen = image_backend(polls_before_done=1)
    time_ = FakeTime()

    async def main() -> list[Any]:
        async with rc.AsyncClient(
            "key", transport=httpx.MockTransport(handler), sleep=time_.asleep, clock=time_.clock
        ) as c:
            return await c.run({**IMAGE_TASK, "deliveryMethod": method})

    (result,) = asyncio.run(main())
    assert result.imageUUID == IMAGE_A
    assert seen == expected


# ── what the client infers, and the edges of its retry loop ─────────────────

OTHER_UUID = "5b9b3a2e-4a9f-4e0b-9a51-1f3c1d9d2b70"


def ack(request: httpx.Request) -> httpx.Response:
    tasks = json.loads(request.content)
    data = [{"taskType": t["taskType"], "taskUUID": t["taskUUID"]} for t in tasks]
    return httpx.Response(200, json={"data": data})


def submit_either(
    asynchronous: bool, answers: list[Any], task: dict[str, Any], **kwargs: Any
) -> tuple[list[dict[str, Any]], FakeTime, list[httpx.Request]]:
    """``submit(task)`` with the sync or the async client on a backend that gives ``answers``
    in turn (a response, an exception to raise, or a handler); kwargs: the client's options."""
    time_ = FakeTime()
    seen: list[httpx.Request] = []
    queue = iter(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = next(queue)
        if isinstance(answer, Exception):
            raise answer
        response: httpx.Response = answer(request) if callable(answer) else answer
        return response

    if not asynchronous:
        with rc.Client(
            "key", transport=httpx.MockTransport(handler), sleep=time_.sleep,
            clock=time_.clock, **kwargs,
        ) as c:  # fmt: skip
            return c.submit(task), time_, seen

    async def main() -> list[dict[str, Any]]:
        async with rc.AsyncClient(
            "key", transport=httpx.MockTransport(handler), sleep=time_.asleep,
            clock=time_.clock, **kwargs,
        ) as c:  # fmt: skip
            return await c.submit(task)

    return asyncio.run(main()), time_, seen


def error_response(status: int, code: str, task_uuid: str = UUID) -> httpx.Response:
    error = {"code": code, "message": code, "taskUUID": task_uuid, "taskType": "videoInference"}
    return httpx.Response(status, json={"errors": [error]})


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_task_uuid_already_used_is_a_conflict_on_the_first_attempt(asynchronous: bool) -> None:
    """Only after a retry does conflictTaskUUID mean "your first attempt got through"."""
    with pytest.raises(rc.ConflictError) as info:
        submit_either(asynchronous, [error_response(400, "conflictTaskUUID"), ack], T2V)
    assert info.value.code == "conflictTaskUUID"


@pytest.mark.parametrize(
    ("answer", "exception"),
    [
        (error_response(400, "conflictTaskUUID", task_uuid=OTHER_UUID), rc.ConflictError),
        (error_response(400, "invalidPositivePrompt"), rc.InvalidRequestError),
    ],
    ids=["conflict-for-another-task", "other-error-for-our-task"],
)
def test_after_a_retry_only_a_conflict_naming_a_task_we_sent_means_accepted(
    answer: httpx.Response, exception: type[rc.RunwareAPIError]
) -> None:
    with pytest.raises(exception):
        submit_either(False, [httpx.ReadTimeout("lost"), answer], T2V)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_request_error_is_raised_at_once_without_a_retry(asynchronous: bool) -> None:
    with pytest.raises(rc.InvalidRequestError) as info:
        submit_either(asynchronous, [error_response(400, "invalidPositivePrompt"), ack], T2V)
    assert info.value.code == "invalidPositivePrompt" and info.value.status == 400


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_network_errors_are_retried_with_backoff_then_raised(asynchronous: bool) -> None:
    down = [httpx.ConnectError("down") for _ in range(3)]
    (item,), time_, seen = submit_either(asynchronous, [*down[:2], ack], T2V, max_retries=2)
    assert item["taskUUID"] == UUID and len(seen) == 3 and time_.sleeps == [0.5, 1.0]
    with pytest.raises(httpx.ConnectError):
        submit_either(asynchronous, [*down, ack], T2V, max_retries=2)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_retryable_statuses_give_up_after_max_retries(asynchronous: bool) -> None:
    busy = error_response(429, "rateLimitExceeded")
    with pytest.raises(rc.RateLimitError):
        submit_either(asynchronous, [busy, busy, ack], T2V, max_retries=1)


def test_a_retry_after_date_waits_until_that_date() -> None:
    from email.utils import format_datetime

    when = format_datetime(datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=120))
    busy = httpx.Response(503, headers={"Retry-After": when}, json={"errors": []})
    _, time_, _ = submit_either(False, [busy, ack], T2V)
    (waited,) = time_.sleeps
    assert 100 < waited <= 120


def test_a_retry_after_neither_seconds_nor_a_date_falls_back_to_the_backoff() -> None:
    busy = httpx.Response(503, headers={"Retry-After": "soon"}, json={"errors": []})
    _, time_, _ = submit_either(False, [busy, ack], T2V, backoff=0.25)
    assert time_.sleeps == [0.25]


@pytest.mark.parametrize(
    ("status", "code", "exception"),
    [(200, "invalidResponse", rc.RunwareAPIError), (502, "http502", rc.ServerError)],
)
def test_a_body_that_is_not_json_is_an_invalid_response(
    status: int, code: str, exception: type[rc.RunwareAPIError]
) -> None:
    html = httpx.Response(status, text="<html>bad gateway</html>")
    with pytest.raises(exception) as info:
        submit_either(False, [html], T2V, max_retries=0)
    assert info.value.code == code and info.value.status == status


@pytest.mark.parametrize(("asked", "expected"), [(1, 1), (0, 1), (2, 2)])
def test_the_number_of_results_waited_for_is_numbers_results_when_positive(
    asked: int, expected: int
) -> None:
    with rc.Client("key", validate=False, transport=httpx.MockTransport(ack)) as c:
        c.submit({**T2V, "numberResults": asked})
        assert c._core.known[UUID].expected == expected


def test_a_task_of_a_model_this_package_lacks_is_typed_by_its_task_type() -> None:
    respx_free = httpx.MockTransport(lifecycle(polls_before_done=0, results=1))
    with rc.Client("key", validate=False, transport=respx_free, sleep=FakeTime().sleep) as c:
        (result,) = c.run({**T2V, "model": "vendor:9@9"})
        assert c._core.known[UUID].expected == 1
    assert isinstance(result, kling.Result) and result.videoUUID == VIDEO_A


def test_wait_for_a_task_submitted_elsewhere_waits_for_its_number_of_results() -> None:
    """Without number_results a task waits for one result; with it, for that many."""

    def backend() -> httpx.MockTransport:
        polls = iter([[success(VIDEO_A)], [success(VIDEO_A), success(VIDEO_B)]])
        return httpx.MockTransport(lambda _: httpx.Response(200, json={"data": next(polls)}))

    with rc.Client("key", transport=backend(), sleep=FakeTime().sleep) as c:
        assert [r.videoUUID for r in c.wait(UUID)] == [VIDEO_A]
    with rc.Client("key", transport=backend(), sleep=FakeTime().sleep) as c:
        results = c.wait(UUID, number_results=2, model=kling.MODEL_ID)
    assert [r.videoUUID for r in results] == [VIDEO_A, VIDEO_B]


def test_a_finished_result_repeated_with_more_fields_is_counted_once() -> None:
    """A result is its media UUID: a poll repeating it with a field added (its cost, say)
    does not count it twice."""
    polls = iter([[success(VIDEO_A)], [success(VIDEO_A, cost=1.12)],
                  [success(VIDEO_A, cost=1.12), success(VIDEO_B)]])  # fmt: skip
    transport = httpx.MockTransport(
        lambda r: (
            ack(r)
            if "getResponse" not in r.content.decode()
            else httpx.Response(200, json={"data": next(polls)})
        )
    )
    with rc.Client("key", transport=transport, sleep=FakeTime().sleep) as c:
        results = c.run({**T2V, "numberResults": 2})
    assert [r.videoUUID for r in results] == [VIDEO_A, VIDEO_B]


def test_a_result_without_a_media_uuid_is_the_same_whatever_its_key_order() -> None:
    """Results of a task type this package does not know are told apart by their content,
    not by the order of their keys."""
    first = {"taskType": "textInference", "taskUUID": UUID, "status": "success", "text": "a"}
    again = dict(reversed(list(first.items())))
    second = {**first, "text": "b"}
    polls = iter([[first], [again], [again, second]])
    transport = httpx.MockTransport(lambda _: httpx.Response(200, json={"data": next(polls)}))
    with rc.Client("key", transport=transport, sleep=FakeTime().sleep) as c:
        results = c.wait(UUID, number_results=2)
    assert [r["text"] for r in results] == ["a", "b"]
