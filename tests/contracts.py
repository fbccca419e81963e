"""Build runtime Contracts straight from a loaded spec (the same tables the generator emits);
the tiny spec's base tasks."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from codegen.emit import tables
from codegen.spec.loader import load_model_text
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


def model_module(model: ModelSpec, platform: Platform) -> ModuleType:
    """A model as the strategies see a generated model module: its tables and contract,
    built from the spec as the generator builds them."""
    table_module = ModuleType(f"{model.slug}.tables")
    table_module.__dict__.update(
        PARAMETERS=tables.parameters_table(model.parameters),
        RULES=tables.rules_table(model),
        DIMENSIONS=tables.dimensions_table(model),
    )
    module = ModuleType(model.slug)
    module.__dict__.update(
        tables=table_module, CONTRACT=contract_for(model, platform), MODEL_ID=model.id
    )
    return module


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


# A small model spec written as data, for tests of what reads specs (the consistency
# analysis, the differ): the platform's head parameters, then the test's own.
MODEL_ID = "acme:small@1"
HEAD: list[dict[str, Any]] = [
    {"path": "taskType", "type": "string", "required": True, "const": "videoInference"},
    {"path": "taskUUID", "type": "string", "required": True, "format": "uuid-v4"},
    {"path": "model", "type": "string", "required": True, "const": MODEL_ID},
    {"path": "duration", "type": "integer", "minimum": 1, "maximum": 10, "default": 5},
]


def model_spec(
    platform: Platform,
    params: Sequence[dict[str, Any]],
    rules: Sequence[dict[str, Any]] = (),
    response: Sequence[dict[str, Any]] = (),
    model_id: str = MODEL_ID,
    **facts: Any,
) -> ModelSpec:
    """A checked model spec with ``HEAD``, ``params``, ``rules`` (message and source made up
    from the id), ``response`` fields after its taskUUID, and model ``facts`` overridden."""
    head = [{**p, "const": model_id} if p["path"] == "model" else p for p in HEAD]
    doc = {
        "specVersion": 1,
        "kind": "model",
        "id": model_id,
        "name": "Small",
        "slug": "small",
        "taskType": "videoInference",
        "status": "preview",
        "creator": "Acme",
        "releaseDate": "2026-01-01",
        "capabilities": ["text-to-video"],
        "docs": "https://example.com/docs/small",
        "summary": "A model spec written by a test.",
        "pricing": {
            "currency": "USD",
            "unit": "second",
            "audioDefault": False,
            "rates": [{"perSecond": 0.1, "quote": "$0.1 per second"}],
        },
        "parameters": [{"description": p["path"], **p} for p in [*head, *params]],
        "response": [
            {"path": "taskUUID", "type": "string", "required": True, "format": "uuid-v4"},
            *response,
        ],
        "rules": [
            {"message": r["id"], "source": {"section": "Rules", "quote": r["id"]}, **r}
            for r in rules
        ],
        "examples": [],
        **facts,
    }
    return load_model_text(json.dumps(doc), "small", platform)  # JSON is YAML
