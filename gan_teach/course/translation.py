"""The Chinese edition's promises, checked against the English book: same code, same structure.

``book/zh/<chapter>.ipynb`` is a translation of ``book/<chapter>.ipynb``. What may differ between the two:
the prose of markdown cells, and in code cells the comments and the text of string literals (printed text
and figure labels may be Chinese). What may not: the cells' order and kinds, every token of the code
(names, numbers, operators, the expressions inside an f-string's braces), and in the prose every formula,
citation, cross-reference target, label and directive. A Chinese notebook lives one folder deeper, so a
directive's relative path (``../gan_teach/train.py``) is compared after resolving it from each notebook's
folder.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import string
import tokenize
from typing import Any

from .extraction import as_python

__all__ = [
    "cell_sources",
    "code_tokens",
    "code_differences",
    "markup_items",
    "markup_differences",
    "english_fingerprints",
    "stamp_translation",
    "staleness",
    "glossary_terms",
    "prose_of",
    "term_problems",
    "FORBIDDEN_TERMS",
    "CHINESE_ONLY_TAG",
    "page_record",
    "stamp_page",
    "page_staleness",
]

# Tokens that carry layout or commentary only: a translation may add, drop or reflow them.
_IGNORED_TOKENS = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING}
_STRING_PREFIX = re.compile(r"^([rRbBuUfF]*)(['\"]{3}|['\"])")

# Markup that must survive translation unchanged (each a pattern whose groups name the item).
_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$", re.S)
_ROLE = re.compile(
    r"\{(cite(?::[a-z]+)?|ref|doc|numref|eq|prf:ref|term|download)\}`([^`]*)`"
)
_DIRECTIVE = re.compile(
    r"^[ \t]*(`{3,}|:{3,})\{([\w:-]+)\}[ \t]*(.*)$", re.M
)
_OPTION = re.compile(
    r"^[ \t]*:(label|name|class|tags|nonumber|linenos|pyobject|start-after|end-before|"
    r"lines|emphasize-lines|dedent|width|align|language):[ \t]*(.*)$",
    re.M,
)
_TARGET = re.compile(r"^\(([\w.:-]+)\)=[ \t]*$", re.M)
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_PATH_DIRECTIVES = {"literalinclude", "figure", "image", "include"}
# Directives whose argument is a name, not a title: an exercise's label, a language.
_KEPT_ARGUMENTS = {
    "solution",
    "code-cell",
    "code",
    "code-block",
    "glue",
    "glue:figure",
    "glue:any",
    "math",
}


#: The tag of a markdown cell that only the Chinese edition has (the preface's notes for readers in mainland
#: China): the comparisons with the English twin leave such cells out.
CHINESE_ONLY_TAG = "zh-only"


def cell_sources(notebook: dict[str, Any]) -> list[tuple[str, str]]:
    """Each cell as (kind, source), its source joined into one string; markdown cells tagged
    :data:`CHINESE_ONLY_TAG` are left out (they have no English twin)."""
    cells = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown" and CHINESE_ONLY_TAG in cell.get(
            "metadata", {}
        ).get("tags", []):
            continue
        source = cell.get("source", "")
        cells.append(
            (
                cell["cell_type"],
                "".join(source) if isinstance(source, list) else source,
            )
        )
    return cells


def _string_fields(token_text: str) -> str:
    """What a string literal contributes to the program beyond its text: the prefix, and for an f-string
    the expressions, conversions and format specs inside its braces.

    >>> _string_fields('f"第 {step} 步，损失 {loss:.3f}"')
    'f|step||||loss||:.3f'
    >>> _string_fields('"before training"') == _string_fields('"训练前"')
    True
    """
    match = _STRING_PREFIX.match(token_text)
    if match is None:
        return token_text
    prefix, quote = match.group(1).lower(), match.group(2)
    if "f" not in prefix:
        return prefix
    body = token_text[len(match.group(0)) : len(token_text) - len(quote)]
    fields = []
    try:
        for (
            _,
            expression,
            format_spec,
            conversion,
        ) in string.Formatter().parse(body):
            if expression is not None:
                fields.append(
                    f"{expression.strip()}|{conversion or ''}|{':' + format_spec if format_spec else ''}"
                )
    except (
        ValueError
    ):  # a brace the formatter cannot read: compare the whole literal
        return token_text
    return prefix + "|" + "||".join(fields)


def code_tokens(code: str) -> list[tuple[int, str]]:
    """A code cell as the tokens a translation must keep: comments and line breaks inside brackets are
    dropped, and each string literal stands for its prefix and f-string fields, not its text.

    >>> code_tokens("x = 1  # one") == code_tokens("x = 1  # 一")
    True
    >>> code_tokens('print("hi")') == code_tokens('print("你好")')
    True
    >>> code_tokens('print(f"{a}")') == code_tokens('print(f"{b}")')
    False
    """
    python = as_python(code)
    tokens = []
    for token in tokenize.generate_tokens(io.StringIO(python).readline):
        if token.type in _IGNORED_TOKENS:
            continue
        if token.type == tokenize.STRING:
            tokens.append((token.type, _string_fields(token.string)))
        elif token.type in (
            tokenize.NEWLINE,
            tokenize.INDENT,
            tokenize.DEDENT,
            tokenize.ENDMARKER,
        ):
            tokens.append((token.type, ""))
        else:
            tokens.append((token.type, token.string))
    # A comment on a line of its own leaves a blank logical line behind: NEWLINE tokens may repeat.
    squeezed = []
    for token in tokens:
        if (
            token[0] == tokenize.NEWLINE
            and squeezed
            and squeezed[-1][0] == tokenize.NEWLINE
        ):
            continue
        squeezed.append(token)
    return squeezed


def _first_difference(
    english: list[tuple[int, str]], chinese: list[tuple[int, str]]
) -> str:
    for index, (left, right) in enumerate(zip(english, chinese)):
        if left != right:
            return (
                f"token {index}: English {left[1]!r} ({tokenize.tok_name[left[0]]}), "
                f"Chinese {right[1]!r} ({tokenize.tok_name[right[0]]})"
            )
    return f"English has {len(english)} tokens, Chinese {len(chinese)}"


def code_differences(
    english: dict[str, Any], chinese: dict[str, Any]
) -> list[str]:
    """Where the Chinese notebook's cells or code differ from the English twin's beyond comments and
    string literals: one line per difference, empty when the two agree."""
    english_cells, chinese_cells = (
        cell_sources(english),
        cell_sources(chinese),
    )
    english_kinds = [kind for kind, _ in english_cells]
    chinese_kinds = [kind for kind, _ in chinese_cells]
    if english_kinds != chinese_kinds:
        return [
            f"the cells differ in number or kind: English {len(english_kinds)} cells, Chinese "
            f"{len(chinese_kinds)}; first difference at cell "
            f"{next((i for i, pair in enumerate(zip(english_kinds, chinese_kinds)) if pair[0] != pair[1]), min(len(english_kinds), len(chinese_kinds)))}"
        ]
    differences = []
    for index, ((kind, english_source), (_, chinese_source)) in enumerate(
        zip(english_cells, chinese_cells)
    ):
        if kind != "code":
            continue
        try:
            english_tokens, chinese_tokens = (
                code_tokens(english_source),
                code_tokens(chinese_source),
            )
        except (
            tokenize.TokenError,
            SyntaxError,
            IndentationError,
        ) as error:
            if english_source != chinese_source:
                differences.append(
                    f"cell {index}: cannot be tokenized ({error}) and is not identical"
                )
            continue
        if english_tokens != chinese_tokens:
            differences.append(
                f"cell {index}: the code differs: {_first_difference(english_tokens, chinese_tokens)}"
            )
    return differences


def _resolved(path: str, folder: str) -> str:
    if "://" in path or path.startswith(("#", "/", "mailto:")):
        return path
    return posixpath.normpath(posixpath.join(folder, path))


def markup_items(markdown: str, folder: str) -> list[str]:
    """The items of a markdown cell that a translation must carry over unchanged, in order of kind:
    formulas, citations and cross-reference targets, directives (with their relative paths resolved from
    ``folder``, the notebook's folder relative to the repository's root), labels and link targets.

    >>> markup_items("见 {doc}`math` 与 $x^2$。", "book/zh") == markup_items("See {doc}`math` and $x^2$.", "book")
    True
    """
    items = []
    without_code = re.sub(
        r"``[^`]*``|(?<!`)`(?!`)[^`\n]*`(?!`)", "", markdown
    )
    for body in _DISPLAY_MATH.findall(without_code):
        items.append("math: " + " ".join(body.split()))
    for body in _INLINE_MATH.findall(_DISPLAY_MATH.sub("", without_code)):
        items.append("math: " + " ".join(body.split()))
    for role, text in _ROLE.findall(markdown):
        target = (
            text.rsplit("<", 1)[1].rstrip(">")
            if text.endswith(">") and "<" in text
            else text
        )
        if role in ("term",) and not text.endswith(">"):
            target = text
        items.append(f"{role}: {target.strip()}")
    for _, name, argument in _DIRECTIVE.findall(markdown):
        argument = argument.strip()
        if name in _PATH_DIRECTIVES:
            argument = _resolved(argument, folder) if argument else ""
        elif name not in _KEPT_ARGUMENTS:
            argument = (
                ""  # a title (an exercise's, an admonition's): translated
            )
        items.append(f"directive {name}: {argument}")
    for option, value in _OPTION.findall(markdown):
        if option in (
            "label",
            "name",
            "class",
            "tags",
            "pyobject",
            "start-after",
            "end-before",
            "lines",
        ):
            items.append(f"option {option}: {value.strip()}")
    for target in _TARGET.findall(markdown):
        items.append(f"target: {target}")
    for link in _LINK.findall(markdown):
        items.append(f"link: {_resolved(link, folder)}")
    return sorted(items)


def markup_differences(
    english: dict[str, Any],
    chinese: dict[str, Any],
    english_folder: str = "book",
    chinese_folder: str = "book/zh",
) -> list[str]:
    """Where a Chinese markdown cell lost, changed or added a formula, reference, directive, label or link
    of its English twin's: one line per cell that differs."""
    differences = []
    for index, (
        (kind, english_source),
        (chinese_kind, chinese_source),
    ) in enumerate(zip(cell_sources(english), cell_sources(chinese))):
        if kind != "markdown" or chinese_kind != "markdown":
            continue
        english_items = markup_items(english_source, english_folder)
        chinese_items = markup_items(chinese_source, chinese_folder)
        if english_items != chinese_items:
            missing = sorted(set(english_items) - set(chinese_items))
            extra = sorted(set(chinese_items) - set(english_items))
            differences.append(
                f"cell {index}: missing {missing[:4]}, added {extra[:4]}"
                + ("" if missing or extra else " (an item's count differs)")
            )
    return differences


def english_fingerprints(english: dict[str, Any]) -> dict[str, str]:
    """What a translation was made from: the code's fingerprint (its syntax trees, as the stored outputs'
    stamp computes it: comments and layout do not count) and a SHA-256 of the prose (every markdown cell's
    text, in order: a changed number or sentence counts)."""
    from .stored_outputs import code_fingerprint

    prose = hashlib.sha256()
    for index, (kind, source) in enumerate(cell_sources(english)):
        if kind == "markdown":
            prose.update(f"cell {index}\n{source}\n".encode())
    return {
        "code_sha256": code_fingerprint(english),
        "prose_sha256": prose.hexdigest(),
    }


def stamp_translation(
    chinese: dict[str, Any],
    english: dict[str, Any],
    english_path: str,
    commit: str,
) -> None:
    """Record in ``chinese``'s metadata which English notebook, at which commit, it translates."""
    chinese.setdefault("metadata", {}).setdefault("gan_teach", {})[
        "translation"
    ] = {
        "language": "zh-CN",
        "english": english_path,
        "english_commit": commit,
        **english_fingerprints(english),
    }


def staleness(
    english: dict[str, Any], chinese: dict[str, Any]
) -> list[str]:
    """Why the Chinese notebook no longer translates the English one as it is now: empty when it does."""
    record = (
        chinese.get("metadata", {}).get("gan_teach", {}).get("translation")
    )
    if not isinstance(record, dict):
        return [
            "no translation record (metadata gan_teach.translation): stamp it with the English commit it translates"
        ]
    now = english_fingerprints(english)
    commit = record.get("english_commit", "?")
    path = record.get("english", "the English notebook")
    problems = []
    if record.get("code_sha256") != now["code_sha256"]:
        problems.append(
            f"the English code changed after {commit[:10]}: carry the change over "
            f"(git diff {commit[:10]} -- {path}) and re-stamp"
        )
    if record.get("prose_sha256") != now["prose_sha256"]:
        problems.append(
            f"the English prose changed after {commit[:10]}: translate the change "
            f"(git diff {commit[:10]} -- {path}) and re-stamp"
        )
    return problems


# Translations of glossary terms that the Chinese edition does not use (the glossary's own term in brackets):
# synonyms that a reader would take for a different concept, or common mistranslations.
FORBIDDEN_TERMS = {
    "鉴别器": "判别器",
    "辨别器": "判别器",
    "生成式对抗网络": "生成对抗网络",
    "对抗生成网络": "生成对抗网络",
    "模式坍塌": "模式崩溃",
    "模式坍缩": "模式崩溃",
    "模型崩溃": "模式崩溃",
    "批量归一化": "批归一化",
    "批标准化": "批归一化",
    "反卷积": "转置卷积 (a transposed convolution is not the inverse of a convolution)",
    "纳什平衡": "纳什均衡",
    "潜空间": "潜在空间",
    "隐向量": "噪声向量 or 潜在向量",
    "瓦瑟斯坦因": "瓦瑟斯坦距离",
    "沃瑟斯坦": "瓦瑟斯坦距离",
    "梯度消失惩罚": "梯度惩罚",
}
_CJK = r"\u4e00-\u9fff"
_GLOSSARY_ENTRY = re.compile(
    r"^(\S[^\n]*?) \(([^()]*[" + _CJK + r"][^()]*)\)$", re.M
)


def glossary_terms(glossary: str) -> dict[str, tuple[str, ...]]:
    """The glossary's Chinese terms, each with the English names that may gloss it.

    Read from the headings of the English glossary's ``{glossary}`` block (``Generator (生成器)``); where an
    entry gives several Chinese terms (``噪声向量, 随机噪声``) each is a term, and a Latin abbreviation in the
    brackets (``GAN``) is one more English name. Terms that are not purely Chinese (``WGAN 的判别器``,
    ``JS 散度``) are kept, but the first-use rule checks only Chinese words: a mixed term counts as a longer
    term that holds a shorter one (判别器 inside WGAN 的判别器 is not its first use).

    >>> glossary_terms("Generator (生成器)\\n  The network.\\nGenerative adversarial network (GAN, 生成对抗网络)\\n  Two.")
    {'生成器': ('Generator',), '生成对抗网络': ('Generative adversarial network', 'GAN')}
    """
    terms = {}
    for english, bracket in _GLOSSARY_ENTRY.findall(glossary):
        if english.startswith(
            "#"
        ):  # the page's title, "# Glossary (术语表)", is not an entry
            continue
        items = [item.strip() for item in bracket.split(",")]
        names = tuple(name.strip() for name in english.split(", ")) + tuple(
            item for item in items if re.fullmatch(r"[A-Za-z][\w-]*", item)
        )
        for term in items:
            if re.search(f"[{_CJK}]", term):
                terms[term] = names
    return terms


def prose_of(markdown: str) -> str:
    """A markdown cell's running text: without code blocks, inline code, math, directives' option lines,
    headings, HTML tags and link targets (what a reader reads as sentences)."""
    text = re.sub(
        r"^(`{3,}|:{3,}).*?^\1[ \t]*$", "", markdown, flags=re.M | re.S
    )
    text = re.sub(r"\$\$.+?\$\$", " ", text, flags=re.S)
    text = re.sub(r"(?<!\\)\$.+?(?<!\\)\$", " ", text, flags=re.S)
    text = re.sub(r"``.*?``|`[^`]*`", " ", text)
    text = re.sub(
        r"^#+ .*$|^[ \t]*:[\w-]+:.*$|^\([\w.:-]+\)=$", " ", text, flags=re.M
    )
    text = re.sub(r"<[^>]+>|\]\([^)]*\)", " ", text)
    return text


# Glossary terms that are also everyday words (分数 is a score but also a fraction; 记忆 any memory): the
# first-use rule would flag ordinary sentences.
_EVERYDAY_WORDS = {"分数", "记忆", "幻觉"}


def term_problems(
    prose: str, terms: dict[str, tuple[str, ...]]
) -> list[str]:
    """The glossary rules, on one page's running text (:func:`prose_of` of its markdown, joined):

    - no term of :data:`FORBIDDEN_TERMS` (each has the glossary's term to use instead);
    - each glossary term the page uses is glossed with its English at its first use: in brackets after it,
      生成器（generator）, or beside it (logit（对数几率）); a use inside a longer glossary term (最优判别器,
      which is glossed itself) does not count as the first.

    >>> terms = {"生成器": ("Generator",), "判别器": ("Discriminator",), "最优判别器": ("Optimal discriminator",)}
    >>> term_problems("**生成器**（generator）把噪声变成样本；最优判别器（optimal discriminator）……判别器（discriminator）", terms)
    []
    >>> term_problems("生成器把噪声变成样本。" + "后文" * 30 + "生成器（generator）", terms)
    ['生成器: first used without its English beside it: …生成器把噪声变成样…; write 生成器（generator）']
    >>> term_problems("鉴别器", terms)
    ['鉴别器: use 判别器']
    """
    problems = [
        f"{wrong}: use {right}"
        for wrong, right in FORBIDDEN_TERMS.items()
        if wrong in prose
    ]
    for term, english in terms.items():
        if term in _EVERYDAY_WORDS or not re.fullmatch(f"[{_CJK}]+", term):
            continue  # a mixed term (WGAN 的判别器) only counts as a longer term that holds a shorter one
        containing = [
            other for other in terms if other != term and term in other
        ]
        for match in re.finditer(re.escape(term), prose):
            start, end = match.span()
            if any(
                prose.startswith(other, position)
                for other in containing
                for position in range(
                    max(0, start - len(other) + 1), start + 1
                )
                if position + len(other) >= end
            ):
                continue  # part of a longer term
            nearby = prose[max(0, start - 40) : end + 40].lower()
            if not any(
                name.split()[0].lower() in nearby for name in english
            ):
                name = english[0]
                problems.append(
                    f"{term}: first used without its English beside it: …{prose[max(0, start - 6) : end + 6]}…; "
                    f"write {term}（{name if name.isupper() else name[0].lower() + name[1:]}）"
                )
            break
    return problems


_PAGE_RECORD = re.compile(
    r"\A<!-- gan-teach translation: (\{.*?\}) -->\n", re.S
)


def page_record(chinese_page: str) -> dict[str, str] | None:
    """The translation record of a Chinese Markdown page: the HTML comment on its first line (a reader never
    sees it), or ``None``."""
    import json

    match = _PAGE_RECORD.match(chinese_page)
    return json.loads(match.group(1)) if match else None


def stamp_page(
    chinese_page: str, english_page: str, english_path: str, commit: str
) -> str:
    """The Chinese Markdown page with its record (first line) saying which English page, at which commit and
    with which text, it translates.

    >>> page = stamp_page("# 术语表\\n", "# Glossary\\n", "book/glossary.md", "0" * 40)
    >>> page_record(page)["english"], page.splitlines()[1]
    ('book/glossary.md', '# 术语表')
    >>> page_staleness("# Glossary\\n", page), page_staleness("# Glossary, changed\\n", page) != []
    ([], True)
    """
    import json

    record = {
        "language": "zh-CN",
        "english": english_path,
        "english_commit": commit,
        "prose_sha256": hashlib.sha256(english_page.encode()).hexdigest(),
    }
    body = _PAGE_RECORD.sub("", chinese_page, count=1)
    return (
        f"<!-- gan-teach translation: {json.dumps(record, ensure_ascii=False)} -->\n"
        + body
    )


def page_staleness(english_page: str, chinese_page: str) -> list[str]:
    """Why a Chinese Markdown page no longer translates its English twin as it is now: empty when it does."""
    record = page_record(chinese_page)
    if record is None:
        return [
            "no translation record (its first line, <!-- gan-teach translation: {...} -->): stamp it"
        ]
    if (
        record.get("prose_sha256")
        != hashlib.sha256(english_page.encode()).hexdigest()
    ):
        commit = record.get("english_commit", "?")[:10]
        return [
            f"the English page changed after {commit}: translate the change "
            f"(git diff {commit} -- {record.get('english')}) and re-stamp"
        ]
    return []


def main(argv: list[str] | None = None) -> int:
    """``python -m gan_teach.course.translation ENGLISH.ipynb CHINESE.ipynb [--stamp]`` (or two ``.md`` pages):
    where the translation's code, markup or glossary terms differ from what the English twin and the glossary
    require, or nothing. With ``--stamp`` and no difference, the Chinese notebook records that it translates the
    English one as it is now (the repository's current commit and the English fingerprints), which is what
    tests/test_translation.py's staleness test compares with."""
    import argparse
    import json
    import subprocess
    from pathlib import Path

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("english", type=Path)
    parser.add_argument("chinese", type=Path)
    parser.add_argument(
        "--stamp",
        action="store_true",
        help="record the English commit and fingerprints in the Chinese notebook (only when nothing differs)",
    )
    args = parser.parse_args(argv)
    if args.english.suffix == ".md":
        return _main_for_pages(args)
    english = json.loads(args.english.read_text(encoding="utf-8"))
    chinese = json.loads(args.chinese.read_text(encoding="utf-8"))
    differences = code_differences(english, chinese) + markup_differences(
        english,
        chinese,
        args.english.parent.as_posix(),
        args.chinese.parent.as_posix(),
    )
    glossary = args.english.parent / "glossary.md"
    if glossary.is_file():  # the glossary linter, on the Chinese prose
        prose = "\n".join(
            prose_of(source)
            for kind, source in cell_sources(chinese)
            if kind == "markdown"
        )
        differences += [
            f"glossary: {problem}"
            for problem in term_problems(
                prose, glossary_terms(glossary.read_text(encoding="utf-8"))
            )
        ]
    for line in differences:
        print(line)
    print(
        f"{len(differences)} difference(s) between {args.english} and {args.chinese}"
    )
    if differences:
        return 1
    if args.stamp:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=args.english.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        english_path = args.english.resolve().relative_to(
            Path(
                subprocess.run(
                    ["git", "rev-parse", "--show-toplevel"],
                    cwd=args.english.parent,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.strip()
            ).resolve()
        )
        stamp_translation(chinese, english, english_path.as_posix(), commit)
        if not any(cell.get("outputs") for cell in chinese["cells"]):
            # an execution stamp copied with the English metadata would vouch for outputs it never made
            chinese["metadata"]["gan_teach"].pop("execution", None)
        args.chinese.write_text(
            json.dumps(chinese, ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8",
        )
        print(
            f"stamped {args.chinese}: translates {english_path} at {commit[:10]}"
        )
    return 0


def _git(folder, *arguments: str) -> str:
    import subprocess

    return subprocess.run(
        ["git", *arguments],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _main_for_pages(args) -> int:
    """:func:`main` for two Markdown pages: the markup and the glossary terms, then the record."""
    from pathlib import Path

    english = args.english.read_text(encoding="utf-8")
    chinese = args.chinese.read_text(encoding="utf-8")
    english_items = markup_items(english, args.english.parent.as_posix())
    chinese_items = markup_items(chinese, args.chinese.parent.as_posix())
    differences = []
    if english_items != chinese_items:
        differences.append(
            f"markup: lost {sorted(set(english_items) - set(chinese_items))[:5]}, "
            f"added {sorted(set(chinese_items) - set(english_items))[:5]}"
        )
    glossary = args.english.parent / "glossary.md"
    if glossary.is_file() and args.chinese.name != "glossary.md":
        differences += [
            f"glossary: {problem}"
            for problem in term_problems(
                prose_of(chinese),
                glossary_terms(glossary.read_text(encoding="utf-8")),
            )
        ]
    for line in differences:
        print(line)
    print(
        f"{len(differences)} difference(s) between {args.english} and {args.chinese}"
    )
    if differences:
        return 1
    if args.stamp:
        commit = _git(args.english.parent, "rev-parse", "HEAD")
        top = Path(
            _git(args.english.parent, "rev-parse", "--show-toplevel")
        ).resolve()
        english_path = args.english.resolve().relative_to(top).as_posix()
        args.chinese.write_text(
            stamp_page(chinese, english, english_path, commit),
            encoding="utf-8",
        )
        print(
            f"stamped {args.chinese}: translates {english_path} at {commit[:10]}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
