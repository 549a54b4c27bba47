"""The Chinese edition (book/zh) against the English book: the same code, the same structure, in step, and
with the glossary's terms.

- Every page of the English table of contents has a Chinese twin in ``_toc.zh.yml``, in the same order, and
  the Chinese book's config differs from the English one only where a second language must.
- Each Chinese notebook's code cells equal its English twin's except for comments and string literals
  (:func:`gan_teach.course.translation.code_differences`), and each markdown cell keeps every formula,
  reference, directive, label and link (:func:`~gan_teach.course.translation.markup_differences`).
- Each Chinese notebook records the English commit and the fingerprints of the English code and prose it
  translates; a change to either in the English chapter fails here until the translation follows it.
- The glossary linter: no forbidden synonym, and each glossary term glossed with its English at first use.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from gan_teach.course.glossary_lint import (
    glossary_terms,
    prose_of,
    term_problems,
)
from gan_teach.course.translation import (
    cell_sources,
    code_differences,
    markup_differences,
    markup_items,
)
from gan_teach.course.translation_records import (
    page_staleness,
    staleness,
    stamp_translation,
)

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
ZH = BOOK / "zh"


def _toc_files(toc_file: str) -> list[str]:
    toc = yaml.safe_load((REPO / toc_file).read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc["parts"]:
        for chapter in part["chapters"]:
            files.append(chapter["file"])
            files += [
                section["file"] for section in chapter.get("sections", [])
            ]
    return files


ENGLISH_PAGES = _toc_files("_toc.yml")
CHINESE_NOTEBOOKS = sorted(ZH.glob("*.ipynb"))


def _source(page: str) -> Path:
    return next(
        path
        for suffix in (".ipynb", ".md")
        if (path := REPO / f"{page}{suffix}").is_file()
    )


def _notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_english_page_has_a_chinese_twin_in_the_same_place():
    chinese = _toc_files("_toc.zh.yml")
    assert chinese == [
        page.replace("book/", "book/zh/", 1) for page in ENGLISH_PAGES
    ], (
        "_toc.zh.yml must list book/zh/<page> for every book/<page> of _toc.yml, in the same order"
    )
    missing = [
        page
        for page in chinese
        if not any(
            (REPO / f"{page}{s}").is_file() for s in (".ipynb", ".md")
        )
    ]
    assert not missing, (
        f"Chinese pages in _toc.zh.yml that do not exist yet: {missing}"
    )
    for english_page, chinese_page in zip(ENGLISH_PAGES, chinese):
        assert (
            _source(english_page).suffix == _source(chinese_page).suffix
        ), (
            f"{chinese_page} should be a {_source(english_page).suffix} like its twin"
        )


def _flatten(config: dict, prefix: str = "") -> dict[str, object]:
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


# The only settings in which the Chinese book's config may differ from the English one.
CONFIG_DIFFERENCES = {
    "title",
    "exclude_patterns",
    "sphinx.config.language",
    "sphinx.config.language_switch_edition",
    "sphinx.config.language_switch_other_root",
    "sphinx.config.html_theme_options.search_bar_text",
}


def test_the_chinese_config_differs_from_the_english_only_where_a_language_must():
    english = _flatten(
        yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    )
    chinese = _flatten(
        yaml.safe_load(
            (REPO / "_config.zh.yml").read_text(encoding="utf-8")
        )
    )
    differing = {
        key
        for key in english.keys() | chinese.keys()
        if english.get(key) != chinese.get(key)
    }
    assert differing <= CONFIG_DIFFERENCES, (
        f"_config.zh.yml differs from _config.yml in {sorted(differing - CONFIG_DIFFERENCES)}: "
        "change both (or allow the key in CONFIG_DIFFERENCES, with the reason)"
    )
    assert chinese["sphinx.config.language"] == "zh_CN"
    assert chinese["sphinx.config.language_switch_edition"] == "zh"
    assert english["sphinx.config.language_switch_edition"] == "en"
    assert "book/zh" in " ".join(english["exclude_patterns"]), (
        "the English build must leave book/zh out"
    )


@pytest.mark.parametrize(
    "path", CHINESE_NOTEBOOKS, ids=lambda path: path.stem
)
def test_chinese_code_is_the_english_code(path):
    english = _notebook(BOOK / path.name)
    differences = code_differences(english, _notebook(path))
    assert not differences, (
        f"book/zh/{path.name}'s code differs from book/{path.name}'s beyond comments and string literals "
        f"(python -m gan_teach.course.translation book/{path.name} book/zh/{path.name}):\n"
        + "\n".join(differences)
    )


@pytest.mark.parametrize(
    "path", CHINESE_NOTEBOOKS, ids=lambda path: path.stem
)
def test_chinese_prose_keeps_every_formula_reference_and_label(path):
    differences = markup_differences(
        _notebook(BOOK / path.name), _notebook(path), "book", "book/zh"
    )
    assert not differences, f"book/zh/{path.name}:\n" + "\n".join(
        differences
    )


CHINESE_PAGES = sorted(ZH.glob("*.md"))


@pytest.mark.parametrize("path", CHINESE_PAGES, ids=lambda path: path.stem)
def test_chinese_markdown_pages_keep_every_formula_reference_and_label(
    path,
):
    english = markup_items(
        (BOOK / path.name).read_text(encoding="utf-8"), "book"
    )
    chinese = markup_items(path.read_text(encoding="utf-8"), "book/zh")
    assert chinese == english, (
        f"book/zh/{path.name} lost {sorted(set(english) - set(chinese))[:5]} "
        f"or added {sorted(set(chinese) - set(english))[:5]}"
    )


@pytest.mark.parametrize(
    "path", CHINESE_NOTEBOOKS, ids=lambda path: path.stem
)
def test_chinese_notebook_is_in_step_with_the_english(path):
    problems = staleness(_notebook(BOOK / path.name), _notebook(path))
    assert not problems, f"book/zh/{path.name} is stale:\n" + "\n".join(
        problems
    )


def test_staleness_catches_a_changed_english_code_cell_and_sentence():

    english = {
        "cells": [
            {"cell_type": "markdown", "source": "One."},
            {"cell_type": "code", "source": "x = 1"},
        ]
    }
    chinese = {
        "cells": [
            {"cell_type": "markdown", "source": "一。"},
            {"cell_type": "code", "source": "x = 1"},
        ]
    }
    stamp_translation(chinese, english, "book/x.ipynb", "0" * 40)
    assert staleness(english, chinese) == []
    english["cells"][1]["source"] = "x = 2"
    assert [line.split(":")[0] for line in staleness(english, chinese)] == [
        "the English code changed after 0000000000"
    ]
    english["cells"][1]["source"] = "x = 1  # a comment does not count"
    english["cells"][0]["source"] = "One, changed."
    assert "prose changed" in staleness(english, chinese)[0]


def test_code_differences_see_a_changed_name_number_or_f_string_field_but_not_a_comment_or_text():
    def notebook(code: str) -> dict:
        return {"cells": [{"cell_type": "code", "source": code}]}

    english = notebook(
        'steps = 400  # a short run\nprint(f"after {steps} steps: {loss:.3f}")'
    )
    assert (
        code_differences(
            english,
            notebook(
                'steps = 400  # 短跑\nprint(f"{steps} 步之后：{loss:.3f}")'
            ),
        )
        == []
    )
    for changed in (
        'steps = 401\nprint(f"after {steps} steps: {loss:.3f}")',
        'step = 400\nprint(f"after {step} steps: {loss:.3f}")',
        'steps = 400\nprint(f"after {steps} steps: {loss:.2f}")',
        'steps = 400\nprint(f"after {steps} steps: {loss:.3f}", end="")',
    ):
        assert code_differences(english, notebook(changed)), changed
    assert code_differences(
        english, {"cells": [{"cell_type": "markdown", "source": "x"}]}
    )


TERMS = glossary_terms((BOOK / "glossary.md").read_text(encoding="utf-8"))


def test_the_glossary_gives_the_terms_the_linter_checks():
    assert {
        "生成器",
        "判别器",
        "潜在空间",
        "模式崩溃",
        "非饱和损失",
        "转置卷积",
    } <= set(TERMS)
    zh_glossary = (ZH / "glossary.md").read_text(encoding="utf-8")
    english_headings = [
        line
        for line in (BOOK / "glossary.md")
        .read_text(encoding="utf-8")
        .splitlines()
        if line
        and not line.startswith((" ", "#", "`", "The ", "English", "its "))
    ]
    for heading in english_headings:
        if heading.endswith(")") and "(" in heading:
            assert heading in zh_glossary.splitlines(), (
                f"the Chinese glossary lacks the entry {heading!r}: {{term}} roles of both editions point at it"
            )


@pytest.mark.parametrize(
    "path",
    CHINESE_NOTEBOOKS
    + [path for path in CHINESE_PAGES if path.stem != "glossary"],
    ids=lambda path: path.stem,
)
def test_chinese_pages_use_the_glossary_terms(path):
    if path.suffix == ".ipynb":
        markdown = [
            source
            for kind, source in cell_sources(_notebook(path))
            if kind == "markdown"
        ]
    else:
        markdown = [path.read_text(encoding="utf-8")]
    problems = term_problems(
        "\n".join(prose_of(text) for text in markdown), TERMS
    )
    assert not problems, f"book/zh/{path.name}:\n" + "\n".join(problems)


MISSING_GLYPH = ("missing from font", "does not have a glyph")


@pytest.mark.parametrize(
    "path", CHINESE_NOTEBOOKS, ids=lambda path: path.stem
)
def test_chinese_figures_were_drawn_with_a_cjk_font(path):
    """matplotlib warns for every character its fonts lack; a stored warning means boxes in a figure."""
    warned = []
    for index, cell in enumerate(_notebook(path)["cells"]):
        for output in cell.get("outputs", []):
            text = (
                "".join(output.get("text", ""))
                if output.get("output_type") == "stream"
                else ""
            )
            if any(words in text for words in MISSING_GLYPH):
                warned.append(
                    f"cell {index}: {text.strip().splitlines()[0][:100]}"
                )
    assert not warned, (
        f"book/zh/{path.name} was executed without a CJK font (install fonts-noto-cjk; gan_teach.fonts): "
        + "; ".join(warned)
    )


def test_the_language_switch_links_each_page_to_its_twin_relatively():
    """book/_ext/language_switch.py: the English page book/lab (built at _build/html/book/lab.html) and the
    Chinese book/zh/lab (at _build/html/zh/book/zh/lab.html) link to each other with relative links."""
    import importlib.util
    import posixpath

    spec = importlib.util.spec_from_file_location(
        "language_switch", BOOK / "_ext" / "language_switch.py"
    )
    switch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(switch)
    assert switch.twin_pagename("book/lab", "en") == "book/zh/lab"
    assert switch.twin_pagename("book/zh/lab", "zh") == "book/lab"
    to_chinese = switch.relative_link("book/lab", "zh/", "book/zh/lab")
    to_english = switch.relative_link("book/zh/lab", "../", "book/lab")
    # resolved from where each page is built, inside _build/html
    assert (
        posixpath.normpath(posixpath.join("book", to_chinese))
        == "zh/book/zh/lab.html"
    )
    assert (
        posixpath.normpath(posixpath.join("zh/book/zh", to_english))
        == "book/lab.html"
    )


@pytest.mark.parametrize("path", CHINESE_PAGES, ids=lambda path: path.stem)
def test_chinese_markdown_page_is_in_step_with_the_english(path):

    problems = page_staleness(
        (BOOK / path.name).read_text(encoding="utf-8"),
        path.read_text(encoding="utf-8"),
    )
    assert not problems, f"book/zh/{path.name} is stale:\n" + "\n".join(
        problems
    )
