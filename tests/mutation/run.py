"""`nox -s mutation`'s driver: cosmic-ray's mutants of each module, each run against only the
tests whose coverage reaches the mutated lines, with -x and a timeout.

Run from a temporary copy of the checkout (the noxfile makes it): the mutants are written to
the copy's files, never to the working tree. Steps:

1. ``cosmic-ray init`` lists each module's mutants (the operators of ``SKIPPED`` filtered out).
2. One coverage run of the module's tests, with coverage's ``test_function`` dynamic context,
   maps each line to the tests that execute it (tests that fail unmutated are left out).
3. Each mutant is applied and the tests reaching its lines run, main's tests first (a test
   counts as main's when main has the same function, byte for byte). A failure kills the
   mutant; the first failing test says whether main's suite already killed it (the "before"
   score) or only a newer test did. A mutant no test reaches is "uncovered" (a survivor)
   without a run: code only a server subprocess runs (tests/hostile) is not mapped.
4. Survivors listed in ``equivalents.toml`` (with the reason) leave the score's denominator.

``build/mutation.json`` holds the score per module (before/after), the time each took and
every survivor; ``build/mutation/survivors.txt`` their diffs.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import functools
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tests.source_trees import parse

HERE = Path(__file__).parent
EQUIVALENTS = HERE / "equivalents.toml"

# The nearest mutation of each operator only (< to <=, + to -, == to !=, is to is not),
# and/or swaps, True/False, empty loops, dropped decorators, unary operators.
NEAREST = {"Binary": "Add_Sub|Sub_Add|Mul_Div|Div_Mul|FloorDiv_Mul|Mod_FloorDiv",
           "Comparison": "Eq_NotEq|NotEq_Eq|Lt_LtE|LtE_Lt|Gt_GtE|GtE_Gt|Is_IsNot|IsNot_Is|"
                         "In_NotIn|NotIn_In"}  # fmt: skip
SKIPPED = [
    *(f"core/Replace{kind}Operator_(?!({pairs})$)" for kind, pairs in NEAREST.items()),
    "core/ReplaceUnaryOperator_(?!Delete_)",
    "core/AddNot",
    "core/NumberReplacer",
]

# The mock's tests that reach these modules (rendering, containers, the CLI, the dashboard and
# the plugin's own tests do not, and cost most of tests/mock's time).
MOCK_TESTS = [
    *(f"tests/mock/test_{name}.py" for name in (
        "body", "limits", "websocket", "security", "logs", "scenarios", "admin", "completion",
        "delivery", "engine", "store", "expiry", "redis", "rest", "direct", "app",
        "image_size", "supervise", "task_types")),
    "tests/test_boundaries.py",
]  # fmt: skip
RUNTIME_TESTS = ["tests/runtime", "tests/test_boundaries.py", "tests/codegen/test_rule_kinds.py"]
DOCS_TESTS = [
    "tests/codegen/test_docs_import.py",
    "tests/codegen/test_docs_loop.py",
    "tests/codegen/test_phrasings.py",
    "tests/codegen/test_provider_pages.py",
    "tests/codegen/test_format_patterns.py",
    "tests/codegen/test_image_pages.py",
    "tests/codegen/test_family.py",
    "tests/codegen/test_docs_facts.py",
    "tests/codegen/test_docs_merge.py",
    "tests/codegen/test_docs_page.py",
]


@dataclasses.dataclass(frozen=True)
class Target:
    """Modules mutated against one set of tests."""

    modules: list[str]
    tests: list[str]


TARGETS = {
    "runtime": Target(["codegen/runtime"], RUNTIME_TESTS),
    "consistency": Target(
        ["codegen/spec/consistency.py"],
        [
            "tests/codegen/test_consistency.py",
            "tests/codegen/test_consistency_forms.py",
            "tests/codegen/test_spec_loader.py",
        ],
    ),
    "docs": Target(["codegen/docs"], [*DOCS_TESTS, "tests/codegen/test_facts.py"]),
    "diff": Target(
        ["codegen/diff.py"],
        ["tests/codegen/test_diff.py", "tests/codegen/test_docs_loop.py", *DOCS_TESTS[:1]],
    ),
    "limits": Target(["mockserver/protocols/limits.py"], MOCK_TESTS),
    "security": Target(["mockserver/base/security.py"], MOCK_TESTS),
    "scenarios": Target(["mockserver/core/scenarios.py"], MOCK_TESTS),
    "completion": Target(["mockserver/lifecycle/completion.py"], MOCK_TESTS),
    "delivery": Target(["mockserver/lifecycle/delivery.py"], MOCK_TESTS),
    "websocket": Target(["mockserver/http/websocket.py"], MOCK_TESTS),
    "engine": Target(["mockserver/core/engine.py"], MOCK_TESTS),
    "stores": Target(["mockserver/store"], MOCK_TESTS),
}

PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfE", "--no-header"]
FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.M)


def files_of(modules: Iterable[str]) -> list[str]:
    found: list[str] = []
    for module in modules:
        path = Path(module)
        found += sorted(str(p) for p in path.rglob("*.py")) if path.is_dir() else [module]
    return [f for f in found if Path(f).stat().st_size and not f.endswith("__init__.py")]


def mutants(name: str, modules: list[str], work: Path) -> list[dict[str, Any]]:
    """cosmic-ray's mutation specs of ``modules``, the skipped operators filtered out."""
    config, db = work / f"{name}.toml", work / f"{name}.sqlite"
    db.unlink(missing_ok=True)
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(modules)}\n"
        'timeout = 1.0\nexcluded-modules = []\ntest-command = "true"\n'
        '[cosmic-ray.distributor]\nname = "local"\n'
        "[cosmic-ray.filters.operators-filter]\n"
        f"exclude-operators = {json.dumps(SKIPPED)}\n",
        encoding="utf-8",
    )
    subprocess.run(["cosmic-ray", "init", str(config), str(db)], check=True)
    subprocess.run(["cr-filter-operators", str(db), str(config)], check=True)
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            "SELECT * FROM mutation_specs WHERE job_id NOT IN (SELECT job_id FROM work_results) "
            "ORDER BY module_path, start_pos_row, start_pos_col, operator_name, occurrence"
        ).fetchall()
    return [dict(row) for row in rows if not bare_star(dict(row))]


BARE_STAR = re.compile(r"\*\s*(,|\)|$)")


def bare_star(spec: dict[str, Any]) -> bool:
    """cosmic-ray's parse tree calls the bare ``*`` of a signature (keyword-only parameters
    follow) a multiplication, and "mutates" it to ``/``: no operator is changed, so it is no
    mutant of the catalogue."""
    if not spec["operator_name"].startswith("core/ReplaceBinaryOperator_Mul_"):
        return False
    line = (
        Path(spec["module_path"])
        .read_text(encoding="utf-8")
        .splitlines()[spec["start_pos_row"] - 1]
    )
    return bool(BARE_STAR.match(line, spec["start_pos_col"]))


def coverage_map(target: Target, files: list[str], work: Path, name: str) -> dict[str, Any]:
    """For each file, each line's tests (node ids; setup and teardown count as the test's);
    the lines run outside any test (importing, collecting); the tests that fail unmutated;
    and each test's duration."""
    data, rc = work / f"{name}.coverage", work / f"{name}.coveragerc"
    durations_file, failing_file = work / f"{name}.durations.json", work / f"{name}.failing.json"
    rc.write_text(
        "[run]\nbranch = false\n"
        f"include =\n    {chr(10).join('    ' + str(Path(f).resolve()) for f in files)}\n",
        encoding="utf-8",
    )
    started = time.monotonic()
    if not (data.exists() and failing_file.exists()):  # else: a run of this copy, interrupted
        run = subprocess.run(
            [sys.executable, "-m", "coverage", "run", f"--rcfile={rc}", f"--data-file={data}",
             *PYTEST[1:], "-p", "tests.mutation.contexts", *target.tests],
            capture_output=True, text=True,
            env={**os.environ, "MUTATION_DURATIONS": str(durations_file)},
        )  # fmt: skip
        failing = {f for f in FAILED.findall(run.stdout)}
        failing_file.write_text(json.dumps(sorted(failing)), encoding="utf-8")
    failing = set(json.loads(failing_file.read_text(encoding="utf-8")))
    durations = json.loads(durations_file.read_text(encoding="utf-8"))
    return {**read_map(files, data, failing), "durations": durations,
            "seconds": time.monotonic() - started}  # fmt: skip


def read_map(files: list[str], data: Path, failing: set[str]) -> dict[str, Any]:
    from coverage import CoverageData

    cov = CoverageData(basename=str(data))
    cov.read()
    lines: dict[str, dict[int, list[str]]] = {}
    imported: dict[str, list[int]] = {}
    for file in files:
        # by its path in the checkout (the map may come from another copy of it)
        found = [m for m in cov.measured_files() if m.endswith(f"/{file}")]
        by_line = cov.contexts_by_lineno(found[0]) if found else {}
        imported[file] = sorted(line for line, contexts in by_line.items() if "" in contexts)
        lines[file] = {
            line: sorted({c for c in contexts if c and c not in failing})
            for line, contexts in by_line.items()
        }
    return {"lines": lines, "imported": imported, "failing": sorted(failing)}


def main_tests(origin: Path, base: str, paths: Iterable[str]) -> set[str]:
    """Test ids (``file::func`` or ``file::Class::func``) whose source is the same on ``base``."""
    same: set[str] = set()
    for path in sorted({p for t in paths for p in [t.split("::")[0]]}):
        shown = subprocess.run(
            ["git", "-C", str(origin), "show", f"{base}:{path}"], capture_output=True, text=True
        )
        if shown.returncode:
            continue
        old, new = functions(shown.stdout), functions(Path(path).read_text(encoding="utf-8"))
        same |= {f"{path}::{name}" for name, body in new.items() if old.get(name) == body}
    return same


def functions(source: str) -> dict[str, str]:
    tree = parse(source)
    found: dict[str, str] = {}
    for node in tree.body:
        members = node.body if isinstance(node, ast.ClassDef) else [node]
        prefix = f"{node.name}::" if isinstance(node, ast.ClassDef) else ""
        for member in members:
            if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef):
                found[prefix + member.name] = ast.dump(member)
    return found


def equivalents() -> list[dict[str, Any]]:
    if not EQUIVALENTS.exists():
        return []
    return list(tomllib.loads(EQUIVALENTS.read_text(encoding="utf-8")).get("mutant", []))


@functools.lru_cache(maxsize=32)
def parsed(source: str) -> ast.Module:
    """``source``'s tree, parsed once (every mutant of a module asks where it is)."""
    return parse(source)


def enclosing(source: str, row: int) -> str:
    """The qualified name of the innermost function or class holding line ``row`` (its
    decorators included), e.g. ``Factory.add``; "" at module level."""
    names: list[str] = []
    body = parsed(source).body
    while True:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if start <= row <= (node.end_lineno or node.lineno):
                    names.append(node.name)
                    body = node.body
                    break
        else:
            return ".".join(names)


def assigned(source: str, row: int) -> set[str]:
    """The names a module-level or class-body assignment on line ``row`` sets (a table, a
    constant, a class attribute): nothing for any other line."""
    found: set[str] = set()
    bodies = [parsed(source).body]
    while bodies:
        for node in bodies.pop():
            if isinstance(node, ast.ClassDef):
                bodies.append(node.body)
            elif isinstance(node, ast.Assign | ast.AnnAssign) and (
                node.lineno <= row <= (node.end_lineno or node.lineno)
            ):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found |= {t.id for t in targets if isinstance(t, ast.Name)}
    return found


def readers(names: set[str], lines: dict[str, dict[int, list[str]]]) -> set[str]:
    """The tests that run a line reading any of ``names`` (as a name or an attribute) in the
    files of ``lines`` (each file's tests by line): the tests a value set at import reaches,
    which line coverage alone cannot tell (it sees the assignment run once, while importing)."""
    found: set[str] = set()
    for file in lines:
        for node in ast.walk(parsed(Path(file).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                read = node.id in names
            elif isinstance(node, ast.Attribute):
                read = node.attr in names
            else:
                continue
            if read:
                found.update(lines.get(file, {}).get(node.lineno, []))
    return found


def preceding(source: str, row: int) -> str:
    """The text of the nearest non-blank line above line ``row``, stripped."""
    above = [text.strip() for text in source.splitlines()[: row - 1] if text.strip()]
    return above[-1] if above else ""


def matches(entry: dict[str, Any], module: str, operator: str, source: str, row: int) -> bool:
    """Whether an equivalents.toml entry names the mutant of ``operator`` at line ``row`` of
    ``module`` (``source``): the module, the operator and the line's text, and where a text
    recurs, the function it is in (``in``: a name or a list) and the line above (``after``)."""
    if entry["module"] != module or entry["operator"] != operator:
        return False
    lines = source.splitlines()
    if not (0 < row <= len(lines) and entry["line"].strip() == lines[row - 1].strip()):
        return False
    where = entry.get("in")
    if where is not None and enclosing(source, row) not in (
        [where] if isinstance(where, str) else where
    ):
        return False
    return "after" not in entry or entry["after"].strip() == preceding(source, row)


def is_equivalent(
    spec: dict[str, Any], source: str, row: int, known: list[dict[str, Any]]
) -> str | None:
    for entry in known:
        if matches(entry, spec["module_path"], spec["operator_name"], source, row):
            return str(entry["reason"])
    return None


MOST_TESTS = (20, 10)  # of main's and of newer tests run against one mutant
MOST_SECONDS = 15.0  # of those tests' unmutated durations (in the coverage run), the first kept
MOST_AFTER_SECONDS = 90.0  # of the tests run against a survivor of the first round


def chosen(
    reach: set[str], from_main: set[str], module: str, durations: dict[str, float]
) -> tuple[list[str], list[str]]:
    """The tests to run against a mutant, in two rounds, main's first in each (for the "before"
    score): one case of each test function before a second case of any; among those, the tests
    of the module named after the mutated one first, then the quickest. The first round holds
    at most MOST_TESTS and MOST_SECONDS of them (one at least); the second, run only when the
    mutant survives the first, the rest, quickest first, as many as fit in MOST_AFTER_SECONDS
    (a count would cut a module's hundreds of quick tests short of the one that kills)."""
    named = f"test_{Path(module).stem}.py"

    def ordered(tests: Iterable[str]) -> list[str]:
        seen: dict[str, int] = {}
        ranked = []
        for test in sorted(tests):
            function = test.split("[")[0]
            seen[function] = seen.get(function, 0) + 1
            in_named = function.split("::")[0].endswith(named)
            ranked.append((seen[function], not in_named, durations.get(test, 1.0), test))
        return [test for *_, test in sorted(ranked)]

    old = ordered(t for t in reach if t.split("[")[0] in from_main)
    new = ordered(t for t in reach if t.split("[")[0] not in from_main)
    picked: list[str] = []
    spent = 0.0
    for test in old[: MOST_TESTS[0]] + new[: MOST_TESTS[1]]:
        spent += durations.get(test, 1.0)
        if picked and spent > MOST_SECONDS:
            continue
        picked.append(test)
    rest: list[str] = []
    spent = 0.0  # the quickest first: as many as fit, every case of a function a candidate
    for seconds, test in sorted((durations.get(t, 1.0), t) for t in old + new if t not in picked):
        if spent + seconds <= MOST_AFTER_SECONDS:
            rest.append(test)
            spent += seconds
    return picked, rest


def typing_only(source: str) -> set[int]:
    """The lines of ``Protocol`` classes and ``if TYPE_CHECKING:`` blocks: read by type
    checkers only, so no mutant there can change what runs."""
    lines: set[int] = set()
    for node in ast.walk(parse(source)):
        if isinstance(node, ast.ClassDef):
            bases = [getattr(b, "id", getattr(b, "attr", "")) for b in node.bases]
            if "Protocol" in bases:
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines.update(range(first, (node.end_lineno or node.lineno) + 1))
        elif isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def run_fresh(tests: list[str], timeout: float) -> tuple[str, str | None, str]:
    """("killed" | "survived" | "timeout", the first failing test, pytest's output tail):
    ``tests`` with -x in a new interpreter (which imports the mutated module from disk), its
    process group killed past ``timeout``."""
    with subprocess.Popen(
        [*PYTEST, "-x", *tests], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    ) as child:  # fmt: skip
        try:
            output, _ = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            return "timeout", None, ""
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
    if child.returncode in (0, 5):
        return "survived", None, ""
    if child.returncode not in (1, 2):  # (4: the mutant breaks importing the conftest)
        return "killed", None, output[-1500:]
    first = FAILED.search(output)
    return "killed", first.group(1) if first else None, output[-1500:]


class Group:
    """The targets that share one set of tests, run in one pytest session."""

    def __init__(self, names: list[str], args: argparse.Namespace) -> None:
        self.names, self.args = names, args
        self.tests = TARGETS[names[0]].tests
        self.work = Path(args.work)
        self.results: dict[str, dict[str, Any]] = {}
        self.passing: set[str] = set()
        self.prior: dict[str, Any] | None = None
        self.current: dict[str, dict[str, list[Key]]] = {}  # each target's mutants by module
        if args.survivors_of:
            prior = Path(args.origin) / args.survivors_of  # (relative: to the checkout)
            self.prior = json.loads(prior.read_text(encoding="utf-8"))
            if "targets" not in self.prior:  # a run's partial file: one target's modules
                self.prior = {"targets": {n: {"modules": self.prior} for n in names}}

    def run(self) -> None:
        from tests.mutation.insession import MutantLoop

        files = files_of(m for n in self.names for m in TARGETS[n].modules)
        self.covered = coverage_map(TARGETS[self.names[0]], files, self.work, self.names[0])
        code = pytest_main([*PYTEST[3:], *self.tests], plugins=[MutantLoop(self.mutate_all)])
        if code not in (0, 5) or set(self.results) != set(self.names):
            raise SystemExit(f"the driver's pytest session ended with {code}")

    def mutate_all(self, loop: Any) -> None:
        for name in self.names:
            started = time.monotonic()
            result = self.mutate(name, loop)
            if self.prior and name in self.prior["targets"]:
                result = rerun_into(self.prior["targets"][name], result, self.current[name])
            result["seconds"] = round(time.monotonic() - started)
            result["coverage_seconds"] = round(self.covered["seconds"])
            result["failing_unmutated"] = self.covered["failing"]
            result["measured"] = time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime())
            self.results[name] = result
            write_report(Path(self.args.report), name, result)
            for module, summary_ in result["modules"].items():
                s = {k: v for k, v in summary_.items() if k != "mutants"}
                print(f"{module}: {s}", flush=True)
            print(f"{name}: {result['seconds']} s", flush=True)

    def timeout(self, tests: list[str]) -> float:
        durations: dict[str, float] = self.covered["durations"]
        most: float = self.args.timeout
        return min(most, 10.0 + 5 * sum(durations.get(t, 1.0) for t in tests))

    def mutate(self, name: str, loop: Any) -> dict[str, Any]:
        from cosmic_ray.mutating import use_mutation
        from cosmic_ray.plugins import get_operator

        from tests.mutation import patching

        covered = self.covered
        specs = mutants(name, files_of(TARGETS[name].modules), self.work)
        # keyed over the whole list: a key counts the identical mutants before it
        pairs = list(zip(specs, spec_keys(specs), strict=True))
        self.current[name] = {}
        for _, key in pairs:
            self.current[name].setdefault(key[0], []).append(key)
        if self.prior:  # what it left alive, and what it never saw (code changed since)
            prior = self.prior["targets"].get(name, {"modules": {}})
            rerun, seen = survivors(prior), every_key(prior)
            pairs = [(s, k) for s, k in pairs if k in rerun or k not in seen]
        every = {t for by_line in covered["lines"].values() for ts in by_line.values() for t in ts}
        from_main = main_tests(Path(self.args.origin), self.args.base, every)
        known = equivalents()
        results: dict[str, dict[str, Any]] = {}
        partial = self.work / f"{name}.partial.json"  # what an interrupted run measured
        measured = json.loads(partial.read_text()) if partial.exists() else {}
        done = {  # (survivors run again: the driver may have learnt to kill or skip them)
            key: e
            for module, found in measured.items()
            for key, e in zip(entry_keys(module, found["mutants"]), found["mutants"], strict=True)
            if e["outcome"] == "killed"
        }
        for spec, key in pairs:
            module = spec["module_path"]
            original = Path(module).read_text(encoding="utf-8")
            rows = range(spec["start_pos_row"], spec["end_pos_row"] + 1)
            by_line = covered["lines"][module]
            reach = {t for row in rows for t in by_line.get(row, [])}
            at_import = any(row in covered["imported"][module] for row in rows)
            if not reach and at_import:  # run at import: the tests that read what it set,
                names = assigned(original, spec["start_pos_row"])  # else all the module's
                reach = readers(names, covered["lines"]) if names else set()
                reach = reach or {t for ts in by_line.values() for t in ts}
            tests, rest = chosen(reach, from_main, module, covered["durations"])
            known_entry = done.get(key)
            if known_entry is not None:  # measured by an interrupted run of this copy
                results.setdefault(module, {"mutants": []})["mutants"].append(known_entry)
                continue
            operator_args = json.loads(spec["operator_args"] or "{}")
            if isinstance(operator_args, str):  # (cosmic-ray stores them encoded twice)
                operator_args = json.loads(operator_args)
            operator = get_operator(spec["operator_name"])(**operator_args)
            how, first = "none", None
            with contextlib.ExitStack() as stack:
                try:
                    _, mutated = stack.enter_context(
                        use_mutation(Path(module), operator, spec["occurrence"])
                    )
                except AttributeError:  # cosmic-ray's ExceptionReplacer on ``except (a.B, C)``
                    print(f"{module}:{spec['start_pos_row']} {spec['operator_name']}: "
                          "cosmic-ray cannot make this mutant (left out)", flush=True)  # fmt: skip
                    continue
                if mutated is None:
                    continue
                if any(row in typing_only(original) for row in rows):
                    outcome = "typing"
                elif not tests:  # (code only a server subprocess runs is not mapped)
                    outcome = "uncovered"
                else:
                    changes = patching.plan(original, mutated, module)
                    for round_ in (tests, rest):
                        if not round_:
                            continue
                        outcome, first, how = self.attempt(round_, changes, at_import, loop, module)
                        if outcome == "killed":
                            break
                        tests = tests + round_ if round_ is rest else tests
            line = original.splitlines()[spec["start_pos_row"] - 1]
            before = outcome == "killed" and (first is None or first.split("[")[0] in from_main)
            entry = {
                "line": spec["start_pos_row"],
                "code": line.strip(),
                "operator": spec["operator_name"],
                "occurrence": spec["occurrence"],
                "column": spec["start_pos_col"],
                "nth": key[-1],
                "outcome": outcome,
                "killed_by": first,
                "killed_before": before,
                "tests": len(tests),
                "reaching": len(reach),  # more than "tests": a survivor of the capped selection
                "run": how,
            }
            if outcome in ("survived", "uncovered") and (
                reason := is_equivalent(spec, original, spec["start_pos_row"], known)
            ):
                entry["outcome"], entry["reason"] = "equivalent", reason
            elif outcome == "typing":
                entry["outcome"], entry["reason"] = "equivalent", typing_only.__doc__
            results.setdefault(module, {"mutants": []})["mutants"].append(entry)
            partial.write_text(json.dumps(results), encoding="utf-8")
            print(f"{module}:{entry['line']} {entry['operator']} {entry['outcome']} ({how})",
                  flush=True)  # fmt: skip
        unsound = self.flaky({e["killed_by"] for r in results.values() for e in r["mutants"]}, loop)
        for entry in (e for r in results.values() for e in r["mutants"]):
            if entry["killed_by"] in unsound:  # it fails unmutated too: no evidence
                entry["outcome"], entry["killed_before"] = "survived", False
        for result in results.values():
            result.update(summary(result["mutants"]))
        return {"modules": results}

    def attempt(
        self, tests: list[str], changes: Any, at_import: bool, loop: Any, module: str
    ) -> tuple[str, str | None, str]:
        """(outcome, the first failing test, "patched" | "fresh"): one round of ``tests``."""
        outcome, first = "unpatched", None
        if changes is not None:
            outcome, first, _ = loop.run(tests, self.timeout(tests), changes, module)
            # A line run while importing may have built state the patch cannot reach (tables
            # compiled at import): a kill stands, a survivor is run afresh.
            if outcome == "killed" or (not at_import and outcome != "unpatched"):
                return outcome, first, "patched"
        outcome, first, _ = run_fresh(tests, self.args.timeout)
        return outcome, first, "fresh"

    def flaky(self, killers: set[str | None], loop: Any) -> set[str]:
        """The tests among ``killers`` that fail without a mutant (run once each, unmutated)."""
        found = set()
        for test in sorted(t for t in killers if t and t not in self.passing):
            outcome, _, _ = loop.run([test], self.timeout([test]))
            if outcome == "survived":
                self.passing.add(test)
            else:
                found.add(test)
                print(f"{test} fails unmutated: its kills do not count", flush=True)
        return found


Key = tuple[str, str, str, int, int]


def keys(mutants_: list[tuple[str, str, str, int]]) -> list[Key]:
    """Each mutant (module, operator, the line's text, column) as it stays when lines move,
    with how many alike came before it (identical lines, such as two ``@property``)."""
    seen: dict[tuple[str, str, str, int], int] = {}
    found = []
    for mutant in mutants_:
        seen[mutant] = seen.get(mutant, -1) + 1
        found.append((*mutant, seen[mutant]))
    return found


def spec_keys(specs: list[dict[str, Any]]) -> list[Key]:
    texts = {m: Path(m).read_text(encoding="utf-8").splitlines() for m in
             {s["module_path"] for s in specs}}  # fmt: skip
    return keys([(s["module_path"], s["operator_name"],
                  texts[s["module_path"]][s["start_pos_row"] - 1].strip(), s["start_pos_col"])
                 for s in specs])  # fmt: skip


def entry_keys(module: str, entries: list[dict[str, Any]]) -> list[Key]:
    """The entries' keys: the count of identical mutants before each is the one its run
    recorded (``nth``, counted over the module's whole list: a rerun holds only some), or for
    an entry without it, counted over ``entries`` (a whole module's list, as a first run's)."""
    counted = keys([(module, e["operator"], e["code"], e.get("column", -1)) for e in entries])
    return [(*k[:-1], e.get("nth", k[-1])) for k, e in zip(counted, entries, strict=True)]


def survivors(result: dict[str, Any]) -> set[Key]:
    """The mutants a target's ``result`` has not killed."""
    return {
        key
        for module, found in result["modules"].items()
        for key, e in zip(entry_keys(module, found["mutants"]), found["mutants"], strict=True)
        if e["outcome"] not in ("killed", "equivalent")
    }


def every_key(result: dict[str, Any]) -> set[Key]:
    """The mutants a target's ``result`` holds, whatever their outcome."""
    return {k for m, found in result["modules"].items() for k in entry_keys(m, found["mutants"])}


def rerun_into(
    before: dict[str, Any], rerun: dict[str, Any], current: dict[str, list[Key]] | None = None
) -> dict[str, Any]:
    """``before`` (a target's result) with the mutants ``rerun`` ran again replaced. Given
    ``current`` (each module's mutants as its code is now), each module's entries follow it:
    a mutant the code no longer has is dropped, a new one (which ``rerun`` ran) is added."""
    merged: dict[str, Any] = json.loads(json.dumps(before))
    modules = merged["modules"]
    for module in [*modules, *(m for m in rerun["modules"] if m not in modules)]:
        entries = modules.get(module, {"mutants": []})["mutants"]
        again = rerun["modules"].get(module, {"mutants": []})["mutants"]
        keys = entry_keys(module, entries)
        by_key = dict(zip(keys, entries, strict=True))
        by_key.update(zip(entry_keys(module, again), again, strict=True))
        order = keys if current is None else current.get(module, [])
        kept = [by_key[key] for key in order if key in by_key]
        modules[module] = {**modules.get(module, {}), "mutants": kept, **summary(kept)}
    merged["rerun"] = sum(len(f["mutants"]) for f in rerun["modules"].values())
    return merged


def pytest_main(args: list[str], plugins: list[Any]) -> int:
    import pytest

    return int(pytest.main(args, plugins=plugins))


def write_report(path: Path, name: str, result: dict[str, Any]) -> None:
    """``result`` as target ``name`` of the report at ``path``, under a lock: drivers of
    other targets may write it at the same time."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        report = json.loads(path.read_text()) if path.exists() else {"targets": {}}
        report["targets"][name] = result
        path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


def summary(entries: list[dict[str, Any]]) -> dict[str, Any]:
    count = {
        k: sum(e["outcome"] == k for e in entries)
        for k in ("killed", "timeout", "error", "survived", "uncovered", "equivalent")
    }
    scored = len(entries) - count["equivalent"]
    killed = count["killed"]  # a timeout is not counted: it may be a slow survivor
    before = sum(e["killed_before"] for e in entries)
    return {**count, "total": len(entries), "score": round(killed / max(scored, 1), 4),
            "score_before": round(before / max(scored, 1), 4)}  # fmt: skip


def reclassified(report: dict[str, Any]) -> dict[str, Any]:
    """``report`` with equivalents.toml applied to its survivors, and its scores anew."""
    known = equivalents()
    for target in report["targets"].values():
        for module, result in target["modules"].items():
            source = Path(module).read_text(encoding="utf-8")  # as the report measured it
            for entry in result["mutants"]:
                spec = {"module_path": module, "operator_name": entry["operator"]}
                if entry["outcome"] in ("survived", "uncovered", "equivalent"):
                    reason = is_equivalent(spec, source, entry["line"], known)
                    if reason:
                        entry["outcome"], entry["reason"] = "equivalent", reason
            result.update(summary(result["mutants"]))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help=f"of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--origin", required=True, help="the checkout (its git history)")
    parser.add_argument("--base", default="main", help="whose tests count as 'before'")
    parser.add_argument("--work", required=True, help="a folder for databases")
    parser.add_argument("--report", required=True, help="the JSON report (merged into)")
    parser.add_argument("--timeout", type=float, default=120.0, help="most seconds per mutant")
    parser.add_argument(
        "--survivors-of", metavar="REPORT",
        help="run only the mutants an earlier report has not killed or does not hold",
    )  # fmt: skip
    parser.add_argument(
        "--only-report", action="store_true", help="apply equivalents.toml to the report anew"
    )
    args = parser.parse_args()
    report_path = Path(args.report)
    if args.only_report:
        report = json.loads(report_path.read_text())
        report_path.write_text(json.dumps(reclassified(report), indent=1) + "\n", encoding="utf-8")
        return
    groups: dict[tuple[str, ...], list[str]] = {}
    for name in args.targets or list(TARGETS):
        groups.setdefault(tuple(TARGETS[name].tests), []).append(name)
    if len(groups) > 1:  # one pytest session per set of tests: each in its own interpreter
        flags = [a for a in sys.argv[1:] if a not in TARGETS]
        for names in groups.values():
            subprocess.run([sys.executable, "-m", "tests.mutation.run", *names, *flags], check=True)
        return
    Group(next(iter(groups.values())), args).run()
    os.sync()


if __name__ == "__main__":
    main()
