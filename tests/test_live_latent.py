"""The live latent space of the built book, in headless Chromium opened from ``file://`` with no extra flags.

Run after ``make book`` with ``pytest -m browser tests/test_live_latent.py`` (``make check-book`` and
``.ci/run`` do). The browser gets no ``--allow-file-access-from-files``: a reader's browser does not have
it either, so everything the page runs must arrive as classic scripts. The tests check that the page's
generators draw what PyTorch draws, that each control redraws, that nothing is requested from outside
the file system, and that a bad file of one's own gets one clear line and no console error.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from chromium import require_page, start_chromium

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "_build" / "html" / "book" / "latent.html"
NAMES = ("mnist-dcgan", "fashion-mnist-dcgan", "mnist-conditional")


@pytest.fixture(scope="module")
def driver():
    require_page(PAGE, "latent-space page")
    browser = start_chromium(performance_log=True)
    yield browser
    browser.quit()


def _wait(driver, script: str, *arguments, timeout: float = 30.0):
    """Poll a JavaScript expression (``return ...``) until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script, *arguments)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {script}")


@pytest.fixture
def page(driver):
    """The latent-space page, freshly opened, every live widget drawn once; its console checked afterwards."""
    (
        driver.get_log("browser"),
        driver.get_log("performance"),
    )  # forget earlier pages
    driver.get(PAGE.as_uri())
    _wait(
        driver,
        "const w = document.querySelectorAll('div.gan-live'); "
        "return w.length === 3 && [...w].every(e => Number(e.dataset.draws) >= 1);",
    )
    yield driver
    problems = [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE"
        or (entry["level"] == "WARNING" and "gan-teach" in entry["message"])
    ]
    assert not problems, (
        f"console errors on the latent-space page: {problems}"
    )


def _draws(driver, index: int) -> int:
    return int(
        driver.execute_script(
            "return Number(document.querySelectorAll('div.gan-live')[arguments[0]].dataset.draws)",
            index,
        )
    )


def _pictures(driver, index: int) -> str:
    return driver.execute_script(
        "return [...document.querySelectorAll('div.gan-live')[arguments[0]].querySelectorAll('canvas')]"
        ".map(c => c.toDataURL()).join()",
        index,
    )


def _set(driver, element, value, release: bool = True) -> None:
    """What a reader's drag or choice does: set the value, send the input event, and (release) the change event."""
    driver.execute_script(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
        "if (arguments[2]) arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
        element,
        value,
        release,
    )


def _grid_tiles(driver, index: int, columns: int, count: int) -> np.ndarray:
    """The grey levels (0-255) of the tiles of a widget's grid canvas: ``(count, 28, 28)``."""
    width, height, pixels = driver.execute_script(
        "const c = document.querySelectorAll('div.gan-live')[arguments[0]].querySelector('canvas.gan-live-grid');"
        "return [c.width, c.height, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)];",
        index,
    )
    red = np.array(pixels, dtype=np.int64).reshape(height, width, 4)[
        :, :, 0
    ]
    return np.stack(
        [
            red[
                2 + (n // columns) * 30 : 2 + (n // columns) * 30 + 28,
                2 + (n % columns) * 30 : 2 + (n % columns) * 30 + 28,
            ]
            for n in range(count)
        ]
    )


def _grey_levels(images: torch.Tensor) -> np.ndarray:
    """Images ``(N, 1, 28, 28)`` in [-1, 1] as the page's grey levels ``(N, 28, 28)``."""
    return np.round(
        ((images[:, 0].double() + 1) / 2).clamp(0, 1).numpy() * 255
    ).astype(np.int64)


def _ensure(driver, name: str) -> None:
    """Load a generator the page loads only when a reader picks it."""
    error = driver.execute_async_script(
        "window.ganTeachLive.ensure(arguments[0], arguments[arguments.length - 1])",
        name,
    )
    assert error is None, error


def test_page_runs_from_file_with_nothing_from_the_network(page):
    # The generators the widgets open with load with the page; the third when a reader picks it.
    assert page.execute_script("return window.ganTeachLive.names()") == [
        "mnist-dcgan",
        "mnist-conditional",
    ]
    assert page.execute_script(
        "return window.ganTeachLive.available()"
    ) == ["mnist-dcgan", "mnist-conditional", "fashion-mnist-dcgan"]
    draws = _draws(page, 0)
    _set(
        page,
        page.find_element(
            "css selector", "div.gan-live .gan-live-controls select"
        ),
        "fashion-mnist-dcgan",
    )
    _wait(
        page,
        "return Number(document.querySelectorAll('div.gan-live')[0].dataset.draws) > arguments[0]",
        draws,
    )
    assert "fashion-mnist-dcgan" in page.execute_script(
        "return window.ganTeachLive.names()"
    )
    assert "fashion-mnist-dcgan" in page.execute_script(
        "return document.querySelector('div.gan-live .gan-live-caption').textContent"
    )
    urls = [
        json.loads(entry["message"])["message"]["params"]["request"]["url"]
        for entry in page.get_log("performance")
        if json.loads(entry["message"])["message"]["method"]
        == "Network.requestWillBeSent"
    ]
    urls += page.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert any(
        "live-latent/mnist-conditional.js" in url for url in urls
    ) and any("live_latent.js" in url for url in urls)
    outside = [
        url
        for url in urls
        if not url.startswith(("file:", "data:", "blob:"))
    ]
    assert not outside, (
        f"the page requested these from outside the file system: {outside}"
    )
    statuses = page.execute_script(
        "return [...document.querySelectorAll('.gan-live-status')].map(s => s.textContent)"
    )
    assert statuses == ["", "", ""]


@pytest.mark.parametrize("name", NAMES)
def test_page_draws_what_pytorch_generates(page, name):
    from gan_teach.instruments.latent import sample_latents
    from gan_teach.models import generate
    from gan_teach.pretrained import load_generator

    _ensure(page, name)
    generator = load_generator(name)
    expected = generate(
        generator, 12, seed=3
    )  # (12, 1, 28, 28): z = sample_latents(64, 12, 3), labels 0..9, 0, 1
    z = sample_latents(generator.latent_dim, 12, seed=3)
    labels = (torch.arange(12) % 10).tolist()
    drawn = torch.tensor(
        page.execute_script(
            "return window.ganTeachLive.render(arguments[0], arguments[1], arguments[2])",
            name,
            z.flatten().tolist(),
            labels,
        )
    ).reshape(expected.shape)
    assert (drawn - expected).abs().max() < 1e-3
    # A seed in the page is the latent vector PyTorch draws for it, exactly.
    for seed in (0, 7, 99):
        assert (
            page.execute_script(
                "return window.ganTeachLive.seedLatent(arguments[0], arguments[1])",
                name,
                seed,
            )
            == sample_latents(generator.latent_dim, 1, seed)[0].tolist()
        )


def test_first_views_are_the_recorded_figures(page):
    from gan_teach.instruments.latent import (
        interpolate,
        principal_directions,
        sample_latents,
        style_grid,
        walk,
    )
    from gan_teach.instruments.latent import render as torch_render
    from gan_teach.pretrained import load_generator

    generator, conditional = (
        load_generator("mnist-dcgan"),
        load_generator("mnist-conditional"),
    )
    # The explorer: seed 7 walked along the four principal directions, a = -3 ... 3 (the still beside it).
    directions, _ = principal_directions(generator, num_directions=4)
    seed_latent = sample_latents(64, 5, seed=7)[
        0
    ]  # the chapter's walk_seeds[0]
    walks = torch.cat(
        [
            torch_render(
                generator,
                walk(seed_latent, directions[j], torch.linspace(-3, 3, 7)),
            )
            for j in range(4)
        ]
    )
    assert (
        np.abs(_grid_tiles(page, 0, 7, 28) - _grey_levels(walks)).max() <= 1
    )
    # The interpolation: seeds 2 and 9, nine steps, lerp then slerp.
    start, end = (
        sample_latents(64, 1, seed=2)[0],
        sample_latents(64, 1, seed=9)[0],
    )
    paths = torch.cat(
        [interpolate(start, end, 9, method) for method in ("lerp", "slerp")]
    )
    assert (
        np.abs(
            _grid_tiles(page, 1, 9, 18)
            - _grey_levels(torch_render(generator, paths))
        ).max()
        <= 1
    )
    # The style grid: six styles of seed 40, each as every digit.
    grid = style_grid(conditional, sample_latents(64, 6, seed=40))
    assert (
        np.abs(_grid_tiles(page, 2, 10, 60) - _grey_levels(grid)).max() <= 1
    )


def test_every_control_redraws_the_picture(page):
    moved = []
    for index in range(3):
        root = page.find_elements("css selector", "div.gan-live")[index]
        if (
            index == 0
        ):  # the generator picker first, so the class picker of mnist-conditional shows
            before, draws = _pictures(page, index), _draws(page, index)
            _set(
                page,
                root.find_element(
                    "css selector", ".gan-live-controls select"
                ),
                "mnist-conditional",
            )
            _wait(
                page,
                "return Number(document.querySelectorAll('div.gan-live')[arguments[0]].dataset.draws) > arguments[1]",
                index,
                draws,
            )
            assert _pictures(page, index) != before
            moved.append("generator")
        for control in root.find_elements(
            "css selector",
            ".gan-live-controls input, .gan-live-controls select",
        ):
            if not control.is_displayed():
                continue
            kind = (
                control.get_attribute("type")
                if control.tag_name == "input"
                else "select"
            )
            current = control.get_attribute("value")
            if kind == "range":
                low, high = (
                    float(control.get_attribute("min")),
                    float(control.get_attribute("max")),
                )
                value = (
                    str(low + 0.8 * (high - low))
                    if float(current) != low + 0.8 * (high - low)
                    else str(low)
                )
            elif kind == "number":
                value = str(int(current) + 1)
            else:
                options = [
                    option.get_attribute("value")
                    for option in control.find_elements(
                        "css selector", "option"
                    )
                ]
                others = [option for option in options if option != current]
                if not others or others[0] in NAMES and index == 0:
                    continue  # one option only, or the generator picker done above
                value = others[-1]
            before, draws = _pictures(page, index), _draws(page, index)
            _set(page, control, value)
            _wait(
                page,
                "return Number(document.querySelectorAll('div.gan-live')[arguments[0]].dataset.draws) > arguments[1]",
                index,
                draws,
            )
            assert _pictures(page, index) != before, (
                f"moving {kind} to {value} in live widget {index} changed nothing"
            )
            moved.append(kind)
    # explorer: generator, seed, truncation, class, four directions; interpolation: generator, two seeds, steps;
    # style grid: seed, styles.
    assert (
        moved.count("range") == 1 + 4 + 1 + 1
        and moved.count("number") == 4
        and "select" in moved
    )


def test_explorer_sample_follows_a_drag_and_the_walks_its_release(page):
    def canvases():
        return page.execute_script(
            "return [...document.querySelectorAll('div.gan-live')[0].querySelectorAll('canvas')]"
            ".map(c => [c.toDataURL(), c.classList.contains('gan-live-stale')])"
        )

    slider = page.find_elements("css selector", "div.gan-live")[
        0
    ].find_elements("css selector", "input[type=range]")[1]  # PC1
    (sample, _), (walks, _) = canvases()
    draws = _draws(page, 0)
    _set(page, slider, "2", release=False)  # dragging
    _wait(
        page,
        "return Number(document.querySelectorAll('div.gan-live')[0].dataset.draws) > arguments[0]",
        draws,
    )
    (dragged_sample, _), (dragged_walks, stale) = canvases()
    assert dragged_sample != sample and dragged_walks == walks and stale
    draws = _draws(page, 0)
    page.execute_script(
        "arguments[0].dispatchEvent(new Event('change', {bubbles: true}))",
        slider,
    )  # let go
    _wait(
        page,
        "return Number(document.querySelectorAll('div.gan-live')[0].dataset.draws) > arguments[0]",
        draws,
    )
    (released_sample, _), (released_walks, stale) = canvases()
    assert (
        released_sample == dragged_sample
        and released_walks != walks
        and not stale
    )


@pytest.mark.parametrize(
    "content",
    [
        "hello, I am not a generator",
        '(window.ganTeachWebGenerators = window.ganTeachWebGenerators || []).push(\n{"format": "gan-teach-web-generator", "vers',
        '{"format": "something-else", "version": 1}',
        '{"format": "gan-teach-web-generator", "version": 1, "name": "bad", "model": "dcgan", "latent_dim": 4, "channels": 1, '
        '"image_size": 28, "layers": [{"type": "linear", "in_features": 4, "out_features": 3, "weight": {"dtype": "float16", '
        '"shape": [3, 4], "data": "AAAA"}}]}',
    ],
)
def test_a_bad_file_gets_one_clear_line(page, tmp_path, content):
    bad = tmp_path / "bad-generator.js"
    bad.write_text(content)
    page.find_elements("css selector", "div.gan-live input[type=file]")[
        0
    ].send_keys(str(bad))
    status = _wait(
        page,
        "const s = document.querySelector('div.gan-live .gan-live-status');"
        "return s.classList.contains('gan-live-error') && s.textContent;",
    )
    assert (
        status.startswith("Could not load bad-generator.js: ")
        and "\n" not in status
    )
    # The page still works: a slider still redraws.
    draws = _draws(page, 0)
    _set(
        page,
        page.find_elements(
            "css selector", "div.gan-live input[type=range]"
        )[1],
        "1.5",
    )
    _wait(
        page,
        "return Number(document.querySelectorAll('div.gan-live')[0].dataset.draws) > arguments[0]",
        draws,
    )


def test_a_generator_of_ones_own_loads_and_draws_what_pytorch_draws(
    page, tmp_path
):
    from gan_teach import TrainConfig, create_state, save_checkpoint
    from gan_teach.checkpoints import (
        load_checkpoint_generator as load_generator,
    )
    from gan_teach.cli import main
    from gan_teach.models import generate

    checkpoint = save_checkpoint(
        create_state(
            TrainConfig(dataset="mnist", width=8, latent_dim=32, epochs=1)
        ),
        tmp_path / "run.pt",
    )
    out = tmp_path / "my-generator.js"
    assert (
        main(
            [
                "export",
                "--checkpoint",
                str(checkpoint),
                "--format",
                "web",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    page.find_elements("css selector", "div.gan-live input[type=file]")[
        1
    ].send_keys(str(out))
    _wait(
        page,
        "return document.querySelectorAll('div.gan-live')[1].querySelector('select').value === 'my-generator'",
    )
    assert "Loaded my-generator" in page.execute_script(
        "return document.querySelectorAll('.gan-live-status')[1].textContent"
    )
    assert "my-generator" in page.execute_script(
        "return [...document.querySelectorAll('div.gan-live')[0].querySelectorAll('option')].map(o => o.value)"
    )
    generator, _ = load_generator(checkpoint, device="cpu")
    rounded = {
        key: value.half().float()
        for key, value in generator.state_dict().items()
        if value.is_floating_point()
    }
    generator.load_state_dict(
        rounded, strict=False
    )  # the web format ships float16 weights, like gan-teach export
    expected = generate(generator, 4, seed=5)
    from gan_teach.instruments.latent import sample_latents

    drawn = page.execute_script(
        "return window.ganTeachLive.render('my-generator', arguments[0])",
        sample_latents(32, 4, seed=5).flatten().tolist(),
    )
    assert (
        torch.tensor(drawn).reshape(expected.shape) - expected
    ).abs().max() < 1e-3


CHINESE_PAGE = (
    REPO / "_build" / "html" / "zh" / "book" / "zh" / "latent.html"
)


def test_the_chinese_page_runs_the_same_widgets_with_chinese_labels(driver):
    """The Chinese edition's latent page draws its three live widgets, labelled in Chinese, with no error."""
    require_page(CHINESE_PAGE, "Chinese latent-space page")
    driver.get_log("browser")
    driver.get(CHINESE_PAGE.as_uri())
    _wait(
        driver,
        "const w = document.querySelectorAll('div.gan-live'); "
        "return w.length === 3 && [...w].every(e => Number(e.dataset.draws) >= 1);",
    )
    labels = driver.execute_script(
        "return [...document.querySelectorAll('.gan-live-control > span')].map(s => s.textContent);"
    )
    assert {
        "生成器",
        "种子",
        "截断 ψ",
        "起点种子",
        "终点种子",
        "风格数",
    } <= set(labels), labels
    assert not [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE"
    ]
