"""Property-based contract tests: the spec's own strategies against the typed model,
validate() and the mock. Every failing example is noted as a ready-to-paste JSON task."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, note, settings
from hypothesis import strategies as st

import runware_contract as rc
from mockserver import MockConfig
from mockserver.core.ids import IdSource
from mockserver.testing import serve
from runware_contract import klingai_video_3_0_pro as kling
from runware_contract import strategies as S
from tests.conftest import MockHandle, start_mock
from tests.helpers import expected_codes, model_errors, validator_errors

CASES = S.cases(kling)
BREAKABLE = [(name, strategy) for name, strategy in CASES if not strategy.is_empty]
NO_DELIVERY = ("webhookURL", "uploadEndpoint")  # the mock must not call random hosts


@pytest.fixture(scope="module")
def mock() -> Iterator[MockHandle]:
    """One in-process mock for the module (Hypothesis refuses function-scoped fixtures)."""
    with start_mock("inprocess", MockConfig(job_seconds=0, seed=1)) as handle:
        yield handle


def mock_errors(mock: MockHandle, task: dict[str, Any]) -> tuple[int, set[tuple[str, str]]]:
    response = mock.post([task])
    body = response.json()
    return response.status_code, {(e["code"], str(e["parameter"])) for e in body.get("errors", [])}


_SUBMISSIONS = itertools.count()
_IDS = IdSource(0)


def unique(task: dict[str, Any], _salt: int = 0) -> dict[str, Any]:
    """The task with a taskUUID never submitted before in this process (the mock keeps
    every task, and Hypothesis runs an example again while shrinking), and without
    delivery targets: a fresh taskUUID can make a violation case valid, and the mock
    must not be sent to deliver anywhere."""
    fresh = {k: v for k, v in task.items() if k not in NO_DELIVERY}
    return {**fresh, "taskUUID": _IDS.uuid4("submission", next(_SUBMISSIONS))}


# ── valid tasks ─────────────────────────────────────────────────────────────


@given(S.valid_tasks(kling))
def test_every_valid_task_is_accepted_by_validator_and_model(task: dict[str, Any]) -> None:
    note(json.dumps(task))
    assert rc.validate(task) == []
    kling.Request.model_validate(task)


@given(S.valid_tasks(kling, exclude=NO_DELIVERY), st.integers(0, 2**31))
def test_every_valid_task_is_accepted_by_the_mock(
    mock: MockHandle, task: dict[str, Any], salt: int
) -> None:
    task = unique(task, salt)
    note(json.dumps(task))
    status, errors = mock_errors(mock, task)
    assert (status, errors) == (200, set())


@given(S.valid_tasks(kling, exclude=NO_DELIVERY), st.integers(0, 2**31))
def test_mock_results_conform_to_the_response_schema(
    mock: MockHandle, task: dict[str, Any], salt: int
) -> None:
    task = unique(task, salt)
    note(json.dumps(task))
    assert mock.post([task]).status_code == 200
    items = mock.poll(task["taskUUID"]).json()["data"]
    full = kling.with_defaults(task)
    assert len(items) == full["numberResults"]
    assert len({i["videoUUID"] for i in items}) == len(items)
    for item in items:
        assert item["status"] == "success" and kling.validate_result(item) == []
        kling.Result.model_validate(item)
        if task.get("includeCost"):
            assert item["cost"] == kling.price(task)
        else:
            assert "cost" not in item or item["videoUUID"] in {
                e.response["videoUUID"] for e in kling.EXAMPLES
            }


# ── one broken rule or constraint at a time ─────────────────────────────────


@pytest.mark.parametrize(("name", "strategy"), BREAKABLE, ids=[n for n, _ in BREAKABLE])
def test_every_single_violation_is_rejected_by_validator_and_model(
    name: str, strategy: st.SearchStrategy[dict[str, Any]]
) -> None:
    codes = expected_codes(kling, name)

    @given(strategy)
    def check(task: dict[str, Any]) -> None:
        note(json.dumps(task))
        found = validator_errors(task)
        assert found and {code for code, _ in found} <= codes
        assert model_errors(task) == found

    check()


@pytest.mark.parametrize(("name", "strategy"), BREAKABLE, ids=[n for n, _ in BREAKABLE])
def test_every_single_violation_is_rejected_by_the_mock(
    mock: MockHandle, name: str, strategy: st.SearchStrategy[dict[str, Any]]
) -> None:
    @settings(max_examples=5)
    @given(strategy)
    def check(task: dict[str, Any]) -> None:
        note(json.dumps(task))
        status, errors = mock_errors(mock, task)
        assert errors == validator_errors(task)
        assert status >= 400

    check()


def test_rules_that_cannot_break_alone_are_known() -> None:
    """A rule that can only break together with a field constraint is reported, not hidden."""
    alone = sorted(name for name, strategy in CASES if strategy.is_empty)
    assert alone == ["ttl-needs-url-output"]  # outputType allows only URL (see the spec note)


# ── differential: the three oracles never disagree ──────────────────────────

ANY_TASK = st.one_of(S.valid_tasks(kling, exclude=NO_DELIVERY), *(s for _, s in BREAKABLE))


@settings(max_examples=60)
@given(ANY_TASK, st.integers(0, 2**31))
def test_model_validator_and_mock_never_disagree(
    mock: MockHandle, task: dict[str, Any], salt: int
) -> None:
    task = unique(task, salt)
    note(json.dumps(task))
    from_validator = validator_errors(task)
    assert model_errors(task) == from_validator
    status, from_mock = mock_errors(mock, task)
    assert from_mock == from_validator
    assert (status == 200) == (not from_validator)


# ── shrinking keeps the violation ───────────────────────────────────────────


@pytest.mark.parametrize(
    "rule_id",
    ["frame-image-positions", "element-videos-exclude-images-and-voices", "supported-dimensions"],
)
def test_a_shrunk_violation_still_breaks_its_rule(rule_id: str) -> None:
    minimal = find(
        S.rule_violations(kling, rule_id),
        lambda task: True,
        settings=settings(
            max_examples=50,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
    violations = kling.CONTRACT.violations(minimal)
    assert violations and {v.rule for v in violations} == {rule_id}
    # and it is small: besides the required parameters, only what the rule reads is there
    rule = next(r for r in kling.tables.RULES if r["id"] == rule_id)
    params = {p["path"]: p for p in kling.tables.PARAMETERS}
    read = {path for path in _strings(rule) if path in params}
    if rule["kind"] == "dimensions" and kling.tables.DIMENSIONS:
        read |= set(kling.tables.DIMENSIONS["params"])
    required = {path for path, p in params.items() if p.get("required") and "." not in path}
    assert set(minimal) <= required | {path.split(".")[0] for path in read}, minimal


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a rule (its parameter paths among them)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# ── the same over a real socket and over WebSocket (a smaller run) ──────────


@pytest.mark.slow
@settings(max_examples=8)
@given(
    st.lists(
        st.one_of(S.valid_tasks(kling, exclude=NO_DELIVERY), *(s for _, s in BREAKABLE[:20])),
        min_size=1,
        max_size=3,
    ),
    st.integers(0, 2**31),
)
def test_socket_rest_and_websocket_agree_with_validate(
    tasks: list[dict[str, Any]], salt: int
) -> None:
    from websockets.sync.client import connect

    tasks = [unique(t, salt + i) for i, t in enumerate(tasks)]
    note(json.dumps(tasks))
    expected = set().union(*(validator_errors(t) for t in tasks))
    with serve(MockConfig(job_seconds=5)) as running:
        rest = running.run(tasks).json()
        assert {(e["code"], str(e["parameter"])) for e in rest.get("errors", [])} == expected
        ws_tasks = [unique(t, salt + 100 + i) for i, t in enumerate(tasks)]
        ws_expected = set().union(*(validator_errors(t) for t in ws_tasks))
        with connect(running.ws_url) as ws:
            ws.send(json.dumps([{"taskType": "authentication", "apiKey": "k"}]))
            json.loads(ws.recv(timeout=10))
            ws.send(json.dumps(ws_tasks))
            frames = [json.loads(ws.recv(timeout=10))]
            if "data" in frames[0] and ws_expected:
                frames.append(json.loads(ws.recv(timeout=10)))
        errors = {(e["code"], str(e["parameter"])) for f in frames for e in f.get("errors", [])}
        assert errors == ws_expected


@pytest.mark.parametrize("name", sorted(rc.platform.FORMATS))
def test_format_builders_give_values_of_their_format(name: str) -> None:
    import re

    regex = re.compile(rc.platform.FORMATS[name][0])

    @given(S.format_values(name))
    def check(value: str) -> None:
        assert regex.fullmatch(value), value

    check()
