"""The family's validation phrasings: each sentence becomes the rule it states."""

from __future__ import annotations

from typing import Any

import pytest

from codegen import SpecSet
from codegen.docs.rules import phrasings, rule_from_sentence

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
