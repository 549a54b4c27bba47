"""MyST Markdown to plain Markdown: what the notebook edition does to each markdown cell of the book.

Jupyter Book renders MyST directives (``{exercise}``, ``{literalinclude}``, ``{prf:theorem}``, ``{figure}``,
``{note}``) and roles (``{cite}``, ``{doc}``, ``{ref}``, ``{eq}``, ``{prf:ref}``); Colab and Jupyter show them
as raw text. :func:`convert_markdown` turns them into plain Markdown with the numbers the book prints
("Exercise 5.1", "Theorem 5.1", "(5.2)"), which :class:`Edition` works out from ``_toc.yml`` and the chapters,
as Sphinx does. Markup it does not know raises :class:`MystLeftError` naming the chapter and the markup:
nothing is passed through unconverted. Solutions are handled by :mod:`gan_teach.course.notebook_edition`.
"""

from __future__ import annotations

import functools
import json
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Edition",
    "MystLeftError",
    "convert_markdown",
    "citation_label",
    "cell_text",
    "EDITION_FOLDER",
]

#: The edition of book/x.ipynb is notebooks/book/x.ipynb (what the launch buttons open).
EDITION_FOLDER = "notebooks"
COLAB = "https://colab.research.google.com/github"
_FENCE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<argument>.*?)[ \t]*$"
)
_OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*?)[ \t]*$")
_ROLE = re.compile(r"\{(?P<name>[\w:-]+)\}`(?P<content>[^`]*)`")
_LABELLED_MATH = re.compile(r"^\$\$[ \t]*\((?P<label>[^)\s]+)\)[ \t]*$")
_TARGET = re.compile(r"^\((?P<label>[^)\s]+)\)=[ \t]*$")
_EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)
_ADMONITIONS = frozenset(
    "note tip hint important warning caution attention danger error seealso".split()
)


class MystLeftError(ValueError):
    """A chapter uses MyST markup that the edition does not know how to turn into plain Markdown."""


@dataclass
class Edition:
    """Everything the conversion needs to know about the book (read by :meth:`from_repository`)."""

    root: Path  # the repository: _config.yml, _toc.yml, pyproject.toml, references.bib, book/
    repository_url: str  # https://github.com/OWNER/NAME, from _config.yml
    version: (
        str  # from pyproject.toml; the edition installs the tag v<version>
    )
    numbers: dict[
        str, int
    ]  # chapter stem -> its number in the book (numbered parts of _toc.yml)
    titles: dict[str, str] = field(
        default_factory=dict
    )  # page stem -> its title (first heading)
    targets: dict[str, str] = field(
        default_factory=dict
    )  # label -> what a reference prints ("Exercise 5.1")
    bibliography: Any = None  # pybtex BibliographyData of references.bib

    @property
    def release(self) -> str:
        return f"v{self.version}"

    @property
    def owner_and_name(self) -> str:
        match = re.fullmatch(
            r"https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?/?",
            self.repository_url,
        )
        if not match:
            raise ValueError(
                f"repository.url in _config.yml must be https://github.com/OWNER/NAME (Colab opens "
                f"notebooks from GitHub), got {self.repository_url!r}"
            )
        return match.group(1)

    def colab_url(self, stem: str) -> str:
        return f"{COLAB}/{self.owner_and_name}/blob/{self.release}/{EDITION_FOLDER}/book/{stem}.ipynb"

    def raw_url(self, path: str) -> str:
        return f"https://raw.githubusercontent.com/{self.owner_and_name}/{self.release}/{path}"

    @classmethod
    def from_repository(cls, root: str | Path = ".") -> Edition:
        """Read the book in ``root``: _config.yml, _toc.yml, pyproject.toml, references.bib, book/."""
        import yaml
        from pybtex.database import parse_file

        root = Path(root)
        config = yaml.safe_load(
            (root / "_config.yml").read_text(encoding="utf-8")
        )
        url = (config.get("repository") or {}).get("url")
        if not url:
            raise ValueError(
                f"{root / '_config.yml'} has no repository.url: the edition's install cell needs it"
            )
        version = re.search(
            r'^version\s*=\s*"([^"]+)"',
            (root / "pyproject.toml").read_text(encoding="utf-8"),
            re.M,
        )
        if not version:
            raise ValueError(
                f'no version = "..." in {root / "pyproject.toml"}'
            )
        toc = yaml.safe_load(
            (root / "_toc.yml").read_text(encoding="utf-8")
        )
        numbers: dict[str, int] = {}
        for part in toc.get("parts", []):
            if part.get("numbered"):
                for chapter in part.get("chapters", []):
                    numbers[Path(chapter["file"]).name] = len(numbers) + 1
        edition = cls(root, url.rstrip("/"), version.group(1), numbers)
        bib = root / "references.bib"
        edition.bibliography = (
            parse_file(str(bib)) if bib.exists() else None
        )
        edition._collect_targets()
        return edition

    def _collect_targets(self) -> None:
        """Number exercises, theorems and labelled equations per chapter, as Sphinx does; read page titles."""
        for page in sorted((self.root / "book").glob("*.md")):
            heading = re.search(
                r"^# (.+)$", page.read_text(encoding="utf-8"), re.M
            )
            self.titles[page.stem] = (
                heading.group(1).strip() if heading else page.stem
            )
        for path in sorted((self.root / "book").glob("*.ipynb")):
            notebook = json.loads(path.read_text(encoding="utf-8"))
            stem, counters = path.stem, {}
            prefix = (
                f"{self.numbers[stem]}." if stem in self.numbers else ""
            )
            for cell in notebook["cells"]:
                if cell["cell_type"] != "markdown":
                    continue
                lines = cell_text(cell).split("\n")
                for index, line in enumerate(lines):
                    if stem not in self.titles and line.startswith("# "):
                        self.titles[stem] = line[2:].strip()
                    if _LABELLED_MATH.match(line):
                        counters["equation"] = (
                            counters.get("equation", 0) + 1
                        )
                        self.targets[
                            _LABELLED_MATH.match(line).group("label")
                        ] = f"({prefix}{counters['equation']})"
                    fence = _FENCE.match(line)
                    if (
                        not fence
                        or fence.group("name") not in ("exercise",)
                        and not fence.group("name").startswith("prf:")
                    ):
                        continue
                    kind = fence.group("name").removeprefix("prf:")
                    if kind == "proof":
                        continue
                    counters[kind] = counters.get(kind, 0) + 1
                    number = f"{kind.capitalize()} {prefix}{counters[kind]}"
                    for option in lines[index + 1 :]:
                        match = _OPTION.match(option)
                        if not match:
                            break
                        if match.group("key") == "label":
                            self.targets[match.group("value")] = number
                            self.targets[
                                match.group("value") + "#title"
                            ] = fence.group("argument")


def cell_text(cell: Any) -> str:
    """A notebook cell's source as one string (nbformat allows a list of lines)."""
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


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
                    f"{stem}: {{doc}}`{content}` names no page of book/"
                )
            title = shown or edition.titles[page]
            if (edition.root / "book" / f"{page}.ipynb").exists():
                return f"[{title}]({edition.colab_url(page)})"
            return f"[{title}]({edition.repository_url}/blob/{edition.release}/book/{page}.md)"
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

    path = (edition.root / "book" / argument).resolve()
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
        where += f", `{options['pyobject']}`"
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
    caption = options.get("caption") or f"From {where}:"
    return f"*{caption}*\n\n```{options.get('language', 'python')}\n{code}\n```"


def _directive(
    edition: Edition,
    stem: str,
    name: str,
    argument: str,
    options: dict[str, str],
    body: str,
) -> str:
    if name == "exercise":
        label = options.get("label", "")
        number = edition.targets.get(label, "Exercise")
        title = f"{number} ({argument})" if argument else number
        anchor = f'<a id="{label}"></a>\n' if label else ""
        return f"{anchor}### {title}\n\n{body}"
    if name.startswith("prf:"):
        kind = name.removeprefix("prf:")
        if kind == "proof":
            return f"*Proof.* {body} $\\square$"
        number = edition.targets.get(
            options.get("label", ""), kind.capitalize()
        )
        heading = (
            f"**{number}** ({argument})." if argument else f"**{number}.**"
        )
        return f"{heading}\n\n{body}"
    if name in _ADMONITIONS:
        return f"> **{name.capitalize()}.** " + body.replace("\n", "\n> ")
    if name == "admonition":
        return f"> **{argument}.** " + body.replace("\n", "\n> ")
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
            source = edition.raw_url((Path("book") / argument).as_posix())
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
        fence = _FENCE.match(line)
        if _TARGET.match(line):
            out.append(f'<a id="{_TARGET.match(line).group("label")}"></a>')
            index += 1
            continue
        if (
            line.startswith("$$")
            and _LABELLED_MATH.match(line.strip())
            and out
        ):
            label = _LABELLED_MATH.match(line.strip()).group("label")
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
        while index < len(lines) and _OPTION.match(lines[index]):
            option = _OPTION.match(lines[index])
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
