"""Scenarios at their exact edges, through the admin API as a user arms them: every bound is
armed at its value and refused one past it; ``times`` applies a scenario exactly that often;
at most MAX_SCENARIOS are armed (tests/mock/test_admin.py has the other refusals)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from mockserver.core.scenarios import MAX_SCENARIOS
from tests.conftest import MockHandle
from tests.helpers import new_task


def arm(mock: MockHandle, body: dict[str, Any]) -> Any:
    return mock.client.post("/__admin/scenarios", json=body)


@pytest.mark.parametrize(
    "body",
    [
        {"latency": {"minMs": 250, "maxMs": 250}},  # no spread: always that delay
        {"latency": {"minMs": 0, "maxMs": 60_000}},
        {"latency": {"fixedMs": 0}},
        {"latency": {"fixedMs": 60_000}},
        {"respond": {"status": 400}},
        {"respond": {"status": 599}},
        {"respond": {"status": 429, "retryAfter": 0}},
        {"respond": {"status": 429, "retryAfter": 86_400}},
        {"fail": {"code": "inferenceError", "afterSeconds": 86_400}},
        {"respond": {"status": 500}, "times": 1},
        {"respond": {"status": 500}, "times": 1_000_000},
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
        ({"latency": {"fixedMs": -0.001}}, "valueTooSmall", "latency.fixedMs"),
        ({"latency": {"minMs": 0, "maxMs": 60_000.001}}, "valueTooLarge", "latency.maxMs"),
        ({"respond": {"status": 399}}, "invalidParameterValue", "respond.status"),
        ({"respond": {"status": 600}}, "invalidParameterValue", "respond.status"),
        ({"respond": {"status": 500}, "times": 1_000_001}, "valueTooLarge", "times"),
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


def test_a_latency_with_min_equal_to_max_holds_the_request_that_long(mock: MockHandle) -> None:
    assert arm(mock, {"latency": {"minMs": 300, "maxMs": 300}, "times": 1}).status_code == 201
    started = time.monotonic()
    assert mock.post([{"taskType": "ping", "ping": True}]).status_code == 200
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
