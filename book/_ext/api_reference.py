"""A Sphinx extension for the book's API reference (``book/api*.md``): autodoc reads this repository.

Jupyter Book appends the folders of ``local_extensions`` to the *end* of ``sys.path``, after
site-packages, so autodoc would import whatever ``gan_teach`` is installed: another checkout, or an
older release. This puts the repository first and stops the build if ``gan_teach`` was already
imported from somewhere else, so the reference always describes the code beside it.

It also gives :class:`gan_teach.config.TrainConfig` its fields: each field's meaning is the comment
beside it in ``config.py``, which Python does not keep; ``gan-teach train --help`` shows the same
text, read through the public :func:`gan_teach.options.add_config_options`.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from sphinx.errors import ExtensionError

REPOSITORY = Path(__file__).resolve().parents[2]  # book/_ext/ -> the repository


def _import_from_repository() -> None:
    """Make ``import gan_teach`` find this repository's package, or say why it cannot."""
    sys.path.insert(0, str(REPOSITORY))
    loaded = sys.modules.get("gan_teach")
    if loaded is not None:
        where = Path(loaded.__file__).resolve().parent
        if where != REPOSITORY / "gan_teach":
            raise ExtensionError(
                f"gan_teach was imported from {where} before the API reference could "
                f"point autodoc at {REPOSITORY / 'gan_teach'}; the reference would "
                "describe that copy. Install this checkout (pip install -e .) or run "
                f"with PYTHONPATH={REPOSITORY}."
            )


def config_fields() -> list[str]:
    """reStructuredText lines: a table of TrainConfig's fields, flags, defaults and help texts."""
    from gan_teach.config import TrainConfig
    from gan_teach.options import add_config_options

    parser = argparse.ArgumentParser()
    add_config_options(parser)
    # argparse keeps its actions in ``_actions`` (so since Python 3.2); it has no public list.
    actions = {action.dest: action for action in parser._actions}
    lines = [
        "",
        "Each field is also an option of ``gan-teach train``, with this help:",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 30 14 56",
        "",
        "   * - Field (option)",
        "     - Default",
        "     - Meaning",
    ]
    for field in dataclasses.fields(TrainConfig):
        action = actions[field.name]
        text = (action.help or "").replace("%%", "%").replace("`", "``")
        lines += [
            f"   * - ``{field.name}`` (``{action.option_strings[0]}``)",
            f"     - ``{field.default!r}``",
            f"     - {text}",
        ]
    return lines + [""]


def _add_config_fields(
    app: Any,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    lines: list[str],
) -> None:
    if what == "class" and name == "gan_teach.config.TrainConfig":
        lines.extend(config_fields())


STATIC = Path(__file__).parent / "api_reference_static"


def _wrap_examples(app: Any, doctree: Any) -> None:
    """Mark the API pages' examples (``>>>`` blocks, literal blocks) so they wrap.

    Docstrings follow the library's line length, wider than the book's text
    column; a reader on the page sees them wrapped, not scrolling sideways.
    """
    from docutils import nodes

    # book/api*.md, and the Chinese edition's book/zh/api*.md
    if not app.env.docname.rsplit("/", 1)[-1].startswith("api"):
        return
    for block in doctree.findall(
        lambda node: isinstance(node, (nodes.literal_block, nodes.doctest_block))
    ):
        block["classes"].append("api-example")


def setup(app: Any) -> dict:
    _import_from_repository()
    app.config.html_static_path = list(app.config.html_static_path) + [str(STATIC)]
    app.add_css_file("api-reference.css")
    app.connect("doctree-read", _wrap_examples)
    app.setup_extension("sphinx.ext.autodoc")
    app.setup_extension("sphinx.ext.napoleon")
    app.connect("autodoc-process-docstring", _add_config_fields)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
