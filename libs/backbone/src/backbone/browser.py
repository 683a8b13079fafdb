"""A real browser for tests of pages: a headless Chromium driven by selenium, one per test module
(``browser = browser_fixture()``); serve the app with ``backbone.testing.on_a_port``."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from typing import Any

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium driven by selenium (deploy/local/tools.sh installs both); fails the
    test when they are missing rather than skipping it."""
    import pytest
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if shutil.which(CHROMEDRIVER) is None or shutil.which(CHROMIUM) is None:
        pytest.fail("headless Chromium is needed: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def browser_fixture() -> Any:
    """A module's ``browser`` fixture: one headless Chromium for the module's tests
    (``browser = browser_fixture()`` in the test module)."""
    import pytest

    @pytest.fixture(scope="module", name="browser")
    def browser() -> Iterator[Any]:
        with chromium() as driver:
            yield driver

    return browser
