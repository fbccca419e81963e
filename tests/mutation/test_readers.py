"""A mutant of a value set at import (a class attribute, a module table) is run against the
tests that run the lines reading that value, in any module of the target: line coverage sees
the assignment itself run once, while importing, by no test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mutation.run import assigned, readers

KINDS = """\
class Kind:
    drops = False
    LIMIT: int = 3


class Adding(Kind):
    drops = True

    def go(self) -> int:
        return 1
"""
USER = """\
from kinds import Adding, LIMIT


def repair(kind):
    if kind.drops:
        return "dropped"
    return "kept"


def limit():
    return LIMIT
"""


def test_an_assignment_at_module_or_class_level_names_what_it_sets() -> None:
    assert assigned(KINDS, 2) == {"drops"}
    assert assigned(KINDS, 3) == {"LIMIT"}
    assert assigned(KINDS, 7) == {"drops"}
    assert assigned(KINDS, 10) == set()  # inside a function: run by tests, not at import
    assert assigned(KINDS, 1) == set()


def test_the_tests_reading_a_name_are_those_running_its_reading_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("kinds.py").write_text(KINDS, encoding="utf-8")
    Path("user.py").write_text(USER, encoding="utf-8")
    lines = {
        "kinds.py": {2: [], 7: [], 10: ["t::go"]},
        "user.py": {5: ["t::drop", "t::keep"], 6: ["t::drop"], 7: ["t::keep"], 11: ["t::limit"]},
    }
    assert readers({"drops"}, lines) == {"t::drop", "t::keep"}
    assert readers({"LIMIT"}, lines) == {"t::limit"}
    assert readers({"nothing"}, lines) == set()
