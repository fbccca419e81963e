"""Validation skips a rule's check on an object holding none of the names the rule needs
(``RuleKind.needs``), and a prompt-reference check skips a prompt without its pattern's literal
start (``literal_prefix``). Both save work on every task; both are sound only if the skipped
check could not have reported. Each is held to that here: every rule of every model (the
generated ones and the tiny spec, which has every kind), on tasks that break it and on valid
ones, with the names it needs taken out, reports nothing; and no text without the prefix holds
a match."""

from __future__ import annotations

import copy
import re
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from codegen import SpecSet
from runware_contract import strategies as S
from runware_contract.registry import MODELS
from runware_contract.rule_kinds import literal_prefix
from runware_contract.runtime import Contract
from runware_contract.values import Violations
from tests.contracts import model_module

FEW = settings(
    max_examples=20,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


FEW_BROKEN = settings(FEW, max_examples=5)


@pytest.fixture(scope="module")
def models(tiny_spec: SpecSet) -> dict[str, ModuleType]:
    return {**MODELS, "tiny": model_module(tiny_spec.models[0], tiny_spec.platform)}


def objects(task: dict[str, Any], scope: str) -> list[dict[str, Any]]:
    """The objects of ``task`` a scope's checks run on (the task itself for the root, each
    object under the scope's path otherwise)."""
    found: list[Any] = [task]
    for part in scope.split(".") if scope else []:
        found = [o.get(part) for o in found if isinstance(o, dict)]
        found = [i for o in found for i in (o if isinstance(o, list) else [o])]
    return [o for o in found if isinstance(o, dict)]


def skipped_checks_report(contract: Contract, task: dict[str, Any]) -> list[str]:
    """What each skippable check of ``contract`` reports on ``task``'s objects with the names
    it needs taken out (nothing, if skipping it is sound)."""
    said = []
    for path, scope in contract.scopes.items():
        for check, needs in scope.rules:
            if needs is None:
                continue
            for obj in objects(copy.deepcopy(task), path):
                for name in needs:
                    obj.pop(name, None)
                out = Violations()
                check(obj, "", out)
                said += [f"{path or 'task'}: {v.code} {v.parameter} (needs {sorted(needs)})"
                         for v in out.found]  # fmt: skip
    return said


def test_every_kind_but_a_few_names_what_it_needs(models: dict[str, ModuleType]) -> None:
    """The skip is worth having: most of the tiny model's rules (which cover every kind)
    name what they need."""
    scopes = models["tiny"].CONTRACT.scopes.values()
    needs = [n for scope in scopes for _, n in scope.rules]
    assert sum(n is not None for n in needs) > len(needs) / 2, needs


@pytest.mark.parametrize("model_name", ["tiny", *sorted(MODELS)])
def test_a_skipped_check_would_report_nothing_on_valid_tasks(
    models: dict[str, ModuleType], model_name: str
) -> None:
    model = models[model_name]

    @FEW
    @given(S.valid_tasks(model))
    def check(task: dict[str, Any]) -> None:
        assert skipped_checks_report(model.CONTRACT, task) == []

    check()


@pytest.mark.parametrize("model_name", ["tiny", *sorted(MODELS)])
def test_a_skipped_check_would_report_nothing_on_tasks_breaking_a_rule(
    models: dict[str, ModuleType], model_name: str
) -> None:
    """The tasks that break each rule (what its check is there to see), with the names each
    skippable check needs taken out: none of those checks reports."""
    model = models[model_name]
    breakable = [
        (rule["id"], strategy)
        for rule in model.tables.RULES
        if not (strategy := S.rule_violations(model, rule["id"])).is_empty
    ]
    never_alone = []  # rules whose every violation breaks another rule too (see
    for rule_id, strategy in breakable:  # test_image_properties.NEVER_ALONE)

        @FEW_BROKEN
        @given(strategy)
        def check(task: dict[str, Any]) -> None:
            assert skipped_checks_report(model.CONTRACT, task) == []

        try:
            check()
        except Unsatisfiable:
            never_alone.append(rule_id)
    assert len(never_alone) <= 1 < len(breakable), never_alone


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        (r"@Element(\d+)", "@Element"),
        (r"<<<image_(\d+)>>>", "<<<image_"),
        (r"(?i)@element\d+", ""),  # ignoring case: no fixed text
        (r"(?:@a|@b)\d", "@"),  # both branches start alike
        (r"(?:@a|#b)\d", ""),
        (r"\d+ frames", ""),
        (r"ab?c", "a"),
        (r"a*b", ""),
        (r"", ""),
    ],
)
def test_the_literal_prefix_is_what_every_match_starts_with(pattern: str, prefix: str) -> None:
    assert literal_prefix(re.compile(pattern)) == prefix


@given(
    st.sampled_from([r"@Element(\d+)", r"<<<image_(\d+)>>>", r"(?:@a|@b)\d", r"ab?c"]),
    st.text(alphabet="@Elemnt<>_imag0123abc#", max_size=30),
)
def test_no_text_without_the_prefix_holds_a_match(pattern: str, text: str) -> None:
    compiled = re.compile(pattern)
    if literal_prefix(compiled) not in text:
        assert compiled.search(text) is None
