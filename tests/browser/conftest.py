"""The dashboard's browser tests: Debian's headless Chromium driven by its own chromedriver
(Selenium, given both paths: Selenium Manager never runs and nothing is downloaded), against
a real ``python -m mockserver``. Without chromium they skip here, but fail in CI (``.ci/run``
installs it). Each test gets a fresh browser profile; screenshots go to ``build/dashboard/``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile.harness import ROOT, MockProcess, mock_process

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ADMIN_KEY = "dashboard-admin-key"
OTHER_KEY = "another-tenant-key"  # a valid API key that is not the admin key
SHOTS = ROOT / "build" / "dashboard"


def browser_paths() -> tuple[str, str]:
    """Chromium and its driver: skipped without them, but a failure in CI."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} missing: CI must run the dashboard's browser tests")
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install chromium chromium-driver)")
    return CHROMIUM, CHROMEDRIVER


@pytest.fixture(scope="module")
def dashboard_mock() -> Iterator[MockProcess]:
    """A mock with an admin key, a second tenant's key and 2 s jobs."""
    with mock_process(
        "--admin-key", ADMIN_KEY, "--api-key", OTHER_KEY, "--job-seconds", "2"
    ) as proc:
        yield proc


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    chromium, chromedriver = browser_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--autoplay-policy=no-user-gesture-required",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    options.set_capability("unhandledPromptBehavior", "ignore")  # an alert stays to be seen
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=chromedriver, log_output=str(tmp_path / "driver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "profile", ignore_errors=True)
