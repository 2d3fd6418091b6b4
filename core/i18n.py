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
