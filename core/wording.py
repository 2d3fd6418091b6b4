"""Small helpers for texts people read: counted nouns and the article before a name.

"1 month(s)" reads unfinished; `count(1, "month")` is "1 month" and `count(3, "month")` is
"3 months". Irregular plurals are given: `count(2, "try", "tries")`. `with_article("Alibaba
Cloud")` is "an Alibaba Cloud": the article follows the name's first letter (a vowel letter
takes "an"), which is right for brand names as people say them in nearly every case.
"""

from __future__ import annotations

from core.i18n import Money, Text, phrase, plural_text


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
    "outstanding bill": counted("{n} outstanding bill", "{n} outstanding bills"),
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


class Verbatim:
    """A value shown as it is in every language (user data, a path, an email address): not a
    str, so `core.i18n.translate` does not look it up in the catalogue."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = "" if value is None else str(value)

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Verbatim({self.value!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Verbatim) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __reduce__(self):
        return (Verbatim, (self.value,))


def verbatim(value: object) -> Verbatim:
    """`phrase("There is no file at {path}.", path=verbatim(path))`."""
    return Verbatim(value)


def listed(items: list[str] | tuple[str, ...]) -> str:
    """Texts in a list parted by semicolons ("a; b; c"), each a whole text: a `Text` whose
    separator each language writes its own way (Chinese "；")."""
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    # Translators: a list of things to do or to pay, as in "verify your account; add a
    # billing address". {rest} may itself be such a list.
    return phrase("{first}; {rest}", first=items[0], rest=listed(items[1:]))


def joined(items: list[str] | tuple[str, ...], separator: str = " ") -> str:
    """Whole texts one after another ("A. B." with a space, lines with "\\n"), each translated
    on its own where shown. The separator is not a text for people: it is kept as it is in
    every language (a `Text` whose template is not in the catalogue)."""
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return Text("{first}" + separator + "{rest}",
                {"first": items[0], "rest": joined(items[1:], separator)})


def bullet(item: str) -> str:
    """"- item" (a list line), the item translated where shown."""
    return Text("- {item}", {"item": item})


# --- records that keep their words -------------------------------------------------------------
# A bill or ledger entry keeps its description as issued, in English (the statements and the
# operator's reports read it), and beside it the text it was made from, so the console shows it
# in the reader's language.

def stored_text(value: str) -> str | None:
    """`value` as JSON for a record's `description_text` (None for a plain str)."""
    import json

    if not isinstance(value, Text):
        return None
    return json.dumps(_encoded(value), ensure_ascii=False)


def record_text(english: str, stored: str | None) -> str:
    """A record's description as a text (translated where shown); its English as stored when
    it has no text beside it (made before texts were kept) or the text cannot be read."""
    import json

    if not stored:
        return english
    try:
        decoded = _decoded(json.loads(stored))
    except (ValueError, KeyError, TypeError, IndexError):
        return english
    return decoded if isinstance(decoded, str) else english


def _encoded(value: object) -> object:
    if isinstance(value, Text):
        return {"t": value.template, "p": value.plural,
                "v": {name: _encoded(item) for name, item in value.values.items()}}
    if isinstance(value, Verbatim):
        return {"=": value.value}
    if isinstance(value, Money):
        return {"$": [value.cents, value.currency]}
    if isinstance(value, bool | int | float):
        return value
    return str(value)


def _decoded(value: object) -> object:
    if isinstance(value, dict) and "=" in value:
        return Verbatim(value["="])
    if isinstance(value, dict) and "$" in value:
        cents, currency = value["$"]
        return Money(int(cents), str(currency))
    if isinstance(value, dict):
        return Text(str(value["t"]), {str(name): _decoded(item)
                                      for name, item in dict(value["v"]).items()},
                    value.get("p"))
    return value
