"""``ExpiryIndex``: the memory store's keys by when they expire, so that forgetting what
expired costs what expired, not a scan of everything held.

Keys sit in buckets of ``width`` seconds (a set per bucket, the buckets' numbers in a heap):
adding, moving and removing a key is O(1), and ``due`` walks only the buckets up to now. A
sweep of 1,000,000 held tasks of which none expired touches one bucket; one of which 100,000
expired takes them out a chunk at a time (the memory store yields to the event loop between
chunks), so no sweep freezes the loop (benchmarks/store_pauses.py measures it).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
NEVER = float("inf")


class ExpiryIndex(Generic[K]):
    """Keys by expiry time (seconds on the server's clock; infinity: never, not indexed)."""

    __slots__ = ("_buckets", "_numbers", "width")

    def __init__(self, width: float = 1.0) -> None:
        self.width = width
        self._buckets: dict[int, set[K]] = {}
        self._numbers: list[int] = []  # heap of the keys of _buckets

    def add(self, key: K, at: float) -> None:
        if at < NEVER:  # on every accepted task: no call it can do without
            number = int(at // self.width)
            bucket = self._buckets.get(number)
            if bucket is None:
                bucket = self._buckets[number] = set()
                heapq.heappush(self._numbers, number)
            bucket.add(key)

    def discard(self, key: K, at: float) -> None:
        """Forget ``key``, indexed at ``at`` (an empty bucket goes at the next ``due``)."""
        if at < NEVER:
            bucket = self._buckets.get(int(at // self.width))
            if bucket is not None:
                bucket.discard(key)

    def due(self, now: float, at: Callable[[K], float | None]) -> Iterator[K]:
        """Take out and yield each key whose time is ``now`` or before: every key of the
        buckets wholly past, and of the bucket holding ``now`` those whose ``at(key)`` (its
        current time; None: no longer held) says so. Safe to suspend between keys: a key
        added or removed meanwhile is seen or skipped, never lost from the index."""
        current = int(now // self.width)
        numbers, buckets = self._numbers, self._buckets
        while numbers and numbers[0] < current:
            number = numbers[0]
            bucket = buckets.get(number)
            if not bucket:
                heapq.heappop(numbers)
                buckets.pop(number, None)
                continue
            yield bucket.pop()
        bucket = buckets.get(current)
        if bucket:
            for key in list(bucket):  # at most one bucket's worth of keys
                when = at(key)
                if key in bucket and (when is None or when <= now):
                    bucket.discard(key)
                    yield key

    def clear(self) -> None:
        self._buckets.clear()
        self._numbers.clear()

    def __len__(self) -> int:
        return sum(map(len, self._buckets.values()))
