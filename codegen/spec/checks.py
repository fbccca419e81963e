"""Meaning checks over a structurally valid spec: what the meta-schema cannot say.

Each check yields SpecIssues pointing at the offending key. Validating the
documented examples against the *rules* is not done here: that is the job of
the generated validators (one rule engine, not two).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..runtime.rule_kinds import KINDS
from .kinds import codegen_kind
from .model import (
    DimensionRow,
    ModelSpec,
    Parameter,
    Platform,
    Rule,
    Scalar,
    SpecSet,
    TaskType,
    json_type,
)
from .regex_check import backtracking_problem
from .yaml_source import SpecIssue

_BOUND_TYPES = {
    "minimum": ("integer", "number"),
    "maximum": ("integer", "number"),
    "multiple_of": ("integer", "number"),
    "min_length": ("string",),
    "max_length": ("string",),
    "min_items": ("array",),
    "max_items": ("array",),
}
_SPEC_KEY = {
    "minimum": "minimum",
    "maximum": "maximum",
    "multiple_of": "multipleOf",
    "min_length": "minLength",
    "max_length": "maxLength",
    "min_items": "minItems",
    "max_items": "maxItems",
}


def check(spec: SpecSet, *, ids_checked: bool = False) -> list[SpecIssue]:
    """Every meaning problem of ``spec`` (errors and warnings); ``ids_checked``: the caller
    has reported models that claim one ID already (from every file, built or not)."""
    issues = list(check_platform(spec.platform))
    seen_ids: dict[str, ModelSpec] = {}
    for model in spec.models:
        if model.id in seen_ids and not ids_checked:
            first = seen_ids[model.id].loc.file
            issues.append(
                SpecIssue(
                    model.at("id"),
                    f"model id {model.id!r} is claimed by {first} and {model.loc.file}",
                )
            )
        seen_ids[model.id] = model
        issues.extend(check_model(model, spec.platform))
    return issues


# ── helpers ─────────────────────────────────────────────────────────────────


def value_fits_types(value: Scalar, types: Iterable[str]) -> bool:
    kind = json_type(value)
    allowed = set(types)
    return kind in allowed or (kind == "integer" and "number" in allowed)


def _codes_known(platform: Platform, codes: Mapping[str, str], where: Any) -> Iterator[SpecIssue]:
    for outcome, code in codes.items():
        if platform.error(code) is None:
            yield SpecIssue(where, f"code {code!r} (for {outcome}) is not in the error catalogue")


# ── platform ────────────────────────────────────────────────────────────────


def check_platform(platform: Platform) -> Iterator[SpecIssue]:
    seen: set[str] = set()
    for err in platform.errors:
        if err.code in seen:
            yield SpecIssue(err.at("code"), f"error code {err.code!r} is listed twice")
        seen.add(err.code)
    yield from _codes_known(platform, platform.constraint_codes, platform.at("constraintCodes"))
    for kind in platform.rule_kinds.values():
        yield from _codes_known(platform, kind.codes, kind.at("codes"))
        known = KINDS.get(kind.name)
        if known is not None and set(kind.codes) != set(known.outcomes):
            yield SpecIssue(
                kind.at("codes"),
                f"rule kind {kind.name!r} breaks as {', '.join(known.outcomes) or 'nothing'}; "
                f"its codes name {', '.join(sorted(kind.codes)) or 'nothing'}",
            )
    missing = [name for name in KINDS if name not in platform.rule_kinds]
    if missing:
        yield SpecIssue(
            platform.at("ruleKinds"), f"ruleKinds lacks {', '.join(missing)} (codes, phrasings)"
        )
    for fmt in platform.formats.values():
        if fmt.pattern is not None:
            try:
                re.compile(fmt.pattern)
            except re.error as exc:
                yield SpecIssue(fmt.at("pattern"), f"format {fmt.name!r}: bad pattern ({exc})")
                continue
            if (problem := backtracking_problem(fmt.pattern)) is not None:
                yield SpecIssue(
                    fmt.at("pattern"),
                    f"format {fmt.name!r}: {problem}, so a backtracking engine takes "
                    "super-linear time on some strings; rewrite it so each character has one "
                    "way to match",
                )
        for part in fmt.any_of:
            if part not in platform.formats:
                yield SpecIssue(
                    fmt.at("anyOf"), f"format {fmt.name!r} names unknown format {part!r}"
                )
    yield from check_parameters(platform.api_options, platform)
    for task_type in platform.task_types.values():
        yield from check_task_type(task_type, platform)
    for task in platform.tasks.values():
        yield from check_parameters(task.parameters, platform)
        yield from check_parameters(task.response, platform)


def check_task_type(task_type: TaskType, platform: Platform) -> Iterator[SpecIssue]:
    """A task type's lifecycle names only what it defines: its default delivery method is
    one of its values, and the acknowledgement and each field role name result fields."""
    yield from check_parameters(task_type.result.fields, platform)
    yield from check_parameters(task_type.polled_fields, platform)
    name = task_type.name
    values = [d.value for d in task_type.delivery_methods]
    if len(set(values)) != len(values):
        yield SpecIssue(
            task_type.at("deliveryMethods.values"), f"{name}: a delivery method is listed twice"
        )
    if task_type.default_delivery not in values:
        yield SpecIssue(
            task_type.at("deliveryMethods.default"),
            f"{name}: default delivery method {task_type.default_delivery!r} is not one of "
            f"its values ({', '.join(values)})",
        )
    fields = {p.path for p in task_type.result.fields}
    roles = {
        "acknowledgement": task_type.acknowledgement,
        "result.uuid": (task_type.result.uuid,),
        "result.seed": (task_type.result.seed,),
        "result.nsfw": (task_type.result.nsfw,),
        "result.cost": (task_type.result.cost,),
        "result.outputTypes": tuple(task_type.result.output_types.values()),
    }
    for role, paths in roles.items():
        for path in paths:
            if path not in fields:
                yield SpecIssue(
                    task_type.at(role),
                    f"{name}: {role.removeprefix('result.')} names {path!r}, which is not one "
                    "of its result fields",
                )


def check_task_type_use(model: ModelSpec, platform: Platform) -> Iterator[SpecIssue]:
    """A model names a task type the platform knows, and asks of it only what it has: its
    deliveryMethod and outputType values, and its response fields' types."""
    task_type = platform.task_types.get(model.task_type)
    if task_type is None:
        known = ", ".join(sorted(platform.task_types))
        yield SpecIssue(
            model.at("taskType"),
            f"taskType {model.task_type!r} is not a task type of the platform (known: {known})",
        )
        return
    params = {p.path: p for p in model.parameters}
    const = params["taskType"].const if "taskType" in params else None
    if const is not None and const != model.task_type:
        yield SpecIssue(
            params["taskType"].at("const"),
            f"the taskType parameter is {const!r}, but the model's taskType is {model.task_type!r}",
        )
    offered = {
        "deliveryMethod": [d.value for d in task_type.delivery_methods],
        "outputType": list(task_type.result.output_types),
    }
    for path, allowed in offered.items():
        p = params.get(path)
        if p is None:
            continue
        said = [e.value for e in p.enum] + ([p.default] if p.default is not None else [])
        for value in dict.fromkeys(said):
            if value not in allowed:
                yield SpecIssue(
                    p.at("enum" if any(e.value == value for e in p.enum) else "default"),
                    f"{path} {value!r} is not one {model.task_type} has "
                    f"(platform taskTypes: {', '.join(map(str, allowed))})",
                )
    platform_fields = {f.path: f for f in (*task_type.result.fields, *task_type.polled_fields)}
    for field_ in model.response:
        known_field = platform_fields.get(field_.path)
        if (
            known_field is not None
            and not set(field_.types) & set(known_field.types)
            and not ("integer" in field_.types and "number" in known_field.types)
        ):
            yield SpecIssue(
                field_.at("type"),
                f"response field {field_.path!r} is {'/'.join(field_.types)}, but a "
                f"{model.task_type} result's is {'/'.join(known_field.types)}",
            )


# ── parameters ──────────────────────────────────────────────────────────────


def check_parameters(params: Iterable[Parameter], platform: Platform) -> Iterator[SpecIssue]:
    by_path: dict[str, Parameter] = {}
    anchors: dict[str, Parameter] = {}
    for p in params:
        if p.path in by_path:
            yield SpecIssue(p.at("path"), f"parameter {p.path!r} is defined twice")
        by_path[p.path] = p
        if p.anchor is not None:
            if p.anchor in anchors:
                yield SpecIssue(p.at("anchor"), f"anchor {p.anchor!r} is used twice")
            anchors[p.anchor] = p
    for p in by_path.values():
        yield from check_parameter(p, by_path, platform)


def check_parameter(
    p: Parameter, by_path: Mapping[str, Parameter], platform: Platform
) -> Iterator[SpecIssue]:
    parent = p.parent_path
    if parent is not None:
        container = by_path.get(parent)
        if container is None:
            yield SpecIssue(
                p.at("path"), f"{p.path!r} nests under {parent!r}, which is not defined"
            )
        elif not container.is_container:
            yield SpecIssue(
                p.at("path"),
                f"{p.path!r} nests under {parent!r}, which is neither an object "
                "nor an array of objects",
            )
    if p.items is not None and p.types != ("array",):
        yield SpecIssue(p.at("items"), f"{p.path!r}: items only applies to arrays")
    if p.types == ("array",) and p.items is None:
        yield SpecIssue(p.at("type"), f"{p.path!r}: an array needs items")
    for attr, types in _BOUND_TYPES.items():
        if getattr(p, attr) is not None and not set(p.types) & set(types):
            key = _SPEC_KEY[attr]
            yield SpecIssue(p.at(key), f"{p.path!r}: {key} applies to {'/'.join(types)} values")
    for low, high in (
        ("minimum", "maximum"),
        ("min_length", "max_length"),
        ("min_items", "max_items"),
    ):
        lo, hi = getattr(p, low), getattr(p, high)
        if lo is not None and hi is not None and lo > hi:
            yield SpecIssue(
                p.at(_SPEC_KEY[low]),
                f"{p.path!r}: {_SPEC_KEY[low]} {lo} is above {_SPEC_KEY[high]} {hi}",
            )
    for fmt in (p.format, p.items.format if p.items else None):
        if fmt is not None and fmt not in platform.formats:
            yield SpecIssue(
                p.at("format" if fmt == p.format else "items"), f"unknown format {fmt!r}"
            )
    for e in p.enum:
        if not value_fits_types(e.value, p.types):
            yield SpecIssue(
                p.at("enum"),
                f"{p.path!r}: allowed value {e.value!r} is not of type {'/'.join(p.types)}",
            )
    if p.const is not None and not value_fits_types(p.const, p.types):
        yield SpecIssue(
            p.at("const"), f"{p.path!r}: const {p.const!r} is not of type {'/'.join(p.types)}"
        )
    if p.default is not None:
        yield from _check_default(p)
    if p.paired_with is not None and p.paired_with not in by_path:
        yield SpecIssue(p.at("pairedWith"), f"{p.path!r} is paired with unknown {p.paired_with!r}")
    yield from _codes_known(platform, p.codes, p.at("codes"))
    for key in p.codes:
        if key not in platform.constraint_codes:
            yield SpecIssue(p.at("codes"), f"{p.path!r}: {key!r} is not a constraint name")


def _check_default(p: Parameter) -> Iterator[SpecIssue]:
    d = p.default
    assert d is not None
    where = p.at("default")
    if not value_fits_types(d, p.types):
        yield SpecIssue(where, f"{p.path!r}: default {d!r} is not of type {'/'.join(p.types)}")
        return
    if p.enum and all(not _same(d, e.value) for e in p.enum):
        values = ", ".join(repr(e.value) for e in p.enum)
        yield SpecIssue(where, f"{p.path!r}: default {d!r} is not an allowed value ({values})")
    if p.const is not None and not _same(d, p.const):
        yield SpecIssue(where, f"{p.path!r}: default {d!r} differs from const {p.const!r}")
    if isinstance(d, int | float) and not isinstance(d, bool):
        if p.minimum is not None and d < p.minimum:
            yield SpecIssue(where, f"{p.path!r}: default {d} is below the minimum {p.minimum}")
        if p.maximum is not None and d > p.maximum:
            yield SpecIssue(where, f"{p.path!r}: default {d} is above the maximum {p.maximum}")
        if p.multiple_of is not None and (d - (p.minimum or 0)) % p.multiple_of:
            yield SpecIssue(where, f"{p.path!r}: default {d} is not on the step {p.multiple_of}")
    if isinstance(d, str):
        if p.min_length is not None and len(d) < p.min_length:
            yield SpecIssue(where, f"{p.path!r}: default is shorter than minLength {p.min_length}")
        if p.max_length is not None and len(d) > p.max_length:
            yield SpecIssue(where, f"{p.path!r}: default is longer than maxLength {p.max_length}")


def _same(a: Scalar, b: Scalar) -> bool:
    return json_type(a) == json_type(b) and a == b


# ── models ──────────────────────────────────────────────────────────────────


def check_model(model: ModelSpec, platform: Platform) -> Iterator[SpecIssue]:
    yield from check_parameters(model.parameters, platform)
    yield from check_parameters(model.response, platform)
    params = {p.path: p for p in model.parameters}
    options = {o.path: o for o in platform.api_options}
    for p in model.parameters:
        option = options.get(p.path)
        if option is not None and option.types != p.types:
            yield SpecIssue(
                p.at("type"),
                f"{p.path!r} restates the platform API option with type {'/'.join(p.types)}, "
                f"but the platform says {'/'.join(option.types)}",
            )
    yield from check_task_type_use(model, platform)
    yield from check_rules(model, params, platform)
    yield from check_pricing(model, platform)
    yield from check_examples(model, params, platform)


def check_rules(
    model: ModelSpec, params: Mapping[str, Parameter], platform: Platform
) -> Iterator[SpecIssue]:
    seen: set[str] = set()
    for rule in model.rules:
        if rule.id in seen:
            yield SpecIssue(rule.at("id"), f"rule id {rule.id!r} is used twice")
        seen.add(rule.id)
        if not rule.enforced and not rule.notes:
            yield SpecIssue(
                rule.at("enforced"), f"rule {rule.id!r} is not enforced: its notes must say why"
            )
        if rule.kind not in platform.rule_kinds:
            yield SpecIssue(
                rule.at("kind"), f"rule kind {rule.kind!r} is not in platform ruleKinds"
            )
        for key, path in rule.referenced_paths():
            if path not in params:
                yield SpecIssue(rule.at(key), f"rule {rule.id!r} names unknown parameter {path!r}")
        yield from _check_rule_kind(rule, model, params)


def _check_rule_kind(
    rule: Rule, model: ModelSpec, params: Mapping[str, Parameter]
) -> Iterator[SpecIssue]:
    args = rule.args
    for key, message in codegen_kind(rule.kind).check(rule, model, params):
        yield SpecIssue(rule.at(key), message)
    target = params.get(args["target"]) if "target" in args else None
    if target is not None and target.types != ("array",):
        yield SpecIssue(
            rule.at("target"), f"rule {rule.id!r}: target {target.path!r} is not an array"
        )
    if "pattern" in args:
        try:
            compiled = re.compile(args["pattern"])
        except re.error as exc:
            yield SpecIssue(rule.at("pattern"), f"rule {rule.id!r}: bad pattern ({exc})")
        else:
            if compiled.groups != 1:
                yield SpecIssue(
                    rule.at("pattern"), f"rule {rule.id!r}: pattern needs one group (the number)"
                )
    param = params.get(args["param"]) if "param" in args else None
    if param is not None:
        values = [*args.get("allowed", ()), *([args["default"]] if "default" in args else [])]
        for v in values:
            if not value_fits_types(v, param.types):
                yield SpecIssue(
                    rule.at("param"),
                    f"rule {rule.id!r}: {v!r} is not of type {'/'.join(param.types)}",
                )
            elif param.enum and all(not _same(v, e.value) for e in param.enum):
                yield SpecIssue(
                    rule.at("param"),
                    f"rule {rule.id!r}: {v!r} is not an allowed value of {param.path!r}",
                )
    for clause_key in ("when", "then"):
        for cond in args[clause_key]["conditions"] if clause_key in args else ():
            cp = params.get(cond["path"])
            equals = cond.get("equals")
            if cp is not None and equals is not None and not value_fits_types(equals, cp.types):
                yield SpecIssue(
                    rule.at(clause_key),
                    f"rule {rule.id!r}: {equals!r} is not of type {'/'.join(cp.types)}",
                )


def check_pricing(model: ModelSpec, platform: Platform) -> Iterator[SpecIssue]:
    pricing = model.pricing
    if pricing is None:
        return
    if pricing.unit not in platform.pricing_units:
        known = ", ".join(platform.pricing_units)
        yield SpecIssue(
            pricing.at("unit"), f"unknown pricing unit {pricing.unit!r}; known: {known}"
        )
    else:
        counted = platform.pricing_units[pricing.unit]
        param = model.parameter(counted) if counted else None
        if counted and (param is None or param.types not in (("integer",), ("number",))):
            yield SpecIssue(
                pricing.at("unit"),
                f"a price per {pricing.unit} counts {counted!r}, which must be a numeric parameter",
            )
        elif param is not None and not param.required and param.default is None:
            yield SpecIssue(
                pricing.at("unit"),
                f"a price per {pricing.unit} counts {counted!r}: it needs a default or required",
            )
    seen: set[str] = set()
    params = {p.path: p for p in model.parameters}
    amounts = platform.pricing_amounts.get(pricing.unit, ())
    for rate in pricing.rates:
        if rate.key in seen:
            yield SpecIssue(rate.loc, f"two prices for {rate.key}")
        seen.add(rate.key)
        if amounts and rate.amount_key not in amounts:
            yield SpecIssue(
                rate.loc,
                f"price {rate.key!r}: a price per {pricing.unit} is {' or '.join(amounts)}",
            )
        for path in (*rate.provided, *rate.absent, *rate.values):
            if path not in params:
                yield SpecIssue(rate.loc, f"price {rate.key!r} names unknown parameter {path!r}")
        for path, value in rate.values.items():
            p = params.get(path)
            if p is not None and (
                not value_fits_types(value, p.types)
                or (p.enum and not any(_same(e.value, value) for e in p.enum))
            ):
                yield SpecIssue(
                    rate.at("values"),
                    f"price {rate.key!r}: {value!r} is not a value {path!r} can take",
                )
    for surcharge in pricing.surcharges:
        for path in (*surcharge.provided, *surcharge.enabled):
            if path not in params:
                yield SpecIssue(surcharge.loc, f"surcharge names unknown parameter {path!r}")
            elif path in surcharge.enabled and params[path].types != ("boolean",):
                yield SpecIssue(
                    surcharge.loc, f"surcharge: enabled names {path!r}, which is not a boolean"
                )
    if model.dimensions is not None:
        priced = {r.resolution for r in pricing.rates}
        unpriced: dict[str, DimensionRow] = {}
        for row in model.dimensions.rows:
            # a row of no resolution (a price by clip length alone) prices every one
            if None not in priced and row.resolution not in priced:
                unpriced.setdefault(row.resolution, row)
        for resolution, row in unpriced.items():
            # Served: a task at that resolution gets no cost (the price is unavailable).
            yield SpecIssue(
                row.at("resolution"),
                f"incomplete pricing: no price for resolution {resolution!r} "
                "(a task at it gets no cost)",
                "warning",
            )
        for path in model.dimensions.params:
            if path not in {p.path for p in model.parameters}:
                yield SpecIssue(
                    model.dimensions.at("params"), f"dimensions name unknown parameter {path!r}"
                )
        preset = model.dimensions.resolution_parameter
        if preset is not None and preset not in params:
            yield SpecIssue(
                model.dimensions.at("resolutionParameter"),
                f"dimensions name unknown parameter {preset!r}",
            )


def check_examples(
    model: ModelSpec, params: Mapping[str, Parameter], platform: Platform
) -> Iterator[SpecIssue]:
    response_paths = {p.path for p in platform.result_fields(model)}
    names: set[str] = set()
    known_kinds = set(platform.capabilities)
    for cap in model.capabilities:
        if cap not in known_kinds:
            yield SpecIssue(
                model.at("capabilities"), f"capability {cap!r} is not one the kit knows", "warning"
            )
    for ex in model.examples:
        if ex.kind not in known_kinds:
            yield SpecIssue(
                ex.at("kind"),
                f"example {ex.name!r}: kind {ex.kind!r} is not a capability the kit knows",
                "warning",
            )
        if ex.name in names:
            yield SpecIssue(ex.at("name"), f"example name {ex.name!r} is used twice")
        names.add(ex.name)
        # A documented example is served as it is (it is the docs' word, not the
        # contract's): one naming what the spec lacks is a warning, the mock still starts.
        for path in _unknown_keys(ex.request, "", set(params), params):
            yield SpecIssue(
                ex.at("request"),
                f"example {ex.name!r}: request names {path!r}, which the spec lacks",
                "warning",
            )
        for path in _unknown_keys(ex.response, "", response_paths, {}):
            yield SpecIssue(
                ex.at("response"),
                f"example {ex.name!r}: response names {path!r}, which the spec lacks",
                "warning",
            )


def _unknown_keys(
    data: Mapping[str, Any], prefix: str, known: set[str], params: Mapping[str, Parameter]
) -> Iterator[str]:
    for key, value in data.items():
        path = f"{prefix}{key}"
        if path not in known:
            yield path
            continue
        p = params.get(path)
        if p is None:
            continue
        if isinstance(value, dict) and p.types == ("object",):
            yield from _unknown_keys(value, f"{path}.", known, params)
        elif isinstance(value, list) and p.is_object_array:
            for item in value:
                if isinstance(item, dict):
                    yield from _unknown_keys(item, f"{path}.", known, params)
