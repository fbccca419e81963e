"""pytest plugin (registered by entry point): fixtures for the Runware mock.

- ``runware_mock``: a fresh mock on a loopback port for one test; a ``RunningMock`` with
  ``url``, ``ws_url``, ``api_key``, ``server`` (its state), ``client`` (httpx, key already
  set), ``run(tasks)``, ``arm(scenario)`` and ``reset()``.
- ``runware_mock_shared``: one mock on a loopback port for the whole session, reset
  (``POST /__admin/reset``: tasks, scenarios, journal, pending results) before each test
  that uses it. Session-scoped, so Hypothesis's ``@given`` tests can use it (a
  function-scoped fixture lives across all examples of a test, which Hypothesis refuses).
  Its settings come from the ``runware_mock_shared_config`` fixture: override it (session
  scope, returning a ``MockConfig``) to change them.
- ``runware_mock_inprocess``: the mock in-process, for ``respx_router``.
- ``runware_respx``: ``https://api.runware.ai`` answered by the in-process mock, for code
  under test that should need no configuration change.

Configure the function-scoped ones with
``@pytest.mark.runware_mock(job_seconds=0.2, api_keys={"k"}, seed=1)`` (``MockConfig``'s
fields). The plugin is loaded in every install; it imports the mock (the ``[testing]``
extra) only when a fixture is used, and a fixture whose extra is missing fails naming it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from .extras import MissingExtra, needs_extra

if TYPE_CHECKING:
    from .core.config import MockConfig
    from .testing import InProcessMock, RunningMock

# the fixtures' job times: short, so tests (and property suites drawing image tasks, each
# answered once its sync job is done) run fast
DEFAULT_JOB_SECONDS = 0.2
DEFAULT_SYNC_JOB_SECONDS = 0.05
MARKER = "runware_mock"
SHARED = "runware_mock_shared"
_CONFIGURABLE = ("runware_mock", "runware_mock_inprocess", "runware_respx")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**settings): MockConfig settings for the runware_mock fixtures",
    )


def _testing(fixture: str) -> ModuleType:
    """``mockserver.testing``, or a test failure naming the extra to install."""
    try:
        with needs_extra("testing", f"the {fixture} fixture"):
            from . import testing
    except MissingExtra as missing:
        hint = str(missing)
    else:
        return testing
    pytest.fail(hint, pytrace=False)  # outside the except: the hint once, not chained


def _config(request: pytest.FixtureRequest) -> MockConfig:
    from .core.config import MockConfig

    settings: dict[str, Any] = {
        "job_seconds": DEFAULT_JOB_SECONDS,
        "sync_job_seconds": DEFAULT_SYNC_JOB_SECONDS,
    }
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        known = {f.name for f in dataclasses.fields(MockConfig) if f.init}
        unknown = sorted(set(marker.kwargs) - known)
        if marker.args or unknown:
            given = ", ".join([*map(repr, marker.args), *unknown])
            pytest.fail(
                f"@pytest.mark.{MARKER}: unknown setting(s) {given}; it takes keyword "
                f"settings of MockConfig: {', '.join(sorted(known))}",
                pytrace=False,
            )
        settings.update(marker.kwargs)
    if "api_keys" in settings:
        settings["api_keys"] = frozenset(settings["api_keys"])
    return MockConfig(**settings)


def _serve(testing: ModuleType, config: MockConfig) -> Any:
    return testing.serve(config, api_key=next(iter(config.api_keys), "test-key"))


@pytest.fixture
def runware_mock(request: pytest.FixtureRequest) -> Iterator[RunningMock]:
    testing = _testing("runware_mock")
    with _serve(testing, _config(request)) as mock:
        yield mock


@pytest.fixture(scope="session")
def runware_mock_shared_config() -> MockConfig:
    """The settings of ``runware_mock_shared`` (override this fixture to change them)."""
    _testing(SHARED)
    from .core.config import MockConfig

    return MockConfig(job_seconds=DEFAULT_JOB_SECONDS, sync_job_seconds=DEFAULT_SYNC_JOB_SECONDS)


@pytest.fixture(scope="session")
def runware_mock_shared(runware_mock_shared_config: MockConfig) -> Iterator[RunningMock]:
    testing = _testing(SHARED)
    with _serve(testing, runware_mock_shared_config) as mock:
        yield mock


def _given(item: pytest.Item) -> bool:
    """Whether the test is a Hypothesis ``@given`` test that did not suppress the
    function-scoped fixture health check (then its author knows the fixture is shared by
    all examples)."""
    test = getattr(item, "obj", None)
    if not getattr(test, "is_hypothesis_test", False):
        return False
    settings = getattr(test, "_hypothesis_internal_use_settings", None)
    suppressed = getattr(settings, "suppress_health_check", ())
    return "function_scoped_fixture" not in {getattr(check, "name", "") for check in suppressed}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    """Reset the shared mock before each test that uses it (after its fixtures are set up,
    so the first test's setup has started it)."""
    uses = getattr(item, "fixturenames", ())
    if (per_test := [name for name in _CONFIGURABLE if name in uses]) and _given(item):
        pytest.fail(
            f"{', '.join(per_test)} starts a mock per test, and a @given test runs all its "
            f"examples in one test: use {SHARED} (one mock for the session, reset before "
            "each test) instead",
            pytrace=False,
        )
    configured = item.get_closest_marker(MARKER) is not None
    if configured and SHARED in uses and not any(name in uses for name in _CONFIGURABLE):
        pytest.fail(
            f"@pytest.mark.{MARKER} configures {', '.join(_CONFIGURABLE)}, not {SHARED} "
            "(one mock for the session): override the runware_mock_shared_config "
            "fixture instead",
            pytrace=False,
        )
    yield
    shared = getattr(item, "funcargs", {}).get(SHARED)
    if shared is not None:
        shared.reset()


@pytest.fixture
def runware_mock_inprocess(request: pytest.FixtureRequest) -> Iterator[InProcessMock]:
    testing = _testing("runware_mock_inprocess")
    from .http.app import MockServer

    with testing.InProcessMock(MockServer(_config(request))) as mock:
        yield mock


@pytest.fixture
def runware_respx(runware_mock_inprocess: InProcessMock) -> Iterator[InProcessMock]:
    testing = _testing("runware_respx")
    try:
        with needs_extra("testing", "the runware_respx fixture"):
            router = testing.respx_router(runware_mock_inprocess)
    except MissingExtra as missing:
        hint = str(missing)
    else:
        with router:
            yield runware_mock_inprocess
        return
    pytest.fail(hint, pytrace=False)
