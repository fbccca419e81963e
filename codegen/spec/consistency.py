"""Which parameters no valid task can carry, and which rules are to blame.

Runware pages state rules one sentence at a time, and some pairs contradict each other
("When `a` is provided, `b` cannot be used." beside "... `b` is required."), which makes
`a` impossible to send. This module decides that exactly, over a small model of the
rules: one boolean per parameter a rule names (provided or not; a condition on a value
is its own boolean, implying the parameter), and an item count per array a rule bounds.
Structure is part of it: a top-level Required parameter is always provided, a nested
one whenever its parent is, a child implies its parent, and an object whose every child
a rule names is provided only with one of them.

A backtracking search with three-valued evaluation of each constraint (a clause that is
already false prunes) answers "is there a task with P?"; for each parameter it cannot
give, a deletion pass finds a smallest set of rules that still forbids it (each rule of
the set is needed). A value rule (valueWhen) is modelled by what it leaves the parameter
while its condition holds: given only if a value it may take is allowed, absent only if
its default is; conditional sizes none of which is a dimension row leave width and height
nothing. Kinds that only constrain values otherwise (the dimension table, frame
positions, prompt references, default rules) never make a parameter impossible. A
condition may be negated (``not: true``: the path absent, or not that value). A rule
marked ``enforced: false`` (a curator's resolution, with notes saying why) is left out, as
the generated validators leave it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .model import ModelSpec, Rule

# A constraint reads a partial assignment and says True, False or None (not decided yet).
Value = Any
Assignment = dict[str, Value]
Check = Callable[[Assignment], bool | None]


@dataclass(frozen=True)
class Constraint:
    rule: str | None  # the rule id; None for structure (required, parent and child)
    variables: tuple[str, ...]
    check: Check


@dataclass(frozen=True)
class Finding:
    """One thing the analysis found: ``parameter`` is None when no task is valid at all."""

    parameter: str | None
    rules: tuple[str, ...]

    def message(self) -> str:
        blame = ", ".join(self.rules)
        if self.parameter is None:
            return f"the model accepts no task at all: rules {blame} contradict each other"
        return f"{self.parameter} can never be provided: rules {blame}"


def _any(values: Sequence[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def _all(values: Sequence[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _negate(a: bool | None) -> bool | None:
    return None if a is None else not a


def _implies(a: bool | None, b: bool | None) -> bool | None:
    return _any([None if a is None else not a, b])


class _Problem:
    """The variables and constraints of one model."""

    def __init__(self, model: ModelSpec) -> None:
        self.params = {p.path: p for p in model.parameters}
        dims = model.dimensions
        self.dims: tuple[str, ...] = tuple(dims.params) if dims else ()
        self.rows = {(r.width, r.height) for r in dims.rows} if dims else set()
        self.domains: dict[str, tuple[Value, ...]] = {}
        self.constraints: list[Constraint] = []
        self.counts: dict[str, int] = {}  # array path -> largest count a rule mentions
        rules = [r for r in model.rules if r.enforced]
        for rule in rules:
            args = rule.args
            if rule.kind in ("limitItems", "requireItems"):
                n = args.get("maxItems", args.get("minItems", 0))
                self.counts[args["target"]] = max(self.counts.get(args["target"], 0), n + 1)
        for rule in rules:
            self._rule(rule)
        self._structure()

    # ── variables ──

    def present(self, path: str) -> str:
        """The variable of ``path`` being provided (its count when a rule bounds it)."""
        if path in self.counts:
            self.domains.setdefault(path, tuple(range(self.counts[path] + 1)))
        else:
            self.domains.setdefault(path, (False, True))
        return path

    def given(self, a: Assignment, path: str) -> bool | None:
        if path not in a:
            return None
        return bool(a[path])  # a count of 0 is not provided

    def cond(self, c: Mapping[str, Any]) -> tuple[str, Callable[[Assignment], bool | None]]:
        name, test = self._positive(c)
        if not c.get("not"):
            return name, test
        return name, lambda a: _negate(test(a))

    def _positive(self, c: Mapping[str, Any]) -> tuple[str, Callable[[Assignment], bool | None]]:
        path = self.present(c["path"])
        if "equals" not in c:
            return path, lambda a: self.given(a, path)
        name = f"{path}={c['equals']!r}"
        self.domains.setdefault(name, (False, True))
        self.constraints.append(
            Constraint(None, (name, path), lambda a: _implies(a.get(name), self.given(a, path)))
        )
        return name, lambda a: a.get(name)

    def clause(self, data: Mapping[str, Any]) -> tuple[list[str], Check]:
        parts = [self.cond(c) for c in data["conditions"]]
        combine = _any if data["mode"] == "anyOf" else _all
        return [v for v, _ in parts], lambda a: combine([f(a) for _, f in parts])

    # ── rules ──

    def _rule(self, rule: Rule) -> None:
        args = rule.args
        kind = rule.kind
        add = self._add(rule.id)
        if kind in ("exactlyOne", "atLeastOne"):
            ops = [[self.present(p) for p in op] for op in args["params"]]
            exact = kind == "exactlyOne"

            def one_of(a: Assignment) -> bool | None:
                states = [_any([self.given(a, p) for p in op]) for op in ops]
                yes = states.count(True)
                if exact and yes > 1:
                    return False
                if None in states:
                    return None if yes == 0 or exact else True
                return yes == 1 if exact else yes >= 1

            add([p for op in ops for p in op], one_of)
        elif kind == "together":
            members = [self.present(op[0]) for op in args["params"]]

            def together(a: Assignment) -> bool | None:
                states = [self.given(a, m) for m in members]
                if True in states and False in states:
                    return False
                return None if None in states else True

            add(members, together)
        elif kind in ("requires", "forbids", "limitItems", "requireItems"):
            when_vars, when = self.clause(args["when"])
            if kind == "requires":
                then_vars, then = self.clause(args["then"])
                add([*when_vars, *then_vars], lambda a: _implies(when(a), then(a)))
            elif kind == "forbids":
                banned = [self.present(p) for p in args["forbid"]]

                def forbids(a: Assignment) -> bool | None:
                    none = _all([None if b not in a else not self.given(a, b) for b in banned])
                    return _implies(when(a), none)

                add([*when_vars, *banned], forbids)
            else:
                target = self.present(args["target"])
                low = kind == "requireItems"
                n = args["minItems"] if low else args["maxItems"]

                def items(a: Assignment) -> bool | None:
                    count = a.get(target)
                    ok = None if count is None else (count >= n if low else count <= n)
                    return _implies(when(a), ok)

                add([*when_vars, target], items)
        elif kind == "valueWhen":
            self._value_when(rule, add)
        elif kind == "dimensions" and "sizes" in args:
            self._sizes_when(rule, add)

    def _value_when(self, rule: Rule, add: Callable[[Sequence[str], Check], None]) -> None:
        """When the condition holds, the parameter is given only if some value it may take
        is allowed, and absent only if its default (if any) is allowed: in booleans,
        ``when -> (param ? can_give : absent_ok)``."""
        args = rule.args
        param = self.params.get(args["param"])
        if param is None:
            return
        values = [e.value for e in param.enum] if param.enum else None

        def fits(v: Any) -> bool:
            if "allowed" in args:
                return any(_same(v, a) for a in args["allowed"])
            return not isinstance(v, int | float) or isinstance(v, bool) or v <= args["maximum"]

        if param.const is not None:
            values = [param.const]
        if values is not None:
            can_give = any(fits(v) for v in values)
        elif "maximum" in args:
            can_give = param.minimum is None or param.minimum <= args["maximum"]
        else:  # allowed values, checked against the parameter's bounds
            can_give = any(_within(param, v) for v in args["allowed"])
        absent_ok = param.default is None or fits(param.default)
        if can_give and absent_ok:
            return  # never makes a parameter impossible
        when_vars, when = self.clause(args["when"])
        target = self.present(args["param"])

        def value(a: Assignment) -> bool | None:
            given = self.given(a, target)
            return None if given is None else (can_give if given else absent_ok)

        add([*when_vars, target], lambda a: _implies(when(a), value(a)))

    def _sizes_when(self, rule: Rule, add: Callable[[Sequence[str], Check], None]) -> None:
        """Sizes the dimension table lacks leave width and height nothing to take while
        the condition holds (a spec check reports such sizes too)."""
        if any(tuple(size) in self.rows for size in rule.args["sizes"]):
            return
        when_vars, when = self.clause(rule.args["when"])
        dims = [self.present(p) for p in self.dims]

        def none(a: Assignment) -> bool | None:
            return _all([None if d not in a else not self.given(a, d) for d in dims])

        add([*when_vars, *dims], lambda a: _implies(when(a), none(a)))

    def _add(self, rule: str | None) -> Callable[[Sequence[str], Check], None]:
        def add(variables: Sequence[str], check: Check) -> None:
            self.constraints.append(Constraint(rule, tuple(variables), check))

        return add

    def _structure(self) -> None:
        """Required, parent and child: what every task's shape implies."""
        add = self._add(None)
        for path in list(self.domains):
            if path not in self.params:
                continue
            param = self.params[path]
            parent = path.rpartition(".")[0]
            if param.required and not parent:
                add([path], self._implies_any(None, [path]))
            if parent and parent in self.params:
                self.present(parent)
                add([path, parent], self._implies_any(path, [parent]))
                if param.required:
                    add([parent, path], self._implies_any(parent, [path]))
        for path in list(self.domains):
            children = [p for p in self.params if p.rpartition(".")[0] == path]
            if not children or self.params.get(path) is None:
                continue
            if self.params[path].is_object_array or "array" in self.params[path].types:
                continue  # an array is provided with items, whatever their fields
            if all(c in self.domains for c in children):  # else a free child can provide it
                add([path, *children], self._implies_any(path, children))

    def _implies_any(self, first: str | None, others: Sequence[str]) -> Check:
        """``first`` given (always, for None) implies one of ``others`` given."""

        def check(a: Assignment) -> bool | None:
            head = True if first is None else self.given(a, first)
            return _implies(head, _any([self.given(a, o) for o in others]))

        return check

    # ── search ──

    def satisfiable(self, rules: set[str | None], fixed: Assignment) -> bool:
        active = [c for c in self.constraints if c.rule in rules]
        order = sorted(self.domains, key=lambda v: -sum(v in c.variables for c in active))
        watching: dict[str, list[Constraint]] = {v: [] for v in order}
        for c in active:
            for v in c.variables:
                watching.setdefault(v, []).append(c)
        a: Assignment = {}

        def ok(var: str) -> bool:
            return all(c.check(a) is not False for c in watching.get(var, ()))

        def search(i: int) -> bool:
            if i == len(order):
                return all(c.check(a) is True for c in active)
            var = order[i]
            for value in self._values(var, fixed):
                a[var] = value
                if ok(var) and search(i + 1):
                    return True
                del a[var]
            return False

        return search(0)

    def _values(self, var: str, fixed: Assignment) -> tuple[Value, ...]:
        domain = self.domains[var]
        if var not in fixed:
            return domain
        want = fixed[var]
        return tuple(v for v in domain if bool(v) == want)


def analyse(model: ModelSpec) -> list[Finding]:
    """Every parameter a rule names that no valid task can carry, each with a smallest
    set of rules responsible; or one finding when the model accepts no task at all."""
    problem = _Problem(model)
    everything: set[str | None] = {c.rule for c in problem.constraints}
    if not problem.satisfiable(everything, {}):
        return [Finding(None, _smallest(problem, everything, {}))]
    findings: dict[str, Finding] = {}
    for path in sorted(v for v in problem.domains if v in problem.params):
        fixed = {path: True}
        if not problem.satisfiable(everything, fixed):
            findings[path] = Finding(path, _smallest(problem, everything, fixed))
    for path in problem.params:  # inside an impossible object, nothing can be given
        parts = path.split(".")
        ancestors = [".".join(parts[:i]) for i in range(1, len(parts))]
        blocked = next((findings[a] for a in ancestors if a in findings), None)
        if blocked is not None and path not in findings:
            findings[path] = Finding(path, blocked.rules)
    return [findings[p] for p in sorted(findings)]


def _smallest(problem: _Problem, rules: set[str | None], fixed: Assignment) -> tuple[str, ...]:
    """A minimal set of rules that keeps ``fixed`` unsatisfiable (structure always kept)."""
    kept = set(rules)
    for rule in sorted(r for r in rules if r is not None):
        if not problem.satisfiable(kept - {rule}, fixed):
            kept.discard(rule)
    return tuple(sorted(r for r in kept if r is not None))


def self_contradiction(kind: str, args: Mapping[str, Any]) -> list[str]:
    """The parameters a rule names both as its condition and as what it forbids ("`a`
    cannot be used with `a`"): enforced, such a rule refuses every task that gives them.
    The importer imports it ``enforced: false`` and lint-spec and import-docs say so."""
    if kind != "forbids":
        return []
    given = [c["path"] for c in args["when"]["conditions"] if not c.get("not")]
    return [p for p in args["forbid"] if p in given]


def self_contradictions(model: ModelSpec) -> Iterator[tuple[Rule, list[str]]]:
    """Every rule of ``model`` (enforced or not) naming a parameter on both sides."""
    for rule in model.rules:
        both = self_contradiction(rule.kind, rule.args)
        if both:
            yield rule, both


def _same(a: Any, b: Any) -> bool:
    return (type(a) is type(b) and a == b) or (
        isinstance(a, int | float)
        and isinstance(b, int | float)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
        and a == b
    )


def _within(param: Any, v: Any) -> bool:
    """Whether a value fits the parameter's numeric bounds (other values: yes)."""
    if not isinstance(v, int | float) or isinstance(v, bool):
        return True
    low, high = param.minimum, param.maximum
    return (low is None or v >= low) and (high is None or v <= high)


def findings_by_model(models: Sequence[ModelSpec]) -> Iterator[tuple[ModelSpec, Finding]]:
    for model in models:
        for finding in analyse(model):
            yield model, finding
