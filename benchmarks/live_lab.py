"""Speed of the live GAN lab in the built book: full training steps per second in headless Chromium.

Run after ``make book`` (or any build of the lab chapter):

    python benchmarks/live_lab.py [--seconds 10] [--screenshot lab.png]

It opens ``_build/html/book/lab.html`` from ``file://`` (no browser flags), keeps the lab's defaults (the
ring, non-saturating loss, Adam, k = 1, width 64, batch 128) and runs the page's own measuring loop,
``LiveLab.benchmark``: full steps as Play runs them, with a picture after every frame's worth of steps
(heat map 40 x 40, manifold, 512 fakes, 64 arrows, both charts), and then the same without drawing.
The figures go to benchmarks/README.md by hand, with the machine and the date.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "_build" / "html" / "book" / "lab.html"


def measure(seconds: float, screenshot: Path | None = None) -> dict:
    """Steps per second with and without drawing, each over ``seconds`` of Play-like running."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not PAGE.exists():
        raise FileNotFoundError(f"no built lab chapter at {PAGE}: build the book first (make book)")
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if binary is None or driver_path is None:
        raise FileNotFoundError("headless Chromium is missing: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_script_timeout(4 * seconds + 60)
    try:
        driver.get(PAGE.as_uri())
        driver.execute_script("document.querySelector('[data-gan-live-lab]').scrollIntoView();")
        results = {}
        for name, drawing in (("with drawing", True), ("without drawing", False)):
            driver.execute_script("window.ganLiveLabs[0].reset();")
            results[name] = driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "window.ganLiveLabs[0].benchmark(arguments[0], arguments[1]).then(done);", seconds * 1000, drawing)
        if screenshot is not None:
            driver.find_element("css selector", ".gan-live-lab").screenshot(str(screenshot))
        results["user_agent"] = driver.execute_script("return navigator.userAgent;")
        return results
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each measurement runs")
    parser.add_argument("--screenshot", type=Path, default=None, help="save a picture of the lab afterwards")
    arguments = parser.parse_args()
    load_before = os.getloadavg()
    results = measure(arguments.seconds, arguments.screenshot)
    results["machine"] = {"platform": platform.platform(), "cpus": os.cpu_count(),
                          "load_average_before": load_before, "load_average_after": os.getloadavg()}
    for name in ("with drawing", "without drawing"):
        result = results[name]
        extra = f", {result['drawMs']:.0f} ms a picture" if name == "with drawing" and result.get("drawMs") else ""
        print(f"{name}: {result['stepsPerSecond']:.0f} steps/s ({result['steps']} steps in {result['seconds']:.1f} s{extra})")
    load = results["machine"]
    print(f"{load['cpus']} CPUs; 1-minute load average {load['load_average_before'][0]:.1f} before, "
          f"{load['load_average_after'][0]:.1f} after (other jobs share the cores: the figures are wall-clock)")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
