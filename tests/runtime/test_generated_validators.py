"""The generated validators: documented examples pass, every constraint and rule is
enforced by both validate() and the typed model, with the same codes and parameters."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

import runware_contract as rc
from runware_contract import klingai_video_3_0_pro as kling
from runware_contract.platform import RULE_CODES
from tests.helpers import model_errors, validator_errors
from tests.kling_cases import RICH, RULE_CASES, Case, example, field_cases

FIELD_CASES = list(field_cases())


@pytest.mark.parametrize("ex", kling.EXAMPLES, ids=lambda e: e.name)
def test_documented_examples_validate_and_parse(ex: rc.Example) -> None:
    assert rc.validate(ex.request) == []
    assert kling.validate(ex.request) == []
    request = kling.Request.model_validate(ex.request)
    assert request.model_dump(mode="json", exclude_unset=True) == ex.request
    result = kling.Result.model_validate(ex.response)
    assert result.videoUUID == ex.response["videoUUID"]
    assert kling.validate_result(ex.response) == []


@pytest.mark.parametrize("ex", kling.EXAMPLES, ids=lambda e: e.name)
def test_documented_costs_come_from_the_price_table(ex: rc.Example) -> None:
    assert kling.price(ex.request) == ex.response["cost"]


def test_price_with_audio_and_defaults() -> None:
    t2v = example("volcanic-glass-violin-recital")
    assert kling.price(t2v, audio=True) == 1.68
    del t2v["duration"]  # default 5 s
    assert kling.price(t2v) == 0.56


def test_the_rich_task_is_valid() -> None:
    assert rc.validate(RICH) == []
    assert model_errors(RICH) == set()


def test_every_parameter_is_exercised_by_the_rich_task_or_an_example() -> None:
    from tests.kling_cases import wire_path

    for p in kling.tables.PARAMETERS:
        name = p["path"].rsplit(".", 1)[-1]
        holders = [RICH, *(e.request for e in kling.EXAMPLES)]
        assert any(name in wire_path(t, p["path"])[1][-1] for t in holders), p["path"]


@pytest.mark.parametrize("case", FIELD_CASES, ids=lambda c: c.id)
def test_every_field_constraint_is_enforced_by_both(case: Case) -> None:
    expected = (case.code, case.parameter)
    from_validator = validator_errors(case.task)
    assert expected in from_validator
    assert model_errors(case.task) == from_validator


def test_field_cases_cover_every_constraint_kind() -> None:
    kinds = {c.id.split(":")[1] for c in FIELD_CASES}
    assert {
        "required",
        "type",
        "null",
        "const",
        "enum",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "format",
        "maxItems",
        "unknown",
        "itemType",
    } <= kinds
    assert len(FIELD_CASES) > 100


@pytest.mark.parametrize(
    ("rule_id", "outcome", "task", "parameter"),
    RULE_CASES,
    ids=[f"{c[0]}:{c[3]}" for c in RULE_CASES],
)
def test_every_rule_is_enforced_by_both(
    rule_id: str, outcome: str, task: dict[str, Any], parameter: str
) -> None:
    rule = next(r for r in kling.tables.RULES if r["id"] == rule_id)
    expected = (RULE_CODES[rule["kind"]][outcome], parameter)
    violations = kling.CONTRACT.violations(task)
    (found,) = [v for v in violations if v.parameter == parameter]  # one per parameter
    if rule_id in SHADOWED:
        # the value breaks the parameter's own constraint too: that is its one error
        assert found.rule == SHADOWED[rule_id], violations
        expected = (found.code, parameter)
    else:
        assert found.rule == rule_id and (found.code, found.parameter) == expected, violations
    assert expected in model_errors(task)
    assert model_errors(task) == validator_errors(task)


# Rules whose case value also breaks the parameter's own constraint, which is reported
# instead (one error per parameter): Kling's outputType allows URL only, so the base64Data
# that breaks ttl-needs-url-output is first not one of its values.
SHADOWED = {"ttl-needs-url-output": "enum"}


def test_every_validating_rule_has_a_case() -> None:
    covered = {c[0] for c in RULE_CASES}
    validating = {r["id"] for r in kling.tables.RULES if RULE_CODES[r["kind"]]}
    assert validating == covered


def test_all_violations_of_a_task_are_reported() -> None:
    task = copy.deepcopy(RICH)
    task["duration"] = 99
    task["outputFormat"] = "AVI"
    task["inputs"]["frameImages"][1]["frame"] = "first"
    task["positivePrompt"] = "<<<element_9>>>"
    del task["providerSettings"]
    errors = rc.validate(task)
    found = {(e["code"], e["parameter"]) for e in errors}
    assert found == {
        ("valueTooLarge", "duration"),
        ("invalidParameterValue", "outputFormat"),
        ("invalidFramePosition", "inputs.frameImages.1.frame"),
        ("invalidElementReference", "positivePrompt"),
        ("missingRequiredParameter", "providerSettings"),
    }
    assert all(
        e["taskUUID"] == RICH["taskUUID"] and e["taskType"] == "videoInference" for e in errors
    )
    assert model_errors(task) == found


def test_errors_carry_message_and_documentation() -> None:
    task = example("volcanic-glass-violin-recital")
    task["duration"] = 2
    (error,) = rc.validate(task)
    assert error["message"] == "duration must be at least 3; got 2."
    assert error["documentation"] == f"{kling.DOCS}#request-duration"
    assert set(error) == {
        "code",
        "message",
        "parameter",
        "type",
        "documentation",
        "taskType",
        "taskUUID",
    }


@pytest.mark.parametrize(
    ("task", "code", "parameter"),
    [
        ([1, 2], "invalidRequestBody", ""),
        ({"taskUUID": "x"}, "missingParameter", "taskType"),
        ({"taskType": "dance"}, "invalidTaskType", "taskType"),
        ({"taskType": [1]}, "invalidTaskType", "taskType"),
        ({"taskType": {"a": 1}}, "invalidTaskType", "taskType"),
        ({"taskType": "videoInference", "model": ["x"]}, "unsupportedModel", "model"),
        ({"taskType": "videoInference"}, "missingParameter", "model"),
        ({"taskType": "videoInference", "model": "other:model@1"}, "unsupportedModel", "model"),
        ({"taskType": "getResponse"}, "missingParameter", "taskUUID"),
        (
            {"taskType": "imageUpload", "taskUUID": RICH["taskUUID"], "image": "??"},
            "invalidFormat",
            "image",
        ),
    ],
)
def test_dispatch_errors(task: Any, code: str, parameter: str) -> None:
    errors = rc.validate(task)
    assert (errors[0]["code"], errors[0]["parameter"]) == (code, parameter)


def test_platform_tasks_validate() -> None:
    assert rc.validate({"taskType": "getResponse", "taskUUID": RICH["taskUUID"]}) == []
    assert rc.validate({"taskType": "authentication", "apiKey": "k"}) == []
    assert rc.validate({"taskType": "ping", "ping": True}) == []


@pytest.mark.parametrize(
    ("value", "accepted"),
    [(5, True), (5.0, False), (True, False), ("5", False), (None, False)],
)
def test_integers_are_strict_json_integers(value: Any, accepted: bool) -> None:
    task = example("volcanic-glass-violin-recital")
    task["duration"] = value
    assert (rc.validate(task) == []) is accepted
    assert (model_errors(task) == set()) is accepted


@pytest.mark.parametrize("value", [False, 0.0, "0", "-1"])
def test_frame_index_is_a_json_integer(value: Any) -> None:
    task = example("copper-aviary-dawn-tableau")
    task["inputs"]["frameImages"][0]["frame"] = value
    assert rc.validate(task) != []
    assert model_errors(task) != set()


def test_with_defaults_fills_documented_and_conditional_defaults() -> None:
    task = example("lantern-regatta-at-daybreak")
    task["safety"] = {"checkContent": True}
    full = kling.with_defaults(task)
    assert full["outputFormat"] == "MP4" and full["numberResults"] == 1
    assert full["safety"] == {"checkContent": True, "mode": "fast"}
    task["safety"] = {"checkContent": False}
    assert kling.with_defaults(task)["safety"]["mode"] == "none"
    assert "safety" not in task or task["safety"] == {"checkContent": False}  # input untouched


def test_typed_model_built_from_objects_is_checked_too() -> None:
    image = RICH["inputs"]["frameImages"][0]["image"]
    auto = kling.models.FrameImage(image=image)
    first = kling.models.FrameImage(image=image, frame=kling.models.Frame.FIRST)
    common = {
        "taskType": "videoInference",
        "taskUUID": RICH["taskUUID"],
        "model": kling.MODEL_ID,
        "positivePrompt": "hello",
    }
    # two frames without positions take first and last: valid
    kling.Request(**common, inputs=kling.models.Inputs(frameImages=[auto, auto]))
    with pytest.raises(ValidationError) as info:
        kling.Request(**common, inputs=kling.models.Inputs(frameImages=[first, first]))
    (error,) = info.value.errors()
    assert error["loc"] == ("inputs", "frameImages", 1, "frame")
    assert error["ctx"]["code"] == "invalidFramePosition"
    ok = kling.Request(
        taskType="videoInference",
        taskUUID=RICH["taskUUID"],
        model="klingai:kling-video@3-pro",
        positivePrompt="hello",
        width=1920,
        height=1080,
    )
    assert ok.duration == 5
