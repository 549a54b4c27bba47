"""The glossary linter of the Chinese edition: the glossary's terms, used as the glossary says.

The English glossary (``book/glossary.md``) gives each term's Chinese in its heading, ``Generator (生成器)``.
A Chinese page must use those terms, gloss each with its English at its first use (生成器（generator）), and
avoid known mistranslations (:data:`FORBIDDEN_TERMS`). ``python -m gan_teach.course.translation`` runs it
on a page beside the structural checks; ``tests/test_translation.py`` runs it on every page.
"""

from __future__ import annotations

import re

__all__ = ["FORBIDDEN_TERMS", "glossary_terms", "prose_of", "term_problems"]

#: Translations of glossary terms that the Chinese edition does not use, each mapped to the glossary's own
#: term; synonyms that a reader would take for a different concept, or common mistranslations.
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
