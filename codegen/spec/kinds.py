"""What each rule kind means to the code generator, keyed by the runtime's ``KINDS``.

``codegen/runtime/rule_kinds.py`` is the registry: one class per kind with its spec keys,
its check, its repair and its breaker; it ships in the generated package. This module
adds, per kind, what only codegen needs, in one class each: extra meta-schema for its
rules, its JSON Schema encoding (or the explicit ``INEXPRESSIBLE``), how a docs sentence
of one of its phrasings becomes a rule, and the spec checks only it has. A test proves
both registries name the same kinds. The spec's keys become a rule's ``args`` here
(``rule_args``), in the plain form the rule tables carry and the runtime compiles.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ..runtime.rule_kinds import KINDS as RUNTIME_KINDS

if TYPE_CHECKING:
    from .model import Dimensions, ModelSpec, Parameter, Rule

Schema = dict[str, Any]
Args = Mapping[str, Any]

# Every spec key a rule kind may take, in the order rule tables list them.
KEY_ORDER = (
    "params",
    "when",
    "then",
    "forbid",
    "target",
    "maxItems",
    "minItems",
    "field",
    "positions",
    "automatic",
    "in",
    "pattern",
    "param",
    "allowed",
    "maximum",
    "sizes",
    "default",
)
COMMON_KEYS = ("id", "kind", "message", "source", "notes", "enforced")


def _clause_args(data: Mapping[str, Any]) -> dict[str, Any]:
    ((mode, items),) = data.items()
    conditions = [{"path": c} if isinstance(c, str) else dict(c) for c in items]
    return {"mode": mode, "conditions": conditions}


_KEY_FORMS: dict[str, Any] = {
    "params": lambda ops: [list(op) if isinstance(op, list) else [op] for op in ops],
    "when": _clause_args,
    "then": _clause_args,
    "positions": lambda v: {k: list(vs) for k, vs in v.items()},
    "automatic": lambda v: {str(k): list(v[k]) for k in sorted(v, key=int)},
    "sizes": lambda v: [list(pair) for pair in v],
}


def rule_args(data: Mapping[str, Any]) -> dict[str, Any]:
    """A spec rule's kind-specific keys (plain YAML data) in table form, in ``KEY_ORDER``:
    operands as lists, clauses as ``{mode, conditions}``, automatic counts as strings."""
    args: dict[str, Any] = {}
    for key in KEY_ORDER:
        if key in data:
            form = _KEY_FORMS.get(key)
            value = data[key]
            args[key] = form(value) if form else (list(value) if isinstance(value, list) else value)
    return args


# ── what encodings and readers are given ────────────────────────────────────


class SchemaParts(Protocol):
    """The JSON Schema builder's pieces a kind's encoding is made of."""

    dimensions: Dimensions | None

    def provided(self, path: str) -> Schema: ...
    def clause(self, clause: Args, scope: str) -> Schema: ...
    def any_provided(self, paths: Sequence[str], scope: str) -> Schema: ...
    def nest(self, path: str, leaf: Schema, *, require: bool = False) -> Schema: ...
    def relative(self, path: str, scope: str) -> str: ...


@dataclass(frozen=True)
class Sentence:
    """A docs sentence one of a kind's phrasings matched: the paths of its condition
    (before "is provided") and of its consequence, as written and split at ``/``."""

    text: str
    condition: list[str]
    consequence: list[str]
    operands: list[str | list[str]]  # consequence captures, ``a/b`` kept as a group
    number: int | None
    any_consequence: bool
    source: dict[str, str]
    values: list[str] = field(default_factory=list)  # backticked values (`V`), as written
    negated: bool = False  # "is not provided": the condition is the paths' absence
    phrasing: str = ""  # the phrasing that matched (a kind with several forms reads it)

    def when(self) -> dict[str, Any]:
        """The condition clause: any of the paths given (or, negated, not given)."""
        if self.negated:
            return {"anyOf": [{"path": p, "not": True} for p in self.condition]}
        return {"anyOf": list(self.condition)}


def typed_value(text: str, types: Sequence[str] | None = None) -> Any:
    """A backticked value as JSON: `true` → True, `7` → 7, `0.5` → 0.5, `480p` → "480p";
    with ``types`` (the parameter's), only as one of them (`5` of a string is "5")."""
    wanted = set(types) if types is not None else {"boolean", "integer", "number"}
    if "boolean" in wanted and text in ("true", "false"):
        return text == "true"
    if wanted & {"integer", "number"} and re.fullmatch(r"-?\d+", text):
        return int(text)
    if "number" in wanted and re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return text


SIZE = re.compile(r"^(?P<w>\d+)\s*[x\u00d7]\s*(?P<h>\d+)$")


def size_of(text: str) -> tuple[int, int] | None:
    """``1280x720``, or with the multiplication sign (U+00D7) pages use in sentences."""
    m = SIZE.match(text.strip())
    return (int(m["w"]), int(m["h"])) if m else None


def slug(path: str) -> str:
    last = path.rsplit(".", 1)[-1]
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", last).lower()


def rule_id(*parts: Sequence[str] | str) -> str:
    words: list[str] = []
    for part in parts:
        words.append(part if isinstance(part, str) else "-".join(slug(p) for p in part))
    return "-".join(words)


def words(paths: Sequence[str], joiner: str) -> str:
    return f" {joiner} ".join(paths)


def split_paths(value: str) -> list[str]:
    return [part.strip() for part in value.split("/") if part.strip()]


Issue = tuple[str, str]  # (spec key the problem is at, message)


@dataclass(frozen=True)
class ConstraintRow:
    """One row of a constraint table for one parameter: in the configuration ``label``
    (its condition ``when``), ``param`` takes one of ``values`` (``written`` as the page
    wrote them)."""

    param: str
    label: str
    when: dict[str, Any]
    values: list[Any]
    written: list[str]
    source: dict[str, str]


class KindCodegen:
    """Codegen's half of one rule kind. ``expressible = False`` says JSON Schema cannot
    state the rule; the schema then names it in ``$comment`` instead."""

    name: ClassVar[str]
    expressible: ClassVar[bool] = True
    meta: ClassVar[Schema] = {}  # more meta-schema for a rule of this kind
    reads_sentences: ClassVar[bool] = False  # whether docs phrasings of it become rules
    # whether a page's constraint table ("Parameter constraints vary based on the
    # configuration:") states rules of it, one per row and parameter (``from_row``)
    reads_constraint_rows: ClassVar[bool] = False
    # whether a sentence of it in an object parameter's description holds inside that
    # object when it is given (``within``)
    reads_descriptions: ClassVar[bool] = False

    def schema(self, s: SchemaParts, args: Args, scope: str) -> Schema:
        raise NotImplementedError

    def from_sentence(self, sentence: Sentence) -> dict[str, Any]:
        raise NotImplementedError

    def from_row(self, row: ConstraintRow) -> dict[str, Any]:
        """The rule one constraint-table row states for one parameter."""
        raise NotImplementedError

    def within(
        self, path: str, rule: Mapping[str, Any], source: dict[str, str]
    ) -> list[dict[str, Any]]:
        """The rules a description sentence's ``rule`` (paths relative to the object
        ``path``) states inside that object when it is given; [] when it cannot."""
        raise NotImplementedError

    def typed(self, rule: dict[str, Any], types: Mapping[str, Sequence[str]]) -> None:
        """Give the rule's values (as a sentence wrote them) the types of the parameters
        they are values of (``types``: path -> JSON types)."""

    def check(
        self, rule: Rule, model: ModelSpec, params: Mapping[str, Parameter]
    ) -> Iterator[Issue]:
        """Spec checks only this kind has (shared keys are checked in checks.py)."""
        return iter(())


class ExactlyOne(KindCodegen):
    name = "exactlyOne"
    reads_sentences = True
    reads_descriptions = True

    def within(
        self, path: str, rule: Mapping[str, Any], source: dict[str, str]
    ) -> list[dict[str, Any]]:
        """Exactly one of two fields of ``path``, when ``path`` is given: a requires of
        either and a forbids of the second with the first (this kind has no condition)."""
        fields = [f"{path}.{op}" for op in rule["params"] if isinstance(op, str)]
        if len(fields) != 2 or len(rule["params"]) != 2:
            return []
        first, second = fields
        return [
            {"id": rule_id([path], "require", fields), "kind": Requires.name,
             "when": {"anyOf": [path]}, "then": {"anyOf": fields},
             "message": f"{path} needs {first} or {second}.", "source": source},
            {"id": rule_id([first], "forbid", [second]), "kind": Forbids.name,
             "when": {"anyOf": [first]}, "forbid": [second],
             "message": f"{second} cannot be used with {first}.", "source": source},
        ]  # fmt: skip

    def schema(self, s: SchemaParts, args: Args, scope: str) -> Schema:
        return {"oneOf": [s.any_provided(op, scope) for op in args["params"]]}

    def from_sentence(self, sentence: Sentence) -> dict[str, Any]:
        return _one_of(self.name, sentence, "exactly one")


def _one_of(kind: str, sentence: Sentence, how: str) -> dict[str, Any]:
    """An exactly-one or at-least-one rule over the sentence's operands (groups kept)."""
    ops = sentence.operands
    flat = [split_paths(o if isinstance(o, str) else "/".join(o)) for o in ops]
    names = [o if isinstance(o, str) else " and ".join(o) for o in ops]
    parts: list[Sequence[str] | str] = [flat[0]]
    for op in flat[1:]:
        parts += ["or", op]
    return {
        "id": rule_id(*parts),
        "kind": kind,
        "params": ops,
        "message": f"Give {how} of {words(names, 'or')}.",
        "source": sentence.source,
    }


class AtLeastOne(KindCodegen):
    name = "atLeastOne"
    reads_sentences = True

    def schema(self, s: SchemaParts, args: Args, scope: str) -> Schema:
        return {"anyOf": [s.any_provided(op, scope) for op in args["params"]]}

    def from_sentence(self, sentence: Sentence) -> dict[str, Any]:
        return _one_of(self.name, sentence, "at least one")


class Requires(KindCodegen):
    name = "requires"
    reads_sentences = True

    def schema(self, s: SchemaParts, args: Args, scope: str) -> Schema:
        then = s.clause(args["then"], scope)
        return {"if": s.clause(args["when"], scope), "then": then}

    def from_sentence(self, sentence: Sentence) -> dict[str, Any]:
        cond, cons = sentence.condition, sentence.consequence
        clause = "anyOf" if sentence.any_consequence else "allOf"
        absent = "without" if sentence.negated else ""
        return {
            "id": rule_id(*([absent] if absent else []), cond, "require", cons),
            "kind": self.name,
            "when": sentence.when(),
            "then": {clause: cons},
            "message": f"{'Without ' if absent else ''}{words(cond, 'or')} "
            f"{'the task needs' if absent else 'needs'} "
            f"{words(cons, 'or' if clause == 'anyOf' else 'and')}.",
            "source": sentence.source,
        }


class Forbids(KindCodegen):
    name = "forbids"
    reads_sentences = True

    def schema(self, s: SchemaParts, args: Args, scope: str) -> Schema:
        return {
            "if": s.clause(args["when"], scope),
            "then": {"not": s.any_provided(args["forbid"], scope)},
        }

    def from_sentence(self, sentence: Sentence) -> dict[str, Any]:
        cond, cons = sentence.condition, sentence.consequence
        return {
            "id": rule_id(cond, "forbid", cons),
            "kind": self.name,
            "when": sentence.when(),
            "forbid": cons,
            "message": f"{words(cons, 'and')} cannot be used with {words(cond, 'or')}.",
            "source": sentence.source,
        }


class LimitItems(KindCodegen):
    name = "limitItems"
    reads_sentences = True

    def schema(self, s: SchemaParts, args: Args, scope: str) -> Schema:
        limit = s.nest(s.relative(args["target"], scope), {"maxItems": args["maxItems"]})
        return {"if": s.clause(args["when"], scope), "then": limit}

    def from_sentence(self, sentence: Sentence) -> dict[str, Any]:
        cond, target, limit = sentence.condition, sentence.consequence[-1], sentence.number
        return {
            "id": rule_id([target], "limit-with", cond),
            "kind": self.name,
            "when": sentence.when(),
            "target": target,
            "maxItems": limit,
            "message": f"With {words(cond, 'or')}, {target} takes at most {limit} items.",
            "source": sentence.source,
        }


class RequireItems(KindCodegen):
    name = "requireItems"
    reads_sentences = True

    def schema(self, s: SchemaParts, args: Args, scope: str) -> Schema:
        least = s.nest(
            s.relative(args["target"], scope), {"minItems": args["minItems"]}, require=True
        )
        return {"if": s.clause(args["when"], scope), "then": least}

    def from_sentence(self, sentence: Sentence) -> dict[str, Any]:
        cond, target, least = sentence.condition, sentence.consequence[-1], sentence.number
        items = "item" if least == 1 else "items"
        return {
            "id": rule_id([target], "needs-items-with", cond),
            "kind": self.name,
            "when": sentence.when(),
            "target": target,
            "minItems": least,
            "message": f"With {words(cond, 'or')}, {target} needs at least {least} {items}.",
            "source": sentence.source,
        }


class Together(KindCodegen):
    name = "together"
    reads_sentences = True
    meta: ClassVar[Schema] = {"properties": {"params": {"items": {"$ref": "#/$defs/path"}}}}

    def schema(self, s: SchemaParts, args: Args, scope: str) -> Schema:
        names = [s.relative(p[0], scope) for p in args["params"]]
        if all("." not in n for n in names):
            return {"dependentRequired": {n: [m for m in names if m != n] for n in names}}
        every = {"allOf": [s.provided(n) for n in names]}
        return {"anyOf": [every, {"not": s.any_provided(names, "")}]}

    def from_sentence(self, sentence: Sentence) -> dict[str, Any]:
        both = sentence.condition + sentence.consequence
        return {
            "id": rule_id(both, "together"),
            "kind": self.name,
            "params": both,
            "message": f"{words(both, 'and')} must be given together.",
            "source": sentence.source,
        }


class DimensionsKind(KindCodegen):
    """Read from the page's dimension table (docs/facts.py); the conditional form ("When
    `a` is provided, dimensions are limited to ...", sizes written with U+00D7) from a
    sentence."""

    name = "dimensions"
    reads_sentences = True
    meta: ClassVar[Schema] = {"dependentRequired": {"when": ["sizes"], "sizes": ["when"]}}

    def schema(self, s: SchemaParts, args: Args, scope: str) -> Schema:
        assert s.dimensions is not None  # check() requires the table
        w, h = s.dimensions.params
        sizes = args.get("sizes") or [(r.width, r.height) for r in s.dimensions.rows]
        pairs = [
            {"properties": {w: {"const": sw}, h: {"const": sh}}, "required": [w, h]}
            for sw, sh in sizes
        ]
        given = s.any_provided((w, h), scope)
        if "when" in args:
            given = {"allOf": [given, s.clause(args["when"], scope)]}
        return {"if": given, "then": {"anyOf": pairs}}

    def from_sentence(self, sentence: Sentence) -> dict[str, Any]:
        sizes = [size_of(v) for v in sentence.values]
        cond = sentence.condition
        return {
            "id": rule_id("dimensions-with", cond),
            "kind": self.name,
            "when": sentence.when(),
            "sizes": [list(size) for size in sizes if size is not None],
            "message": f"With {words(cond, 'or')}, width x height must be one of the sizes "
            "the page lists.",
            "source": sentence.source,
        }

    def check(
        self, rule: Rule, model: ModelSpec, params: Mapping[str, Parameter]
    ) -> Iterator[Issue]:
        if model.dimensions is None:
            yield "kind", f"rule {rule.id!r} needs the model's dimensions table"
            return
        rows = {(r.width, r.height) for r in model.dimensions.rows}
        for w, h in rule.args.get("sizes", ()):
            if (w, h) not in rows:
                yield "sizes", f"rule {rule.id!r}: {w}x{h} is not a row of the dimension table"


class FramePositions(KindCodegen):
    name = "framePositions"

    def schema(self, s: SchemaParts, args: Args, scope: str) -> Schema:
        field = args["field"]
        target = s.relative(args["target"], scope)

        def at(position: str) -> Schema:
            values = list(args["positions"][position])
            return {"required": [field], "properties": {field: {"enum": values}}}

        # Explicit positions may not repeat; items without the field fill free positions.
        checks: list[Schema] = [
            s.nest(target, {"contains": at(pos), "minContains": 0, "maxContains": 1})
            for pos in args["positions"]
        ]
        return {"allOf": checks}

    def check(
        self, rule: Rule, model: ModelSpec, params: Mapping[str, Parameter]
    ) -> Iterator[Issue]:
        names = set(rule.args["positions"])
        for count, positions in rule.args["automatic"].items():
            unknown = [p for p in positions if p not in names]
            if unknown:
                yield "automatic", f"rule {rule.id!r}: unknown position {unknown[0]!r}"
            if len(positions) != int(count):
                yield "automatic", f"rule {rule.id!r}: {count} images need {count} positions"


class PromptReferences(KindCodegen):
    name = "promptReferences"
    expressible = False  # "every number in this text is at most the array's length"


class ValueWhen(KindCodegen):
    name = "valueWhen"
    reads_sentences = True
    reads_constraint_rows = True

    def from_row(self, row: ConstraintRow) -> dict[str, Any]:
        label = re.sub(r"[^a-z0-9]+", "-", row.label.lower()).strip("-")
        return {
            "id": f"{slug(row.param)}-with-{label}",
            "kind": self.name,
            "when": row.when,
            "param": row.param,
            "allowed": row.values,
            "message": f"With {row.label}, {row.param} must be {' or '.join(row.written)}.",
            "source": row.source,
        }

    def typed(self, rule: dict[str, Any], types: Mapping[str, Sequence[str]]) -> None:
        wanted = types.get(rule["param"])
        if wanted is None or "allowed" not in rule:
            return
        written = [str(v).lower() if isinstance(v, bool) else str(v) for v in rule["allowed"]]
        rule["allowed"] = [typed_value(v, wanted) for v in written]

    meta: ClassVar[Schema] = {"oneOf": [{"required": ["allowed"]}, {"required": ["maximum"]}]}

    def schema(self, s: SchemaParts, args: Args, scope: str) -> Schema:
        leaf = (
            {"enum": list(args["allowed"])} if "allowed" in args else {"maximum": args["maximum"]}
        )
        allowed = s.nest(s.relative(args["param"], scope), leaf)
        return {"if": s.clause(args["when"], scope), "then": allowed}

    def from_sentence(self, sentence: Sentence) -> dict[str, Any]:
        cond, param = sentence.condition, sentence.consequence[-1]
        values = [typed_value(v) for v in sentence.values]
        if "at most" in sentence.phrasing:
            limit: dict[str, Any] = {"maximum": values[0]}
            said = f"at most {sentence.values[0]}"
        else:
            limit = {"allowed": values}
            said = " or ".join(sentence.values)
        return {
            "id": rule_id([param], "with", cond),
            "kind": self.name,
            "when": sentence.when(),
            "param": param,
            **limit,
            "message": f"With {words(cond, 'or')}, {param} must be {said}.",
            "source": sentence.source,
        }


class DefaultWhen(KindCodegen):
    name = "defaultWhen"
    expressible = False  # not a check: a conditional default


CODEGEN_KINDS: dict[str, KindCodegen] = {
    kind.name: kind
    for kind in (
        ExactlyOne(),
        AtLeastOne(),
        Requires(),
        Forbids(),
        LimitItems(),
        RequireItems(),
        Together(),
        DimensionsKind(),
        FramePositions(),
        PromptReferences(),
        ValueWhen(),
        DefaultWhen(),
    )
}


def rule_meta_schema() -> list[Schema]:
    """The meta-schema's per-kind clauses: each kind takes its own keys and no others."""
    clauses: list[Schema] = []
    for name, kind in RUNTIME_KINDS.items():
        then: Schema = {"propertyNames": {"enum": [*COMMON_KEYS, *kind.keys, *kind.optional]}}
        if kind.keys:
            then = {"required": list(kind.keys), **then}
        then.update(CODEGEN_KINDS[name].meta)
        clauses.append({"if": {"properties": {"kind": {"const": name}}}, "then": then})
    return clauses
