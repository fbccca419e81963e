"""The shipped strategies (``runware_contract.strategies``) at their edges: drawn strings
within their length bounds and reaching both, and the two promises a user's property test
rests on: a valid task is valid, and a rule violation breaks that rule and nothing else,
even on a spec where repair cannot always succeed (such draws are rejected, never yielded)."""

from __future__ import annotations

import base64
import importlib.util
import random
import re
import sys
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable, UnsatisfiedAssumption

from codegen.docs.importer import load_platform
from runware_contract import strategies as S
from runware_contract.platform import FORMAT_UNIONS, FORMATS
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


# ── format values: spread over their lengths, safe hosts, every part of a union ──

_SAMPLES = 4000
_URL_SAFE = set("abcdefghijklmnopqrstuvwxyz0123456789-_/.")


def _built(name: str) -> list[str]:
    """Values of a format's builder over a fixed sample of raw draws (seeded: the same in
    every run)."""
    found = S.format_builder(name)
    assert found is not None, name
    size, build = found
    rng = random.Random(name)
    return [build(rng.randbytes(size)) for _ in range(_SAMPLES)]


def _evenly_spread(lengths: list[int], low: int, high: int) -> None:
    """Every length from ``low`` to ``high`` and no other, each about equally often."""
    counts = {n: lengths.count(n) for n in set(lengths)}
    assert set(counts) == set(range(low, high + 1)), sorted(counts)
    share = len(lengths) / (high - low + 1)
    assert all(0.75 * share < c < 1.25 * share for c in counts.values()), counts


def test_format_values_take_every_length_of_their_range_equally_often() -> None:
    _evenly_spread([len(base64.b64decode(v)) for v in _built("base64")], 12, 17)
    payloads = [base64.b64decode(v.split(",", 1)[1]) for v in _built("data-uri")]
    _evenly_spread([len(p) for p in payloads], 1, 16)
    paths = [v.split("/", 3)[3] for v in _built("url")]
    _evenly_spread([len(p) for p in paths], 0, 12)
    assert set("".join(paths)) == _URL_SAFE  # every URL-safe path character, no other


def test_drawn_urls_point_at_reserved_example_hosts_only() -> None:
    """A client under test may fetch what it is given: no drawn URL names a real host."""
    safe = re.compile(r"(.+\.)?example\.(com|org|net)|127\.0\.0\.1(:\d+)?")

    @FEW
    @given(
        st.sampled_from(sorted(FORMATS)).flatmap(
            lambda n: st.tuples(st.just(n), S.format_values(n))
        )
    )
    def safe_hosts(drawn: tuple[str, str]) -> None:
        name, value = drawn
        if re.match("https?://", value):
            assert safe.fullmatch(urlsplit(value).netloc), (name, value)

    safe_hosts()
    for value in _built("image-ref") + _built("video-ref"):
        if re.match("https?://", value):
            assert safe.fullmatch(urlsplit(value).netloc), value


def test_a_union_format_draws_every_one_of_its_formats() -> None:
    for union, parts in FORMAT_UNIONS.items():
        values = _built(union)
        for part in parts:
            regex = re.compile(FORMATS[part][0])
            assert any(regex.fullmatch(v) for v in values), (union, part)
    assert S.format_builder("no-such-format") is None  # neither a builder nor a union


# ── strings and integers: free text up to MAX_TEXT, half the draws at a bound ──


def _repeats_its_start(text: str) -> bool:
    start = text[: S.SEED_TEXT]
    return len(text) > S.SEED_TEXT and (start * len(text))[: len(text)] == text


@pytest.mark.parametrize(("low", "high"), [(0, 10), (3, 500), (1, S.MAX_TEXT + 25)])
def test_strings_up_to_max_text_over_the_lower_bound_are_free_text(low: int, high: int) -> None:
    """Up to MAX_TEXT characters over the lower bound a string is any text; only a longer
    one (a bound far away) repeats a short drawn seed, and that seed varies too."""
    top = min(high, low + S.MAX_TEXT)
    free: set[int] = set()
    long: set[str] = set()

    @settings(FEW, max_examples=600)
    @given(texts(low, high))
    def collect(text: str) -> None:
        if not _repeats_its_start(text):
            free.add(len(text))
        if len(text) > top:
            long.add(text)

    collect()
    assert {top - 1, top} <= free
    if high > top:
        assert len(long) > 1  # not one fixed filler


def _choices(count: int) -> int:
    """How many Hypothesis choices drawing one integer of a range of ``count`` makes."""
    made: list[Any] = []

    def draw(strategy: Any) -> int:
        made.append(strategy)
        return 0

    S.integer_drawer(0, count - 1, 1)(draw)
    return len(made)


def test_a_range_of_small_range_values_costs_one_choice_one_more_costs_two() -> None:
    """The module's speed promise: a range of at most SMALL_RANGE values is one choice."""
    assert _choices(S.SMALL_RANGE) == 1
    assert _choices(S.SMALL_RANGE + 1) == 2


def test_a_wide_range_puts_many_of_its_draws_on_each_bound() -> None:
    """Inside a task (more choices follow, as here the bytes), a bound is a frequent value
    of a wide range, not one a uniform draw from a million would almost never give."""
    first, last, step = -5, 10**6, 3
    drawn: list[int] = []

    @settings(FEW, max_examples=200)
    @given(integers(first, last, step), st.binary(min_size=8, max_size=8))
    def collect(n: int, _rest: bytes) -> None:
        drawn.append(n)

    collect()
    assert drawn.count(first * step) > len(drawn) / 16
    assert drawn.count(last * step) > len(drawn) / 16


def test_without_hypothesis_the_strategies_say_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # a client-only install
    spec = importlib.util.spec_from_file_location("runware_contract._strategies_probe", S.__file__)
    assert spec is not None and spec.loader is not None
    with pytest.raises(ImportError, match=r"pip install 'runware-contract-kit\[testing\]'"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


# ── single field violations: one target per breakable constraint, each broken alone ──

FIELDS: list[dict[str, Any]] = [
    {"path": "s", "type": "string", "minLength": 1, "maxLength": 5},
    {"path": "s0", "type": "string", "minLength": 0, "maxLength": 5},
    {"path": "e", "type": "string", "enum": [{"value": "x"}, {"value": "y"}]},
    {"path": "i", "type": "integer", "minimum": 2, "maximum": 20, "multipleOf": 2},
    {"path": "k", "type": "integer", "minimum": 0, "maximum": 9},
    {"path": "n", "type": "number", "minimum": 0, "maximum": 1},
    {"path": "q", "type": "number", "minimum": 0.5, "maximum": 2, "multipleOf": 0.25},
    {"path": "r", "type": "number", "minimum": 0.4, "maximum": 2.1, "multipleOf": 0.25},
    {"path": "j", "type": "integer", "minimum": 3, "maximum": 9, "multipleOf": 2},
    {"path": "w", "type": "number", "multipleOf": 0.5},  # no bounds
    {"path": "i3", "type": "integer", "minimum": 1, "maximum": 3, "multipleOf": 3},
    {"path": "i4", "type": "integer", "minimum": 4, "maximum": 4, "multipleOf": 4},
    {"path": "i2", "type": "integer", "minimum": 2, "maximum": 3, "multipleOf": 2},
    {"path": "u", "type": "integer"},  # no bounds
    {"path": "f", "type": "boolean"},
    {"path": "arr", "type": "array", "items": {"type": "string"}, "maxItems": 2},
    {"path": "o", "type": "object"},
    {"path": "o.c", "type": "string", "required": True},
]
FIELD_TARGETS = [
    ("s", "type"), ("s", "minLength"), ("s", "maxLength"),
    ("s0", "type"), ("s0", "maxLength"),  # no string is shorter than 0
    ("e", "type"), ("e", "enum"),
    ("i", "type"), ("i", "minimum"), ("i", "maximum"), ("i", "multipleOf"),
    ("k", "type"), ("k", "minimum"), ("k", "maximum"),  # every integer is a multiple of 1
    ("n", "type"), ("n", "minimum"), ("n", "maximum"),
    ("q", "type"), ("q", "minimum"), ("q", "maximum"), ("q", "multipleOf"),
    ("r", "type"), ("r", "minimum"), ("r", "maximum"), ("r", "multipleOf"),  # bounds off step
    ("j", "type"), ("j", "minimum"), ("j", "maximum"), ("j", "multipleOf"),  # bounds off step
    ("w", "type"), ("w", "multipleOf"),
    ("i3", "type"), ("i3", "minimum"), ("i3", "maximum"), ("i3", "multipleOf"),
    ("i4", "type"), ("i4", "minimum"), ("i4", "maximum"),  # 4 is the only value: a multiple
    ("i2", "type"), ("i2", "minimum"), ("i2", "maximum"), ("i2", "multipleOf"),  # 3: the top
    ("u", "type"),
    ("f", "type"),
    ("arr", "type"), ("arr", "maxItems"),
    ("o", "type"), ("o", "unknown"),
    ("o.c", "required"), ("o.c", "type"),
]  # fmt: skip


def draws(strategy: st.SearchStrategy[Any], examples: int) -> tuple[list[Any], int]:
    """What ``examples`` draws of ``strategy`` give, and how many it rejected."""
    got: list[Any] = []
    rejected = [0]

    @settings(FEW, max_examples=examples)
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        try:
            got.append(data.draw(strategy))
        except UnsatisfiedAssumption:
            rejected[0] += 1

    draw()
    return got, rejected[0]


def test_every_breakable_field_constraint_has_a_violation_strategy() -> None:
    model = module("acme:fields@1", FIELDS, [])
    mine = {p["path"] for p in FIELDS}
    assert [t for t in S.violation_targets(model) if t[0] in mine] == FIELD_TARGETS


@pytest.mark.parametrize(("path", "constraint"), FIELD_TARGETS)
def test_a_field_violation_is_drawn_every_time_and_breaks_only_its_field(
    path: str, constraint: str
) -> None:
    """With no rule in the way, every draw is a task (none rejected) with exactly the one
    violation: the constraint of that field, at that field."""
    model = module("acme:fields@1", FIELDS, [])
    where = {"unknown": f"{path}.bogusKey"}.get(constraint, path)
    tasks, rejected = draws(S.field_violations(model, path, constraint), 8)
    assert rejected == 0
    for task in tasks:
        found = model.CONTRACT.violations(task)
        assert [(v.rule, v.parameter) for v in found] == [(constraint, where)], task


@pytest.mark.parametrize(
    ("path", "kinds"),
    [("s", {int, bool, list, dict, float}), ("i", {str, bool, list, dict, float}),
     ("n", {str, bool, list, dict})],  # 7 is a number
)  # fmt: skip
def test_a_type_violation_draws_a_value_of_every_other_type(path: str, kinds: set[type]) -> None:
    model = module("acme:fields@1", FIELDS, [])
    tasks, _ = draws(S.field_violations(model, path, "type"), 40)
    assert {type(task[path]) for task in tasks} == kinds


def test_a_field_a_rule_reads_breaks_alone_the_rule_kept_around_it() -> None:
    """`b` too long also breaks "when `a` is given, `b` is `x`": the strategy leaves `a`
    out, so the task breaks maxLength and nothing else."""
    params: list[dict[str, Any]] = [
        {"path": "a", "type": "string"},
        {"path": "b", "type": "string", "maxLength": 5},
    ]
    only_x: dict[str, Any] = {
        "id": "b-is-x-with-a",
        "kind": "valueWhen",
        "when": {"anyOf": ["a"]},
        "param": "b",
        "allowed": ["x"],
    }
    model = module("acme:b-read@1", params, [only_x])
    tasks, _ = draws(S.field_violations(model, "b", "maxLength"), 30)
    assert tasks
    for task in tasks:
        found = model.CONTRACT.violations(task)
        assert [(v.rule, v.parameter) for v in found] == [("maxLength", "b")], task


def test_a_number_with_a_step_is_drawn_on_its_steps_reaching_both_bounds() -> None:
    """settings.temperature (0 to 2 in steps of 0.01) and the like: a float between two
    steps is invalid, so a valid task carrying the number would almost never be drawn."""
    q = [p for p in FIELDS if p["path"] == "q"]  # 0.5 to 2 in steps of 0.25
    model = module("acme:stepped@1", q, [])
    tasks, rejected = draws(S.valid_tasks(model, require=("q",)), 60)
    assert rejected == 0
    assert {task["q"] for task in tasks} <= {0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0}
    assert {0.5, 2.0} <= {task["q"] for task in tasks}


@pytest.mark.parametrize(
    ("bounds", "low", "high"),
    [
        ({}, None, None),
        ({"minimum": 5}, 5, None),
        ({"maximum": 5}, None, 5),
    ],
    ids=["unbounded", "minimum-only", "maximum-only"],
)
@pytest.mark.parametrize("step", [None, 1, 0.5], ids=["integer", "integer-step", "number-step"])
def test_a_number_bounded_on_one_side_or_none_is_drawn_across_its_range(
    bounds: dict[str, int], low: int | None, high: int | None, step: float | None
) -> None:
    """An integer or a stepped number with a bound missing is drawn on both sides of the bound
    it has (or of 0), far from it too, and never past it."""
    kind = "number" if isinstance(step, float) else "integer"
    param = {"path": "n", "type": kind, **bounds, **({"multipleOf": step} if step else {})}
    name = "-".join([kind, str(step or 0).replace(".", "p"), *bounds])
    model = module(f"acme:open-{name.lower()}@1", [param], [])  # (a model id is cached)
    tasks, rejected = draws(S.valid_tasks(model, require=("n",)), 30)
    values = [task["n"] for task in tasks]
    assert rejected == 0 and len(set(values)) > 10, values
    assert all((low is None or v >= low) and (high is None or v <= high) for v in values)
    centre = low if low is not None else high if high is not None else 0
    assert any(v > centre + 1000 for v in values) == (high is None), values
    assert any(v < centre - 1000 for v in values) == (low is None), values


# ── repair: where it can succeed, no draw is wasted ─────────────────────────


@pytest.mark.slow  # about 3 s: every case of the page, four draws each
def test_on_the_kling_page_every_draw_is_a_task_none_rejected() -> None:
    """Repair fixes every rule around what a breaker locked, in the task and inside each
    element, so on the Kling page no draw of a valid task or of any rule's violation is
    rejected (a rejected draw costs a whole task's generation, and too many fail a user's
    property test's health check)."""
    from runware_contract import google_nano_banana_2 as banana
    from runware_contract import klingai_video_3_0_pro as kling

    for model in (kling, banana):
        tasks, rejected = draws(S.valid_tasks(model), 30)
        assert (len(tasks), rejected) == (30, 0), model.MODEL_ID
    for name, strategy in S.cases(kling):  # every field's and every rule's violation
        if strategy.is_empty:  # a rule that cannot break alone
            continue
        tasks, rejected = draws(strategy, 4)
        assert (len(tasks), rejected) == (4, 0), name
        for task in tasks:
            found = kling.CONTRACT.violations(task)
            if ":" in name:  # path:constraint, broken at that path (in some item of an array)
                path, constraint = name.rsplit(":", 1)
                (one,) = found
                spec_path = ".".join(p for p in one.parameter.split(".") if not p.isdigit())
                assert (one.rule, spec_path in (path, f"{path}.bogusKey")) == (constraint, True)
            else:
                assert {v.rule for v in found} == {name}, found


def test_a_field_inside_an_array_a_rule_may_empty_is_still_broken_alone() -> None:
    """ "When `a` is given, `els` is limited to 0 items": repair may empty the array the
    broken field lives in; such a draw is rejected, every other breaks the field alone."""
    params: list[dict[str, Any]] = [
        {"path": "a", "type": "string"},
        {"path": "els", "type": "array", "items": {"type": "object"}, "maxItems": 3},
        {"path": "els.x", "type": "string"},
    ]
    none_with_a: dict[str, Any] = {
        "id": "els-empty-with-a",
        "kind": "limitItems",
        "when": {"anyOf": ["a"]},
        "target": "els",
        "maxItems": 0,
    }
    model = module("acme:emptied@1", params, [none_with_a])
    tasks, _ = draws(S.field_violations(model, "els.x", "type"), 30)
    assert tasks
    for task in tasks:
        found = model.CONTRACT.violations(task)
        assert [(v.rule, v.parameter) for v in found] == [("type", "els.0.x")], task


def test_an_excluded_parameter_is_never_drawn_and_costs_no_draw() -> None:
    from runware_contract import klingai_video_3_0_pro as kling

    excluded = ("webhookURL", "uploadEndpoint")  # no receiver: a test must not deliver
    tasks, rejected = draws(S.valid_tasks(kling, exclude=excluded), 30)
    assert (len(tasks), rejected) == (30, 0)
    assert not any(name in task for task in tasks for name in excluded)


def test_an_unbounded_number_is_drawn_on_both_sides_of_zero() -> None:
    model = module("acme:fields@1", FIELDS, [])
    tasks, _ = draws(S.valid_tasks(model, require=("u", "w")), 40)
    for path in ("u", "w"):  # an integer; a number in steps of 0.5
        assert min(task[path] for task in tasks) < 0 < max(task[path] for task in tasks)
    assert all(task["w"] * 2 == int(task["w"] * 2) for task in tasks)


def test_a_number_with_bounds_off_its_step_is_drawn_on_the_steps_inside() -> None:
    """0.4 to 2.1 in steps of 0.25: 0.5 to 2.0, both reached."""
    model = module("acme:off-step@1", [p for p in FIELDS if p["path"] == "r"], [])
    tasks, rejected = draws(S.valid_tasks(model, require=("r",)), 60)
    assert rejected == 0
    assert {0.5, 2.0} <= {task["r"] for task in tasks} <= {0.25 * k for k in range(2, 9)}


def test_repair_removes_a_parameter_three_levels_deep() -> None:
    """ "`o.p.q` cannot be used with `a`": a drawn task with both loses `o.p.q` (and keeps
    the rest of `o.p`); no draw is rejected."""
    params: list[dict[str, Any]] = [
        {"path": "a", "type": "string"},
        {"path": "o", "type": "object"},
        {"path": "o.p", "type": "object"},
        {"path": "o.p.q", "type": "string"},
        {"path": "o.p.r", "type": "string"},
    ]
    no_q: dict[str, Any] = {
        "id": "a-forbids-q",
        "kind": "forbids",
        "when": {"anyOf": ["a"]},
        "forbid": ["o.p.q"],
    }
    model = module("acme:deep@1", params, [no_q])
    tasks, rejected = draws(S.valid_tasks(model, require=("a", "o.p.r")), 40)
    assert (len(tasks), rejected) == (40, 0)
    assert not any("q" in task["o"]["p"] for task in tasks)


def test_a_required_parameter_stays_while_repair_fixes_a_rule_around_it() -> None:
    """valid_tasks(require=("b",)) with "`b` cannot be used with `a`": every task carries
    `b`; repair leaves `a` out instead."""
    params: list[dict[str, Any]] = [
        {"path": "a", "type": "string"},
        {"path": "b", "type": "string"},
    ]
    no_b: dict[str, Any] = {
        "id": "a-forbids-b",
        "kind": "forbids",
        "when": {"anyOf": ["a"]},
        "forbid": ["b"],
    }
    model = module("acme:keep-b@1", params, [no_b])
    tasks, rejected = draws(S.valid_tasks(model, require=("b",)), 40)
    assert (len(tasks), rejected) == (40, 0)
    assert all("b" in task and "a" not in task for task in tasks)


def test_a_rule_whose_condition_is_all_of_two_is_broken_with_both_and_fixed_without_one() -> None:
    """ "When `a` and `b` are both given, `c` cannot be used": its violation gives both (and
    `c`); a valid task that must keep `a` and `c` leaves `b` out."""
    params: list[dict[str, Any]] = [{"path": p, "type": "string"} for p in ("a", "b", "c")]
    both: dict[str, Any] = {
        "id": "a-and-b-forbid-c",
        "kind": "forbids",
        "when": {"allOf": ["a", "b"]},
        "forbid": ["c"],
    }
    model = module("acme:all-of@1", params, [both])
    broken, rejected = draws(S.rule_violations(model, "a-and-b-forbid-c"), 20)
    assert (len(broken), rejected) == (20, 0)
    assert all({"a", "b", "c"} <= set(task) for task in broken)
    valid, rejected = draws(S.valid_tasks(model, require=("a", "c")), 40)
    assert (len(valid), rejected) == (40, 0)
    assert all("b" not in task for task in valid)


def test_a_required_field_inside_an_array_goes_into_its_first_item() -> None:
    params: list[dict[str, Any]] = [
        {"path": "els", "type": "array", "items": {"type": "object"}, "maxItems": 1},
        {"path": "els.x", "type": "string"},
        {"path": "els.y", "type": "string"},
    ]
    model = module("acme:first-item@1", params, [])
    tasks, rejected = draws(S.valid_tasks(model, require=("els.x",)), 30)
    assert (len(tasks), rejected) == (30, 0)
    assert all(len(task["els"]) == 1 and "x" in task["els"][0] for task in tasks)


def test_a_format_without_a_builder_is_drawn_from_its_pattern_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A platform format no builder knows (here a colour) still gives values that match its
    pattern in full, not merely contain a match."""
    monkeypatch.setitem(FORMATS, "test-colour", ["#[0-9a-f]{6}", "a colour"])
    assert S.format_builder("test-colour") is None

    @FEW
    @given(S.format_values("test-colour"))
    def whole(value: str) -> None:
        assert re.fullmatch("#[0-9a-f]{6}", value), value

    whole()


def test_every_prompt_reference_violation_names_an_element_the_task_lacks() -> None:
    """The Kling page's <<<element_N>>> references: each drawn violation has a reference past
    the task's elements, written exactly as the pattern reads it; no draw is rejected."""
    from runware_contract import klingai_video_3_0_pro as kling

    rule = "prompt-element-references"
    tasks, rejected = draws(S.rule_violations(kling, rule), 30)
    assert (len(tasks), rejected) == (30, 0)
    for task in tasks:
        numbers = [int(n) for n in re.findall(r"<<<element_(\d+)>>>", task["positivePrompt"])]
        elements = len(task.get("inputs", {}).get("elements", []))
        assert any(n < 1 or n > elements for n in numbers), task["positivePrompt"]
        assert {v.rule for v in kling.CONTRACT.violations(task)} == {rule}


def test_a_parameter_the_rules_make_impossible_is_never_drawn() -> None:
    """`z` both needs and forbids `a` (the analysis lists it in tables.NEVER): no task
    carries it and no draw is spent on it."""
    params: list[dict[str, Any]] = [{"path": p, "type": "string"} for p in ("a", "z")]
    rules: list[dict[str, Any]] = [
        {"id": "z-needs-a", "kind": "requires", "when": {"anyOf": ["z"]}, "then": {"allOf": ["a"]}},
        {"id": "z-no-a", "kind": "forbids", "when": {"anyOf": ["z"]}, "forbid": ["a"]},
    ]
    model = module("acme:never@1", params, rules)
    model.tables.NEVER = ["z"]  # what the generator writes from the analysis
    tasks, rejected = draws(S.valid_tasks(model), 40)
    assert (len(tasks), rejected) == (40, 0)
    assert not any("z" in task for task in tasks)


def test_repair_sets_a_required_value_rather_than_drop_what_constrains_it() -> None:
    """ "When `a` is given, `d` must be 7" with `d` required (0 to a million): repair sets `d`
    to 7 (its presence is what is kept, not its value), so about half the tasks carry `a`
    as drawn, not only the rare ones whose `d` was drawn 7."""
    params: list[dict[str, Any]] = [
        {"path": "a", "type": "string"},
        {"path": "d", "type": "integer", "minimum": 0, "maximum": 10**6},
    ]
    seven: dict[str, Any] = {
        "id": "d-seven-with-a",
        "kind": "valueWhen",
        "when": {"anyOf": ["a"]},
        "param": "d",
        "allowed": [7],
    }
    model = module("acme:seven-d@1", params, [seven])
    tasks, rejected = draws(S.valid_tasks(model, require=("d",)), 60)
    assert (len(tasks), rejected) == (60, 0)
    assert all(task["d"] == 7 for task in tasks if "a" in task)
    assert sum("a" in task for task in tasks) > len(tasks) / 4


@pytest.mark.parametrize("fmt", ["uuid-v4", "url", "base64"])
def test_a_parameter_with_a_format_has_a_case_breaking_only_that_format(fmt: str) -> None:
    model = module(f"acme:format-{fmt}@1", [{"path": "ref", "type": "string", "format": fmt}], [])
    assert ("ref", "format") in S.violation_targets(model)
    tasks, rejected = draws(S.field_violations(model, "ref", "format"), 10)
    assert (len(tasks), rejected) == (10, 0)
    for task in tasks:
        found = model.CONTRACT.violations(task)
        assert [(v.rule, v.parameter) for v in found] == [("format", "ref")], task


def test_references_of_a_pattern_without_a_template_are_drawn_from_the_pattern() -> None:
    """ "@el3" references (a pattern with no simple template: drawn from the regex): a
    violation has one naming an element past the task's, a valid task only in-range ones;
    no draw is rejected."""
    params: list[dict[str, Any]] = [
        {"path": "prompt", "type": "string", "maxLength": 300},
        {"path": "els", "type": "array", "items": {"type": "object"}, "maxItems": 3},
        {"path": "els.id", "type": "string"},
    ]
    refs: dict[str, Any] = {
        "id": "prompt-element-refs",
        "kind": "promptReferences",
        "in": ["prompt"],
        "target": "els",
        "pattern": "@el([0-9]+)",
    }
    model = module("acme:el-refs@1", params, [refs])

    def numbers(task: dict[str, Any]) -> tuple[list[int], int]:
        found = [int(n) for n in re.findall("@el([0-9]+)", task.get("prompt", ""))]
        return found, len(task.get("els", []))

    broken, rejected = draws(S.rule_violations(model, "prompt-element-refs"), 20)
    assert (len(broken), rejected) == (20, 0)
    for task in broken:
        found, elements = numbers(task)
        assert any(not 1 <= n <= elements for n in found), task
    valid, rejected = draws(S.valid_tasks(model), 30)
    assert (len(valid), rejected) == (30, 0)
    for task in valid:
        found, elements = numbers(task)
        assert all(1 <= n <= elements for n in found), task
    # a prompt beside elements may refer to them or not: both are drawn
    beside = [numbers(t)[0] for t in valid if "prompt" in t and t.get("els")]
    assert any(beside) and not all(beside), beside


def test_what_a_breaker_locked_is_left_whole_by_repair() -> None:
    """Breaking "`b` forbids `o`" locks the `o` it added; "`a` forbids `o.x`" is then kept by
    leaving `a` out, never by taking `x` out of the locked `o` (which could leave it empty
    and the rule unbroken): every draw is a task breaking that rule alone."""
    params: list[dict[str, Any]] = [
        *({"path": p, "type": "string"} for p in ("a", "b")),
        {"path": "o", "type": "object"},
        *({"path": p, "type": "string"} for p in ("o.x", "o.y")),
    ]
    rules: list[dict[str, Any]] = [
        {"id": "b-forbids-o", "kind": "forbids", "when": {"anyOf": ["b"]}, "forbid": ["o"]},
        {"id": "a-forbids-x", "kind": "forbids", "when": {"anyOf": ["a"]}, "forbid": ["o.x"]},
    ]
    model = module("acme:locked-o@1", params, rules)
    tasks, rejected = draws(S.rule_violations(model, "b-forbids-o"), 40)
    assert (len(tasks), rejected) == (40, 0)
    for task in tasks:
        assert {v.rule for v in model.CONTRACT.violations(task)} == {"b-forbids-o"}
