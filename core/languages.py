"""F18: the language an account reads — its console once logged on, its emails and SMS."""

from __future__ import annotations

from core.db import transaction
from core.errors import FormErrors
from core.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_
from core.models import Account
from core.sessions import require_account

LANGUAGE_FIELD = "language"


def check_language(language: str | None) -> str:
    """One of LANGUAGES, or FormErrors beside the Language field."""
    if language not in LANGUAGES:
        raise FormErrors({LANGUAGE_FIELD: N_("Choose English or 简体中文 (Simplified Chinese).")})
    return language


def account_language(account: Account) -> str:
    """The account's language; one that never chose has English, the source of every text."""
    return account.language if account.language in LANGUAGES else DEFAULT_LANGUAGE


def set_account_language(token: str | None, language: str | None) -> str:
    """Make `language` the account's: the console switches at once and what is sent to it
    from now on is in that language. Returns the language now in force."""
    chosen = check_language(language)
    with transaction():
        account = require_account(token)
        if account.language != chosen:
            Account.update(language=chosen).where(Account.id == account.id).execute()
    return chosen


def language_of_account(token: str | None) -> str | None:
    """The language the logged-on account chose, or None when it never chose one (the
    console then keeps the language it had before log-on)."""
    with transaction():
        language = require_account(token).language
    return language if language in LANGUAGES else None
