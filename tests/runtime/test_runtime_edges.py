"""The runtime's edges, each stated as a user of ``Contract`` relies on it, on small hand-made
tables (one parameter or rule each, so each test names exactly what it holds): bounds hit
exactly on both sides, defaults that never replace a given value, one error per cause, and
the documentation link every violation carries."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import pytest

from runware_contract.platform import CONSTRAINT_CODES, FORMATS, RULE_CODES
from runware_contract.runtime import Contract
from runware_contract.values import ECHO_MAX, fmt, json_type

DOCS = "https://example.com/docs/edge"
BASE = [{"path": "taskType", "types": ["string"], "required": True, "const": "videoInference"}]
TASK: dict[str, Any] = {"taskType": "videoInference"}


def contract(
    parameters: Sequence[Mapping[str, Any]], rules: Sequence[Mapping[str, Any]] = ()
) -> Contract:
    return Contract(
        task_label="Edge",
        docs=DOCS,
        parameters=[*BASE, *parameters],
        rules=rules,
        formats={name: (rx, text) for name, (rx, text) in FORMATS.items()},
        constraint_codes=CONSTRAINT_CODES,
        rule_codes=RULE_CODES,
        dimensions={
            "params": ["width", "height"],
            "rows": [{"width": 1280, "height": 720, "resolution": "720p"}],
        },
    )


def broken(c: Contract, **given: Any) -> list[tuple[str, str]]:
    """(rule or constraint, parameter) of each violation of the base task with ``given``."""
    return [(v.rule, v.parameter) for v in c.violations({**TASK, **given})]


# ── field constraints at their exact bounds ─────────────────────────────────


def test_number_bounds_are_inclusive_on_both_sides() -> None:
    c = contract([{"path": "n", "types": ["number"], "minimum": 2, "maximum": 10}])
    assert broken(c, n=2) == broken(c, n=10) == broken(c, n=2.0) == []
    assert broken(c, n=1.999) == [("minimum", "n")]
    assert broken(c, n=10.001) == [("maximum", "n")]


def test_string_length_bounds_are_inclusive_on_both_sides() -> None:
    c = contract([{"path": "s", "types": ["string"], "minLength": 2, "maxLength": 4}])
    assert broken(c, s="ab") == broken(c, s="abcd") == []
    assert broken(c, s="a") == [("minLength", "s")]
    assert broken(c, s="abcde") == [("maxLength", "s")]


def test_array_item_bounds_are_inclusive_on_both_sides() -> None:
    c = contract([{"path": "a", "types": ["array"], "minItems": 1, "maxItems": 2}])
    assert broken(c, a=[1]) == broken(c, a=[1, 2]) == []
    assert broken(c, a=[]) == [("minItems", "a")]
    assert broken(c, a=[1, 2, 3]) == [("maxItems", "a")]


def test_a_too_long_array_is_one_error_however_bad_its_items() -> None:
    c = contract([{"path": "a", "types": ["array"], "maxItems": 2, "items": {"type": "string"}}])
    assert broken(c, a=[1, 2]) == [("type", "a.0"), ("type", "a.1")]  # within bounds: each item
    assert broken(c, a=[1, 2, 3]) == [("maxItems", "a")]


def test_a_string_too_long_is_not_also_matched_against_its_format() -> None:
    c = contract([{"path": "u", "types": ["string"], "format": "uuid-v4", "maxLength": 5}])
    assert broken(c, u="not-a-uuid") == [("maxLength", "u")]
    assert broken(c, u="nope") == [("format", "u")]


def test_a_string_too_short_is_not_also_matched_against_its_format() -> None:
    c = contract([{"path": "u", "types": ["string"], "format": "uuid-v4", "minLength": 5}])
    assert broken(c, u="x") == [("minLength", "u")]


def test_a_wrong_const_is_one_error_not_also_a_bound() -> None:
    c = contract([{"path": "s", "types": ["string"], "const": "abc", "maxLength": 3}])
    assert broken(c, s="abc") == []
    assert broken(c, s="abcdef") == [("const", "s")]


def test_a_value_outside_the_enum_is_one_error_not_also_a_bound() -> None:
    c = contract([{"path": "s", "types": ["string"], "enum": ["ab", "cd"], "maxLength": 2}])
    assert broken(c, s="cd") == []
    assert broken(c, s="abcdef") == [("enum", "s")]


def test_multiple_of_on_integers_and_fractions() -> None:
    c = contract([{"path": "n", "types": ["number"], "multipleOf": 2}])
    assert broken(c, n=4) == broken(c, n=-6) == broken(c, n=4.0) == []
    assert broken(c, n=5) == broken(c, n=4.5) == [("multipleOf", "n")]
    half = contract([{"path": "n", "types": ["number"], "multipleOf": 0.1}])
    assert broken(half, n=0.3) == broken(half, n=7) == []
    assert broken(half, n=0.35) == broken(half, n=0.300001) == [("multipleOf", "n")]


def test_a_non_finite_number_is_a_type_error() -> None:
    c = contract([{"path": "n", "types": ["number"], "minimum": 0}])
    assert broken(c, n=float("nan")) == [("type", "n")]
    assert broken(c, n=float("inf")) == [("type", "n")]


def test_a_boolean_is_not_a_number_and_an_integer_is() -> None:
    c = contract([{"path": "n", "types": ["number"]}, {"path": "i", "types": ["integer"]}])
    assert broken(c, n=3, i=3) == []
    assert broken(c, n=True) == [("type", "n")]
    assert broken(c, i=3.5) == [("type", "i")]


class Level(StrEnum):
    LOW = "low"
    LONGEST = "longest"


def test_a_value_no_json_type_holds_is_refused_naming_its_python_type() -> None:
    """A task built in Python may carry what JSON cannot (bytes, a tuple, a set): the type
    error names what was given."""
    c = contract([{"path": "s", "types": ["string"]}])
    for value, name in ((b"x", "bytes"), ((1,), "tuple"), ({1}, "set")):
        (found,) = c.violations({**TASK, "s": value})
        assert (found.rule, found.parameter) == ("type", "s")
        assert found.message == f"s must be a string, not {name}.", found.message


def test_str_and_dict_subclasses_are_checked_as_the_json_they_serialize_to() -> None:
    """A task built with enum members (the typed models' StrEnums) or an OrderedDict is
    checked as the JSON string or object it becomes on the wire."""
    c = contract(
        [
            {"path": "s", "types": ["string"], "maxLength": 5},
            {"path": "o", "types": ["object"]},
            {"path": "o.k", "types": ["integer"]},
        ]
    )
    assert json_type(Level.LOW) == "string" and json_type(OrderedDict()) == "object"
    assert broken(c, s=Level.LOW, o=OrderedDict(k=1)) == []
    assert broken(c, s=Level.LONGEST) == [("maxLength", "s")]
    assert broken(c, o=OrderedDict(k="x")) == [("type", "o.k")]


def test_a_value_json_cannot_hold_is_a_type_error_naming_its_python_type() -> None:
    c = contract([{"path": "s", "types": ["string"]}])
    (violation,) = c.violations({**TASK, "s": b"raw"})
    assert (violation.rule, violation.message) == ("type", "s must be a string, not bytes.")
    assert json_type({1, 2}) == "set"
    assert [v.message for v in c.violations(None)] == ["A task must be a JSON object, not null."]
    assert [v.message for v in c.violations([TASK])] == [
        "A task must be a JSON object, not an array."
    ]


def test_a_parameter_taking_a_string_or_an_object_accepts_any_of_either() -> None:
    """Without documented children an object value is taken as it is (no field to check)."""
    c = contract([{"path": "x", "types": ["string", "object"]}])
    assert broken(c, x="text") == broken(c, x={"any": [1]}) == broken(c, x={}) == []
    assert broken(c, x=3) == [("type", "x")]


# ── presence: required, null, unknown ───────────────────────────────────────


def test_a_required_parameter_given_as_null_is_reported_once() -> None:
    c = contract(
        [
            {"path": "r", "types": ["string"], "required": True, "anchor": "r"},
            {"path": "q", "types": ["string"], "required": True},
        ]
    )
    assert broken(c, r="x", q="y") == []
    assert broken(c, r=None, q="y") == [("type", "r")]
    assert broken(c, r=None) == [("type", "r"), ("required", "q")]  # q alone is missing
    assert broken(c) == [("required", "r"), ("required", "q")]
    assert [v.documentation for v in c.violations(TASK)] == [f"{DOCS}#r", None]


def test_a_nested_required_parameter_is_named_with_its_path() -> None:
    c = contract(
        [
            {"path": "o", "types": ["object"]},
            {"path": "o.r", "types": ["integer"], "required": True},
        ]
    )
    assert broken(c) == []  # the object itself is optional
    assert broken(c, o={"r": 1}) == []
    assert broken(c, o={}) == [("required", "o.r")]
    assert broken(c, o={"r": 1, "x": 2}) == [("unknown", "o.x")]


def test_the_violations_of_a_task_are_capped_exactly_at_the_maximum() -> None:
    from runware_contract.runtime import VIOLATIONS_MAX

    c = contract([])
    many = {f"p{i}": i for i in range(VIOLATIONS_MAX + 5)}
    assert len(c.violations({**TASK, **many})) == VIOLATIONS_MAX
    exact = {f"p{i}": i for i in range(VIOLATIONS_MAX)}
    assert len(c.violations({**TASK, **exact})) == VIOLATIONS_MAX
    fewer = {f"p{i}": i for i in range(VIOLATIONS_MAX - 1)}
    assert len(c.violations({**TASK, **fewer})) == VIOLATIONS_MAX - 1


# ── documentation links ─────────────────────────────────────────────────────


def test_every_violation_links_to_the_docs_page_or_its_anchor() -> None:
    rules = [
        {"id": "plain", "kind": "atLeastOne", "message": "a or b.", "params": [["a"], ["b"]]},
        {
            "id": "anchored",
            "kind": "atLeastOne",
            "message": "c or d.",
            "params": [["c"], ["d"]],
            "anchor": "c-or-d",
        },
    ]
    params = [{"path": p, "types": ["string"]} for p in "abcd"]
    by_rule = {v.rule: v.documentation for v in contract(params, rules).violations(TASK)}
    assert by_rule == {"plain": DOCS, "anchored": f"{DOCS}#c-or-d"}
    fields = contract([{"path": "x", "types": ["string"], "anchor": "x"}, *params])
    assert [v.documentation for v in fields.violations({**TASK, "x": 1, "a": 1})] == [
        f"{DOCS}#x",
        None,  # a parameter without an anchor has no section to link
    ]


def test_a_value_echoed_in_a_message_is_cut_at_exactly_its_maximum() -> None:
    assert fmt("x" * (ECHO_MAX - 2)) == repr("x" * (ECHO_MAX - 2))  # ECHO_MAX with its quotes
    long = fmt("x" * ECHO_MAX)
    assert len(long) == ECHO_MAX and long.endswith("...")
    assert fmt(True) == "true" and fmt(False) == "false" and fmt(3) == "3"
    c = contract([{"path": "e", "types": ["string"], "enum": ["a"]}])
    (violation,) = c.violations({**TASK, "e": "y" * 10_000})
    assert len(violation.message) < 200 + ECHO_MAX


def test_an_error_carries_the_tasks_type_and_uuid_only_when_they_are_strings() -> None:
    c = contract([{"path": "taskUUID", "types": ["string"]}])
    (error,) = c.validate({**TASK, "taskUUID": "u-1", "x": 1})
    assert (error["taskType"], error["taskUUID"], error["parameter"]) == (
        "videoInference",
        "u-1",
        "x",
    )
    errors = c.validate({"taskType": 5, "taskUUID": 7})
    assert [(e["parameter"], e["taskType"], e["taskUUID"]) for e in errors] == [
        ("taskType", None, None),
        ("taskUUID", None, None),
    ]


# ── with_defaults ───────────────────────────────────────────────────────────


def test_with_defaults_never_replaces_a_given_false_zero_or_empty_value() -> None:
    c = contract(
        [
            {"path": "flag", "types": ["boolean"], "default": True},
            {"path": "count", "types": ["integer"], "default": 4},
            {"path": "text", "types": ["string"], "default": "x"},
            {"path": "o", "types": ["object"]},
            {"path": "o.on", "types": ["boolean"], "default": True},
        ]
    )
    given = {**TASK, "flag": False, "count": 0, "text": "", "o": {"on": False}}
    assert c.with_defaults(given) == given
    assert c.with_defaults({**TASK, "o": {}}) == {
        **TASK,
        "flag": True,
        "count": 4,
        "text": "x",
        "o": {"on": True},
    }


def test_with_defaults_fills_each_item_of_an_object_array() -> None:
    c = contract(
        [
            {"path": "a", "types": ["array"], "items": {"type": "object"}},
            {"path": "a.k", "types": ["integer"], "default": 1},
        ]
    )
    task = {**TASK, "a": [{}, {"k": 0}]}
    assert c.with_defaults(task)["a"] == [{"k": 1}, {"k": 0}]
    assert task["a"] == [{}, {"k": 0}]  # the input is not changed


def test_a_conditional_default_reads_the_other_defaults_not_the_raw_task() -> None:
    c = contract(
        [
            {"path": "mode", "types": ["string"], "enum": ["a", "b"], "default": "a"},
            {"path": "level", "types": ["integer"]},
        ],
        [
            {
                "id": "level-when-a",
                "kind": "defaultWhen",
                "message": "level defaults to 3 in mode a.",
                "when": {"mode": "anyOf", "conditions": [{"path": "mode", "equals": "a"}]},
                "param": "level",
                "default": 3,
            }
        ],
    )
    assert c.with_defaults(TASK)["level"] == 3  # mode a by its own default
    assert c.with_defaults({**TASK, "mode": "a"})["level"] == 3
    assert "level" not in c.with_defaults({**TASK, "mode": "b"})
    assert c.with_defaults({**TASK, "level": 0})["level"] == 0  # given: kept


def test_a_value_rule_checks_the_default_of_an_absent_parameter() -> None:
    rule = {
        "id": "short-when-fast",
        "kind": "valueWhen",
        "message": "fast needs a short duration.",
        "when": {"mode": "anyOf", "conditions": [{"path": "fast"}]},
        "param": "duration",
    }
    params: list[dict[str, Any]] = [{"path": "fast", "types": ["boolean"]}]
    long_default = [*params, {"path": "duration", "types": ["integer"], "default": 10}]
    short_default = [*params, {"path": "duration", "types": ["integer"], "default": 5}]
    for form, fits, misfit in (({"maximum": 5}, 5, 6), ({"allowed": [5]}, 5, 6)):
        c = contract(long_default, [{**rule, **form}])
        assert broken(c, fast=True) == [("short-when-fast", "duration")]  # its default, 10
        assert broken(c, fast=True, duration=fits) == []
        assert broken(c, fast=True, duration=misfit) == [("short-when-fast", "duration")]
        assert broken(c) == []  # the condition does not hold
        assert broken(contract(short_default, [{**rule, **form}]), fast=True) == []
    no_default = contract(
        [*params, {"path": "duration", "types": ["integer"]}], [{**rule, "maximum": 5}]
    )
    assert broken(no_default, fast=True) == []  # absent and no default: nothing to check


# ── conditions ──────────────────────────────────────────────────────────────


def needs_b(*conditions: dict[str, Any], mode: str = "anyOf") -> Contract:
    return contract(
        [
            {"path": "m", "types": ["string"], "enum": ["x", "y"]},
            {"path": "f", "types": ["boolean"]},
            {"path": "b", "types": ["string"]},
        ],
        [
            {
                "id": "needs-b",
                "kind": "requires",
                "message": "b is needed.",
                "when": {"mode": mode, "conditions": list(conditions)},
                "then": {"mode": "allOf", "conditions": [{"path": "b"}]},
            }
        ],
    )


def test_a_negated_condition_holds_when_the_path_is_absent_or_another_value() -> None:
    absent = needs_b({"path": "m", "not": True})
    assert broken(absent) == [("needs-b", "b")]
    assert broken(absent, m="x") == broken(absent, b="s") == []
    other = needs_b({"path": "m", "equals": "x", "not": True})
    assert broken(other) == broken(other, m="y") == [("needs-b", "b")]
    assert broken(other, m="x") == []


def test_a_value_condition_is_type_exact_and_needs_the_value_given() -> None:
    flag = needs_b({"path": "f", "equals": True})
    assert broken(flag, f=True) == [("needs-b", "b")]
    assert broken(flag, f=False) == broken(flag) == []
    one = needs_b({"path": "m", "equals": "x"})
    assert broken(one, m="x") == [("needs-b", "b")] and broken(one, m="y") == []


def test_any_of_and_all_of_conditions() -> None:
    conds = ({"path": "m"}, {"path": "f"})
    any_ = needs_b(*conds)
    all_ = needs_b(*conds, mode="allOf")
    assert broken(any_, m="x") == broken(any_, f=True) == [("needs-b", "b")]
    assert broken(any_) == []
    assert broken(all_, m="x") == broken(all_, f=True) == []
    assert broken(all_, m="x", f=False) == [("needs-b", "b")]


def object_rule(when: str, then: str) -> Contract:
    """``then`` requires ``when``, beside an object ``o`` with one child."""
    return contract(
        [
            {"path": "a", "types": ["string"]},
            {"path": "o", "types": ["object"]},
            {"path": "o.b", "types": ["string"]},
        ],
        [
            {
                "id": "needs",
                "kind": "requires",
                "message": f"{when} needs {then}.",
                "when": {"mode": "anyOf", "conditions": [{"path": when}]},
                "then": {"mode": "allOf", "conditions": [{"path": then}]},
            }
        ],
    )


def test_an_object_of_the_wrong_type_is_one_error_not_also_one_from_a_rule_inside_it() -> None:
    """A rule reading ``o.b`` cannot see inside an ``o`` that is not an object: the type
    error is the task's one error there."""
    c = object_rule("a", "o.b")
    assert broken(c, a="x", o="text") == [("type", "o")]
    assert broken(c, a="x", o=[{"b": "y"}]) == [("type", "o")]
    assert broken(c, a="x", o={}) == broken(c, a="x") == [("needs", "o.b")]
    assert broken(c, a="x", o={"b": "y"}) == []


def test_a_rule_asking_only_whether_an_object_is_given_applies_whatever_its_type() -> None:
    c = object_rule("o", "a")
    assert broken(c, o="text") == [("type", "o"), ("needs", "a")]
    assert broken(c, o={"b": "y"}) == [("needs", "a")]
    assert broken(c, o="text", a="x") == [("type", "o")]


def test_a_size_of_the_wrong_type_is_a_type_error_only() -> None:
    sizes = contract(
        [{"path": "width", "types": ["integer"]}, {"path": "height", "types": ["integer"]}],
        [{"id": "size", "kind": "dimensions", "message": "Unsupported size."}],
    )
    assert broken(sizes, width=1280, height=720) == []
    assert broken(sizes, width=1280, height=721) == [("size", "width")]
    assert broken(sizes, width="1280", height=721) == [("type", "width")]
    assert broken(sizes, width=1281, height="720") == [("type", "height")]
    assert broken(sizes, width=1280.0, height=720) == [("type", "width")]


def test_a_frame_at_an_unknown_position_does_not_hide_a_clash_after_it() -> None:
    c = contract(
        [
            {"path": "frames", "types": ["array"], "items": {"type": "object"}},
            {"path": "frames.at", "types": ["string"], "enum": ["first", "last", "middle"]},
        ],
        [
            {
                "id": "positions",
                "kind": "framePositions",
                "message": "Frames take distinct positions.",
                "target": "frames",
                "field": "at",
                "positions": {"first": ["first"], "last": ["last"]},
                "automatic": {"1": ["first"], "2": ["first", "last"]},
            }
        ],
    )
    clash = [{"at": "first"}, {"at": "first"}]
    assert broken(c, frames=[{"at": "middle"}, *clash]) == [("positions", "frames.2.at")]
    assert broken(c, frames=[{}, *clash]) == [("positions", "frames.2.at")]
    assert broken(c, frames=[{"at": "middle"}, {"at": "first"}, {"at": "last"}]) == []


def test_every_prompt_a_reference_rule_reads_is_checked_whatever_the_ones_before_hold() -> None:
    c = contract(
        [
            {"path": "p", "types": ["string"]},
            {"path": "q", "types": ["string"]},
            {"path": "parts", "types": ["array"], "items": {"type": "string"}},
        ],
        [
            {
                "id": "refs",
                "kind": "promptReferences",
                "message": "@partN must name a part.",
                "in": ["p", "q"],
                "pattern": "@part(\\d+)",
                "target": "parts",
            }
        ],
    )
    assert broken(c, q="@part2", parts=["a"]) == [("refs", "q")]  # p absent
    assert broken(c, p="no reference", q="@part2", parts=["a"]) == [("refs", "q")]
    # the pattern's literal start without a reference after it ("@party") refers to nothing
    assert broken(c, p="@party", q="@part2", parts=["a"]) == [("refs", "q")]
    assert broken(c, p="@part1", q="@part1 and @part1", parts=["a"]) == []
    assert broken(c, p="@part1") == [("refs", "p")]  # no parts: nothing to name
    assert broken(c, p="@part0 @part1 @part2", parts=["a", "b"]) == [("refs", "p")]


def test_put_makes_the_objects_on_its_way_replacing_what_is_not_one() -> None:
    from runware_contract.values import MISSING, get, put

    task: dict[str, Any] = {"a": "text", "c": {"keep": 1}}
    put(task, ["a", "b"], 1)
    put(task, ["c", "d"], 2)
    put(task, ["e", "f", "g"], 3)
    assert task == {"a": {"b": 1}, "c": {"keep": 1, "d": 2}, "e": {"f": {"g": 3}}}
    assert get(task, ["e", "f", "g"]) == 3 and get(task, ["a", "x"]) is MISSING
    assert get(task, ["a", "b", "c"]) is MISSING and get("text", ["a"]) is MISSING


# ── pricing ─────────────────────────────────────────────────────────────────

TWO_SIZES = {
    "params": ["width", "height"],
    "rows": [
        {"width": 1280, "height": 720, "resolution": "720p"},
        {"width": 1920, "height": 1080, "resolution": "1080p"},
    ],
}


def test_a_row_of_any_resolution_prices_a_task_whose_resolution_is_unknown() -> None:
    from runware_contract.runtime import PriceUnavailable, price_of

    pricing = {
        "unit": "clip",
        "audioDefault": False,
        "rates": [{"resolution": "720p", "perClip": 0.4}, {"seconds": 5, "perClip": 0.5}],
    }
    assert price_of({"width": 1280, "height": 720}, pricing, TWO_SIZES) == 0.4
    assert price_of({"duration": 5}, pricing, TWO_SIZES) == 0.5  # no size: the 5 s row
    with pytest.raises(PriceUnavailable):
        price_of({"duration": 6}, pricing, TWO_SIZES)
    with pytest.raises(PriceUnavailable):
        price_of({}, pricing, TWO_SIZES)  # a 5 s clip row needs the task to say 5 s
    every = {**pricing, "rates": [{"resolution": "720p", "perClip": 0.4}]}
    with pytest.raises(PriceUnavailable, match="cannot be told"):
        price_of({"duration": 5}, every, TWO_SIZES)


def test_a_row_or_surcharge_naming_several_inputs_applies_when_any_is_given() -> None:
    from runware_contract.runtime import price_of

    rows = {
        "unit": "clip",
        "audioDefault": False,
        "rates": [{"provided": ["a", "b"], "perClip": 0.9}, {"perClip": 0.5}],
    }
    assert price_of({"b": "x"}, rows, None) == price_of({"a": "x", "b": "y"}, rows, None) == 0.9
    assert price_of({}, rows, None) == price_of({"b": []}, rows, None) == 0.5
    per_second = {
        "unit": "second",
        "unitParameter": "duration",
        "audioDefault": False,
        "rates": [{"perSecond": 0.2}],
        "surcharges": [{"provided": ["a", "b"], "perSecond": 0.1}],
    }
    assert price_of({"duration": 5, "b": "x"}, per_second, None) == 1.5
    assert price_of({"duration": 5, "a": "x", "b": "y"}, per_second, None) == 1.5
    assert price_of({"duration": 5}, per_second, None) == 1.0


def pricing_of(unit: str, *rates: dict[str, Any], **more: Any) -> dict[str, Any]:
    """A price table of ``rates`` (the first a task meets applies), without audio."""
    return {"unit": unit, "audioDefault": False, "rates": list(rates), **more}


def test_a_price_row_keyed_by_aspect_ratio_prices_the_tasks_own_size() -> None:
    from runware_contract.runtime import PriceUnavailable, price_of

    sizes = {
        "params": ["width", "height"],
        "rows": [
            {"width": 1024, "height": 1024, "resolution": "1K", "aspectRatio": "1:1"},
            {"width": 1344, "height": 768, "resolution": "1K", "aspectRatio": "16:9"},
        ],
    }
    pricing = pricing_of(
        "image", {"aspectRatio": "1:1", "perImage": 0.04}, {"aspectRatio": "16:9", "perImage": 0.05}
    )
    assert price_of({"width": 1024, "height": 1024}, pricing, sizes) == 0.04
    assert price_of({"width": 1344, "height": 768}, pricing, sizes) == 0.05
    with pytest.raises(PriceUnavailable):
        price_of({"width": 768, "height": 1344}, pricing, sizes)  # no row of that size


def test_a_resolution_preset_prices_its_row_and_an_unknown_one_is_not_guessed() -> None:
    from runware_contract.runtime import PriceUnavailable, price_of

    presets = {**TWO_SIZES, "resolutionParameter": "resolution"}
    pricing = pricing_of(
        "image", {"resolution": "720p", "perImage": 0.4}, {"resolution": "1080p", "perImage": 0.8}
    )
    assert price_of({"resolution": "1080p"}, pricing, presets) == 0.8
    assert price_of({"resolution": "720p"}, pricing, presets) == 0.4
    with pytest.raises(PriceUnavailable, match="cannot be told"):
        price_of({"resolution": "4K"}, pricing, presets)


def test_a_surcharge_applies_only_while_its_switch_is_true_and_each_is_counted() -> None:
    from runware_contract.runtime import price_of

    pricing = pricing_of(
        "image",
        {"perImage": 0.1},
        surcharges=[
            {"enabled": ["search"], "perImage": 0.14},
            {"provided": ["refs"], "perItem": 0.01},
        ],
    )
    assert price_of({}, pricing, None) == price_of({"search": False}, pricing, None) == 0.1
    assert price_of({"search": True}, pricing, None) == 0.24
    assert price_of({"refs": ["a", "b"]}, pricing, None) == 0.12  # the first one aside
    assert price_of({"search": True, "refs": ["a"]}, pricing, None) == 0.25


def test_a_price_row_keyed_by_a_value_matches_it_type_exactly_or_by_its_default() -> None:
    from runware_contract.runtime import price_of

    pricing = pricing_of(
        "clip",
        {"values": {"settings.mode": "pro", "hd": True}, "perClip": 1.5},
        {"values": {"settings.mode": "pro"}, "perClip": 0.9},
        {"values": {"steps": 30}, "perClip": 0.7},
        {"values": {"settings.mode": "std"}, "perClip": 0.5},
        defaults={"settings.mode": "std"},  # the default where ``settings`` is absent
    )
    assert price_of({"settings": {"mode": "pro"}}, pricing, None) == 0.9
    assert price_of({"settings": {"mode": "pro"}, "hd": True}, pricing, None) == 1.5
    assert price_of({"settings": {"mode": "pro"}, "hd": 1}, pricing, None) == 0.9  # 1 is no true
    assert price_of({"settings": {"mode": "pro"}, "hd": False}, pricing, None) == 0.9
    assert price_of({"steps": 30.0}, pricing, None) == 0.7  # 30.0 is 30
    assert price_of({}, pricing, None) == price_of({"steps": True}, pricing, None) == 0.5
