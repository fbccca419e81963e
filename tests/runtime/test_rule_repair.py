"""Each rule kind's repair and breaker at their edges, on small hand-made tables (a rule or
two each), as the strategies rely on them: repair changes a task only where a rule is
broken, says whether it changed anything and makes the least change (exact item counts on
both sides of a bound); a breaker leaves its rule broken before any repair; and two rules
that keep undoing each other settle by giving up a condition of the rule that adds."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
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


def each_break(
    module: ModuleType,
    rule_id: str,
    starts: Sequence[Mapping[str, Any]],
    check: Callable[[dict[str, Any], set[str]], None],
    examples: int = 10,
) -> None:
    """Run ``check(task, locked)`` on each of ``starts`` (added to the base task) just after
    the rule's breaker, before any repair, over a few derandomized draws."""
    factory = S._factory(module)
    rule = next(r for r in module.tables.RULES if r["id"] == rule_id)

    @settings(FEW, max_examples=examples)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        for start in starts:
            task, locked = {**TASK, **copy.deepcopy(start)}, set[str]()
            KINDS[rule["kind"]].break_(factory, data.draw, rule, task, locked)
            check(task, locked)

    run()


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
    def check(task: dict[str, Any], locked: set[str]) -> None:
        assert "a" in task and not {"b", "c"} & task.keys() and {"b", "c"} <= locked
        assert broken_rules(NEEDS, task) == {"b-and-c", "b-or-c"}

    each_break(NEEDS, "b-and-c", [{"b": "y", "c": "z"}], check)


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
    def check(task: dict[str, Any], locked: set[str]) -> None:
        assert "c" in task and len(task["t"]) == 4 and "t" in locked
        assert broken_rules(ITEMS, task) == {"three-at-most-when-c"}

    each_break(ITEMS, "three-at-most-when-c", [{"t": ["a"]}], check)


@pytest.mark.parametrize("forbids_first", [False, True], ids=["adding-first", "forbids-first"])
@pytest.mark.parametrize("adding", ["requires", "requireItems"])
def test_an_adding_rule_and_a_forbids_rule_fighting_settle_on_the_forbids_side(
    adding: str, forbids_first: bool
) -> None:
    """x needs t, y forbids t: repair keeps adding and removing t until it gives up the
    condition of the rule that adds (x), never the forbids rule's (a forbids rule only ever
    removes), whichever of the two rules the table lists first."""
    needs: dict[str, Any] = (
        {"then": {"mode": "allOf", "conditions": [{"path": "t"}]}}
        if adding == "requires"
        else {"target": "t", "minItems": 1}
    )
    rules = [
        {"id": "x-needs-t", "kind": adding, "message": "x needs t.", "when": when("x"), **needs},
        {
            "id": "y-forbids-t",
            "kind": "forbids",
            "message": "y forbids t.",
            "when": when("y"),
            "forbid": ["t"],
        },
    ]
    fight = model(
        f"fight-{adding}",
        [
            {"path": "x", "types": ["string"]},
            {"path": "y", "types": ["string"]},
            {"path": "t", **STRINGS},
        ],
        rules[::-1] if forbids_first else rules,
    )
    factory = S._factory(fight)

    # A repair that never settles fails on the first draw; shrinking its twenty rounds of
    # draws would take minutes and show nothing more.
    @settings(FEW, phases=[Phase.explicit, Phase.generate])
    @given(st.data())
    def check(data: st.DataObject) -> None:
        task = {**TASK, "x": "on", "y": "on"}
        assert factory.repair(data.draw, task, set(), None) == []
        assert task == {**TASK, "y": "on"}

    check()


def test_a_together_breaker_gives_one_member_and_leaves_the_others_out() -> None:
    pair = model(
        "pair",
        [{"path": "a", "types": ["string"]}, {"path": "b", "types": ["string"]}],
        [{"id": "a-with-b", "kind": "together", "message": "a with b.", "params": [["a"], ["b"]]}],
    )

    def check(task: dict[str, Any], locked: set[str]) -> None:
        assert len({"a", "b"} & task.keys()) == 1 and {"a", "b"} <= locked
        assert broken_rules(pair, task) == {"a-with-b"}

    each_break(pair, "a-with-b", [{}, {"a": "x"}, {"a": "x", "b": "y"}], check)


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

    def check(task: dict[str, Any], locked: set[str]) -> None:
        assert task["fast"] is True and {"width", "height"} <= locked
        assert (task["width"], task["height"]) in {(720, 1280), (1920, 1080)}
        assert broken_rules(SIZED, task) == {FAST_SIZES["id"]}

    each_break(SIZED, FAST_SIZES["id"], [{}], check)


# ── frame positions ─────────────────────────────────────────────────────────

FRAMES = model(
    "frames",
    [
        {"path": "frames", "types": ["array"], "items": {"type": "object"}},
        {"path": "frames.at", "types": ["string", "integer"], "enum": ["first", 0, "last"]},
    ],
    [
        {
            "id": "positions",
            "kind": "framePositions",
            "message": "Frames take distinct positions.",
            "target": "frames",
            "field": "at",
            "positions": {"first": ["first", 0], "last": ["last"]},  # "last" has one form
            "automatic": {"1": ["first"], "2": ["first", "last"]},
        }
    ],
)


@pytest.mark.parametrize(
    ("frames", "fixed"),
    [
        # a frame without a position (automatic) neither stops repair nor is given one
        ([{}, {"at": "first"}, {"at": "first"}], [{}, {"at": "first"}, {"at": "last"}]),
        ([{"at": "first"}, {"at": "first"}, {}], [{"at": "first"}, {"at": "last"}, {}]),
        # the clashing frame takes the free position's form, or its only one
        ([{"at": 0}, {"at": 0}], [{"at": 0}, {"at": "last"}]),
    ],
)
def test_frame_position_repair_moves_a_clashing_frame_to_the_free_position(
    frames: list[dict[str, Any]], fixed: list[dict[str, Any]]
) -> None:
    def check(repair: Repair, draw: Any) -> None:
        task = {**TASK, "frames": copy.deepcopy(frames)}
        assert repair("positions", task) and task["frames"] == fixed
        assert broken_rules(FRAMES, task) == set()
        distinct = [{"at": "first"}, {"at": "last"}]
        unchanged(
            repair, "positions", {**TASK, "frames": distinct}, {**TASK, "frames": [{}, {}]}, TASK
        )

    each_draw(FRAMES, check)


NESTED = model(
    "nested",
    [
        {"path": "o", "types": ["object"]},
        {"path": "o.shots", "types": ["array"], "items": {"type": "object"}},
        {"path": "o.shots.image", "types": ["string"], "required": True},
        {"path": "o.shots.meta", "types": ["object"]},
        {"path": "o.shots.meta.k", "types": ["string"]},
    ],
    [],
)


def test_a_path_through_an_empty_nested_array_gets_drawn_items_to_hold_it() -> None:
    """What a breaker makes present (``ensure``) inside an array nested in an object: an
    empty array (not provided) is drawn anew, and the first item holds the path."""
    factory = S._factory(NESTED)

    @FEW
    @given(st.data())
    def check(data: st.DataObject) -> None:
        task: dict[str, Any] = {**TASK, "o": {"shots": []}}
        assert factory.ensure(data.draw, task, "o.shots.meta.k") == "o.shots.0.meta.k"
        shot = task["o"]["shots"][0]
        assert isinstance(shot["image"], str) and isinstance(shot["meta"]["k"], str)
        assert all(isinstance(s["image"], str) for s in task["o"]["shots"])

    check()


def test_a_field_in_array_items_is_found_in_the_first_item_that_has_it() -> None:
    """Where a field violation breaks an item's field: the first item holding it, not the
    first item (which may leave the optional field out)."""
    shots: list[dict[str, Any]] = [
        {"image": "a"},
        {"image": "b", "meta": {"k": "x"}},
        {"image": "c", "meta": {}},
    ]
    task = {**TASK, "o": {"shots": shots}}
    assert S._concrete(task, "o.shots.meta") == ("o.shots.1.meta", shots[1], "meta")
    assert S._concrete(task, "o.shots.meta.k") == ("o.shots.1.meta.k", shots[1]["meta"], "k")
    assert S._concrete({**TASK, "o": {"shots": [{"image": "a"}]}}, "o.shots.meta") is None
    assert S._concrete({**TASK, "o": {"shots": ["a", "meta"]}}, "o.shots.meta") is None


# ── prompt references ───────────────────────────────────────────────────────


def references(
    name: str, pattern: str, prompt: Mapping[str, Any], *, required: bool = False
) -> ModuleType:
    """A rule over prompts ``p`` (``required`` or not) and ``q`` naming ``parts``."""
    return model(
        name,
        [
            {"path": "p", **prompt, "required": required},
            {"path": "q", **prompt},
            {"path": "parts", **STRINGS},
        ],
        [
            {
                "id": "refs",
                "kind": "promptReferences",
                "message": "A reference must name a part.",
                "in": ["p", "q"],
                "pattern": pattern,
                "target": "parts",
            }
        ],
    )


NUMBERED = references("numbered", r"@part(\d+)", {"types": ["string"], "maxLength": 40})
# not one literal around the number: references are drawn from the pattern itself
LOOSE = references("loose", r"@(?:part|p)(\d+)", {"types": ["string"]}, required=True)


def test_a_reference_builder_exists_only_for_a_literal_around_the_number() -> None:
    from runware_contract.rule_kinds import reference_template

    build = reference_template(r"<<<element_(\d+)>>>")
    assert build is not None and build(3) == "<<<element_3>>>"
    assert reference_template(r"@(?:part|p)(\d+)") is None
    assert reference_template("@part") is None


def test_reference_repair_fixes_each_prompt_and_leaves_valid_numbers_as_written() -> None:
    def check(repair: Repair, draw: Any) -> None:
        later = {**TASK, "q": "see @part3", "parts": ["a"]}  # p absent
        assert repair("refs", later) and later["q"] == "see @part1"
        unchanged(
            repair,
            "refs",
            {**TASK, "p": "@part01 then @part02", "parts": ["a", "b"]},
            {**TASK, "p": "plain", "q": "@part1", "parts": ["a"]},
        )

    each_draw(NUMBERED, check)


@pytest.mark.parametrize("module", [NUMBERED, LOOSE], ids=["numbered", "loose"])
def test_a_reference_breaker_names_a_part_the_task_lacks(module: ModuleType) -> None:
    """Built from the pattern's literal, or drawn from the pattern itself (no builder) into
    a prompt of any length."""

    def check(task: dict[str, Any], locked: set[str]) -> None:
        assert broken_rules(module, task) == {"refs"} and "+parts" in locked
        (prompt,) = [k for k in "pq" if task[k] != "hello"]  # one prompt refers
        assert task[prompt].endswith(" hello")

    starts = [{"p": "hello", "q": "hello", "parts": parts} for parts in (["a"], ["a", "b"])]
    each_break(module, "refs", starts, check, examples=40)


def test_valid_tasks_hold_prompts_with_references_and_without() -> None:
    seen: set[bool] = set()

    @settings(FEW, max_examples=30)
    @given(S.valid_tasks(LOOSE, require=("parts",)))
    def check(task: dict[str, Any]) -> None:
        assert broken_rules(LOOSE, task) == set()
        seen.add("@p" in task["p"])

    check()
    assert seen == {True, False}


# ── valueWhen ───────────────────────────────────────────────────────────────

VALUES = model(
    "values",
    [
        {"path": "fast", "types": ["boolean"]},
        {"path": "pro", "types": ["boolean"]},
        {"path": "hd", "types": ["boolean"]},
        {"path": "quality", "types": ["integer"], "minimum": 1, "maximum": 10},
    ],
    [
        {
            "id": "no-hd-when-fast",
            "kind": "valueWhen",
            "message": "fast is never hd.",
            "when": when("fast", equals=True),
            "param": "hd",
            "allowed": [False],
        },
        {
            "id": "hd-when-pro",
            "kind": "valueWhen",
            "message": "pro is always hd.",
            "when": when("pro", equals=True),
            "param": "hd",
            "allowed": [True],
        },
        {
            "id": "low-quality-when-fast",
            "kind": "valueWhen",
            "message": "fast is quality 5 at most.",
            "when": when("fast", equals=True),
            "param": "quality",
            "maximum": 5,
        },
    ],
)


@pytest.mark.parametrize(
    ("rule_id", "flag", "other"), [("no-hd-when-fast", "fast", True), ("hd-when-pro", "pro", False)]
)
def test_a_value_rule_on_a_boolean_breaks_with_the_other_boolean(
    rule_id: str, flag: str, other: bool
) -> None:
    rule = next(r for r in VALUES.tables.RULES if r["id"] == rule_id)
    assert KINDS["valueWhen"].breakable(S._factory(VALUES), rule)

    def check(task: dict[str, Any], locked: set[str]) -> None:
        assert task[flag] is True and task["hd"] is other and "hd" in locked
        assert rule_id in broken_rules(VALUES, task)

    each_break(VALUES, rule_id, [{}], check)


def test_value_repair_lowers_a_value_over_its_maximum_and_adds_none() -> None:
    def check(repair: Repair, draw: Any) -> None:
        high = {**TASK, "fast": True, "quality": 6}
        assert repair("low-quality-when-fast", high) and high["quality"] == 5
        unchanged(
            repair,
            "low-quality-when-fast",
            {**TASK, "fast": True},  # absent, no default: nothing to check or add
            {**TASK, "fast": True, "quality": 5},
            {**TASK, "fast": False, "quality": 9},
        )

    each_draw(VALUES, check)


def test_valid_tasks_refer_to_every_part_from_the_first_to_the_last() -> None:
    """With as many parts as references are seeded for, each part is named in some task."""
    from runware_contract.rule_kinds import MAX_REFERENCE

    four = references(
        "four-parts", r"@part(\d+)", {"types": ["string"], "maxLength": 40}, required=True
    )
    parts = next(p for p in four.tables.PARAMETERS if p["path"] == "parts")
    parts.update(minItems=MAX_REFERENCE, maxItems=MAX_REFERENCE)
    seen: set[int] = set()

    @settings(FEW, max_examples=100)
    @given(S.valid_tasks(four, require=("parts",)))
    def check(task: dict[str, Any]) -> None:
        seen.update(int(n) for n in re.findall(r"@part(\d+)", task["p"]))

    check()
    assert seen == set(range(1, MAX_REFERENCE + 1))
