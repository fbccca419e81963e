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
the set is needed). Each kind adds its own constraints (``constrain`` of its codegen
half, ``kinds.py``; the arrays it bounds, ``item_bounds``); kinds that only constrain
values say so (``values_only``: they never make a parameter impossible by themselves). A
kind without a codegen half, or one that contributes nothing, is an error, never a skip.
A condition may be negated (``not: true``: the path absent, or not that value).
A rule marked ``enforced: false`` (a curator's resolution, with notes saying why) is left
out, as the generated validators leave it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .kinds import codegen_kind
from .model import ModelSpec, Rule
from .tristate import Assignment, Check, Value, all_of, any_of, implies


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


def _negate(a: bool | None) -> bool | None:
    return None if a is None else not a


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
        rules = [(r, codegen_kind(r.kind)) for r in model.rules if r.enforced]
        for rule, kind in rules:
            for target, n in kind.item_bounds(rule.args):
                self.counts[target] = max(self.counts.get(target, 0), n + 1)
        for rule, kind in rules:
            kind.constrain(rule, self)
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
            Constraint(None, (name, path), lambda a: implies(a.get(name), self.given(a, path)))
        )
        return name, lambda a: a.get(name)

    def clause(self, data: Mapping[str, Any]) -> tuple[list[str], Check]:
        parts = [self.cond(c) for c in data["conditions"]]
        combine = any_of if data["mode"] == "anyOf" else all_of
        return [v for v, _ in parts], lambda a: combine([f(a) for _, f in parts])

    # ── constraints ──

    def add(self, rule: str | None, variables: Sequence[str], check: Check) -> None:
        """A constraint of ``rule`` (None: structure) over ``variables``."""
        self.constraints.append(Constraint(rule, tuple(variables), check))

    def _add(self, rule: str | None) -> Callable[[Sequence[str], Check], None]:
        def add(variables: Sequence[str], check: Check) -> None:
            self.add(rule, variables, check)

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
            return implies(head, any_of([self.given(a, o) for o in others]))

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


def self_contradictions(model: ModelSpec) -> Iterator[tuple[Rule, list[str]]]:
    """Every rule of ``model`` (enforced or not) naming a parameter on both sides ("`a`
    cannot be used with `a`": its kind's ``both_sides``): enforced, such a rule refuses
    every task that gives it. The importer imports it ``enforced: false``; lint-spec and
    import-docs say so."""
    for rule in model.rules:
        both = codegen_kind(rule.kind).both_sides(rule.args)
        if both:
            yield rule, both


def findings_by_model(models: Sequence[ModelSpec]) -> Iterator[tuple[ModelSpec, Finding]]:
    for model in models:
        for finding in analyse(model):
            yield model, finding
