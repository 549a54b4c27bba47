"""MyST Markdown to plain Markdown: what the notebook edition does to each markdown cell of the book.

Jupyter Book renders MyST directives (``{exercise}``, ``{literalinclude}``, ``{prf:theorem}``, ``{figure}``,
``{note}``) and roles (``{cite}``, ``{doc}``, ``{ref}``, ``{eq}``, ``{prf:ref}``); Colab and Jupyter show them
as raw text. :func:`convert_markdown` turns them into plain Markdown with the numbers the book prints
("Exercise 5.1", "Theorem 5.1", "(5.2)"), which :class:`~gan_teach.course.edition.Edition` works out from ``_toc.yml`` and the chapters,
as Sphinx does. Markup it does not know raises :class:`~gan_teach.course.edition.MystLeftError` naming the chapter and the markup:
nothing is passed through unconverted. Solutions are handled by :mod:`gan_teach.course.notebook_edition`.

There is one conversion for both editions of the book, the English one (``book/``) and the Chinese one
(``book/zh/``): every word it writes comes from the edition's language
(:class:`~gan_teach.course.edition.EditionLanguage`).
"""

from __future__ import annotations

import functools
import posixpath
import re
import textwrap
from pathlib import Path

from .edition import (
    FENCE,
    LABELLED_MATH,
    OPTION,
    Edition,
    MystLeftError,
)

__all__ = [
    "convert_markdown",
    "citation_label",
]

_ROLE = re.compile(r"\{(?P<name>[\w:-]+)\}`(?P<content>[^`]*)`")
_TARGET = re.compile(r"^\((?P<label>[^)\s]+)\)=[ \t]*$")
_EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)


# ---------------------------------------------------------------- roles


@functools.cache
def _latex_to_text(latex: str) -> str:
    from pybtex.plugin import find_plugin
    from pybtex.richtext import Text

    return Text.from_latex(latex).render(
        find_plugin("pybtex.backends", "plaintext")()
    )


def citation_label(edition: Edition, key: str) -> tuple[str, str]:
    """(authors, year) as the book's author-year style prints them: "Goodfellow et al.", "2014"."""
    if (
        edition.bibliography is None
        or key not in edition.bibliography.entries
    ):
        raise MystLeftError(
            f"{{cite}}`{key}`: no entry {key!r} in references.bib"
        )
    entry = edition.bibliography.entries[key]
    people = (
        entry.persons.get("author") or entry.persons.get("editor") or []
    )
    names = [
        _latex_to_text(" ".join(person.prelast_names + person.last_names))
        for person in people
    ]
    if not names:
        authors = _latex_to_text(
            entry.fields.get("organization", entry.fields.get("title", key))
        )
    elif len(names) == 1:
        authors = names[0]
    elif len(names) == 2:
        authors = f"{names[0]} and {names[1]}"
    else:
        authors = f"{names[0]} et al."
    return authors, entry.fields.get("year", "n.d.")


def _replace_roles(
    text: str, edition: Edition, stem: str, cited: list[str]
) -> str:
    def replace(match: re.Match) -> str:
        name, content = match.group("name"), match.group("content")
        explicit = _EXPLICIT.match(content)
        shown, target = (
            (explicit.group("text"), explicit.group("target"))
            if explicit
            else (None, content)
        )
        if name in ("cite", "cite:p", "cite:t"):
            keys = [key.strip() for key in content.split(",")]
            cited.extend(key for key in keys if key not in cited)
            labels = [citation_label(edition, key) for key in keys]
            if name == "cite:t":
                return "; ".join(
                    f"{authors} ({year})" for authors, year in labels
                )
            return (
                "("
                + "; ".join(
                    f"{authors}, {year}" for authors, year in labels
                )
                + ")"
            )
        if name == "doc":
            page = Path(target).name
            if page not in edition.titles:
                raise MystLeftError(
                    f"{stem}: {{doc}}`{content}` names no page of {edition.language.book}/"
                )
            title = shown or edition.titles[page]
            if not edition.translated(page):
                # a page not translated yet: the stand-in's, said to be so
                title += edition.language.untranslated
            source = edition.pages[page]
            if source.endswith(".ipynb"):
                folder, _, _ = source.rpartition("/")
                return f"[{title}]({edition.colab_url(page, folder)})"
            return f"[{title}]({edition.repository_url}/blob/{edition.release}/{source})"
        if name in ("ref", "eq", "prf:ref", "numref"):
            if target not in edition.targets:
                raise MystLeftError(
                    f"{stem}: {{{name}}}`{content}`: no exercise, theorem or equation is labelled {target!r}"
                )
            return shown or edition.targets[target]
        raise MystLeftError(
            f"{stem}: the role {{{name}}} has no plain-Markdown form in the notebook edition; "
            f"add it to gan_teach/course/notebook_edition.py or write the text without it"
        )

    return _ROLE.sub(replace, text)


# ---------------------------------------------------------------- directives


def _literalinclude(
    edition: Edition, stem: str, argument: str, options: dict[str, str]
) -> str:
    from sphinx.pycode import ModuleAnalyzer

    path = (edition.book / argument).resolve()
    if not path.is_file():
        raise MystLeftError(
            f"{stem}: {{literalinclude}} {argument}: no such file {path}"
        )
    unknown = set(options) - {
        "pyobject",
        "language",
        "lines",
        "caption",
        "name",
        "start-at",
        "end-before",
    }
    if unknown:
        raise MystLeftError(
            f"{stem}: {{literalinclude}} options {sorted(unknown)} are not supported by the edition"
        )
    lines = path.read_text(encoding="utf-8").split("\n")
    where = f"`{path.relative_to(edition.root.resolve()).as_posix()}`"
    if "pyobject" in options:
        tags = ModuleAnalyzer.for_file(str(path), "").find_tags()
        if options["pyobject"] not in tags:
            raise MystLeftError(
                f"{stem}: {{literalinclude}} {argument}: no {options['pyobject']} in it (:pyobject:)"
            )
        _, start, end = tags[options["pyobject"]]
        lines = lines[start - 1 : end]  # as Sphinx slices it
        where = edition.language.object_in_file.format(
            file=where, name=f"`{options['pyobject']}`"
        )
    if "start-at" in options or "end-before" in options:
        # as Sphinx does: from the first line holding start-at, up to the
        # first later line holding end-before
        text = "\n".join(lines)
        begin = text.find(options.get("start-at", ""))
        stop = text.find(options.get("end-before", "\0"), begin + 1)
        if begin < 0 or ("end-before" in options and stop < 0):
            raise MystLeftError(
                f"{stem}: {{literalinclude}} {argument}: start-at/end-before not found"
            )
        begin = text.rfind("\n", 0, begin) + 1
        stop = len(text) if stop < 0 else text.rfind("\n", 0, stop) + 1
        lines = text[begin:stop].split("\n")
    if "lines" in options:
        chosen = []
        for piece in options["lines"].split(","):
            first, _, last = piece.strip().partition("-")
            chosen.extend(lines[int(first) - 1 : int(last or first)])
        lines = chosen
    code = textwrap.dedent("\n".join(lines)).rstrip(
        "\n"
    )  # a method, for one, is shown without its indent
    caption = options.get("caption") or edition.language.from_file.format(
        where=where
    )
    return f"*{caption}*\n\n```{options.get('language', 'python')}\n{code}\n```"


def _directive(
    edition: Edition,
    stem: str,
    name: str,
    argument: str,
    options: dict[str, str],
    body: str,
) -> str:
    language = edition.language
    if name == "exercise":
        label = options.get("label", "")
        number = edition.targets.get(label) or language.kind(name, stem)
        title = language.with_title(number, argument)
        anchor = f'<a id="{label}"></a>\n' if label else ""
        return f"{anchor}### {title}\n\n{body}"
    if name.startswith("prf:"):
        kind = name.removeprefix("prf:")
        if kind == "proof":
            return language.proof.format(body=body)
        number = edition.targets.get(
            options.get("label", "")
        ) or language.kind(kind, stem)
        if argument:
            return (
                language.statement.format(heading=number, title=argument)
                + f"\n\n{body}"
            )
        return (
            language.untitled_statement.format(heading=number)
            + f"\n\n{body}"
        )
    if name in language.admonitions or name == "admonition":
        title = (
            argument if name == "admonition" else language.admonitions[name]
        )
        return language.callout.format(
            title=title, body=body.replace("\n", "\n> ")
        )
    if name == "literalinclude":
        return _literalinclude(edition, stem, argument, options)
    if name in ("raw", "only") and argument.strip() == "html":
        # the HTML book's live widgets (the lab, the latent explorer): a
        # notebook runs the Python widgets beside them instead
        return ""
    if name == "figure":
        if re.match(r"[a-z]+://", argument):
            source = argument
        else:
            # from book/zh, "../figures/x.png" is book/figures/x.png
            source = edition.raw_url(
                posixpath.normpath(f"{language.book}/{argument}")
            )
        width = options.get("width", "").removesuffix("px")
        size = f' width="{width}"' if width.isdigit() else ""
        alt = options.get("alt", "").replace('"', "&quot;")
        caption = f"\n\n*{body.strip()}*" if body.strip() else ""
        return f'<img src="{source}" alt="{alt}"{size}>{caption}'
    raise MystLeftError(
        f"{stem}: the directive {{{name}}} has no plain-Markdown form in the notebook edition; "
        f"add it to gan_teach/course/notebook_edition.py or write the text without it"
    )


def convert_markdown(
    text: str, edition: Edition, stem: str, cited: list[str]
) -> str:
    """Turn a piece of MyST Markdown (no solution markup in it) into plain Markdown, directives inside out.

    Args:
        text: the Markdown.
        edition: the book's numbers, titles, addresses and bibliography.
        stem: the chapter's name, for error messages and relative paths.
        cited: the citation keys met so far; new ones are appended (for the chapter's reference list).

    Returns:
        Plain Markdown (and HTML for anchors and sized images, which Markdown cannot write).

    Raises:
        MystLeftError: a directive or role it cannot convert, a label or citation it cannot find.

    >>> edition = Edition(Path("."), "https://github.com/owner/name", "1.0", {"math": 5},
    ...                   targets={"value-function": "(5.1)", "ex-a": "Exercise 5.1", "ex-a#title": "A"})
    >>> print(convert_markdown("```{exercise} A\\n:label: ex-a\\n\\nUse {eq}`value-function`.\\n```", edition, "math", []))
    <a id="ex-a"></a>
    ### Exercise 5.1 (A)
    <BLANKLINE>
    Use (5.1).
    """
    lines, out, index = text.split("\n"), [], 0
    while index < len(lines):
        line = lines[index]
        fence = FENCE.match(line)
        if _TARGET.match(line):
            out.append(f'<a id="{_TARGET.match(line).group("label")}"></a>')
            index += 1
            continue
        if (
            line.startswith("$$")
            and LABELLED_MATH.match(line.strip())
            and out
        ):
            label = LABELLED_MATH.match(line.strip()).group("label")
            number = edition.targets[label].strip("()")
            out.append(f"\\tag{{{number}}}")
            out.append("$$")
            index += 1
            continue
        if not fence:
            out.append(line)
            index += 1
            continue
        marker, name = fence.group("fence"), fence.group("name")
        index += 1
        options: dict[str, str] = {}
        while index < len(lines) and OPTION.match(lines[index]):
            option = OPTION.match(lines[index])
            options[option.group("key")] = option.group("value")
            index += 1
        body = []
        closing = re.compile(
            "^"
            + re.escape(marker[0])
            + "{"
            + str(len(marker))
            + r",}[ \t]*$"
        )
        while index < len(lines) and not closing.match(lines[index]):
            body.append(lines[index])
            index += 1
        if index == len(lines):
            raise MystLeftError(
                f"{stem}: the directive {{{name}}} opened with {marker} never closes"
            )
        index += 1
        inner = convert_markdown(
            "\n".join(body).strip("\n"), edition, stem, cited
        )
        out.append(
            _directive(
                edition, stem, name, fence.group("argument"), options, inner
            )
        )
    return _replace_roles("\n".join(out), edition, stem, cited)
