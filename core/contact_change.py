"""F14 change email / change phone: step-up, a code to the new address or number, confirm.

- Both start and confirm need a recent step-up (core.step_up): the code proves the new address,
  not who is typing.
- The code follows F2's rules (core.verification, purposes `change_email` and `change_phone`)
  and counts against the message caps of the session. A phone must belong to the account's
  country (core.validation.check_phone).
- Confirming keeps the account's id; the new email becomes the log-on id (verified now), the new
  number the verified phone. The old address gets a notice (counted while it is still the
  account's, core.notices.reserve), the new one too.
- An email held by another live account that verified it: the flow looks exactly the same to
  the person (a code is "sent" and counted, with the same countdown and tries), but no code
  goes out: the holder gets a notice instead, and no code can be right (the decoy of
  core.verify_account). Only the holder learns that someone tried.
- An email held by an account that never verified it (an email claim, issue 11): the person
  gets a real code, and confirming takes the address as verifying it by email does at sign-up:
  the holder, which holds nothing of value, is closed and told by SMS, and sign-ups still
  waiting to claim the address are dropped.
Refusals name the field `change` (CONTRACT `#change-error`).
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import IntegrityError

from core import clock
from core.accounts import LIVE, AccountView, account_view, email_is_claimable
from core.errors import CodeError, DomainError, Refused, ValidationError
from core.message_caps import asker_of
from core.models import Account
from core.sessions import require_account, session_origin
from core.step_up import require_step_up
from core.validation import check_code_format, check_email, check_phone, mask_email, mask_phone
from core.verification import CodeStatus, code_status, consume_code, issue_code

FIELD = "change"
EMAIL_PURPOSE = "change_email"
PHONE_PURPOSE = "change_phone"
PHONE_CHANNELS = ("sms", "voice")


@dataclass(frozen=True)
class ChangeState:
    """What the change form shows while the code is out."""

    kind: str  # email | phone
    channel: str  # email | sms | voice
    destination_masked: str
    status: CodeStatus


def _field(exc: DomainError) -> DomainError:
    exc.field = FIELD
    return exc


def _changer(token: str | None, action: str) -> Account:
    account = require_account(token)
    if account.status not in ("active", "deletion_pending"):
        raise Refused("Verify your account first.", FIELD)
    require_step_up(token, action)
    return account


def _holder(email_key: str, account_id: int) -> Account | None:
    return Account.get_or_none(Account.email_key == email_key, Account.status.in_(LIVE),
                               Account.id != account_id)


def _new_email(account: Account, text: str | None):
    address = check_email(text, FIELD)
    if address.key == account.email_key:
        raise ValidationError("This is already the email address of your account.", FIELD)
    return address


# --- email -------------------------------------------------------------------------------------

def start_email_change(token: str | None, new_email: str | None) -> ChangeState:
    """Send a code to the new address (`#new-email`, `#change-send`)."""
    from core.delivery import send_email
    from core.notices import email_change_attempt
    from core.verify_account import code_deliverer

    account = _changer(token, "change_email")
    address = _new_email(account, new_email)
    holder = _holder(address.key, account.id)
    if holder is not None and not email_is_claimable(holder):
        origin = session_origin(token)

        def deliver(_code: str) -> None:  # the owner is told; the code goes nowhere
            words = email_change_attempt(clock.now(), origin)
            send_email(holder.email, words.subject, words.body)
    else:
        deliver = code_deliverer(EMAIL_PURPOSE, "email", address.address)
    try:
        status = issue_code(account.id, EMAIL_PURPOSE, address.address, "email", deliver,
                            asker=asker_of(token))
    except DomainError as exc:
        raise _field(exc) from None
    return ChangeState("email", "email", mask_email(address.address), status)


def confirm_email_change(token: str | None, new_email: str | None,
                         code: str | None) -> AccountView:
    """The code (`#change-code`, `#change-confirm`): the new address is the log-on id now."""
    from core.notices import notify_email_changed, reserve
    from core.verify_account import close_holder, drop_other_claims, tell_closed

    account = _changer(token, "change_email")
    address = _new_email(account, new_email)
    clean = check_code_format(code, FIELD)
    asker = asker_of(token)
    at = clock.now()
    old_email = account.email
    closed = []
    reserved = []

    def apply() -> None:
        holder = _holder(address.key, account.id)
        if holder is not None:
            if not email_is_claimable(holder):
                raise CodeError("Wrong code.", FIELD)  # a decoy's code: never right
            closed.append(close_holder(holder, asker, at))
        current = Account.get_by_id(account.id)
        if current.email_verified_at is not None:
            reserved.append(reserve(account.id, "email", current.email, asker.origin))
        Account.update(email=address.address, email_key=address.key,
                       email_verified_at=at).where(Account.id == account.id).execute()
        drop_other_claims(address.key, account.id)

    try:
        consume_code(account.id, EMAIL_PURPOSE, address.address, clean, on_success=apply)
    except IntegrityError:
        raise Refused("This email address cannot be used. Choose another one.",
                      FIELD) from None
    except DomainError as exc:
        raise _field(exc) from None
    for each in closed:
        tell_closed(each, address.address)
    notify_email_changed(account.id, old_email, address.address,
                         reserved[0] if reserved else None, origin=asker.origin, at=at)
    return account_view(Account.get_by_id(account.id))


def email_change_state(token: str | None, new_email: str | None) -> ChangeState:
    """The countdown and tries left for the new address, without sending anything."""
    account = require_account(token)
    address = _new_email(account, new_email)
    return ChangeState("email", "email", mask_email(address.address),
                       code_status(account.id, EMAIL_PURPOSE, address.address))


# --- phone -------------------------------------------------------------------------------------

def _new_phone(account: Account, text: str | None, channel: str) -> str:
    if channel not in PHONE_CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    number = check_phone(text, account.country, for_sms=channel == "sms", field=FIELD)
    if account.phone_verified_at is not None and number.e164 == account.phone:
        raise ValidationError("This is already the phone number of your account.", FIELD)
    return number.e164


def start_phone_change(token: str | None, new_phone: str | None,
                       channel: str = "sms") -> ChangeState:
    """Send a code to the new number (`#new-phone`, `#change-send`) by SMS or a call."""
    from core.verify_account import code_deliverer

    account = _changer(token, "change_phone")
    e164 = _new_phone(account, new_phone, channel)
    try:
        status = issue_code(account.id, PHONE_PURPOSE, e164, channel,
                            code_deliverer(PHONE_PURPOSE, channel, e164), asker=asker_of(token))
    except DomainError as exc:
        raise _field(exc) from None
    return ChangeState("phone", channel, mask_phone(e164), status)


def confirm_phone_change(token: str | None, new_phone: str | None, code: str | None,
                         channel: str = "sms") -> AccountView:
    """The code: the new number is the account's verified phone now."""
    from core.notices import notify_phone_changed, reserve

    account = _changer(token, "change_phone")
    e164 = _new_phone(account, new_phone, channel)
    clean = check_code_format(code, FIELD)
    origin = session_origin(token)
    at = clock.now()
    old_phone = account.phone if account.phone and account.phone_verified_at else None
    reserved = []

    def apply() -> None:
        reserved.append(reserve(account.id, "sms", old_phone, origin))
        Account.update(phone=e164, phone_verified_at=at).where(
            Account.id == account.id).execute()

    try:
        consume_code(account.id, PHONE_PURPOSE, e164, clean, on_success=apply)
    except DomainError as exc:
        raise _field(exc) from None
    notify_phone_changed(account.id, old_phone, e164, reserved[0] if reserved else None,
                         origin=origin, at=at)
    return account_view(Account.get_by_id(account.id))


def phone_change_state(token: str | None, new_phone: str | None,
                       channel: str = "sms") -> ChangeState:
    account = require_account(token)
    e164 = _new_phone(account, new_phone, channel)
    return ChangeState("phone", channel, mask_phone(e164),
                       code_status(account.id, PHONE_PURPOSE, e164))
