# Source of runware_contract/runtime.py (copied by `python -m codegen generate`).
"""The contract runtime: one interpreter for every field constraint and cross-field rule.

Each model module ships its parameter and rule tables as plain data; ``Contract``
compiles them once into per-object scopes and checks raw JSON tasks against
them, reporting every violation (not only the first) in Runware's error shape.
The typed models call the same ``Contract`` from a validator, so each rule has
exactly one implementation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .rule_kinds import (
    KINDS,
    Bound,
    RuleCheck,
    RuleKind,
    UnknownRuleKind,
    kind_of,
    resolve_positions,
)
from .values import ARTICLE as _ARTICLE
from .values import JSON_TYPES as _JSON_TYPES
from .values import MISSING as _MISSING
from .values import (
    VIOLATIONS_MAX,
    Full,
    RunwareError,
    Violation,
    Violations,
    get,
    json_type,
    provided,
)
from .values import fmt as _fmt
from .values import key as _key

__all__ = [
    "VIOLATIONS_MAX",
    "Contract",
    "Example",
    "PriceUnavailable",
    "RunwareError",
    "Violation",
    "describe_rate",
    "json_type",
    "price_of",
    "provided",
    "resolve_positions",
]


# ── compiled field checks ───────────────────────────────────────────────────


@dataclass(slots=True)
class _Field:
    name: str
    types: frozenset[str]
    codes: Mapping[str, str]
    documentation: str | None
    const: Any = _MISSING
    enum: frozenset[tuple[str, Any]] | None = None
    enum_text: str = ""
    minimum: float | None = None
    maximum: float | None = None
    multiple_of: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    pattern: re.Pattern[str] | None = None
    format_text: str = ""
    item: _Field | None = None
    scope: _Scope | None = None  # for objects and arrays of objects
    # compiled by ``ready()`` once the constraints are set:
    accepts: frozenset[str] = frozenset()  # the JSON types taken (an integer is a number)
    keyed: Any = None  # the const's identity, the enum's identities, or None: no identity
    then: dict[str, Any] = field(default_factory=dict)  # JSON type -> its remaining check

    def ready(self) -> _Field:
        """Compile what ``check`` runs: only the steps this field's constraints need."""
        self.accepts = self.types | ({"integer"} if "number" in self.types else set())
        if self.const is not _MISSING:
            self.keyed = _key(self.const)
        elif self.enum is not None:
            self.keyed = self.enum
        steps = {
            "string": (self._check_string, (self.min_length, self.max_length, self.pattern)),
            "integer": (self._check_number, (self.minimum, self.maximum, self.multiple_of)),
            "number": (self._check_number, (self.minimum, self.maximum, self.multiple_of)),
            "array": (self._check_array, (self.min_items, self.max_items, self.item)),
            "object": (self._check_object, (self.scope,)),
        }
        self.then = {
            kind: step
            for kind, (step, constraints) in steps.items()
            if kind in self.accepts and any(c is not None for c in constraints)
        }
        return self

    def fail(self, out: Violations, constraint: str, where: str, message: str) -> None:
        out.append(
            Violation(self.codes[constraint], message, where, constraint, self.documentation)
        )

    def check(self, value: Any, where: str, out: Violations) -> None:
        kind = _JSON_TYPES.get(type(value)) or json_type(value)
        if kind not in self.accepts:
            wanted = " or ".join(_ARTICLE.get(t, t) for t in sorted(self.types))
            self.fail(
                out, "type", where, f"{where} must be {wanted}, not {_ARTICLE.get(kind, kind)}."
            )
            return
        if kind == "number" and not math.isfinite(value):
            self.fail(out, "type", where, f"{where} must be a finite number.")
            return
        keyed = self.keyed
        if keyed is not None:
            identity = ("number" if kind == "integer" else kind, value)  # as _key(value)
            if self.const is not _MISSING:
                if identity != keyed:
                    message = f"{where} must be {_fmt(self.const)}, not {_fmt(value)}."
                    self.fail(out, "const", where, message)
                    return
            elif identity not in keyed:
                message = f"{where} must be one of {self.enum_text}; got {_fmt(value)}."
                self.fail(out, "enum", where, message)
                return
        step = self.then.get(kind)
        if step is not None:
            step(value, where, out)

    def _check_object(self, value: dict[str, Any], where: str, out: Violations) -> None:
        assert self.scope is not None  # ready() runs this step only for a field with a scope
        self.scope.check(value, where + ".", out)

    def _check_string(self, value: str, where: str, out: Violations) -> None:
        if self.min_length is not None and len(value) < self.min_length:
            self.fail(
                out,
                "minLength",
                where,
                f"{where} must be at least {self.min_length} characters long; got {len(value)}.",
            )
            return
        if self.max_length is not None and len(value) > self.max_length:
            self.fail(
                out,
                "maxLength",
                where,
                f"{where} must be at most {self.max_length} characters long; got {len(value)}.",
            )
            return  # a string already wrong by length is not matched against its format
        if self.pattern is not None and self.pattern.fullmatch(value) is None:
            self.fail(out, "format", where, f"{where} must be {self.format_text}.")

    def _check_number(self, value: int | float, where: str, out: Violations) -> None:
        if self.minimum is not None and value < self.minimum:
            self.fail(
                out,
                "minimum",
                where,
                f"{where} must be at least {_num(self.minimum)}; got {value}.",
            )
        if self.maximum is not None and value > self.maximum:
            self.fail(
                out, "maximum", where, f"{where} must be at most {_num(self.maximum)}; got {value}."
            )
        step = self.multiple_of
        if step is not None and not _on_step(value, step):
            self.fail(
                out,
                "multipleOf",
                where,
                f"{where} must be a multiple of {_num(step)}; got {value}.",
            )

    def _check_array(self, value: list[Any], where: str, out: Violations) -> None:
        if self.min_items is not None and len(value) < self.min_items:
            self.fail(
                out,
                "minItems",
                where,
                f"{where} must have at least {self.min_items} items; got {len(value)}.",
            )
        if self.max_items is not None and len(value) > self.max_items:
            self.fail(
                out,
                "maxItems",
                where,
                f"{where} must have at most {self.max_items} items; got {len(value)}.",
            )
            return  # its items are not checked: one error, however long the array
        item = self.item
        if item is not None:
            for index, element in enumerate(value):
                item.check(element, f"{where}.{index}", out)


def _num(value: int | float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _on_step(value: int | float, step: int | float) -> bool:
    if isinstance(value, int) and float(step).is_integer():
        return value % int(step) == 0
    quotient = value / step
    return math.isclose(quotient, round(quotient), rel_tol=0, abs_tol=1e-9)


# ── scopes and rules ────────────────────────────────────────────────────────


def _one_per_parameter(found: list[Violation]) -> list[Violation]:
    """One violation per parameter: the first found (a field's own before a rule's; two rules
    that both name a parameter the task lacks say it once)."""
    first: dict[str, Violation] = {}
    for violation in found:
        first.setdefault(violation.parameter, violation)
    return list(first.values())


def _guarded(check: RuleCheck, containers: tuple[str, ...]) -> RuleCheck:
    """``check``, skipped while one of the objects its rule reads inside (``watermark`` of
    ``watermark.text``) holds another type: that type error is the task's one error there,
    not a second one from a rule that cannot see inside it."""
    if not containers:
        return check

    def guarded(obj: dict[str, Any], prefix: str, out: Violations) -> None:
        for name in containers:
            value = obj.get(name)
            if value is not None and not isinstance(value, dict):
                return
        check(obj, prefix, out)

    return guarded


@dataclass(slots=True)
class _Scope:
    """An object (the task root, a nested object, or each item of an object array)."""

    fields: dict[str, _Field]
    required: tuple[str, ...]
    unknown_code: str
    missing_code: str
    task_label: str
    # each rule's check, and the names of which the object must hold one for it to run
    # (``RuleKind.needs``; None: it always runs)
    rules: list[tuple[RuleCheck, frozenset[str] | None]] = field(default_factory=list)
    defaults: list[tuple[str, Any]] = field(default_factory=list)  # (name, scalar default)
    nested: list[str] = field(default_factory=list)  # fields holding objects or object arrays
    required_set: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.required_set = frozenset(self.required)

    def check(self, obj: dict[str, Any], prefix: str, out: Violations) -> None:
        fields = self.fields
        for key, value in obj.items():
            f = fields.get(key)
            if f is None:
                out.append(
                    Violation(
                        self.unknown_code,
                        f"Unsupported parameter '{prefix}{key}': "
                        f"{self.task_label} does not accept it.",
                        f"{prefix}{key}",
                        "unknown",
                    )
                )
            elif value is None:
                f.fail(out, "type", prefix + key, f"{prefix}{key} must not be null.")
            else:
                f.check(value, prefix + key, out)
        if not self.required_set <= obj.keys():
            self._missing(obj, prefix, out)
        keys = obj.keys()
        for rule, needs in self.rules:
            if needs is None or not keys.isdisjoint(needs):
                rule(obj, prefix, out)

    def _missing(self, obj: dict[str, Any], prefix: str, out: Violations) -> None:
        fields = self.fields
        for name in self.required:
            if name not in obj:
                f = fields[name]
                out.append(
                    Violation(
                        self.missing_code,
                        f"Missing required parameter '{prefix}{name}'.",
                        prefix + name,
                        "required",
                        f.documentation,
                    )
                )


# ── the contract ────────────────────────────────────────────────────────────


class Contract:
    """The compiled tables of one task (a model's request, or a platform task)."""

    def __init__(
        self,
        *,
        task_label: str,
        docs: str,
        parameters: Sequence[Mapping[str, Any]],
        rules: Sequence[Mapping[str, Any]] = (),
        formats: Mapping[str, tuple[str, str]],
        constraint_codes: Mapping[str, str],
        rule_codes: Mapping[str, Mapping[str, str]],
        dimensions: Mapping[str, Any] | None = None,
    ) -> None:
        self.task_label = task_label
        self.docs = docs
        self.parameters = {p["path"]: p for p in parameters}
        self.rules = tuple(rules)
        self.rule_codes = rule_codes
        self.dimensions = dimensions or {}
        self.defaults = {p["path"]: p["default"] for p in parameters if "default" in p}
        self._formats = {name: (re.compile(rx), text) for name, (rx, text) in formats.items()}
        self._codes = constraint_codes
        self.scopes: dict[str, _Scope] = {}
        self.root = self._scope("")
        unknown = sorted(set(rule_codes) - set(KINDS))
        if unknown:
            raise UnknownRuleKind(f"rule codes name kinds this runtime lacks: {', '.join(unknown)}")
        # Each rule compiles through its kind (an unknown kind raises UnknownRuleKind).
        self._bound = [(kind_of(rule), Bound(self, rule)) for rule in self.rules]
        for kind, bound in self._bound:
            check = kind.compile(bound)
            if check is not None:
                scope = self.scopes[bound.scope]
                containers = sorted(
                    {
                        parts[0]
                        for _, path in kind.paths(bound.rule)
                        if len(parts := bound.parts(path)) > 1
                        and (f := scope.fields.get(parts[0])) is not None
                        and f.scope is not None
                    }
                )
                scope.rules.append((_guarded(check, tuple(containers)), kind.needs(bound)))
        # with_defaults runs only the kinds that fill defaults (most fill none).
        self._defaulting = [
            (kind, bound)
            for kind, bound in self._bound
            if type(kind).fill_default is not RuleKind.fill_default
        ]

    def _doc(self, p: Mapping[str, Any]) -> str | None:
        anchor = p.get("anchor")
        return f"{self.docs}#{anchor}" if anchor else None

    def _scope(self, path: str) -> _Scope:
        prefix = f"{path}." if path else ""
        kids = [
            p
            for p in self.parameters.values()
            if p["path"].startswith(prefix) and "." not in p["path"][len(prefix) :]
        ]
        scope = _Scope(
            fields={},
            required=tuple(p["path"][len(prefix) :] for p in kids if p.get("required")),
            unknown_code=self._codes["unknown"],
            missing_code=self._codes["required"],
            task_label=self.task_label,
        )
        self.scopes[path] = scope
        for p in kids:
            name = p["path"][len(prefix) :]
            f = scope.fields[name] = self._field(p)
            if "default" in p:
                scope.defaults.append((name, p["default"]))
            if f.scope is not None or (f.item is not None and f.item.scope is not None):
                scope.nested.append(name)
        return scope

    def _field(self, p: Mapping[str, Any]) -> _Field:
        codes = {**self._codes, **p.get("codes", {})}
        f = _Field(
            name=p["path"], types=frozenset(p["types"]), codes=codes, documentation=self._doc(p)
        )
        if "const" in p:
            f.const = p["const"]
        if "enum" in p:
            f.enum = frozenset(_key(v) for v in p["enum"])
            f.enum_text = ", ".join(_fmt(v) for v in p["enum"])
        for attr, key in (
            ("minimum", "minimum"),
            ("maximum", "maximum"),
            ("multiple_of", "multipleOf"),
            ("min_length", "minLength"),
            ("max_length", "maxLength"),
            ("min_items", "minItems"),
            ("max_items", "maxItems"),
        ):
            if key in p:
                setattr(f, attr, p[key])
        if "format" in p:
            f.pattern, f.format_text = self._formats[p["format"]]
        items = p.get("items")
        if items is not None:
            item = _Field(
                name=p["path"],
                types=frozenset([items["type"]]),
                codes=codes,
                documentation=f.documentation,
            )
            if "format" in items:
                item.pattern, item.format_text = self._formats[items["format"]]
            if items["type"] == "object":
                item.scope = self._scope(p["path"])
            f.item = item.ready()
        elif p["types"] == ["object"]:
            f.scope = self._scope(p["path"])
        return f.ready()

    # public API

    def violations(self, task: Any) -> list[Violation]:
        """Every violation of ``task`` (a parsed JSON object), in document order, one per
        parameter; the first ``VIOLATIONS_MAX`` of them, so work and memory stay bounded on
        any input."""
        if not isinstance(task, dict):
            kind = _ARTICLE.get(json_type(task), "that")
            return [Violation(self._codes["type"], f"A task must be a JSON object, not {kind}.",
                              "", "type")]  # fmt: skip
        out = Violations()
        try:
            self.root.check(task, "", out)
        except Full:  # the first VIOLATIONS_MAX (contextlib.suppress costs more)
            return _one_per_parameter(out.found)
        found = out.found
        return found if len(found) < 2 else _one_per_parameter(found)

    def validate(self, task: Any) -> list[RunwareError]:
        """``violations`` shaped as Runware errors carrying the task's taskType and taskUUID."""
        return [v.as_error(task) for v in self.violations(task)]

    def with_defaults(self, task: Mapping[str, Any]) -> dict[str, Any]:
        """A valid task with every default filled in (conditional ones too).

        The input is not changed. Objects the defaults are added to are copied; other
        values (strings, arrays of strings) are shared with the input."""
        result = self._filled(task, "")
        for kind, bound in self._defaulting:
            kind.fill_default(bound, task, result)
        return result

    def _filled(self, obj: Mapping[str, Any], path: str) -> dict[str, Any]:
        """A copy of ``obj`` with its scope's defaults, recursing into nested objects."""
        scope = self.scopes[path]
        result = dict(obj)
        for name, default in scope.defaults:
            if name not in result:
                result[name] = default  # scalars only (the spec format says so)
        for name in scope.nested:
            value = result.get(name)
            full = f"{path}.{name}" if path else name
            if isinstance(value, dict):
                result[name] = self._filled(value, full)
            elif isinstance(value, list):
                result[name] = [self._filled(e, full) if isinstance(e, dict) else e for e in value]
        return result


# ── examples and pricing ────────────────────────────────────────────────────


@dataclass(frozen=True)
class Example:
    """A documented example: its request and the response the docs show for it."""

    name: str
    title: str
    kind: str
    request: dict[str, Any]
    response: dict[str, Any]


def resolution_of(task: Mapping[str, Any], dimensions: Mapping[str, Any] | None) -> str:
    """The resolution label of a task's width x height, or of its resolution preset (the
    dimension table's ``resolutionParameter``), or the only one when the task gives none."""
    rows = list(dimensions["rows"]) if dimensions else []
    if dimensions:
        first, second = dimensions["params"]
        size = (task.get(first), task.get(second))
        for row in rows:
            if (row["width"], row["height"]) == size:
                return str(row["resolution"])
        preset = task.get(dimensions.get("resolutionParameter", ""))
        if isinstance(preset, str) and any(str(r["resolution"]) == preset for r in rows):
            return preset
    resolutions = {str(row["resolution"]) for row in rows}
    if len(resolutions) == 1:
        return resolutions.pop()
    raise ValueError("the task's resolution cannot be told from its width and height")


def aspect_ratio_of(task: Mapping[str, Any], dimensions: Mapping[str, Any] | None) -> str | None:
    """The aspect ratio of the task's dimension row, where the table carries one (the
    generated tables do where a price row is keyed by it); None otherwise."""
    if not dimensions:
        return None
    first, second = dimensions["params"]
    size = (task.get(first), task.get(second))
    for row in dimensions["rows"]:
        if (row["width"], row["height"]) == size and "aspectRatio" in row:
            return str(row["aspectRatio"])
    return None


class PriceUnavailable(ValueError):
    """No price applies: the model has no pricing, or no price row matches the task
    (the message names what the task is and the rows there are). Never a guessed number."""


def _units(task: Mapping[str, Any], pricing: Mapping[str, Any]) -> Any:
    """How many units one result costs: the parameter the pricing unit counts (platform
    pricingUnits), or one per result when the unit counts none."""
    counted = pricing.get("unitParameter")
    if counted is None:
        return 1
    if counted not in task:
        raise PriceUnavailable(f"the price is per {pricing['unit']}: the task needs {counted}")
    return task[counted]


def price_of(
    task: Mapping[str, Any],
    pricing: Mapping[str, Any],
    dimensions: Mapping[str, Any] | None,
    *,
    audio: bool | None = None,
) -> float:
    """Cost in USD of one result of ``task`` (defaults already applied), exact to the cent's
    fraction: computed in decimal so 0.112 x 10 is 1.12, not 1.1199999999999999."""
    with_audio = bool(pricing["audioDefault"]) if audio is None else audio
    resolution: str | None = None  # a row without one ("5s") applies to any resolution
    try:
        resolution = resolution_of(task, dimensions)
    except ValueError as error:
        if all("resolution" in rate for rate in pricing["rates"]):
            raise PriceUnavailable(str(error)) from None
    ratio = aspect_ratio_of(task, dimensions)
    for rate in pricing["rates"]:
        if (
            _applies(rate, task, resolution, with_audio)
            and rate.get("aspectRatio", ratio) == ratio
            and all(
                _same_value(_value(task, p, pricing), v) for p, v in rate.get("values", {}).items()
            )
        ):
            if "perClip" in rate:
                base = Decimal(str(rate["perClip"]))
            elif "perImage" in rate:
                base = Decimal(str(rate["perImage"]))
            else:
                base = Decimal(str(rate["perSecond"])) * Decimal(_units(task, pricing))
            return float(base + _surcharges(task, pricing))
    given = sorted(
        {
            p
            for r in pricing["rates"]
            for p in (*r.get("provided", ()), *r.get("absent", ()))
            if provided(get(task, p.split(".")))
        }
    )
    facts = [resolution or "resolution unknown", *([ratio] if ratio else [])]
    facts.append(f"audio={with_audio}")
    facts += [f"{p} given" for p in given]
    named = sorted({p for r in pricing["rates"] for p in r.get("values", ())})
    facts += [f"{p}={_value(task, p, pricing)!r}" for p in named]
    if "duration" in task:
        facts.append(f"duration={task['duration']}")
    rows = "; ".join(describe_rate(r) for r in pricing["rates"])
    raise PriceUnavailable(f"no price row matches the task ({', '.join(facts)}); rows: {rows}")


def _surcharges(task: Mapping[str, Any], pricing: Mapping[str, Any]) -> Decimal:
    """What the prose add-ons add to one result: a rate per second of the output, an amount
    per result, or one per item the named arrays hold, where one applies (a path given, or
    an ``enabled`` one true). One that counts the input video's seconds cannot be priced from
    the task (it does not state them): PriceUnavailable says so rather than a price too low."""
    extra = Decimal(0)
    for surcharge in pricing.get("surcharges", ()):
        values = [get(task, p.split(".")) for p in surcharge.get("provided", ())]
        if not any(provided(v) for v in values) and not any(
            get(task, p.split(".")) is True for p in surcharge.get("enabled", ())
        ):
            continue
        if "perImage" in surcharge:
            extra += Decimal(str(surcharge["perImage"]))
        elif "perItem" in surcharge:
            items = sum(len(v) if isinstance(v, list) else 1 for v in values if provided(v))
            extra += Decimal(str(surcharge["perItem"])) * items
        elif surcharge.get("sameRate"):
            raise PriceUnavailable(
                f"the price also counts the seconds of {' or '.join(surcharge['provided'])} "
                "at the same rate, which the task does not state"
            )
        else:
            extra += Decimal(str(surcharge["perSecond"])) * Decimal(_units(task, pricing))
    return extra


def _applies(
    rate: Mapping[str, Any], task: Mapping[str, Any], resolution: str | None, audio: bool
) -> bool:
    def given(path: str) -> bool:
        return provided(get(task, path.split(".")))

    return (
        rate.get("resolution", resolution) == resolution
        and rate.get("audio", audio) == audio
        and ("provided" not in rate or any(given(p) for p in rate["provided"]))
        and not any(given(p) for p in rate.get("absent", ()))
        and ("seconds" not in rate or task.get("duration") == rate["seconds"])
    )


def _value(task: Mapping[str, Any], path: str, pricing: Mapping[str, Any]) -> Any:
    """A price condition's value in the task: the task's own (defaults applied), else the
    parameter's default where its object is absent (the pricing table's ``defaults``), else
    None."""
    value = get(task, path.split("."))
    if value is _MISSING:
        return pricing.get("defaults", {}).get(path)
    return value


def _same_value(value: Any, wanted: Any) -> bool:
    """A task's value is the row's, type-exact (true is not 1; 30 is 30.0)."""
    if isinstance(value, bool) or isinstance(wanted, bool):
        return value is wanted
    return bool(value == wanted)


def describe_rate(rate: Mapping[str, Any]) -> str:
    """A price row's conditions in words ("1080p audio inputs.video given")."""
    parts = [str(rate[k]) for k in ("aspectRatio", "resolution") if k in rate]
    if "seconds" in rate:
        parts.append(f"{rate['seconds']}s clip")
    if "audio" in rate:
        parts.append("audio" if rate["audio"] else "no audio")
    parts += [f"{' or '.join(rate['provided'])} given"] if "provided" in rate else []
    parts += [f"no {' or '.join(rate['absent'])}"] if "absent" in rate else []
    parts += [f"{path}={value}" for path, value in rate.get("values", {}).items()]
    return " ".join(parts)
