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

import io
import posixpath
import re
import string
import tokenize
from typing import Any

from .extraction import as_python
from .glossary_lint import glossary_terms, prose_of, term_problems
from .translation_records import stamp_page, stamp_translation

__all__ = [
    "CHINESE_ONLY_TAG",
    "cell_sources",
    "code_tokens",
    "code_differences",
    "markup_items",
    "markup_differences",
    "main",
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
#: China); the comparisons with the English twin leave such cells out.
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


def main(argv: list[str] | None = None) -> int:
    """``python -m gan_teach.course.translation ENGLISH.ipynb CHINESE.ipynb [--stamp]`` (or two ``.md`` pages):
    where the translation's code, markup or glossary terms differ from what the English twin and the glossary
    require, or nothing. With ``--stamp`` and no difference, the Chinese notebook records that it translates the
    English one as it is now (the repository's current commit and the English fingerprints), which is what
    tests/test_translation.py's staleness test compares with."""
    import argparse
    import json
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
        commit = _git(args.english.parent, "rev-parse", "HEAD")
        top = Path(
            _git(args.english.parent, "rev-parse", "--show-toplevel")
        ).resolve()
        english_path = args.english.resolve().relative_to(top)
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
