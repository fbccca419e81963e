"""tests/mutation/equivalents.toml names exactly the mutants it means: each entry's line is in
its module as it is now, and a line whose text recurs in the module is pinned to the function
(``in``) and, where needed, the line above (``after``) it means, so that excusing one mutant
never excuses an identical-looking one elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.mutation.run import enclosing, equivalents, matches, parsed

KEYS = {"module", "operator", "line", "reason", "in", "after"}
ENTRIES = equivalents()
# Each module's tree, parsed while collecting (before any server thread runs), and through
# tests.source_trees.parse: CPython 3.11 before 3.11.8 can fail an ast.parse made while another
# thread prints a traceback (python/cpython#106905); ``parsed`` keeps the trees made here.
for _module in sorted({entry["module"] for entry in ENTRIES}):
    parsed((REPO / _module).read_text(encoding="utf-8"))


def rows(entry: dict[str, Any]) -> list[int]:
    """The lines of its module the entry names now."""
    source = (REPO / entry["module"]).read_text(encoding="utf-8")
    count = len(source.splitlines())
    return [
        row
        for row in range(1, count + 1)
        if matches(entry, entry["module"], entry["operator"], source, row)
    ]


def entry_id(entry: dict[str, Any]) -> str:
    return f"{entry['module']}:{entry['line'].strip()[:40]}:{entry['operator'].split('/')[-1]}"


def test_there_are_entries() -> None:
    assert len(ENTRIES) > 10


@pytest.mark.parametrize("entry", ENTRIES, ids=entry_id)
def test_an_entry_names_lines_of_its_module_as_it_is(entry: dict[str, Any]) -> None:
    assert set(entry) <= KEYS and {"module", "operator", "line", "reason"} <= set(entry)
    assert entry["reason"].strip()
    assert rows(entry), f"no line of {entry['module']} is {entry['line'].strip()!r} any more"


@pytest.mark.parametrize("entry", ENTRIES, ids=entry_id)
def test_a_recurring_line_is_pinned_to_where_it_is_meant(entry: dict[str, Any]) -> None:
    source = (REPO / entry["module"]).read_text(encoding="utf-8")
    alike = [
        n for n, text in enumerate(source.splitlines(), 1) if text.strip() == entry["line"].strip()
    ]
    if len(alike) > 1:
        assert "in" in entry, (
            f"{entry['line'].strip()!r} is on lines {alike} of {entry['module']} "
            f"(in {sorted({enclosing(source, n) for n in alike})}): say which with `in`"
        )


def test_in_and_after_narrow_the_match(tmp_path: Path) -> None:
    source = "def f():\n    x = 1\n    return False\n\ndef g():\n    return False\n"
    base = {"module": "m.py", "operator": "op", "line": "return False", "reason": "r"}
    assert [r for r in range(1, 7) if matches(base, "m.py", "op", source, r)] == [3, 6]
    pinned = {**base, "in": "g"}
    assert [r for r in range(1, 7) if matches(pinned, "m.py", "op", source, r)] == [6]
    listed = {**base, "in": ["f", "g"], "after": "x = 1"}
    assert [r for r in range(1, 7) if matches(listed, "m.py", "op", source, r)] == [3]
    assert not matches(base, "m.py", "other", source, 3)
    assert not matches(base, "other.py", "op", source, 3)
    assert enclosing(source, 2) == "f" and enclosing(source, 4) == ""
