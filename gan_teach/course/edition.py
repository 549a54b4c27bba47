"""The book that the notebook edition converts: its languages, pages, numbers and targets.

:class:`Edition` reads one language's book (``book/`` with ``_toc.yml``, or the Chinese ``book/zh/`` with
``_toc.zh.yml``): the repository's address and version, the chapter numbers, the page titles, and what each
label prints ("Exercise 5.1", "(5.2)"), as Sphinx numbers them. Everything that differs between the
languages (the folder, the config and toc, and every word the conversion writes: "Exercise 5.1 (title)" or
"练习 5.1（标题）") is one :class:`EditionLanguage` in :data:`LANGUAGES`; a new language is a new entry
there, not new code. :mod:`gan_teach.course.myst_markdown` converts the markup with it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Edition",
    "EditionLanguage",
    "LANGUAGES",
    "MystLeftError",
    "cell_text",
    "EDITION_FOLDER",
    "COLAB",
    "FENCE",
    "OPTION",
    "LABELLED_MATH",
]

#: The edition of book/x.ipynb is notebooks/book/x.ipynb, of book/zh/x.ipynb notebooks/book/zh/x.ipynb
#: (what the launch buttons open: <repository.path_to_book>/<page>.ipynb).
EDITION_FOLDER = "notebooks"
#: Where Colab opens notebooks from GitHub.
COLAB = "https://colab.research.google.com/github"
#: A MyST directive's opening fence (three or more backticks or colons, then ``{name}`` and its argument).
FENCE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<argument>.*?)[ \t]*$"
)
#: A directive's option line, a key between colons and its value.
OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*?)[ \t]*$")
#: A display equation's opening line with its label, ``$$ (label)``.
LABELLED_MATH = re.compile(r"^\$\$[ \t]*\((?P<label>[^)\s]+)\)[ \t]*$")


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
                f"in gan_teach/course/edition.py, as the book prints it"
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
                    f"{', '.join(LANGUAGES)} (LANGUAGES in gan_teach/course/edition.py)"
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
                    if LABELLED_MATH.match(line):
                        counters["equation"] = (
                            counters.get("equation", 0) + 1
                        )
                        self.targets[
                            LABELLED_MATH.match(line).group("label")
                        ] = f"({prefix}{counters['equation']})"
                    fence = FENCE.match(line)
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
                        match = OPTION.match(option)
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
