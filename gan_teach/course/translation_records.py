"""What a Chinese page translates: the English commit and fingerprints it records, and whether it is stale.

A Chinese notebook keeps its record in ``metadata.gan_teach.translation`` (the English notebook's path and
commit, a fingerprint of its code as the stored outputs' stamp computes it, and a SHA-256 of its prose); a
Chinese Markdown page keeps it in an HTML comment on its first line. When the English page changes, the
record no longer matches and ``tests/test_translation.py`` says which commit to compare with.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

__all__ = [
    "english_fingerprints",
    "stamp_translation",
    "staleness",
    "page_record",
    "stamp_page",
    "page_staleness",
]


def english_fingerprints(english: dict[str, Any]) -> dict[str, str]:
    """What a translation was made from: the code's fingerprint (its syntax trees, as the stored outputs'
    stamp computes it: comments and layout do not count) and a SHA-256 of the prose (every markdown cell's
    text, in order: a changed number or sentence counts)."""
    from .stored_outputs import code_fingerprint

    prose = hashlib.sha256()
    for index, cell in enumerate(english["cells"]):
        if cell["cell_type"] == "markdown":
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
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
