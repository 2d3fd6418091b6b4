"""F18: every email, SMS and call goes in its recipient's language, found where it is delivered.

core.notices writes each message for any language: a `Localised` text reads as its English
(logs, tests, anything that takes a str) and renders in another language on request. A caller
that knows the account renders the message itself (core.notices does, from the account); a
message handed to `send_email` / `send_sms` / `place_call` still `Localised` is rendered here
in the language of the account it goes to (`recipient_language`):

- a one-time code: the account the code was made for (its code row, written before delivery
  and marked delivered after), so the code of a phone or an email not yet the account's goes in
  the account's language; a sign-up whose email already has an account gets its phone code in
  the language of the console it signs up from, as a new sign-up would (the language must not
  tell whether the email has an account);
- anything else: the live account the address belongs to (its email; its phone, verified first);
- nobody's address: English.

Never the console's current language otherwise: one process (the billing run, the SSH server)
sends to anyone.
"""

from __future__ import annotations

from collections.abc import Callable

from core.i18n import DEFAULT_LANGUAGE, LANGUAGES

LIVE = ("unverified", "active", "deletion_pending")
DECOY_PURPOSE = "signup_decoy"  # core.verify_account: a phone code of a sign-up with a taken email


class Localised(str):
    """A message's text in English, which `render(language)` gives in any language; `code`,
    for the text of a one-time code, says so: delivery finds whom the code was made for."""

    render: Callable[[str], str]
    code: str | None

    def __new__(cls, render: Callable[[str], str], *, code: str | None = None) -> Localised:
        made = super().__new__(cls, render(DEFAULT_LANGUAGE))
        made.render, made.code = render, code
        return made

    def __reduce__(self):  # pickled (another process), it is the English text it reads as
        return (str, (str(self),))


def localise(text: str | None, language: str) -> str | None:
    """`text` in `language` when it is `Localised`, else as it is (already rendered)."""
    if isinstance(text, Localised):
        return text.render(language)
    return text


def needs_language(*texts: str | None) -> bool:
    return any(isinstance(text, Localised) for text in texts)


def _known(language: str | None) -> str | None:
    return language if language in LANGUAGES else None


def _code_owner_language(destination: str, channel: str) -> tuple[bool, str | None]:
    """(found, language) of the code being delivered to `destination` by `channel`: its row
    is written, not yet marked delivered, before delivery (core.verification.issue_code).
    No keyed hash here: a reset must cost the same work whether the email has an account."""
    from core.db import read_by
    from core.models import Account, Code

    row = (Code.select().where(Code.destination == destination, Code.channel == channel,
                               Code.delivered_at.is_null(), Code.used_at.is_null(),
                               Code.voided_at.is_null())
           .order_by(Code.id.desc()).first())
    if row is None:
        return False, None
    if row.purpose == DECOY_PURPOSE:
        # The code goes to the visitor, whose console this is (never the owner's language).
        from core.i18n import current_language

        return True, current_language()
    account = read_by(Account, "id", row.account_id)
    return True, _known(account.language) if account is not None else None


def _address_owner_language(address: str) -> str | None:
    from core.models import Account

    text = address.strip()
    if "@" in text:
        from core.errors import DomainError
        from core.validation import check_email

        try:
            key = check_email(text).key
        except DomainError:
            key = text.casefold()
        account = Account.get_or_none(Account.email_key == key, Account.status.in_(LIVE))
        return _known(account.language) if account is not None else None
    holders = list(Account.select().where(Account.phone == text, Account.status.in_(LIVE))
                   .order_by(Account.phone_verified_at.is_null(), Account.id.desc()).limit(1))
    return _known(holders[0].language) if holders else None


def recipient_language(to: str, channel: str, *texts: str | None) -> str:
    """The language a message to `to` by `channel` (email, sms, voice) goes in (see the
    module's docstring)."""
    from core.db import transaction

    is_code = any(isinstance(text, Localised) and text.code for text in texts)
    with transaction():
        if is_code:
            found, language = _code_owner_language(to, channel)
            if found:
                return language or DEFAULT_LANGUAGE
        return _address_owner_language(to) or DEFAULT_LANGUAGE
