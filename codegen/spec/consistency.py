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
    gave_up_after: int = 0  # the analysis stopped after this many steps (its findings partial)

    def message(self) -> str:
        blame = ", ".join(self.rules)
        if self.gave_up_after:
            return (
                f"analysis gave up after {self.gave_up_after} steps: the rules are too many "
                "or too entangled to check exactly; the findings are partial"
            )
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
            self.domains.setdefault(path, self._item_counts(path))
        else:
            self.domains.setdefault(path, (False, True))
        return path

    def _item_counts(self, path: str) -> tuple[int, ...]:
        """The item counts of an array a rule bounds: none (absent), or one its own
        minItems/maxItems allow, up to one past the largest bound a rule or it names."""
        param = self.params.get(path)
        low = max(1, param.min_items or 0) if param else 1
        high = param.max_items if param else None
        top = max(self.counts[path], low)
        return (0, *(n for n in range(low, top + 1) if high is None or n <= high))

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

    def values(self, var: str, fixed: Assignment) -> tuple[Value, ...]:
        domain = self.domains[var]
        if var not in fixed:
            return domain
        want = fixed[var]
        return tuple(v for v in domain if bool(v) == want)


# How many values the search may try in one analysis before it gives up (a warning, not a
# hang): realistic pages need a few hundred; a page built to be hard is stopped here.
STEP_BUDGET = 100_000


class GaveUp(Exception):
    def __init__(self, steps: int) -> None:
        super().__init__(f"analysis gave up after {steps} steps")
        self.steps = steps


class _Solver:
    """Search over one model's problem. What does not change between the many questions one
    analysis asks is computed once: the variable order (most constrained first) and which
    constraints read each variable. Each question searches only the variables connected to
    it through the rules still in play (independent rules never multiply the work), and
    every assignment propagates: a constraint left with one open variable fixes it when
    only one of its values can hold, and fails the branch when none can."""

    def __init__(self, problem: _Problem, budget: int) -> None:
        self.problem = problem
        self.budget = budget
        self.steps = 0
        degree: dict[str, int] = dict.fromkeys(problem.domains, 0)
        self.watching: dict[str, list[Constraint]] = {v: [] for v in problem.domains}
        for c in problem.constraints:
            for v in dict.fromkeys(c.variables):
                degree[v] = degree.get(v, 0) + 1
                self.watching.setdefault(v, []).append(c)
        self.rank = {
            v: i for i, v in enumerate(sorted(problem.domains, key=lambda v: -degree.get(v, 0)))
        }

    def tick(self) -> None:
        self.steps += 1
        if self.steps > self.budget:
            raise GaveUp(self.budget)

    def components(self, rules: set[str | None], start: Sequence[str]) -> list[list[str]]:
        """The variables connected to each of ``start`` (all variables when empty) through
        the constraints of ``rules``, one list per connected group, in search order."""
        seen: set[str] = set()
        groups = []
        for first in start or sorted(self.rank, key=self.rank.__getitem__):
            if first in seen:
                continue
            seen.add(first)
            group, queue = [first], [first]
            while queue:
                for c in self.watching.get(queue.pop(), ()):
                    if c.rule not in rules:
                        continue
                    for v in c.variables:
                        if v not in seen:
                            seen.add(v)
                            group.append(v)
                            queue.append(v)
            groups.append(sorted(group, key=self.rank.__getitem__))
        return groups

    def solve(self, rules: set[str | None], fixed: Assignment) -> Assignment | None:
        """An assignment of the variables connected to ``fixed`` (to everything, when it is
        empty) meeting every constraint of ``rules``; None when there is none."""
        found: Assignment = {}
        for group in self.components(rules, sorted(fixed)):
            part = self.solve_group(group, rules, fixed)
            if part is None:
                return None
            found.update(part)
        return found

    def solve_group(
        self, order: list[str], rules: set[str | None], fixed: Assignment
    ) -> Assignment | None:
        members = set(order)
        watching = {v: [c for c in self.watching.get(v, ()) if c.rule in rules] for v in order}
        active = list({id(c): c for v in order for c in watching[v]}.values())
        domains = {v: self.problem.values(v, fixed) for v in order}
        a: Assignment = {}

        def propagate(queue: list[Constraint], trail: list[str]) -> bool:
            while queue:
                c = queue.pop()
                state = c.check(a)
                if state is False:
                    return False
                if state is True:
                    continue
                free = [v for v in dict.fromkeys(c.variables) if v not in a and v in members]
                if len(free) != 1:
                    continue
                var, fits = free[0], []
                for value in domains[var]:
                    self.tick()
                    a[var] = value
                    if c.check(a) is not False:
                        fits.append(value)
                    del a[var]
                if not fits:
                    return False
                if len(fits) == 1:
                    a[var] = fits[0]
                    trail.append(var)
                    queue.extend(watching[var])
            return True

        def undo(trail: list[str]) -> None:
            for v in trail:
                del a[v]
            trail.clear()

        def next_open(i: int) -> int:
            while i < len(order) and order[i] in a:
                i += 1
            return i

        base: list[str] = []
        if not propagate(list(active), base):
            return None
        # An explicit stack (deep searches must not hit the recursion limit): each frame
        # is [its variable's index, the values left to try, what the last try assigned].
        i = next_open(0)
        if i == len(order):
            return dict(a) if all(c.check(a) is True for c in active) else None
        frames: list[tuple[int, Iterator[Value], list[str]]] = [(i, iter(domains[order[i]]), [])]
        while frames:
            index, values, trail = frames[-1]
            undo(trail)
            value = next(values, _DONE)
            if value is _DONE:
                frames.pop()
                continue
            self.tick()
            var = order[index]
            a[var] = value
            trail.append(var)
            if not propagate(list(watching[var]), trail):
                continue
            j = next_open(index + 1)
            if j == len(order):
                if all(c.check(a) is True for c in active):
                    return dict(a)
                continue
            frames.append((j, iter(domains[order[j]]), []))
        return None


_DONE = object()


def analyse(model: ModelSpec, budget: int = STEP_BUDGET) -> list[Finding]:
    """Every parameter a rule names that no valid task can carry, each with a smallest
    set of rules responsible; or one finding when the model accepts no task at all. Past
    ``budget`` search steps it stops: the findings so far and one saying it gave up."""
    problem = _Problem(model)
    solver = _Solver(problem, budget)
    findings: dict[str, Finding] = {}
    try:
        _analyse(problem, solver, findings)
    except GaveUp as exc:
        return [findings[p] for p in sorted(findings)] + [Finding(None, (), exc.steps)]
    return [findings[p] for p in sorted(findings)]


def _analyse(problem: _Problem, solver: _Solver, findings: dict[str, Finding]) -> None:
    everything: set[str | None] = {c.rule for c in problem.constraints}
    for group in solver.components(everything, ()):
        if solver.solve_group(group, everything, {}) is None:
            blame = _smallest(solver, everything, {}, group)
            findings[""] = Finding(None, blame)
            return
    possible: set[str] = set()  # parameters some valid task provides
    for path in sorted(v for v in problem.domains if v in problem.params):
        if path in possible:
            continue
        fixed = {path: True}
        found = solver.solve(everything, fixed)
        if found is None:
            findings[path] = Finding(path, _smallest(solver, everything, fixed))
        else:
            possible.update(v for v, value in found.items() if value and v in problem.params)
    for path in problem.params:  # inside an impossible object, nothing can be given
        parts = path.split(".")
        ancestors = [".".join(parts[:i]) for i in range(1, len(parts))]
        blocked = next((findings[a] for a in ancestors if a in findings), None)
        if blocked is not None and path not in findings:
            findings[path] = Finding(path, blocked.rules)


def _smallest(
    solver: _Solver, rules: set[str | None], fixed: Assignment, group: Sequence[str] = ()
) -> tuple[str, ...]:
    """A minimal set of rules that keeps ``fixed`` unsatisfiable (structure always kept);
    only rules connected to it (or to ``group``, for a model with no valid task) can be."""
    start = sorted(fixed) or list(group[:1])
    (connected,) = solver.components(rules, start)
    relevant = {c.rule for v in connected for c in solver.watching.get(v, ()) if c.rule in rules}
    kept = set(relevant)
    for rule in sorted(r for r in relevant if r is not None):
        trial = kept - {rule}
        if fixed:
            unsat = solver.solve(trial, fixed) is None
        else:  # a rule left out may split the group: no task if any part has none
            parts = solver.components(trial, list(group))
            unsat = any(solver.solve_group(part, trial, {}) is None for part in parts)
        if unsat:
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
