"""The live GAN lab of the built book, in headless Chromium, opened from file:// with no special flags.

Run after ``make book`` with ``pytest -m browser tests/test_live_lab.py`` (``.ci/run`` and ``make check-book``
do). Chromium starts WITHOUT ``--allow-file-access-from-files``, as a reader's browser would: the lab must
load from classic ``<script src>`` files alone (no fetch, no modules, no WebAssembly), train when its
buttons are pressed, draw, touch nothing outside the file system, and log no error.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from chromium import require_page, start_chromium

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "_build" / "html" / "book" / "lab.html"


@pytest.fixture(scope="module")
def browser():
    require_page(PAGE, "lab chapter")
    driver = start_chromium(1280, 900)
    yield driver
    driver.quit()


def _open_lab(driver) -> None:
    driver.get(PAGE.as_uri())
    started = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1], start = Date.now();
        (function wait() {
          if (window.ganLiveLabs && window.ganLiveLabs.length) done(true);
          else if (Date.now() - start > 20000) done(false);
          else setTimeout(wait, 50);
        })();
        """
    )
    assert started, (
        "the live lab did not start: are gan_lab_data.js, gan_lab_engine.js and gan_lab_page.js on the page?"
    )


def _picture(driver) -> str:
    """A fingerprint of the plane's pixels and of the two charts'."""
    return driver.execute_script(
        "const lab = document.querySelector('.gan-live-lab');"
        "return [...lab.querySelectorAll('canvas')].map(c => c.toDataURL()).join('|');"
    )


def _counter(driver) -> int:
    return int(
        driver.execute_script(
            "return document.querySelector('.gan-lab-counter').textContent;"
        )
    )


def _button(driver, label: str):
    from selenium.webdriver.common.by import By

    buttons = [
        b
        for b in driver.find_elements(
            By.CSS_SELECTOR, ".gan-live-lab button"
        )
        if b.text == label
    ]
    assert buttons, f"the live lab has no {label!r} button"
    return buttons[0]


def _severe_errors(driver) -> list[str]:
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE"
    ]


def test_lab_steps_plays_and_draws_offline(browser):
    _open_lab(browser)
    assert _counter(browser) == 0
    painted = browser.execute_script(
        """
        const canvas = document.querySelector('.gan-lab-plane');
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let colored = 0;
        for (let i = 0; i < pixels.length; i += 4) if (pixels[i] !== pixels[i + 1] || pixels[i] !== pixels[i + 2]) colored++;
        return colored / (pixels.length / 4);
        """
    )
    assert painted > 0.5, (
        f"the heat map should colour most of the plane, {painted:.0%} of its pixels are coloured"
    )

    before = _picture(browser)
    _button(browser, "Step").click()
    assert _counter(browser) == 1
    after_step = _picture(browser)
    assert after_step != before, "one Step should change the picture"

    _button(browser, "D step").click()
    _button(browser, "G step").click()
    assert _counter(browser) == 3

    _button(browser, "Play").click()
    time.sleep(2.0)
    _button(browser, "Pause").click()
    played = _counter(browser)
    assert played > 13, (
        f"two seconds of Play should make more than 10 updates, made {played - 3}"
    )
    assert _picture(browser) != after_step, "Play should change the picture"
    time.sleep(0.3)
    assert _counter(browser) == played, "Pause should stop the training"

    _button(browser, "Reset").click()
    assert _counter(browser) == 0

    # Everything the page loaded (resource timing), and every script, stylesheet, image and frame it names.
    loaded = browser.execute_script(
        """
        return [...performance.getEntriesByType('resource').map(entry => entry.name),
                ...[...document.querySelectorAll('script[src], img[src], iframe[src]')].map(node => node.src),
                ...[...document.querySelectorAll('link[rel~=stylesheet], link[rel~=preload], link[rel~=icon]')]
                    .map(link => link.href)];
        """
    )
    assert loaded and all(
        url.startswith(("file:", "data:", "blob:")) for url in loaded
    ), (
        f"requests left the file system: {[url for url in loaded if not url.startswith('file:')]}"
    )
    scripts = browser.execute_script(
        "return [...document.scripts].map(s => s.src).filter(Boolean);"
    )
    for name in ("gan_lab_data.js", "gan_lab_engine.js", "gan_lab_page.js"):
        assert any(f"_static/{name}" in src for src in scripts), (
            f"{name} is not on the page: {scripts}"
        )
    assert not _severe_errors(browser), (
        f"JavaScript errors: {_severe_errors(browser)}"
    )


def test_every_loss_and_optimizer_trains(browser):
    """Each choice of the menus builds a trainer that steps with finite losses (WGAN-GP with its penalty)."""
    _open_lab(browser)
    results = browser.execute_script(
        """
        const lab = window.ganLiveLabs[0], results = {};
        for (const dataset of Object.keys(window.GAN_LAB_DATA.datasets))
          for (const loss of Object.keys(window.GAN_LAB_DATA.losses))
            for (const optimizer of window.GAN_LAB_DATA.optimizers) {
              lab.controls.dataset.value = dataset; lab.controls.loss.value = loss;
              lab.controls.optimizer.value = optimizer; lab.controls.loss.dispatchEvent(new Event('change'));
              lab.controls.dSteps.value = '2';
              for (let i = 0; i < 3; i++) lab.act('step');
              const last = lab.log.d_loss[lab.log.d_loss.length - 1], g = lab.log.g_loss[lab.log.g_loss.length - 1];
              results[dataset + ' ' + loss + ' ' + optimizer] = [lab.updates, isFinite(last) && isFinite(g)];
            }
        return results;
        """
    )
    assert len(results) == 2 * 5 * 2
    assert all(value == [3, True] for value in results.values()), results
    assert not _severe_errors(browser), (
        f"JavaScript errors: {_severe_errors(browser)}"
    )


def test_lab_fits_a_phone_and_answers_taps():
    """On a phone-sized touch screen the lab fits the width, and a tap on Step trains one step."""
    if not PAGE.exists():
        pytest.fail(
            f"no built lab chapter at {PAGE}: run `make book` first"
        )
    driver = start_chromium(390, 844, mobile=True)
    try:
        _open_lab(driver)
        sizes = driver.execute_script(
            """
            const lab = document.querySelector('.gan-live-lab');
            return {viewport: document.documentElement.clientWidth, lab: lab.getBoundingClientRect().width,
                    plane: document.querySelector('.gan-lab-plane').getBoundingClientRect().width};
            """
        )
        assert (
            sizes["lab"] <= sizes["viewport"]
            and sizes["plane"] <= sizes["viewport"]
        ), sizes
        assert sizes["plane"] > 0.5 * sizes["viewport"], (
            f"the plane should use the phone's width: {sizes}"
        )
        step = _button(driver, "Step")
        driver.execute_script(
            "arguments[0].scrollIntoView({block: 'center'});", step
        )
        box = driver.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "return {x: r.left + r.width / 2, y: r.top + r.height / 2};",
            step,
        )
        for kind in (
            "touchStart",
            "touchEnd",
        ):  # a real tap, as the phone's touch screen sends it
            points = (
                [{"x": box["x"], "y": box["y"]}]
                if kind == "touchStart"
                else []
            )
            driver.execute_cdp_cmd(
                "Input.dispatchTouchEvent",
                {"type": kind, "touchPoints": points},
            )
        deadline = time.time() + 5
        while _counter(driver) == 0 and time.time() < deadline:
            time.sleep(0.05)
        assert _counter(driver) == 1, "a tap on Step should train one step"
        assert not _severe_errors(driver), (
            f"JavaScript errors: {_severe_errors(driver)}"
        )
    finally:
        driver.quit()


def test_page_loads_the_tested_trainer():
    """The trainer the page loads is, byte for byte, the file that tests/test_lab_js_parity.py checks."""
    built = PAGE.parents[1] / "_static" / "gan_lab_engine.js"
    source = REPO / "book" / "_ext" / "live_lab" / "gan_lab_engine.js"
    assert built.read_bytes() == source.read_bytes(), (
        "rebuild the book: its gan_lab_engine.js is out of date"
    )


def test_lab_works_over_http(browser):
    """Served over http (here by Python's http.server on localhost), the lab loads and steps, all from that server."""
    import functools
    import http.server
    import threading

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(
        QuietHandler, directory=str(PAGE.parents[1])
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        origin = f"http://127.0.0.1:{server.server_address[1]}"
        browser.get(f"{origin}/book/lab.html")
        started = browser.execute_async_script(
            "const done = arguments[arguments.length - 1], start = Date.now();"
            "(function wait() { if (window.ganLiveLabs && window.ganLiveLabs.length) done(true);"
            " else if (Date.now() - start > 20000) done(false); else setTimeout(wait, 50); })();"
        )
        assert started, "the live lab did not start over http"
        _button(browser, "Step").click()
        assert _counter(browser) == 1
        fetched = browser.execute_script(
            "return performance.getEntriesByType('resource').map(entry => entry.name);"
        )
        assert all(
            url.startswith((origin, "data:", "blob:")) for url in fetched
        ), f"requests left the server: {fetched}"
        # Over http the browser asks for /favicon.ico by itself; the book has none, which is no error of the page.
        errors = [
            message
            for message in _severe_errors(browser)
            if "favicon.ico" not in message
        ]
        assert not errors, f"JavaScript errors: {errors}"
    finally:
        server.shutdown()
        server.server_close()


CHINESE_PAGE = REPO / "_build" / "html" / "zh" / "book" / "zh" / "lab.html"


def test_the_chinese_lab_speaks_chinese_and_trains(browser):
    """The Chinese edition's lab page runs the same lab, its buttons, labels and status line in Chinese."""
    require_page(CHINESE_PAGE, "Chinese lab chapter")
    browser.get(CHINESE_PAGE.as_uri())
    started = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1], start = Date.now();
        (function wait() {
          if (window.ganLiveLabs && window.ganLiveLabs.length) done(true);
          else if (Date.now() - start > 20000) done(false);
          else setTimeout(wait, 50);
        })();
        """
    )
    assert started, "the live lab did not start on the Chinese lab page"
    buttons = browser.execute_script(
        "return [...document.querySelectorAll('.gan-live-lab button')].map(b => b.textContent);"
    )
    assert buttons == ["D 一步", "G 一步", "一步", "运行", "重置"], buttons
    browser.execute_script(
        "[...document.querySelectorAll('.gan-live-lab button')].find(b => b.textContent === '一步').click();"
    )
    assert _counter(browser) == 1
    status = browser.execute_script(
        "return document.querySelector('.gan-lab-status').textContent;"
    )
    assert "次更新" in status and "覆盖模式" in status, status
    errors = [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE"
    ]
    assert not errors, (
        f"JavaScript errors on the Chinese lab page: {errors}"
    )
