"""MyST Markdown to plain Markdown: what the notebook edition does to each markdown cell of the book.

Jupyter Book renders MyST directives (``{exercise}``, ``{literalinclude}``, ``{prf:theorem}``, ``{figure}``,
``{note}``) and roles (``{cite}``, ``{doc}``, ``{ref}``, ``{eq}``, ``{prf:ref}``); Colab and Jupyter show them
as raw text. :func:`convert_markdown` turns them into plain Markdown with the numbers the book prints
("Exercise 5.1", "Theorem 5.1", "(5.2)"), which :class:`Edition` works out from ``_toc.yml`` and the chapters,
as Sphinx does. Markup it does not know raises :class:`MystLeftError` naming the chapter and the markup:
nothing is passed through unconverted. Solutions are handled by :mod:`gan_teach.course.notebook_edition`.

There is one conversion for both editions of the book: the English one (``book/``, ``_toc.yml``) and the
Chinese one (``book/zh/``, ``_toc.zh.yml``). Everything that differs between them (the folder, the config and
toc, and every word the conversion writes: "Exercise 5.1 (title)" or "练习 5.1（标题）") is one
:class:`EditionLanguage` in :data:`LANGUAGES`; a new language is a new entry there, not new code.
"""

from __future__ import annotations

import functools
import json
import posixpath
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Edition",
    "EditionLanguage",
    "LANGUAGES",
    "MystLeftError",
    "convert_markdown",
    "citation_label",
    "cell_text",
    "EDITION_FOLDER",
]

#: The edition of book/x.ipynb is notebooks/book/x.ipynb, of book/zh/x.ipynb notebooks/book/zh/x.ipynb
#: (what the launch buttons open: <repository.path_to_book>/<page>.ipynb).
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


class MystLeftError(ValueError):
    """A chapter uses MyST markup that the edition does not know how to turn into plain Markdown."""


@dataclass(frozen=True, repr=False)
class EditionLanguage:
    """One language of the book: where its pages are, and every text the conversion writes in it.

    The templates are filled with ``str.format``; their fields are named in the comments. The ones
    that end up in code (``running``, ``no_gpu``, ``wrong_version``) are pasted into a double-quoted string
    literal of the set-up cell, so a double quote in them is written ``\\"``; ``running`` is an f-string's body.
    """

    code: str  # "en", "zh": its key in LANGUAGES, and --language's value
    book: str  # the folder of its pages: "book", "book/zh"
    config: str  # its Jupyter Book config (repository.url): "_config.yml"
    toc: str  # its table of contents (chapter numbers): "_toc.yml"
    tag: str | None  # BCP 47 tag for the notebook's metadata; None: none
    # The folder whose pages stand in for pages not translated yet (their
    # {doc} links, titles and numbers), or None for the original.
    stands_in: str | None
    untranslated: str  # after a stand-in page's title: "（英文）"
    kinds: dict[
        str, str
    ]  # exercise / prf:<kind> -> the name the book prints
    admonitions: dict[str, str]  # {note} and the like -> the name printed
    numbered: str  # {kind} {number}: "Exercise 5.1"
    titled: str  # {heading} {title}: "Exercise 5.1 (A title)"
    statement: str  # {heading} {title}: a theorem's "**Theorem 5.1** (A)."
    untitled_statement: str  # {heading}: "**Theorem 5.1.**"
    proof: str  # {body}
    callout: str  # {title} {body}: an admonition's first line and body
    solution: str  # {exercise}: a solution's summary, before its title
    solution_code: str  # {solution}: the #@title of a solution's code
    from_file: str  # {where}: a literalinclude's default caption
    object_in_file: str  # {file} {name}: its where for a :pyobject:
    references: str  # the heading of the works a chapter cites
    badge_alt: str  # the Colab badge's alternative text
    badge: str  # {version} {source}: the sentence under the badge
    setup_comment: str  # {version}: the set-up cell's first comment lines
    device_comment: str  # after device = gan_teach.get_device()
    running: str  # f-string body: what the set-up cell prints first
    no_gpu: str  # printed when the device is the CPU
    wrong_version: str  # {version} {requirement}: another release is found
    # code lines the set-up cell runs after installing the library (the Chinese edition installs a CJK font on
    # Colab, which has none, so that the figures' Chinese labels are not drawn as boxes)
    after_install: str = ""

    def __repr__(
        self,
    ) -> str:  # short, for Edition's signature in the API reference
        return f"LANGUAGES[{self.code!r}]"

    def kind(self, kind: str, stem: str) -> str:
        """The name the book prints for a numbered directive's kind (``exercise``, ``theorem``...)."""
        if kind not in self.kinds:
            raise MystLeftError(
                f"{stem}: the {self.code} edition has no name for {kind!r} (a {{prf:{kind}}} or "
                f"{{{kind}}} directive); add it to the kinds of the {self.code!r} entry of LANGUAGES "
                f"in gan_teach/course/myst_markdown.py, as the book prints it"
            )
        return self.kinds[kind]

    def with_title(self, heading: str, title: str) -> str:
        """``heading`` followed by ``title`` in this language's parentheses; just ``heading`` without a title."""
        return (
            self.titled.format(heading=heading, title=title)
            if title
            else heading
        )


# The numbered kinds of sphinx-exercise and sphinx-proof, as those extensions
# print them in each language (their translations/jsons for the Chinese).
_PROOF_KINDS = (
    "exercise algorithm assumption axiom conjecture corollary criterion definition example lemma "
    "notation observation property proposition remark theorem"
).split()
_CHINESE_KINDS = (
    "练习 算法 假设 公理 猜想 推论 准则 定义 例子 引理 表示法 观察 性质 命题 注记 定理"
).split()
# Sphinx's own names for the admonitions, in English and in its zh_CN catalogue.
_ADMONITION_NAMES = {
    "note": ("Note", "备注"),
    "tip": ("Tip", "小技巧"),
    "hint": ("Hint", "提示"),
    "important": ("Important", "重要"),
    "warning": ("Warning", "警告"),
    "caution": ("Caution", "小心"),
    "attention": ("Attention", "注意"),
    "danger": ("Danger", "危险"),
    "error": ("Error", "错误"),
    "seealso": ("See also", "参见"),
}

#: The languages of the edition, by code, with what differs between notebooks/book/x.ipynb and notebooks/book/zh/x.ipynb.
LANGUAGES: dict[str, EditionLanguage] = {
    "en": EditionLanguage(
        code="en",
        book="book",
        config="_config.yml",
        toc="_toc.yml",
        tag=None,  # the English notebooks' metadata stays as it was
        stands_in=None,
        untranslated="",
        kinds={kind: kind.capitalize() for kind in _PROOF_KINDS},
        admonitions={key: en for key, (en, _) in _ADMONITION_NAMES.items()},
        numbered="{kind} {number}",
        titled="{heading} ({title})",
        statement="**{heading}** ({title}).",
        untitled_statement="**{heading}.**",
        proof="*Proof.* {body} $\\square$",
        callout="> **{title}.** {body}",
        solution="Solution to {exercise}",
        solution_code="{solution}: the code (double-click to show it)",
        from_file="From {where}:",
        object_in_file="{file}, {name}",
        references="References",
        badge_alt="Open In Colab",
        badge=(
            "The notebook edition of gan-teach {version}, made from `{source}` by `make notebooks` "
            '(do not edit it by hand). Solutions are folded: click a "Solution" line to open one; a '
            "solution's code cell is hidden until you double-click it, and its output appears when "
            "you run it."
        ),
        setup_comment=(
            "# Set-up for Colab and Jupyter: install gan-teach {version}, the release this notebook was made\n"
            "# from (unless it is installed already), and pick the GPU when there is one. On Colab, choose a GPU\n"
            "# under Runtime > Change runtime type before you run this cell.\n"
        ),
        device_comment="CUDA, then Apple's MPS, then the CPU; the library trains on it",
        running="gan_teach {gan_teach.__version__} on {device.type}",
        no_gpu="No GPU found: the training runs take longer (on Colab: Runtime > Change runtime type > GPU).",
        wrong_version='This notebook was made for gan-teach {version}; install it with: %pip install \\"{requirement}\\"',
    ),
    "zh": EditionLanguage(
        code="zh",
        book="book/zh",
        config="_config.zh.yml",
        toc="_toc.zh.yml",
        tag="zh-CN",
        stands_in="book",
        untranslated="（英文）",
        kinds=dict(zip(_PROOF_KINDS, _CHINESE_KINDS, strict=True)),
        admonitions={key: zh for key, (_, zh) in _ADMONITION_NAMES.items()},
        numbered="{kind} {number}",
        titled="{heading}（{title}）",
        statement="**{heading}**（{title}）。",
        untitled_statement="**{heading}。**",
        proof="*证明。* {body} $\\square$",
        callout="> **{title}。** {body}",
        solution="{exercise} 的解答",
        solution_code="{solution}：代码（双击显示）",
        from_file="摘自 {where}：",
        object_in_file="{file} 中的 {name}",
        references="参考文献",
        badge_alt="在 Colab 中打开",
        badge=(
            "gan-teach {version} 的笔记本版，由 `make notebooks` 从 `{source}` 生成（请勿手工编辑）。"
            "解答已折叠：点击“练习……的解答”一行即可展开；解答的代码单元格在双击之前是隐藏的，"
            "运行它才会显示输出。"
        ),
        setup_comment=(
            "# Colab 和 Jupyter 的准备工作：安装 gan-teach {version}，即生成本笔记本所用的版本（已安装则跳过），\n"
            "# 有 GPU 时就用 GPU。在 Colab 上，运行本单元格之前，请先在“代码执行程序 > 更改运行时类型”中选择 GPU。\n"
        ),
        device_comment="依次选用 CUDA、Apple 的 MPS、CPU；库就在它上面训练",
        running="gan_teach {gan_teach.__version__}，设备：{device.type}",
        no_gpu="没有找到 GPU：训练会慢一些（在 Colab 上：代码执行程序 > 更改运行时类型 > GPU）。",
        wrong_version='本笔记本是为 gan-teach {version} 制作的；请这样安装：%pip install \\"{requirement}\\"',
        after_install=(
            "\n"
            "# 图中的中文标签需要中文字体。Colab 没有自带，这里装上 Noto CJK（不到一分钟）；在自己的电脑上，\n"
            "# 请用系统的包管理器安装（见前言），gan_teach 会自动使用它（gan_teach.fonts）。\n"
            "import sys\n"
            "\n"
            'if "google.colab" in sys.modules and gan_teach.fonts.cjk_font_family() is None:\n'
            "    !apt-get -qq install -y fonts-noto-cjk > /dev/null\n"
            "    gan_teach.fonts.use_cjk_font()\n"
        ),
    ),
}


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
    language: EditionLanguage = LANGUAGES["en"]
    # page stem -> its source, relative to root ("book/zh/math.ipynb"): this
    # language's page, or the stand-in of a page not translated yet
    pages: dict[str, str] = field(default_factory=dict)

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

    @property
    def book(self) -> Path:
        """The folder of this language's pages, ``root/book`` or ``root/book/zh``."""
        return self.root / self.language.book

    def colab_url(self, stem: str, book: str | None = None) -> str:
        """The edition of ``<book>/<stem>.ipynb`` on Colab (``book``: this language's folder unless given)."""
        page = f"{book or self.language.book}/{stem}"
        return f"{COLAB}/{self.owner_and_name}/blob/{self.release}/{EDITION_FOLDER}/{page}.ipynb"

    def raw_url(self, path: str) -> str:
        return f"https://raw.githubusercontent.com/{self.owner_and_name}/{self.release}/{path}"

    @classmethod
    def from_repository(
        cls, root: str | Path = ".", language: str | EditionLanguage = "en"
    ) -> Edition:
        """Read the book of one language in ``root``: its config and toc, pyproject.toml, references.bib, its pages.

        Args:
            root: the repository.
            language: ``"en"`` (``_config.yml``, ``_toc.yml``, ``book/``), ``"zh"`` (``_config.zh.yml``,
                ``_toc.zh.yml``, ``book/zh/``), another key of :data:`LANGUAGES`, or an :class:`EditionLanguage`.

        Raises:
            ValueError: an unknown language, or a config without ``repository.url``, or no version.
            FileNotFoundError: the language's config or toc is missing.
        """
        import yaml
        from pybtex.database import parse_file

        if isinstance(language, str):
            if language not in LANGUAGES:
                raise ValueError(
                    f"the notebook edition has no language {language!r}; it knows "
                    f"{', '.join(LANGUAGES)} (LANGUAGES in gan_teach/course/myst_markdown.py)"
                )
            language = LANGUAGES[language]
        root = Path(root)

        def read(name: str, needed_for: str) -> str:
            if not (root / name).is_file():
                raise FileNotFoundError(
                    f"{root / name} not found: the {language.code} edition reads {needed_for} from it"
                )
            return (root / name).read_text(encoding="utf-8")

        config = yaml.safe_load(
            read(language.config, "the repository's address")
        )
        url = (config.get("repository") or {}).get("url")
        if not url:
            raise ValueError(
                f"{root / language.config} has no repository.url: the edition's install cell needs it"
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
        toc = yaml.safe_load(read(language.toc, "the chapter numbers"))
        numbers: dict[str, int] = {}
        for part in toc.get("parts", []):
            if part.get("numbered"):
                for chapter in part.get("chapters", []):
                    numbers[Path(chapter["file"]).name] = len(numbers) + 1
        edition = cls(
            root,
            url.rstrip("/"),
            version.group(1),
            numbers,
            language=language,
        )
        bib = root / "references.bib"
        edition.bibliography = (
            parse_file(str(bib)) if bib.exists() else None
        )
        edition._collect_targets()
        return edition

    def _find_pages(self) -> None:
        """Each page's source: this language's, else the stand-in's (a page not translated yet)."""
        folders = [self.language.book]
        if self.language.stands_in:
            folders.append(self.language.stands_in)
        for folder in folders:
            for suffix in ("ipynb", "md"):
                for path in sorted(
                    (self.root / folder).glob(f"*.{suffix}")
                ):
                    self.pages.setdefault(
                        path.stem, f"{folder}/{path.name}"
                    )

    def translated(self, stem: str) -> bool:
        """Whether page ``stem`` is in this language's folder (rather than a stand-in for it)."""
        return self.pages.get(stem, "").startswith(self.language.book + "/")

    def _collect_targets(self) -> None:
        """Number exercises, theorems and labelled equations per chapter, as Sphinx does; read page titles."""
        self._find_pages()
        for stem, page in self.pages.items():
            if page.endswith(".md"):
                heading = re.search(
                    r"^# (.+)$",
                    (self.root / page).read_text(encoding="utf-8"),
                    re.M,
                )
                self.titles[stem] = (
                    heading.group(1).strip() if heading else stem
                )
        for stem, page in sorted(self.pages.items()):
            if not page.endswith(".ipynb"):
                continue
            path = self.root / page
            notebook = json.loads(path.read_text(encoding="utf-8"))
            counters = {}
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
                    number = self.language.numbered.format(
                        kind=self.language.kind(kind, stem),
                        number=f"{prefix}{counters[kind]}",
                    )
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
