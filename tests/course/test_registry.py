import re
from pathlib import Path

from gan_teach.course.registry import CHAPTERS

TOC = Path(__file__).resolve().parents[2] / "_toc.yml"


def test_the_chapters_are_the_book_order_of_toc_yml():
    """_toc.yml says it alone holds the book's order: the registry must follow it."""
    text = TOC.read_text()
    chapters_part = text.split("- caption: Chapters", 1)[1].split(
        "- caption:", 1
    )[0]
    assert tuple(re.findall(r"file: book/(\w+)", chapters_part)) == CHAPTERS
