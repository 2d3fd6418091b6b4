"""Small helpers for texts people read: counted nouns and the article before a name.

"1 month(s)" reads unfinished; `count(1, "month")` is "1 month" and `count(3, "month")` is
"3 months". Irregular plurals are given: `count(2, "try", "tries")`. `with_article("Alibaba
Cloud")` is "an Alibaba Cloud": the article follows the name's first letter (a vowel letter
takes "an"), which is right for brand names as people say them in nearly every case.
"""

from __future__ import annotations


def plural(number: int, word: str, many: str | None = None) -> str:
    """`word` for one, else `many` (default: `word` + "s")."""
    return word if number == 1 else (many if many is not None else f"{word}s")


def count(number: int, word: str, many: str | None = None) -> str:
    """"1 bill", "2 bills", "0 bills"; `many` for an irregular plural ("tries")."""
    return f"{number} {plural(number, word, many)}"


def with_article(name: str, *, capital: bool = False) -> str:
    """"a Visa", "an American Express", "an Alibaba Cloud" (`capital`: "An …" to begin a
    sentence)."""
    text = name.strip()
    article = "an" if text[:1].casefold() in "aeiou" and text else "a"
    if capital:
        article = article.capitalize()
    return f"{article} {text}"
