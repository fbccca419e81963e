"""The consistency analysis (``codegen/spec/consistency.py``) on small hand-made models: what
it calls impossible, whom it blames, and how the task's shape (required, parent, child)
counts; and, per rule kind, a property over drawn models that it agrees with the generated
validator: a parameter it calls never sendable is refused in every task that carries it,
and one it calls sendable is in some valid task."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codegen.docs.importer import load_platform
from codegen.spec.consistency import Finding, analyse, findings_by_model, self_contradictions
from codegen.spec.kinds import rule_args
from codegen.spec.loader import load_model_text
from codegen.spec.model import ModelSpec, Rule
from runware_contract.values import provided
from tests.conftest import SPEC_DIR
from tests.contracts import MODEL_ID, contract_for, model_spec

PLATFORM = load_platform(SPEC_DIR)


def model(params: Sequence[dict[str, Any]], rules: Sequence[dict[str, Any]]) -> ModelSpec:
    return model_spec(PLATFORM, params, rules)


def impossible(
    params: Sequence[dict[str, Any]], *rules: dict[str, Any]
) -> dict[str | None, tuple[str, ...]]:
    return {f.parameter: f.rules for f in analyse(model(params, rules))}


def text(*paths: str, required: bool = False) -> list[dict[str, Any]]:
    return [{"path": p, "type": "string", "required": required} for p in paths]


def requires(rid: str, when: list[Any], then: list[str], mode: str = "allOf") -> dict[str, Any]:
    return {"id": rid, "kind": "requires", "when": {"anyOf": when}, "then": {mode: then}}


def forbids(rid: str, when: list[Any], forbid: list[str]) -> dict[str, Any]:
    return {"id": rid, "kind": "forbids", "when": {"anyOf": when}, "forbid": forbid}


ARRAY = {"path": "refs", "type": "array", "items": {"type": "string"}, "maxItems": 5}


# ── each kind's contradiction, stated exactly ───────────────────────────────


def test_exactly_one_of_two_operands_contradicts_requiring_both() -> None:
    one = {"id": "a-or-b", "kind": "exactlyOne", "params": ["a", "b"]}
    assert impossible(text("a", "b"), one, requires("a-needs-b", ["a"], ["b"])) == {
        "a": ("a-needs-b", "a-or-b")
    }
    # and when each needs the other, no task is valid at all
    found = impossible(
        text("a", "b"),
        one,
        requires("a-needs-b", ["a"], ["b"]),
        requires("b-needs-a", ["b"], ["a"]),
    )
    assert found == {None: ("a-needs-b", "a-or-b", "b-needs-a")}
    # at least one of the two takes both: no contradiction
    least = {"id": "a-or-b", "kind": "atLeastOne", "params": ["a", "b"]}
    assert impossible(text("a", "b"), least, requires("a-needs-b", ["a"], ["b"])) == {}


def test_exactly_one_counts_a_group_operand_once() -> None:
    one = {"id": "a-or-bc", "kind": "exactlyOne", "params": ["a", ["b", "c"]]}
    assert impossible(text("a", "b", "c"), one, requires("b-needs-c", ["b"], ["c"])) == {}
    assert impossible(text("a", "b", "c"), one, requires("b-needs-a", ["b"], ["a"])) == {
        "b": ("a-or-bc", "b-needs-a")
    }


def test_at_least_one_with_every_operand_forbidden() -> None:
    least = {"id": "a-or-b", "kind": "atLeastOne", "params": ["a", "b"]}
    found = impossible(
        text("a", "b", "c"), least, forbids("c-no-a", ["c"], ["a"]), forbids("c-no-b", ["c"], ["b"])
    )
    assert found == {"c": ("a-or-b", "c-no-a", "c-no-b")}
    assert impossible(text("a", "b", "c"), least, forbids("c-no-a", ["c"], ["a"])) == {}


@pytest.mark.parametrize(
    ("least", "most", "blocked"), [(2, 2, False), (2, 1, True), (3, 2, True), (1, 1, False)]
)
def test_required_and_limited_item_counts_meet_at_equality(
    least: int, most: int, blocked: bool
) -> None:
    rules = [
        {
            "id": "a-needs-refs",
            "kind": "requireItems",
            "when": {"anyOf": ["a"]},
            "target": "refs",
            "minItems": least,
        },
        {
            "id": "a-limits-refs",
            "kind": "limitItems",
            "when": {"anyOf": ["a"]},
            "target": "refs",
            "maxItems": most,
        },
    ]
    found = impossible([*text("a"), ARRAY], *rules)
    assert found == ({"a": ("a-limits-refs", "a-needs-refs")} if blocked else {})


def test_an_item_count_rule_beyond_the_arrays_own_bounds() -> None:
    """The array's own minItems/maxItems hold too: a rule needing more items than the array
    takes, or fewer than it needs, leaves its condition impossible."""
    needs = {
        "id": "a-needs-refs",
        "kind": "requireItems",
        "when": {"anyOf": ["a"]},
        "target": "refs",
    }
    limits = {
        "id": "a-limits-refs",
        "kind": "limitItems",
        "when": {"anyOf": ["a"]},
        "target": "refs",
    }
    assert impossible([*text("a"), {**ARRAY, "maxItems": 3}], {**needs, "minItems": 3}) == {}
    assert impossible([*text("a"), {**ARRAY, "maxItems": 3}], {**needs, "minItems": 4}) == {
        "a": ("a-needs-refs",)
    }
    bounded = [*text("a"), {**ARRAY, "minItems": 2}]
    assert impossible(bounded, {**needs, "minItems": 1}, {**limits, "maxItems": 2}) == {}
    assert impossible(bounded, {**needs, "minItems": 1}, {**limits, "maxItems": 1}) == {
        "a": ("a-limits-refs", "a-needs-refs")
    }
    assert impossible(bounded, {**limits, "maxItems": 1}) == {}  # a without refs


def test_together_with_one_member_forbidden_by_the_other() -> None:
    pair = {"id": "ab", "kind": "together", "params": ["a", "b"]}
    assert impossible(text("a", "b"), pair, forbids("a-no-b", ["a"], ["b"])) == {
        "a": ("a-no-b", "ab"),
        "b": ("a-no-b", "ab"),
    }


def test_a_value_rule_blocks_its_condition_only_when_no_value_fits() -> None:
    params = [
        *text("a"),
        {
            "path": "mode",
            "type": "string",
            "enum": [{"value": "x"}, {"value": "y"}],
            "default": "x",
        },
    ]
    rule = {"id": "mode-with-a", "kind": "valueWhen", "when": {"anyOf": ["a"]}, "param": "mode"}
    assert impossible(params, {**rule, "allowed": ["y"]}) == {}  # give mode y
    # the default x does not fit, and mode is required while a is given? no: absent is x
    assert impossible(
        params, {**rule, "allowed": ["y"]}, forbids("a-no-mode", ["a"], ["mode"])
    ) == {"a": ("a-no-mode", "mode-with-a")}
    assert (
        impossible(params, {**rule, "allowed": ["x"]}, forbids("a-no-mode", ["a"], ["mode"])) == {}
    )
    duration = {
        "id": "short-with-a",
        "kind": "valueWhen",
        "when": {"anyOf": ["a"]},
        "param": "duration",
    }
    assert impossible(text("a"), {**duration, "maximum": 1}) == {}  # duration 1 fits
    assert impossible(text("a"), {**duration, "maximum": 0}) == {"a": ("short-with-a",)}


def test_a_condition_on_a_value_or_an_absence() -> None:
    params = [
        *text("b"),
        {"path": "mode", "type": "string", "enum": [{"value": "x"}, {"value": "y"}]},
    ]
    slow = [{"path": "mode", "equals": "x"}]
    found = impossible(params, requires("x-needs-b", slow, ["b"]), forbids("x-no-b", slow, ["b"]))
    assert found == {}  # mode y, or no mode, stays possible
    without = [{"path": "mode", "not": True}]
    found = impossible(
        params, requires("bare-needs-b", without, ["b"]), forbids("b-no-mode", ["b"], ["mode"])
    )
    assert found == {}  # b alone is valid
    found = impossible(
        params,
        requires("bare-needs-b", without, ["b"]),
        forbids("bare-no-b", without, ["b"]),
    )
    assert found == {}  # give mode: then neither rule applies


# ── the task's shape ────────────────────────────────────────────────────────


def test_a_top_level_required_parameter_is_always_given() -> None:
    params = [*text("r", required=True), *text("b")]
    assert impossible(params, forbids("r-no-b", ["r"], ["b"])) == {"b": ("r-no-b",)}


def test_a_nested_required_parameter_is_given_only_with_its_object() -> None:
    params = [{"path": "o", "type": "object"}, *text("o.r", required=True), *text("o.s", "b")]
    assert impossible(params, forbids("r-no-b", ["o.r"], ["b"])) == {}  # leave o out
    assert impossible(
        params, forbids("r-no-b", ["o.r"], ["b"]), requires("b-needs-o", ["b"], ["o"])
    ) == {"b": ("b-needs-o", "r-no-b")}


def test_a_child_is_given_only_inside_its_parent() -> None:
    params = [{"path": "o", "type": "object"}, *text("o.x", "o.y", "a")]
    found = impossible(
        params, forbids("a-no-o", ["a"], ["o"]), requires("a-needs-x", ["a"], ["o.x"])
    )
    assert found == {"a": ("a-needs-x", "a-no-o")}


def test_an_object_whose_every_child_is_forbidden_cannot_be_given() -> None:
    params = [{"path": "o", "type": "object"}, *text("o.x", "o.y", "a")]
    rules = [forbids("a-no-x", ["a"], ["o.x"]), forbids("a-no-y", ["a"], ["o.y"])]
    assert impossible(params, *rules) == {}
    assert impossible(params, *rules, requires("a-needs-o", ["a"], ["o"])) == {
        "a": ("a-needs-o", "a-no-x", "a-no-y")
    }
    # a child no rule names could still fill it
    params.append({"path": "o.z", "type": "string"})
    assert impossible(params, *rules, requires("a-needs-o", ["a"], ["o"])) == {}


def test_inside_an_impossible_object_nothing_can_be_given() -> None:
    params = [*text("r", required=True), {"path": "o", "type": "object"}, *text("o.x", "o.y")]
    found = impossible(params, forbids("r-no-o", ["r"], ["o"]))
    # o.x and o.y are named by no rule: they are impossible because o is
    assert found == {"o": ("r-no-o",), "o.x": ("r-no-o",), "o.y": ("r-no-o",)}


def test_the_blame_is_a_smallest_set_of_rules() -> None:
    rules = [
        requires("a-needs-b", ["a"], ["b"]),
        forbids("a-no-b", ["a"], ["b"]),
        requires("a-needs-c", ["a"], ["c"]),  # connected, but not needed for the contradiction
        requires("d-needs-c", ["d"], ["c"]),  # unrelated
    ]
    assert impossible(text("a", "b", "c", "d"), *rules) == {"a": ("a-needs-b", "a-no-b")}


def test_a_rule_not_enforced_is_left_out() -> None:
    rules = [
        requires("a-needs-b", ["a"], ["b"]),
        {**forbids("a-no-b", ["a"], ["b"]), "enforced": False, "notes": ["x"]},
    ]
    assert impossible(text("a", "b"), *rules) == {}


def test_an_array_of_objects_hides_no_object_whose_every_child_is_forbidden() -> None:
    """An array is given with items whatever their fields; that does not end the look at
    the objects after it: `o`, all of whose children `a` forbids, still cannot go with `a`."""
    params = [
        {"path": "els", "type": "array", "items": {"type": "object"}},
        *text("els.id", "a", "b"),
        {"path": "o", "type": "object"},
        *text("o.x", "o.y"),
    ]
    rules = [
        requires("b-needs-els", ["b"], ["els"]),  # the array first among what rules name
        forbids("a-no-x", ["a"], ["o.x"]),
        forbids("a-no-y", ["a"], ["o.y"]),
        requires("a-needs-o", ["a"], ["o"]),
    ]
    assert impossible(params, *rules) == {"a": ("a-needs-o", "a-no-x", "a-no-y")}


def test_a_contradiction_among_required_parameters_beside_independent_rules() -> None:
    """`r` is always given and its rules contradict: no task is valid at all, however many
    rules elsewhere (here `a` and `b`, each needing the other) the model has."""
    pair = [
        {"id": "ab", "kind": "together", "params": ["a", "b"]},
        requires("a-needs-b", ["a"], ["b"]),
        requires("b-needs-a", ["b"], ["a"]),
        {"id": "a-or-b", "kind": "atLeastOne", "params": ["a", "b"]},
    ]
    params = [*text("a", "b", "c"), *text("r", required=True)]
    found = impossible(
        params, *pair, requires("r-needs-c", ["r"], ["c"]), forbids("r-no-c", ["r"], ["c"])
    )
    assert found == {None: ("r-needs-c", "r-no-c")}


def test_a_rule_naming_a_parameter_on_both_sides_is_a_self_contradiction() -> None:
    """ "`a` cannot be used with `a`" refuses every task with `a`: it is reported whether
    enforced or (as the importer leaves it) not; a rule naming two parameters is not."""
    params = text("a", "b")
    itself = {**forbids("a-no-a", ["a"], ["a", "b"]), "enforced": False, "notes": ["x"]}
    spec = model(params, [forbids("a-no-b", ["a"], ["b"]), itself])
    assert [(rule.id, both) for rule, both in self_contradictions(spec)] == [("a-no-a", ["a"])]


def test_findings_by_model_names_the_model_of_each_finding() -> None:
    clash = [requires("a-needs-b", ["a"], ["b"]), forbids("a-no-b", ["a"], ["b"])]
    broken, fine = model(text("a", "b"), clash), model(text("a", "b"), clash[:1])
    found = [(m, f.parameter) for m, f in findings_by_model([fine, broken, broken])]
    assert found == [(broken, "a"), (broken, "a")]


# ── what a finding says, and the step budget ────────────────────────────────


def test_each_finding_says_what_it_found() -> None:
    assert Finding("seed", ("a-needs-b", "a-no-b")).message() == (
        "seed can never be provided: rules a-needs-b, a-no-b"
    )
    assert Finding(None, ("r-needs-c", "r-no-c")).message() == (
        "the model accepts no task at all: rules r-needs-c, r-no-c contradict each other"
    )
    assert Finding(None, (), 7).message().startswith("analysis gave up after 7 steps")


def test_findings_compare_as_values() -> None:
    """What changed between two versions of a page is a set difference of findings."""
    rules = [requires("a-needs-b", ["a"], ["b"]), forbids("a-no-b", ["a"], ["b"])]
    before = set(analyse(model(text("a", "b"), rules)))
    after = set(analyse(model(text("a", "b"), rules[:1])))
    assert before - after == {Finding("a", ("a-needs-b", "a-no-b"))}
    assert after == set()


def test_the_budget_is_the_number_of_values_the_search_may_try() -> None:
    """`a` needing `b` takes five: a value of each for some valid task, then with `a` given
    both of `b`'s (only one fits) and `a`'s own. Five is enough; four gives up after four."""
    spec = model(text("a", "b"), [requires("a-needs-b", ["a"], ["b"])])
    assert analyse(spec, budget=5) == []
    assert analyse(spec, budget=4) == [Finding(None, (), 4)]


def chain(n: int) -> ModelSpec:
    """`c0` needs `c1`, ... needs `c{n-1}`, which both needs and forbids `z`."""
    links = [requires(f"c{i}-needs-c{i + 1}", [f"c{i}"], [f"c{i + 1}"]) for i in range(n - 1)]
    last = f"c{n - 1}"
    ends = [requires("last-needs-z", [last], ["z"]), forbids("last-no-z", [last], ["z"])]
    return model(text(*(f"c{i}" for i in range(n)), "z"), [*links, *ends])


def test_propagation_decides_a_long_chain_and_a_real_page_in_few_steps() -> None:
    """Each link of a chain is forced, not searched: twelve links ending in a contradiction
    are decided in under 2,500 steps (every parameter of the chain is impossible), and the
    Kling page in under 250, far inside the budget a page built to be hard meets."""
    found = analyse(chain(12), budget=2500)
    assert [f.parameter for f in found] == sorted(f"c{i}" for i in range(12))
    kling = load_model_text(
        (SPEC_DIR / "models" / "klingai-video-3-0-pro.yaml").read_text(), "kling", PLATFORM
    )
    assert not any(f.gave_up_after for f in analyse(kling, budget=250))


# ── the analysis agrees with the validator, per rule kind ───────────────────
# Drawn models over a small parameter set; every task over a value grid of it (each
# parameter absent or given with each value a rule can tell apart) is validated.

ENUM = ("x", "y")
GRID: dict[str, tuple[Any, ...]] = {
    "a": ("s",),
    "b": ("s",),
    "mode": ENUM,
    "refs": (["u"], ["u", "u"], ["u", "u", "u"]),
    "o": ({"x": "s"}, {"y": "s"}, {"x": "s", "y": "s"}),
    "duration": (1, 10),
}
FLAT = ["a", "b", "mode", "refs", "o", "o.x", "o.y"]
KIND_NAMES = [
    "exactlyOne",
    "atLeastOne",
    "requires",
    "forbids",
    "limitItems",
    "requireItems",
    "together",
    "valueWhen",
    "defaultWhen",
]


def parameters(child_required: bool) -> list[dict[str, Any]]:
    return [
        *text("a", "b"),
        {"path": "mode", "type": "string", "enum": [{"value": v} for v in ENUM], "default": "x"},
        {"path": "refs", "type": "array", "items": {"type": "string"}, "maxItems": 3},
        {"path": "o", "type": "object"},
        {"path": "o.x", "type": "string", "required": child_required},
        {"path": "o.y", "type": "string"},
    ]


@st.composite
def conditions(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(1, 2))
    conds: list[Any] = []
    for _ in range(n):
        path = draw(st.sampled_from(FLAT))
        cond: dict[str, Any] = {"path": path}
        if path == "mode" and draw(st.booleans()):
            cond["equals"] = draw(st.sampled_from(ENUM))
        if draw(st.integers(0, 3)) == 0:
            cond["not"] = True
        conds.append(cond if len(cond) > 1 else path)  # the spec writes a bare path as itself
    return {draw(st.sampled_from(["anyOf", "allOf"])) if n > 1 else "anyOf": conds}


def distinct(draw: Any, n: int) -> list[str]:
    paths: list[str] = draw(st.lists(st.sampled_from(FLAT), min_size=n, max_size=n, unique=True))
    return paths


@st.composite
def rule_of(draw: Any, kind: str, rid: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": rid, "kind": kind}
    if kind in ("exactlyOne", "atLeastOne"):
        paths = distinct(draw, draw(st.integers(2, 3)))
        rule["params"] = [paths[0], paths[1:]] if len(paths) == 3 and draw(st.booleans()) else paths
    elif kind == "together":
        rule["params"] = distinct(draw, 2)
    elif kind == "requires":
        rule["when"] = draw(conditions())
        rule["then"] = {
            draw(st.sampled_from(["anyOf", "allOf"])): distinct(draw, draw(st.integers(1, 2)))
        }
    elif kind == "forbids":
        rule["when"] = draw(conditions())
        rule["forbid"] = distinct(draw, draw(st.integers(1, 2)))
    elif kind in ("limitItems", "requireItems"):
        rule["when"] = draw(conditions())
        rule["target"] = "refs"
        least = 0 if kind == "limitItems" else 1
        rule["maxItems" if kind == "limitItems" else "minItems"] = draw(st.integers(least, 4))
    elif kind == "valueWhen":
        rule["when"] = draw(conditions())
        if draw(st.booleans()):
            rule["param"] = "mode"
            rule["allowed"] = draw(
                st.lists(st.sampled_from(ENUM), min_size=1, max_size=2, unique=True)
            )
        else:
            rule["param"] = "duration"
            rule["maximum"] = draw(st.integers(0, 10))
    else:  # defaultWhen
        rule["when"] = draw(conditions())
        rule["param"] = "b"
        rule["default"] = "s"
    return rule


@cache
def base_model(child_required: bool) -> ModelSpec:
    """The drawn models' parameters, loaded once (the rules are drawn in the spec's own
    form, within its meta-schema, and set on it: loading each would cost 0.1 s)."""
    return model(parameters(child_required), [])


@st.composite
def rule_lists(draw: Any, kind: str) -> list[dict[str, Any]]:
    """A rule of ``kind`` and up to three others of any kind."""
    rules = [draw(rule_of(kind, f"{kind.lower()}-0"))]
    for i in range(draw(st.integers(0, 3))):
        other = draw(st.sampled_from(KIND_NAMES))
        rules.append(draw(rule_of(other, f"other-{i}")))
    return rules


def drawn_model(child_required: bool, rules: list[dict[str, Any]]) -> ModelSpec:
    base = base_model(child_required)
    return dataclasses.replace(
        base,
        rules=tuple(
            Rule(base.loc, {}, id=r["id"], kind=r["kind"], message=r["id"], args=rule_args(r))
            for r in rules
        ),
    )


@cache
def grid() -> tuple[dict[str, Any], ...]:
    base = {
        "taskType": "videoInference",
        "taskUUID": "08885c1c-3794-4bb7-adab-b8df47f93c80",
        "model": MODEL_ID,
    }
    names = list(GRID)
    tasks = []
    for values in itertools.product(*[(None, *GRID[n]) for n in names]):
        task = dict(base)
        task.update({n: v for n, v in zip(names, values, strict=True) if v is not None})
        tasks.append(task)
    return tuple(tasks)


def carried(task: dict[str, Any], path: str) -> bool:
    value: Any = task
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    return provided(value)


def check_agreement(spec: ModelSpec) -> None:
    contract = contract_for(spec, PLATFORM)
    findings = analyse(spec)
    assert not any(f.gave_up_after for f in findings)
    never = {f.parameter for f in findings}
    valid = [t for t in grid() if not contract.violations(t)]
    if None in never:
        assert valid == [], "the analysis finds no valid task, the validator accepts one"
        return
    for path in FLAT:
        sendable = any(carried(t, path) for t in valid)
        assert sendable == (path not in never), (path, findings)


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_the_analysis_agrees_with_the_validator(kind: str) -> None:
    @settings(
        max_examples=15,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(st.booleans(), rule_lists(kind))
    def agree(child_required: bool, rules: list[dict[str, Any]]) -> None:
        check_agreement(drawn_model(child_required, rules))

    agree()
