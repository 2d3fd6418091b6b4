"""One-time codes (F2 rules, also used by F4 and Paytm in F5).

A code is 6 digits from a CSPRNG, valid 10 minutes, single use, stored as a keyed hash bound to
account + purpose + destination. A new code voids the previous one. Resend cooldown 60 s; at
most 5 sends per destination per hour; 5 wrong tries burn a code; 10 consecutive failures lock
the verification for 15 minutes, and a resend does not reset that count.

The hourly cap of a destination counts only the codes the same account asked for (SPEC "Abuse
limits"): sends by other accounts, or by strangers' sign-ups with this account's email, cannot
block anyone's own codes. Every send also counts against the message caps of the session, the
account, the client address and the global ceiling (core.message_caps).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import fn

from core import clock
from core.db import transaction
from core.errors import CodeError, LockedError, RateLimitError
from core.hashing import keyed_hash
from core.i18n import N_, phrase
from core.message_caps import Asker, count_against_caps, watch_ceiling
from core.models import Code, MessageSend, VerificationLock
from core.wording import count

CODE_LIFETIME = timedelta(minutes=10)
RESEND_COOLDOWN = timedelta(seconds=60)
SENDS_PER_HOUR = 5
TRIES_PER_CODE = 5
FAILURES_BEFORE_LOCK = 10
LOCK_DURATION = timedelta(minutes=15)
# What strangers' sign-ups with an account's email send (the owner's notice, the code to the
# stranger's phone) is limited on its own: counted with the account's codes, a stranger's 5
# sign-up attempts would block the owner's own codes for an hour.
NOTICE_PURPOSES = ("signup_notice", "signup_decoy")
# Reset codes (F12) are asked for by whoever types an email, so they have a count of their own
# too: strangers' resets cannot block the owner's other codes, and the owner's other codes
# cannot make a known email's resets reach the cap sooner than an unknown one's
# (core.password_reset counts the same for every email).
RESET_PURPOSES = ("password_reset",)
_SEPARATE_COUNTS = (NOTICE_PURPOSES, RESET_PURPOSES)


def _counted_with(purpose: str):
    """The codes whose sends count with `purpose`'s towards a destination's hourly cap."""
    for group in _SEPARATE_COUNTS:
        if purpose in group:
            return Code.purpose.in_(group)
    return Code.purpose.not_in([p for group in _SEPARATE_COUNTS for p in group])


@dataclass(frozen=True)
class CodeStatus:
    """What the Verify screen shows about one destination."""

    destination: str
    sent: bool  # a usable code is out
    resend_in: int  # seconds until Send may be pressed again (0: now)
    tries_left: int
    locked_until: datetime | None
    expires_at: datetime | None


# The words of every refusal, shared with flows that keep F2's counts themselves
# (core.password_reset counts the same way for an email with and without an account).

def cooldown_refusal(wait_seconds: int, field: str = "code") -> RateLimitError:
    return RateLimitError(phrase("Please wait {wait} before asking for a new code.",
                               wait=count(wait_seconds, "second")), field)


def hourly_refusal(minutes: int, field: str = "code") -> RateLimitError:
    return RateLimitError(phrase(
        "{sends} were sent to this destination in the last hour. Try again in {wait}.",
        sends=count(SENDS_PER_HOUR, "code"), wait=count(minutes, "minute")), field)


def locked_refusal(minutes: int, field: str = "code") -> LockedError:
    return LockedError(phrase("Too many wrong codes. This verification is locked for {wait} "
                            "more; try again then.", wait=count(minutes, "minute")), field)


def wrong_code_refusal(tries_left: int, field: str = "code") -> CodeError:
    if tries_left <= 0:
        return CodeError("Wrong code. This code can no longer be used: press Send to get a new "
                         "one.", field)
    return CodeError(phrase("Wrong code. {left} left.", left=count(tries_left, "try", "tries")),
                     field)


NO_VALID_CODE = N_("There is no valid code for this destination. Press Send to get a new one.")
CODE_EXPIRED = N_("This code has expired (codes last 10 minutes). Press Send to get a new one.")
NOW_LOCKED = N_("Too many wrong codes. This verification is locked for 15 minutes.")


def _code_hash(account_id: int, purpose: str, destination: str, code: str) -> str:
    return keyed_hash("code", str(account_id), purpose, destination, code)


def _lock_row(account_id: int, purpose: str) -> VerificationLock | None:
    return VerificationLock.get_or_none(VerificationLock.account == account_id,
                                        VerificationLock.purpose == purpose)


def _minutes_until(moment: datetime, at: datetime) -> int:
    return max(1, int((moment - at).total_seconds() + 59) // 60)


def _raise_if_locked(account_id: int, purpose: str, at: datetime) -> None:
    lock = _lock_row(account_id, purpose)
    if lock is not None and lock.locked_until is not None and lock.locked_until > at:
        raise locked_refusal(_minutes_until(lock.locked_until, at))


def _live_code(account_id: int, purpose: str, destination: str) -> Code | None:
    return (Code.select()
            .where(Code.account == account_id, Code.purpose == purpose,
                   Code.destination == destination, Code.delivered_at.is_null(False),
                   Code.used_at.is_null(), Code.voided_at.is_null())
            .order_by(Code.created_at.desc(), Code.id.desc()).first())


def _last_delivered(account_id: int, purpose: str, destination: str) -> Code | None:
    return (Code.select()
            .where(Code.account == account_id, Code.purpose == purpose,
                   Code.destination == destination, Code.delivered_at.is_null(False))
            .order_by(Code.delivered_at.desc(), Code.id.desc()).first())


def code_status(account_id: int, purpose: str, destination: str) -> CodeStatus:
    at = clock.now()
    lock = _lock_row(account_id, purpose)
    failures = lock.failures if lock else 0
    locked_until = lock.locked_until if lock and lock.locked_until and lock.locked_until > at \
        else None
    last = _last_delivered(account_id, purpose, destination)
    resend_in = 0
    if last is not None:
        resend_in = max(0, int((last.delivered_at + RESEND_COOLDOWN - at).total_seconds() + 0.999))
    live = _live_code(account_id, purpose, destination)
    usable = live is not None and live.expires_at >= at  # valid through its 10th minute
    tries = TRIES_PER_CODE - (live.tries if usable else 0)
    tries_left = max(0, min(tries, FAILURES_BEFORE_LOCK - failures))
    return CodeStatus(destination, usable, resend_in, tries_left, locked_until,
                      live.expires_at if usable else None)


def issue_code(account_id: int, purpose: str, destination: str, channel: str,
               deliver: Callable[[str], None], *, asker: Asker) -> CodeStatus:
    """Make a code, hand it to `deliver`, and record it as sent only once delivery returned.
    `asker` is who asked (core.message_caps): the send counts against its caps.

    If delivery raises, the code row and its count are removed: the cooldown, the hourly
    count and the caps are not spent, and the previous code (if any) still works.
    """
    watch_ceiling()
    at = clock.now()
    with transaction():
        _raise_if_locked(account_id, purpose, at)
        last = _last_delivered(account_id, purpose, destination)
        if last is not None and last.delivered_at + RESEND_COOLDOWN > at:
            wait = int((last.delivered_at + RESEND_COOLDOWN - at).total_seconds() + 0.999)
            raise cooldown_refusal(wait)
        this_hour = (Code.account == account_id, Code.destination == destination,
                     _counted_with(purpose),
                     Code.delivered_at > at - timedelta(hours=1))
        sent_last_hour = Code.select(fn.COUNT(Code.id)).where(*this_hour).scalar()
        if sent_last_hour >= SENDS_PER_HOUR:
            oldest = Code.select(fn.MIN(Code.delivered_at)).where(*this_hour).scalar()
            raise hourly_refusal(_minutes_until(oldest + timedelta(hours=1), at))
        send_id = count_against_caps(asker, channel, destination)
        code = f"{secrets.randbelow(1_000_000):06d}"
        row = Code.create(account=account_id, purpose=purpose, destination=destination,
                          channel=channel, code_hash=_code_hash(account_id, purpose,
                                                                destination, code),
                          created_at=at, expires_at=at + CODE_LIFETIME)
    try:
        deliver(code)
    except BaseException:
        with transaction():
            Code.delete().where(Code.id == row.id).execute()
            MessageSend.delete().where(MessageSend.id == send_id).execute()
        raise
    with transaction():
        Code.update(voided_at=at).where(
            Code.account == account_id, Code.purpose == purpose, Code.id != row.id,
            Code.used_at.is_null(), Code.voided_at.is_null()).execute()
        Code.update(delivered_at=at).where(Code.id == row.id).execute()
    return code_status(account_id, purpose, destination)


def _record_failure(account_id: int, purpose: str, code_id: int | None, at: datetime) -> int:
    """Count one failure in SQL; lock after 10 in a row. Returns the failures so far."""
    VerificationLock.insert(account=account_id, purpose=purpose, failures=0).on_conflict_ignore(
    ).execute()
    VerificationLock.update(failures=VerificationLock.failures + 1).where(
        VerificationLock.account == account_id, VerificationLock.purpose == purpose).execute()
    if code_id is not None:
        Code.update(tries=Code.tries + 1).where(Code.id == code_id).execute()
        Code.update(voided_at=at).where(Code.id == code_id,
                                        Code.tries >= TRIES_PER_CODE).execute()
    failures = _lock_row(account_id, purpose).failures
    if failures >= FAILURES_BEFORE_LOCK:
        VerificationLock.update(locked_until=at + LOCK_DURATION, failures=0).where(
            VerificationLock.account == account_id,
            VerificationLock.purpose == purpose).execute()
    return failures


def consume_code(account_id: int, purpose: str, destination: str, code: str,
                 on_success: Callable[[], None] | None = None) -> None:
    """Check `code`; on success mark it used and run `on_success` in the same transaction.

    Raises CodeError (wrong, expired, used up) or LockedError. Failures are committed even
    though an error is raised.
    """
    at = clock.now()
    failure: CodeError | LockedError | None = None
    with transaction():
        _raise_if_locked(account_id, purpose, at)
        live = _live_code(account_id, purpose, destination)
        if live is None:
            _record_failure(account_id, purpose, None, at)
            failure = CodeError(NO_VALID_CODE)
        elif live.expires_at < at:
            Code.update(voided_at=at).where(Code.id == live.id).execute()
            _record_failure(account_id, purpose, None, at)
            failure = CodeError(CODE_EXPIRED)
        elif not hmac.compare_digest(live.code_hash,
                                     _code_hash(account_id, purpose, destination, code)):
            failures = _record_failure(account_id, purpose, live.id, at)
            tries_left = TRIES_PER_CODE - (live.tries + 1)
            if failures >= FAILURES_BEFORE_LOCK:
                failure = LockedError(NOW_LOCKED, "code")
            else:
                failure = wrong_code_refusal(min(tries_left, FAILURES_BEFORE_LOCK - failures))
        else:
            updated = Code.update(used_at=at).where(Code.id == live.id,
                                                    Code.used_at.is_null()).execute()
            if updated != 1:
                failure = CodeError("This code was already used. Press Send to get a new one.")
            else:
                VerificationLock.update(failures=0, locked_until=None).where(
                    VerificationLock.account == account_id,
                    VerificationLock.purpose == purpose).execute()
                if on_success is not None:
                    on_success()
    if failure is not None:
        raise failure
