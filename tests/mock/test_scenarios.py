"""Scenarios at their exact edges, through the admin API as a user arms them: every bound is
armed at its value and refused one past it or as another JSON type; ``times`` applies a
scenario exactly that often; a scenario without a match applies to any request; at most
MAX_SCENARIOS are armed (tests/mock/test_admin.py has the other refusals)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from mockserver.core.scenarios import MAX_SCENARIOS, Scenarios, parse
from tests.conftest import MockHandle
from tests.helpers import new_task

ANSWER_SECONDS = 10  # far past any delay these tests arm, on a loaded machine too


def arm(mock: MockHandle, body: dict[str, Any]) -> Any:
    return mock.client.post("/__admin/scenarios", json=body)


@pytest.mark.parametrize(
    "body",
    [
        {"latency": {"minMs": 250, "maxMs": 250}},  # no spread: always that delay
        {"respond": {"status": 400}},
        {"respond": {"status": 599}},
        {"match": {"model": "m" * 1000}, "respond": {"status": 500}},
        {"fail": {"code": "inferenceError", "message": "x" * 1000}},
    ],
)
def test_a_scenario_at_each_bound_is_armed(mock: MockHandle, body: dict[str, Any]) -> None:
    response = arm(mock, body)
    assert response.status_code == 201, response.text
    (armed,) = mock.client.get("/__admin/scenarios").json()["scenarios"]
    assert {k: armed[k] for k in body} == body


@pytest.mark.parametrize(
    ("body", "code", "parameter"),
    [
        ({"latency": {"minMs": 250.001, "maxMs": 250}}, "invalidParameterValue", "latency.minMs"),
        ({"respond": {"status": 399}}, "invalidParameterValue", "respond.status"),
        ({"respond": {"status": 600}}, "invalidParameterValue", "respond.status"),
        ({"fail": {"code": "inferenceError", "message": "x" * 1001}}, "valueTooLarge", None),
    ],
)
def test_a_scenario_one_past_a_bound_is_refused(
    mock: MockHandle, body: dict[str, Any], code: str, parameter: str | None
) -> None:
    response = arm(mock, body)
    assert response.status_code == 400
    (err,) = response.json()["errors"]
    assert err["code"] == code
    assert err["parameter"] == (parameter or "fail.message")


# Each number of a scenario (action.key) and its largest value; the smallest is 0.
NUMBERS = {
    "fail.afterSeconds": 86_400,
    "respond.retryAfter": 86_400,
    "latency.fixedMs": 60_000,
    "latency.minMs": 60_000,
    "latency.maxMs": 60_000,
}
# What else each action needs beside the number under test.
BESIDE: dict[str, dict[str, Any]] = {
    "fail": {"code": "inferenceError"},
    "respond": {"status": 429},
    "latency": {"minMs": 0, "maxMs": 60_000},
}


def test_each_number_is_armed_from_zero_to_its_bound_and_refused_outside_or_as_another_type(
    mock: MockHandle,
) -> None:
    def refusal(number: str, value: Any) -> tuple[int, str | None, str | None]:
        action, key = number.split(".")
        beside = {} if key == "fixedMs" else BESIDE[action]
        response = arm(mock, {action: {**beside, key: value}})
        if response.status_code == 201:
            assert response.json()[action][key] == value
            return 201, None, None
        (err,) = response.json()["errors"]
        return response.status_code, err["code"], err["parameter"]

    for number, bound in NUMBERS.items():
        assert refusal(number, 0) == refusal(number, bound) == (201, None, None), number
        assert refusal(number, -0.001) == (400, "valueTooSmall", number)
        assert refusal(number, bound + 0.001) == (400, "valueTooLarge", number)
        for other_type in (str(bound), True, [1], {"value": 1}):
            assert refusal(number, other_type) == (400, "invalidParameterType", number)


def test_times_is_armed_from_one_to_its_bound_and_refused_outside_or_as_another_type(
    mock: MockHandle,
) -> None:
    def refusal(times: Any) -> tuple[int, str | None]:
        response = arm(mock, {"respond": {"status": 503}, "times": times})
        if response.status_code == 201:
            assert response.json()["times"] == times
            return 201, None
        (err,) = response.json()["errors"]
        assert err["parameter"] == "times"
        return response.status_code, err["code"]

    assert refusal(1) == refusal(1_000_000) == (201, None)
    assert refusal(0) == (400, "valueTooSmall")
    assert refusal(1_000_001) == (400, "valueTooLarge")
    for other_type in (1.5, "2", True):
        assert refusal(other_type) == (400, "invalidParameterType"), other_type


def test_a_scenario_without_a_match_applies_to_any_request_even_of_malformed_tasks(
    mock: MockHandle,
) -> None:
    """A match condition holds only for a task object; no match at all holds for every
    request, whatever its tasks are."""
    body = {"match": {"taskType": "imageInference"}, "respond": {"status": 502}}
    assert arm(mock, body).status_code == 201
    malformed = ["not a task", 7]
    assert mock.post(malformed).status_code == 400  # the match does not hold: validated
    assert arm(mock, {"respond": {"status": 503}}).status_code == 201
    reply = mock.post(malformed)
    assert reply.status_code == 503
    assert reply.json()["errors"][0]["code"] == "providerInternalError"


def post_within(mock: MockHandle, tasks: list[dict[str, Any]], seconds: float) -> Any:
    """POST /v1, failing (and giving the request up) past ``seconds``: the socket client's
    timeout, and the same for the in-process mock, whose client has none of its own."""
    if mock.inprocess is None:
        return mock.client.post("/v1", json=tasks, timeout=seconds)
    request = mock.client.build_request("POST", "/v1", json=tasks)
    request.read()
    answer = mock.inprocess.portal.start_task_soon(mock.inprocess._forward, request)
    try:
        return answer.result(timeout=seconds)
    finally:
        answer.cancel()


def test_a_latency_with_min_equal_to_max_holds_the_request_that_long(mock: MockHandle) -> None:
    """300 ms: not less, and not without end (at most ANSWER_SECONDS)."""
    assert arm(mock, {"latency": {"minMs": 300, "maxMs": 300}, "times": 1}).status_code == 201
    started = time.monotonic()
    ping = [{"taskType": "ping", "ping": True}]
    assert post_within(mock, ping, ANSWER_SECONDS).status_code == 200
    assert time.monotonic() - started >= 0.29  # timers may fire a hair early
    (entry,) = mock.client.get("/__admin/requests", params={"limit": 1}).json()["requests"]
    assert entry["durationMs"] >= 290


def test_times_applies_a_scenario_exactly_that_often(mock: MockHandle) -> None:
    assert arm(mock, {"respond": {"status": 503}, "times": 2}).status_code == 201
    statuses = [mock.post([new_task()]).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    (armed,) = mock.client.get("/__admin/scenarios").json()["scenarios"]
    assert armed["used"] == 2


def test_a_failure_scenario_fails_only_the_tasks_it_matches(mock: MockHandle) -> None:
    body = {"match": {"promptContains": "zz-doomed"}, "fail": {"code": "inferenceError"}}
    assert arm(mock, body).status_code == 201
    doomed, fine = new_task(positivePrompt="a zz-doomed boat"), new_task(positivePrompt="a boat")
    assert mock.post([doomed, fine]).status_code == 200
    (err,) = mock.poll(doomed["taskUUID"]).json()["errors"]  # afterSeconds 0: failed at once
    assert (err["code"], err["taskUUID"]) == ("inferenceError", doomed["taskUUID"])
    assert "errors" not in mock.poll(fine["taskUUID"]).json()


def test_at_most_max_scenarios_are_armed(mock: MockHandle) -> None:
    for n in range(MAX_SCENARIOS):
        assert (
            arm(mock, {"match": {"model": f"m{n}"}, "respond": {"status": 500}}).status_code == 201
        )
    refused = arm(mock, {"respond": {"status": 500}})
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "tooManyScenarios"
    assert len(mock.client.get("/__admin/scenarios").json()["scenarios"]) == MAX_SCENARIOS


def test_a_respond_scenario_answers_with_its_message_or_one_naming_it(mock: MockHandle) -> None:
    """Without a message the error says which scenario answered and with what status; with
    one, the client reads that message, in Runware's error shape for each task."""
    plain = arm(mock, {"respond": {"status": 503}, "times": 1}).json()
    told = {"respond": {"status": 429, "message": "Slow down, please."}, "times": 1}
    assert arm(mock, told).status_code == 201
    first, second = new_task(), new_task()
    (err,) = mock.post([first]).json()["errors"]
    assert err == {
        **err,
        "code": "providerInternalError",
        "message": f"Scenario {plain['id']}: HTTP 503.",
        "taskUUID": first["taskUUID"],
    }
    reply = mock.post([second])
    assert reply.status_code == 429
    (err,) = reply.json()["errors"]
    assert (err["code"], err["message"], err["taskUUID"]) == (
        "rateLimitExceeded",
        "Slow down, please.",
        second["taskUUID"],
    )


def test_a_latency_is_drawn_between_min_ms_and_max_ms_in_seconds() -> None:
    """The delay a latency scenario adds, in seconds: within its bounds every time, and the
    fixed one exactly."""
    scenarios = Scenarios(seed=7)
    scenarios.add(parse({"latency": {"minMs": 100, "maxMs": 200}, "times": 50}, "spread"))
    delays = [scenarios.latency_for([new_task()]) for _ in range(50)]
    assert all(0.1 <= d <= 0.2 for d in delays) and len(set(delays)) > 1
    scenarios.add(parse({"latency": {"fixedMs": 250}, "times": 1}, "fixed"))
    assert scenarios.latency_for([new_task()]) == 0.25
    assert scenarios.latency_for([new_task()]) == 0.0  # both used up: no delay
