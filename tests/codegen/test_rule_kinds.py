"""The rule-kind registry: every kind is complete, and an unknown kind fails loudly.

Each kind of ``codegen/runtime/rule_kinds.py`` (the runtime half: keys, check, repair,
breaker) must have its codegen half (``codegen/kinds.py``), its platform entry, a rule in
the tiny test spec, a JSON Schema encoding or an explicit "inexpressible", phrasings the
importer reads (or none, said so), and a breaker whose task a mutant without the rule
accepts.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from codegen import SpecSet
from codegen.docs.rules import compile_phrasing, rule_from_sentence
from codegen.emit import tables
from codegen.emit.json_schema import request_schema
from codegen.runtime.rule_kinds import KINDS, RuleKind
from codegen.spec.kinds import CODEGEN_KINDS, COMMON_KEYS, KEY_ORDER, rule_args
from codegen.spec.loader import meta_schema
from runware_contract import strategies as S
from runware_contract.rule_kinds import UnknownRuleKind
from runware_contract.runtime import Contract
from tests.conftest import REPO
from tests.contracts import contract_for

FEW = settings(
    max_examples=15,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def tiny_module(spec: SpecSet) -> ModuleType:
    """The tiny model as the strategies see a generated model module (its tables and
    contract, built from the spec as the generator builds them)."""
    model = spec.models[0]
    table_module = ModuleType("acme_tiny.tables")
    table_module.__dict__.update(
        PARAMETERS=tables.parameters_table(model.parameters),
        RULES=tables.rules_table(model),
        DIMENSIONS=tables.dimensions_table(model),
    )
    module = ModuleType("acme_tiny")
    module.__dict__.update(
        tables=table_module, CONTRACT=contract_for(model, spec.platform), MODEL_ID=model.id
    )
    return module


@pytest.fixture(scope="module")
def tiny(tiny_spec: SpecSet) -> ModuleType:
    return tiny_module(tiny_spec)


def contract_with(
    tiny: ModuleType,
    spec: SpecSet,
    rules: list[dict[str, Any]],
    rule_codes: dict[str, Any] | None = None,
) -> Contract:
    """The tiny contract with other rules (or rule codes)."""
    return Contract(
        task_label="acme tiny",
        docs=tiny.CONTRACT.docs,
        parameters=tiny.tables.PARAMETERS,
        rules=rules,
        formats={n: (rx, text) for n, (rx, text) in tables.formats_table(spec.platform).items()},
        constraint_codes=dict(spec.platform.constraint_codes),
        rule_codes=rule_codes or tables.rule_codes_table(spec.platform),
        dimensions=tiny.tables.DIMENSIONS,
    )


def rule_of(tiny: ModuleType, kind: str) -> dict[str, Any]:
    return next(r for r in tiny.tables.RULES if r["kind"] == kind)


def test_both_halves_and_the_platform_name_the_same_kinds(spec: SpecSet) -> None:
    assert list(CODEGEN_KINDS) == list(KINDS)
    assert list(spec.platform.rule_kinds) == list(KINDS)
    for name, kind in KINDS.items():
        assert kind.name == name and CODEGEN_KINDS[name].name == name
        assert set(spec.platform.rule_kinds[name].codes) == set(kind.outcomes), name


def test_every_key_of_every_kind_has_a_type_in_the_meta_schema() -> None:
    rule = meta_schema()["$defs"]["rule"]
    assert set(rule["properties"]) == {*COMMON_KEYS, *KEY_ORDER}
    for kind in KINDS.values():
        assert set(kind.keys) <= set(KEY_ORDER), kind.name
    assert meta_schema()["$defs"]["ruleKind"] == {"enum": list(KINDS)}


@pytest.mark.parametrize("name", list(KINDS))
def test_the_tiny_spec_has_a_rule_of_every_kind_and_it_compiles(
    tiny: ModuleType, name: str
) -> None:
    rule = rule_of(tiny, name)
    kind = KINDS[name]
    assert set(kind.keys) <= set(rule), (name, rule)
    from codegen.runtime.rule_kinds import Bound

    check = kind.compile(Bound(tiny.CONTRACT, rule))
    assert (check is None) == (not kind.outcomes), name


@pytest.mark.parametrize("name", [n for n, k in KINDS.items() if k.outcomes])
def test_every_reporting_kind_breaks_repairs_and_kills_its_mutant(
    tiny: ModuleType, tiny_spec: SpecSet, name: str
) -> None:
    """The breaker's task breaks the rule alone, with the kind's codes; repair makes it
    valid again; the JSON Schema (where the kind is expressible) rejects it too; and the
    contract without the rule (a mutant) accepts it."""
    rule = rule_of(tiny, name)
    kind = KINDS[name]
    assert type(kind).repair is not RuleKind.repair and type(kind).break_ is not RuleKind.break_
    codes = set(tiny_spec.platform.rule_kinds[name].codes.values())
    mutant = contract_with(tiny, tiny_spec, [r for r in tiny.tables.RULES if r is not rule])
    schema = request_schema(tiny_spec.models[0], tiny_spec.platform, header="")
    validator = Draft202012Validator(schema)
    factory = S._factory(tiny)

    @FEW
    @given(S.rule_violations(tiny, rule["id"]), st.data())
    def check(task: dict[str, Any], data: st.DataObject) -> None:
        found = tiny.CONTRACT.violations(task)
        assert found and {v.rule for v in found} == {rule["id"]}
        assert {v.code for v in found} <= codes
        assert mutant.violations(task) == []  # the mutant is killed by this task
        if CODEGEN_KINDS[name].expressible:
            assert not validator.is_valid(task)
        assert factory.repair(data.draw, task, set(), None) == []

    check()


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_has_a_schema_or_says_it_has_none(tiny_spec: SpecSet, name: str) -> None:
    schema = request_schema(tiny_spec.models[0], tiny_spec.platform, header="")
    rule = next(r for r in tiny_spec.models[0].rules if r.kind == name)
    text = repr(schema)
    if CODEGEN_KINDS[name].expressible:
        assert f"'rule {rule.id}'" in text
    else:
        assert f"rule {rule.id} ({name}) is enforced by the generated validators only" in text


@pytest.mark.parametrize("name", list(KINDS))
def test_every_phrasing_reads_back_as_a_rule_of_its_kind(spec: SpecSet, name: str) -> None:
    """Each phrasing, with paths for its letters, becomes a rule of the kind that the
    meta-schema accepts; a kind that reads no sentences has no such phrasing."""
    phrasings = [p for p in spec.platform.rule_kinds[name].phrasings if "`" in p]
    assert CODEGEN_KINDS[name].reads_sentences == bool(phrasings), name
    rule_schema = {**meta_schema(), "$ref": "#/$defs/rule"}
    rule_schema.pop("oneOf", None)
    validator = Draft202012Validator(rule_schema)
    paths = {"A": "alpha", "B": "beta", "C": "gamma.items", "S": "scope"}
    for text in phrasings:
        sentence = re.sub(r"`([A-Z])\.\.\.`", r"`\1one`, `\1two` or `\1three`", text)
        sentence = re.sub(r"`([A-Z])`", lambda m: f"`{paths[m.group(1)]}`", sentence)
        sentence = re.sub(r"\bN\b", "3", sentence)
        rule = rule_from_sentence(sentence, [compile_phrasing(name, text)])
        assert rule is not None and rule["kind"] == name, (text, rule)
        errors = [e.message for e in validator.iter_errors(rule)]
        assert errors == [], (text, errors)
        assert KINDS[name].keys == tuple(rule_args(rule)), text


def test_a_rule_of_an_unknown_kind_fails_the_contract(tiny: ModuleType, tiny_spec: SpecSet) -> None:
    bogus = {**rule_of(tiny, "together"), "kind": "mutuallyRequired"}
    with pytest.raises(UnknownRuleKind, match="'mutuallyRequired'"):
        contract_with(tiny, tiny_spec, [bogus])
    codes = {**tables.rule_codes_table(tiny_spec.platform), "mutuallyRequired": {}}
    with pytest.raises(UnknownRuleKind, match="mutuallyRequired"):
        contract_with(tiny, tiny_spec, [], rule_codes=codes)


def test_a_generated_package_naming_an_unknown_kind_fails_on_import(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    shutil.copytree(REPO / "generated", out, ignore=shutil.ignore_patterns("__pycache__"))
    tables_py = out / "runware_contract" / "klingai_video_3_0_pro" / "tables.py"
    text = tables_py.read_text()
    assert '"kind": "exactlyOne"' in text
    tables_py.write_text(text.replace('"kind": "exactlyOne"', '"kind": "exactlyTwo"', 1))
    code = textwrap.dedent(
        """
        import runware_contract
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(out), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "UnknownRuleKind" in result.stderr and "exactlyTwo" in result.stderr


def test_the_runtime_imports_without_hypothesis() -> None:
    """Repair and breakers live beside the checks, yet importing the package (and checking a
    task) never needs Hypothesis; only runware_contract.strategies does."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["hypothesis"] = None  # any import of it now fails
        import runware_contract as rc
        from runware_contract import klingai_video_3_0_pro as kling
        assert rc.validate(kling.EXAMPLES[0].request) == []
        try:
            import runware_contract.strategies
        except ImportError:
            print("strategies need hypothesis")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "strategies need hypothesis"
