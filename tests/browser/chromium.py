"""Debian's headless Chromium under Selenium, started the one way the browser tests and the
dashboard benchmark both use: the browser and its chromedriver given by path (Selenium
Manager never runs, nothing is downloaded), a fresh profile, no background networking."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
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
)


def missing() -> list[str]:
    """The browser or driver paths that are not installed."""
    return [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]


@contextlib.contextmanager
def headless_chromium(folder: Path) -> Iterator[Any]:
    """A Selenium driver of a fresh headless Chromium whose profile and driver log are in
    ``folder``; quit when the block ends."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    folder.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={folder / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("unhandledPromptBehavior", "ignore")  # an alert stays to be seen
    service = Service(executable_path=CHROMEDRIVER, log_output=str(folder / "driver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
