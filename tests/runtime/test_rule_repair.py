"""Each rule kind's repair and breaker at their edges, on small hand-made tables (a rule or
two each), as the strategies rely on them: repair changes a task only where a rule is
broken, says whether it changed anything and makes the least change (exact item counts on
both sides of a bound); a breaker leaves its rule broken before any repair; and two rules
that keep undoing each other settle by giving up a condition of the rule that adds."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runware_contract import strategies as S
from runware_contract.platform import CONSTRAINT_CODES, FORMATS, RULE_CODES
from runware_contract.rule_kinds import KINDS
from runware_contract.runtime import Contract

FEW = settings(
    max_examples=10,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
BASE = [{"path": "taskType", "types": ["string"], "required": True, "const": "videoInference"}]
TASK: dict[str, Any] = {"taskType": "videoInference"}
STRINGS = {"types": ["array"], "items": {"type": "string"}}


def model(
    name: str,
    parameters: Sequence[Mapping[str, Any]],
    rules: Sequence[Mapping[str, Any]],
    dimensions: Mapping[str, Any] | None = None,
) -> ModuleType:
    """A model module as the strategies see one, made from hand-written tables."""
    table = ModuleType(f"{name}.tables")
    table.__dict__.update(PARAMETERS=[*BASE, *parameters], RULES=list(rules), DIMENSIONS=dimensions)
    contract = Contract(
        task_label=name,
        docs="https://example.com/docs/repair",
        parameters=table.PARAMETERS,
        rules=table.RULES,
        formats={n: (rx, text) for n, (rx, text) in FORMATS.items()},
        constraint_codes=CONSTRAINT_CODES,
        rule_codes=RULE_CODES,
        dimensions=dimensions,
    )
    module = ModuleType(name)
    module.__dict__.update(tables=table, CONTRACT=contract, MODEL_ID=f"test:{name}")
    return module


def when(path: str, **cond: Any) -> dict[str, Any]:
    return {"mode": "anyOf", "conditions": [{"path": path, **cond}]}


Repair = Callable[[str, dict[str, Any]], bool]


def each_draw(module: ModuleType, check: Callable[[Repair, Any], None]) -> None:
    """Run ``check`` over a few derandomized draws, with ``repair(rule_id, obj)``: that
    rule's repair of a root object, no locks."""
    factory = S._factory(module)
    rules = {r["id"]: r for r in module.tables.RULES}

    @FEW
    @given(st.data())
    def run(data: st.DataObject) -> None:
        def repair(rule_id: str, obj: dict[str, Any]) -> bool:
            rule = rules[rule_id]
            changed: bool = KINDS[rule["kind"]].repair(factory, data.draw, rule, obj, "", "", set())
            return changed

        check(repair, data.draw)

    run()


def unchanged(repair: Repair, rule_id: str, *tasks: dict[str, Any]) -> None:
    """Repair leaves each task, which keeps the rule, as it is, and says so."""
    for task in tasks:
        before = copy.deepcopy(task)
        assert not repair(rule_id, task), before
        assert task == before


def broken_rules(module: ModuleType, task: dict[str, Any]) -> set[str]:
    return {v.rule for v in module.CONTRACT.violations(task)}


# ── requires / requireItems ─────────────────────────────────────────────────

NEEDS = model(
    "needs",
    [{"path": p, "types": ["string"]} for p in "abc"],
    [
        {
            "id": "b-or-c",
            "kind": "requires",
            "message": "a needs b or c.",
            "when": when("a"),
            "then": {"mode": "anyOf", "conditions": [{"path": "b"}, {"path": "c"}]},
        },
        {
            "id": "b-and-c",
            "kind": "requires",
            "message": "a needs b and c.",
            "when": when("a"),
            "then": {"mode": "allOf", "conditions": [{"path": "b"}, {"path": "c"}]},
        },
    ],
)


def test_requires_repair_adds_one_option_of_either_and_every_one_of_all() -> None:
    def check(repair: Repair, draw: Any) -> None:
        one = {**TASK, "a": "x"}
        assert repair("b-or-c", one) and len({"b", "c"} & one.keys()) == 1
        every = {**TASK, "a": "x"}
        assert repair("b-and-c", every) and {"b", "c"} <= every.keys()
        unchanged(repair, "b-or-c", {**TASK, "a": "x", "c": "y"}, {**TASK, "b": "y"}, TASK)
        unchanged(repair, "b-and-c", {**TASK, "a": "x", "b": "y", "c": "z"}, {**TASK, "b": "y"})

    each_draw(NEEDS, check)


def test_a_requires_breaker_holds_the_condition_and_leaves_out_all_it_requires() -> None:
    factory, rule = S._factory(NEEDS), NEEDS.tables.RULES[1]

    @FEW
    @given(st.data())
    def check(data: st.DataObject) -> None:
        task, locked = {**TASK, "b": "y", "c": "z"}, set[str]()
        KINDS["requires"].break_(factory, data.draw, rule, task, locked)
        assert "a" in task and not {"b", "c"} & task.keys() and {"b", "c"} <= locked
        assert broken_rules(NEEDS, task) == {"b-and-c", "b-or-c"}

    check()


ITEMS = model(
    "items",
    [{"path": "c", "types": ["string"]}, {"path": "t", **STRINGS}],
    [
        {
            "id": "two-when-c",
            "kind": "requireItems",
            "message": "c needs two t.",
            "when": when("c"),
            "target": "t",
            "minItems": 2,
        },
        {
            "id": "three-at-most-when-c",
            "kind": "limitItems",
            "message": "c allows three t at most.",
            "when": when("c"),
            "target": "t",
            "maxItems": 3,
        },
    ],
)


def test_item_count_repair_fills_or_trims_to_exactly_the_bound_and_no_further() -> None:
    def check(repair: Repair, draw: Any) -> None:
        few = {**TASK, "c": "x", "t": ["a"]}
        assert repair("two-when-c", few) and few["t"] == ["a", "a"]
        absent = {**TASK, "c": "x"}
        assert repair("two-when-c", absent) and len(absent["t"]) >= 2
        many = {**TASK, "c": "x", "t": list("abcd")}
        assert repair("three-at-most-when-c", many) and many["t"] == list("abc")
        at_bounds = [{**TASK, "c": "x", "t": list("ab")}, {**TASK, "c": "x", "t": list("abc")}]
        unchanged(repair, "two-when-c", *copy.deepcopy(at_bounds), {**TASK, "t": ["a"]})
        unchanged(repair, "three-at-most-when-c", *at_bounds, {**TASK, "t": list("abcd")})

    each_draw(ITEMS, check)


def test_a_limit_breaker_gives_exactly_one_item_over_the_limit() -> None:
    factory, rule = S._factory(ITEMS), ITEMS.tables.RULES[1]

    @FEW
    @given(st.data())
    def check(data: st.DataObject) -> None:
        task, locked = {**TASK, "t": ["a"]}, set[str]()
        KINDS["limitItems"].break_(factory, data.draw, rule, task, locked)
        assert "c" in task and len(task["t"]) == 4 and "t" in locked
        assert broken_rules(ITEMS, task) == {"three-at-most-when-c"}

    check()


@pytest.mark.parametrize("adding", ["requires", "requireItems"])
def test_an_adding_rule_and_a_forbids_rule_fighting_settle_on_the_forbids_side(
    adding: str,
) -> None:
    """x needs t, y forbids t: repair keeps adding and removing t until it gives up the
    condition of the rule that adds (x), never the forbids rule's (a forbids rule only ever
    removes)."""
    needs: dict[str, Any] = (
        {"then": {"mode": "allOf", "conditions": [{"path": "t"}]}}
        if adding == "requires"
        else {"target": "t", "minItems": 1}
    )
    fight = model(
        f"fight-{adding}",
        [
            {"path": "x", "types": ["string"]},
            {"path": "y", "types": ["string"]},
            {"path": "t", **STRINGS},
        ],
        [
            {
                "id": "x-needs-t",
                "kind": adding,
                "message": "x needs t.",
                "when": when("x"),
                **needs,
            },
            {
                "id": "y-forbids-t",
                "kind": "forbids",
                "message": "y forbids t.",
                "when": when("y"),
                "forbid": ["t"],
            },
        ],
    )
    factory = S._factory(fight)

    @FEW
    @given(st.data())
    def check(data: st.DataObject) -> None:
        task = {**TASK, "x": "on", "y": "on"}
        assert factory.repair(data.draw, task, set(), None) == []
        assert task == {**TASK, "y": "on"}

    check()


# ── conditional dimensions ──────────────────────────────────────────────────

SIZES: dict[str, Any] = {
    "params": ["width", "height"],
    "rows": [
        {"width": 1280, "height": 720, "resolution": "720p"},
        {"width": 720, "height": 1280, "resolution": "720p"},
        {"width": 1920, "height": 1080, "resolution": "1080p"},
    ],
}
FAST_SIZES: dict[str, Any] = {
    "id": "fast-is-landscape-720p",
    "kind": "dimensions",
    "message": "fast is 1280x720 only.",
    "when": when("fast", equals=True),
    "sizes": [[1280, 720]],
}
SIZED = model(
    "sized",
    [
        {"path": "fast", "types": ["boolean"]},
        {"path": "width", "types": ["integer"]},
        {"path": "height", "types": ["integer"]},
    ],
    [FAST_SIZES],
    SIZES,
)


def test_conditional_size_repair_moves_only_a_size_the_condition_leaves_out() -> None:
    def check(repair: Repair, draw: Any) -> None:
        other = {**TASK, "fast": True, "width": 1920, "height": 1080}
        assert repair(FAST_SIZES["id"], other)
        assert (other["width"], other["height"]) == (1280, 720)
        unchanged(
            repair,
            FAST_SIZES["id"],
            {**TASK, "fast": True, "width": 1280, "height": 720},  # a size it allows
            {**TASK, "fast": False, "width": 1920, "height": 1080},  # the condition is false
            {**TASK, "width": 1920, "height": 1080},
            {**TASK, "fast": True},  # no size at all
        )

    each_draw(SIZED, check)


def test_a_conditional_size_rule_breaks_with_a_table_size_it_leaves_out() -> None:
    factory, kind = S._factory(SIZED), KINDS["dimensions"]
    every = {**FAST_SIZES, "sizes": [[r["width"], r["height"]] for r in SIZES["rows"]]}
    assert kind.breakable(factory, FAST_SIZES) and not kind.breakable(factory, every)

    @FEW
    @given(st.data())
    def check(data: st.DataObject) -> None:
        task, locked = dict(TASK), set[str]()
        kind.break_(factory, data.draw, FAST_SIZES, task, locked)
        assert task["fast"] is True and {"width", "height"} <= locked
        assert (task["width"], task["height"]) in {(720, 1280), (1920, 1080)}
        assert broken_rules(SIZED, task) == {FAST_SIZES["id"]}

    check()
