"""Verifying an email or phone with a one-time code: F2 (activate the account) and the second
channel of F4 (the one F2 did not use).

Purposes: `signup` (F2) and `second_channel` (F4). Channels: `email`, `sms`, `voice`. A decoy
session (a sign-up with an email that already has a live account) goes through the same steps
and the same limits, but its codes can never be confirmed and the owner gets a notice.
"""

from __future__ import annotations

from dataclasses import dataclass

from core import clock
from core.accounts import AccountView, account_view
from core.config import settings
from core.delivery import place_call, send_email, send_sms
from core.errors import CodeError, Refused, SessionExpired, ValidationError
from core.models import Account, Session
from core.sessions import reason_message, require_account, resolve_session
from core.validation import check_code_format, check_phone, mask_email, mask_phone
from core.verification import CodeStatus, code_status, consume_code, issue_code

PURPOSES = ("signup", "second_channel")
CHANNELS = ("email", "sms", "voice")


@dataclass(frozen=True)
class VerifyState:
    """What the Verify screen shows for one destination."""

    channel: str
    destination_masked: str
    status: CodeStatus


@dataclass(frozen=True)
class _Subject:
    """Who a code is for: the real account, or (decoy) the existing owner to notify."""

    account_id: int
    email: str
    country: str
    decoy: bool


def _subject(token: str | None, purpose: str) -> _Subject:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    info = resolve_session(token)
    if info.is_decoy:
        row = Session.get_by_id(info.id)
        owner = Account.get_or_none(Account.id == row.notify_account_id)
        if owner is None or purpose != "signup":
            raise SessionExpired(reason_message("ended"))
        return _Subject(owner.id, owner.email, row.signup_country or owner.country, True)
    account = require_account(token)
    if purpose == "signup" and account.status != "unverified":
        raise Refused("This account is already verified.")
    if purpose == "second_channel" and account.status == "unverified":
        raise Refused("Verify your account first.")
    return _Subject(account.id, account.email, account.country, False)


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
    brand = settings().brand
    if subject.decoy and channel == "email":
        def notice(_code: str) -> None:
            send_email(destination, f"Someone tried to sign up to {brand} with your email",
                       f"Someone tried to create a new {brand} account with this email address, "
                       "which already has an account.\n\nIf it was you, log on with your "
                       "password instead of signing up again. If it was not you, you can "
                       "ignore this email: nothing has changed on your account.")
        return notice
    if subject.decoy:
        return lambda _code: None  # no real account behind it: nothing is sent
    if channel == "email":
        return lambda code: send_email(
            destination, f"Your {brand} verification code",
            f"Your {brand} verification code is {code}.\n\nIt is valid for 10 minutes and "
            "can be used once. If you did not ask for it, you can ignore this email.")
    if channel == "sms":
        return lambda code: send_sms(
            destination, f"{brand}: your verification code is {code}. Valid for 10 minutes.")
    return lambda code: place_call(
        destination, f"Hello, this is {brand}. Your verification code is {code}. "
        "Once more, the code is the same. Goodbye.")


def verify_state(token: str | None, purpose: str, channel: str,
                 phone: str | None = None) -> VerifyState:
    """Masked destination, resend countdown and tries left, without sending anything."""
    subject = _subject(token, purpose)
    destination, masked = _destination(subject, channel, phone)
    status = code_status(subject.account_id, _purpose_key(subject, purpose, channel),
                         destination)
    return VerifyState(channel, masked, status)


def send_code(token: str | None, purpose: str, channel: str,
              phone: str | None = None) -> VerifyState:
    """Send a code by `channel` (Send, Send message, Call immediately)."""
    subject = _subject(token, purpose)
    destination, masked = _destination(subject, channel, phone)
    status = issue_code(subject.account_id, _purpose_key(subject, purpose, channel),
                        destination, channel, _deliverer(subject, channel, destination))
    return VerifyState(channel, masked, status)


def confirm_code(token: str | None, purpose: str, channel: str, code: str | None,
                 phone: str | None = None) -> AccountView:
    """Check the code; on success record the verified channel (and for F2, activate)."""
    clean = check_code_format(code)
    subject = _subject(token, purpose)
    try:
        destination, _ = _destination(subject, channel, phone)
    except ValidationError:
        raise
    at = clock.now()
    kind = "email" if channel == "email" else "phone"

    def never() -> None:
        raise CodeError("Wrong code.")

    def record() -> None:
        changes: dict = {}
        if kind == "email":
            changes[Account.email_verified_at] = at
        else:
            changes[Account.phone] = destination
            changes[Account.phone_verified_at] = at
        if purpose == "signup":
            changes[Account.status] = "active"
            changes[Account.verified_channel] = kind
        Account.update(changes).where(Account.id == subject.account_id).execute()

    consume_code(subject.account_id, _purpose_key(subject, purpose, channel), destination, clean,
                 on_success=never if subject.decoy else record)
    return account_view(Account.get_by_id(subject.account_id))
