"""A Sphinx extension that puts a language switch (EN / 中文) at the top of every page of both editions.

The English book (``_config.yml``) is built into ``_build/html``; the Chinese one (``_config.zh.yml``, its
chapters in ``book/zh/``) into ``_build/html/zh`` (``make book`` builds both). A page ``book/<name>`` and
its twin ``book/zh/<name>`` link to each other with relative links, so the switch works from ``file://``,
offline, with no script. A page without a twin links to the other edition's front page.

Configuration (``sphinx: config:`` in each book's config):

- ``language_switch_edition``: ``"en"`` or ``"zh"``, which edition this build is;
- ``language_switch_other_root``: the other edition's html root, relative to this one's (``"zh/"`` from the
  English book, ``"../"`` from the Chinese one).
"""

from __future__ import annotations

import html
import posixpath
from pathlib import Path

_LABELS = {"en": ("EN", "en", "English"), "zh": ("中文", "zh-CN", "中文版")}
_CHINESE_FOLDER = "book/zh/"


def twin_pagename(pagename: str, edition: str) -> str:
    """The other edition's page for ``pagename``: ``book/lab`` <-> ``book/zh/lab``.

    >>> twin_pagename("book/lab", "en"), twin_pagename("book/zh/lab", "zh")
    ('book/zh/lab', 'book/lab')
    """
    if edition == "zh":
        return "book/" + pagename[len(_CHINESE_FOLDER):] if pagename.startswith(_CHINESE_FOLDER) else pagename
    return _CHINESE_FOLDER + pagename[len("book/"):] if pagename.startswith("book/") else pagename


def relative_link(pagename: str, other_root: str, target_pagename: str) -> str:
    """A link from this build's page ``pagename`` to ``target_pagename`` of the build at ``other_root``.

    >>> relative_link("book/lab", "zh/", "book/zh/lab")
    '../zh/book/zh/lab.html'
    >>> relative_link("book/zh/lab", "../", "book/lab")
    '../../../book/lab.html'
    """
    depth = pagename.count("/")
    return posixpath.normpath(posixpath.join("../" * depth or ".", other_root, target_pagename + ".html"))


def _has_source(srcdir: Path, pagename: str) -> bool:
    return any((srcdir / f"{pagename}{suffix}").is_file() for suffix in (".ipynb", ".md"))


def switch_html(app, pagename: str) -> str:
    """The switch's HTML for one page: the current language as text, the other as a link."""
    edition = app.config.language_switch_edition
    other = "zh" if edition == "en" else "en"
    target = twin_pagename(pagename, edition)
    if not _has_source(Path(app.srcdir), target):
        target = app.config.language_switch_front_pages[other]
    href = relative_link(pagename, app.config.language_switch_other_root, target)
    here_label, here_lang, _ = _LABELS[edition]
    other_label, other_lang, other_title = _LABELS[other]
    parts = {
        edition: f'<span class="language-switch-current" lang="{here_lang}" aria-current="true">{here_label}</span>',
        other: f'<a class="language-switch-link" href="{html.escape(href)}" hreflang="{other_lang}" '
        f'lang="{other_lang}" title="{other_title}">{other_label}</a>',
    }
    return (
        '<nav class="language-switch" aria-label="Language / 语言" '
        'style="float: right; font-size: 0.9em; margin: 0 0 0.5em 1em;">'
        f'{parts["en"]} / {parts["zh"]}</nav>\n'
    )


def add_switch(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Prepend the switch to the page's body (pages without a body, such as search, get none)."""
    if "body" in context and doctree is not None:
        context["body"] = switch_html(app, pagename) + context["body"]


def setup(app) -> dict:
    app.add_config_value("language_switch_edition", "en", "html")
    app.add_config_value("language_switch_other_root", "zh/", "html")
    app.add_config_value(
        "language_switch_front_pages", {"en": "book/intro", "zh": "book/zh/intro"}, "html"
    )
    app.connect("html-page-context", add_switch)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
