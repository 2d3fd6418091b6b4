"""Verifying an email or phone with a one-time code: F2 (activate the account) and the second
channel of F4 (the one F2 did not use).

Purposes: `signup` (F2) and `second_channel` (F4). Channels: `email`, `sms`, `voice`. Every send
counts against the message caps (core.message_caps) of the session that asks.

A sign-up session is one of three kinds (core.accounts.sign_up), and the person at the keyboard
cannot tell them apart without the email's mailbox:
- a new email: a real account; the right code by email or phone activates it;
- an email claim (the email is held by an account that never verified it): a real account under
  a placeholder email key. By email, a real code; the right one makes the address this
  account's alone, and closes the holder, which is told by a text message to its verified
  phone (it holds nothing of value: F4 needs the email). By phone, a real code too; the right
  one says that the email has an account (a phone cannot take an email back) and the address
  gets a note;
- a decoy (the email's account has verified it): no account. By email, the owner gets a notice
  instead of a code. By phone, a real code to the phone typed, as for a new email; the right
  one says that the email has an account and the owner gets a note. A probe of an email
  therefore costs a real phone and a capped message.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from core import clock, notices
from core.accounts import LIVE, AccountView, account_view, email_is_claimable
from core.db import read_by
from core.delivery import place_call, send_email, send_sms
from core.errors import CodeError, DeliveryError, RateLimitError, Refused, SessionExpired
from core.i18n import N_
from core.languages import account_language
from core.message_caps import Asker, count_against_caps, forget_send, send_counted
from core.models import Account, EmailClaim, Session
from core.sessions import reason_message, require_account, resolve_session
from core.validation import check_code_format, check_phone, mask_email, mask_phone
from core.verification import CodeStatus, code_status, consume_code, issue_code

if TYPE_CHECKING:
    from core.deletion import AccountTraces

PURPOSES = ("signup", "second_channel")
CHANNELS = ("email", "sms", "voice")
EMAIL_HAS_ACCOUNT = N_(
    "This email address already has an account: log on with it instead. If the address is "
    "yours, verify it by email instead of by phone. We have sent a note to that address.")


@dataclass(frozen=True)
class VerifyState:
    """What the Verify screen shows for one destination."""

    channel: str
    destination_masked: str
    status: CodeStatus


@dataclass(frozen=True)
class _Subject:
    """Who a code is for: the real account, or (decoy) the existing owner to notify; and who
    asks (the session, for the message caps)."""

    account_id: int
    email: str
    country: str
    decoy: bool
    asker: Asker
    claim_key: str | None = None  # an email claim: the email key it claims


def _subject(token: str | None, purpose: str) -> _Subject:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    info = resolve_session(token)
    asker = Asker(info.id, info.account_id, info.origin)
    if info.is_decoy:
        row = Session.get_by_id(info.id)
        owner = Account.get_or_none(Account.id == row.notify_account_id)
        if owner is None or purpose != "signup":
            raise SessionExpired(reason_message("ended"))
        return _Subject(owner.id, owner.email, row.signup_country or owner.country, True, asker)
    account = require_account(token)
    if purpose == "signup" and account.status != "unverified":
        raise Refused("This account is already verified.")
    if purpose == "second_channel" and account.status == "unverified":
        raise Refused("Verify your account first.")
    claim = read_by(EmailClaim, "account", account.id)
    return _Subject(account.id, account.email, account.country, False, asker,
                    claim.email_key if claim is not None else None)


def _purpose_key(subject: _Subject, purpose: str, channel: str) -> str:
    if not subject.decoy:
        return purpose
    return "signup_notice" if channel == "email" else "signup_decoy"


def _destination(subject: _Subject, channel: str, phone: str | None) -> tuple[str, str]:
    """(destination, masked) for the channel; phones are checked against the account's country."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if channel == "email":
        return subject.email, mask_email(subject.email)
    number = check_phone(phone, subject.country, for_sms=channel == "sms")
    return number.e164, mask_phone(number.e164)


def _deliverer(subject: _Subject, channel: str, destination: str):
    if subject.decoy and channel == "email":
        def notice(_code: str) -> None:
            words = notices.signup_attempt()
            send_email(destination, words.subject, words.body)
        return notice
    # A decoy's phone gets a real code, like a new sign-up's: the phone path tells nothing.
    return code_deliverer("signup", channel, destination)


def code_deliverer(purpose: str, channel: str, destination: str):
    """Deliver a code of `purpose` by `channel` (the words are core.notices')."""
    if channel == "email":
        def by_email(code: str) -> None:
            words = notices.code_email(purpose, code)
            send_email(destination, words.subject, words.body)
        return by_email
    if channel == "sms":
        return lambda code: send_sms(destination, notices.code_sms(purpose, code))
    return lambda code: place_call(destination, notices.code_call(purpose, code))


def verify_state(token: str | None, purpose: str, channel: str,
                 phone: str | None = None) -> VerifyState:
    """Masked destination, resend countdown and tries left, without sending anything."""
    subject = _subject(token, purpose)
    destination, masked = _destination(subject, channel, phone)
    status = code_status(subject.account_id, _purpose_key(subject, purpose, channel),
                         destination)
    return VerifyState(channel, masked, status)


def phone_country(token: str | None, purpose: str) -> str:
    """The country a phone for this verification must belong to (the account's, or the
    sign-up's): the console shows an example number of it."""
    return _subject(token, purpose).country


def send_code(token: str | None, purpose: str, channel: str,
              phone: str | None = None) -> VerifyState:
    """Send a code by `channel` (Send, Send message, Call immediately)."""
    subject = _subject(token, purpose)
    destination, masked = _destination(subject, channel, phone)
    status = issue_code(subject.account_id, _purpose_key(subject, purpose, channel),
                        destination, channel, _deliverer(subject, channel, destination),
                        asker=subject.asker)
    return VerifyState(channel, masked, status)


def _holder(email_key: str, other_than: int) -> Account | None:
    """The live account that holds `email_key`, other than the claiming one."""
    return Account.get_or_none(Account.email_key == email_key, Account.status.in_(LIVE),
                               Account.id != other_than)


def _tell_email_has_account(subject: _Subject, phone: str) -> None:
    """The note to the email after a right phone code of a decoy or a claim. Capped like any
    message a stranger's sign-up sends (quietly not sent when a cap is reached)."""
    words = notices.signup_with_phone_attempt(phone, decoy=subject.decoy)
    with contextlib.suppress(RateLimitError, DeliveryError):
        send_counted(subject.asker, "email", subject.email,
                     lambda: send_email(subject.email, words.subject, words.body))


@dataclass(frozen=True)
class _Closed:
    """An account closed because the owner of its email took the address back."""

    phone: str | None  # its verified phone, told by SMS
    send_id: int | None
    traces: AccountTraces  # its files, removed after the commit
    language: str = "en"  # its language (F18), read before its row is erased


def close_holder(holder: Account, asker: Asker, at: datetime) -> _Closed:
    """Close the account that held the email without verifying it (inside the transaction):
    its data is erased as F10 erases a deleted account's (core.deletion), but the Maildir
    copies to the email are kept (they are the owner's, who just verified it). `asker` is the
    session of the email's owner. Tell it with `tell_closed` after the commit."""
    from core.deletion import collect_traces, erase_account_rows

    phone = holder.phone if holder.phone and holder.phone_verified_at else None
    send_id = None
    if phone is not None:
        send_id = count_against_caps(Asker(asker.session_id, holder.id, asker.origin), "sms",
                                     phone, security_notice=True)
    traces = replace(collect_traces(holder), emails=frozenset())
    language = account_language(holder)
    erase_account_rows(holder, at)
    Session.update(ended_reason="account_closed").where(
        Session.account == holder.id, Session.ended_at == at,
        Session.ended_reason == "account_deleted").execute()
    return _Closed(phone, send_id, traces, language)


def drop_other_claims(email_key: str, keeper: int) -> None:
    """The email is `keeper`'s alone now: other sign-ups still waiting to claim it go."""
    waiting = [c.account_id for c in EmailClaim.select().where(EmailClaim.email_key == email_key,
                                                              EmailClaim.account != keeper)]
    if waiting:
        Account.delete().where(Account.id.in_(waiting), Account.status == "unverified").execute()
        EmailClaim.delete().where(EmailClaim.account.in_(waiting)).execute()


def tell_closed(closed: _Closed, email: str) -> None:
    from core.deletion import remove_traces

    remove_traces(closed.traces)
    if closed.phone is None:
        return
    try:
        send_sms(closed.phone, notices.account_closed_sms(email, closed.language))
    except DeliveryError:
        if closed.send_id is not None:
            forget_send(closed.send_id)


def confirm_code(token: str | None, purpose: str, channel: str, code: str | None,
                 phone: str | None = None) -> AccountView:
    """Check the code; on success record the verified channel (and for F2, activate).

    An email claim verified by email takes the address (see the module's docstring). A right
    phone code of a decoy, or of a claim while another account holds the email, raises
    Refused (EMAIL_HAS_ACCOUNT) and the email gets a note."""
    clean = check_code_format(code)
    subject = _subject(token, purpose)
    destination, _ = _destination(subject, channel, phone)
    at = clock.now()
    kind = "email" if channel == "email" else "phone"
    purpose_key = _purpose_key(subject, purpose, channel)

    def never() -> None:
        raise CodeError("Wrong code.")

    if subject.decoy and kind == "email":  # the owner's notice carried no code
        consume_code(subject.account_id, purpose_key, destination, clean, on_success=never)
    if subject.decoy or (subject.claim_key is not None and kind == "phone"
                         and _holder(subject.claim_key, subject.account_id) is not None):
        consume_code(subject.account_id, purpose_key, destination, clean)
        _tell_email_has_account(subject, destination)
        raise Refused(EMAIL_HAS_ACCOUNT, "code")
    closed: list[_Closed] = []

    def record() -> None:
        changes: dict = {}
        if subject.claim_key is not None:
            holder = _holder(subject.claim_key, subject.account_id)
            if holder is not None:
                if kind != "email" or not email_is_claimable(holder):
                    raise Refused(EMAIL_HAS_ACCOUNT, "code")
                closed.append(close_holder(holder, subject.asker, at))
            EmailClaim.delete().where(EmailClaim.account == subject.account_id).execute()
            changes[Account.email_key] = subject.claim_key
        if kind == "email":
            changes[Account.email_verified_at] = at
            key = subject.claim_key or Account.get_by_id(subject.account_id).email_key
            drop_other_claims(key, subject.account_id)
        else:
            changes[Account.phone] = destination
            changes[Account.phone_verified_at] = at
        if purpose == "signup":
            changes[Account.status] = "active"
            changes[Account.verified_channel] = kind
        Account.update(changes).where(Account.id == subject.account_id).execute()

    consume_code(subject.account_id, purpose_key, destination, clean, on_success=record)
    for each in closed:
        tell_closed(each, subject.email)
    return account_view(Account.get_by_id(subject.account_id))
