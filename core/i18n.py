"""The one translation function every text a person reads goes through (SPEC F18).

Texts are written in English in the code and marked with `_()` (or `N_()` where the text is kept
to be translated later, as in a table of constants). The catalogues are standard gettext: `.po`
sources under `core/locale/<lang>/LC_MESSAGES/cloudacct.po`, compiled to `.mo` and shipped in the
wheel. One process serves one person, so the console's language is one module-level choice,
set by the app (`use_language`); emails and SMS use the account's own language through
`translation_for`, never the console's.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path

DOMAIN = "cloudacct"
LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES: tuple[str, ...] = ("en", "zh-Hans")
DEFAULT_LANGUAGE = "en"

_current: gettext.NullTranslations = gettext.NullTranslations()
_language = DEFAULT_LANGUAGE


def _catalogue_name(language: str) -> str:
    """gettext's folder name for a BCP 47 tag: `zh-Hans` lives in `zh_Hans`."""
    return language.replace("-", "_")


@cache
def translation_for(language: str | None) -> gettext.NullTranslations:
    """The catalogue of one language; English (the source texts) when there is none."""
    if not language or language == DEFAULT_LANGUAGE or language not in LANGUAGES:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR,
                               languages=[_catalogue_name(language)], fallback=True)


def use_language(language: str | None) -> str:
    """Make `language` the console's language from now on; returns the one in use."""
    global _current, _language
    chosen = language if language in LANGUAGES else DEFAULT_LANGUAGE
    _current, _language = translation_for(chosen), chosen
    return chosen


def current_language() -> str:
    return _language


def _(message: str) -> str:
    """`message` in the console's language."""
    return _current.gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form of a text for `count`, in the console's language."""
    return _current.ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark a text for the catalogue without translating it yet (translate where shown)."""
    return message



class Text(str):
    """A text for people with its message id and values kept: it reads as the English text
    everywhere a `str` goes (logs, tests, FormErrors), and `translate()` renders it in the
    console's language where it is shown. Core builds these (`phrase(...)`, `plural_text(...)`)
    instead of f-strings so it stays free of a current language."""

    template: str
    values: dict[str, object]
    plural: str | None

    def __new__(cls, template: str, values: dict[str, object],
                plural: str | None = None) -> Text:
        chosen = template if plural is None or values.get("n") == 1 else plural
        made = super().__new__(cls, chosen.format(**values) if values else chosen)
        made.template, made.values, made.plural = template, values, plural
        return made

    def __reduce__(self):  # a Text survives pickling (multiprocessing, the zygote)
        return (Text, (self.template, self.values, self.plural))


class Money:
    """An amount inside a text (`phrase("Pay {amount}", amount=money(1234))`): English's
    `12.34 USD` wherever the text reads as a str, the language's own form where `translate()`
    renders it (`format_amount`). Integer cents, never a float."""

    __slots__ = ("cents", "currency")

    def __init__(self, cents: int, currency: str = "USD") -> None:
        self.cents, self.currency = int(cents), currency

    def in_language(self, language: str | None) -> str:
        return format_amount(self.cents, self.currency, language or DEFAULT_LANGUAGE)

    def __format__(self, spec: str) -> str:
        return format(self.in_language(DEFAULT_LANGUAGE), spec)

    def __str__(self) -> str:
        return self.in_language(DEFAULT_LANGUAGE)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Money) and (self.cents, self.currency)
                == (other.cents, other.currency))

    def __hash__(self) -> int:
        return hash((self.cents, self.currency))

    def __reduce__(self):
        return (Money, (self.cents, self.currency))


def money(cents: int, currency: str = "USD") -> Money:
    return Money(cents, currency)


def phrase(template: str, /, **values: object) -> Text:
    """`phrase("Try again in {wait}.", wait=...)`: marked for the catalogue, English now,
    translated where shown."""
    return Text(template, values)


def plural_text(singular: str, plural: str, /, n: int, **values: object) -> Text:
    """`plural_text("{n} bill", "{n} bills", n=2)`: the form for `n` in each language
    (gettext's plural rules: Chinese has one form, English two)."""
    return Text(singular, {"n": n, **values}, plural)


def translate(message: str, language: str | None = None) -> str:
    """`message` in `language` (default: the console's). A `Text` is translated as its
    template with each value translated too; a plain str is looked up as it is."""
    if isinstance(message, Name):
        return message.name_in(language or _language)
    catalogue = translation_for(language) if language else _current
    if isinstance(message, Text):
        values = {name: translate(value, language) if isinstance(value, str)
                  else value.in_language(language or _language) if isinstance(value, Money)
                  else value for name, value in message.values.items()}
        if message.plural is not None:
            chosen = catalogue.ngettext(message.template, message.plural, int(values["n"]))
        else:
            chosen = catalogue.gettext(message.template)
        return chosen.format(**values)
    return catalogue.gettext(message) if message else message


# --- names of countries and their subdivisions (ISO 3166) --------------------------------------
# Not in our catalogue: pycountry ships the iso-codes project's own gettext catalogues
# (domains iso3166-1 and iso3166-2), keyed by the English names it gives. English is pycountry's
# name exactly as before; a name the language's catalogue lacks stays English.

_ISO_DOMAINS = {"country": "iso3166-1", "subdivision": "iso3166-2"}
_ISO_LANGUAGES = {"zh-Hans": "zh_CN"}


@cache
def _iso_catalogue(kind: str, language: str) -> gettext.NullTranslations:
    import pycountry

    found = _ISO_LANGUAGES.get(language)
    if found is None:
        return gettext.NullTranslations()
    return gettext.translation(_ISO_DOMAINS[kind], localedir=pycountry.LOCALES_DIR,
                               languages=[found], fallback=True)


@cache
def _english_iso_name(kind: str, code: str) -> str | None:
    import pycountry

    try:
        found = (pycountry.countries.get(alpha_2=code) if kind == "country"
                 else pycountry.subdivisions.get(code=code))
    except (KeyError, LookupError):
        found = None
    return found.name if found is not None else None


class Name(str):
    """The English name of a country (`kind` "country", ISO 3166-1 alpha-2 `code`) or of a
    subdivision ("subdivision", ISO 3166-2 `code`): reads as English everywhere a str goes;
    `translate()` gives it in the console's language. Core hands these out (it never
    translates)."""

    kind: str
    code: str

    def __new__(cls, kind: str, code: str, english: str | None = None) -> Name:
        made = super().__new__(cls, english if english is not None
                               else _english_iso_name(kind, code) or code)
        made.kind, made.code = kind, code
        return made

    def __reduce__(self):
        return (Name, (self.kind, self.code, str(self)))

    def name_in(self, language: str | None) -> str:
        english = str(self)
        if not language or language == DEFAULT_LANGUAGE:
            return english
        return _iso_catalogue(self.kind, language).gettext(english)


def country_name(code: str, language: str | None = None) -> str:
    """The name of the country `code` (ISO 3166-1 alpha-2) in `language` (default: the
    console's); `code` itself when it names none."""
    return Name("country", (code or "").strip().upper()).name_in(language or _language)


def subdivision_name(code: str, language: str | None = None) -> str:
    """The name of the subdivision `code` (ISO 3166-2, `US-CA`) in `language` (default: the
    console's); `code` itself when it names none."""
    return Name("subdivision", (code or "").strip().upper()).name_in(language or _language)


# --- which language (SPEC F18) ------------------------------------------------------------------

# The locale variables in POSIX order of precedence; over SSH only the client's (SendEnv).
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")
_TRADITIONAL = re.compile(r"^zh[-_](hant|tw|hk|mo)\b", re.IGNORECASE)


def language_of_tag(text: str | None) -> str | None:
    """The supported language a tag or locale names (`zh-Hans`, `zh_CN.UTF-8`, `zh_SG`,
    `en_GB`, `C`), or None. Traditional Chinese (`zh_TW`, `zh-Hant`) is not Simplified: None."""
    tag = (text or "").strip().split(".", 1)[0].split("@", 1)[0]
    if not tag or tag in ("C", "POSIX"):
        return None
    lowered = tag.replace("_", "-").lower()
    if lowered == "en" or lowered.startswith("en-"):
        return "en"
    if _TRADITIONAL.match(lowered):
        return None
    if lowered == "zh" or lowered.startswith("zh-"):
        return "zh-Hans"
    return None


def console_language_setting(environ: Mapping[str, str]) -> str | None:
    """`CLOUDACCT_LANG` as given, checked: `en` or `zh-Hans` (any case, `_` for `-`).
    Raises SystemExit with a one-line message for anything else."""
    raw = environ.get("CLOUDACCT_LANG", "").strip()
    if not raw:
        return None
    for language in LANGUAGES:
        if raw.replace("_", "-").casefold() == language.casefold():
            return language
    raise SystemExit(f"CLOUDACCT_LANG must be one of {', '.join(LANGUAGES)}, not {raw!r}")


def locale_language(environ: Mapping[str, str]) -> str | None:
    """The language of the first locale variable that is set (LC_ALL, LC_MESSAGES, LANG)."""
    for name in LOCALE_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return language_of_tag(value)
    return None


def choose_language(*, account: str | None, configured: str | None,
                    locale: str | None) -> str:
    """F18: the account's setting once logged on, else CLOUDACCT_LANG, else the locale, else
    English."""
    for candidate in (account, configured, locale):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


# --- numbers, money and moments in the language's conventions (Babel) ---------------------------

_BABEL_LOCALES = {"en": "en_US", "zh-Hans": "zh_Hans_CN"}


def babel_locale(language: str | None = None) -> str:
    return _BABEL_LOCALES.get(language or _language, "en_US")


def format_amount(cents: int, currency: str = "USD", language: str | None = None) -> str:
    """Integer cents as the language writes money: English keeps cloudacct's `12.34 USD`,
    Chinese `US$12.34`. Exact: a Decimal built from the integer, never a float."""
    from core.money import decimal_text, format_usd

    chosen = language or _language
    if chosen == DEFAULT_LANGUAGE and currency == "USD":
        return format_usd(cents)
    from decimal import Decimal

    from babel.numbers import format_currency

    return format_currency(Decimal(decimal_text(cents)), currency, locale=babel_locale(chosen))


def format_moment(moment: datetime, language: str | None = None, *, utc: bool = True) -> str:
    """A UTC moment to the minute: `2026-12-01 10:05 UTC` in English, Babel's medium date and
    short time for Chinese (`2026年12月1日 10:05 UTC`); without ` UTC` if `utc` is False."""
    chosen = language or _language
    if chosen == DEFAULT_LANGUAGE:
        text = f"{moment:%Y-%m-%d %H:%M}"
    else:
        from babel.dates import format_time

        time = format_time(moment, "HH:mm", locale=babel_locale(chosen))
        text = f"{format_day(moment, chosen)} {time}"
    return f"{text} UTC" if utc else text


def format_day(moment: datetime, language: str | None = None) -> str:
    """A date: `2026-12-01` in English, `2026年12月1日` in Chinese."""
    chosen = language or _language
    if chosen == DEFAULT_LANGUAGE:
        return f"{moment:%Y-%m-%d}"
    from babel.dates import format_date

    return format_date(moment, "medium", locale=babel_locale(chosen))


def format_short_moment(moment: datetime, language: str | None = None) -> str:
    """Month, day and time without the year (the latest few log-ons): `12-01 10:05`,
    `12月1日 10:05`."""
    chosen = language or _language
    if chosen == DEFAULT_LANGUAGE:
        return f"{moment:%m-%d %H:%M}"
    from babel.dates import format_skeleton, format_time

    locale = babel_locale(chosen)
    return (f"{format_skeleton('MMMd', moment, locale=locale)} "
            f"{format_time(moment, 'HH:mm', locale=locale)}")
