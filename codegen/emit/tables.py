"""The spec as plain-data tables for the generated runtime (``Contract``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..spec.consistency import analyse
from ..spec.model import ModelSpec, Parameter, Platform, PriceRate, Rule, Surcharge
from ..spec.param_tree import ParamTree
from .json_schema import format_regex

Table = dict[str, Any]


def parameter_table(p: Parameter) -> Table:
    row: Table = {"path": p.path, "types": list(p.types)}
    if p.required:
        row["required"] = True
    if p.anchor:
        row["anchor"] = p.anchor
    if p.const is not None:
        row["const"] = p.const
    if p.enum:
        row["enum"] = [e.value for e in p.enum]
    if p.default is not None:
        row["default"] = p.default
    row.update(p.bounds())
    if p.format is not None:
        row["format"] = p.format
    if p.items is not None:
        items: Table = {"type": p.items.type}
        if p.items.format:
            items["format"] = p.items.format
        row["items"] = items
    if p.codes:
        row["codes"] = dict(sorted(p.codes.items()))
    return row


def parameters_table(params: Iterable[Parameter]) -> list[Table]:
    return [parameter_table(p) for p in params]


def rule_table(rule: Rule, scope: str) -> Table:
    """One rule; ``scope`` is the object array it holds per item of ("" for the task)."""
    row: Table = {"id": rule.id, "kind": rule.kind, "message": rule.message}
    if scope:
        row["scope"] = scope
    if rule.source.anchor:
        row["anchor"] = rule.source.anchor
    row.update(rule.args)
    return row


def rules_table(model: ModelSpec) -> list[Table]:
    """Every rule of the model, each with the object-array scope it holds in."""
    tree = ParamTree.build(model.parameters)
    return [
        rule_table(r, tree.array_scope(p for _, p in r.referenced_paths()))
        for r in model.rules
        if r.enforced
    ]


def task_types_table(platform: Platform) -> Table:
    """Each inference task type's lifecycle as plain data (the generated
    ``platform.TASK_TYPES``; ARCHITECTURE.md names its keys)."""
    return {
        name: {
            "media": t.media,
            "deliveryMethods": {d.value: d.answer for d in t.delivery_methods},
            "defaultDeliveryMethod": t.default_delivery,
            "acknowledgement": list(t.acknowledgement),
            "uuidField": t.result.uuid,
            "seedField": t.result.seed,
            "nsfwField": t.result.nsfw,
            "costField": t.result.cost,
            "outputTypes": dict(t.result.output_types),
            "resultFields": parameters_table(t.result.fields),
            "polledFields": parameters_table(t.polled_fields),
        }
        for name, t in sorted(platform.task_types.items())
    }


def formats_table(platform: Platform) -> Table:
    return {
        name: [format_regex(platform, name), fmt.description[:1].lower() + fmt.description[1:-1]]
        for name, fmt in sorted(platform.formats.items())
    }


def rule_codes_table(platform: Platform) -> Table:
    return {name: dict(sorted(k.codes.items())) for name, k in sorted(platform.rule_kinds.items())}


def errors_table(platform: Platform) -> Table:
    return {e.code: {"status": e.status, "family": e.family} for e in platform.errors}


def dimensions_table(model: ModelSpec) -> Table | None:
    if model.dimensions is None:
        return None
    # the rows' aspect ratios only where a price row is keyed by one
    rates = model.pricing.rates if model.pricing else ()
    priced_by_ratio = any(r.aspect_ratio for r in rates)
    resolution_parameter = model.dimensions.resolution_parameter
    return {
        "params": list(model.dimensions.params),
        **({"resolutionParameter": resolution_parameter} if resolution_parameter else {}),
        "rows": [
            {"label": r.label, "resolution": r.resolution, "width": r.width, "height": r.height}
            | ({"aspectRatio": r.aspect_ratio} if r.aspect_ratio and priced_by_ratio else {})
            for r in model.dimensions.rows
        ],
    }


def _rate(r: PriceRate) -> Table:
    """A price row with only the conditions it has (the runtime reads absent as "any")."""
    row: Table = {}
    optional = {
        "resolution": r.resolution,
        "aspectRatio": r.aspect_ratio,
        "audio": r.audio,
        "perSecond": r.per_second,
        "perClip": r.per_clip,
        "perImage": r.per_image,
        "seconds": r.seconds,
        "provided": list(r.provided) or None,
        "absent": list(r.absent) or None,
        "values": dict(r.values) or None,
    }
    row.update({k: v for k, v in optional.items() if v is not None})
    return row


def pricing_table(model: ModelSpec, platform: Platform) -> Table | None:
    if model.pricing is None:
        return None
    counted = platform.pricing_units[model.pricing.unit]
    # a row's value conditions read a nested parameter's default where its object is absent
    defaults = {
        path: p.default
        for r in model.pricing.rates
        for path in r.values
        if (p := model.parameter(path)) is not None and p.default is not None
    }
    return {
        "currency": model.pricing.currency,
        "unit": model.pricing.unit,
        **({"defaults": dict(sorted(defaults.items()))} if defaults else {}),
        **({"unitParameter": counted} if counted else {}),
        "resultsParameter": platform.pricing_results,
        "audioDefault": model.pricing.audio_default,
        "rates": [_rate(r) for r in model.pricing.rates],
        **({"surcharges": [_surcharge(s) for s in model.pricing.surcharges]}
           if model.pricing.surcharges else {}),
    }  # fmt: skip


def _surcharge(s: Surcharge) -> Table:
    row: Table = {}
    if s.provided:
        row["provided"] = list(s.provided)
    if s.enabled:
        row["enabled"] = list(s.enabled)
    for key, amount in (("perSecond", s.per_second), ("perImage", s.per_image),
                        ("perItem", s.per_item)):  # fmt: skip
        if amount is not None:
            row[key] = amount
    if s.same_rate:
        row["sameRate"] = True
    return row


def model_tables(model: ModelSpec, platform: Platform) -> Table:
    """Everything a model's generated ``tables.py`` holds, by its names there: the one
    path from a spec to a ``Contract`` (the mock builds models given at run time from it)."""
    return {
        "MODEL_ID": model.id,
        "MODEL_NAME": model.name,
        "TASK_TYPE": model.task_type,
        "DOCS": model.docs,
        "PARAMETERS": parameters_table(model.parameters),
        "RESPONSE_FIELDS": parameters_table(platform.result_fields(model)),
        "RULES": rules_table(model),
        "DIMENSIONS": dimensions_table(model),
        "PRICING": pricing_table(model, platform),
        "EXAMPLES": examples_table(model),
        "NEVER": sorted({f.parameter for f in analyse(model) if f.parameter}),
    }


def examples_table(model: ModelSpec) -> list[Table]:
    return [
        {
            "name": e.name,
            "title": e.title,
            "kind": e.kind,
            "request": dict(e.request),
            "response": dict(e.response),
        }
        for e in model.examples
    ]
