"""F15 notifications: the words of every message a person receives, and one function per event.

Each notice says what happened, when (in UTC), from where ("this computer" for the local
console, or the SSH address) and what to do if it was not the person. It goes by email, and for
the security events also by SMS where the account verified a phone.

Delivery rules
- Notices are sent after the flow's commit, by the flow's one call `notify_…(…)`. A notice that
  cannot be sent (delivery failure, a cap, anything) is logged on `cloudacct.notices` and never
  undoes or fails the action it reports.
- Every notice goes through the message caps' security-notice path
  (`core.message_caps.send_counted(…, security_notice=True)`): to the account's own verified
  email or phone it is never refused by a cap; to an address the account has not verified it is
  capped like any other message.
- A notice to an address that stops being the account's in the same flow (the old email or
  phone of a change, the address of an account being erased) is counted inside the flow's
  transaction, while the address is still the owner's (`reserve`), and sent after the commit
  (`send_reserved`).
- The words of codes (verification, reset, change) are here too (`code_email`, `code_sms`,
  `code_call`), so that every text a person receives lives in one module.

No notice holds a run of six digits (a code's shape, CONTRACT.md): phone numbers are masked,
amounts, dates and ids are shorter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, wraps

from core import clock
from core.config import settings
from core.db import read_by, transaction
from core.delivery.language import Localised, localise
from core.i18n import (
    DEFAULT_LANGUAGE,
    N_,
    babel_locale,
    format_amount,
    format_moment,
    translate,
    translation_for,
)
from core.languages import account_language
from core.message_caps import Asker, count_against_caps, forget_send, send_counted
from core.models import Account
from core.validation import mask_email, mask_phone

log = logging.getLogger("cloudacct.notices")

CARD_EXPIRY_NOTICE = timedelta(days=30)
LIVE = ("unverified", "active", "deletion_pending")


# --- the parts every notice shares -------------------------------------------------------------

@dataclass(frozen=True)
class Words:
    """One notice: the email's subject and body, and the text message of a security notice.

    Built without a language, each text is `Localised` (core.delivery.language): it reads as
    English and is rendered in the recipient's language where it is sent; `in_language` renders
    them all at once for an account whose language is known."""

    subject: str
    body: str
    sms: str | None = None

    def in_language(self, language: str) -> Words:
        return Words(localise(self.subject, language), localise(self.body, language),
                     localise(self.sms, language))

    @classmethod
    def lazy(cls, make: Callable[[str], Words], *, code: str | None = None) -> Words:
        """Words whose texts render in any language as `make(language)` writes them."""
        made = cache(make)
        english = made(DEFAULT_LANGUAGE)
        sms = (Localised(lambda language: made(language).sms or "", code=code)
               if english.sms is not None else None)
        return cls(Localised(lambda language: made(language).subject, code=code),
                   Localised(lambda language: made(language).body, code=code), sms)


def _any_language(build: Callable[..., Words]) -> Callable[..., Words]:
    """`build(..., language=...)` called without a language gives lazy Words (`Words.lazy`)."""

    @wraps(build)
    def words(*args, language: str | None = None, **kwargs) -> Words:
        if language is not None:
            return build(*args, language=language, **kwargs)
        return Words.lazy(lambda chosen: build(*args, language=chosen, **kwargs))

    return words


def _gettext(language: str) -> Callable[[str], str]:
    """The catalogue's `gettext` of the recipient's language (never the console's)."""
    return translation_for(language).gettext


def _brand() -> str:
    return settings().brand


def _support() -> str:
    return settings().support


def when(at: datetime, language: str = DEFAULT_LANGUAGE) -> str:
    """`2026-12-01 10:00 UTC` (in Chinese `2026年12月1日 10:00 UTC`)."""
    return format_moment(at, language)


def _day(day: datetime, language: str) -> str:
    """`2027-01-31` (in Chinese `2027年1月31日`)."""
    if language == DEFAULT_LANGUAGE:
        return f"{day:%Y-%m-%d}"
    from babel.dates import format_date

    return format_date(day, "medium", locale=babel_locale(language))


def where(origin: str | None, language: str = DEFAULT_LANGUAGE) -> str:
    """Where an action came from, as a notice says it."""
    _ = _gettext(language)
    if origin is None:
        # Translators: where an action came from: the provider's own systems (a billing run).
        return _("by {brand} itself").format(brand=_brand())
    if origin in ("local", ""):
        return _("from this computer (the local console)")
    return _("from the address {address} (over SSH)").format(address=origin)


def _not_you_security(language: str) -> str:
    _ = _gettext(language)
    return _("If this was not you, someone else may be using your account: reset your password "
             "at once (Log on, then Forgot password?) and contact {support}.").format(
        support=_support())


def _not_you_money(language: str) -> str:
    _ = _gettext(language)
    return _("If you do not recognise this, contact {support}.").format(support=_support())


def _sms(text: str, language: str) -> str:
    """A security notice's text message: `text` is one sentence saying what happened."""
    _ = _gettext(language)
    # Translators: a security notice by SMS; {text} is a sentence such as "your password was
    # changed on 2026-12-01 10:00 UTC."
    return _("{brand}: {text} Not you? Reset your password and contact {support}.").format(
        brand=_brand(), text=text, support=_support())


def _owned_text(text: str | None, language: str) -> str:
    """A text stored in English by another part (a bill's description, a decline reason, a
    product name): its translation when the catalogue has one, else as stored."""
    return translate(text, language) if text else (text or "")


# --- delivery ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reserved:
    """A notice counted inside a flow's transaction, to be sent after its commit."""

    account_id: int
    channel: str  # email | sms
    destination: str
    send_id: int
    language: str = DEFAULT_LANGUAGE  # the account's, read while it still exists


def _asker(account_id: int | None, origin: str | None) -> Asker:
    return Asker(None, account_id, origin or "local")


def _send_one(channel: str, destination: str, words: Words,
              language: str | None = None) -> Callable[[], None]:
    """Send `words` in `language` (Words still lazy: the recipient's, core.delivery)."""
    from core.delivery import send_email, send_sms

    if channel == "email":
        return lambda: send_email(destination, words.subject, words.body, language)
    text = words.sms or words.subject
    return lambda: send_sms(destination, text, language)


def _deliver(account_id: int | None, origin: str | None, channel: str, destination: str,
             words: Words, language: str | None = None) -> bool:
    """Count and send one notice; False (and a log line) when it could not go."""
    try:
        send_counted(_asker(account_id, origin), channel, destination,
                     _send_one(channel, destination, words, language), security_notice=True)
    except Exception as exc:  # noqa: BLE001 - a notice never fails the action it reports
        log.warning("notice %r to %s not sent: %s", str(words.subject), _shown(destination), exc)
        return False
    return True


def _shown(destination: str) -> str:
    return mask_email(destination) if "@" in destination else mask_phone(destination)


def reserve(account_id: int, channel: str, destination: str | None,
            origin: str | None = None) -> Reserved | None:
    """Inside the flow's transaction: count a notice to `destination` while it is still the
    account's own address (never capped then). None when there is nothing to reserve or a cap
    refuses it (an address the account never verified)."""
    from core.errors import RateLimitError

    if not destination:
        return None
    try:
        send_id = count_against_caps(_asker(account_id, origin), channel, destination,
                                     security_notice=True)
    except RateLimitError:
        return None
    account = Account.get_or_none(Account.id == account_id)
    language = account_language(account) if account is not None else DEFAULT_LANGUAGE
    return Reserved(account_id, channel, destination, send_id, language)


def send_reserved(reserved: Reserved | None, words: Words) -> bool:
    """After the commit: send a notice counted by `reserve`, in the account's language."""
    if reserved is None:
        return False
    try:
        _send_one(reserved.channel, reserved.destination, words, reserved.language)()
    except Exception as exc:  # noqa: BLE001 - a notice never fails the action it reports
        log.warning("notice %r to %s not sent: %s", str(words.subject),
                    _shown(reserved.destination), exc)
        try:
            forget_send(reserved.send_id)
        except Exception:  # noqa: BLE001
            log.warning("could not forget the count of an unsent notice", exc_info=True)
        return False
    return True


@dataclass(frozen=True)
class _Owner:
    account_id: int
    email: str
    phone: str | None  # verified
    language: str


def _owner(account_id: int) -> _Owner | None:
    account = read_by(Account, "id", account_id)
    if account is None or account.status not in LIVE:
        return None
    phone = account.phone if account.phone and account.phone_verified_at else None
    return _Owner(account.id, account.email, phone, account_language(account))


def _notify(account_id: int, words: Words | Callable[[str], Words], *, origin: str | None,
            security: bool) -> None:
    """The email, and for a security notice the SMS to a verified phone, in the account's
    language (`words`, or `words(language)` for a notice whose amounts depend on it)."""
    owner = _owner(account_id)
    if owner is None:
        return
    said = words(owner.language) if callable(words) else words.in_language(owner.language)
    _deliver(account_id, origin, "email", owner.email, said, owner.language)
    if security and owner.phone and said.sms:
        _deliver(account_id, origin, "sms", owner.phone, said, owner.language)


# --- codes -------------------------------------------------------------------------------------

# Translators: what a code is for, said inside "Your {brand} {what} is {code}." (a noun phrase).
_CODE_WHAT = {
    "signup": N_("verification code"),
    "second_channel": N_("verification code"),
    "password_reset": N_("password reset code"),
    "change_email": N_("code to confirm your new email address"),
    "change_phone": N_("code to confirm your new phone number"),
}


def _code_what(purpose: str, language: str) -> str:
    return _gettext(language)(_CODE_WHAT.get(purpose, _CODE_WHAT["signup"]))


def _code_email(purpose: str, code: str, *, language: str) -> Words:
    _ = _gettext(language)
    values = {"brand": _brand(), "what": _code_what(purpose, language), "code": code}
    if purpose == "password_reset":
        body = _("Your {brand} {what} is {code}.\n\nIt is valid for 10 minutes and can be used "
                 "once. If you did not ask to reset your password, ignore this email: nothing "
                 "changes without the code, and your password stays as it is.")
    else:
        body = _("Your {brand} {what} is {code}.\n\nIt is valid for 10 minutes and can be used "
                 "once. If you did not ask for it, you can ignore this email.")
    return Words(_("Your {brand} {what}").format(**values), body.format(**values))


def code_email(purpose: str, code: str, language: str | None = None) -> Words:
    """The email of a code: in `language`, or (None) in the language of the account the code
    was made for, found where it is delivered (core.delivery.language)."""
    if language is not None:
        return _code_email(purpose, code, language=language)
    return Words.lazy(lambda chosen: _code_email(purpose, code, language=chosen), code=code)


def _code_sms(purpose: str, code: str, language: str) -> str:
    _ = _gettext(language)
    # Translators: an SMS: keep the code near the start (a long SMS is split).
    return _("{brand}: your {what} is {code}. Valid for 10 minutes.").format(
        brand=_brand(), what=_code_what(purpose, language), code=code)


def code_sms(purpose: str, code: str, language: str | None = None) -> str:
    if language is not None:
        return _code_sms(purpose, code, language)
    return Localised(lambda chosen: _code_sms(purpose, code, chosen), code=code)


def _code_call(purpose: str, code: str, language: str) -> str:
    _ = _gettext(language)
    # Translators: read aloud by a voice call.
    return _("Hello, this is {brand}. Your {what} is {code}. Once more, the code is the "
             "same. Goodbye.").format(brand=_brand(), what=_code_what(purpose, language),
                                      code=code)


def code_call(purpose: str, code: str, language: str | None = None) -> str:
    if language is not None:
        return _code_call(purpose, code, language)
    return Localised(lambda chosen: _code_call(purpose, code, chosen), code=code)


# --- sign-up and the email's owner (F1, SPEC "Abuse limits") -----------------------------------

@_any_language
def signup_attempt(*, language: str) -> Words:
    """To the owner of an email someone tried to sign up with (a decoy sign-up, F1): in the
    owner's language (the address is theirs), never the visitor's."""
    _ = _gettext(language)
    brand = _brand()
    return Words(_("Someone tried to sign up to {brand} with your email").format(brand=brand),
                 _("Someone tried to create a new {brand} account with this email address, "
                   "which already has an account.\n\nIf it was you, log on with your password "
                   "instead of signing up again. If it was not you, you can ignore this email: "
                   "nothing has changed on your account.").format(brand=brand))


@_any_language
def signup_with_phone_attempt(phone: str, *, decoy: bool, language: str) -> Words:
    """To the email after a right phone code of a decoy sign-up, or of an email claim."""
    _ = _gettext(language)
    values = {"brand": _brand(), "phone": mask_phone(phone)}
    if decoy:
        return Words(
            _("Someone tried to sign up to {brand} with your email").format(**values),
            _("Someone tried to create a new {brand} account with this email address and the "
              "phone number {phone}. This address already has an account, and nothing has "
              "changed on it.\n\nIf it was you, log on with your password instead of signing "
              "up again. If it was not you, you can ignore this email.").format(**values))
    return Words(
        _("Someone tried to sign up to {brand} with this email").format(**values),
        _("Someone tried to sign up to {brand} with this email address and the phone number "
          "{phone}. This address is used by an account at {brand} that has never confirmed "
          "it.\n\nIf the address is yours, sign up with it and verify it by email: it becomes "
          "yours alone, and the other account is closed. If you did not sign up, you can "
          "ignore this email.").format(**values))


def _account_closed_sms(email: str, language: str) -> str:
    _ = _gettext(language)
    return _("{brand}: your account was closed. The owner of the email address it used "
             "({email}) verified that address and took it back. Nothing was charged. To use "
             "{brand}, sign up with your own email.").format(brand=_brand(),
                                                             email=mask_email(email))


def account_closed_sms(email: str, language: str | None = None) -> str:
    """To the verified phone of an account closed because the email's owner took it back."""
    if language is not None:
        return _account_closed_sms(email, language)
    return Localised(lambda chosen: _account_closed_sms(email, chosen))


@_any_language
def email_change_attempt(at: datetime, origin: str | None, *, language: str) -> Words:
    """To the owner of an email another account tried to change its email to (F14)."""
    _ = _gettext(language)
    brand = _brand()
    return Words(
        _("Someone tried to use your email for another {brand} account").format(brand=brand),
        _("On {when}, {where}, someone logged on to another {brand} account asked to change "
          "that account's email to this address. This address is yours: nothing was changed, "
          "and no code was sent.\n\nYou do not need to do anything. If it keeps happening, "
          "contact {support}.").format(when=when(at, language), where=where(origin, language),
                                       brand=brand, support=_support()))


# --- security events ---------------------------------------------------------------------------

@_any_language
def password_changed_words(at: datetime, origin: str | None, keys_removed: int, *,
                           language: str) -> Words:
    catalogue = translation_for(language)
    _, ngettext = catalogue.gettext, catalogue.ngettext
    brand, moment = _brand(), when(at, language)
    if keys_removed:
        sessions = ngettext(
            "Every other session was logged off and {n} trusted SSH key was removed.",
            "Every other session was logged off and {n} trusted SSH keys were removed.",
            keys_removed).format(n=keys_removed)
    else:
        sessions = _("Every other session was logged off.")
    return Words(
        _("Your {brand} password was changed").format(brand=brand),
        _("The password of your {brand} account was changed on {when}, {where}. "
          "{sessions}\n\n{not_you}").format(brand=brand, when=moment,
                                             where=where(origin, language), sessions=sessions,
                                             not_you=_not_you_security(language)),
        _sms(_("your password was changed on {when}.").format(when=moment), language))


def notify_password_changed(account_id: int, *, origin: str | None, keys_removed: int = 0,
                            at: datetime | None = None) -> None:
    _notify(account_id, password_changed_words(at or clock.now(), origin, keys_removed),
            origin=origin, security=True)


@_any_language
def password_reset_words(at: datetime, origin: str | None, *, language: str) -> Words:
    _ = _gettext(language)
    brand, moment = _brand(), when(at, language)
    return Words(
        _("Your {brand} password was reset").format(brand=brand),
        _("The password of your {brand} account was reset with a code on {when}, {where}. "
          "Every session was logged off and every trusted SSH key was removed.\n\n"
          "{not_you}").format(brand=brand, when=moment, where=where(origin, language),
                              not_you=_not_you_security(language)),
        _sms(_("your password was reset on {when}.").format(when=moment), language))


def notify_password_reset(account_id: int, *, origin: str | None,
                          at: datetime | None = None) -> None:
    _notify(account_id, password_reset_words(at or clock.now(), origin), origin=origin,
            security=True)


@_any_language
def email_changed_words(old: str, new: str, at: datetime, origin: str | None, *,
                        to_old: bool, language: str) -> Words:
    _ = _gettext(language)
    values = {"brand": _brand(), "when": when(at, language), "where": where(origin, language),
              "old": mask_email(old), "new": mask_email(new), "support": _support(),
              "not_you": _not_you_security(language)}
    if to_old:
        return Words(
            _("The email of your {brand} account was changed").format(**values),
            _("The email address of your {brand} account was changed from this address to "
              "{new} on {when}, {where}. You now log on with the new address, and notices go "
              "there.\n\nIf this was not you, your account may have been taken over: contact "
              "{support} at once, from this address.").format(**values))
    return Words(
        _("This is now the email of your {brand} account").format(**values),
        _("The email address of your {brand} account was changed from {old} to this address "
          "on {when}, {where}. Log on with this address from now on.\n\n{not_you}").format(
            **values),
        _sms(_("the email of your account was changed to {new} on {when}.").format(**values),
             language))


@_any_language
def phone_changed_words(old: str | None, new: str, at: datetime, origin: str | None, *,
                        language: str) -> Words:
    _ = _gettext(language)
    values = {"brand": _brand(), "when": when(at, language), "where": where(origin, language),
              "new": mask_phone(new), "not_you": _not_you_security(language)}
    if old:
        body = _("The verified phone number of your {brand} account was changed from {old} to "
                 "{new} on {when}, {where}.\n\n{not_you}").format(old=mask_phone(old),
                                                                   **values)
    else:
        body = _("The verified phone number of your {brand} account was changed to {new} on "
                 "{when}, {where}.\n\n{not_you}").format(**values)
    return Words(
        _("The phone number of your {brand} account was changed").format(**values), body,
        _sms(_("the phone number of your account was changed to {new} on {when}.").format(
            **values), language))


@_any_language
def mfa_words(enabled: bool, at: datetime, origin: str | None, *, language: str) -> Words:
    _ = _gettext(language)
    values = {"brand": _brand(), "when": when(at, language), "where": where(origin, language),
              "support": _support(), "not_you": _not_you_security(language)}
    if enabled:
        return Words(
            _("Virtual MFA is on for your {brand} account").format(**values),
            _("A virtual MFA device (an authenticator app) was bound to your {brand} account "
              "on {when}, {where}. Log-ons and sensitive actions now ask for its code. Keep "
              "your recovery codes somewhere safe.\n\nIf this was not you, someone may be "
              "locking you out of your account: contact {support} at once.").format(**values),
            _sms(_("virtual MFA was turned on for your account on {when}.").format(**values),
                 language))
    return Words(
        _("Virtual MFA is off for your {brand} account").format(**values),
        _("The virtual MFA device of your {brand} account was removed on {when}, {where}. "
          "Log-ons no longer ask for an authenticator code.\n\n{not_you}").format(**values),
        _sms(_("virtual MFA was turned off for your account on {when}.").format(**values),
             language))


def notify_mfa_enabled(account_id: int, *, origin: str | None,
                       at: datetime | None = None) -> None:
    _notify(account_id, mfa_words(True, at or clock.now(), origin), origin=origin, security=True)


def notify_mfa_disabled(account_id: int, *, origin: str | None,
                        at: datetime | None = None) -> None:
    _notify(account_id, mfa_words(False, at or clock.now(), origin), origin=origin,
            security=True)


def _key_name(fingerprint: str, label: str | None) -> str:
    return f"{label} ({fingerprint})" if label else fingerprint


@_any_language
def key_words(trusted: bool, fingerprint: str, label: str | None, at: datetime,
              origin: str | None, *, language: str) -> Words:
    _ = _gettext(language)
    values = {"brand": _brand(), "key": _key_name(fingerprint, label),
              "when": when(at, language), "where": where(origin, language),
              "not_you": _not_you_security(language)}
    if trusted:
        return Words(
            _("A new SSH key can open your {brand} account").format(**values),
            _("The SSH key {key} was trusted by your {brand} account on {when}, {where}. "
              "Connections with it now open the console logged on.\n\n{not_you} Remove the "
              "key in Security settings.").format(**values),
            _sms(_("an SSH key was trusted by your account on {when}.").format(**values),
                 language))
    return Words(
        _("An SSH key was removed from your {brand} account").format(**values),
        _("The SSH key {key} is no longer trusted by your {brand} account (removed on {when}, "
          "{where}).\n\n{not_you}").format(**values),
        _sms(_("an SSH key was removed from your account on {when}.").format(**values),
             language))


def notify_key_trusted(account_id: int, fingerprint: str, label: str | None = None, *,
                       origin: str | None, at: datetime | None = None) -> None:
    _notify(account_id, key_words(True, fingerprint, label, at or clock.now(), origin),
            origin=origin, security=True)


def notify_key_removed(account_id: int, fingerprint: str, label: str | None = None, *,
                       origin: str | None, at: datetime | None = None) -> None:
    _notify(account_id, key_words(False, fingerprint, label, at or clock.now(), origin),
            origin=origin, security=True)


@_any_language
def new_address_words(at: datetime, origin: str | None, *, language: str) -> Words:
    _ = _gettext(language)
    values = {"brand": _brand(), "when": when(at, language), "where": where(origin, language),
              "not_you": _not_you_security(language)}
    return Words(
        _("A log-on to your {brand} account from a new address").format(**values),
        _("Your {brand} account was logged on to on {when}, {where}, an address it has not "
          "logged on from in the last 90 days.\n\nIf this was you, you do not need to do "
          "anything. {not_you} Log off everywhere in Security settings.").format(**values),
        _sms(_("a log-on to your account on {when} {where}.").format(**values), language))


def notify_new_address_log_on(account_id: int, *, origin: str | None,
                              at: datetime | None = None) -> None:
    _notify(account_id, new_address_words(at or clock.now(), origin), origin=origin,
            security=True)


@_any_language
def deletion_pending_words(at: datetime, origin: str | None, due_by: datetime | None, *,
                           language: str) -> Words:
    _ = _gettext(language)
    values = {"brand": _brand(), "when": when(at, language), "where": where(origin, language),
              "not_you": _not_you_security(language)}
    if due_by:
        body = _("Deleting your {brand} account was requested on {when}, {where}. It is "
                 "deleted automatically once its last Pay-As-You-Go usage is billed (by {due}) "
                 "and paid; until then you can still log on and pay.\n\n{not_you}").format(
            due=when(due_by, language), **values)
    else:
        body = _("Deleting your {brand} account was requested on {when}, {where}. It is "
                 "deleted automatically once its last Pay-As-You-Go usage is billed and paid; "
                 "until then you can still log on and pay.\n\n{not_you}").format(**values)
    return Words(
        _("Your {brand} account will be deleted").format(**values), body,
        _sms(_("deleting your account was requested on {when}.").format(**values), language))


def notify_deletion_pending(account_id: int, *, origin: str | None,
                            due_by: datetime | None = None, at: datetime | None = None) -> None:
    _notify(account_id, deletion_pending_words(at or clock.now(), origin, due_by),
            origin=origin, security=True)


@_any_language
def account_deleted_words(at: datetime, *, language: str) -> Words:
    _ = _gettext(language)
    values = {"brand": _brand(), "when": when(at, language), "support": _support()}
    return Words(
        _("Your {brand} account was deleted").format(**values),
        _("Your {brand} account was deleted on {when}: its personal data was erased and its "
          "payment methods were removed. You can sign up again with this address at any time, "
          "as a new account.\n\nIf you did not ask for this, contact {support}.").format(
            **values),
        _("{brand}: your account was deleted on {when}. Not you? Contact {support}.").format(
            **values))


@dataclass(frozen=True)
class Farewell:
    """The account-deleted notice, counted before the erasure (the addresses go with it)."""

    email: Reserved | None
    phone: Reserved | None
    at: datetime


def prepare_account_deleted(account: Account, at: datetime) -> Farewell:
    """Inside the erasure's transaction, before the account's rows are erased."""
    phone = account.phone if account.phone and account.phone_verified_at else None
    return Farewell(reserve(account.id, "email", account.email),
                    reserve(account.id, "sms", phone), at)


def notify_account_deleted(farewell: Farewell) -> None:
    """After the erasure's commit, before the local delivery copies are purged: sent by SMTP
    (or a phone provider) it reaches the person; a local Maildir copy is purged with the rest,
    as the data directory keeps nothing of an erased address."""
    words = account_deleted_words(farewell.at)
    send_reserved(farewell.email, words)
    send_reserved(farewell.phone, words)


# --- money (F8, F5) ----------------------------------------------------------------------------

@_any_language
def bill_issued_words(description: str, amount: str, charged: bool | None, method: str | None,
                      at: datetime, *, language: str) -> Words:
    _ = _gettext(language)
    if charged:
        state = (_("It was charged to {method}.").format(method=method) if method
                 else _("It was charged."))
    else:
        state = _("It is outstanding: pay it from the Billing section.")
    return Words(_("Your {brand} bill of {amount}").format(brand=_brand(), amount=amount),
                 _("A bill of {amount} was issued on {when} for {description}. {state}\n\n"
                   "{not_you}").format(amount=amount, when=when(at, language),
                                      description=_owned_text(description, language),
                                      state=state, not_you=_not_you_money(language)))


@_any_language
def charge_declined_words(description: str, amount: str, reason: str, method: str | None,
                          at: datetime, *, language: str) -> Words:
    _ = _gettext(language)
    values = {"amount": amount, "method": method, "when": when(at, language),
              "description": _owned_text(description, language),
              "reason": _owned_text(reason, language).rstrip(".。"),
              "not_you": _not_you_money(language)}
    if method:
        body = _("The charge of {amount} on {method} for {description} was declined on {when}: "
                 "{reason}. The bill is outstanding: pay it from the Billing section, with "
                 "another payment method if needed. A subscription whose renewal is not paid "
                 "is suspended.\n\n{not_you}")
    else:
        body = _("The charge of {amount} for {description} was declined on {when}: {reason}. "
                 "The bill is outstanding: pay it from the Billing section, with another "
                 "payment method if needed. A subscription whose renewal is not paid is "
                 "suspended.\n\n{not_you}")
    return Words(_("Your payment of {amount} to {brand} was declined").format(
        amount=amount, brand=_brand()), body.format(**values))


def _bill_facts(bill_id: int):
    from core.models import Bill, LedgerEntry, PaymentMethod

    bill = Bill.get_or_none(Bill.id == bill_id)
    if bill is None:
        return None
    entries = (LedgerEntry.select().where(LedgerEntry.bill == bill_id)
               .order_by(LedgerEntry.id.desc()))
    last = entries.first()
    method = None
    if last is not None and last.payment_method_id:
        row = PaymentMethod.get_or_none(PaymentMethod.id == last.payment_method_id)
        method = row.display if row is not None else None
    return bill, last, method


def notify_bill_issued(bill_id: int) -> None:
    facts = _bill_facts(bill_id)
    if facts is None:
        return
    bill, _, method = facts

    def words(language: str) -> Words:
        return bill_issued_words(bill.description,
                                 format_amount(bill.amount_cents, "USD", language),
                                 bill.status == "paid", method, bill.issued_at,
                                 language=language)

    _notify(bill.account_id, words, origin=None, security=False)


def notify_charge_declined(bill_id: int) -> None:
    facts = _bill_facts(bill_id)
    if facts is None:
        return
    bill, last, method = facts
    reason = (last.failure_reason if last is not None and last.failure_reason
              else N_("the payment was declined"))
    at = last.created_at if last is not None else clock.now()

    def words(language: str) -> Words:
        return charge_declined_words(bill.description,
                                     format_amount(bill.amount_cents, "USD", language), reason,
                                     method, at, language=language)

    _notify(bill.account_id, words, origin=None, security=False)


def _resource_name(resource, language: str = DEFAULT_LANGUAGE) -> str:
    from core.catalogue import PRODUCTS

    item = PRODUCTS.get(resource.product)
    product = _owned_text(item.name, language) if item else resource.product
    _ = _gettext(language)
    # Translators: a resource: "Elastic Compute Service #12 in cn-hangzhou".
    return _("{product} #{id} in {region}").format(
        product=product, id=resource.id, region=resource.region)


@_any_language
def subscription_words(renewed: bool, name: str, until: datetime | None, amount: str | None,
                       at: datetime, *, language: str) -> Words:
    _ = _gettext(language)
    values = {"brand": _brand(), "name": name, "when": when(at, language), "amount": amount,
              "not_you": _not_you_money(language)}
    if renewed:
        if until:
            body = _("The subscription {name} was renewed on {when} until {until}, for "
                     "{amount}. To stop the next renewal, turn auto-renewal off in Resources."
                     "\n\n{not_you}").format(until=when(until, language), **values)
        else:
            body = _("The subscription {name} was renewed on {when} until its new end date, "
                     "for {amount}. To stop the next renewal, turn auto-renewal off in "
                     "Resources.\n\n{not_you}").format(**values)
        return Words(_("Your {brand} subscription was renewed").format(**values), body)
    return Words(
        _("Your {brand} subscription expired").format(**values),
        _("The subscription {name} expired and was released on {when}. Nothing more is "
          "charged for it.\n\n{not_you}").format(**values))


def notify_subscription_renewed(resource_id: int, bill_id: int | None = None) -> None:
    from core.models import Bill, Resource

    resource = Resource.get_or_none(Resource.id == resource_id)
    if resource is None:
        return
    bill = Bill.get_or_none(Bill.id == bill_id) if bill_id else None
    at = bill.issued_at if bill is not None else clock.now()

    def words(language: str) -> Words:
        amount = (format_amount(bill.amount_cents, "USD", language) if bill is not None
                  else None)
        return subscription_words(True, _resource_name(resource, language),
                                  resource.period_end, amount, at, language=language)

    _notify(resource.account_id, words, origin=None, security=False)


def notify_subscription_expired(resource_id: int) -> None:
    from core.models import Resource

    resource = Resource.get_or_none(Resource.id == resource_id)
    if resource is None:
        return
    at = resource.released_at or resource.period_end or clock.now()
    _notify(resource.account_id,
            lambda language: subscription_words(False, _resource_name(resource, language), None,
                                                None, at, language=language),
            origin=None, security=False)


@_any_language
def card_expiring_words(display: str, expiry: str, last_day: datetime, *,
                        language: str) -> Words:
    _ = _gettext(language)
    values = {"brand": _brand(), "card": display, "expiry": expiry,
              "last_day": _day(last_day, language), "not_you": _not_you_money(language)}
    return Words(
        _("Your card {card} expires soon").format(**values),
        _("The card {card} of your {brand} account expires at the end of {expiry} (after "
          "{last_day}). Add a new card in Payment methods and make it the default, so that "
          "bills and renewals are paid.\n\n{not_you}").format(**values))


def _last_day(year: int, month: int) -> datetime:
    import calendar

    return datetime(year, month, calendar.monthrange(year, month)[1])


def expiring_cards(at: datetime, account_id: int | None = None) -> list[int]:
    """Live cards whose last valid day is within 30 days of `at` (and not yet past), read
    through the partial index of migration 6 (its WHERE repeated word for word)."""
    from peewee import SQL

    from core.models import PaymentMethod

    months = {(at.year, at.month)}
    ahead = at + CARD_EXPIRY_NOTICE
    months.add((ahead.year, ahead.month))
    found: list[int] = []
    for year, month in sorted(months):
        query = PaymentMethod.select(PaymentMethod.id).where(
            SQL("kind = 'card' AND removed_at IS NULL"), PaymentMethod.exp_year == year,
            PaymentMethod.exp_month == month)
        if account_id is not None:
            query = query.where(PaymentMethod.account == account_id)
        last = _last_day(year, month)
        if at.date() <= last.date() <= ahead.date():
            found += [row.id for row in query]
    return sorted(found)


def notify_card_expiring(method_id: int, at: datetime | None = None) -> bool:
    """Once per card and expiry: True when the notice went now."""
    from core.models import NoticeSent, PaymentMethod

    at = at or clock.now()
    method = PaymentMethod.get_or_none(PaymentMethod.id == method_id)
    if method is None or method.exp_month is None or method.exp_year is None:
        return False
    key = f"card-expiring:{method.id}:{method.exp_year:04d}-{method.exp_month:02d}"
    owner = _owner(method.account_id)
    if owner is None:
        return False
    with transaction():  # one writer at a time: the check and the insert cannot interleave
        if NoticeSent.select().where(NoticeSent.key == key).exists():
            return False
        NoticeSent.create(key=key, account_id=method.account_id, sent_at=at)
    expiry = f"{method.exp_month:02d}/{method.exp_year % 100:02d}"
    words = card_expiring_words(method.display, expiry, _last_day(method.exp_year,
                                                                  method.exp_month))
    if not _deliver(method.account_id, None, "email", owner.email,
                    words.in_language(owner.language), owner.language):
        with transaction():  # not sent: the next billing run tries again
            NoticeSent.delete().where(NoticeSent.key == key).execute()
        return False
    return True


def notify_billing_run(events: Iterable, at: datetime, *, account_id: int | None = None) -> None:
    """The notices of one billing run (core.billing.run_billing's events), after its commits:
    each bill issued, each charge declined, each renewal and expiry; then the cards about to
    expire. Deletions are told by the erasure itself."""
    for event in events:
        declined = getattr(event, "charged", None) is False
        if event.kind == "bill" and event.bill_id:
            notify_bill_issued(event.bill_id)
        elif event.kind == "renewal" and event.resource_id:
            notify_subscription_renewed(event.resource_id, event.bill_id)
        elif event.kind == "expiry" and event.resource_id:
            notify_subscription_expired(event.resource_id)
        if declined and event.bill_id and event.kind in ("bill", "renewal", "charge_retry"):
            notify_charge_declined(event.bill_id)
    for method_id in expiring_cards(at, account_id):
        notify_card_expiring(method_id, at)


# --- real-name registration (F6) ---------------------------------------------------------------

@_any_language
def real_name_words(approved: bool, reason: str | None, at: datetime, *,
                    language: str) -> Words:
    _ = _gettext(language)
    values = {"brand": _brand(), "when": when(at, language), "support": _support()}
    if approved:
        return Words(_("Your {brand} real-name registration is approved").format(**values),
                     _("Your real-name registration was approved on {when}. You can now buy in "
                       "the regions of mainland China.\n\nIf you did not submit a "
                       "registration, contact {support}.").format(**values))
    if reason:
        body = _("Your real-name registration was rejected on {when}: {reason}. Correct it and "
                 "submit it again in the Real-name section.\n\nIf you did not submit a "
                 "registration, contact {support}.").format(
            reason=_owned_text(reason, language).rstrip(".。"), **values)
    else:
        body = _("Your real-name registration was rejected on {when}. Correct it and submit it "
                 "again in the Real-name section.\n\nIf you did not submit a registration, "
                 "contact {support}.").format(**values)
    return Words(_("Your {brand} real-name registration was rejected").format(**values), body)


def notify_real_name_approved(account_id: int, at: datetime | None = None) -> None:
    _notify(account_id, real_name_words(True, None, at or clock.now()), origin=None,
            security=False)


def notify_real_name_rejected(account_id: int, reason: str | None = None,
                              at: datetime | None = None) -> None:
    _notify(account_id, real_name_words(False, reason, at or clock.now()), origin=None,
            security=False)


def notify_real_name_reviewed(account_id: int, status: str, reason: str | None = None) -> None:
    """Approved or rejected, as the registration now stands (pending: nothing to tell)."""
    if status == "approved":
        notify_real_name_approved(account_id)
    elif status == "rejected":
        notify_real_name_rejected(account_id, reason)


# --- changes of email and phone (F14) ----------------------------------------------------------

def notify_email_changed(account_id: int, old_email: str, new_email: str,
                         old_reserved: Reserved | None, *, origin: str | None,
                         at: datetime | None = None) -> None:
    """The old address (counted by `reserve` before the change) and the new one."""
    at = at or clock.now()
    send_reserved(old_reserved, email_changed_words(old_email, new_email, at, origin,
                                                    to_old=True))
    _notify(account_id, email_changed_words(old_email, new_email, at, origin, to_old=False),
            origin=origin, security=True)


def notify_phone_changed(account_id: int, old_phone: str | None, new_phone: str,
                         old_reserved: Reserved | None, *, origin: str | None,
                         at: datetime | None = None) -> None:
    """The email, the new phone (now the verified one) and the old phone (reserved)."""
    at = at or clock.now()
    words = phone_changed_words(old_phone, new_phone, at, origin)
    send_reserved(old_reserved, words)
    _notify(account_id, words, origin=origin, security=True)
