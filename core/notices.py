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

from core import clock
from core.config import settings
from core.db import transaction
from core.message_caps import Asker, count_against_caps, forget_send, send_counted
from core.models import Account
from core.validation import mask_email, mask_phone
from core.wording import count

log = logging.getLogger("cloudacct.notices")

CARD_EXPIRY_NOTICE = timedelta(days=30)
LIVE = ("unverified", "active", "deletion_pending")


# --- the parts every notice shares -------------------------------------------------------------

@dataclass(frozen=True)
class Words:
    """One notice: the email's subject and body, and the text message of a security notice."""

    subject: str
    body: str
    sms: str | None = None


def _brand() -> str:
    return settings().brand


def when(at: datetime) -> str:
    """`2026-12-01 10:00 UTC`."""
    return f"{at:%Y-%m-%d %H:%M} UTC"


def where(origin: str | None) -> str:
    """Where an action came from, as a notice says it."""
    if origin is None:
        return f"by {_brand()} itself"
    if origin in ("local", ""):
        return "from this computer (the local console)"
    return f"from the address {origin} (over SSH)"


def _not_you_security() -> str:
    return (f"If this was not you, someone else may be using your account: reset your password "
            f"at once (Log on, then Forgot password?) and contact {settings().support}.")


def _not_you_money() -> str:
    return f"If you do not recognise this, contact {settings().support}."


def _sms(text: str) -> str:
    return f"{_brand()}: {text} Not you? Reset your password and contact {settings().support}."


# --- delivery ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reserved:
    """A notice counted inside a flow's transaction, to be sent after its commit."""

    account_id: int
    channel: str  # email | sms
    destination: str
    send_id: int


def _asker(account_id: int | None, origin: str | None) -> Asker:
    return Asker(None, account_id, origin or "local")


def _send_one(channel: str, destination: str, words: Words) -> Callable[[], None]:
    from core.delivery import send_email, send_sms

    if channel == "email":
        return lambda: send_email(destination, words.subject, words.body)
    text = words.sms or words.subject
    return lambda: send_sms(destination, text)


def _deliver(account_id: int | None, origin: str | None, channel: str, destination: str,
             words: Words) -> bool:
    """Count and send one notice; False (and a log line) when it could not go."""
    try:
        send_counted(_asker(account_id, origin), channel, destination,
                     _send_one(channel, destination, words), security_notice=True)
    except Exception as exc:  # noqa: BLE001 - a notice never fails the action it reports
        log.warning("notice %r to %s not sent: %s", words.subject, _shown(destination), exc)
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
    return Reserved(account_id, channel, destination, send_id)


def send_reserved(reserved: Reserved | None, words: Words) -> bool:
    """After the commit: send a notice counted by `reserve`."""
    if reserved is None:
        return False
    try:
        _send_one(reserved.channel, reserved.destination, words)()
    except Exception as exc:  # noqa: BLE001 - a notice never fails the action it reports
        log.warning("notice %r to %s not sent: %s", words.subject,
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


def _owner(account_id: int) -> _Owner | None:
    account = Account.get_or_none(Account.id == account_id)
    if account is None or account.status not in LIVE:
        return None
    phone = account.phone if account.phone and account.phone_verified_at else None
    return _Owner(account.id, account.email, phone)


def _notify(account_id: int, words: Words, *, origin: str | None, security: bool) -> None:
    """The email, and for a security notice the SMS to a verified phone."""
    owner = _owner(account_id)
    if owner is None:
        return
    _deliver(account_id, origin, "email", owner.email, words)
    if security and owner.phone and words.sms:
        _deliver(account_id, origin, "sms", owner.phone, words)


# --- codes -------------------------------------------------------------------------------------

_CODE_WHAT = {
    "signup": "verification code",
    "second_channel": "verification code",
    "password_reset": "password reset code",
    "change_email": "code to confirm your new email address",
    "change_phone": "code to confirm your new phone number",
}


def code_email(purpose: str, code: str) -> Words:
    what = _CODE_WHAT.get(purpose, "verification code")
    brand = _brand()
    body = (f"Your {brand} {what} is {code}.\n\nIt is valid for 10 minutes and can be used "
            "once. If you did not ask for it, you can ignore this email.")
    if purpose == "password_reset":
        body = (f"Your {brand} {what} is {code}.\n\nIt is valid for 10 minutes and can be used "
                "once. If you did not ask to reset your password, ignore this email: nothing "
                "changes without the code, and your password stays as it is.")
    return Words(f"Your {brand} {what}", body)


def code_sms(purpose: str, code: str) -> str:
    what = _CODE_WHAT.get(purpose, "verification code")
    return f"{_brand()}: your {what} is {code}. Valid for 10 minutes."


def code_call(purpose: str, code: str) -> str:
    what = _CODE_WHAT.get(purpose, "verification code")
    return (f"Hello, this is {_brand()}. Your {what} is {code}. Once more, the code is the "
            "same. Goodbye.")


# --- sign-up and the email's owner (F1, SPEC "Abuse limits") -----------------------------------

def signup_attempt() -> Words:
    """To the owner of an email someone tried to sign up with (a decoy sign-up, F1)."""
    brand = _brand()
    return Words(f"Someone tried to sign up to {brand} with your email",
                 f"Someone tried to create a new {brand} account with this email address, "
                 "which already has an account.\n\nIf it was you, log on with your password "
                 "instead of signing up again. If it was not you, you can ignore this email: "
                 "nothing has changed on your account.")


def signup_with_phone_attempt(phone: str, *, decoy: bool) -> Words:
    """To the email after a right phone code of a decoy sign-up, or of an email claim."""
    brand = _brand()
    if decoy:
        return Words(
            f"Someone tried to sign up to {brand} with your email",
            f"Someone tried to create a new {brand} account with this email address and the "
            f"phone number {mask_phone(phone)}. This address already has an account, and "
            "nothing has changed on it.\n\nIf it was you, log on with your password instead of "
            "signing up again. If it was not you, you can ignore this email.")
    return Words(
        f"Someone tried to sign up to {brand} with this email",
        f"Someone tried to sign up to {brand} with this email address and the phone number "
        f"{mask_phone(phone)}. This address is used by an account at {brand} that has never "
        "confirmed it.\n\nIf the address is yours, sign up with it and verify it by "
        "email: it becomes yours alone, and the other account is closed. If you did not sign "
        "up, you can ignore this email.")


def account_closed_sms(email: str) -> str:
    """To the verified phone of an account closed because the email's owner took it back."""
    brand = _brand()
    return (f"{brand}: your account was closed. The owner of the email address it used "
            f"({mask_email(email)}) verified that address and took it back. Nothing was "
            f"charged. To use {brand}, sign up with your own email.")


def email_change_attempt(at: datetime, origin: str | None) -> Words:
    """To the owner of an email another account tried to change its email to (F14)."""
    brand = _brand()
    return Words(
        f"Someone tried to use your email for another {brand} account",
        f"On {when(at)}, {where(origin)}, someone logged on to another {brand} account asked "
        "to change that account's email to this address. This address is yours: nothing was "
        "changed, and no code was sent.\n\nYou do not need to do anything. If it keeps "
        f"happening, contact {settings().support}.")


# --- security events ---------------------------------------------------------------------------

def password_changed_words(at: datetime, origin: str | None, keys_removed: int) -> Words:
    brand = _brand()
    removed = "was" if keys_removed == 1 else "were"
    keys = (f" and {count(keys_removed, 'trusted SSH key')} {removed} removed"
            if keys_removed else "")
    return Words(
        f"Your {brand} password was changed",
        f"The password of your {brand} account was changed on {when(at)}, {where(origin)}. "
        f"Every other session was logged off{keys}.\n\n{_not_you_security()}",
        _sms(f"your password was changed on {when(at)}."))


def notify_password_changed(account_id: int, *, origin: str | None, keys_removed: int = 0,
                            at: datetime | None = None) -> None:
    _notify(account_id, password_changed_words(at or clock.now(), origin, keys_removed),
            origin=origin, security=True)


def password_reset_words(at: datetime, origin: str | None) -> Words:
    brand = _brand()
    return Words(
        f"Your {brand} password was reset",
        f"The password of your {brand} account was reset with a code on {when(at)}, "
        f"{where(origin)}. Every session was logged off and every trusted SSH key was "
        f"removed.\n\n{_not_you_security()}",
        _sms(f"your password was reset on {when(at)}."))


def notify_password_reset(account_id: int, *, origin: str | None,
                          at: datetime | None = None) -> None:
    _notify(account_id, password_reset_words(at or clock.now(), origin), origin=origin,
            security=True)


def email_changed_words(old: str, new: str, at: datetime, origin: str | None, *,
                        to_old: bool) -> Words:
    brand = _brand()
    if to_old:
        return Words(
            f"The email of your {brand} account was changed",
            f"The email address of your {brand} account was changed from this address to "
            f"{mask_email(new)} on {when(at)}, {where(origin)}. You now log on with the new "
            "address, and notices go there.\n\nIf this was not you, your account may have "
            f"been taken over: contact {settings().support} at once, from this address.")
    return Words(
        f"This is now the email of your {brand} account",
        f"The email address of your {brand} account was changed from {mask_email(old)} to "
        f"this address on {when(at)}, {where(origin)}. Log on with this address from now on."
        f"\n\n{_not_you_security()}",
        _sms(f"the email of your account was changed to {mask_email(new)} on {when(at)}."))


def phone_changed_words(old: str | None, new: str, at: datetime, origin: str | None) -> Words:
    brand = _brand()
    before = f"from {mask_phone(old)} " if old else ""
    return Words(
        f"The phone number of your {brand} account was changed",
        f"The verified phone number of your {brand} account was changed {before}to "
        f"{mask_phone(new)} on {when(at)}, {where(origin)}.\n\n{_not_you_security()}",
        _sms(f"the phone number of your account was changed to {mask_phone(new)} on "
             f"{when(at)}."))


def mfa_words(enabled: bool, at: datetime, origin: str | None) -> Words:
    brand = _brand()
    if enabled:
        return Words(
            f"Virtual MFA is on for your {brand} account",
            f"A virtual MFA device (an authenticator app) was bound to your {brand} account on "
            f"{when(at)}, {where(origin)}. Log-ons and sensitive actions now ask for its code. "
            "Keep your recovery codes somewhere safe.\n\nIf this was not you, someone may be "
            f"locking you out of your account: contact {settings().support} at once.",
            _sms(f"virtual MFA was turned on for your account on {when(at)}."))
    return Words(
        f"Virtual MFA is off for your {brand} account",
        f"The virtual MFA device of your {brand} account was removed on {when(at)}, "
        f"{where(origin)}. Log-ons no longer ask for an authenticator code.\n\n"
        f"{_not_you_security()}",
        _sms(f"virtual MFA was turned off for your account on {when(at)}."))


def notify_mfa_enabled(account_id: int, *, origin: str | None,
                       at: datetime | None = None) -> None:
    _notify(account_id, mfa_words(True, at or clock.now(), origin), origin=origin, security=True)


def notify_mfa_disabled(account_id: int, *, origin: str | None,
                        at: datetime | None = None) -> None:
    _notify(account_id, mfa_words(False, at or clock.now(), origin), origin=origin,
            security=True)


def _key_name(fingerprint: str, label: str | None) -> str:
    return f"{label} ({fingerprint})" if label else fingerprint


def key_words(trusted: bool, fingerprint: str, label: str | None, at: datetime,
              origin: str | None) -> Words:
    brand = _brand()
    name = _key_name(fingerprint, label)
    if trusted:
        return Words(
            f"A new SSH key can open your {brand} account",
            f"The SSH key {name} was trusted by your {brand} account on {when(at)}, "
            f"{where(origin)}. Connections with it now open the console logged on.\n\n"
            f"{_not_you_security()} Remove the key in Security settings.",
            _sms(f"an SSH key was trusted by your account on {when(at)}."))
    return Words(
        f"An SSH key was removed from your {brand} account",
        f"The SSH key {name} is no longer trusted by your {brand} account (removed on "
        f"{when(at)}, {where(origin)}).\n\n{_not_you_security()}",
        _sms(f"an SSH key was removed from your account on {when(at)}."))


def notify_key_trusted(account_id: int, fingerprint: str, label: str | None = None, *,
                       origin: str | None, at: datetime | None = None) -> None:
    _notify(account_id, key_words(True, fingerprint, label, at or clock.now(), origin),
            origin=origin, security=True)


def notify_key_removed(account_id: int, fingerprint: str, label: str | None = None, *,
                       origin: str | None, at: datetime | None = None) -> None:
    _notify(account_id, key_words(False, fingerprint, label, at or clock.now(), origin),
            origin=origin, security=True)


def new_address_words(at: datetime, origin: str | None) -> Words:
    brand = _brand()
    return Words(
        f"A log-on to your {brand} account from a new address",
        f"Your {brand} account was logged on to on {when(at)}, {where(origin)}, an address it "
        "has not logged on from in the last 90 days.\n\nIf this was you, you do not need to "
        f"do anything. {_not_you_security()} Log off everywhere in Security settings.",
        _sms(f"a log-on to your account on {when(at)} {where(origin)}."))


def notify_new_address_log_on(account_id: int, *, origin: str | None,
                              at: datetime | None = None) -> None:
    _notify(account_id, new_address_words(at or clock.now(), origin), origin=origin,
            security=True)


def deletion_pending_words(at: datetime, origin: str | None, due_by: datetime | None) -> Words:
    brand = _brand()
    by = f" (by {when(due_by)})" if due_by else ""
    return Words(
        f"Your {brand} account will be deleted",
        f"Deleting your {brand} account was requested on {when(at)}, {where(origin)}. It is "
        f"deleted automatically once its last Pay-As-You-Go usage is billed{by} and paid; "
        f"until then you can still log on and pay.\n\n{_not_you_security()}",
        _sms(f"deleting your account was requested on {when(at)}."))


def notify_deletion_pending(account_id: int, *, origin: str | None,
                            due_by: datetime | None = None, at: datetime | None = None) -> None:
    _notify(account_id, deletion_pending_words(at or clock.now(), origin, due_by),
            origin=origin, security=True)


def account_deleted_words(at: datetime) -> Words:
    brand = _brand()
    return Words(
        f"Your {brand} account was deleted",
        f"Your {brand} account was deleted on {when(at)}: its personal data was erased and "
        "its payment methods were removed. You can sign up again with this address at any "
        f"time, as a new account.\n\nIf you did not ask for this, contact {settings().support}.",
        f"{brand}: your account was deleted on {when(at)}. Not you? Contact "
        f"{settings().support}.")


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

def bill_issued_words(description: str, amount: str, charged: bool | None, method: str | None,
                      at: datetime) -> Words:
    brand = _brand()
    if charged:
        state = f"It was charged to {method}." if method else "It was charged."
    else:
        state = "It is outstanding: pay it from the Billing section."
    return Words(f"Your {brand} bill of {amount}",
                 f"A bill of {amount} was issued on {when(at)} for {description}. {state}\n\n"
                 f"{_not_you_money()}")


def charge_declined_words(description: str, amount: str, reason: str, method: str | None,
                          at: datetime) -> Words:
    brand = _brand()
    on = f" on {method}" if method else ""
    return Words(f"Your payment of {amount} to {brand} was declined",
                 f"The charge of {amount}{on} for {description} was declined on {when(at)}: "
                 f"{reason.rstrip('.')}. The bill is outstanding: pay it from the Billing "
                 "section, with another payment method if needed. A subscription whose renewal "
                 f"is not paid is suspended.\n\n{_not_you_money()}")


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
    from core.money import format_usd

    facts = _bill_facts(bill_id)
    if facts is None:
        return
    bill, _, method = facts
    words = bill_issued_words(bill.description, format_usd(bill.amount_cents),
                              bill.status == "paid", method, bill.issued_at)
    _notify(bill.account_id, words, origin=None, security=False)


def notify_charge_declined(bill_id: int) -> None:
    from core.money import format_usd

    facts = _bill_facts(bill_id)
    if facts is None:
        return
    bill, last, method = facts
    reason = (last.failure_reason if last is not None and last.failure_reason
              else "the payment was declined")
    at = last.created_at if last is not None else clock.now()
    words = charge_declined_words(bill.description, format_usd(bill.amount_cents), reason,
                                  method, at)
    _notify(bill.account_id, words, origin=None, security=False)


def _resource_name(resource) -> str:
    from core.catalogue import PRODUCTS

    item = PRODUCTS.get(resource.product)
    return f"{item.name if item else resource.product} #{resource.id} in {resource.region}"


def subscription_words(renewed: bool, name: str, until: datetime | None, amount: str | None,
                       at: datetime) -> Words:
    brand = _brand()
    if renewed:
        return Words(
            f"Your {brand} subscription was renewed",
            f"The subscription {name} was renewed on {when(at)} until "
            f"{when(until) if until else 'its new end date'}, for {amount}. To stop the next "
            f"renewal, turn auto-renewal off in Resources.\n\n{_not_you_money()}")
    return Words(
        f"Your {brand} subscription expired",
        f"The subscription {name} expired and was released on {when(at)}. Nothing more is "
        f"charged for it.\n\n{_not_you_money()}")


def notify_subscription_renewed(resource_id: int, bill_id: int | None = None) -> None:
    from core.models import Bill, Resource
    from core.money import format_usd

    resource = Resource.get_or_none(Resource.id == resource_id)
    if resource is None:
        return
    bill = Bill.get_or_none(Bill.id == bill_id) if bill_id else None
    amount = format_usd(bill.amount_cents) if bill is not None else None
    at = bill.issued_at if bill is not None else clock.now()
    _notify(resource.account_id,
            subscription_words(True, _resource_name(resource), resource.period_end, amount, at),
            origin=None, security=False)


def notify_subscription_expired(resource_id: int) -> None:
    from core.models import Resource

    resource = Resource.get_or_none(Resource.id == resource_id)
    if resource is None:
        return
    at = resource.released_at or resource.period_end or clock.now()
    _notify(resource.account_id, subscription_words(False, _resource_name(resource), None, None,
                                                    at), origin=None, security=False)


def card_expiring_words(display: str, expiry: str, last_day: datetime) -> Words:
    brand = _brand()
    return Words(
        f"Your card {display} expires soon",
        f"The card {display} of your {brand} account expires at the end of {expiry} (after "
        f"{last_day:%Y-%m-%d}). Add a new card in Payment methods and make it the default, so "
        f"that bills and renewals are paid.\n\n{_not_you_money()}")


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
    if not _deliver(method.account_id, None, "email", owner.email, words):
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

def real_name_words(approved: bool, reason: str | None, at: datetime) -> Words:
    brand = _brand()
    if approved:
        return Words(f"Your {brand} real-name registration is approved",
                     f"Your real-name registration was approved on {when(at)}. You can now buy "
                     "in the regions of mainland China.\n\nIf you did not submit a "
                     f"registration, contact {settings().support}.")
    because = f": {reason.rstrip('.')}" if reason else ""
    return Words(f"Your {brand} real-name registration was rejected",
                 f"Your real-name registration was rejected on {when(at)}{because}. Correct it "
                 "and submit it again in the Real-name section.\n\nIf you did not submit a "
                 f"registration, contact {settings().support}.")


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
