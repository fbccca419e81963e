"""OpenAPI 3.1 for ``POST /v1``: an array of tasks in, ``data``/``errors`` envelopes out.

Every schema is the JSON Schema emitted by ``json_schema`` (rules included); their
``$defs`` move into ``components/schemas`` under a per-schema prefix. The
documented examples appear as named request and response examples, so a mock
can pick one by name (Prism's ``Prefer: example=<name>``).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from ..spec.model import SpecSet
from ..spec.param_tree import pascal
from .json_schema import Schema, request_schema, response_schema, task_schema

REF = "#/components/schemas/"


def _hoist(schema: Schema, prefix: str, components: dict[str, Schema]) -> Schema:
    """Move ``$defs`` into components and rewrite refs; return the schema without them."""
    schema = copy.deepcopy(schema)
    for key in ("$schema", "$comment"):
        schema.pop(key, None)
    defs = schema.pop("$defs", {})

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (
                    REF + prefix + v.split("/")[-1]
                    if k == "$ref" and isinstance(v, str)
                    else rewrite(v)
                )
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    for name, definition in defs.items():
        components[prefix + name] = rewrite(definition)
    result: Schema = rewrite(schema)
    return result


def _error_item(codes: Sequence[str]) -> Schema:
    nullable = {"type": ["string", "null"]}
    return {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "enum": list(codes)},
            "message": {"type": "string"},
            "parameter": nullable,
            "type": nullable,
            "documentation": nullable,
            "taskType": nullable,
            "taskUUID": nullable,
        },
    }


def openapi_document(spec: SpecSet, header: Sequence[str]) -> dict[str, Any]:
    platform = spec.platform
    components: dict[str, Schema] = {}
    task_refs: list[Schema] = []
    item_refs: list[Schema] = []
    request_examples: dict[str, Any] = {}
    response_examples: dict[str, Any] = {}
    for model in spec.models:
        prefix = pascal(model.slug.replace("-", "."))
        req = f"{prefix}Request"
        res = f"{prefix}Result"
        components[req] = _hoist(request_schema(model, platform, header=""), req, components)
        components[res] = _hoist(response_schema(model, platform, header=""), res, components)
        task_refs.append({"$ref": REF + req})
        item_refs.append({"$ref": REF + res})
        for ex in model.examples:
            request_examples[ex.name] = {"summary": ex.title, "value": [dict(ex.request)]}
            response_examples[ex.name] = {
                "summary": ex.title,
                "value": {"data": [dict(ex.response)]},
            }
    for name, task in platform.tasks.items():
        task_name, result_name = f"{pascal(name)}Task", f"{pascal(name)}Response"
        components[task_name] = _hoist(
            task_schema(platform, task_name, task.parameters, ""), task_name, components
        )
        components[result_name] = _hoist(
            task_schema(platform, result_name, task.response, ""), result_name, components
        )
        task_refs.append({"$ref": REF + task_name})
        if name != "getResponse":
            item_refs.append({"$ref": REF + result_name})
    task_types = sorted({m.task_type for m in spec.models})
    lifecycles = [platform.task_types[t] for t in task_types if t in platform.task_types]
    acknowledged = sorted({path for t in lifecycles for path in t.acknowledgement})
    components["Acknowledgement"] = {
        "type": "object",
        "description": "Immediate answer to an async task: its taskType and taskUUID only.",
        "required": acknowledged,
        "additionalProperties": False,
        "properties": {
            path: {"enum": task_types} if path == "taskType" else {"type": "string"}
            for path in acknowledged
        },
    }
    statuses = [s.value for s in platform.task_statuses]
    polled = {p.path: p for t in lifecycles for p in t.polled_fields if p.path != "status"}
    components["ProcessingItem"] = {
        "type": "object",
        "description": "A getResponse item for a result that is not finished yet.",
        "required": ["taskType", "taskUUID", "status"],
        "additionalProperties": False,
        "properties": {
            "taskType": {"enum": task_types},
            "taskUUID": {"type": "string"},
            "status": {"const": statuses[0]},
            **{path: {"type": p.types[0], **p.bounds()} for path, p in polled.items()},
            **{
                t.result.uuid: {
                    "type": "string",
                    "description": f"The {t.media} this item will become.",
                }
                for t in lifecycles
            },
        },
    }
    item_refs += [{"$ref": REF + "Acknowledgement"}, {"$ref": REF + "ProcessingItem"}]
    codes = [e.code for e in platform.errors]
    components["ErrorItem"] = _error_item(codes)
    components["DataEnvelope"] = {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {"type": "array", "items": {"anyOf": item_refs}},
            "errors": {"type": "array", "items": {"$ref": REF + "ErrorItem"}},
        },
    }
    components["ErrorEnvelope"] = {
        "type": "object",
        "required": ["errors"],
        "properties": {
            "errors": {"type": "array", "minItems": 1, "items": {"$ref": REF + "ErrorItem"}},
            "data": {"type": "array", "items": {"anyOf": item_refs}},
        },
    }
    error_response = {"application/json": {"schema": {"$ref": REF + "ErrorEnvelope"}}}
    statuses_by_code: dict[int, list[str]] = {}
    for e in platform.errors:
        statuses_by_code.setdefault(e.status, []).append(e.code)
    responses: dict[str, Any] = {
        "200": {
            "description": "Tasks accepted or answered; single tasks may still carry errors.",
            "content": {
                "application/json": {
                    "schema": {"$ref": REF + "DataEnvelope"},
                    "examples": response_examples,
                }
            },
        }
    }
    for status, status_codes in sorted(statuses_by_code.items()):
        responses[str(status)] = {
            "description": "Codes: " + ", ".join(status_codes),
            "content": error_response,
        }
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": f"{platform.name} API contract",
            "version": spec.platform.sha256[:12],
            "description": "\n".join(header),
        },
        "servers": [
            {"url": "https://api.runware.ai", "description": "Runware"},
            {"url": "http://127.0.0.1:8080", "description": "The contract kit's mock server"},
        ],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/v1": {
                "post": {
                    "operationId": "runTasks",
                    "summary": "Run one or more tasks",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {"oneOf": task_refs},
                                },
                                "examples": request_examples,
                            }
                        },
                    },
                    "responses": responses,
                }
            }
        },
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
