"""A rerun of a report's survivors (``--survivors-of``) replaces exactly the entries it ran
again, also where a module has identical lines: each mutant's key counts the identical
mutants before it over the module's whole list, not over the few a rerun holds."""

from __future__ import annotations

from typing import Any

from tests.mutation.run import rerun_into, survivors

LOOP = "for key in a.keys() - b.keys():"


def entry(line: int, outcome: str, nth: int | None = None) -> dict[str, Any]:
    found = {"line": line, "code": LOOP, "operator": "core/ZeroIterationForLoop",
             "column": 15, "outcome": outcome, "killed_before": False}  # fmt: skip
    return found if nth is None else {**found, "nth": nth}


def test_a_rerun_of_the_second_of_two_identical_lines_replaces_that_one() -> None:
    before = {"modules": {"m.py": {"mutants": [entry(10, "killed"), entry(40, "survived")]}}}
    assert len(survivors(before)) == 1
    # the rerun ran only the survivor, the second of the two alike (nth 1), and killed it
    rerun = {"modules": {"m.py": {"mutants": [entry(42, "killed", nth=1)]}}}
    merged = rerun_into(before, rerun)["modules"]["m.py"]
    assert [(e["line"], e["outcome"]) for e in merged["mutants"]] == [
        (10, "killed"),
        (42, "killed"),
    ]
    assert merged["killed"] == 2 and merged["survived"] == 0
    assert not survivors({"modules": {"m.py": merged}})
