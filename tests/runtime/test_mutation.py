"""Mutation check: the property suite must fail for every mutant of the rule table.

A mutant is the generated contract with one rule removed, or one bound lowered by one
step. The suite's properties (valid tasks are accepted; each single violation is
reported with the same codes and parameters) run against the mutant, the ones most
related to the mutation first; the first failure kills it. A rule that cannot be broken
without also breaking a field constraint (see test_properties) yields an equivalent
mutant: no task tells the mutant from the original, and it is reported as such.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from runware_contract import klingai_video_3_0_pro as kling
from runware_contract import strategies as S
from runware_contract.platform import CONSTRAINT_CODES, FORMATS, RULE_CODES
from runware_contract.runtime import Contract

BOUNDS = ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems")
CASES = S.cases(kling)
EQUIVALENT = {"remove ttl-needs-url-output"}  # outputType allows only URL: cannot break alone
# A kill needs one failing example, not a shrunk one: no shrinking, no example database.
KILL = settings(phases=[Phase.explicit, Phase.generate], database=None, derandomize=True)


def contract(parameters: list[dict[str, Any]], rules: list[dict[str, Any]]) -> Contract:
    return Contract(
        task_label=kling.MODEL_NAME,
        docs=kling.DOCS,
        parameters=parameters,
        rules=rules,
        formats={k: (v[0], v[1]) for k, v in FORMATS.items()},
        constraint_codes=CONSTRAINT_CODES,
        rule_codes=RULE_CODES,
        dimensions=kling.tables.DIMENSIONS,
    )


def mutants() -> list[tuple[str, str, Contract]]:
    """(name, what it touches, mutant contract) for every rule and every bound."""
    found = []
    rules = kling.tables.RULES
    for rule in rules:
        if RULE_CODES[rule["kind"]]:  # defaultWhen never reports, so removing it is no mutant
            kept = [r for r in rules if r is not rule]
            found.append(
                (f"remove {rule['id']}", rule["id"], contract(kling.tables.PARAMETERS, kept))
            )
    for index, p in enumerate(kling.tables.PARAMETERS):
        for key in BOUNDS:
            if key in p:
                params = copy.deepcopy(kling.tables.PARAMETERS)
                params[index][key] -= p.get("multipleOf", 1)
                found.append((f"lower {key} of {p['path']}", p["path"], contract(params, rules)))
    return found


def errors(c: Contract, task: dict[str, Any]) -> set[tuple[str, str]]:
    return {(v.code, v.parameter) for v in c.violations(task)}


def properties(target: str) -> list[tuple[str, Callable[[Contract], None]]]:
    """The suite's properties as checks of one contract, those about ``target`` first."""

    def valid(c: Contract) -> None:
        @settings(KILL, max_examples=40)
        @given(S.valid_tasks(kling))
        def check(task: dict[str, Any]) -> None:
            assert c.violations(task) == []

        check()

    def single(strategy: st.SearchStrategy[dict[str, Any]]) -> Callable[[Contract], None]:
        def run(c: Contract) -> None:
            @settings(KILL, max_examples=10)
            @given(strategy)
            def check(task: dict[str, Any]) -> None:
                assert errors(c, task) == errors(kling.CONTRACT, task)

            check()

        return run

    checks = [(name, single(strategy)) for name, strategy in CASES if not strategy.is_empty]
    checks.append(("valid tasks", valid))

    def rank(item: tuple[str, Callable[[Contract], None]]) -> int:
        name = item[0]
        if name == target or name.startswith(f"{target}:"):
            return 0
        return 1 if name == "valid tasks" else 2

    return sorted(checks, key=rank)


MUTANTS = mutants()


def killer(name: str, target: str, mutant: Contract) -> str | None:
    """The first property that tells ``mutant`` from the contract, or None."""
    for prop_name, check in properties(target):
        try:
            check(mutant)
        except AssertionError:
            return prop_name
    return None


@pytest.mark.parametrize(("name", "target", "mutant"), MUTANTS, ids=[m[0] for m in MUTANTS])
def test_the_property_suite_kills_every_mutant(name: str, target: str, mutant: Contract) -> None:
    killed_by = killer(name, target, mutant)
    if name in EQUIVALENT:
        assert killed_by is None, f"{name} was thought equivalent but {killed_by} tells it apart"
        pytest.skip(f"equivalent mutant: {name}")
    assert killed_by is not None, f"mutant survived: {name}"


def test_mutation_score_report(capsys: pytest.CaptureFixture[str]) -> None:
    """The score the note reports, measured: killed / (all - equivalent)."""
    total = len(MUTANTS)
    scored = total - len(EQUIVALENT)
    killed = sum(
        killer(name, target, mutant) is not None
        for name, target, mutant in MUTANTS
        if name not in EQUIVALENT
    )
    with capsys.disabled():
        print(f"\nmutants: {total} ({len(EQUIVALENT)} equivalent); killed {killed}/{scored}")
    assert all(name in {m[0] for m in MUTANTS} for name in EQUIVALENT)
    assert scored > 0 and killed == scored
