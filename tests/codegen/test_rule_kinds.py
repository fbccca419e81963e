"""The rule-kind registry: every kind is complete, and an unknown kind fails loudly.

Each kind of ``codegen/runtime/rule_kinds.py`` (the runtime half: keys, check, repair,
breaker) must have its codegen half (``codegen/spec/kinds.py``), its platform entry, a rule
in the tiny test spec, a JSON Schema encoding or an explicit "inexpressible", phrasings the
importer reads (or none, said so), its constraints in the consistency analysis (or an
explicit ``values_only``), and a breaker whose task a mutant without the rule accepts. Both
halves register themselves by defining a class: no list names the kinds.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
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
from codegen.runtime.rule_kinds import KINDS, Clause, RuleKind
from codegen.runtime.rule_kinds import UnknownRuleKind as CodegenUnknownRuleKind
from codegen.spec.consistency import _Problem, analyse
from codegen.spec.kinds import (
    CODEGEN_KINDS,
    COMMON_KEYS,
    KindCodegen,
    MissingContribution,
    key_order,
    rule_args,
    values_only,
)
from codegen.spec.loader import meta_schema
from runware_contract import klingai_video_3_0_pro as kling
from runware_contract import strategies as S
from runware_contract.rule_kinds import UnknownRuleKind
from runware_contract.runtime import Contract
from tests.conftest import REPO
from tests.contracts import model_module
from tests.source_trees import parse

FEW = settings(
    max_examples=15,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def tiny_module(spec: SpecSet) -> ModuleType:
    """The tiny model as the strategies see a generated model module."""
    return model_module(spec.models[0], spec.platform)


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
    assert set(CODEGEN_KINDS) == set(KINDS)
    assert set(spec.platform.rule_kinds) == set(KINDS)
    for name, kind in KINDS.items():
        assert kind.name == name and CODEGEN_KINDS[name].name == name
        assert set(spec.platform.rule_kinds[name].codes) == set(kind.outcomes), name


def test_a_kind_registers_itself_once_and_only_for_a_runtime_kind() -> None:
    """Defining a class is all it takes; a second class of the same kind, or a codegen half
    of a kind the runtime lacks, fails where it is defined."""
    runtime, codegen = dict(KINDS), dict(CODEGEN_KINDS)
    try:

        class Throwaway(RuleKind):
            name = "throwaway"
            keys = ()
            outcomes = ()

        class ThrowawayCodegen(KindCodegen):
            name = "throwaway"
            constrain = values_only

        assert isinstance(KINDS["throwaway"], Throwaway)
        assert isinstance(CODEGEN_KINDS["throwaway"], ThrowawayCodegen)
        with pytest.raises(TypeError, match="'throwaway' is defined twice"):

            class Again(RuleKind):
                name = "throwaway"

        with pytest.raises(TypeError, match="two codegen halves"):

            class AgainCodegen(KindCodegen):
                name = "throwaway"

        with pytest.raises(TypeError, match="no rule kind 'nowhere'"):

            class Orphan(KindCodegen):
                name = "nowhere"

        assert "nowhere" not in CODEGEN_KINDS
    finally:
        KINDS.clear()
        KINDS.update(runtime)
        CODEGEN_KINDS.clear()
        CODEGEN_KINDS.update(codegen)


def test_every_key_of_every_kind_has_a_type_in_the_meta_schema() -> None:
    rule = meta_schema()["$defs"]["rule"]
    assert set(rule["properties"]) == {*COMMON_KEYS, *key_order()}
    for kind in KINDS.values():
        assert set(kind.keys) <= set(key_order()), kind.name
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
    paths |= {"V": "640x360" if name == "dimensions" else "7"}  # a size, or a value
    for text in phrasings:
        sentence = text.replace("`V...`", "`640x360`, `480x360` or `360x360`")  # sizes
        sentence = re.sub(r"`([A-Z])\.\.\.`", r"`\1one`, `\1two` or `\1three`", sentence)
        sentence = re.sub(r"`([A-Z])\+`", r"`\1one`, `\1two`, and `\1three`", sentence)
        sentence = re.sub(r"`([A-Z])`", lambda m: f"`{paths[m.group(1)]}`", sentence)
        sentence = re.sub(r"\bN\b", "3", sentence)
        sentence = re.sub(r"\bW\b", "watermark", sentence)
        rule = rule_from_sentence(sentence, [compile_phrasing(name, text)])
        assert rule is not None and rule["kind"] == name, (text, rule)
        errors = [e.message for e in validator.iter_errors(rule)]
        assert errors == [], (text, errors)
        args = set(rule_args(rule))
        assert set(KINDS[name].keys) <= args <= {*KINDS[name].keys, *KINDS[name].optional}, text


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_contributes_to_the_consistency_analysis(tiny_spec: SpecSet, name: str) -> None:
    """Each kind says what its rules add to the analysis: its own ``constrain`` (constraints
    naming the rule) or, for a kind that only constrains values, ``values_only``."""
    kind = CODEGEN_KINDS[name]
    constrain = type(kind).constrain
    assert constrain is not KindCodegen.constrain, f"{name} has no consistency contribution"
    model = tiny_spec.models[0]
    only = dataclasses.replace(model, rules=tuple(r for r in model.rules if r.kind == name))
    assert only.rules, name
    problem = _Problem(only)
    added = {c.rule for c in problem.constraints} - {None}
    if constrain is values_only:
        assert added == set()
    elif kind.contributes_always:
        assert added == {r.id for r in only.rules}
    else:  # only rules that can make a parameter impossible (test_consistency_forms.py)
        assert added <= {r.id for r in only.rules}
        for target, _ in kind.item_bounds(only.rules[0].args):
            assert problem.domains[target][-1] > 1, (name, target)  # an item count
    assert analyse(only) == []  # the tiny model is consistent


def test_a_kind_without_a_consistency_contribution_fails_the_analysis(
    tiny_spec: SpecSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a skip: a kind whose codegen half says nothing of its rules, or that has no
    codegen half at all, stops the analysis with its name."""

    class Silent(KindCodegen):  # no ``name``: not registered
        pass

    model = tiny_spec.models[0]
    monkeypatch.setitem(CODEGEN_KINDS, "forbids", Silent())
    with pytest.raises(MissingContribution, match="kind 'forbids' contributes nothing"):
        analyse(model)
    monkeypatch.delitem(CODEGEN_KINDS, "forbids")
    with pytest.raises(CodegenUnknownRuleKind, match="'forbids' has no codegen half"):
        analyse(model)


KIND_BLIND = ("codegen/docs/facts.py", "codegen/docs/merge.py", "codegen/diff.py")


@pytest.mark.parametrize("path", KIND_BLIND)
def test_the_importer_merge_and_differ_name_no_kind(path: str) -> None:
    """They ask the registry what a kind does (``kind.fact``, ``kind.table``,
    ``kind.upper_bound``, ``kind.conditional``) rather than compare kind names."""
    tree = parse((REPO / path).read_text())

    def constants(node: ast.AST) -> list[object]:
        if isinstance(node, ast.Constant):
            return [node.value]
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return [c for e in node.elts for c in constants(e)]
        return []

    named: list[tuple[int, object]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                named += [(node.lineno, c) for c in constants(side) if c in KINDS]
        elif isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if k is not None and constants(k) == ["kind"]:
                    named += [(node.lineno, c) for c in constants(v) if c in KINDS]
    assert named == [], f"{path} names rule kinds: {named}"


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


# ── what each kind's repair and breaker promise, one rule at a time ─────────────────


@pytest.mark.parametrize(
    ("rule_id", "expected"),
    [
        (
            "frames-or-size",
            [("params", "inputs.frames"), ("params", "width"), ("params", "height")],
        ),
        (
            "images-need-prompt-or-fps",
            [("when", "seedImage"), ("when", "styleImage"), ("then", "fps"), ("then", "mode")],
        ),
        ("slow-excludes-fps", [("when", "mode"), ("when", "seedImage"), ("forbid", "fps")]),
        ("part-references", [("in", "positivePrompt"), ("target", "inputs.parts")]),
        ("frame-positions", [("target", "inputs.frames"), ("field", "inputs.frames.at")]),
        ("ttl-url-only", [("when", "ttl"), ("param", "outputType")]),
    ],
)
def test_a_rule_names_every_path_it_reads_under_its_key(
    tiny: ModuleType, rule_id: str, expected: list[tuple[str, str]]
) -> None:
    rule = next(r for r in tiny.tables.RULES if r["id"] == rule_id)
    assert list(KINDS[rule["kind"]].paths(rule)) == expected


def test_a_compiled_clause_is_a_value_of_its_mode_and_conditions() -> None:
    """Compiled twice from the same data, a clause is equal, hashes alike and prints alike
    (the compiled test is not part of it); it cannot be changed once made."""
    data = {"mode": "anyOf", "conditions": [{"path": "a.b", "equals": 1}, {"path": "c"}]}
    one, two = Clause.of(data), Clause.of(data)
    assert one == two and hash(one) == hash(two) and repr(one) == repr(two)
    assert "function" not in repr(one)
    assert one != Clause.of({**data, "mode": "allOf"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.mode = "allOf"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.conds[0].negated = True  # type: ignore[misc]


def scope_objects(factory: Any, task: dict[str, Any], rule: dict[str, Any]) -> list[Any]:
    return list(factory._scope_objects(task, rule.get("scope", "")))


@pytest.mark.parametrize("name", [n for n, k in KINDS.items() if k.outcomes])
def test_repairing_a_rule_that_holds_changes_nothing(tiny: ModuleType, name: str) -> None:
    """Repair says whether it changed the task: on a valid task, nothing, and it says so."""
    rule = rule_of(tiny, name)
    kind, factory = KINDS[name], S._factory(tiny)

    @FEW
    @given(S.valid_tasks(tiny), st.data())
    def check(task: dict[str, Any], data: st.DataObject) -> None:
        before = copy.deepcopy(task)
        for obj, prefix in scope_objects(factory, task, rule):
            scope = rule.get("scope", "")
            assert not kind.repair(factory, data.draw, rule, obj, prefix, scope, set())
        assert task == before

    check()


OPERANDS = {"frames-or-size": [["inputs.frames"], ["width", "height"]],
            "prompt-or-seed": [["positivePrompt"], ["seedImage"]]}  # fmt: skip


def without(task: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """``task`` without the (top-level or first-level nested) ``paths``."""
    for path in paths:
        *parent, leaf = path.split(".")
        node = task
        for part in parent:
            node = node.get(part, {})
        node.pop(leaf, None)
    return task


def given_operands(task: dict[str, Any], rule_id: str) -> list[list[str]]:
    def present(path: str) -> bool:
        node: Any = task
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return node is not None

    return [op for op in OPERANDS[rule_id] if all(present(p) for p in op)]


@pytest.mark.parametrize(
    ("rule_id", "lock", "added"),
    [
        ("frames-or-size", None, None),
        ("frames-or-size", "inputs.frames", ["width", "height"]),
        ("frames-or-size", "width", ["inputs.frames"]),
        ("prompt-or-seed", None, None),
        ("prompt-or-seed", "positivePrompt", ["seedImage"]),
        ("prompt-or-seed", "seedImage", ["positivePrompt"]),
    ],
)
def test_repair_adds_one_operand_that_no_lock_keeps_out(
    tiny: ModuleType, rule_id: str, lock: str | None, added: list[str] | None
) -> None:
    """A task giving none of an exactlyOne's or atLeastOne's operands gets one of them, never
    one a breaker locked out."""
    rule = next(r for r in tiny.tables.RULES if r["id"] == rule_id)
    kind, factory = KINDS[rule["kind"]], S._factory(tiny)
    every = [p for op in OPERANDS[rule_id] for p in op]

    @FEW
    @given(S.valid_tasks(tiny), st.data())
    def check(task: dict[str, Any], data: st.DataObject) -> None:
        task = without(task, every)
        locked = {lock} if lock else set()
        assert kind.repair(factory, data.draw, rule, task, "", "", locked)
        found = given_operands(task, rule_id)
        assert len(found) == 1
        if added is not None:
            assert found == [added]

    check()


@pytest.mark.parametrize(
    ("lock", "kept"),
    [
        (None, ["inputs.frames"]),
        ("+width", ["width", "height"]),
        ("+inputs.frames", ["inputs.frames"]),
    ],
)
def test_exactly_one_repair_keeps_a_locked_operand_else_the_first(
    tiny: ModuleType, lock: str | None, kept: list[str]
) -> None:
    """Given both operands, repair removes all but one: the one a presence lock holds, else
    the first the rule names."""
    rule = next(r for r in tiny.tables.RULES if r["id"] == "frames-or-size")
    kind, factory = KINDS["exactlyOne"], S._factory(tiny)

    @FEW
    @given(S.valid_tasks(tiny, require=("inputs.frames",)), st.data())
    def check(task: dict[str, Any], data: st.DataObject) -> None:
        task.update(width=1280, height=720)
        locked = {lock} if lock else set()
        assert kind.repair(factory, data.draw, rule, task, "", "", locked)
        assert given_operands(task, "frames-or-size") == [kept]

    check()


@pytest.mark.parametrize("rule_id", list(OPERANDS))
def test_a_breaker_gives_none_or_every_operand_and_locks_them(
    tiny: ModuleType, rule_id: str
) -> None:
    """exactlyOne breaks with no operand or all of them; atLeastOne with none. Either way the
    rule is broken before repair, and what the breaker set is locked for repair to keep."""
    rule = next(r for r in tiny.tables.RULES if r["id"] == rule_id)
    kind, factory = KINDS[rule["kind"]], S._factory(tiny)
    every = [p for op in OPERANDS[rule_id] for p in op]
    ways = [[], OPERANDS[rule_id]] if rule["kind"] == "exactlyOne" else [[]]

    @FEW
    @given(S.valid_tasks(tiny), st.data())
    def check(task: dict[str, Any], data: st.DataObject) -> None:
        locked: set[str] = set()
        kind.break_(factory, data.draw, rule, task, locked)
        assert given_operands(task, rule_id) in ways
        assert rule_id in {v.rule for v in tiny.CONTRACT.violations(task)}
        assert {lock.lstrip("+") for lock in locked} >= set(every)

    check()


def test_repair_drops_a_requires_condition_that_another_rule_keeps_undoing() -> None:
    """Kling: inputs.elements requires inputs.frameImages, which exactlyOne removes while a
    lock holds width and height. Repair settles by dropping the requires rule's condition
    (the elements) rather than giving up on the task."""
    factory = S._factory(kling)

    @FEW
    @given(S.valid_tasks(kling, require=("inputs.elements",)), st.data())
    def check(task: dict[str, Any], data: st.DataObject) -> None:
        task.update(width=1920, height=1080)
        assert factory.repair(data.draw, task, {"+width", "+height"}, None) == []
        assert "elements" not in task["inputs"] and task["width"] == 1920

    check()
