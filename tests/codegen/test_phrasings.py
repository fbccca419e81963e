"""The family's validation phrasings: each sentence becomes the rule it states."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from codegen import SpecSet
from codegen.docs.rules import phrasings, rule_from_sentence, rules_from_sentence
from codegen.spec.kinds import CODEGEN_KINDS, typed_value

CASES: list[tuple[str, dict[str, Any]]] = [
    (
        "Provide exactly one of: `inputs.frameImages` or `inputs.video` or `width/height`.",
        {
            "kind": "exactlyOne",
            "params": ["inputs.frameImages", "inputs.video", ["width", "height"]],
        },
    ),
    (
        "Provide exactly one of: `positivePrompt`, `providerSettings.acme.shots`.",
        {"kind": "exactlyOne", "params": ["positivePrompt", "providerSettings.acme.shots"]},
    ),
    (
        "Either provide `inputs.frameImages`, or specify `width/height` or `resolution`.",
        {"kind": "atLeastOne", "params": ["inputs.frameImages", ["width", "height"], "resolution"]},
    ),
    (
        "Either provide `inputs.frameImages`, or specify `width/height`.",
        {"kind": "atLeastOne", "params": ["inputs.frameImages", ["width", "height"]]},
    ),
    (
        "`resolution` cannot be used with `width/height`.",
        {"kind": "forbids", "when": {"anyOf": ["resolution"]}, "forbid": ["width", "height"]},
    ),
    (
        "Inside `inputs`, `video` cannot be used with `referenceVideos`.",
        {
            "kind": "forbids",
            "when": {"anyOf": ["inputs.video"]},
            "forbid": ["inputs.referenceVideos"],
        },
    ),
    (
        "When `inputs.video` or `inputs.audio` is provided, `duration` cannot be used.",
        {
            "kind": "forbids",
            "when": {"anyOf": ["inputs.video", "inputs.audio"]},
            "forbid": ["duration"],
        },
    ),
    (
        "When `inputs.video` or `inputs.audio` is provided, `seed` is required.",
        {
            "kind": "requires",
            "when": {"anyOf": ["inputs.video", "inputs.audio"]},
            "then": {"allOf": ["seed"]},
        },
    ),
    (
        "When `inputs.video` or `inputs.audio` is provided, `inputs.images` is limited to 4 items.",
        {"kind": "limitItems", "target": "inputs.images", "maxItems": 4},
    ),
    (
        "When `providerSettings.resize` is provided, `inputs.frames` requires at least 1 item.",
        {"kind": "requireItems", "target": "inputs.frames", "minItems": 1},
    ),
    (
        "When `seed` is provided, `inputs.frameImages` requires at least 2 items.",
        {"kind": "requireItems", "when": {"anyOf": ["seed"]}, "minItems": 2},
    ),
    (
        "`width` and `height` must be used together.",
        {"kind": "together", "params": ["width", "height"]},
    ),
    (
        "`inputs.video` and `seed` cannot be used together.",  # the first forbids the rest
        {"kind": "forbids", "when": {"anyOf": ["inputs.video"]}, "forbid": ["seed"]},
    ),
]


@pytest.mark.parametrize(("sentence", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_a_family_sentence_becomes_its_rule(
    spec: SpecSet, sentence: str, expected: dict[str, Any]
) -> None:
    rule = rule_from_sentence(sentence, phrasings(spec.platform))
    assert rule is not None, sentence
    assert {k: rule[k] for k in expected} == expected
    assert rule["source"]["quote"] == sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "Provide exactly one of: `a`.",  # a single operand is no choice
        "Either provide `a` or `b`.",
        "`a` can be used with `b`.",
    ],
)
def test_a_sentence_no_phrasing_fits_makes_no_rule(spec: SpecSet, sentence: str) -> None:
    assert rule_from_sentence(sentence, phrasings(spec.platform)) is None


# ── lists, the most specific phrasing, values typed as their parameter ──────


@pytest.mark.parametrize(
    ("sentence", "operands"),
    [
        ("Provide exactly one of: `a` or `b`.", ["a", "b"]),
        ("Provide exactly one of: `a`, `b` or `c`.", ["a", "b", "c"]),
        ("Provide exactly one of: `a`, `b`, or `c`.", ["a", "b", "c"]),  # the Oxford comma
        ("Provide exactly one of: `a`, `b`, `c`.", ["a", "b", "c"]),
        ("Either provide `a`, or specify `b`, `c`, or `d`.", ["a", "b", "c", "d"]),
    ],
)
def test_an_or_list_reads_with_or_without_the_oxford_comma(
    spec: SpecSet, sentence: str, operands: list[str]
) -> None:
    rule = rule_from_sentence(sentence, phrasings(spec.platform))
    assert rule is not None, sentence
    assert rule["params"] == operands


@pytest.mark.parametrize(
    "sentence",
    [
        "When `a` is provided, `b`, `c`, and `d` cannot be used.",
        "When `a` is provided, `b`, `c` and `d` cannot be used.",
        "When `a` is provided, `b`, `c`, `d` cannot be used.",
    ],
)
def test_an_and_list_reads_with_or_without_the_oxford_comma(spec: SpecSet, sentence: str) -> None:
    rule = rule_from_sentence(sentence, phrasings(spec.platform))
    assert rule is not None, sentence
    assert (rule["when"], rule["forbid"]) == ({"anyOf": ["a"]}, ["b", "c", "d"])


def test_the_most_specific_phrasing_a_sentence_fits_reads_it(spec: SpecSet) -> None:
    """With a general list phrasing beside the platform's "`B` or `C` is required" (any one
    of them), a sentence both fit is read by the more specific one: any one, not all."""
    platform = spec.platform
    general = "When `A` is provided, `B...` is required."
    kinds = dict(platform.rule_kinds)
    kinds["requires"] = dataclasses.replace(
        kinds["requires"], phrasings=(general, *kinds["requires"].phrasings)
    )
    known = phrasings(dataclasses.replace(platform, rule_kinds=kinds))
    either = rule_from_sentence("When `a` is provided, `b` or `c` is required.", known)
    assert either is not None and either["then"] == {"anyOf": ["b", "c"]}
    three = rule_from_sentence("When `a` is provided, `b`, `c` or `d` is required.", known)
    assert three is not None and three["then"] == {"allOf": ["b", "c", "d"]}  # only the list fits


@pytest.mark.parametrize(
    ("text", "types", "value"),
    [
        ("24", ["number"], 24),
        ("24", ["integer"], 24),
        ("-3", ["number"], -3),
        ("0.5", ["number"], 0.5),
        ("0.5", ["integer"], "0.5"),
        ("24", ["string"], "24"),
        ("24", ["string", "integer"], 24),
        ("true", ["boolean"], True),
        ("false", ["boolean"], False),
        ("true", ["string"], "true"),
        ("480p", ["string"], "480p"),
        ("7", None, 7),
        ("0.25", None, 0.25),
        ("false", None, False),
    ],
)
def test_a_value_as_written_takes_its_parameters_type(
    text: str, types: list[str] | None, value: Any
) -> None:
    got = typed_value(text, types)
    assert got == value and type(got) is type(value)


def test_a_value_rule_of_a_number_parameter_allows_numbers() -> None:
    rule: dict[str, Any] = {"kind": "valueWhen", "param": "fps", "allowed": ["24", "30"]}
    CODEGEN_KINDS["valueWhen"].typed(rule, {"fps": ["number"]})
    assert rule["allowed"] == [24, 30] and all(type(v) is int for v in rule["allowed"])
    flags: dict[str, Any] = {"kind": "valueWhen", "param": "audio", "allowed": [True]}
    CODEGEN_KINDS["valueWhen"].typed(flags, {"audio": ["string"]})
    assert flags["allowed"] == ["true"]  # a boolean written of a string parameter is text


def test_a_sentence_of_two_consequences_is_two_rules_or_none(spec: SpecSet) -> None:
    known = phrasings(spec.platform)
    both = (
        "When `a` is provided, `b` is limited to `5` and dimensions are limited to `640\u00d7360`."
    )
    rules = rules_from_sentence(both, known)
    assert [r["kind"] for r in rules] == ["valueWhen", "dimensions"]
    assert {r["source"]["quote"] for r in rules} == {both}
    half = "When `a` is provided, `b` is frobnicated and dimensions are limited to `640\u00d7360`."
    assert rules_from_sentence(half, known) == []  # half read: nothing, never half a rule
