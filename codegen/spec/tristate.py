"""Three-valued logic for the consistency analysis: a constraint reads a partial
assignment and says True, False or None (not decided yet). Shared by the analysis
(``consistency.py``) and each kind's constraints (``kinds.py``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Value = Any  # a variable's value: provided or not, or an array's item count
Assignment = dict[str, Value]
Check = Callable[[Assignment], bool | None]


def any_of(values: Sequence[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def all_of(values: Sequence[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def implies(a: bool | None, b: bool | None) -> bool | None:
    return any_of([None if a is None else not a, b])
