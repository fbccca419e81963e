"""Compare two model specs and classify every change by what it does to clients.

ERR breaks existing clients, WARN may break them, INFO does not. The direction
says whose side changed: ``request`` (what clients send: a narrower request
breaks them), ``response`` (what clients read: a wider or missing response field
breaks them) or ``model`` (facts, pricing, examples). The inputs are the typed model
specs the emitters read (``spec.loader.read_model_text``: a file's syntax and structure
checked); ``None`` is a spec not written yet. An added or removed entry is shown (``old`` /
``new``) as its typed object's fields (``plain``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, fields, is_dataclass, replace
from fractions import Fraction
from typing import Any

from .docs.facts import Unreadable
from .spec.kinds import codegen_kind
from .spec.model import (
    Dimensions,
    Example,
    Loc,
    Located,
    ModelSpec,
    Parameter,
    PriceRate,
    Pricing,
    Rule,
)

LEVELS = ("ERR", "WARN", "INFO")


@dataclass(frozen=True)
class Change:
    level: str  # ERR | WARN | INFO
    direction: str  # request | response | model
    subject: str  # a parameter path, rule id, "pricing", ...
    message: str
    old: Any = None
    new: Any = None

    def line(self) -> str:
        return f"{self.level:<5} {self.direction:<9} {self.subject}: {self.message}"


def _j(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _show(value: Any) -> str:
    return "(none)" if value is None else _j(value)


def plain(value: Any) -> Any:
    """A typed spec object as JSON-ready data: its fields, without positions."""
    if is_dataclass(value) and not isinstance(value, type):
        skip = {"loc", "key_locs"} if isinstance(value, Located) else set()
        return {f.name: plain(getattr(value, f.name)) for f in fields(value) if f.name not in skip}
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def _types(value: Any) -> set[str]:
    return set(value) if isinstance(value, list) else {value}


# Each field attribute, by its spec key: (its value, request classifier, response classifier);
# a classifier gets (old, new) and returns (level, wording), old/new None meaning absent.
Classifier = Callable[[Any, Any], tuple[str, str]]


def _lower_bound(old: Any, new: Any) -> tuple[str, str]:
    if old is None:
        return "ERR", f"minimum added: {new}"
    if new is None:
        return "INFO", f"minimum {old} removed"
    return ("ERR", f"raised {old} → {new}") if new > old else ("INFO", f"lowered {old} → {new}")


def _upper_bound(old: Any, new: Any) -> tuple[str, str]:
    if old is None:
        return "ERR", f"maximum added: {new}"
    if new is None:
        return "INFO", f"maximum {old} removed"
    return ("ERR", f"lowered {old} → {new}") if new < old else ("INFO", f"raised {old} → {new}")


def _flip(classify: Classifier, narrower: str = "INFO", wider: str = "WARN") -> Classifier:
    """A response field's version of a request classifier: narrowing is harmless, widening not."""

    def response(old: Any, new: Any) -> tuple[str, str]:
        level, words = classify(old, new)
        return (narrower if level == "ERR" else wider), words

    return response


def _step(old: Any, new: Any) -> tuple[str, str]:
    if old is None:
        return "ERR", f"step added: {new}"
    if new is None:
        return "INFO", f"step {old} removed"
    # Wider when every old multiple is a new one: old is a whole multiple of new (exactly).
    wider = new != 0 and (Fraction(str(old)) / Fraction(str(new))).denominator == 1
    return ("INFO" if wider else "ERR"), f"step {old} → {new}"


def _restrict(name: str) -> Classifier:
    """const / format: adding or changing one narrows a request, removing it widens."""

    def classify(old: Any, new: Any) -> tuple[str, str]:
        if new is None:
            return "INFO", f"{name} {_show(old)} removed"
        if old is None:
            return "ERR", f"{name} added: {_show(new)}"
        return "ERR", f"{name} {_show(old)} → {_show(new)}"

    return classify


def _type(old: Any, new: Any) -> tuple[str, str]:
    if old is not None and new is not None and _types(old) < _types(new):
        return "INFO", f"type widened {_show(old)} → {_show(new)}"
    return "ERR", f"type {_show(old)} → {_show(new)}"


def _type_response(old: Any, new: Any) -> tuple[str, str]:
    """What clients read: a narrower type is harmless, a wider one may surprise them."""
    if old is not None and new is not None and _types(new) < _types(old):
        return "INFO", f"type narrowed {_show(old)} → {_show(new)}"
    level, words = _type(old, new)
    return ("WARN" if level == "INFO" else level), words


def _restrict_response(name: str) -> Classifier:
    """const / format of what clients read: adding one narrows it, removing one widens it."""

    def classify(old: Any, new: Any) -> tuple[str, str]:
        level, words = _restrict(name)(old, new)
        if old is None or new is None:
            level = "INFO" if level == "ERR" else "WARN"
        return level, words

    return classify


def _required(old: Any, new: Any) -> tuple[str, str]:
    return ("ERR", "now required") if new else ("INFO", "no longer required")


def _required_response(old: Any, new: Any) -> tuple[str, str]:
    return ("INFO", "now always present") if new else ("WARN", "no longer always present")


def _plainly(level: str, name: str) -> Classifier:
    def classify(old: Any, new: Any) -> tuple[str, str]:
        return level, f"{name} {_show(old)} → {_show(new)}"

    return classify


def _type_of(p: Parameter) -> Any:
    """A parameter's type, or its types in a fixed order (the order a page lists them in
    means nothing to a client)."""
    return p.types[0] if len(p.types) == 1 else sorted(p.types)


Value = Callable[[Parameter], Any]
FIELD_RULES: dict[str, tuple[Value, Classifier, Classifier]] = {
    "required": (lambda p: p.required, _required, _required_response),
    "type": (_type_of, _type, _type_response),
    "items.type": (lambda p: p.items and p.items.type, _type, _type_response),
    "items.format": (lambda p: p.items and p.items.format,
                     _restrict("item format"), _restrict_response("item format")),
    "const": (lambda p: p.const, _restrict("fixed value"), _restrict_response("fixed value")),
    "format": (lambda p: p.format, _restrict("format"), _restrict_response("format")),
    "minimum": (lambda p: p.minimum, _lower_bound, _flip(_lower_bound)),
    "minLength": (lambda p: p.min_length, _lower_bound, _flip(_lower_bound)),
    "minItems": (lambda p: p.min_items, _lower_bound, _flip(_lower_bound)),
    "maximum": (lambda p: p.maximum, _upper_bound, _flip(_upper_bound)),
    "maxLength": (lambda p: p.max_length, _upper_bound, _flip(_upper_bound)),
    "maxItems": (lambda p: p.max_items, _upper_bound, _flip(_upper_bound)),
    "multipleOf": (lambda p: p.multiple_of, _step, _flip(_step)),
    "default": (lambda p: p.default, _plainly("WARN", "default"), _plainly("INFO", "default")),
    "pairedWith": (lambda p: p.paired_with,
                   _plainly("WARN", "paired with"), _plainly("INFO", "paired with")),
    "description": (lambda p: p.description,
                    _plainly("INFO", "description"), _plainly("INFO", "description")),
    "docsDigest": (
        lambda p: p.docs_digest,
        lambda o, n: ("INFO", "description reworded on the docs page"),
        lambda o, n: ("INFO", "description reworded on the docs page"),
    ),
}  # fmt: skip
# What clients never see, by spec key: a change is INFO.
QUIET_KEYS: dict[str, Value] = {
    "group": lambda p: p.group, "anchor": lambda p: p.anchor, "docsType": lambda p: p.docs_type,
    "docsPath": lambda p: p.docs_path, "docsRequired": lambda p: p.docs_required,
    "notes": lambda p: p.notes, "curated": lambda p: p.curated, "codes": lambda p: p.codes,
    "derived": lambda p: p.derived, "inferred": lambda p: p.inferred,
    "unique": lambda p: p.unique,
}  # fmt: skip


def _same_value(a: Any, b: Any) -> bool:
    """One JSON value, as a validator compares them: 1 is 1.0, true is not 1."""
    numbers = [isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b)]
    if all(numbers):
        return bool(a == b)
    return not any(numbers) and _j(a) == _j(b)


def _enum_changes(direction: str, path: str, old: Parameter, new: Parameter) -> Iterable[Change]:
    old_values = [e.value for e in old.enum]
    new_values = [e.value for e in new.enum]
    request = direction == "request"
    if not old.enum and new.enum:
        yield Change("ERR" if request else "INFO", direction, path,
                     f"allowed values introduced: {_j(new_values)}", None, new_values)  # fmt: skip
        return
    if not new.enum and old.enum:
        yield Change("INFO" if request else "WARN", direction, path,
                     "allowed values lifted (any value)", old_values, None)  # fmt: skip
        return
    for value in old_values:
        if not any(_same_value(value, v) for v in new_values):
            yield Change("ERR" if request else "INFO", direction, path,
                         f"allowed value removed: {_show(value)}", value, None)  # fmt: skip
    for value in new_values:
        if not any(_same_value(value, v) for v in old_values):
            yield Change("INFO" if request else "WARN", direction, path,
                         f"allowed value added: {_show(value)}", None, value)  # fmt: skip


def field_changes(direction: str, old: Parameter, new: Parameter) -> Iterable[Change]:
    """Changes of one parameter or response field that both specs have."""
    for value, on_request, on_response in FIELD_RULES.values():
        a, b = plain(value(old)), plain(value(new))
        if _j(a) != _j(b):
            level, words = (on_request if direction == "request" else on_response)(a, b)
            yield Change(level, direction, new.path, words, a, b)
    yield from _enum_changes(direction, new.path, old, new)
    for key, value in QUIET_KEYS.items():
        a, b = plain(value(old)), plain(value(new))
        if _j(a) != _j(b):
            yield Change("INFO", direction, new.path, f"{key} changed", a, b)


def field_list_changes(
    direction: str, old: Iterable[Parameter], new: Iterable[Parameter]
) -> Iterable[Change]:
    a, b = {p.path: p for p in old}, {p.path: p for p in new}
    for path, param in b.items():
        if path in a:
            yield from field_changes(direction, a[path], param)
        elif direction == "response":
            yield Change("INFO", direction, path, "response field added", None, plain(param))
        elif param.required:
            yield Change("ERR", direction, path, "new required parameter", None, plain(param))
        else:
            yield Change("INFO", direction, path, "optional parameter added", None, plain(param))
    for path, param in a.items():
        if path not in b:
            what = "response field removed" if direction == "response" else "parameter removed"
            yield Change("ERR", direction, path, what, plain(param), None)


def _rule_core(rule: Rule) -> str:
    """What a rule says, apart from its id and wording (message, source, notes)."""
    return _j({"kind": rule.kind, "args": plain(rule.args), "enforced": rule.enforced})


def _rule_wording(rule: Rule) -> str:
    return _j(plain((rule.message, rule.source, rule.notes)))


def rule_changes(old: Iterable[Rule], new: Iterable[Rule]) -> Iterable[Change]:
    a, b = {r.id: r for r in old}, {r.id: r for r in new}
    # Rules renamed between two imports are matched by what they say.
    a_core = {_rule_core(r): i for i, r in a.items() if i not in b}
    for rule_id, rule in b.items():
        if rule_id in a:
            old_rule = a[rule_id]
        elif _rule_core(rule) in a_core:
            old_id = a_core.pop(_rule_core(rule))
            old_rule = a.pop(old_id)
            yield Change("INFO", "request", rule_id, f"rule renamed from {old_id}")
        else:
            yield Change("ERR", "request", rule_id, f"rule added ({rule.kind}): {rule.message}",
                         None, plain(rule))  # fmt: skip
            continue
        if _rule_core(old_rule) != _rule_core(rule):
            yield _rule_changed(rule_id, old_rule, rule)
        elif _rule_wording(old_rule) != _rule_wording(rule):
            yield Change("INFO", "request", rule_id, "rule wording or source changed")
    for rule_id, rule in a.items():
        if rule_id not in b:
            yield Change("INFO", "request", rule_id, f"rule removed ({rule.kind})",
                         plain(rule), None)  # fmt: skip


def _rule_changed(rule_id: str, old: Rule, new: Rule) -> Change:
    """A rule that says something else: an upper bound moved (its kind's ``upper_bound``,
    such as an item limit) is a bound; anything else may break."""

    def but(rule: Rule, **changes: Any) -> str:
        return _rule_core(replace(rule, args={**rule.args, **changes}))

    bound = codegen_kind(new.kind).upper_bound if old.kind == new.kind else None
    if bound is not None:
        limits = [r.args.get(bound.key) for r in (old, new)]
        if None not in limits and but(old, **{bound.key: 0}) == but(new, **{bound.key: 0}):
            level, words = _upper_bound(*limits)
            return Change(level, "request", rule_id, f"{bound.label} {words}", *limits)
    if old.enforced != new.enforced and _rule_core(replace(old, enforced=True)) == _rule_core(
        replace(new, enforced=True)
    ):  # a curator's resolution of a contradiction: fewer tasks refused, or more
        level, words = (
            ("INFO", "no longer enforced") if old.enforced else ("WARN", "enforced again")
        )
        return Change(level, "request", rule_id, f"rule {words}", old.enforced, new.enforced)
    return Change("WARN", "request", rule_id, "rule changed", plain(old), plain(new))


def dimension_changes(old: Dimensions | None, new: Dimensions | None) -> Iterable[Change]:
    def rows(dims: Dimensions | None) -> dict[str, Any]:
        return {f"{r.width}x{r.height}": plain(r) for r in (dims.rows if dims else ())}

    a, b = rows(old), rows(new)
    if old and not new:
        yield Change("INFO", "request", "dimensions", "dimension table removed (any size)")
        return
    if new and not old:
        yield Change("ERR", "request", "dimensions", "dimension table added", None, list(b))
        return
    for key in a.keys() - b.keys():
        yield Change("ERR", "request", "dimensions", f"dimension row removed: {key}", key, None)
    for key in b.keys() - a.keys():
        yield Change("INFO", "request", "dimensions", f"dimension row added: {key}", None, key)
    for key in a.keys() & b.keys():
        if _j(a[key]) != _j(b[key]):
            yield Change("INFO", "request", "dimensions", f"dimension row {key} relabelled")


PRICING_FACTS = {"currency": "currency", "unit": "unit", "audioDefault": "audio_default"}


def pricing_changes(old: Pricing | None, new: Pricing | None) -> Iterable[Change]:
    def rates(p: Pricing | None) -> dict[str, PriceRate]:
        return {r.key: r for r in (p.rates if p else ())}

    def amount(r: PriceRate) -> tuple[Any, str]:
        return r.amount

    a, b = rates(old), rates(new)
    for key in a.keys() & b.keys():
        (was, unit), (now, _) = amount(a[key]), amount(b[key])
        if _j(was) != _j(now):
            yield Change("WARN", "model", "pricing", f"{key}: {was} → {now} {unit}", was, now)
        elif _j(plain(a[key])) != _j(plain(b[key])):
            yield Change("INFO", "model", "pricing", f"{key}: rate quote or notes changed")
    for key in a.keys() - b.keys():
        yield Change("WARN", "model", "pricing", f"rate removed: {key}", plain(a[key]), None)
    for key in b.keys() - a.keys():
        yield Change("INFO", "model", "pricing", f"rate added: {key}", None, plain(b[key]))
    for key, attr in PRICING_FACTS.items():
        was, now = getattr(old, attr, None), getattr(new, attr, None)
        if _j(was) != _j(now):
            yield Change("WARN", "model", "pricing", f"{key} {was} → {now}")
    for key in ("quote", "notes"):
        if _j(plain(getattr(old, key, None))) != _j(plain(getattr(new, key, None))):
            yield Change("INFO", "model", "pricing", f"{key} changed")


EXAMPLE_KEYS = ("title", "kind", "request", "response", "video", "image")


def example_changes(old: Iterable[Example], new: Iterable[Example]) -> Iterable[Change]:
    a, b = {e.name: e for e in old}, {e.name: e for e in new}
    for name in b.keys() - a.keys():
        yield Change("INFO", "model", f"example {name}", "example added")
    for name in a.keys() - b.keys():
        yield Change("INFO", "model", f"example {name}", "example removed")
    for name in sorted(a.keys() & b.keys()):
        for key in sorted(EXAMPLE_KEYS):
            if _j(plain(getattr(a[name], key))) != _j(plain(getattr(b[name], key))):
                yield Change("INFO", "model", f"example {name}", f"{key} changed")


# A model fact by its spec key, and its attribute.
MODEL_FACTS = {"name": "name", "slug": "slug", "creator": "creator", "releaseDate": "release_date",
               "capabilities": "capabilities", "docs": "docs", "summary": "summary"}  # fmt: skip
NO_SPEC = ModelSpec(loc=Loc("(none)", 0, 0), key_locs={})


def model_changes(old: ModelSpec, new: ModelSpec) -> Iterable[Change]:
    for key, attr in (("id", "id"), ("taskType", "task_type")):
        was, now = getattr(old, attr) or None, getattr(new, attr) or None
        if was != now:
            yield Change("ERR", "model", key, f"{was} → {now}")
    if old.status != new.status:
        level = "WARN" if new.status == "deprecated" else "INFO"
        yield Change(level, "model", "status", f"{old.status or None} → {new.status or None}")
    for key, attr in MODEL_FACTS.items():
        was, now = plain(getattr(old, attr)) or None, plain(getattr(new, attr)) or None
        if _j(was) != _j(now):
            yield Change("INFO", "model", key, f"{_show(was)} → {_show(now)}")
    a, b = {x.id: x for x in old.behaviours}, {x.id: x for x in new.behaviours}
    for key in sorted(a.keys() ^ b.keys()):
        yield Change("INFO", "model", f"behaviour {key}", "added" if key in b else "removed")


def diff(
    old: ModelSpec | None, new: ModelSpec | None, unreadable: Iterable[Unreadable] = ()
) -> list[Change]:
    """Every change from ``old`` to ``new``, most severe first (stable within a level).
    ``unreadable``: facts the page of ``new`` states but the importer could not read."""
    old, new = old or NO_SPEC, new or NO_SPEC
    changes = [
        *model_changes(old, new),
        *field_list_changes("request", old.parameters, new.parameters),
        *field_list_changes("response", old.response, new.response),
        *rule_changes(old.rules, new.rules),
        *dimension_changes(old.dimensions, new.dimensions),
        *pricing_changes(old.pricing, new.pricing),
        *example_changes(old.examples, new.examples),
    ]
    changes = _unreadable_changes(old, new, changes, unreadable)
    return sorted(changes, key=lambda c: LEVELS.index(c.level))


def _field(spec: ModelSpec, path: str) -> tuple[str, Parameter] | None:
    for direction, entries in (("request", spec.parameters), ("response", spec.response)):
        for p in entries:
            if p.path == path:
                return direction, p
    return None


def _unreadable_changes(
    old: ModelSpec, new: ModelSpec, changes: list[Change], unreadable: Iterable[Unreadable]
) -> list[Change]:
    """A fact the page states but the importer could not read is never a quiet widening:
    a value lost with it is ERR for what clients send (WARN for what they read), and one
    the merge kept is a WARN saying the page no longer says it readably."""
    for u in unreadable:
        if u.key not in FIELD_RULES:
            continue
        value = FIELD_RULES[u.key][0]
        was, now = _field(old, u.path), _field(new, u.path)
        before = plain(value(was[1])) if was else None
        after = plain(value(now[1])) if now else None
        direction = (now or was or ("request", None))[0]
        said = f"the page's {u.fact} {u.text!r} (line {u.line}) could not be read"
        lost = before is not None and (after is None or _j(after) != _j(before))
        if lost:
            changes = [
                c for c in changes
                if not (c.subject == u.path and _j(c.old) == _j(before) and _j(c.new) == _j(after))
            ]  # fmt: skip
            level = "ERR" if direction == "request" else "WARN"
            changes.append(Change(level, direction, u.path, f"{u.key} {_show(before)} lost: {said}",
                                  before, after))  # fmt: skip
        elif before is not None:
            changes.append(Change("WARN", direction, u.path,
                                  f"{said}; the spec keeps {u.key} {_show(before)}"))  # fmt: skip
        else:
            changes.append(Change("WARN", direction, u.path, f"{said}; no {u.key} in the spec"))
    return changes


def summary(changes: Iterable[Change]) -> str:
    counts = {level: 0 for level in LEVELS}
    for change in changes:
        counts[change.level] += 1
    return ", ".join(f"{n} {level}" for level, n in counts.items())


def render_text(changes: list[Change]) -> str:
    if not changes:
        return "no changes\n"
    return "\n".join(c.line() for c in changes) + f"\n{summary(changes)}\n"


def render_json(changes: list[Change]) -> str:
    return json.dumps(
        {"changes": [asdict(c) for c in changes], "summary": summary(changes)},
        indent=2,
        ensure_ascii=False,
        default=str,
    )


def fails(changes: Iterable[Change], fail_on: str | None) -> bool:
    """Whether any change is at least as severe as ``fail_on``."""
    if fail_on is None:
        return False
    limit = LEVELS.index(fail_on)
    return any(LEVELS.index(c.level) <= limit for c in changes)
