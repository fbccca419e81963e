"""The contract runtime on the tiny spec, which uses every rule kind of the vocabulary."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from codegen import SpecSet
from codegen.emit import tables
from runware_contract.runtime import Contract, json_type, price_of, provided
from tests.contracts import I2V, IMG, T2V, UUID, contract_for, with_


@pytest.fixture(scope="module")
def contract(tiny_spec: SpecSet) -> Contract:
    return contract_for(tiny_spec.models[0], tiny_spec.platform)


def found(contract: Contract, task: Any) -> set[tuple[str, str, str]]:
    return {(v.rule, v.code, v.parameter) for v in contract.violations(task)}


def test_base_tasks_are_valid(contract: Contract) -> None:
    assert contract.violations(T2V) == []
    assert contract.violations(I2V) == []


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        (
            with_(T2V, width=None, height=None),
            {("frames-or-size", "missingRequiredParameter", "inputs.frames")},
        ),
        (
            with_(I2V, width=1280, height=720),
            {("frames-or-size", "incompatibleParameters", "width")},
        ),
        # a group operand counts as given when any member is given
        (
            with_(I2V, height=720),
            {
                ("frames-or-size", "incompatibleParameters", "height"),
                ("size-together", "missingRequiredParameter", "width"),
            },
        ),
        # an empty array is not "provided"
        (
            with_(T2V, width=None, height=None, inputs={"frames": []}),
            {("frames-or-size", "missingRequiredParameter", "inputs.frames")},
        ),
    ],
)
def test_exactly_one(contract: Contract, task: dict[str, Any], expected: set[Any]) -> None:
    assert found(contract, task) == expected


def test_together_and_dimensions(contract: Contract) -> None:
    assert found(contract, with_(T2V, height=None)) == {
        ("size-together", "missingRequiredParameter", "height")
    }
    assert found(contract, with_(T2V, height=1080)) == {
        ("supported-size", "unsupportedDimensions", "width")
    }
    # a wrongly typed size is a type error only, not also a dimension error
    assert {r for r, _, _ in found(contract, with_(T2V, height="720"))} == {"type"}


def test_requires_all_and_any(contract: Contract) -> None:
    refs = {"frames": [{"image": IMG}], "refs": ["https://x.example/a.mp4"]}
    assert found(contract, with_(I2V, inputs=refs)) == {
        ("refs-need-mode", "missingRequiredParameter", "mode")
    }
    assert contract.violations(with_(I2V, inputs=refs, mode="fast")) == []
    # then-anyOf: one violation naming the first option, none once either is given
    assert found(contract, with_(T2V, styleImage=IMG)) == {
        ("images-need-prompt-or-fps", "missingRequiredParameter", "fps")
    }
    assert contract.violations(with_(T2V, styleImage=IMG, fps=24)) == []
    assert contract.violations(with_(T2V, styleImage=IMG, mode="fast")) == []


def test_forbids_with_value_condition(contract: Contract) -> None:
    assert found(contract, with_(T2V, mode="slow", fps=24)) == {
        ("slow-excludes-fps", "incompatibleParameters", "fps")
    }
    assert contract.violations(with_(T2V, mode="fast", fps=24)) == []
    assert found(contract, with_(T2V, seedImage=IMG, fps=24)) == {
        ("slow-excludes-fps", "incompatibleParameters", "fps")
    }


def test_limit_items(contract: Contract) -> None:
    two = {"frames": [{"image": IMG}, {"image": IMG}]}
    assert contract.violations(with_(I2V, inputs=two)) == []
    assert found(contract, with_(I2V, inputs=two, styleImage=IMG, fps=24)) == {
        ("refs-limit-frames", "arrayTooLong", "inputs.frames")
    }


@pytest.mark.parametrize(
    ("frames", "bad"),
    [
        ([{"image": IMG}], None),
        ([{"image": IMG, "at": "end"}], None),
        ([{"image": IMG}, {"image": IMG}], None),
        ([{"image": IMG, "at": -1}, {"image": IMG, "at": 0}], None),
        ([{"image": IMG, "at": "start"}, {"image": IMG, "at": 0}], "inputs.frames.1.at"),
        ([{"image": IMG, "at": "end"}, {"image": IMG}], None),  # the automatic one takes start
        ([{"image": IMG}, {"image": IMG, "at": "start"}], None),  # ... and here end
        ([{"image": IMG, "at": -1}, {"image": IMG, "at": "end"}], "inputs.frames.1.at"),
        (
            [
                {"image": IMG},
                {"image": IMG},
                {"image": IMG, "at": 0},
                {"image": IMG, "at": "start"},
            ],
            "inputs.frames.3.at",
        ),
    ],
)
def test_frame_positions(contract: Contract, frames: list[Any], bad: str | None) -> None:
    result = {
        p
        for r, _, p in found(contract, with_(I2V, inputs={"frames": frames}))
        if r == "frame-positions"
    }
    assert result == ({bad} if bad else set())


def test_per_item_rules(contract: Contract) -> None:
    parts = [
        {"name": "a", "clip": "https://x.example/c.mp4", "photo": IMG},
        {"name": "b", "voice": "hi"},
    ]
    assert found(contract, with_(T2V, inputs={"parts": parts})) == {
        ("part-clip-excludes-photo", "incompatibleParameters", "inputs.parts.0.photo"),
        ("part-voice-needs-photo", "missingRequiredParameter", "inputs.parts.1.photo"),
    }


def test_prompt_references(contract: Contract) -> None:
    parts = {"parts": [{"name": "a"}]}
    assert contract.violations(with_(T2V, positivePrompt="see @part1", inputs=parts)) == []
    assert found(contract, with_(T2V, positivePrompt="see @part2", inputs=parts)) == {
        ("part-references", "invalidElementReference", "positivePrompt")
    }
    assert found(contract, with_(T2V, positivePrompt="see @part0")) == {
        ("part-references", "invalidElementReference", "positivePrompt")
    }


def test_value_when_uses_the_default(contract: Contract) -> None:
    assert contract.violations(with_(T2V, ttl=120)) == []  # outputType defaults to URL
    assert found(contract, with_(T2V, ttl=120, outputType="base64Data")) == {
        ("ttl-url-only", "invalidParameterCombination", "outputType")
    }


def test_default_when_and_with_defaults(contract: Contract) -> None:
    full = contract.with_defaults(with_(T2V, safety={"check": True}))
    assert full["duration"] == 4 and full["outputType"] == "URL"
    assert full["safety"] == {"check": True, "level": "low"}
    assert contract.with_defaults(with_(T2V, safety={}))["safety"] == {
        "check": False,
        "level": "none",
    }
    kept = contract.with_defaults(with_(T2V, safety={"check": True, "level": "high"}))
    assert kept["safety"]["level"] == "high"


@pytest.mark.parametrize(
    ("field", "value", "constraint"),
    [
        ("duration", 3, "multipleOf"),
        ("duration", 12, "maximum"),
        ("duration", 4.0, "type"),
        ("duration", True, "type"),
        ("fps", True, "type"),
        ("fps", math.nan, "type"),
        ("fps", math.inf, "type"),
        ("fps", 0.5, "minimum"),
        ("positivePrompt", "x" * 51, "maxLength"),
        ("taskUUID", UUID.replace("-4bb7-", "-1bb7-"), "format"),
        ("taskUUID", UUID + "\n", "format"),
        ("model", "acme:other@1", "const"),
        ("mode", "FAST", "enum"),
        ("outputType", None, "type"),
        ("positivePrompt", "x", "minLength"),
        ("positivePrompt", 5, "type"),
        ("duration", 0, "minimum"),  # a multiple of its step, below its minimum
        ("model", 5, "type"),  # a const field: the type is checked before the value
        ("mode", 1, "type"),  # an enum field likewise
        ("mode", ["fast"], "type"),
    ],
)
def test_field_constraints(contract: Contract, field: str, value: Any, constraint: str) -> None:
    task = copy.deepcopy(T2V)
    task[field] = value
    (violation,) = [v for v in contract.violations(task) if v.parameter == field]
    assert violation.rule == constraint
    code = "unsupportedModel" if (field, constraint) == ("model", "const") else None
    assert violation.code == (
        code
        or {
            "multipleOf": "valueNotMultipleOfStep",
            "maximum": "valueTooLarge",
            "type": "invalidParameterType",
            "minimum": "valueTooSmall",
            "maxLength": "valueTooLarge",
            "minLength": "valueTooSmall",
            "format": "invalidFormat",
            "enum": "invalidParameterValue",
        }[constraint]
    )


def test_values_exactly_at_their_bounds_are_accepted(contract: Contract) -> None:
    """``maximum`` and ``maxLength`` are inclusive (and so are their minima)."""
    for changes in (
        {"duration": 10},
        {"duration": 2},
        {"fps": 60},
        {"fps": 1},
        {"positivePrompt": "x" * 50},
        {"positivePrompt": "xy"},
    ):
        assert contract.violations(with_(T2V, **changes)) == [], changes


def test_numbers_accept_integers_and_floats(contract: Contract) -> None:
    assert contract.violations(with_(T2V, fps=24)) == []
    assert contract.violations(with_(T2V, fps=23.976)) == []


def test_nested_unknown_keys_and_array_items(contract: Contract) -> None:
    task = with_(I2V, inputs={"frames": [{"image": IMG, "extra": 1}], "refs": [], "zzz": 0})
    assert {(r, p) for r, _, p in found(contract, task)} == {
        ("unknown", "inputs.frames.0.extra"),
        ("unknown", "inputs.zzz"),
        ("minItems", "inputs.refs"),
    }
    bad_items = with_(I2V, inputs={"frames": [{"image": IMG}], "refs": [1, "nope"]}, mode="fast")
    assert {(r, p) for r, _, p in found(contract, bad_items)} == {
        ("type", "inputs.refs.0"),
        ("format", "inputs.refs.1"),
    }


def test_missing_required_parameters_at_the_root_and_in_array_items(contract: Contract) -> None:
    root = {k: v for k, v in T2V.items() if k != "taskUUID"}
    assert ("required", "taskUUID") in {(r, p) for r, _, p in found(contract, root)}
    item = with_(I2V, inputs={"frames": [{}]}, mode="fast")
    assert ("required", "inputs.frames.0.image") in {(r, p) for r, _, p in found(contract, item)}


def test_garbage_never_crashes(contract: Contract) -> None:
    task: Any
    for task in (
        [],
        "x",
        1,
        None,
        {"inputs": "x"},
        {"inputs": {"frames": "x"}},
        {"inputs": {"frames": [1, None, "x"]}, "width": {}, "height": []},
        {"positivePrompt": 5, "inputs": {"parts": [None]}},
    ):
        assert contract.violations(task)


def test_errors_carry_task_identity(contract: Contract) -> None:
    (error,) = contract.validate(with_(T2V, duration=12))
    assert error["taskUUID"] == UUID and error["taskType"] == "videoInference"
    assert error["documentation"] is None  # the tiny spec has no anchors
    errors = contract.validate(with_(T2V, duration=12, taskUUID=5))
    assert {e["parameter"] for e in errors} == {"duration", "taskUUID"}
    assert all(e["taskUUID"] is None for e in errors)  # not a string: not echoed


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (True, "boolean"),
        (1, "integer"),
        (1.0, "number"),
        ("s", "string"),
        (None, "null"),
        ([], "array"),
        ({}, "object"),
    ],
)
def test_json_type(value: Any, kind: str) -> None:
    assert json_type(value) == kind


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ([], False), ({}, False), ("", True), (0, True), (False, True), ([0], True)],
)
def test_provided(value: Any, expected: bool) -> None:
    assert provided(value) is expected


def test_price_of(tiny_spec: SpecSet) -> None:
    model = tiny_spec.models[0]
    pricing, dims = tables.pricing_table(model, tiny_spec.platform), tables.dimensions_table(model)
    assert pricing is not None
    assert price_of({"width": 1280, "height": 720, "duration": 6}, pricing, dims) == 0.3
    assert (
        price_of({"width": 1280, "height": 720, "duration": 6}, pricing, dims, audio=True) == 0.42
    )
    assert price_of({"width": 1920, "height": 1080, "duration": 4}, pricing, dims) == 0.4
    with pytest.raises(ValueError, match="resolution"):
        price_of({"duration": 4}, pricing, dims)  # two resolutions: which one is unknown
    with pytest.raises(ValueError, match="no price"):
        price_of({"width": 1920, "height": 1080, "duration": 4}, pricing, dims, audio=True)
    assert pricing["unitParameter"] == "duration"  # from the platform's pricingUnits
    with pytest.raises(ValueError, match="the task needs duration"):
        price_of({"width": 1920, "height": 1080}, pricing, dims)  # no default applied
    per_video = {**pricing, "unit": "video"}
    del per_video["unitParameter"]
    assert price_of({"width": 1920, "height": 1080, "duration": 4}, per_video, dims) == 0.1


@pytest.mark.parametrize(
    ("frames", "positions"),
    [
        ([{}], ["start"]),
        ([{}, {}], ["start", "end"]),
        ([{"at": "end"}, {}], ["end", "start"]),
        ([{}, {"at": 0}], ["end", "start"]),
        ([{"at": -1}], ["end"]),
        ([{"at": "middle"}, {}], [None, "start"]),
        ([{}, {}, {}], [None, None, None]),
    ],
)
def test_resolve_positions(tiny_spec: SpecSet, frames: list[Any], positions: list[Any]) -> None:
    from runware_contract.runtime import resolve_positions

    (rule,) = [r for r in tables.rules_table(tiny_spec.models[0]) if r["kind"] == "framePositions"]
    assert resolve_positions(frames, rule) == positions


@pytest.mark.parametrize("value", [[1], {"a": 1}, [[]], {"b": [1, {"c": 2}]}])
def test_arrays_and_objects_where_values_are_compared_never_crash(
    contract: Contract, value: Any
) -> None:
    """Rules compare values (frame positions, value conditions): garbage must be reported."""
    frames = {"frames": [{"image": IMG, "at": value}, {"image": IMG, "at": value}]}
    task = with_(I2V, inputs=frames, ttl=120, outputType=value, mode=value)
    rules = {v.rule for v in contract.violations(task)}
    assert {"type"} <= rules and "frame-positions" not in rules
