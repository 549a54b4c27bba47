"""Headless Chromium as a reader's browser: the one set-up the browser tests and benchmarks share.

It starts WITHOUT ``--allow-file-access-from-files``: readers open the built book from ``file://`` with
their browser's default rules, so every page must work from classic ``<script src>`` files alone (no
``fetch``, no modules, no WebAssembly loaded from a file).
"""

from __future__ import annotations

import shutil
from pathlib import Path

MISSING = "headless Chromium is missing: apt-get install chromium chromium-driver (.ci/run does)"


def start_chromium(
    width: int = 1280,
    height: int = 900,
    *,
    mobile: bool = False,
    performance_log: bool = False,
    script_timeout: float = 60,
):
    """A Selenium driver for headless Chromium at ``width`` x ``height`` CSS pixels.

    Args:
        width, height: the window, or with ``mobile`` the emulated phone's screen.
        mobile: emulate a touch phone at three device pixels per CSS pixel.
        performance_log: also record the network events (to check nothing leaves ``file://``).
        script_timeout: seconds an ``execute_async_script`` may take.

    Raises:
        FileNotFoundError: Chromium or its driver is not installed.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if binary is None or driver_path is None:
        raise FileNotFoundError(MISSING)
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    if mobile:
        options.add_experimental_option(
            "mobileEmulation",
            {
                "deviceMetrics": {
                    "width": width,
                    "height": height,
                    "pixelRatio": 3.0,
                    "touch": True,
                }
            },
        )
    logs = {"browser": "ALL"}
    if performance_log:
        logs["performance"] = "ALL"
    options.set_capability("goog:loggingPrefs", logs)
    driver = webdriver.Chrome(
        service=Service(executable_path=driver_path), options=options
    )
    driver.set_script_timeout(script_timeout)
    driver.set_page_load_timeout(60)
    return driver


def require_page(page: Path, what: str) -> None:
    """Stop with what to do when the built page is missing."""
    if not page.exists():
        raise FileNotFoundError(
            f"no built {what} at {page}: run `make book` first"
        )
