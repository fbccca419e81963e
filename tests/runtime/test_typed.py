"""The typed side of the package as its users hold it: pydantic models passed where wire
JSON is expected (validate, with_defaults, to_json_data), and the package's values that
cannot be changed in place (violations, documented examples, compiled models)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from pydantic import BaseModel, Field

from runware_contract import klingai_video_3_0_pro as kling
from runware_contract.model import compile_model
from runware_contract.platform import CONSTRAINT_CODES, FORMATS, RULE_CODES
from runware_contract.typed import as_wire, to_json_data
from runware_contract.values import Violation


class Settings(BaseModel):
    """A model whose wire name is not its Python name, with a default."""

    from_: str = Field(alias="from")
    level: str = "low"


def test_a_model_is_sent_as_what_was_set_under_its_wire_names() -> None:
    """Unset defaults stay out (the contract's defaults, conditional ones too, apply to
    what the user did not say) and each field goes under its alias."""
    settings = Settings.model_validate({"from": "a"})
    assert as_wire(settings) == {"from": "a"}
    assert as_wire(Settings.model_validate({"from": "a", "level": "high"})) == {
        "from": "a",
        "level": "high",
    }
    assert to_json_data({"s": settings, "list": [settings]}) == {
        "s": {"from": "a"},
        "list": [{"from": "a"}],
    }
    task = {"taskType": "videoInference"}
    assert as_wire(task) is task  # wire JSON passes as it is, not copied


def test_a_typed_request_validates_and_gets_its_conditional_defaults() -> None:
    wire = {**kling.EXAMPLES[0].request, "safety": {"checkContent": True}}
    request = kling.Request.model_validate(wire)
    assert kling.validate(request) == []
    filled = kling.with_defaults(request)
    assert filled["safety"] == {"checkContent": True, "mode": "fast"}  # the rule's default
    assert filled == kling.with_defaults(wire)


def test_violations_are_values_a_user_can_compare_collect_and_not_change() -> None:
    task: dict[str, Any] = {**kling.EXAMPLES[0].request, "duration": 99}
    first, again = kling.CONTRACT.violations(task), kling.CONTRACT.violations(task)
    assert first == again and len({*first, *again}) == len(first) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        first[0].code = "other"  # type: ignore[misc]
    assert Violation("c", "m", "p", "r") == Violation("c", "m", "p", "r", None)


def test_documented_examples_and_compiled_models_cannot_be_changed_in_place() -> None:
    """Shared by every user of the package: one cannot rebind what another reads."""
    example = kling.EXAMPLES[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        example.request = {}  # type: ignore[misc]
    compiled = compile_model(kling.tables, FORMATS, CONSTRAINT_CODES, RULE_CODES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        compiled.validate = lambda task: []  # type: ignore[misc]
    assert compiled.validate(example.request) == []
