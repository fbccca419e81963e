"""A pytest plugin for the mutation driver's coverage run: each test's setup, call and
teardown are recorded under the test's node id (coverage's ``test_function`` contexts miss the
fixtures), so the empty context holds only what importing and collecting ran. It also writes
how long each test took (``MUTATION_DURATIONS``), which sets each mutant's timeout."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

import coverage
import pytest

_durations: dict[str, float] = {}


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    cov = coverage.Coverage.current()
    if cov is not None:
        cov.switch_context(item.nodeid)
    started = time.monotonic()
    yield
    _durations[item.nodeid] = round(time.monotonic() - started, 3)
    if cov is not None:
        cov.switch_context("")


def pytest_sessionfinish() -> None:
    if path := os.environ.get("MUTATION_DURATIONS"):
        with open(path, "w", encoding="utf-8") as out:
            json.dump(_durations, out)
