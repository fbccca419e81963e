# Source of runware_contract/rule_kinds.py (copied by `python -m codegen generate`).
"""Every rule kind of the spec vocabulary, one class each, registered in ``KINDS``.

A kind holds all the generated package needs of it: the spec keys it takes, the check
it compiles a rule table entry into (which reports each way it breaks under an
*outcome* name; platform.yaml's ``ruleKinds`` maps each outcome to an error code), how
the strategies repair a task that breaks it and how they break it on purpose. Repair
and breakers read conditions with the same ``Clause`` the check uses, so all three
agree on when a rule applies (type-exact: ``True`` never equals ``1``).

A class registers itself by naming its kind (``name``): defining it is all it takes, there
is no list to keep. The code generator reads ``KINDS`` too: the meta-schema's list of
kinds and each kind's keys come from here (``codegen/spec/kinds.py`` adds what only
codegen needs: the JSON Schema encoding, the docs phrasing reader, spec checks, the
consistency constraints). ``Contract`` refuses a rule of a kind not in ``KINDS``, so a
package whose tables name an unknown kind fails on import.

Repair and breakers run inside Hypothesis strategies; they reach Hypothesis only
through the ``Repairer`` they are given, so importing the runtime never needs it.
"""

from __future__ import annotations

import copy
import importlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar, cast

from .values import (
    MISSING,
    Violation,
    Violations,
    fmt,
    get,
    json_type,
    key,
    presence,
    provided,
    put,
    reader,
)

T = TypeVar("T")
_UNSET = object()  # Bound.compiled not built yet

__all__ = [
    "KINDS",
    "Bound",
    "Clause",
    "Repairer",
    "RuleCheck",
    "RuleKind",
    "UnknownRuleKind",
    "kind_of",
    "position_aliases",
    "resolve_positions",
]

Row = Mapping[str, Any]  # one entry of a model's RULES table
RuleCheck = Callable[[dict[str, Any], str, Violations], None]
Draw = Callable[[Any], Any]  # a Hypothesis composite's draw function
Locks = set[str]


class UnknownRuleKind(ValueError):
    """A rule table names a kind this runtime does not implement."""


# ── conditions: the one reading of ``when`` / ``then`` ──────────────────────


def relative(path: str, scope: str) -> str:
    """``path`` relative to the object array ``scope`` it holds per item of."""
    return path[len(scope) + 1 :] if scope else path


@dataclass(frozen=True, slots=True)
class _Cond:
    parts: tuple[str, ...]
    equals: Any = MISSING
    negated: bool = False  # ``not: true``: the condition is that the path is not (so) given

    def test(self) -> Callable[[dict[str, Any]], bool]:
        """Whether the condition holds in an object, compiled (the ``equals`` key once)."""
        positive = self._positive()
        if not self.negated:
            return positive
        return lambda obj: not positive(obj)

    def _positive(self) -> Callable[[dict[str, Any]], bool]:
        given = presence(self.parts)
        if self.equals is MISSING:
            return given
        read, want = reader(self.parts), key(self.equals)

        def equal(obj: dict[str, Any]) -> bool:
            value = read(obj)
            return provided(value) and key(value) == want

        return equal


@dataclass(frozen=True, slots=True)
class Clause:
    """A compiled ``when``/``then``: ``anyOf`` or ``allOf`` of provided (or equal) paths.
    ``holds(obj)`` tells whether it holds in an object."""

    mode: str
    conds: tuple[_Cond, ...]
    holds: Callable[[dict[str, Any]], bool] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        tests = tuple(c.test() for c in self.conds)
        want = self.mode == "anyOf"
        if len(tests) == 1:
            holds = tests[0]
        else:

            def holds(obj: dict[str, Any]) -> bool:
                # a loop rather than any()/all() over a generator: this runs for every
                # rule of every task validated
                for test in tests:
                    if test(obj) is want:
                        return want
                return not want

        object.__setattr__(self, "holds", holds)

    def needs(self) -> frozenset[str] | None:
        """The names (first path parts) of which the object must hold one for the clause to
        hold: a condition that a path is given (or equal) fails while it is absent. None
        when a negated condition (``not``) holds on absence."""
        if not self.conds or any(c.negated for c in self.conds):
            return None
        return frozenset(c.parts[0] for c in self.conds)

    @classmethod
    def of(cls, data: Row, scope: str = "") -> Clause:
        conds = tuple(
            _Cond(
                tuple(relative(c["path"], scope).split(".")),
                c.get("equals", MISSING),
                bool(c.get("not", False)),
            )
            for c in data["conditions"]
        )
        return cls(data["mode"], conds)


# ── what a kind is given ────────────────────────────────────────────────────


class Compiling(Protocol):
    """What a kind reads from the ``Contract`` it compiles into."""

    @property
    def docs(self) -> str: ...
    @property
    def rule_codes(self) -> Mapping[str, Mapping[str, str]]: ...
    @property
    def dimensions(self) -> Mapping[str, Any]: ...
    @property
    def defaults(self) -> Mapping[str, Any]: ...


class Bound:
    """One rule table entry bound to its contract and scope: paths relative to the scope,
    and violations with the kind's codes and the rule's documentation link."""

    def __init__(self, contract: Compiling, rule: Row) -> None:
        self.contract = contract
        self.rule = rule
        self.scope: str = rule.get("scope", "")
        self.codes = contract.rule_codes[rule["kind"]]
        anchor = rule.get("anchor")
        self.documentation = f"{contract.docs}#{anchor}" if anchor else contract.docs
        self._compiled: object = _UNSET

    def rel(self, path: str) -> str:
        return relative(path, self.scope)

    def parts(self, path: str) -> tuple[str, ...]:
        return tuple(self.rel(path).split("."))

    def at(self, path: str) -> tuple[str, tuple[str, ...]]:
        return self.rel(path), self.parts(path)

    def clause(self, data: Row) -> Clause:
        return Clause.of(data, self.scope)

    def compiled(self, make: Callable[[], T]) -> T:
        """What ``make`` builds from this rule, built on the first call and kept (a kind's
        per-call tables, such as a clause read at every ``with_defaults``)."""
        if self._compiled is _UNSET:
            self._compiled = make()
        return cast(T, self._compiled)

    def violation(self, outcome: str, where: str, detail: str = "") -> Violation:
        message = self.rule["message"] + (f" ({detail})" if detail else "")
        return Violation(self.codes[outcome], message, where, self.rule["id"], self.documentation)


class Repairer(Protocol):
    """What repair and breakers use of the strategies' ``Factory`` (one model's drawers).

    Paths are spec paths; ``scope`` is the rule's object array ("" for the task) and
    ``prefix`` the wire path of the object being repaired. ``locked`` holds wire paths
    a breaker fixed (``+path``: must stay present); touching one raises the strategies'
    conflict, which rejects the example."""

    params: dict[str, dict[str, Any]]
    dims: list[str]
    sizes: set[tuple[Any, ...]]

    def pick(self, draw: Draw, options: Sequence[Any]) -> Any: ...
    def coin(self, draw: Draw) -> bool: ...
    def rel(self, path: str, scope: str) -> list[str]: ...
    def present(self, obj: dict[str, Any], path: str, scope: str) -> bool: ...
    def add(
        self, draw: Draw, obj: dict[str, Any], path: str, scope: str, prefix: str, locked: Locks
    ) -> bool: ...
    def remove(
        self, obj: dict[str, Any], path: str, scope: str, prefix: str, locked: Locks
    ) -> bool: ...
    def guard(
        self, prefix: str, path: str, scope: str, locked: Locks, removal: bool = False
    ) -> None: ...
    def is_locked(
        self, prefix: str, path: str, scope: str, locked: Locks, removal: bool = False
    ) -> bool: ...
    def draw_row(self, draw: Draw) -> dict[str, Any]: ...
    def ensure(self, draw: Draw, task: dict[str, Any], path: str) -> str: ...
    def lock_add(self, draw: Draw, task: dict[str, Any], path: str, locked: Locks) -> None: ...
    def lock_remove(self, task: dict[str, Any], path: str, locked: Locks) -> None: ...
    def make_hold(self, draw: Draw, clause: Row, task: dict[str, Any], locked: Locks) -> None: ...
    def integer_drawer(self, low: int, high: int) -> Callable[[Draw], int]: ...
    def regex_drawer(
        self,
        pattern: str,
        *,
        accept: Callable[[str], bool] | None = None,
        or_empty: bool = False,
    ) -> Callable[[Draw], str]: ...


# ── the kinds ───────────────────────────────────────────────────────────────


KINDS: dict[str, RuleKind] = {}  # kind name -> its one instance, in definition order


class RuleKind:
    """Base of every kind. ``keys``: the spec keys a rule of the kind takes (all
    required); ``outcomes``: the ways it breaks (none: it never reports, like
    ``defaultWhen``). A subclass that sets ``name`` is registered in ``KINDS``."""

    name: ClassVar[str]
    keys: ClassVar[tuple[str, ...]]
    # Keys a form of the kind may add (codegen's meta-schema says which combinations).
    optional: ClassVar[tuple[str, ...]] = ()
    outcomes: ClassVar[tuple[str, ...]]
    # When repair keeps undoing what the rule's consequence adds, make its condition false.
    stubborn_drops_condition: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = vars(cls).get("name")  # its own, not inherited
        if name is None:
            return  # a shared base of several kinds, not a kind
        if name in KINDS:
            raise TypeError(f"rule kind {name!r} is defined twice ({type(KINDS[name]).__name__})")
        KINDS[name] = cls()

    def paths(self, rule: Row) -> Iterator[tuple[str, str]]:
        """Every parameter path the rule names, with the key it is written under."""
        for operand in rule.get("params", ()):
            for path in operand:
                yield "params", path
        for clause_key in ("when", "then"):
            for cond in rule[clause_key]["conditions"] if clause_key in rule else ():
                yield clause_key, cond["path"]
        for list_key in ("forbid", "in"):
            for path in rule.get(list_key, ()):
                yield list_key, path
        if "target" in rule:
            yield "target", rule["target"]
            if "field" in rule:
                yield "field", f"{rule['target']}.{rule['field']}"
        if "param" in rule:
            yield "param", rule["param"]

    def compile(self, b: Bound) -> RuleCheck | None:
        """The check of one rule (None: the kind never reports)."""
        raise NotImplementedError

    def needs(self, b: Bound) -> frozenset[str] | None:
        """Names (first path parts, in the rule's object) of which the object must hold
        one for the check to report anything: with none of them present it is not run.
        None (the default): it may report on any object."""
        return None

    def fill_default(self, b: Bound, task: Mapping[str, Any], result: dict[str, Any]) -> None:
        """``Contract.with_defaults``: add what the rule defaults (most kinds: nothing)."""

    def repair(
        self,
        f: Repairer,
        draw: Draw,
        rule: Row,
        obj: dict[str, Any],
        prefix: str,
        scope: str,
        locked: Locks,
    ) -> bool:
        """Change ``obj`` (one object of the rule's scope) so the rule holds; whether it changed."""
        raise NotImplementedError

    def breakable(self, f: Repairer, rule: Row) -> bool:
        """Whether the rule can break without breaking a field constraint too."""
        return bool(self.outcomes)

    def break_(
        self, f: Repairer, draw: Draw, rule: Row, task: dict[str, Any], locked: Locks
    ) -> None:
        """Make ``task`` break the rule, locking what that set (repair fixes the rest)."""
        raise NotImplementedError

    def seeder(self, f: Repairer, rule: Row) -> Callable[[Draw, dict[str, Any]], None] | None:
        """Something a fresh random task gets before repair, for repair to aim (or None)."""
        return None


def _holds(rule: Row, obj: dict[str, Any], scope: str) -> bool:
    return Clause.of(rule["when"], scope).holds(obj)


class ExactlyOne(RuleKind):
    name = "exactlyOne"
    keys = ("params",)
    outcomes = ("none", "many")

    def compile(self, b: Bound) -> RuleCheck:
        operands = [[(b.rel(p), presence(b.parts(p))) for p in op] for op in b.rule["params"]]
        names = " or ".join("/".join(rel for rel, _ in op) for op in operands)

        def check(obj: dict[str, Any], prefix: str, out: Violations) -> None:
            first = None  # the first given path of the first operand given
            for op in operands:
                for rel, given in op:
                    if given(obj):
                        if first is not None:  # a second operand given
                            detail = f"{names} were all given"
                            out.append(b.violation("many", prefix + rel, detail))
                            return
                        first = rel
                        break
            if first is None:
                where = prefix + operands[0][0][0]
                out.append(b.violation("none", where, f"none of {names} was given"))

        return check

    def repair(
        self,
        f: Repairer,
        draw: Draw,
        rule: Row,
        obj: dict[str, Any],
        prefix: str,
        scope: str,
        locked: Locks,
    ) -> bool:
        given = [op for op in rule["params"] if any(f.present(obj, p, scope) for p in op)]
        if not given:  # add a random operand that no lock keeps out
            free = [
                op
                for op in rule["params"]
                if not any(f.is_locked(prefix, p, scope, locked) for p in op)
            ]
            choice = f.pick(draw, free or rule["params"])
            return any([f.add(draw, obj, p, scope, prefix, locked) for p in choice])
        if len(given) > 1:  # keep a locked operand if any, else the first (no draw, no loop)
            held = [
                op
                for op in given
                if any(f.is_locked(prefix, p, scope, locked, removal=True) for p in op)
            ]
            keep = (held or given)[0]
            return any(
                [
                    f.remove(obj, p, scope, prefix, locked)
                    for op in given
                    if op is not keep
                    for p in op
                ]
            )
        return False

    def break_(
        self, f: Repairer, draw: Draw, rule: Row, task: dict[str, Any], locked: Locks
    ) -> None:
        if f.coin(draw):  # none given
            for op in rule["params"]:
                for path in op:
                    f.lock_remove(task, path, locked)
        else:  # several given
            for op in rule["params"]:
                for path in op:
                    f.lock_add(draw, task, path, locked)


class AtLeastOne(RuleKind):
    """ "Either provide `a`, or specify `b` or `c`": at least one operand is provided. Read
    as at-least-one, not exactly-one: pages that mean the operands exclude each other say
    so in a sentence of its own ("`b` cannot be used with `c`"), a ``forbids`` rule."""

    name = "atLeastOne"
    keys = ("params",)
    outcomes = ("none",)

    def compile(self, b: Bound) -> RuleCheck:
        operands = [[(b.rel(p), presence(b.parts(p))) for p in op] for op in b.rule["params"]]
        names = " or ".join("/".join(rel for rel, _ in op) for op in operands)

        def check(obj: dict[str, Any], prefix: str, out: Violations) -> None:
            if not any(given(obj) for op in operands for _, given in op):
                where = prefix + operands[0][0][0]
                out.append(b.violation("none", where, f"none of {names} was given"))

        return check

    def repair(
        self,
        f: Repairer,
        draw: Draw,
        rule: Row,
        obj: dict[str, Any],
        prefix: str,
        scope: str,
        locked: Locks,
    ) -> bool:
        if any(f.present(obj, p, scope) for op in rule["params"] for p in op):
            return False
        free = [
            op
            for op in rule["params"]
            if not any(f.is_locked(prefix, p, scope, locked) for p in op)
        ]
        choice = f.pick(draw, free or rule["params"])
        return any([f.add(draw, obj, p, scope, prefix, locked) for p in choice])

    def break_(
        self, f: Repairer, draw: Draw, rule: Row, task: dict[str, Any], locked: Locks
    ) -> None:
        for op in rule["params"]:
            for path in op:
                f.lock_remove(task, path, locked)


class Requires(RuleKind):
    name = "requires"
    keys = ("when", "then")
    outcomes = ("missing",)
    stubborn_drops_condition = True

    def compile(self, b: Bound) -> RuleCheck:
        when = b.clause(b.rule["when"])
        then = b.rule["then"]
        targets = [(b.rel(c["path"]), presence(b.parts(c["path"]))) for c in then["conditions"]]
        need_all = then["mode"] == "allOf"
        holds = when.holds

        def check(obj: dict[str, Any], prefix: str, out: Violations) -> None:
            if not holds(obj):
                return
            missing = [rel for rel, given in targets if not given(obj)]
            if need_all:
                for rel in missing:
                    out.append(b.violation("missing", prefix + rel))
            elif len(missing) == len(targets):
                out.append(b.violation("missing", prefix + missing[0]))

        return check

    def needs(self, b: Bound) -> frozenset[str] | None:
        return b.clause(b.rule["when"]).needs()  # the check reports only while it holds

    def repair(
        self,
        f: Repairer,
        draw: Draw,
        rule: Row,
        obj: dict[str, Any],
        prefix: str,
        scope: str,
        locked: Locks,
    ) -> bool:
        if not _holds(rule, obj, scope):
            return False
        targets = [c["path"] for c in rule["then"]["conditions"]]
        if rule["then"]["mode"] == "anyOf":
            if any(f.present(obj, t, scope) for t in targets):
                return False
            targets = [f.pick(draw, targets)]
        return any([f.add(draw, obj, t, scope, prefix, locked) for t in targets])

    def break_(
        self, f: Repairer, draw: Draw, rule: Row, task: dict[str, Any], locked: Locks
    ) -> None:
        f.make_hold(draw, rule["when"], task, locked)
        for cond in rule["then"]["conditions"]:
            f.lock_remove(task, cond["path"], locked)


class Forbids(RuleKind):
    name = "forbids"
    keys = ("when", "forbid")
    outcomes = ("present",)

    def compile(self, b: Bound) -> RuleCheck:
        when = b.clause(b.rule["when"])
        forbidden = [(b.rel(p), presence(b.parts(p))) for p in b.rule["forbid"]]
        holds = when.holds

        def check(obj: dict[str, Any], prefix: str, out: Violations) -> None:
            if holds(obj):
                for rel, given in forbidden:
                    if given(obj):
                        out.append(b.violation("present", prefix + rel))

        return check

    def needs(self, b: Bound) -> frozenset[str] | None:
        return b.clause(b.rule["when"]).needs()  # the check reports only while it holds

    def repair(
        self,
        f: Repairer,
        draw: Draw,
        rule: Row,
        obj: dict[str, Any],
        prefix: str,
        scope: str,
        locked: Locks,
    ) -> bool:
        if not _holds(rule, obj, scope):
            return False
        return any([f.remove(obj, p, scope, prefix, locked) for p in rule["forbid"]])

    def break_(
        self, f: Repairer, draw: Draw, rule: Row, task: dict[str, Any], locked: Locks
    ) -> None:
        f.make_hold(draw, rule["when"], task, locked)
        f.lock_add(draw, task, f.pick(draw, rule["forbid"]), locked)


class LimitItems(RuleKind):
    name = "limitItems"
    keys = ("when", "target", "maxItems")
    outcomes = ("tooMany",)

    def compile(self, b: Bound) -> RuleCheck:
        when = b.clause(b.rule["when"])
        (rel, parts), limit = b.at(b.rule["target"]), b.rule["maxItems"]

        def check(obj: dict[str, Any], prefix: str, out: Violations) -> None:
            value = get(obj, parts)
            if isinstance(value, list) and len(value) > limit and when.holds(obj):
                detail = f"got {len(value)}, at most {limit}"
                out.append(b.violation("tooMany", prefix + rel, detail))

        return check

    def needs(self, b: Bound) -> frozenset[str] | None:
        return frozenset(b.parts(b.rule["target"])[:1])  # reports only on a list there

    def repair(
        self,
        f: Repairer,
        draw: Draw,
        rule: Row,
        obj: dict[str, Any],
        prefix: str,
        scope: str,
        locked: Locks,
    ) -> bool:
        if not _holds(rule, obj, scope):
            return False
        items = get(obj, f.rel(rule["target"], scope))
        if isinstance(items, list) and len(items) > rule["maxItems"]:
            f.guard(prefix, rule["target"], scope, locked)
            del items[rule["maxItems"] :]
            return True
        return False

    def break_(
        self, f: Repairer, draw: Draw, rule: Row, task: dict[str, Any], locked: Locks
    ) -> None:
        f.make_hold(draw, rule["when"], task, locked)
        wire = f.ensure(draw, task, rule["target"])
        items = get(task, wire.split("."))
        items.extend(copy.deepcopy(items[0]) for _ in range(rule["maxItems"] + 1 - len(items)))
        locked.add(wire)


class RequireItems(RuleKind):
    """ "When `a` is provided, `b` requires at least N item(s)": absent counts as none."""

    name = "requireItems"
    keys = ("when", "target", "minItems")
    outcomes = ("missing", "tooFew")
    stubborn_drops_condition = True

    def compile(self, b: Bound) -> RuleCheck:
        when = b.clause(b.rule["when"])
        (rel, parts), least = b.at(b.rule["target"]), b.rule["minItems"]

        holds, read = when.holds, reader(parts)

        def check(obj: dict[str, Any], prefix: str, out: Violations) -> None:
            if not holds(obj):
                return
            value = read(obj)
            if not provided(value):
                out.append(b.violation("missing", prefix + rel, f"at least {least} needed"))
            elif isinstance(value, list) and len(value) < least:
                detail = f"got {len(value)}, at least {least}"
                out.append(b.violation("tooFew", prefix + rel, detail))

        return check

    def needs(self, b: Bound) -> frozenset[str] | None:
        return b.clause(b.rule["when"]).needs()  # the check reports only while it holds

    def repair(
        self,
        f: Repairer,
        draw: Draw,
        rule: Row,
        obj: dict[str, Any],
        prefix: str,
        scope: str,
        locked: Locks,
    ) -> bool:
        if not _holds(rule, obj, scope):
            return False
        changed = False
        if not f.present(obj, rule["target"], scope):
            changed = f.add(draw, obj, rule["target"], scope, prefix, locked)
        items = get(obj, f.rel(rule["target"], scope))
        if isinstance(items, list) and items and len(items) < rule["minItems"]:
            f.guard(prefix, rule["target"], scope, locked)
            items.extend(copy.deepcopy(items[0]) for _ in range(rule["minItems"] - len(items)))
            changed = True
        return changed

    def break_(
        self, f: Repairer, draw: Draw, rule: Row, task: dict[str, Any], locked: Locks
    ) -> None:
        f.make_hold(draw, rule["when"], task, locked)
        f.lock_remove(task, rule["target"], locked)


class Together(RuleKind):
    name = "together"
    keys = ("params",)
    outcomes = ("missing",)

    def compile(self, b: Bound) -> RuleCheck:
        members = [(b.rel(op[0]), presence(b.parts(op[0]))) for op in b.rule["params"]]

        def check(obj: dict[str, Any], prefix: str, out: Violations) -> None:
            missing = [rel for rel, given in members if not given(obj)]
            if 0 < len(missing) < len(members):
                for rel in missing:
                    out.append(b.violation("missing", prefix + rel))

        return check

    def needs(self, b: Bound) -> frozenset[str] | None:
        return frozenset(b.parts(op[0])[0] for op in b.rule["params"])  # none given: whole

    def repair(
        self,
        f: Repairer,
        draw: Draw,
        rule: Row,
        obj: dict[str, Any],
        prefix: str,
        scope: str,
        locked: Locks,
    ) -> bool:
        members = [op[0] for op in rule["params"]]
        if any(f.present(obj, m, scope) for m in members):
            return any([f.add(draw, obj, m, scope, prefix, locked) for m in members])
        return False

    def break_(
        self, f: Repairer, draw: Draw, rule: Row, task: dict[str, Any], locked: Locks
    ) -> None:
        members = [op[0] for op in rule["params"]]
        keep = f.pick(draw, members)
        locked.add(f.ensure(draw, task, keep))  # first: a dimension comes with its whole row
        for m in members:
            if m != keep:
                f.lock_remove(task, m, locked)


class DimensionsKind(RuleKind):
    """The width x height pair is one of the model's dimension rows; the conditional form
    (``when`` and ``sizes``: "When `a` is provided, ... dimensions are limited to ...")
    narrows it to ``sizes`` while its condition holds."""

    name = "dimensions"
    keys = ()
    optional = ("when", "sizes")
    outcomes = ("unsupported",)

    def compile(self, b: Bound) -> RuleCheck:
        dims = b.contract.dimensions
        first, second = dims["params"]
        if "sizes" in b.rule:
            pairs = {(w, h) for w, h in b.rule["sizes"]}
            holds = b.clause(b.rule["when"]).holds
        else:
            pairs = {(row["width"], row["height"]) for row in dims["rows"]}
            holds = _always
        allowed = ", ".join(f"{w}x{h}" for w, h in sorted(pairs))

        def check(obj: dict[str, Any], prefix: str, out: Violations) -> None:
            w, h = obj.get(first), obj.get(second)
            if (
                json_type(w) == "integer"
                and json_type(h) == "integer"
                and (w, h) not in pairs
                and holds(obj)
            ):
                detail = f"got {w}x{h}; supported: {allowed}"
                out.append(b.violation("unsupported", prefix + first, detail))

        return check

    def needs(self, b: Bound) -> frozenset[str] | None:
        return frozenset(b.contract.dimensions["params"])  # reports only on two integers

    def repair(
        self,
        f: Repairer,
        draw: Draw,
        rule: Row,
        obj: dict[str, Any],
        prefix: str,
        scope: str,
        locked: Locks,
    ) -> bool:
        first, second = f.dims  # (a dimensions rule compiles only with a dimension table)
        size = (obj.get(first), obj.get(second))
        if "sizes" in rule:
            if None in size or size in _sizes(rule) or not _holds(rule, obj, scope):
                return False
            f.guard(prefix, first, scope, locked)
            f.guard(prefix, second, scope, locked)
            obj[first], obj[second] = f.pick(draw, sorted(_sizes(rule)))
            return True
        if None not in size and size not in f.sizes:
            f.guard(prefix, first, scope, locked)
            f.guard(prefix, second, scope, locked)
            row = f.draw_row(draw)
            obj[first], obj[second] = row[first], row[second]
            return True
        return False

    def breakable(self, f: Repairer, rule: Row) -> bool:
        return "sizes" not in rule or bool(f.sizes - _sizes(rule))

    def break_(
        self, f: Repairer, draw: Draw, rule: Row, task: dict[str, Any], locked: Locks
    ) -> None:
        first, second = f.dims
        if "sizes" in rule:  # a row of the table the condition leaves out
            f.make_hold(draw, rule["when"], task, locked)
            task[first], task[second] = f.pick(draw, sorted(f.sizes - _sizes(rule)))
            locked.update((first, second))
            return
        widths = sorted({w for w, _ in f.sizes})
        heights = sorted({h for _, h in f.sizes})
        unsupported = [
            (w, h) for w in [*widths, 1, 4096] for h in [*heights, 1, 4096] if (w, h) not in f.sizes
        ]
        task[first], task[second] = f.pick(draw, unsupported)
        locked.update((first, second))


def _always(obj: dict[str, Any]) -> bool:
    return True


def _sizes(rule: Row) -> set[tuple[Any, ...]]:
    return {(w, h) for w, h in rule["sizes"]}


def position_aliases(rule: Row) -> dict[tuple[str, Any], str]:
    """Allowed position values (type-exact) → the position they name."""
    return {key(v): name for name, values in rule["positions"].items() for v in values}


def resolve_positions(items: Sequence[Any], rule: Row) -> list[str | None]:
    """The position each item of a framePositions target takes: explicit ones first,
    then items without the field fill the still-free automatic positions in order."""
    aliases = position_aliases(rule)
    item_field = rule["field"]
    explicit = [
        aliases.get(key(item[item_field]))
        if isinstance(item, dict) and item_field in item
        else None
        for item in items
    ]
    free = [p for p in rule["automatic"].get(str(len(items)), []) if p not in explicit]
    resolved: list[str | None] = []
    for item, position in zip(items, explicit, strict=True):
        if position is None and not (isinstance(item, dict) and item_field in item) and free:
            position = free.pop(0)
        resolved.append(position)
    return resolved


class FramePositions(RuleKind):
    name = "framePositions"
    keys = ("target", "field", "positions", "automatic")
    outcomes = ("invalid",)

    def compile(self, b: Bound) -> RuleCheck:
        rel, parts = b.at(b.rule["target"])
        item_field = b.rule["field"]
        aliases = position_aliases(b.rule)

        def check(obj: dict[str, Any], prefix: str, out: Violations) -> None:
            items = get(obj, parts)
            if not isinstance(items, list):
                return
            taken: set[str] = set()
            for index, item in enumerate(items):
                if not isinstance(item, dict) or item_field not in item:
                    continue  # automatic: fills a free position, never clashes
                position = aliases.get(key(item[item_field]))
                if position is None:
                    continue  # not an allowed value: the field's enum reports it
                if position in taken:
                    where = f"{prefix}{rel}.{index}.{item_field}"
                    detail = f"two frame images take the {position} position"
                    out.append(b.violation("invalid", where, detail))
                taken.add(position)

        return check

    def needs(self, b: Bound) -> frozenset[str] | None:
        return frozenset(b.parts(b.rule["target"])[:1])  # reports only on a list there

    def repair(
        self,
        f: Repairer,
        draw: Draw,
        rule: Row,
        obj: dict[str, Any],
        prefix: str,
        scope: str,
        locked: Locks,
    ) -> bool:
        items = get(obj, f.rel(rule["target"], scope))
        if not isinstance(items, list):
            return False
        positions: dict[str, list[Any]] = rule["positions"]
        forms = {key(v): (name, j) for name, vs in positions.items() for j, v in enumerate(vs)}
        field = rule["field"]
        explicit = [
            forms.get(key(item[field])) if isinstance(item, dict) and field in item else None
            for item in items
        ]
        taken: set[str] = set()
        changed = False
        for index, found in enumerate(explicit):
            if found is None:
                continue  # no field: it takes a free position automatically
            position, form = found
            if position not in taken:
                taken.add(position)
                continue
            f.guard(prefix, f"{rule['target']}.{index}", scope, locked)
            later = {e[0] for e in explicit[index + 1 :] if e is not None}
            free = [name for name in positions if name not in taken and name not in later]
            if free:  # the same form of a free position ("first" -> "last", 0 -> -1)
                values = positions[free[0]]
                items[index][field] = values[min(form, len(values) - 1)]
                taken.add(free[0])
            else:
                del items[index][field]
            changed = True
        return changed

    def break_(
        self, f: Repairer, draw: Draw, rule: Row, task: dict[str, Any], locked: Locks
    ) -> None:
        wire = f.ensure(draw, task, rule["target"])
        items = get(task, wire.split("."))
        values = rule["positions"][f.pick(draw, sorted(rule["positions"]))]
        while len(items) < 2:
            items.append(copy.deepcopy(items[0]))
        items[0][rule["field"]] = f.pick(draw, values)
        items[1][rule["field"]] = f.pick(draw, values)
        locked.add(wire)


MAX_REFERENCE = 4  # prompt references are drawn numbered 1..MAX_REFERENCE (repair aims them)


def reference_template(pattern: str) -> Callable[[int], str] | None:
    """A builder of texts matching a prompt-reference ``pattern`` whose one group is the
    number (``<<<element_(\\d+)>>>`` gives ``n -> "<<<element_n>>>"``), or None when the
    pattern is not that simple."""
    head, group, tail = pattern.partition(r"(\d+)")
    if not group:
        return None

    def literal(text: str) -> str:
        return re.sub(r"\\(.)", r"\1", text)

    def build(n: int) -> str:
        return f"{literal(head)}{n}{literal(tail)}"

    ok = all(re.fullmatch(pattern, build(n)) for n in (0, 1, 12))
    return build if ok else None


class PromptReferences(RuleKind):
    name = "promptReferences"
    keys = ("in", "pattern", "target")
    outcomes = ("unknown",)

    def compile(self, b: Bound) -> RuleCheck:
        pattern = re.compile(b.rule["pattern"])
        lead = literal_prefix(pattern)
        prompts = [b.at(p) for p in b.rule["in"]]
        target = b.parts(b.rule["target"])

        def check(obj: dict[str, Any], prefix: str, out: Violations) -> None:
            for rel, parts in prompts:
                text = get(obj, parts)
                # most prompts refer to nothing: a substring search says so at a fraction
                # of the pattern's scan
                if not isinstance(text, str) or lead not in text:
                    continue
                first = pattern.search(text)
                if first is None:
                    continue
                items = get(obj, target)
                count = len(items) if isinstance(items, list) else 0
                found = pattern.finditer(text, first.start())  # the same matches, from the first
                bad = sorted({n for n in (int(m.group(1)) for m in found) if not 1 <= n <= count})
                if bad:
                    detail = f"refers to {', '.join(map(str, bad))} but the task has {count}"
                    out.append(b.violation("unknown", prefix + rel, detail))

        return check

    def needs(self, b: Bound) -> frozenset[str] | None:
        return frozenset(b.parts(p)[0] for p in b.rule["in"])  # reads only those prompts

    def repair(
        self,
        f: Repairer,
        draw: Draw,
        rule: Row,
        obj: dict[str, Any],
        prefix: str,
        scope: str,
        locked: Locks,
    ) -> bool:
        pattern = re.compile(rule["pattern"])
        items = get(obj, f.rel(rule["target"], scope))
        count = len(items) if isinstance(items, list) else 0
        changed = False
        for path in rule["in"]:
            parts = f.rel(path, scope)
            text = get(obj, parts)
            if not isinstance(text, str):
                continue

            def fix(m: re.Match[str]) -> str:
                n = int(m.group(1))
                if 1 <= n <= count:
                    return m.group(0)
                return m.group(0).replace(m.group(1), str((n - 1) % count + 1)) if count else ""

            new = pattern.sub(fix, text)
            if new != text:
                f.guard(prefix, path, scope, locked)
                put(obj, parts, new)
                changed = True
        return changed

    def break_(
        self, f: Repairer, draw: Draw, rule: Row, task: dict[str, Any], locked: Locks
    ) -> None:
        target = get(task, rule["target"].split("."))
        count = len(target) if isinstance(target, list) else 0
        path = f.pick(draw, rule["in"])
        f.ensure(draw, task, path)
        build = reference_template(rule["pattern"])
        if build is not None:
            ref = build(f.pick(draw, [count + n for n in range(1, MAX_REFERENCE + 1)] + [0]))
        else:

            def out_of_range(reference: str) -> bool:
                match = re.fullmatch(rule["pattern"], reference)
                return match is not None and not 1 <= int(match.group(1)) <= count

            ref = f.regex_drawer(rule["pattern"], accept=out_of_range)(draw)
        text = task[path]
        limit = f.params[path].get("maxLength")
        task[path] = (ref + " " + text)[:limit] if limit else ref + " " + text
        locked.update({path, f"+{rule['target']}"})  # the items may change, their number not

    def seeder(self, f: Repairer, rule: Row) -> Callable[[Draw, dict[str, Any]], None]:
        """Half the time none, else a reference numbered 1..MAX_REFERENCE put before each
        prompt the rule reads (one choice), for repair to aim."""
        build = reference_template(rule["pattern"])
        regex = f.regex_drawer(rule["pattern"], or_empty=True) if build is None else None
        numbers = f.integer_drawer(0, 2 * MAX_REFERENCE - 1)

        def reference(draw: Draw) -> str:
            if regex is not None:
                return regex(draw)
            assert build is not None
            n = numbers(draw)
            return build(n - MAX_REFERENCE + 1) if n >= MAX_REFERENCE else ""

        def seed(draw: Draw, task: dict[str, Any]) -> None:
            ref = reference(draw)
            if ref:
                for path in rule["in"]:
                    if isinstance(task.get(path), str):
                        task[path] = (ref + " " + task[path])[: f.params[path].get("maxLength")]

        return seed


def _fits(rule: Row, value: Any) -> bool:
    """Whether a value meets a valueWhen rule: one of ``allowed``, or a number at most
    ``maximum`` (a value of another type is the field checks' business)."""
    if "allowed" in rule:
        return key(value) in {key(v) for v in rule["allowed"]}
    return json_type(value) not in ("integer", "number") or value <= rule["maximum"]


def _outside(f: Repairer, rule: Row) -> list[Any]:
    """Values of the rule's parameter (its enum, both booleans, else its maximum) the rule
    does not allow."""
    param = f.params[rule["param"]]
    candidates = param.get("enum") or (
        [True, False]
        if param.get("types") == ["boolean"]
        else [param["maximum"]]
        if "maximum" in param
        else []
    )
    return [v for v in candidates if not _fits(rule, v)]


def _inside(f: Repairer, rule: Row) -> Any:
    """A value of the parameter the rule allows (the largest one under a maximum)."""
    if "allowed" in rule:
        return rule["allowed"][0]
    fitting = [v for v in f.params[rule["param"]].get("enum", []) if _fits(rule, v)]
    return max(fitting) if fitting else rule["maximum"]


class ValueWhen(RuleKind):
    """When the condition holds, the parameter's effective value (default applied) is one
    of ``allowed`` ("`duration` must be `7`") or, in the other form, at most ``maximum``
    ("`duration` must be at most `10`")."""

    name = "valueWhen"
    keys = ("when", "param")
    optional = ("allowed", "maximum")
    outcomes = ("notAllowed",)

    def compile(self, b: Bound) -> RuleCheck:
        when = b.clause(b.rule["when"])
        param = b.rule["param"]
        rel, parts = b.at(param)
        default = b.contract.defaults.get(param, MISSING)
        rule = b.rule
        if "allowed" in rule:
            allowed = {key(v) for v in rule["allowed"]}

            def fits(value: Any) -> bool:
                return key(value) in allowed

        else:

            def fits(value: Any) -> bool:
                return _fits(rule, value)

        holds = when.holds

        def check(obj: dict[str, Any], prefix: str, out: Violations) -> None:
            if not holds(obj):
                return
            value = get(obj, parts)
            value = default if value is MISSING else value
            if value is not MISSING and not fits(value):
                out.append(b.violation("notAllowed", prefix + rel, f"{rel} is {fmt(value)}"))

        return check

    def needs(self, b: Bound) -> frozenset[str] | None:
        return b.clause(b.rule["when"]).needs()  # the check reports only while it holds

    def repair(
        self,
        f: Repairer,
        draw: Draw,
        rule: Row,
        obj: dict[str, Any],
        prefix: str,
        scope: str,
        locked: Locks,
    ) -> bool:
        if not _holds(rule, obj, scope):
            return False
        parts = f.rel(rule["param"], scope)
        value = get(obj, parts)
        if value is MISSING:
            value = f.params[rule["param"]].get("default", MISSING)
        if value is not MISSING and not _fits(rule, value):
            f.guard(prefix, rule["param"], scope, locked)
            put(obj, parts, _inside(f, rule))
            return True
        return False

    def breakable(self, f: Repairer, rule: Row) -> bool:
        return bool(_outside(f, rule))

    def break_(
        self, f: Repairer, draw: Draw, rule: Row, task: dict[str, Any], locked: Locks
    ) -> None:
        f.make_hold(draw, rule["when"], task, locked)
        put(task, rule["param"].split("."), f.pick(draw, _outside(f, rule)))
        locked.add(rule["param"])


class DefaultWhen(RuleKind):
    """Not a check: ``Contract.with_defaults`` fills the default in when the condition
    holds (the condition sees the other defaults) and the task lacks the parameter."""

    name = "defaultWhen"
    keys = ("when", "param", "default")
    outcomes = ()

    def compile(self, b: Bound) -> None:
        return None

    def fill_default(self, b: Bound, task: Mapping[str, Any], result: dict[str, Any]) -> None:
        # Paths from the task's root: the defaults are filled in over the whole task.
        parts, when = b.compiled(lambda: (b.rule["param"].split("."), Clause.of(b.rule["when"])))
        if when.holds(result) and get(task, parts) is MISSING:
            target = result
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = copy.deepcopy(b.rule["default"])

    def repair(
        self,
        f: Repairer,
        draw: Draw,
        rule: Row,
        obj: dict[str, Any],
        prefix: str,
        scope: str,
        locked: Locks,
    ) -> bool:
        return False  # never broken


def literal_prefix(pattern: re.Pattern[str]) -> str:
    """The text every match of ``pattern`` starts with ("" when it has no fixed start, or
    ignores case): a string without it holds no match."""
    if pattern.flags & re.IGNORECASE:
        return ""
    parser: Any = importlib.import_module("re._parser")  # the parse ``re.compile`` makes
    chars = []
    for op, arg in parser.parse(pattern.pattern, pattern.flags):
        if op is not parser.LITERAL:
            break
        chars.append(chr(arg))
    return "".join(chars)


def kind_of(rule: Row) -> RuleKind:
    """The kind of a rule table entry; ``UnknownRuleKind`` when this runtime lacks it."""
    found = KINDS.get(rule["kind"])
    if found is None:
        raise UnknownRuleKind(
            f"rule {rule.get('id')!r} has kind {rule['kind']!r}, which this runtime does not "
            f"implement (it knows {', '.join(KINDS)}); regenerate the package"
        )
    return found
