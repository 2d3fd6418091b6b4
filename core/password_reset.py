"""F12 forgotten password: a code to the email (or the verified phone), a new password twice,
and the reset; with virtual MFA on, an authenticator or recovery code as well.

Enumeration-safe
- An email with no live account and one whose account never verified it (SPEC: "treated as
  unknown") go through exactly the same flow as a known one: the same `ResetState` with the same
  fields, the same refusals in the same words at the same moments, the same caps, the same work
  (a code is drawn and keyed-hashed for both), and nothing is sent. No code can ever be right for
  them. The phone choice is offered to everyone and never shows the number: a known account
  with a verified phone gets an SMS, everyone else nothing.
- F2's code rules (60 s between sends, 5 sends an hour per destination, 10 minutes, 5 tries per
  code, 10 failures in a row lock for 15 minutes whatever resends) are counted here, per email
  key, for every email alike, from the flow's events in `LogonAttempt` (kind `reset`: `sent_…`,
  `failed`, `ok`, `locked`; kept a day for emails without an account). A known account's codes
  are issued and checked by core.verification (keyed hash, voiding, single use), whose own counts
  then agree with these and never refuse first. Every send also counts against the message caps
  of the client address and the global ceiling (core.message_caps), without an account for
  anyone (a count per account would tell which emails have one).
- Left: delivering an email takes time only for a known email (SMTP especially); a queue that
  sends after the answer would hide that too.

The reset ends every session of the account (every process sees it at its next check), removes
every trusted SSH key, ends pending MFA log-on steps, and mails a notice (core.notices). It does
not log on: the person logs on with the new password. Resetting the password is a step-up action
(F13): with MFA on its proof is the code plus an authenticator or recovery code; without either,
nothing changes and the refusal says how to reach support.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import fn

from core import clock
from core.config import settings
from core.db import transaction
from core.errors import CodeError, DomainError, LockedError, Refused
from core.forms import FormCheck
from core.hashing import hash_password, keyed_hash, new_token, token_hash
from core.i18n import N_, phrase
from core.message_caps import Asker, count_against_caps, watch_ceiling
from core.models import Account, LogonAttempt, PasswordReset, PendingLogOn, TrustedKey
from core.sessions import address_key, end_account_sessions
from core.validation import (
    check_code_format,
    check_email,
    check_password,
    check_password_confirmation,
    mask_email,
)
from core.verification import (
    CODE_EXPIRED,
    CODE_LIFETIME,
    FAILURES_BEFORE_LOCK,
    LOCK_DURATION,
    NO_VALID_CODE,
    NOW_LOCKED,
    RESEND_COOLDOWN,
    SENDS_PER_HOUR,
    TRIES_PER_CODE,
    consume_code,
    cooldown_refusal,
    hourly_refusal,
    issue_code,
    locked_refusal,
    wrong_code_refusal,
)
from core.wording import joined, verbatim

PURPOSE = "password_reset"
KIND = "reset"
FLOW_LIFETIME = timedelta(hours=1)
KEEP_FLOWS = timedelta(days=1)
CHANNELS = ("email", "sms")
CODE_FIELD = "reset-code"
PHONE_SHOWN = N_("the phone number verified on the account")
FLOW_EXPIRED = N_("This reset has expired. Enter your email again to get a new code.")


class MfaCodeNeeded(DomainError):
    """The right reset code, for an account with virtual MFA: the authenticator or a recovery
    code is needed too (the console shows `#mfa-code`). Nothing has changed."""

    field = "mfa-code"


def _support_hint() -> str:
    return phrase("If you have neither your authenticator app nor a recovery code, contact "
                  "{support}: nothing has been changed.", support=verbatim(settings().support))


@dataclass(frozen=True)
class ResetState:
    """What the Forgot password screen shows; the same fields whatever the email."""

    reset_token: str
    channel: str  # email | sms
    destination_masked: str  # the email typed, masked; PHONE_SHOWN for the phone
    sent: bool
    resend_in: int  # seconds until a new code may be asked for
    tries_left: int
    expires_at: datetime  # the flow's end


@dataclass(frozen=True)
class PasswordResetDone:
    sessions_ended: int
    keys_removed: int


# --- the flow and its counts -------------------------------------------------------------------

def _resettable(email_key: str) -> Account | None:
    """The live account whose verified email this is (an unverified one counts as unknown)."""
    return Account.get_or_none(Account.email_key == email_key,
                               Account.status.in_(("active", "deletion_pending")),
                               Account.email_verified_at.is_null(False))


def _events(email_key: str):
    return LogonAttempt.select().where(LogonAttempt.email_key == email_key,
                                       LogonAttempt.kind == KIND)


def _event(flow: PasswordReset, result: str, at: datetime) -> None:
    LogonAttempt.create(at=at, email_key=flow.email_key, account_id=flow.account_id,
                        origin=address_key(flow.origin), kind=KIND, result=result)


def _sent_result(channel: str) -> str:
    return f"sent_{channel}"


def _last_send(email_key: str, channel: str) -> datetime | None:
    return (_events(email_key).where(LogonAttempt.result == _sent_result(channel))
            .select(fn.MAX(LogonAttempt.at)).scalar())


def _sends_last_hour(email_key: str, channel: str, at: datetime):
    return _events(email_key).where(LogonAttempt.result == _sent_result(channel),
                                    LogonAttempt.at > at - timedelta(hours=1))


def _lock_state(email_key: str, at: datetime) -> tuple[int, datetime | None]:
    """(failures in a row, locked until) — the count restarts after a right code or a lock."""
    restart = (_events(email_key).where(LogonAttempt.result.in_(("ok", "locked")))
               .order_by(LogonAttempt.at.desc(), LogonAttempt.id.desc()).first())
    locked_until = None
    if restart is not None and restart.result == "locked":
        until = restart.at + LOCK_DURATION
        locked_until = until if until > at else None
    failures = _events(email_key).where(LogonAttempt.result == "failed")
    if restart is not None:
        failures = failures.where(LogonAttempt.id > restart.id)
    return failures.count(), locked_until


def _minutes(until: datetime, at: datetime) -> int:
    return max(1, int((until - at).total_seconds() + 59) // 60)


def _refuse_if_locked(email_key: str, at: datetime) -> None:
    _, until = _lock_state(email_key, at)
    if until is not None:
        raise locked_refusal(_minutes(until, at), CODE_FIELD)


def _newest_flow_sent(email_key: str) -> PasswordReset | None:
    return (PasswordReset.select().where(PasswordReset.email_key == email_key,
                                         PasswordReset.sent_at.is_null(False))
            .order_by(PasswordReset.sent_at.desc(), PasswordReset.id.desc()).first())


def _code_live(flow: PasswordReset, at: datetime) -> str | None:
    """None when the flow's last code can still be tried, else why not (F2's words)."""
    newest = _newest_flow_sent(flow.email_key)
    if flow.sent_at is None or newest is None or newest.id != flow.id:
        return NO_VALID_CODE  # never sent, or a newer code (of another flow) voided it
    if flow.sent_at + CODE_LIFETIME < at:
        return CODE_EXPIRED
    if flow.tries >= TRIES_PER_CODE:
        return NO_VALID_CODE
    return None


def _state(flow: PasswordReset, token: str, at: datetime) -> ResetState:
    channel = flow.channel or "email"
    last = _last_send(flow.email_key, channel)
    resend_in = 0
    if last is not None:
        resend_in = max(0, int((last + RESEND_COOLDOWN - at).total_seconds() + 0.999))
    failures, _ = _lock_state(flow.email_key, at)
    live = _code_live(flow, at) is None
    tries = TRIES_PER_CODE - flow.tries if live else 0
    masked = mask_email(flow.email_key) if channel == "email" else PHONE_SHOWN
    return ResetState(token, channel, masked, live, resend_in,
                      max(0, min(tries, FAILURES_BEFORE_LOCK - failures)), flow.expires_at)


def _flow(reset_token: str | None, at: datetime) -> PasswordReset:
    row = PasswordReset.get_or_none(PasswordReset.token_hash == token_hash(reset_token or ""))
    if row is None or row.completed_at is not None or row.expires_at < at:
        raise Refused(FLOW_EXPIRED, "reset-email")
    return row


def _prune(at: datetime) -> None:
    """Flows end within the hour; what emails without an account left goes after a day."""
    PasswordReset.delete().where(PasswordReset.expires_at < at - KEEP_FLOWS).execute()
    LogonAttempt.delete().where(LogonAttempt.kind == KIND, LogonAttempt.account_id.is_null(),
                                LogonAttempt.at < at - KEEP_FLOWS).execute()


# --- sending -----------------------------------------------------------------------------------

def _destination(account: Account | None, channel: str) -> str | None:
    """Where a known account's code goes: its email, or its verified phone."""
    if account is None:
        return None
    if channel == "email":
        return account.email
    return account.phone if account.phone and account.phone_verified_at else None


def _deliverer(channel: str, destination: str):
    from core.delivery import send_email, send_sms
    from core.notices import code_email, code_sms

    if channel == "email":
        def by_email(code: str) -> None:
            words = code_email(PURPOSE, code)
            send_email(destination, words.subject, words.body)
        return by_email
    return lambda code: send_sms(destination, code_sms(PURPOSE, code))


def _with_field(exc: DomainError) -> DomainError:
    if exc.field in (None, "code"):
        exc.field = CODE_FIELD
    return exc


def _send(flow: PasswordReset, token: str, channel: str) -> ResetState:
    import secrets

    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    watch_ceiling()
    at = clock.now()
    key = flow.email_key
    _refuse_if_locked(key, at)
    last = _last_send(key, channel)
    if last is not None and last + RESEND_COOLDOWN > at:
        raise cooldown_refusal(int((last + RESEND_COOLDOWN - at).total_seconds() + 0.999),
                               CODE_FIELD)
    this_hour = _sends_last_hour(key, channel, at)
    if this_hour.count() >= SENDS_PER_HOUR:
        oldest = this_hour.select(fn.MIN(LogonAttempt.at)).scalar()
        raise hourly_refusal(_minutes(oldest + timedelta(hours=1), at), CODE_FIELD)
    account = _resettable(key) if flow.account_id is not None else None
    destination = _destination(account, channel)
    asker = Asker(None, None, flow.origin)
    try:
        if destination is not None:
            issue_code(account.id, PURPOSE, destination, channel,
                       _deliverer(channel, destination), asker=asker)
        else:
            # The same work as a real code (drawn, keyed-hashed, counted), and nothing sent.
            keyed_hash("code", "0", PURPOSE, key, f"{secrets.randbelow(1_000_000):06d}")
            with transaction():
                count_against_caps(asker, channel, key if channel == "email"
                                   else f"reset-phone:{key}")
    except DomainError as exc:
        raise _with_field(exc) from None
    with transaction():
        _event(flow, _sent_result(channel), at)
        PasswordReset.update(channel=channel, sent_at=at, tries=0, code_ok_at=None).where(
            PasswordReset.id == flow.id).execute()
    return _state(PasswordReset.get_by_id(flow.id), token, at)


def start_password_reset(email: str | None, *, origin: str = "local") -> ResetState:
    """**Send** on the Forgot password screen: a 6-digit code to the email, when it is the
    verified email of a live account; the same answer, and nothing sent, when it is not.
    Field `reset-email` for an email that cannot be one; `reset-code` for the code limits."""
    address = check_email(email, "reset-email")
    at = clock.now()
    token = new_token()
    with transaction():
        _prune(at)
        account = _resettable(address.key)
        row = PasswordReset.create(token_hash=token_hash(token), email_key=address.key,
                                   account_id=account.id if account is not None else None,
                                   origin=(origin or "local")[:100], created_at=at,
                                   expires_at=at + FLOW_LIFETIME)
    return _send(row, token, "email")


def send_reset_code(reset_token: str | None, channel: str = "email") -> ResetState:
    """Send a new code (resend), by email or (`sms`) to the account's verified phone. The
    phone is offered to everyone: nothing is sent when there is none."""
    at = clock.now()
    return _send(_flow(reset_token, at), reset_token or "", channel)


def reset_state(reset_token: str | None) -> ResetState:
    """The countdown, tries left and destination, without sending anything."""
    at = clock.now()
    return _state(_flow(reset_token, at), reset_token or "", at)


# --- checking the code and resetting -----------------------------------------------------------

def _check_code(flow: PasswordReset, code: str, at: datetime) -> None:
    """The right code marks the flow (`code_ok_at`); a wrong one is counted, for every email
    alike, and raises in F2's words."""
    _refuse_if_locked(flow.email_key, at)
    unusable = _code_live(flow, at)
    account = _resettable(flow.email_key) if flow.account_id is not None else None
    right = False
    if unusable is None:
        if account is not None and account.id == flow.account_id:
            destination = _destination(account, flow.channel or "email")
            if destination is not None:
                try:
                    consume_code(account.id, PURPOSE, destination, code)
                    right = True
                except (CodeError, LockedError):
                    right = False
        else:
            keyed_hash("code", "0", PURPOSE, flow.email_key, code)  # the same work
    with transaction():
        if right:
            _event(flow, "ok", at)
            PasswordReset.update(code_ok_at=at).where(PasswordReset.id == flow.id).execute()
            return
        _event(flow, "failed", at)
        if unusable is None:
            PasswordReset.update(tries=PasswordReset.tries + 1).where(
                PasswordReset.id == flow.id).execute()
        failures, _ = _lock_state(flow.email_key, at)
        if failures >= FAILURES_BEFORE_LOCK:
            _event(flow, "locked", at)
    if failures >= FAILURES_BEFORE_LOCK:
        raise LockedError(NOW_LOCKED, CODE_FIELD)
    if unusable is not None:
        raise CodeError(unusable, CODE_FIELD)
    tries_left = TRIES_PER_CODE - (flow.tries + 1)
    raise wrong_code_refusal(min(tries_left, FAILURES_BEFORE_LOCK - failures), CODE_FIELD)


def complete_password_reset(reset_token: str | None, code: str | None, password: str | None,
                            confirmation: str | None,
                            mfa_code: str | None = None) -> PasswordResetDone:
    """**Reset**: the code (`reset-code`), the new password twice (`reset-password`,
    `reset-password-confirm`: F1's rules, every field's refusal at once), and with MFA on the
    authenticator or a recovery code (`mfa-code`; MfaCodeNeeded when it is missing). Once the
    code was right it is not asked again within its 10 minutes (the MFA code may come second).
    Ends every session, removes every trusted key, and notifies."""
    from core.mfa import mfa_enabled, use_second_factor
    from core.notices import notify_password_reset

    at = clock.now()
    flow = _flow(reset_token, at)
    code_ok = flow.code_ok_at is not None and flow.code_ok_at + CODE_LIFETIME >= at
    form = FormCheck()
    clean_code = None if code_ok else form.check(check_code_format, code, CODE_FIELD)
    new = form.check(check_password, password, check_email(flow.email_key),
                     field="reset-password")
    form.check(check_password_confirmation, password, confirmation,
               field="reset-password-confirm")
    form.raise_errors()
    if not code_ok:
        _check_code(flow, clean_code or "", at)
    account = _resettable(flow.email_key)
    if account is None or account.id != flow.account_id:
        raise Refused(FLOW_EXPIRED, "reset-email")
    mfa = mfa_enabled(account.id)
    if mfa and not (mfa_code or "").strip():
        raise MfaCodeNeeded(phrase("This account has virtual MFA: enter the code from your "
                                   "authenticator app, or one of your recovery codes. {help}",
                                   help=_support_hint()))
    new_hash = hash_password(new or "")  # slow: before the transaction
    done: list[PasswordResetDone] = []

    def reset() -> None:
        changed = Account.update(password_hash=new_hash, password_changed_at=at).where(
            Account.id == account.id, Account.status.in_(("active", "deletion_pending"))
        ).execute()
        claimed = PasswordReset.update(completed_at=at).where(
            PasswordReset.id == flow.id, PasswordReset.completed_at.is_null()).execute()
        if changed != 1 or claimed != 1:
            raise Refused(FLOW_EXPIRED, "reset-email")
        PasswordReset.update(expires_at=at).where(PasswordReset.email_key == flow.email_key,
                                                  PasswordReset.completed_at.is_null()).execute()
        ended = end_account_sessions(account.id, "password_reset")
        PendingLogOn.update(ended_at=at).where(PendingLogOn.account == account.id,
                                               PendingLogOn.ended_at.is_null()).execute()
        keys = TrustedKey.delete().where(TrustedKey.account == account.id).execute()
        done.append(PasswordResetDone(ended, keys))

    if mfa:
        try:
            use_second_factor(account, mfa_code, origin=flow.origin, field="mfa-code",
                              on_success=reset)
        except (CodeError, LockedError) as exc:
            raise type(exc)(joined([exc.message, _support_hint()]), "mfa-code") from None
    else:
        with transaction():
            reset()
    notify_password_reset(account.id, origin=flow.origin, at=at)
    return done[0]


def forget_resets(account_id: int, email_key: str) -> None:
    """Erase the account's reset flows (F10), inside the erasure."""
    PasswordReset.delete().where((PasswordReset.account_id == account_id)
                                 | (PasswordReset.email_key == email_key)).execute()
