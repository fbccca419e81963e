"""pytest plugin (registered by entry point): fixtures for the Runware mock.

- ``runware_mock``: a fresh mock on a loopback port; a ``RunningMock`` with ``url``,
  ``ws_url``, ``server`` (its state) and ``client`` (httpx, key already set).
- ``runware_mock_inprocess``: the mock in-process, for ``respx_router``.
- ``runware_respx``: ``https://api.runware.ai`` answered by the in-process mock, for code
  under test that should need no configuration change.

Configure with ``@pytest.mark.runware_mock(job_seconds=0.2, api_keys={"k"}, seed=1)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .config import MockConfig
from .testing import InProcessMock, RunningMock, respx_router, serve

DEFAULT_JOB_SECONDS = 0.2


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "runware_mock(**settings): MockConfig settings for the runware_mock fixtures"
    )


def _config(request: pytest.FixtureRequest) -> MockConfig:
    marker = request.node.get_closest_marker("runware_mock")
    settings: dict[str, Any] = {"job_seconds": DEFAULT_JOB_SECONDS}
    if marker is not None:
        settings.update(marker.kwargs)
    if "api_keys" in settings:
        settings["api_keys"] = frozenset(settings["api_keys"])
    return MockConfig(**settings)


@pytest.fixture
def runware_mock(request: pytest.FixtureRequest) -> Iterator[RunningMock]:
    config = _config(request)
    key = next(iter(config.api_keys), "test-key")
    with serve(config, api_key=key) as mock:
        yield mock


@pytest.fixture
def runware_mock_inprocess(request: pytest.FixtureRequest) -> Iterator[InProcessMock]:
    from .app import MockServer

    with InProcessMock(MockServer(_config(request))) as mock:
        yield mock


@pytest.fixture
def runware_respx(runware_mock_inprocess: InProcessMock) -> Iterator[InProcessMock]:
    with respx_router(runware_mock_inprocess):
        yield runware_mock_inprocess
