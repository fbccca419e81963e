"""The emitted JSON Schema and the runtime agree on every task, except for the rules
JSON Schema cannot express (prompt references), which only the runtime checks."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from codegen import SpecSet
from codegen.emit.json_schema import request_schema
from runware_contract import klingai_video_3_0_pro as kling
from runware_contract.runtime import Contract
from tests.contracts import I2V, IMG, T2V, contract_for, with_
from tests.kling_cases import RICH, RULE_CASES, field_cases

GENERATED = Path(kling.__file__).parent


def schema_only_rules(spec_rules: list[dict[str, Any]]) -> set[str]:
    return {r["id"] for r in spec_rules if r["kind"] == "promptReferences"}


def agree(validator: Draft202012Validator, contract: Contract, task: Any, skip: set[str]) -> None:
    runtime_ok = not [v for v in contract.violations(task) if v.rule not in skip]
    assert validator.is_valid(task) == runtime_ok, (task, contract.violations(task))


KLING_TASKS = [
    RICH,
    *(e.request for e in kling.EXAMPLES),
    *(c.task for c in field_cases()),
    *(c[2] for c in RULE_CASES),
]


def test_kling_schema_and_runtime_agree() -> None:
    schema = json.loads((GENERATED / "request.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    skip = schema_only_rules(kling.tables.RULES)
    for task in KLING_TASKS:
        agree(validator, kling.CONTRACT, task, skip)


def test_kling_result_schema_accepts_documented_responses() -> None:
    schema = json.loads((GENERATED / "result.schema.json").read_text())
    validator = Draft202012Validator(schema)
    for ex in kling.EXAMPLES:
        assert validator.is_valid(ex.response)
    assert not validator.is_valid({**kling.EXAMPLES[0].response, "cost": "1.12"})


def tiny_tasks() -> list[Any]:
    frames = [{"image": IMG}, {"image": IMG}]
    parts = [
        {"name": "a", "clip": "https://x.example/c.mp4", "photo": IMG},
        {"name": "b", "voice": "v"},
    ]
    return [
        T2V,
        I2V,
        with_(T2V, width=None, height=None),
        with_(I2V, width=1280, height=720),
        with_(I2V, height=720),
        with_(T2V, width=None, height=None, inputs={"frames": []}),
        with_(T2V, height=None),
        with_(T2V, height=1080),
        with_(T2V, height="720"),
        with_(I2V, inputs={"frames": [{"image": IMG}], "refs": ["https://x.example/a.mp4"]}),
        with_(
            I2V,
            inputs={"frames": [{"image": IMG}], "refs": ["https://x.example/a.mp4"]},
            mode="fast",
        ),
        with_(T2V, styleImage=IMG),
        with_(T2V, styleImage=IMG, fps=24),
        with_(T2V, styleImage=IMG, mode="fast"),
        with_(T2V, mode="slow", fps=24),
        with_(T2V, mode="fast", fps=24),
        with_(T2V, seedImage=IMG, fps=24),
        with_(I2V, inputs={"frames": frames}),
        with_(I2V, inputs={"frames": frames}, styleImage=IMG, fps=24),
        *(
            with_(I2V, inputs={"frames": f})
            for f in (
                [{"image": IMG, "at": "end"}],
                [{"image": IMG, "at": -1}, {"image": IMG, "at": 0}],
                [{"image": IMG, "at": "start"}, {"image": IMG, "at": 0}],
                [{"image": IMG, "at": "end"}, {"image": IMG}],
                [{"image": IMG}, {"image": IMG, "at": "start"}],
                [{"image": IMG}, {"image": IMG, "at": 0}, {"image": IMG, "at": "end"}],
            )
        ),
        with_(T2V, inputs={"parts": parts}),
        with_(T2V, inputs={"parts": [{"name": "a", "voice": "v", "photo": IMG}]}),
        with_(T2V, ttl=120),
        with_(T2V, ttl=120, outputType="base64Data"),
        with_(T2V, duration=3),
        with_(T2V, duration=6),
        with_(T2V, fps=0.5),
        with_(T2V, fps=True),
        with_(I2V, inputs={"frames": [{"image": IMG, "extra": 1}], "refs": []}),
    ]


def test_tiny_schema_and_runtime_agree_on_every_rule_kind(tiny_spec: SpecSet) -> None:
    model = tiny_spec.models[0]
    schema = request_schema(model, tiny_spec.platform, header="test")
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    contract = contract_for(model, tiny_spec.platform)
    skip = {r.id for r in model.rules if r.kind == "promptReferences"}
    tasks = tiny_tasks()
    assert sum(validator.is_valid(t) for t in tasks) >= 8  # both outcomes are exercised
    for task in tasks:
        agree(validator, contract, copy.deepcopy(task), skip)


@pytest.mark.parametrize(
    "kind",
    [
        "exactlyOne",
        "requires",
        "forbids",
        "limitItems",
        "together",
        "dimensions",
        "framePositions",
        "valueWhen",
    ],
)
def test_each_expressible_rule_kind_reaches_the_schema(tiny_spec: SpecSet, kind: str) -> None:
    schema = json.dumps(request_schema(tiny_spec.models[0], tiny_spec.platform, header="t"))
    rule_id = next(r.id for r in tiny_spec.models[0].rules if r.kind == kind)
    assert f'"$comment": "rule {rule_id}"' in schema


def test_an_image_models_schema_and_runtime_agree_on_drawn_tasks() -> None:
    """Nano Banana 2's request schema against its runtime on valid tasks and on every single
    violation the strategies draw (a dimension table, a preset, an either-or, a watermark)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from runware_contract import google_nano_banana_2 as banana
    from runware_contract import strategies as S

    schema = json.loads((Path(banana.__file__).parent / "request.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    drawn = [S.valid_tasks(banana), *(s for _, s in S.cases(banana) if not s.is_empty)]

    @settings(max_examples=300, deadline=None)
    @given(st.one_of(drawn))
    def check(task: dict[str, Any]) -> None:
        agree(validator, banana.CONTRACT, task, set())

    check()
