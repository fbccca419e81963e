"""The memory store's expiry index against a plain dict of key -> time: whatever is added,
moved and dropped, ``due(now)`` hands out exactly the keys whose time has come, once, for any
bucket width, and keys whose time is later (in the same bucket too) stay."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.store.expiry import NEVER, ExpiryIndex

KEYS = st.integers(0, 30)
TIMES = st.one_of(st.floats(0, 50, allow_nan=False), st.integers(0, 50).map(float), st.just(NEVER))
ADD = st.tuples(st.just("add"), KEYS, TIMES)
DROP = st.tuples(st.just("drop"), KEYS, st.just(0.0))
DUE = st.tuples(st.just("due"), st.just(0), st.floats(0, 60, allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(
    width=st.sampled_from([0.25, 1.0, 7.0]),
    steps=st.lists(st.one_of(ADD, ADD, DROP, DUE), max_size=60),
)
def test_due_hands_out_exactly_the_keys_whose_time_has_come(
    width: float, steps: list[tuple[str, int, float]]
) -> None:
    index: ExpiryIndex[int] = ExpiryIndex(width)
    held: dict[int, float] = {}  # what a store holds: each key at its one current time
    for action, key, value in steps:
        if action == "add":  # a new time for a key: the old one is dropped from the index
            if key in held:
                index.discard(key, held[key])
            held[key] = value
            index.add(key, value)
        elif action == "drop":
            if key in held:
                index.discard(key, held.pop(key))
        else:
            now = value
            handed = list(index.due(now, held.get))
            expected = sorted(k for k, at in held.items() if at <= now)
            assert sorted(handed) == expected, (now, held)
            for k in handed:
                del held[k]
        assert len(index) == sum(1 for at in held.values() if at < math.inf)


@pytest.mark.parametrize("width", [0.5, 1.0, 10.0])
def test_a_key_due_at_the_instant_is_handed_out_and_one_just_after_is_kept(width: float) -> None:
    index: ExpiryIndex[str] = ExpiryIndex(width)
    times = {"early": 3.0, "now": 20.0, "later": 20.25, "never": NEVER}
    for key, at in times.items():
        index.add(key, at)
    assert sorted(index.due(20.0, times.get)) == ["early", "now"]
    assert list(index.due(20.0, times.get)) == []  # once
    assert list(index.due(20.25, times.get)) == ["later"]
    assert list(index.due(1e12, times.get)) == [] and len(index) == 0


def test_keys_added_and_dropped_while_due_is_suspended_are_never_lost_nor_handed_twice() -> None:
    index: ExpiryIndex[int] = ExpiryIndex(1.0)
    held = {k: float(k % 5) for k in range(40)}
    for k, at in held.items():
        index.add(k, at)
    handed: list[int] = []
    for k in index.due(2.5, held.get):
        handed.append(k)
        if k == handed[0]:  # meanwhile: one key due is dropped, one new due one added
            victim = next(v for v in held if held[v] <= 2.5 and v not in handed)
            index.discard(victim, held.pop(victim))
            held[100] = 1.0
            index.add(100, 1.0)
    leftover = list(index.due(2.5, held.get))
    assert len(handed) + len(leftover) == len(set(handed) | set(leftover))  # none twice
    assert set(handed) | set(leftover) == {k for k, at in held.items() if at <= 2.5}
    assert 100 in leftover or 100 in handed
