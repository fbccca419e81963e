"""The shipped strategies (``runware_contract.strategies``) at their edges: drawn strings
within their length bounds and reaching both, and the two promises a user's property test
rests on: a valid task is valid, and a rule violation breaks that rule and nothing else,
even on a spec where repair cannot always succeed (such draws are rejected, never yielded)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from codegen.docs.importer import load_platform
from runware_contract import strategies as S
from tests.conftest import SPEC_DIR
from tests.contracts import model_module, model_spec

PLATFORM = load_platform(SPEC_DIR)
FEW = settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def texts(low: int, high: int) -> st.SearchStrategy[str]:
    drawer = S.text_drawer(low, high)
    return st.composite(lambda draw: drawer(draw))()


@pytest.mark.parametrize(("low", "high"), [(0, 0), (0, 3), (2, 5), (1, S.MAX_TEXT + 25), (3, 500)])
def test_drawn_strings_keep_their_length_bounds_and_reach_both(low: int, high: int) -> None:
    strategy = texts(low, high)

    @FEW
    @given(strategy)
    def within(text: str) -> None:
        assert low <= len(text) <= high

    within()
    quick = settings(database=None, derandomize=True, max_examples=200)
    assert len(find(strategy, lambda t: len(t) == high, settings=quick)) == high
    assert len(find(strategy, lambda t: len(t) == low, settings=quick)) == low


def integers(first: int, last: int, step: int) -> st.SearchStrategy[int]:
    drawer = S.integer_drawer(first, last, step)
    return st.composite(lambda draw: drawer(draw))()


@pytest.mark.parametrize(
    ("first", "last", "step"), [(0, 0, 1), (1, 5, 2), (-3, 3, 1), (0, S.SMALL_RANGE + 50, 3)]
)
def test_drawn_integers_keep_their_bounds_and_step_and_reach_both(
    first: int, last: int, step: int
) -> None:
    strategy = integers(first, last, step)

    @FEW
    @given(strategy)
    def within(n: int) -> None:
        assert first * step <= n <= last * step and n % step == 0

    within()
    quick = settings(database=None, derandomize=True, max_examples=200)
    assert find(strategy, lambda n: n == last * step, settings=quick) == last * step
    assert find(strategy, lambda n: n == first * step, settings=quick) == first * step


def module(model_id: str, params: list[dict[str, Any]], rules: list[dict[str, Any]]) -> ModuleType:
    return model_module(model_spec(PLATFORM, params, rules, model_id=model_id), PLATFORM)


# `a` with a level `d` above the cap a rule puts on it while `a` is given: repair can set
# `d` to the cap, which its own minimum refuses, so no valid task gives both.
CAPPED = [
    {"path": "a", "type": "string", "maxLength": 5},
    {"path": "b", "type": "string", "maxLength": 5},
    {"path": "d", "type": "integer", "minimum": 2, "maximum": 9},
]
CAP = {
    "id": "d-capped-with-a",
    "kind": "valueWhen",
    "when": {"anyOf": ["a"]},
    "param": "d",
    "maximum": 1,
}
NEEDS_B = {
    "id": "a-needs-b",
    "kind": "requires",
    "when": {"anyOf": ["a"]},
    "then": {"allOf": ["b"]},
}


def test_a_task_repair_cannot_fix_is_rejected_never_drawn() -> None:
    model = module("acme:capped@1", CAPPED, [CAP])
    # a valid task with a and d: none exists, and none is drawn
    strategy = S.valid_tasks(model, require=("a", "d"))

    @FEW
    @given(strategy)
    def valid(task: dict[str, Any]) -> None:
        assert model.CONTRACT.violations(task) == []

    with pytest.raises(Unsatisfiable):
        valid()

    @FEW
    @given(S.valid_tasks(model, require=("a",)))
    def without_d(task: dict[str, Any]) -> None:  # a alone is fine: d absent
        assert model.CONTRACT.violations(task) == [] and "d" not in task

    without_d()


def test_a_rule_violation_breaks_that_rule_and_nothing_else() -> None:
    required = [{**p, "required": p["path"] == "d"} for p in CAPPED]
    model = module("acme:capped-required@1", required, [NEEDS_B, CAP])
    # breaking a-needs-b gives a, so d (required) meets its cap and its minimum: never alone

    @FEW
    @given(S.rule_violations(model, "a-needs-b"))
    def alone(task: dict[str, Any]) -> None:
        assert {v.rule for v in model.CONTRACT.violations(task)} == {"a-needs-b"}

    with pytest.raises(Unsatisfiable):
        alone()
    # and where it can break alone, it does
    free = module("acme:needs-b@1", CAPPED, [NEEDS_B])

    @FEW
    @given(S.rule_violations(free, "a-needs-b"))
    def broken(task: dict[str, Any]) -> None:
        found = free.CONTRACT.violations(task)
        assert [(v.rule, v.parameter) for v in found] == [("a-needs-b", "b")]

    broken()


def test_a_field_violation_breaks_that_field_and_nothing_else() -> None:
    required = [{**p, "required": p["path"] == "d"} for p in CAPPED]
    cap_with_b = {**CAP, "id": "d-capped-with-b", "when": {"anyOf": ["b"]}}
    model = module("acme:capped-by-b@1", required, [cap_with_b])
    # b too long is still b given: d meets its cap and its minimum, never alone

    @FEW
    @given(S.field_violations(model, "b", "maxLength"))
    def alone(task: dict[str, Any]) -> None:
        assert [v.rule for v in model.CONTRACT.violations(task)] == ["maxLength"]

    with pytest.raises(Unsatisfiable):
        alone()
    free = module("acme:free@1", CAPPED, [])

    @FEW
    @given(S.field_violations(free, "b", "maxLength"))
    def broken(task: dict[str, Any]) -> None:
        found = free.CONTRACT.violations(task)
        assert [(v.rule, v.parameter) for v in found] == [("maxLength", "b")]

    broken()


def test_a_required_array_is_drawn_with_items() -> None:
    params = [{"path": "refs", "type": "array", "items": {"type": "string"}, "minItems": 0}]
    model = module("acme:refs@1", params, [])

    @FEW
    @given(S.valid_tasks(model, require=("refs",)))
    def given_refs(task: dict[str, Any]) -> None:
        assert len(task["refs"]) >= 1

    given_refs()
