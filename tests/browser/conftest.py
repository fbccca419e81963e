"""The dashboard's browser tests: Debian's headless Chromium driven by its own chromedriver
(Selenium, given both paths: Selenium Manager never runs and nothing is downloaded), against
a real ``python -m mockserver``. Without chromium they skip here, but fail in CI (``.ci/run``
installs it). Each test gets a fresh browser profile; screenshots go to ``build/dashboard/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import headless_chromium, missing
from tests.hostile.harness import ROOT, MockProcess, mock_process

ADMIN_KEY = "dashboard-admin-key"
OTHER_KEY = "another-tenant-key"  # a valid API key that is not the admin key
SHOTS = ROOT / "build" / "dashboard"


def need_chromium() -> None:
    """Chromium and its driver: skipped without them, but a failure in CI."""
    absent = ", ".join(missing())
    if absent and os.environ.get("CI"):
        pytest.fail(f"{absent} missing: CI must run the dashboard's browser tests")
    if absent:
        pytest.skip(f"{absent} not installed (apt-get install chromium chromium-driver)")


@pytest.fixture(scope="module")
def dashboard_mock() -> Iterator[MockProcess]:
    """A mock with an admin key, a second tenant's key and 4 s jobs (a task is seen
    processing before it is done)."""
    with mock_process(
        "--admin-key", ADMIN_KEY, "--api-key", OTHER_KEY, "--job-seconds", "4"
    ) as proc:
        yield proc


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    need_chromium()
    with headless_chromium(tmp_path) as driver:
        yield driver
