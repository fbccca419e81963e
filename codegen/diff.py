"""Compare two model specs and classify every change by what it does to clients.

ERR breaks existing clients, WARN may break them, INFO does not. The direction
says whose side changed: ``request`` (what clients send: a narrower request
breaks them), ``response`` (what clients read: a wider or missing response field
breaks them) or ``model`` (facts, pricing, examples). The inputs are the specs as
plain data (``yaml_source.read_yaml(...).data``, or the importer's output).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

from .spec.model import rate_label

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


def _types(value: Any) -> set[str]:
    return set(value) if isinstance(value, list) else {value}


# Each field attribute: (request classifier, response classifier); a classifier gets
# (old, new) and returns (level, wording), old/new None meaning absent.
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


FIELD_RULES: dict[str, tuple[Classifier, Classifier]] = {
    "required": (_required, _required_response),
    "type": (_type, _type_response),
    "items.type": (_type, _type_response),
    "items.format": (_restrict("item format"), _restrict_response("item format")),
    "const": (_restrict("fixed value"), _restrict_response("fixed value")),
    "format": (_restrict("format"), _restrict_response("format")),
    "minimum": (_lower_bound, _flip(_lower_bound)),
    "minLength": (_lower_bound, _flip(_lower_bound)),
    "minItems": (_lower_bound, _flip(_lower_bound)),
    "maximum": (_upper_bound, _flip(_upper_bound)),
    "maxLength": (_upper_bound, _flip(_upper_bound)),
    "maxItems": (_upper_bound, _flip(_upper_bound)),
    "multipleOf": (_step, _flip(_step)),
    "default": (_plainly("WARN", "default"), _plainly("INFO", "default")),
    "pairedWith": (_plainly("WARN", "paired with"), _plainly("INFO", "paired with")),
    "description": (_plainly("INFO", "description"), _plainly("INFO", "description")),
    "docsDigest": (
        lambda o, n: ("INFO", "description reworded on the docs page"),
        lambda o, n: ("INFO", "description reworded on the docs page"),
    ),
}
QUIET_KEYS = ("group", "anchor", "docsType", "docsPath", "docsRequired", "notes", "curated",
              "codes", "derived", "inferred", "unique")  # fmt: skip


def _get(param: Mapping[str, Any], key: str) -> Any:
    if key == "required":
        return bool(param.get("required", False))
    if key.startswith("items."):
        return (param.get("items") or {}).get(key[6:])
    return param.get(key)


def _enum_changes(direction: str, path: str, old: Any, new: Any) -> Iterable[Change]:
    old_values = [e["value"] for e in old or []]
    new_values = [e["value"] for e in new or []]
    request = direction == "request"
    if old is None and new is not None:
        yield Change("ERR" if request else "INFO", direction, path,
                     f"allowed values introduced: {_j(new_values)}", None, new_values)  # fmt: skip
        return
    if new is None and old is not None:
        yield Change("INFO" if request else "WARN", direction, path,
                     "allowed values lifted (any value)", old_values, None)  # fmt: skip
        return
    for value in old_values:
        if not any(_j(value) == _j(v) for v in new_values):
            yield Change("ERR" if request else "INFO", direction, path,
                         f"allowed value removed: {_show(value)}", value, None)  # fmt: skip
    for value in new_values:
        if not any(_j(value) == _j(v) for v in old_values):
            yield Change("INFO" if request else "WARN", direction, path,
                         f"allowed value added: {_show(value)}", None, value)  # fmt: skip


def field_changes(
    direction: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> Iterable[Change]:
    """Changes of one parameter or response field that both specs have."""
    path = str(new["path"])
    side = 0 if direction == "request" else 1
    for key, classifiers in FIELD_RULES.items():
        a, b = _get(old, key), _get(new, key)
        if _j(a) != _j(b):
            level, words = classifiers[side](a, b)
            yield Change(level, direction, path, words, a, b)
    yield from _enum_changes(direction, path, old.get("enum"), new.get("enum"))
    for key in QUIET_KEYS:
        if _j(old.get(key)) != _j(new.get(key)):
            yield Change("INFO", direction, path, f"{key} changed", old.get(key), new.get(key))


def _by(items: Iterable[Mapping[str, Any]], key: str) -> dict[str, Mapping[str, Any]]:
    return {str(item[key]): item for item in items}


def field_list_changes(
    direction: str, old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]
) -> Iterable[Change]:
    a, b = _by(old, "path"), _by(new, "path")
    for path, param in b.items():
        if path in a:
            yield from field_changes(direction, a[path], param)
        elif direction == "response":
            yield Change("INFO", direction, path, "response field added", None, dict(param))
        elif param.get("required"):
            yield Change("ERR", direction, path, "new required parameter", None, dict(param))
        else:
            yield Change("INFO", direction, path, "optional parameter added", None, dict(param))
    for path, param in a.items():
        if path not in b:
            what = "response field removed" if direction == "response" else "parameter removed"
            yield Change("ERR", direction, path, what, dict(param), None)


RULE_WORDING = ("id", "message", "source", "notes")


def _rule_core(rule: Mapping[str, Any]) -> str:
    return _j({k: v for k, v in rule.items() if k not in RULE_WORDING})


def rule_changes(
    old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]
) -> Iterable[Change]:
    a, b = _by(old, "id"), _by(new, "id")
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
            yield Change("ERR", "request", rule_id,
                         f"rule added ({rule['kind']}): {rule.get('message', '')}", None,
                         dict(rule))  # fmt: skip
            continue
        if _rule_core(old_rule) != _rule_core(rule):
            yield _rule_changed(rule_id, old_rule, rule)
        elif any(_j(old_rule.get(k)) != _j(rule.get(k)) for k in RULE_WORDING[1:]):
            yield Change("INFO", "request", rule_id, "rule wording or source changed")
    for rule_id, rule in a.items():
        if rule_id not in b:
            yield Change("INFO", "request", rule_id, f"rule removed ({rule['kind']})",
                         dict(rule), None)  # fmt: skip


def _rule_changed(rule_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Change:
    """A rule that says something else: an item limit moved is a bound; anything else may break."""
    limits = [r.get("maxItems") for r in (old, new)]
    same_but_limit = _rule_core(dict(old, maxItems=0)) == _rule_core(dict(new, maxItems=0))
    if old["kind"] == new["kind"] == "limitItems" and None not in limits and same_but_limit:
        level, words = _upper_bound(*limits)
        return Change(level, "request", rule_id, f"item limit {words}", *limits)
    enforced = [r.get("enforced", True) for r in (old, new)]
    if enforced[0] != enforced[1] and _rule_core(dict(old, enforced=True)) == _rule_core(
        dict(new, enforced=True)
    ):  # a curator's resolution of a contradiction: fewer tasks refused, or more
        level, words = ("INFO", "no longer enforced") if enforced[0] else ("WARN", "enforced again")
        return Change(level, "request", rule_id, f"rule {words}", *enforced)
    return Change("WARN", "request", rule_id, "rule changed", dict(old), dict(new))


def dimension_changes(old: Any, new: Any) -> Iterable[Change]:
    def rows(dims: Any) -> dict[str, Mapping[str, Any]]:
        return {f"{r['width']}x{r['height']}": r for r in (dims or {}).get("rows", [])}

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


def pricing_changes(old: Any, new: Any) -> Iterable[Change]:
    old, new = old or {}, new or {}

    def rates(p: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
        return {rate_label(r): r for r in p.get("rates", [])}

    def amount(r: Mapping[str, Any]) -> tuple[Any, str]:
        return (r["perSecond"], "per second") if "perSecond" in r else (r.get("perClip"), "a clip")

    a, b = rates(old), rates(new)
    for key in a.keys() & b.keys():
        (was, unit), (now, _) = amount(a[key]), amount(b[key])
        if _j(was) != _j(now):
            yield Change("WARN", "model", "pricing", f"{key}: {was} → {now} {unit}", was, now)
        elif _j(a[key]) != _j(b[key]):
            yield Change("INFO", "model", "pricing", f"{key}: rate quote or notes changed")
    for key in a.keys() - b.keys():
        yield Change("WARN", "model", "pricing", f"rate removed: {key}", dict(a[key]), None)
    for key in b.keys() - a.keys():
        yield Change("INFO", "model", "pricing", f"rate added: {key}", None, dict(b[key]))
    for key in ("currency", "unit", "audioDefault"):
        if _j(old.get(key)) != _j(new.get(key)):
            yield Change("WARN", "model", "pricing", f"{key} {old.get(key)} → {new.get(key)}")
    for key in ("quote", "notes"):
        if _j(old.get(key)) != _j(new.get(key)):
            yield Change("INFO", "model", "pricing", f"{key} changed")


def example_changes(
    old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]
) -> Iterable[Change]:
    a, b = _by(old, "name"), _by(new, "name")
    for name in b.keys() - a.keys():
        yield Change("INFO", "model", f"example {name}", "example added")
    for name in a.keys() - b.keys():
        yield Change("INFO", "model", f"example {name}", "example removed")
    for name in sorted(a.keys() & b.keys()):
        for key in sorted(set(a[name]) | set(b[name])):
            if _j(a[name].get(key)) != _j(b[name].get(key)):
                yield Change("INFO", "model", f"example {name}", f"{key} changed")


def model_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterable[Change]:
    for key in ("id", "taskType"):
        if old.get(key) != new.get(key):
            yield Change("ERR", "model", key, f"{old.get(key)} → {new.get(key)}")
    if old.get("status") != new.get("status"):
        level = "WARN" if new.get("status") == "deprecated" else "INFO"
        yield Change(level, "model", "status", f"{old.get('status')} → {new.get('status')}")
    for key in ("name", "slug", "creator", "releaseDate", "capabilities", "docs", "summary"):
        if _j(old.get(key)) != _j(new.get(key)):
            yield Change("INFO", "model", key, f"{_show(old.get(key))} → {_show(new.get(key))}")
    a, b = _by(old.get("behaviours", []), "id"), _by(new.get("behaviours", []), "id")
    for key in sorted(a.keys() ^ b.keys()):
        yield Change("INFO", "model", f"behaviour {key}", "added" if key in b else "removed")


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every change from ``old`` to ``new``, most severe first (stable within a level)."""
    changes = [
        *model_changes(old, new),
        *field_list_changes("request", old.get("parameters", []), new.get("parameters", [])),
        *field_list_changes("response", old.get("response", []), new.get("response", [])),
        *rule_changes(old.get("rules", []), new.get("rules", [])),
        *dimension_changes(old.get("dimensions"), new.get("dimensions")),
        *pricing_changes(old.get("pricing"), new.get("pricing")),
        *example_changes(old.get("examples", []), new.get("examples", [])),
    ]
    return sorted(changes, key=lambda c: LEVELS.index(c.level))


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
