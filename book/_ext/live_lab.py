"""A Sphinx extension that brings the live GAN lab to the pages that hold one.

A page holds a lab where its Markdown has raw HTML with a ``data-gan-live-lab`` element (the lab
chapter does). Such a page, and only such a page, gets four files as classic ``<script>``/``<link>``
tags, which browsers load from ``file://`` as well as over http:

- ``gan_lab_data.js``: every setting of the lab, written from ``gan_teach.instruments.lab.page.page_data()`` when the
  book is built, so that the page cannot drift from the library (one source of truth);
- ``gan_lab_engine.js``: the trainer (tested against ``gan_teach.train`` by ``tests/test_lab_js_parity.py``);
- ``gan_lab_page.js`` and ``gan_lab.css``: the controls and the pictures.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes

HERE = Path(__file__).resolve().parent
STATIC = HERE / "live_lab"  # the hand-written files
MARKER = "data-gan-live-lab"
SCRIPTS = ("gan_lab_data.js", "gan_lab_engine.js", "gan_lab_page.js")
STYLESHEET = "gan_lab.css"


def _write_page_data(app) -> None:
    """Write ``gan_lab_data.js`` from the library into a build folder that Sphinx copies to ``_static``."""
    from gan_teach.instruments.lab.page import page_data_script

    generated = Path(app.doctreedir) / "live_lab"
    generated.mkdir(parents=True, exist_ok=True)
    (generated / "gan_lab_data.js").write_text(page_data_script(), encoding="utf-8")
    app.config.html_static_path = list(app.config.html_static_path) + [str(STATIC), str(generated)]


def _has_lab(doctree) -> bool:
    return doctree is not None and any(MARKER in node.astext() for node in doctree.findall(nodes.raw))


def _add_lab_files(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Add the lab's scripts and stylesheet to a page that holds a lab (called within html-page-context: that page only)."""
    if not _has_lab(doctree):
        return
    app.add_css_file(STYLESHEET)
    for script in SCRIPTS:
        app.add_js_file(script)


def setup(app) -> dict:
    app.connect("builder-inited", _write_page_data)
    app.connect("html-page-context", _add_lab_files, priority=400)  # before unique_scripts (900) tidies the list
    return {"parallel_read_safe": True, "parallel_write_safe": True}
