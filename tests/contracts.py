"""Build runtime Contracts straight from a loaded spec (the same tables the generator emits);
the tiny spec's base tasks."""

from __future__ import annotations

import copy
from typing import Any

from codegen.emit import tables
from codegen.spec.model import ModelSpec, Platform
from runware_contract.runtime import Contract


def contract_for(model: ModelSpec, platform: Platform) -> Contract:
    return Contract(
        task_label=model.name,
        docs=model.docs,
        parameters=tables.parameters_table(model.parameters),
        rules=tables.rules_table(model),
        formats={name: (rx, text) for name, (rx, text) in tables.formats_table(platform).items()},
        constraint_codes=dict(platform.constraint_codes),
        rule_codes=tables.rule_codes_table(platform),
        dimensions=tables.dimensions_table(model),
    )


# The tiny spec's (tests/data/tiny-spec) text-to-video and image-to-video tasks.
UUID = "08885c1c-3794-4bb7-adab-b8df47f93c80"
IMG = "aac49721-1964-481a-ae78-8a4e29b91402"
T2V: dict[str, Any] = {
    "taskType": "videoInference",
    "taskUUID": UUID,
    "model": "acme:tiny@1",
    "positivePrompt": "a cat",
    "width": 1280,
    "height": 720,
}
I2V: dict[str, Any] = {
    "taskType": "videoInference",
    "taskUUID": UUID,
    "model": "acme:tiny@1",
    "positivePrompt": "a cat",
    "inputs": {"frames": [{"image": IMG}]},
}


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    task = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            task.pop(key, None)
        else:
            task[key] = value
    return task
