"""A Sphinx extension that drops repeated inline scripts from every page of the book.

sphinx-thebe 0.3 adds its configuration as an inline ``<script>`` that declares ``const THEBE_JS_URL``.
With Sphinx 7 that script lands twice in every page, and the second copy is a JavaScript error
(``Identifier 'THEBE_JS_URL' has already been declared``) that the browser test of the built book catches.
Sphinx already keeps one copy of each script *file*; this keeps one copy of each inline script too.
"""

from __future__ import annotations

from typing import Any


def _key(script: Any) -> tuple:
    """What makes two entries of ``script_files`` the same script: the file and every attribute.

    An inline script's file name is ``None`` or ``""`` depending on who added it: both mean "none".
    """
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {}) or {}
    return (str(filename), tuple(sorted((name, str(value)) for name, value in attributes.items())))


def drop_repeated_scripts(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Keep the first of each identical script in the page's ``script_files``, in order."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app) -> dict:
    app.connect("html-page-context", drop_repeated_scripts, priority=900)  # after the extensions that add scripts
    return {"parallel_read_safe": True, "parallel_write_safe": True}
