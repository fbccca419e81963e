"""What each rule kind means to the code generator, keyed by the runtime's ``KINDS``.

``codegen/runtime/rule_kinds.py`` is the registry: one class per kind with its spec keys,
its check, its repair and its breaker; it ships in the generated package. This module
adds, per kind, what only codegen needs, in one class each: extra meta-schema for its
rules, its JSON Schema encoding (or ``expressible = False``), how a docs sentence
of one of its phrasings (or a fact or table of the page) becomes a rule, the spec checks
only it has, how the differ and the merge treat a moved bound, and its constraints in the
consistency analysis. A class registers itself in ``CODEGEN_KINDS`` by naming a kind of
the runtime's registry; a test proves both registries name the same kinds. The spec's
keys become a rule's ``args`` here (``rule_args``), in the plain form the rule tables
carry and the runtime compiles.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ruamel.yaml import YAML

from ..runtime.rule_kinds import KINDS as RUNTIME_KINDS
from ..runtime.rule_kinds import UnknownRuleKind
from .tristate import Assignment, Check, all_of, any_of, implies

if TYPE_CHECKING:
    from .model import Dimensions, ModelSpec, Parameter, Rule

Schema = dict[str, Any]
Args = Mapping[str, Any]

COMMON_KEYS = ("id", "kind", "message", "source", "notes", "enforced")


@cache
def key_order() -> tuple[str, ...]:
    """Every spec key a rule kind may take, in the order rule tables list them: the rule's
    properties in ``meta_schema.yaml`` (where each has its type) after ``COMMON_KEYS``."""
    text = resources.files(__package__).joinpath("meta_schema.yaml").read_text(encoding="utf-8")
    properties = YAML(typ="safe").load(text)["$defs"]["rule"]["properties"]
    return tuple(key for key in properties if key not in COMMON_KEYS)


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
    """A spec rule's kind-specific keys (plain YAML data) in table form, in ``key_order()``:
    operands as lists, clauses as ``{mode, conditions}``, automatic counts as strings."""
    args: dict[str, Any] = {}
    for key in key_order():
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


class Encoding(Protocol):
    """The consistency analysis' pieces a kind's constraints are made of
    (``consistency.py``): variables are parameter paths (provided or not; an item count
    for an array some kind's ``item_bounds`` names) and conditions on values."""

    @property
    def params(self) -> Mapping[str, Parameter]: ...  # the model's parameters by path
    @property
    def dims(self) -> tuple[str, ...]: ...  # the dimension table's two parameters, or none
    @property
    def rows(self) -> set[tuple[int, int]]: ...  # its width x height pairs

    def present(self, path: str) -> str: ...
    def given(self, a: Assignment, variable: str) -> bool | None: ...
    def clause(self, data: Mapping[str, Any]) -> tuple[list[str], Check]: ...
    def add(self, rule: str | None, variables: Sequence[str], check: Check) -> None: ...


class MissingContribution(NotImplementedError):
    """A kind's codegen half says nothing of its rules to the consistency analysis."""


@dataclass(frozen=True)
class UpperBound:
    """A key of a kind holding an upper bound a page may move while the rule stays the
    same rule (matched by its other keys): the merge updates it in place, the differ
    classifies the move as a bound (``label``, then "raised 3 → 4")."""

    key: str
    label: str


CODEGEN_KINDS: dict[str, KindCodegen] = {}  # kind name -> codegen's half, in definition order


class KindCodegen:
    """Codegen's half of one rule kind; a subclass that sets ``name`` (a kind of the
    runtime's ``KINDS``) is registered in ``CODEGEN_KINDS``. ``expressible = False`` says
    JSON Schema cannot state the rule; the schema then names it in ``$comment`` instead."""

    name: ClassVar[str]
    expressible: ClassVar[bool] = True
    meta: ClassVar[Schema] = {}  # more meta-schema for a rule of this kind
    reads_sentences: ClassVar[bool] = False  # whether docs phrasings of it become rules
    # whether a page's constraint table ("Parameter constraints vary based on the
    # configuration:") states rules of it, one per row and parameter (``from_row``)
    reads_constraint_rows: ClassVar[bool] = False
    # whether a sentence of it in an object parameter's description holds inside that
    # object when it is given (``inside_object``)
    reads_descriptions: ClassVar[bool] = False
    fact: ClassVar[str | None] = None  # a parameter fact of a page stating a rule of it
    table: ClassVar[str | None] = None  # the page table stating the model's one rule of it
    # ("dimension table"); the merge matches a page's rule of it to the spec's by kind
    upper_bound: ClassVar[UpperBound | None] = None
    # False: ``constrain`` adds a constraint only for a rule that can make a parameter
    # impossible (a value rule whose parameter keeps an allowed value adds none)
    contributes_always: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if name is None:
            return  # a shared base of several kinds, not a kind
        if name not in RUNTIME_KINDS:
            raise TypeError(
                f"{cls.__name__}: no rule kind {name!r} in codegen/runtime/rule_kinds.py"
            )
        if name in CODEGEN_KINDS:
            raise TypeError(f"rule kind {name!r} has two codegen halves")
        CODEGEN_KINDS[name] = cls()

    def schema(self, s: SchemaParts, args: Args, scope: str) -> Schema:
        raise NotImplementedError

    def from_sentence(self, sentence: Sentence) -> dict[str, Any]:
        raise NotImplementedError

    def from_row(self, row: ConstraintRow) -> dict[str, Any]:
        """The rule one constraint-table row states for one parameter."""
        raise NotImplementedError

    def inside_object(
        self, path: str, rule: Mapping[str, Any], source: dict[str, str]
    ) -> list[dict[str, Any]]:
        """The rules a description sentence's ``rule`` (paths relative to the object
        ``path``) states inside that object when it is given; [] when it cannot."""
        raise NotImplementedError

    def typed(self, rule: dict[str, Any], types: Mapping[str, Sequence[str]]) -> None:
        """Give the rule's values (as a sentence wrote them) the types of the parameters
        they are values of (``types``: path -> JSON types)."""

    def both_sides(self, args: Args) -> list[str]:
        """Parameters a rule (table form) names both as its condition and as what it
        refuses: such a rule, enforced, refuses every task that gives them."""
        return []

    def from_fact(self, path: str, other: str, source: dict[str, str]) -> dict[str, Any]:
        """The rule a ``fact`` line of parameter ``path`` naming ``other`` states."""
        raise NotImplementedError

    def from_table(self, source: dict[str, str]) -> dict[str, Any]:
        """The rule the page's ``table`` states."""
        raise NotImplementedError

    def same(self, a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
        """Whether two rules of this kind (spec form) state the same thing."""
        return rule_args(a) == rule_args(b)

    def conditional(self, rule: Mapping[str, Any]) -> Iterator[str]:
        """Parameters a rule of this kind (spec form) makes conditional: a page calling one
        of them required contradicts it."""
        return iter(())

    def check(
        self, rule: Rule, model: ModelSpec, params: Mapping[str, Parameter]
    ) -> Iterator[Issue]:
        """Spec checks only this kind has (shared keys are checked in checks.py)."""
        return iter(())

    def item_bounds(self, args: Args) -> Iterator[tuple[str, int]]:
        """Arrays whose item count a rule of this kind bounds, with the bound: the
        consistency analysis counts their items up to one past the largest."""
        return iter(())

    def constrain(self, rule: Rule, p: Encoding) -> None:
        """Add the rule's constraints to the consistency analysis. Every kind says what
        its rules contribute (``constrain = values_only`` when nothing)."""
        raise MissingContribution(
            f"rule {rule.id!r}: kind {rule.kind!r} contributes nothing to the consistency "
            "analysis; give its class in codegen/spec/kinds.py a constrain method "
            "(constrain = values_only if it only constrains values)"
        )


def values_only(kind: KindCodegen, rule: Rule, p: Encoding) -> None:
    """The consistency contribution of a kind that only constrains values (sizes,
    positions, references, allowed or default values): none, since such a rule never makes
    a parameter impossible by itself."""


def codegen_kind(name: str) -> KindCodegen:
    """Codegen's half of a kind; ``UnknownRuleKind`` when there is none."""
    found = CODEGEN_KINDS.get(name)
    if found is None:
        raise UnknownRuleKind(
            f"rule kind {name!r} has no codegen half in codegen/spec/kinds.py "
            f"(it has {', '.join(CODEGEN_KINDS)})"
        )
    return found


class _Operands(KindCodegen):
    """Exactly one (``exact``) or at least one of the operands is provided."""

    reads_sentences = True
    exact: ClassVar[bool]
    how: ClassVar[str]  # the message's words

    def schema(self, s: SchemaParts, args: Args, scope: str) -> Schema:
        return {
            "oneOf" if self.exact else "anyOf": [s.any_provided(op, scope) for op in args["params"]]
        }

    def from_sentence(self, sentence: Sentence) -> dict[str, Any]:
        """A rule over the sentence's operands (groups kept)."""
        ops = sentence.operands
        flat = [split_paths(o if isinstance(o, str) else "/".join(o)) for o in ops]
        names = [o if isinstance(o, str) else " and ".join(o) for o in ops]
        parts: list[Sequence[str] | str] = [flat[0]]
        for op in flat[1:]:
            parts += ["or", op]
        return {
            "id": rule_id(*parts),
            "kind": self.name,
            "params": ops,
            "message": f"Give {self.how} of {words(names, 'or')}.",
            "source": sentence.source,
        }

    def conditional(self, rule: Mapping[str, Any]) -> Iterator[str]:
        for op in rule["params"]:
            yield from [op] if isinstance(op, str) else op

    def constrain(self, rule: Rule, p: Encoding) -> None:
        ops = [[p.present(path) for path in op] for op in rule.args["params"]]
        exact = self.exact

        def one_of(a: Assignment) -> bool | None:
            states = [any_of([p.given(a, v) for v in op]) for op in ops]
            yes = states.count(True)
            if exact and yes > 1:
                return False
            if None in states:
                return None if yes == 0 or exact else True
            return yes == 1 if exact else yes >= 1

        p.add(rule.id, [v for op in ops for v in op], one_of)


class ExactlyOne(_Operands):
    name = "exactlyOne"
    exact = True
    how = "exactly one"
    reads_descriptions = True

    def inside_object(
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


class AtLeastOne(_Operands):
    name = "atLeastOne"
    exact = False
    how = "at least one"


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

    def constrain(self, rule: Rule, p: Encoding) -> None:
        when_vars, when = p.clause(rule.args["when"])
        then_vars, then = p.clause(rule.args["then"])
        p.add(rule.id, [*when_vars, *then_vars], lambda a: implies(when(a), then(a)))


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

    def both_sides(self, args: Args) -> list[str]:
        given = [c["path"] for c in args["when"]["conditions"] if not c.get("not")]
        return [path for path in args["forbid"] if path in given]

    def constrain(self, rule: Rule, p: Encoding) -> None:
        when_vars, when = p.clause(rule.args["when"])
        banned = [p.present(path) for path in rule.args["forbid"]]

        def forbids(a: Assignment) -> bool | None:
            none = all_of([None if b not in a else not p.given(a, b) for b in banned])
            return implies(when(a), none)

        p.add(rule.id, [*when_vars, *banned], forbids)


class _ItemCount(KindCodegen):
    """When the ``when`` clause holds, the target array's item count is within ``bound``
    (absent counts as none)."""

    reads_sentences = True
    bound: ClassVar[str]  # the key of the bound

    def within(self, count: int, bound: int) -> bool:
        raise NotImplementedError

    def item_bounds(self, args: Args) -> Iterator[tuple[str, int]]:
        yield args["target"], args[self.bound]

    def constrain(self, rule: Rule, p: Encoding) -> None:
        when_vars, when = p.clause(rule.args["when"])
        target = p.present(rule.args["target"])
        bound = rule.args[self.bound]

        def items(a: Assignment) -> bool | None:
            count = a.get(target)
            return implies(when(a), None if count is None else self.within(count, bound))

        p.add(rule.id, [*when_vars, target], items)


class LimitItems(_ItemCount):
    name = "limitItems"
    bound = "maxItems"
    upper_bound = UpperBound("maxItems", "item limit")

    def within(self, count: int, bound: int) -> bool:
        return count <= bound

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


class RequireItems(_ItemCount):
    name = "requireItems"
    bound = "minItems"

    def within(self, count: int, bound: int) -> bool:
        return count >= bound

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
    fact = "Paired with"  # a parameter's "Paired with: `other`" line
    meta: ClassVar[Schema] = {"properties": {"params": {"items": {"$ref": "#/$defs/path"}}}}

    def schema(self, s: SchemaParts, args: Args, scope: str) -> Schema:
        names = [s.relative(p[0], scope) for p in args["params"]]
        if all("." not in n for n in names):
            return {"dependentRequired": {n: [m for m in names if m != n] for n in names}}
        every = {"allOf": [s.provided(n) for n in names]}
        return {"anyOf": [every, {"not": s.any_provided(names, "")}]}

    def from_sentence(self, sentence: Sentence) -> dict[str, Any]:
        return self._rule(sentence.condition + sentence.consequence, sentence.source)

    def from_fact(self, path: str, other: str, source: dict[str, str]) -> dict[str, Any]:
        return self._rule([path, other], source)

    def _rule(self, both: list[str], source: dict[str, str]) -> dict[str, Any]:
        return {
            "id": rule_id(both, "together"),
            "kind": self.name,
            "params": both,
            "message": f"{words(both, 'and')} must be given together.",
            "source": source,
        }

    def same(self, a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
        return frozenset(a["params"]) == frozenset(b["params"])

    def constrain(self, rule: Rule, p: Encoding) -> None:
        members = [p.present(op[0]) for op in rule.args["params"]]

        def together(a: Assignment) -> bool | None:
            states = [p.given(a, m) for m in members]
            if True in states and False in states:
                return False
            return None if None in states else True

        p.add(rule.id, members, together)


class DimensionsKind(KindCodegen):
    """Read from the page's dimension table (docs/facts.py); the conditional form ("When
    `a` is provided, dimensions are limited to ...", sizes written with U+00D7) from a
    sentence."""

    name = "dimensions"
    contributes_always = False
    reads_sentences = True
    meta: ClassVar[Schema] = {"dependentRequired": {"when": ["sizes"], "sizes": ["when"]}}
    table = "dimension table"

    def from_table(self, source: dict[str, str]) -> dict[str, Any]:
        return {
            "id": "supported-dimensions",
            "kind": self.name,
            "message": "width x height must be one of the supported dimension combinations.",
            "source": source,
        }

    def constrain(self, rule: Rule, p: Encoding) -> None:
        """The table alone never makes a parameter impossible (a task without width and
        height is never refused by it). Conditional sizes none of which is a row of the
        table leave width and height nothing while the condition holds (lint refuses
        such sizes too)."""
        if "sizes" not in rule.args or any(tuple(z) in p.rows for z in rule.args["sizes"]):
            return
        when_vars, when = p.clause(rule.args["when"])
        dims = [p.present(d) for d in p.dims]

        def none(a: Assignment) -> bool | None:
            return all_of([None if d not in a else not p.given(a, d) for d in dims])

        p.add(rule.id, [*when_vars, *dims], lambda a: implies(when(a), none(a)))

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
    constrain = values_only

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
    constrain = values_only


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _value_fits(args: Args, v: Any) -> bool:
    """Whether a value meets a valueWhen rule (type-exact; a number equals a number)."""
    if "allowed" in args:
        return any(
            (_number(v) and _number(a) and v == a) or (type(v) is type(a) and v == a)
            for a in args["allowed"]
        )
    return not _number(v) or v <= args["maximum"]


def _within_bounds(param: Parameter, v: Any) -> bool:
    if not _number(v):
        return True
    low, high = param.minimum, param.maximum
    return (low is None or v >= low) and (high is None or v <= high)


class ValueWhen(KindCodegen):
    name = "valueWhen"
    contributes_always = False
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

    def constrain(self, rule: Rule, p: Encoding) -> None:
        """While the condition holds the parameter is given only if a value it may take
        is allowed, and absent only if its default (if any) is: ``when -> (param ?
        can_give : absent_ok)``; nothing when both hold (no parameter made impossible)."""
        args = rule.args
        param = p.params.get(args["param"])
        if param is None:
            return
        values = [e.value for e in param.enum] if param.enum else None
        if param.const is not None:
            values = [param.const]
        if values is not None:
            can_give = any(_value_fits(args, v) for v in values)
        elif "maximum" in args:
            can_give = param.minimum is None or param.minimum <= args["maximum"]
        else:  # allowed values, against the parameter's bounds
            can_give = any(_within_bounds(param, v) for v in args["allowed"])
        absent_ok = param.default is None or _value_fits(args, param.default)
        if can_give and absent_ok:
            return
        when_vars, when = p.clause(args["when"])
        target = p.present(args["param"])

        def value(a: Assignment) -> bool | None:
            given = p.given(a, target)
            return None if given is None else (can_give if given else absent_ok)

        p.add(rule.id, [*when_vars, target], lambda a: implies(when(a), value(a)))

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
    constrain = values_only


def rule_meta_schema() -> list[Schema]:
    """The meta-schema's per-kind clauses: each kind takes its own keys and no others."""
    clauses: list[Schema] = []
    for name, kind in RUNTIME_KINDS.items():
        then: Schema = {"propertyNames": {"enum": [*COMMON_KEYS, *kind.keys, *kind.optional]}}
        if kind.keys:
            then = {"required": list(kind.keys), **then}
        then.update(codegen_kind(name).meta)
        clauses.append({"if": {"properties": {"kind": {"const": name}}}, "then": then})
    return clauses
