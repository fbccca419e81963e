"""Shared fixtures: where the repo, the spec and the real docs page are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codegen import SpecSet, load_specs

REPO = Path(__file__).resolve().parent.parent
SPEC_DIR = REPO / "spec"
DOCS_PAGE_ENV = "RUNWARE_DOCS_PAGE"
DEFAULT_DOCS_PAGE = REPO.parent / "shared" / "docs" / "klingai-video-3-0-pro.md"


@pytest.fixture(scope="session")
def spec() -> SpecSet:
    return load_specs(SPEC_DIR)


@pytest.fixture(scope="session")
def docs_page_text() -> str:
    """The real Kling VIDEO 3.0 Pro docs page; tests that need it skip when it is absent."""
    path = Path(os.environ.get(DOCS_PAGE_ENV, DEFAULT_DOCS_PAGE))
    if not path.is_file():
        pytest.skip(
            f"docs page not found at {path}: set {DOCS_PAGE_ENV} to the page's path "
            "(it is not committed to this repository)"
        )
    return path.read_text(encoding="utf-8")


TINY_SPEC_MODELS = REPO / "tests" / "data" / "tiny-spec" / "models"


def make_tiny_spec_dir(root: Path) -> Path:
    """A spec folder with the real platform.yaml and the tiny test model."""
    import shutil

    spec_dir = root / "spec"
    (spec_dir / "models").mkdir(parents=True)
    shutil.copy(SPEC_DIR / "platform.yaml", spec_dir / "platform.yaml")
    for path in TINY_SPEC_MODELS.glob("*.yaml"):
        shutil.copy(path, spec_dir / "models" / path.name)
    return spec_dir


@pytest.fixture(scope="session")
def tiny_spec_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_spec_dir(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def tiny_spec(tiny_spec_dir: Path) -> SpecSet:
    return load_specs(tiny_spec_dir)


# ── the mock server, in-process and over a real socket ─────────────────────
# One fixture type for the suite's mock: ``MockHandle``. ``mock`` and ``socket_mock`` come from
# the shipped plugin's fixtures (mockserver/pytest_plugin.py: ``runware_mock_inprocess`` and
# ``runware_mock``, configured with ``@pytest.mark.runware_mock(...)``, as users configure
# them); module-scoped mocks (Hypothesis suites) use ``start_mock`` with a MockConfig.

import contextlib  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import httpx  # noqa: E402

from mockserver import MockConfig, MockServer  # noqa: E402
from mockserver.testing import InProcessMock, RunningMock, serve  # noqa: E402

API_KEY = "test-key"


@dataclass
class MockHandle:
    """A running mock and an httpx client for it (key already sent)."""

    server: MockServer
    client: httpx.Client
    mode: str  # inprocess | socket
    ws_url: str | None = None
    inprocess: InProcessMock | None = None  # the in-process mock (its portal), in that mode

    def post(self, tasks: object, **kwargs: object) -> httpx.Response:
        return self.client.post("/v1", json=tasks, **kwargs)  # type: ignore[arg-type]

    def poll(self, task_uuid: str) -> httpx.Response:
        return self.post([{"taskType": "getResponse", "taskUUID": task_uuid}])


@contextlib.contextmanager
def in_process(mock: InProcessMock) -> Iterator[MockHandle]:
    key = next(iter(mock.server.config.api_keys), API_KEY)
    client = httpx.Client(
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {key}"},
        transport=httpx.MockTransport(mock.handle),
    )
    with client:
        yield MockHandle(mock.server, client, "inprocess", inprocess=mock)


def on_socket(running: RunningMock) -> MockHandle:
    return MockHandle(running.server, running.client, "socket", running.ws_url)


@contextlib.contextmanager
def start_mock(mode: str, config: MockConfig) -> Iterator[MockHandle]:
    if mode == "inprocess":
        with InProcessMock(MockServer(config)) as mock, in_process(mock) as handle:
            yield handle
    else:
        with serve(config, api_key=next(iter(config.api_keys), API_KEY)) as running:
            yield on_socket(running)


@pytest.fixture(params=["inprocess", "socket"])
def mock(request: pytest.FixtureRequest) -> Iterator[MockHandle]:
    """The mock over REST, once in-process and once on a loopback socket."""
    if request.param == "socket":
        yield on_socket(request.getfixturevalue("runware_mock"))
    else:
        with in_process(request.getfixturevalue("runware_mock_inprocess")) as handle:
            yield handle


@pytest.fixture
def socket_mock(runware_mock: RunningMock) -> MockHandle:
    return on_socket(runware_mock)


# ── Hypothesis profiles: `ci` (default) is derandomized and bounded; `fuzz` digs deep ──

from hypothesis import HealthCheck, settings  # noqa: E402

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=25,
    deadline=None,
    suppress_health_check=_SLOW_OK,
    print_blob=True,
)
settings.register_profile(
    "fuzz", max_examples=2000, deadline=None, suppress_health_check=_SLOW_OK, print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# ── the hostile suite (tests/hostile/): --hostile-full and the table of effects ──

from tests.hostile.harness import AGAINST, EFFECTS, ROOT, table, write_json  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    against = config.getoption("--hostile-against", None)
    if against:
        AGAINST["checkout"] = Path(against).resolve()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--hostile-full", action="store_true", help="also run the long hostile attacks"
    )
    parser.addoption(
        "--hostile-against",
        metavar="DIR",
        help="run the hostile attacks against another checkout's mock (a baseline)",
    )
    parser.addoption(
        "--with-pypi",
        action="store_true",
        help="also run the tests that install from PyPI (nox -s dev_script)",
    )


# marker -> the option without which its tests are left out of the run
OPT_IN = {"hostile_full": "--hostile-full", "pypi": "--with-pypi"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests/hostile/ as ``hostile`` and ``slow``; leave out the tests of an opt-in
    marker (long attacks, PyPI installs) unless their option is given."""
    wanted = {marker for marker, option in OPT_IN.items() if config.getoption(option)}
    kept, left_out = [], []
    for item in items:
        if "tests/hostile/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.hostile)
            item.add_marker(pytest.mark.slow)  # each attack runs a real mock process
        if any(item.get_closest_marker(m) for m in OPT_IN.keys() - wanted):
            left_out.append(item)
        else:
            kept.append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not EFFECTS:
        return
    checkout = AGAINST["checkout"]
    against = "" if checkout == ROOT else f" (against {checkout})"
    terminalreporter.section(f"hostile traffic: effect of each attack{against}")
    terminalreporter.write_line(table(EFFECTS))
    name = "hostile.json" if checkout == ROOT else "hostile-against.json"
    write_json(EFFECTS, ROOT / "build" / name)
