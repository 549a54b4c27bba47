"""The built book, opened in a real browser (headless Chromium): what a student who reads it would see.

Run after ``make book`` with ``pytest -m browser tests/test_rendered_book.py`` (``.ci/run`` does, and
``make check-book``). Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` package;
it never downloads a browser. Every page of the table of contents must load without a JavaScript
error, show its mathematics typeset by the MathJax the book carries (no raw ``\\frac`` left in the
text), show every image it links to, and load no script from the network (the book works offline).
Every page fits its column at 1280 px: no code block and no display equation scrolls sideways;
no test marker (``# NBVAL_...``) and no execution traceback is printed on it.

The Chinese edition (``_build/html/zh``, from ``_toc.zh.yml``) is held to the same checks, and to its own:
its pages say ``lang="zh-CN"``, their Chinese text is drawn with a CJK font (not as empty boxes), and every
page of either edition has a language switch whose link opens its twin, which links back.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from chromium import require_page, start_chromium

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
HTML = REPO / "_build" / "html"
ZH_HTML = (
    HTML / "zh"
)  # the Chinese edition, built beside the English one by `make book`
# A LaTeX command left in the visible text means MathJax did not typeset it.
RAW_TEX = (
    "\\frac",
    "\\mathbb",
    "\\log",
    "\\min",
    "\\max",
    "\\sum",
    "\\mathrm",
    "\\sigma",
    "$$",
)


def _toc_pages(
    part_caption: str | None = None, toc_file: str = "_toc.yml"
) -> list[str]:
    """The documents of ``_toc.yml`` in order (the root, then every part's, or one part's), e.g. ``book/intro``."""
    toc = yaml.safe_load((REPO / toc_file).read_text(encoding="utf-8"))
    pages = [toc["root"]] if part_caption is None else []
    for part in toc.get("parts", []):
        if part_caption is None or part.get("caption") == part_caption:
            for chapter in part["chapters"]:
                pages.append(chapter["file"])
                # a chapter's sections (the API reference has four)
                pages += [
                    section["file"]
                    for section in chapter.get("sections", [])
                ]
    return pages


@pytest.fixture(scope="module")
def browser():
    require_page(HTML / "index.html", "book")
    driver = start_chromium(1280, 900)
    yield driver
    driver.quit()


def _open(driver, page: str, root: Path = HTML) -> None:
    path = root / f"{page}.html"
    assert path.exists(), (
        f"{page} is in the table of contents but {path} was not built"
    )
    driver.get(path.as_uri())
    # Wait until MathJax has typeset the page (its startup promise resolves after the first typeset).
    # Sphinx adds MathJax only to pages with math; on the others the raw-LaTeX check still applies.
    typeset = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const start = Date.now();
        if (![...document.scripts].some(s => /mathjax/i.test(s.src))) { done(true); return; }
        (function wait() {
          if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
            MathJax.startup.promise.then(() => done(true), () => done(false));
          } else if (Date.now() - start > 30000) { done(false); } else { setTimeout(wait, 100); }
        })();
        """
    )
    assert typeset, (
        f"{page}: MathJax never finished loading (is _static/mathjax there?)"
    )


PAGES = _toc_pages()
ZH_PAGES = _toc_pages(toc_file="_toc.zh.yml")
# Every page of both editions, with the html root it lives in (ids such as "en:book/lab", "zh:book/zh/lab").
EDITION_PAGES = [
    pytest.param(HTML, page, id=f"en:{page}") for page in PAGES
] + [pytest.param(ZH_HTML, page, id=f"zh:{page}") for page in ZH_PAGES]


# What a reader must never see: a failed run's output, or nbval's markers (they are
# cell tags: tests/test_book_code.py).
FAILED_RUN = ("Traceback (most recent call last)", "KeyboardInterrupt")
SHOWN_PROBLEMS = """
const main = document.querySelector('main') || document.body;
const outputs = [...main.querySelectorAll('div.cell_output')];
return {
  markers: (main.innerText.match(/NBVAL_[A-Z_]+/g) || []),
  tracebacks: main.querySelectorAll('.output.traceback, .output.error').length,
  failed_runs: outputs.map(output => output.innerText)
    .filter(text => arguments[0].some(words => text.includes(words)))
    .map(text => text.slice(0, 80)),
};
"""
# Code blocks (notebook cells and {literalinclude}, not outputs, which may scroll) and
# display equations wider than their column; scrollWidth counts what overflows.
TOO_WIDE = """
const main = document.querySelector('main') || document.body;
const code = [...main.querySelectorAll(
  'div.cell_input pre, div.highlight-python pre, div.highlight-default pre')];
const equations = [...main.querySelectorAll('mjx-container[display]')];
const tex = m => (MathJax.startup.document.getMathItemsWithin(m)[0] || {math: '?'})
  .math.trim().slice(0, 60);
const wide = element => element.scrollWidth > element.clientWidth;
return {
  unmeasured: [...code, ...equations].filter(e => e.clientWidth === 0).length,
  code: code.filter(wide).map(pre =>
    `${pre.scrollWidth - pre.clientWidth} px: ${pre.textContent.split('\\n')[0]}`),
  equations: equations.filter(wide).map(m =>
    `${m.scrollWidth - m.clientWidth} px: ${tex(m)}`),
};
"""


def _assert_no_failed_run_and_no_marker(browser, page: str) -> None:
    shown = browser.execute_script(SHOWN_PROBLEMS, list(FAILED_RUN))
    assert shown["markers"] == [], (
        f"{page}: nbval's markers are printed on the page: "
        f"{shown['markers']}; make them cell tags (nbval-check-output)"
    )
    assert shown["tracebacks"] == 0 and shown["failed_runs"] == [], (
        f"{page}: a stored output shows a failed run "
        f"({shown['tracebacks']} error outputs; {shown['failed_runs']}); "
        "re-execute the chapter (make execute NOTEBOOKS=...)"
    )


def _assert_fits_its_column(browser, page: str) -> None:
    """At 1280 px no code block and no display equation scrolls sideways: code cells
    hold 75 characters (73 in a solution), equations are broken with aligned."""
    too_wide = browser.execute_script(TOO_WIDE)
    assert too_wide["unmeasured"] == 0, (
        f"{page}: {too_wide['unmeasured']} code blocks or equations have no "
        "width (hidden?), so this test cannot measure them"
    )
    assert too_wide["code"] == [], (
        f"{page}: code blocks that scroll sideways (wrap the lines, "
        f"tests/test_book_code.py says where): {too_wide['code']}"
    )
    assert too_wide["equations"] == [], (
        f"{page}: display equations wider than the column (break them "
        f"with aligned): {too_wide['equations']}"
    )


@pytest.mark.parametrize(("root", "page"), EDITION_PAGES)
def test_page_renders_cleanly(browser, root, page):
    _open(browser, page, root)
    errors = [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE"
    ]
    assert not errors, f"{page}: JavaScript errors: {errors}"

    remote_scripts = browser.execute_script(
        "return [...document.scripts].map(s => s.src).filter(src => /^https?:/.test(src));"
    )
    assert not remote_scripts, (
        f"{page}: scripts from the network break the offline book: {remote_scripts}"
    )

    # The visible prose, without code (code may hold LaTeX in strings, e.g. matplotlib labels).
    prose = browser.execute_script(
        """
        const main = document.querySelector('main') || document.body;
        const copy = main.cloneNode(true);
        copy.querySelectorAll('pre, code, .highlight, .cell_input, script, style, mjx-container')
            .forEach(element => element.remove());
        return copy.innerText;
        """
    )
    raw = [command for command in RAW_TEX if command in prose]
    assert not raw, (
        f"{page}: raw LaTeX on the page, MathJax did not typeset it: {raw}"
    )

    broken = browser.execute_script(
        """
        return [...document.querySelectorAll('main img')]
            .filter(img => !(img.complete && img.naturalWidth > 0))
            .map(img => img.getAttribute('src'));
        """
    )
    assert not broken, f"{page}: images that did not load: {broken}"
    _assert_no_failed_run_and_no_marker(browser, page)
    _assert_fits_its_column(browser, page)


@pytest.mark.parametrize(
    ("root", "page"),
    [
        param
        for param in EDITION_PAGES
        if param.values[1].endswith(("/math", "/concepts", "/algorithm"))
    ],
)
def test_math_pages_have_typeset_equations(browser, root, page):
    _open(browser, page, root)
    count = browser.execute_script(
        "return document.querySelectorAll('mjx-container').length;"
    )
    assert count >= 10, (
        f"{page}: only {count} typeset formulas; a page of mathematics should have many"
    )


@pytest.mark.parametrize(
    ("root", "page"),
    [
        pytest.param(HTML, page, id=f"en:{page}")
        for page in [PAGES[0], *_toc_pages("Chapters")]
    ]
    + [
        pytest.param(ZH_HTML, page, id=f"zh:{page}")
        for page in [ZH_PAGES[0], *_toc_pages("章节", "_toc.zh.yml")]
    ],
)
def test_chapter_pages_show_figures(browser, root, page):
    _open(browser, page, root)
    figures = browser.execute_script(
        "return [...document.querySelectorAll('main img')].filter(img => img.naturalWidth > 0).length;"
    )
    assert figures >= 1, (
        f"{page}: a chapter should show at least one figure, found none"
    )


def test_solutions_are_folded(browser):
    """Exercise solutions are hidden behind a dropdown until the student opens them."""
    _open(browser, "book/math")
    solutions = browser.execute_script(
        "return [...document.querySelectorAll('.solution')].map(s => s.classList.contains('dropdown') || "
        "s.tagName === 'DETAILS' || !!s.closest('details'));"
    )
    assert solutions, "the math chapter should have solutions"
    assert all(solutions), "every solution should be a dropdown"


INCLUDING_PAGES = [
    "book/algorithm",
    "book/concepts",
    "book/lab",
    "book/practice",
    "book/latent",
    "book/failures",
    "book/applications",
    "book/tools",
]


@pytest.mark.parametrize("page", INCLUDING_PAGES)
def test_included_library_code_does_not_scroll_sideways(browser, page):
    """Library code shown by {literalinclude} fits the code column at 1280 px (76 characters).

    Included blocks are highlight-python or highlight-default; notebook cells are ipython3.
    ruff's line-length (76, pyproject.toml) is chosen for this column."""
    _open(browser, page)
    blocks = browser.execute_script(
        "return [...document.querySelectorAll('div.highlight-python pre, div.highlight-default pre')].map(pre => "
        "[pre.scrollWidth - pre.clientWidth, pre.textContent.split('\\n')[0].slice(0, 60)]);"
    )
    assert blocks, f"{page} should show library code with literalinclude"
    scrolling = [
        first_line for overflow, first_line in blocks if overflow > 0
    ]
    assert scrolling == [], (
        f"{page}: these included blocks scroll sideways: {scrolling}"
    )


API_PAGES = [page for page in PAGES if Path(page).name.startswith("api")]
# Markup left raw means autodoc's reStructuredText was read as Markdown, or napoleon did not run.
RAW_MARKUP = (
    ".. py:",
    ".. auto",
    ":func:`",
    ":class:`",
    ":meth:`",
    ":mod:`",
    "Args:",
)
# An entry of the reference and its docstring's first paragraph, as the page shows it (Sphinx's
# smart quotes put back to plain ones, ``literals`` without their backticks).
KEY_ENTRIES = (
    "gan_teach.train.train",
    "gan_teach.metrics.classifier_fid",
    "gan_teach.pretrained.load_generator",
    "gan_teach.models.generate",
    "gan_teach.losses.get_loss",
    "gan_teach.diversity.diversity_metrics",
    "gan_teach.instruments.latent.slerp",
    "gan_teach.course.grading.grade_notebook",
)


def _summary(dotted: str) -> str:
    import importlib
    import inspect

    module, name = dotted.rsplit(".", 1)
    docstring = inspect.getdoc(
        getattr(importlib.import_module(module), name)
    )
    summary = " ".join(docstring.split("\n\n")[0].replace("``", "").split())

    # a cross-reference shows as its target's last name (a function's with ())
    def shown(role: re.Match) -> str:
        kind, target = role.group(1), role.group(2).lstrip("~")
        name = (
            target.rsplit(".", 1)[-1] if role.group(2)[0] == "~" else target
        )
        return name + "()" if kind in ("func", "meth") else name

    return re.sub(r":(\w+):`([^`]+)`", shown, summary)


def test_api_reference_lists_key_functions_with_their_docstrings(browser):
    assert API_PAGES, "_toc.yml has no API reference (book/api*.md)"
    shown = {}
    for page in API_PAGES:
        _open(browser, page)
        shown.update(
            browser.execute_script(
                """
                const found = {};
                for (const id of arguments[0]) {
                  const term = document.getElementById(id);
                  if (term && term.nextElementSibling) {
                    found[id] = term.nextElementSibling.innerText;
                  }
                }
                return found;
                """,
                list(KEY_ENTRIES),
            )
        )
    missing = [entry for entry in KEY_ENTRIES if entry not in shown]
    assert not missing, f"the API reference has no entry for {missing}"
    for entry in KEY_ENTRIES:
        text = " ".join(shown[entry].split())
        for fancy, plain in (
            ("\u2019", "'"),
            ("\u2018", "'"),
            ("\u201c", '"'),
            ("\u201d", '"'),
        ):
            text = text.replace(fancy, plain)
        assert text.startswith(_summary(entry)), (
            f"{entry}: the page shows {text[:200]!r}, its docstring begins "
            f"{_summary(entry)!r}"
        )


@pytest.mark.parametrize("page", API_PAGES)
def test_api_pages_show_no_raw_markup(browser, page):
    _open(browser, page)
    text = browser.execute_script(
        "return (document.querySelector('main') || document.body).innerText;"
    )
    raw = [markup for markup in RAW_MARKUP if markup in text]
    assert not raw, (
        f"{page}: unrendered markup {raw}: wrap autodoc directives in "
        "```{eval-rst} and keep sphinx.ext.napoleon in _config.yml"
    )
    if page == "book/api":
        # the landing page: the package's exports, each linked to its entry
        import gan_teach

        links = browser.execute_script(
            "return new Set([...document.querySelectorAll('main a[href*=\"#gan_teach.\"]')]"
            ".map(a => a.getAttribute('href'))).size;"
        )
        assert links >= len(gan_teach.__all__), (
            f"{page}: {links} links to entries for {len(gan_teach.__all__)} exports"
        )
        return
    entries = browser.execute_script(
        "return document.querySelectorAll('dl.py dt[id^=\"gan_teach.\"]').length;"
    )
    assert entries >= 10, f"{page}: only {entries} documented objects"


# Two different Chinese characters drawn in the page's own font: a missing glyph is drawn as the same empty
# box for both, so identical pixels mean the reader sees boxes ("tofu") instead of Chinese.
GLYPHS = """
const main = document.querySelector('main') || document.body;
const style = getComputedStyle(main.querySelector('p') || main);
const draw = character => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 64;
  const context = canvas.getContext('2d');
  context.font = `48px ${style.fontFamily}`;
  context.fillText(character, 4, 52);
  const pixels = context.getImageData(0, 0, 64, 64).data;
  let inked = 0, signature = '';
  for (let index = 3; index < pixels.length; index += 4) {
    inked += pixels[index] > 0;
    signature += pixels[index] > 127 ? '1' : '0';
  }
  return {inked: inked, signature: signature};
};
const one = draw('生'), two = draw('器');
return {family: style.fontFamily, inked: [one.inked, two.inked], same: one.signature === two.signature};
"""


@pytest.mark.parametrize(
    "page", [ZH_PAGES[0], "book/zh/concepts", "book/zh/glossary"]
)
def test_chinese_pages_are_marked_chinese_and_drawn_with_a_cjk_font(
    browser, page
):
    _open(browser, page, ZH_HTML)
    language = browser.execute_script(
        "return document.documentElement.lang;"
    )
    assert language == "zh-CN", (
        f"{page}: <html lang={language!r}>; _config.zh.yml's sphinx language (zh_CN) should make it zh-CN"
    )
    text = browser.execute_script(
        "return (document.querySelector('main') || document.body).innerText;"
    )
    assert (
        sum("\u4e00" <= character <= "\u9fff" for character in text) > 200
    ), f"{page}: hardly any Chinese text on a page of the Chinese edition"
    glyphs = browser.execute_script(GLYPHS)
    assert min(glyphs["inked"]) > 50 and not glyphs["same"], (
        f"{page}: Chinese characters are drawn as missing-glyph boxes in {glyphs['family']!r} "
        f"(inked pixels {glyphs['inked']}, identical: {glyphs['same']}): install a CJK font (Debian: fonts-noto-cjk)"
    )


def _switch(browser) -> dict:
    return browser.execute_script(
        """
        const nav = document.querySelector('nav.language-switch');
        if (!nav) { return null; }
        const link = nav.querySelector('a.language-switch-link');
        return {text: nav.innerText, href: link ? link.href : null,
                current: (nav.querySelector('.language-switch-current') || {}).innerText};
        """
    )


@pytest.mark.parametrize(("root", "page"), EDITION_PAGES)
def test_language_switch_opens_the_twin_page_and_back(browser, root, page):
    _open(browser, page, root)
    here = browser.current_url
    switch = _switch(browser)
    assert switch is not None, (
        f"{page}: no language switch (nav.language-switch) on the page"
    )
    assert switch["current"] == ("中文" if root == ZH_HTML else "EN"), (
        f"{page}: the switch says {switch}"
    )
    assert switch["href"] and switch["href"].startswith("file://"), (
        f"{page}: the switch links to {switch['href']}"
    )
    target = Path(switch["href"][len("file://") :].split("#")[0])
    assert target.is_file(), (
        f"{page}: the language switch links to {target}, which was not built"
    )
    browser.get(switch["href"])
    back = _switch(browser)
    assert back is not None and back["href"], (
        f"{target}: no language switch on the twin page"
    )
    twin_has_twin = (
        root == HTML and page.replace("book/", "book/zh/", 1) in ZH_PAGES
    ) or (root == ZH_HTML and page.replace("book/zh/", "book/", 1) in PAGES)
    if twin_has_twin:
        assert back["href"] == here, (
            f"{page}: its twin {target} links back to {back['href']}, not here"
        )
