"""The notebook edition: the book's chapters as notebooks that Colab and Jupyter render, generated, never edited.

The chapters in ``book/`` are written for Jupyter Book: MyST directives (``{exercise}``, ``{solution-start}``,
``{literalinclude}``, ``{prf:theorem}``, ``{figure}``) and roles (``{cite}``, ``{doc}``, ``{eq}``) that Colab
and Jupyter show as raw text, with every solution unfolded. :func:`make_notebook_edition` writes each
chapter again with that markup turned into plain Markdown:

- an exercise becomes a heading, ``Exercise 5.1 (title)``, numbered as the book numbers it;
- a solution's text goes inside ``<details><summary>Solution to Exercise 5.1 …</summary>`` (folded until
  the reader opens it); a solution's code cell is collapsed (Colab's ``cellView: form`` with a ``#@title``,
  Jupyter's ``source_hidden``) and its outputs are cleared, so the answer is shown only after a click or a run;
- ``{literalinclude}`` becomes the included code, read from the library (``:pyobject:`` as Sphinx finds it);
- ``{cite}`` becomes author-year text, and a *References* section lists the works a chapter cites;
- ``{doc}``, ``{ref}``, ``{eq}``, ``{prf:ref}`` become the chapter's title (a link) or the number the book
  prints; a labelled equation gets its number as ``\\tag``; ``{figure}`` becomes an image;
- a first markdown cell carries an "Open in Colab" badge, and a first code cell installs the release the
  edition was built from (``gan-teach @ git+<repository>@v<version>``) and picks the GPU when there is one.

The repository's address is read from ``_config.yml`` (``repository.url``), the version from
``pyproject.toml``, the chapter numbers from ``_toc.yml``. Regenerate with ``make notebooks``
(``python -m gan_teach.notebook_edition``); a test checks the committed edition is up to date.
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

__all__ = ["Edition", "convert_notebook", "make_notebook_edition", "MystLeftError", "main"]

EDITION_FOLDER = "notebooks"  # the edition of book/x.ipynb is notebooks/book/x.ipynb (what the launch buttons open)
COLAB = "https://colab.research.google.com/github"
_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<argument>.*?)[ \t]*$")
_OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*?)[ \t]*$")
_ROLE = re.compile(r"\{(?P<name>[\w:-]+)\}`(?P<content>[^`]*)`")
_LABELLED_MATH = re.compile(r"^\$\$[ \t]*\((?P<label>[^)\s]+)\)[ \t]*$")
_TARGET = re.compile(r"^\((?P<label>[^)\s]+)\)=[ \t]*$")
_EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)
_INSTALL = re.compile(
    r"try:\n    import gan_teach\nexcept ImportError:[^\n]*\n"
    r"    %pip install --quiet \"gan-teach @ git\+(?P<url>[^\"@]+)\"\n    import gan_teach\n")
_ADMONITIONS = ("note", "tip", "hint", "important", "warning", "caution", "attention", "danger", "error", "seealso")


class MystLeftError(ValueError):
    """A chapter uses MyST markup that the edition does not know how to turn into plain Markdown."""


@dataclass
class Edition:
    """Everything the conversion needs to know about the book (read by :meth:`from_repository`)."""

    root: Path  # the repository: _config.yml, _toc.yml, pyproject.toml, references.bib, book/
    repository_url: str  # https://github.com/OWNER/NAME, from _config.yml
    version: str  # from pyproject.toml; the edition installs the tag v<version>
    numbers: dict[str, int]  # chapter stem -> its number in the book (numbered parts of _toc.yml)
    titles: dict[str, str] = field(default_factory=dict)  # page stem -> its title (first heading)
    targets: dict[str, str] = field(default_factory=dict)  # label -> what a reference prints ("Exercise 5.1")
    bibliography: Any = None  # pybtex BibliographyData of references.bib

    @property
    def release(self) -> str:
        return f"v{self.version}"

    @property
    def owner_and_name(self) -> str:
        match = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?/?", self.repository_url)
        if not match:
            raise ValueError(f"repository.url in _config.yml must be https://github.com/OWNER/NAME (Colab opens "
                             f"notebooks from GitHub), got {self.repository_url!r}")
        return match.group(1)

    def colab_url(self, stem: str) -> str:
        return f"{COLAB}/{self.owner_and_name}/blob/{self.release}/{EDITION_FOLDER}/book/{stem}.ipynb"

    def raw_url(self, path: str) -> str:
        return f"https://raw.githubusercontent.com/{self.owner_and_name}/{self.release}/{path}"

    @classmethod
    def from_repository(cls, root: str | Path = ".") -> "Edition":
        import yaml
        from pybtex.database import parse_file

        root = Path(root)
        config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
        url = (config.get("repository") or {}).get("url")
        if not url:
            raise ValueError(f"{root / '_config.yml'} has no repository.url: the edition's install cell needs it")
        version = re.search(r'^version\s*=\s*"([^"]+)"', (root / "pyproject.toml").read_text(encoding="utf-8"), re.M)
        if not version:
            raise ValueError(f"no version = \"...\" in {root / 'pyproject.toml'}")
        toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
        numbers: dict[str, int] = {}
        for part in toc.get("parts", []):
            if part.get("numbered"):
                for chapter in part.get("chapters", []):
                    numbers[Path(chapter["file"]).name] = len(numbers) + 1
        edition = cls(root, url.rstrip("/"), version.group(1), numbers)
        bib = root / "references.bib"
        edition.bibliography = parse_file(str(bib)) if bib.exists() else None
        edition._collect_targets()
        return edition

    def _collect_targets(self) -> None:
        """Number exercises, theorems and labelled equations per chapter, as Sphinx does; read page titles."""
        for page in sorted((self.root / "book").glob("*.md")):
            heading = re.search(r"^# (.+)$", page.read_text(encoding="utf-8"), re.M)
            self.titles[page.stem] = heading.group(1).strip() if heading else page.stem
        for path in sorted((self.root / "book").glob("*.ipynb")):
            notebook = json.loads(path.read_text(encoding="utf-8"))
            stem, counters = path.stem, {}
            prefix = f"{self.numbers[stem]}." if stem in self.numbers else ""
            for cell in notebook["cells"]:
                if cell["cell_type"] != "markdown":
                    continue
                lines = _text(cell).split("\n")
                for index, line in enumerate(lines):
                    if stem not in self.titles and line.startswith("# "):
                        self.titles[stem] = line[2:].strip()
                    if _LABELLED_MATH.match(line):
                        counters["equation"] = counters.get("equation", 0) + 1
                        self.targets[_LABELLED_MATH.match(line).group("label")] = f"({prefix}{counters['equation']})"
                    fence = _FENCE.match(line)
                    if not fence or fence.group("name") not in ("exercise",) and not fence.group("name").startswith("prf:"):
                        continue
                    kind = fence.group("name").removeprefix("prf:")
                    if kind == "proof":
                        continue
                    counters[kind] = counters.get(kind, 0) + 1
                    number = f"{kind.capitalize()} {prefix}{counters[kind]}"
                    for option in lines[index + 1:]:
                        match = _OPTION.match(option)
                        if not match:
                            break
                        if match.group("key") == "label":
                            self.targets[match.group("value")] = number
                            self.targets[match.group("value") + "#title"] = fence.group("argument")


def _text(cell: Any) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


# ---------------------------------------------------------------- roles


@functools.lru_cache(maxsize=None)
def _latex_to_text(latex: str) -> str:
    from pybtex.plugin import find_plugin
    from pybtex.richtext import Text

    return Text.from_latex(latex).render(find_plugin("pybtex.backends", "plaintext")())


def _citation_label(edition: Edition, key: str) -> tuple[str, str]:
    """(authors, year) as the book's author-year style prints them: "Goodfellow et al.", "2014"."""
    if edition.bibliography is None or key not in edition.bibliography.entries:
        raise MystLeftError(f"{{cite}}`{key}`: no entry {key!r} in references.bib")
    entry = edition.bibliography.entries[key]
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_latex_to_text(" ".join(person.prelast_names + person.last_names)) for person in people]
    if not names:
        authors = _latex_to_text(entry.fields.get("organization", entry.fields.get("title", key)))
    elif len(names) == 1:
        authors = names[0]
    elif len(names) == 2:
        authors = f"{names[0]} and {names[1]}"
    else:
        authors = f"{names[0]} et al."
    return authors, entry.fields.get("year", "n.d.")


def _replace_roles(text: str, edition: Edition, stem: str, cited: list[str]) -> str:
    def replace(match: re.Match) -> str:
        name, content = match.group("name"), match.group("content")
        explicit = _EXPLICIT.match(content)
        shown, target = (explicit.group("text"), explicit.group("target")) if explicit else (None, content)
        if name in ("cite", "cite:p", "cite:t"):
            keys = [key.strip() for key in content.split(",")]
            cited.extend(key for key in keys if key not in cited)
            labels = [_citation_label(edition, key) for key in keys]
            if name == "cite:t":
                return "; ".join(f"{authors} ({year})" for authors, year in labels)
            return "(" + "; ".join(f"{authors}, {year}" for authors, year in labels) + ")"
        if name == "doc":
            page = Path(target).name
            if page not in edition.titles:
                raise MystLeftError(f"{stem}: {{doc}}`{content}` names no page of book/")
            title = shown or edition.titles[page]
            if (edition.root / "book" / f"{page}.ipynb").exists():
                return f"[{title}]({edition.colab_url(page)})"
            return f"[{title}]({edition.repository_url}/blob/{edition.release}/book/{page}.md)"
        if name in ("ref", "eq", "prf:ref", "numref"):
            if target not in edition.targets:
                raise MystLeftError(f"{stem}: {{{name}}}`{content}`: no exercise, theorem or equation is labelled {target!r}")
            return shown or edition.targets[target]
        raise MystLeftError(f"{stem}: the role {{{name}}} has no plain-Markdown form in the notebook edition; "
                            f"add it to gan_teach/notebook_edition.py or write the text without it")

    return _ROLE.sub(replace, text)


# ---------------------------------------------------------------- directives


def _literalinclude(edition: Edition, stem: str, argument: str, options: dict[str, str]) -> str:
    from sphinx.pycode import ModuleAnalyzer

    path = (edition.root / "book" / argument).resolve()
    if not path.is_file():
        raise MystLeftError(f"{stem}: {{literalinclude}} {argument}: no such file {path}")
    unknown = set(options) - {"pyobject", "language", "lines", "caption", "name"}
    if unknown:
        raise MystLeftError(f"{stem}: {{literalinclude}} options {sorted(unknown)} are not supported by the edition")
    lines = path.read_text(encoding="utf-8").split("\n")
    where = f"`{path.relative_to(edition.root.resolve()).as_posix()}`"
    if "pyobject" in options:
        tags = ModuleAnalyzer.for_file(str(path), "").find_tags()
        if options["pyobject"] not in tags:
            raise MystLeftError(f"{stem}: {{literalinclude}} {argument}: no {options['pyobject']} in it (:pyobject:)")
        _, start, end = tags[options["pyobject"]]
        lines = lines[start - 1:end]  # as Sphinx slices it
        where += f", `{options['pyobject']}`"
    if "lines" in options:
        chosen = []
        for piece in options["lines"].split(","):
            first, _, last = piece.strip().partition("-")
            chosen.extend(lines[int(first) - 1:int(last or first)])
        lines = chosen
    code = textwrap.dedent("\n".join(lines)).rstrip("\n")  # a method, for one, is shown without its indent
    caption = options.get("caption") or f"From {where}:"
    return f"*{caption}*\n\n```{options.get('language', 'python')}\n{code}\n```"


def _directive(edition: Edition, stem: str, name: str, argument: str, options: dict[str, str], body: str) -> str:
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
        number = edition.targets.get(options.get("label", ""), kind.capitalize())
        heading = f"**{number}** ({argument})." if argument else f"**{number}.**"
        return f"{heading}\n\n{body}"
    if name in _ADMONITIONS:
        return f"> **{name.capitalize()}.** " + body.replace("\n", "\n> ")
    if name == "admonition":
        return f"> **{argument}.** " + body.replace("\n", "\n> ")
    if name == "literalinclude":
        return _literalinclude(edition, stem, argument, options)
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
    raise MystLeftError(f"{stem}: the directive {{{name}}} has no plain-Markdown form in the notebook edition; "
                        f"add it to gan_teach/notebook_edition.py or write the text without it")


def _convert_markdown(text: str, edition: Edition, stem: str, cited: list[str]) -> str:
    """Turn a piece of MyST Markdown (no solution markup in it) into plain Markdown, directives inside out."""
    lines, out, index = text.split("\n"), [], 0
    while index < len(lines):
        line = lines[index]
        fence = _FENCE.match(line)
        if _TARGET.match(line):
            out.append(f'<a id="{_TARGET.match(line).group("label")}"></a>')
            index += 1
            continue
        if line.startswith("$$") and _LABELLED_MATH.match(line.strip()) and out:
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
        closing = re.compile("^" + re.escape(marker[0]) + "{" + str(len(marker)) + r",}[ \t]*$")
        while index < len(lines) and not closing.match(lines[index]):
            body.append(lines[index])
            index += 1
        if index == len(lines):
            raise MystLeftError(f"{stem}: the directive {{{name}}} opened with {marker} never closes")
        index += 1
        inner = _convert_markdown("\n".join(body).strip("\n"), edition, stem, cited)
        out.append(_directive(edition, stem, name, fence.group("argument"), options, inner))
    return _replace_roles("\n".join(out), edition, stem, cited)


# ---------------------------------------------------------------- cells


_SOLUTION = re.compile(r"^(`{3,}|:{3,})\{solution-(?P<which>start|end)\}[ \t]*(?P<label>\S*)[^\n]*\n"
                       r"(?:[ \t]*:[^\n]*\n)*[ \t]*\1[ \t]*$\n?", re.MULTILINE)


def _markdown_cell(source: str, cell_id: str) -> dict:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": source}


def _id(cell: dict) -> dict:
    return {"id": cell["id"]} if "id" in cell else {}


def _details(summary: str, body: str) -> str:
    return f"<details>\n<summary>{summary}</summary>\n\n{body.strip()}\n\n</details>"


def _setup_cell(edition: Edition) -> dict:
    requirement = f"gan-teach @ git+{edition.repository_url}@{edition.release}"
    source = (
        f"# Set-up for Colab and Jupyter: install gan-teach {edition.version}, the release this notebook was made\n"
        "# from (unless it is installed already), and pick the GPU when there is one. On Colab, choose a GPU\n"
        "# under Runtime > Change runtime type before you run this cell.\n"
        "try:\n"
        "    import gan_teach\n"
        "except ImportError:\n"
        f'    %pip install --quiet "{requirement}"\n'
        "    import gan_teach\n"
        "\n"
        "device = gan_teach.get_device()  # CUDA, then Apple's MPS, then the CPU; the library trains on it\n"
        'print(f"gan_teach {gan_teach.__version__} on {device.type}")\n'
        'if device.type == "cpu":\n'
        '    print("No GPU found: the training runs take longer (on Colab: Runtime > Change runtime type > GPU).")\n'
        f'if gan_teach.__version__ != "{edition.version}":\n'
        f'    print("This notebook was made for gan-teach {edition.version}; '
        f'install it with: %pip install \\"{requirement}\\"")'
    )
    return {"cell_type": "code", "execution_count": None, "id": "edition-set-up", "metadata": {}, "outputs": [],
            "source": source}


def convert_notebook(notebook: dict, stem: str, edition: Edition) -> dict:
    """The edition of one chapter (a notebook as a JSON dict; the input is not changed).

    Raises:
        MystLeftError: the chapter uses markup the edition cannot convert, or a solution never ends.
    """
    source = copy.deepcopy(notebook)
    cells: list[dict] = []
    cited: list[str] = []
    solution: str | None = None  # the summary of the solution we are inside, if any
    installs_found = 0
    exercise_of = {label: edition.targets.get(label + "#title", "") for label in edition.targets}
    for index, cell in enumerate(source["cells"]):
        metadata = {key: value for key, value in cell.get("metadata", {}).items() if key != "execution"}
        if cell["cell_type"] == "code":
            text = _text(cell)
            install = _INSTALL.search(text)
            if install:
                installs_found += 1
                if install.group("url").rstrip("/") != edition.repository_url:
                    raise ValueError(f"book/{stem}.ipynb, cell {index}: installs from {install.group('url')}, but "
                                     f"_config.yml's repository.url is {edition.repository_url}; make them agree")
                text = text.replace(install.group(0), "import gan_teach\n")
            new = {"cell_type": "code", "execution_count": cell.get("execution_count"), "metadata": metadata,
                   "outputs": cell.get("outputs", []), "source": text, **_id(cell)}
            if solution is not None:
                lines = [line for line in text.split("\n") if line.strip() != "# NBVAL_CHECK_OUTPUT"]
                new["source"] = f"#@title {solution}: the code (double-click to show it)\n" + "\n".join(lines)
                tags = [tag for tag in metadata.get("tags", []) if tag != "nbval-check-output"]
                metadata.update({"cellView": "form", "jupyter": {"source_hidden": True, "outputs_hidden": True}})
                if "tags" in metadata:
                    metadata["tags"] = tags
                new["outputs"], new["execution_count"] = [], None
            cells.append(new)
            continue
        if cell["cell_type"] != "markdown":
            cells.append(cell)
            continue
        text, pieces, position = _text(cell), [], 0
        while True:
            match = _SOLUTION.search(text, position)
            chunk = text[position:match.start() if match else len(text)]
            if chunk.strip():
                converted = _convert_markdown(chunk.strip("\n"), edition, stem, cited)
                pieces.append(_details(solution, converted) if solution is not None else converted)
            if match is None:
                break
            if match.group("which") == "start":
                if solution is not None:
                    raise MystLeftError(f"{stem}, cell {index}: a solution starts inside another one")
                label = match.group("label")
                number = edition.targets.get(label, "the exercise")
                title = exercise_of.get(label, "")
                solution = f"Solution to {number}" + (f" ({title})" if title else "")
            else:
                if solution is None:
                    raise MystLeftError(f"{stem}, cell {index}: a solution-end without a solution-start")
                solution = None
            position = match.end()
        if pieces:
            extra = {key: cell[key] for key in ("id", "attachments") if key in cell}
            cells.append({"cell_type": "markdown", "metadata": metadata, "source": "\n\n".join(pieces), **extra})
    if solution is not None:
        raise MystLeftError(f"{stem}: a solution never ends (no solution-end)")
    if installs_found != 1:
        raise ValueError(f"book/{stem}.ipynb: expected one install cell (try: import gan_teach / except ImportError: "
                         f"%pip install ...), found {installs_found}")

    if stem in edition.numbers:  # the book prints chapter numbers; references such as "Theorem 5.1" need them
        first = cells[0]
        first["source"] = re.sub(r"^# ", f"# {edition.numbers[stem]}. ", first["source"], count=1)
    badge = (f'<a href="{edition.colab_url(stem)}" target="_parent"><img '
             'src="https://colab.research.google.com/assets/colab-badge.svg" alt="Open In Colab"/></a>\n\n'
             f"*The notebook edition of gan-teach {edition.version}, made from `book/{stem}.ipynb` by `make notebooks` "
             "(do not edit it by hand). Solutions are folded: click a \"Solution\" line to open one; a solution's "
             "code cell is hidden until you double-click it, and its output appears when you run it.*")
    cells.insert(0, _markdown_cell(badge, "edition-badge"))
    cells.insert(1, _setup_cell(edition))
    if cited:
        cells.append(_markdown_cell("## References\n\n" + _references(edition, cited), "edition-references"))

    metadata = {key: value for key, value in source.get("metadata", {}).items() if key != "gan_teach"}
    metadata["accelerator"] = "GPU"  # Colab opens it on a GPU runtime when one is free
    metadata["colab"] = {"name": f"{stem}.ipynb", "provenance": [], "toc_visible": True}
    metadata["gan_teach"] = {"chapter": stem, "edition": "notebook", "version": edition.version}
    for cell in cells:
        cell.setdefault("metadata", {})
        if cell["cell_type"] == "code":
            cell["execution_count"] = cell.get("execution_count")
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": source.get("nbformat_minor", 5)}


def _references(edition: Edition, keys: list[str]) -> str:
    from pybtex.plugin import find_plugin

    style = find_plugin("pybtex.style.formatting", "unsrt")()
    backend = find_plugin("pybtex.backends", "markdown")()
    ordered = sorted(keys, key=lambda key: _citation_label(edition, key))
    entries = style.format_entries([edition.bibliography.entries[key] for key in ordered])
    lines = []
    for key, entry in zip(ordered, entries):
        authors, year = _citation_label(edition, key)
        lines.append(f"- {authors}, {year}. " + " ".join(entry.text.render(backend).split()))
    return "\n".join(lines)


def _dumps(notebook: dict) -> str:
    return json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def make_notebook_edition(root: str | Path = ".", out: str | Path | None = None) -> dict[str, Path]:
    """Write the edition of every chapter in ``root/book`` to ``out/book`` (default ``root/notebooks/book``).

    Returns:
        The path written for each chapter, by chapter name. Files of chapters that no longer exist are removed.
    """
    edition = Edition.from_repository(root)
    out = Path(out) if out is not None else edition.root / EDITION_FOLDER
    folder = out / "book"
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for path in sorted((edition.root / "book").glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        converted = convert_notebook(notebook, path.stem, edition)
        target = folder / path.name
        target.write_text(_dumps(converted), encoding="utf-8")
        written[path.stem] = target
    for stale in folder.glob("*.ipynb"):
        if stale.stem not in written:
            stale.unlink()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gan_teach.notebook_edition [--root .] [--out notebooks]``."""
    parser = argparse.ArgumentParser(prog="python -m gan_teach.notebook_edition", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="the repository (with _config.yml and book/)")
    parser.add_argument("--out", type=Path, default=None, help=f"default: ROOT/{EDITION_FOLDER}")
    args = parser.parse_args(argv)
    try:
        written = make_notebook_edition(args.root, args.out)
    except (MystLeftError, ValueError, FileNotFoundError) as error:
        print(f"notebook edition: {error}", file=sys.stderr)
        return 1
    print(f"wrote {len(written)} notebooks to {next(iter(written.values())).parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
