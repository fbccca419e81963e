"""Property tests over an image model's strategies (Nano Banana 2, from spec/models/): the
shipped strategies draw valid imageInference tasks the validator and the typed model
accept, and single violations each rejected with exactly one error per violated parameter,
with the code its constraint or rule kind names. Prices of drawn tasks follow the page's
tiers and add-ons."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, note, settings

import runware_contract as rc
from runware_contract import google_nano_banana_2 as banana
from runware_contract import strategies as S
from runware_contract.runtime import PriceUnavailable
from tests.helpers import expected_codes, model_errors

CASES = S.cases(banana)
# A rule whose violation always breaks another: without inputs.referenceImages, a task with
# a resolution (which forbids width/height) has neither side of the either-or rule.
NEVER_ALONE = {"resolution-require-reference-images": "reference-images-or-width-height"}
BREAKABLE = [
    (name, strategy)
    for name, strategy in CASES
    if not strategy.is_empty and name not in NEVER_ALONE
]


def test_the_image_model_is_served_beside_kling() -> None:
    assert {"google:4@3", "klingai:kling-video@3-pro"} <= set(rc.MODELS)
    assert banana.TASK_TYPE == "imageInference"
    assert len(BREAKABLE) > 30  # every bound, enum, format and rule of the page


@given(S.valid_tasks(banana))
def test_every_valid_image_task_is_accepted_by_validator_and_model(task: dict[str, Any]) -> None:
    note(json.dumps(task))
    assert task["taskType"] == "imageInference"
    assert rc.validate(task) == []
    banana.Request.model_validate(task)


@pytest.mark.parametrize(("name", "strategy"), BREAKABLE, ids=[n for n, _ in BREAKABLE])
def test_every_single_violation_gets_one_error_per_violated_parameter(
    name: str, strategy: Any
) -> None:
    codes = expected_codes(banana, name)

    @settings(max_examples=25)
    @given(strategy)
    def check(task: dict[str, Any]) -> None:
        note(json.dumps(task))
        errors = rc.validate(task)
        assert errors and {e["code"] for e in errors} <= codes
        per_parameter = Counter(str(e["parameter"]) for e in errors)
        assert max(per_parameter.values()) == 1, per_parameter
        assert model_errors(task, banana) == {(e["code"], str(e["parameter"])) for e in errors}

    check()


def test_a_rule_that_never_breaks_alone_breaks_with_its_partner_one_error_each() -> None:
    task = {
        "taskType": "imageInference",
        "taskUUID": "2b7c8d9e-0f1a-4b2c-8d3e-4f5a6b7c8d9e",
        "model": banana.MODEL_ID,
        "positivePrompt": "a kite",
        "resolution": "1K",
    }
    errors = rc.validate(task)
    assert {e["parameter"] for e in errors} == {"inputs.referenceImages"}
    assert len(errors) == 1  # both rules name the same parameter: one error for it
    assert {banana.CONTRACT.violations(task)[0].rule} <= {*NEVER_ALONE, *NEVER_ALONE.values()}


@settings(max_examples=60)
@given(S.valid_tasks(banana))
def test_a_drawn_task_costs_its_tier_plus_its_add_ons(task: dict[str, Any]) -> None:
    """The price of any valid task: the tier its size or preset names, plus one input-image
    add-on per reference image and the grounded-search add-on when a search is on (the
    page's prose); a task that names no tier has no price rather than a guess."""
    note(json.dumps(task))
    full = banana.with_defaults(task)
    tiers = {"0.5K": "0.04657", "1K": "0.06895", "2K": "0.10255", "4K": "0.15295"}
    dimensions = banana.tables.DIMENSIONS
    assert dimensions is not None
    by_size = {(r["width"], r["height"]): r["resolution"] for r in dimensions["rows"]}
    tier = by_size.get((full.get("width"), full.get("height"))) or full.get("resolution")
    if tier is None:
        with pytest.raises(PriceUnavailable):
            banana.price(task)
        return
    google = full.get("providerSettings", {}).get("google", {})
    images = len(full.get("inputs", {}).get("referenceImages") or [])
    expected = Decimal(tiers[tier]) + Decimal("0.00028") * images
    if google.get("webSearch") is True or google.get("imageSearch") is True:
        expected += Decimal("0.14")
    assert banana.price(task) == float(expected)
    assert banana.task_price(task) == float(expected * full["numberResults"])
