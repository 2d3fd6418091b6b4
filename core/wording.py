"""Small helpers for texts people read: counted nouns and the article before a name.

"1 month(s)" reads unfinished; `count(1, "month")` is "1 month" and `count(3, "month")` is
"3 months". Irregular plurals are given: `count(2, "try", "tries")`. `with_article("Alibaba
Cloud")` is "an Alibaba Cloud": the article follows the name's first letter (a vowel letter
takes "an"), which is right for brand names as people say them in nearly every case.
"""

from __future__ import annotations

from core.i18n import Text, plural_text


def counted(singular: str, plural: str) -> tuple[str, str]:
    """Mark a counted noun's two English forms for the catalogue (extracted like ngettext)."""
    return singular, plural


# Every noun `count` is used with: its forms are message ids, so each language has its own
# (Chinese: "{n} 分钟" for both). A noun missing here still reads right in English.
COUNTED_NOUNS: dict[str, tuple[str, str]] = {
    "second": counted("{n} second", "{n} seconds"),
    "minute": counted("{n} minute", "{n} minutes"),
    "hour": counted("{n} hour", "{n} hours"),
    "day": counted("{n} day", "{n} days"),
    "month": counted("{n} month", "{n} months"),
    "bill": counted("{n} bill", "{n} bills"),
    "try": counted("{n} try", "{n} tries"),
    "code": counted("{n} code", "{n} codes"),
    "file": counted("{n} file", "{n} files"),
    "resource": counted("{n} resource", "{n} resources"),
    "payment token": counted("{n} payment token", "{n} payment tokens"),
    "payment method": counted("{n} payment method", "{n} payment methods"),
    "session": counted("{n} session", "{n} sessions"),
}


def plural(number: int, word: str, many: str | None = None) -> str:
    """`word` for one, else `many` (default: `word` + "s")."""
    return word if number == 1 else (many if many is not None else f"{word}s")


def count(number: int, word: str, many: str | None = None) -> Text:
    """"1 bill", "2 bills", "0 bills"; `many` for an irregular plural ("tries")."""
    singular, several = COUNTED_NOUNS.get(
        word, (f"{{n}} {word}", f"{{n}} {plural(2, word, many)}"))
    return plural_text(singular, several, n=number)


def with_article(name: str, *, capital: bool = False) -> str:
    """"a Visa", "an American Express", "an Alibaba Cloud" (`capital`: "An …" to begin a
    sentence)."""
    text = name.strip()
    article = "an" if text[:1].casefold() in "aeiou" and text else "a"
    if capital:
        article = article.capitalize()
    return f"{article} {text}"
