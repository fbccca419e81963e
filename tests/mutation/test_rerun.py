"""A rerun of a report's survivors (``--survivors-of``) replaces exactly the entries it ran
again, also where a module has identical lines: each mutant's key counts the identical
mutants before it over the module's whole list, not over the few a rerun holds."""

from __future__ import annotations

from typing import Any

from tests.mutation.run import every_key, rerun_into, survivors

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


def test_a_rerun_after_the_code_changed_drops_mutants_gone_and_adds_new_ones() -> None:
    """A report made before a line was removed and another added: the rerun ran the new
    line's mutant (the report never saw it); the removed line's survivor leaves the score."""
    before = {
        "modules": {
            "m.py": {
                "mutants": [
                    entry(10, "killed"),
                    {**entry(20, "uncovered"), "code": "if gone:"},
                ]
            }
        }
    }
    new = {**entry(30, "killed", nth=0), "code": "if new:"}
    rerun = {"modules": {"m.py": {"mutants": [new]}}}
    current = {"m.py": [("m.py", "core/ZeroIterationForLoop", LOOP, 15, 0),
                        ("m.py", "core/ZeroIterationForLoop", "if new:", 15, 0)]}  # fmt: skip
    merged = rerun_into(before, rerun, current)["modules"]["m.py"]
    assert [(e["line"], e["outcome"]) for e in merged["mutants"]] == [
        (10, "killed"),
        (30, "killed"),
    ]
    assert (merged["total"], merged["killed"], merged["uncovered"]) == (2, 2, 0)
    assert every_key({"modules": {"m.py": merged}}) == set(current["m.py"])
