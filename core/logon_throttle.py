"""Log-on throttling (SPEC F3 and "Abuse limits"): slow a password guesser down without ever
locking the owner out.

A fixed lock per email (5 failures, 15 minutes) let anyone who knows an email keep its owner
out for good with 5 wrong passwords every 15 minutes. Instead three counts, each kept in SQL
(so every console process and machine counts together), each growing its delay step by step:

1. **One email from one client address** (LogonThrottle, kind `log_on`): 4 failures in a row
   are free; the 5th and each later one make that address wait before it may try that email
   again: 1 minute, then 2, 4, 8, and 15 at most. A success from that address, or an hour
   without a failure, starts it again. An attacker at one address slows only themself: the
   owner at any other address is not affected at all.
2. **One email from every address** (a distributed guesser; LogonAttempt): each address's
   failures of the last 24 hours count, at most 5 per address, so that one address cannot set
   this off alone. From 20, addresses the account has not logged on from in the last 90 days
   wait after the email's latest failure: 1 minute, doubling every 5 more, 15 at most. The
   owner's own addresses are never held back by it. The owner at a new address waits at most
   15 minutes at a time, while a distributed attack goes on; a trusted SSH key still gets in.
   A distributed guesser gets about 4 tries an hour, whatever its number of addresses.
3. **One address for every email** (credential stuffing; LogonAttempt): 30 failures in an hour
   from one SSH address, for any emails, make that address wait after its latest failure: 1
   minute, doubling every 10 more, 15 at most. `local` (the server's own terminal) is not
   counted here.

An unknown email counts and answers exactly like a known one (an unknown email has no owner's
addresses; the attacker's addresses are not the owner's either), with one message for every
delay. The `cloudacct.abuse` log says once when each count starts delaying.

A logged-on person's password re-entry (change password, delete the account) is never refused
by these: it has its own count per account (kind `re_entry`) that only the account's own
sessions can raise (5 wrong in a row, then the same 1 to 15 minutes).

Authenticator and recovery codes (F13) have counts of their own per account, keyed by the
account's id so that changing the email does not start them again: 5 wrong codes in a row,
then the same growing delays. Whoever types one at the second step of a log-on or in a password
reset (kind `mfa`) already knows the password or the mailbox, so that count is the account's,
whatever the address. Codes typed inside a logged-on session (a step-up, disabling MFA; kind
`mfa_step`) count apart, as re-entered passwords do: someone who knows the password and floods
the log-on's code step cannot keep the owner from stepping up to change that password.

Every password check is recorded in LogonAttempt (time, address, email key, result; never the
password), kept 30 days, 1 day for emails without an account.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from peewee import fn

from core.db import transaction
from core.errors import LockedError
from core.i18n import N_, phrase
from core.models import LogonAttempt, LogonThrottle, Session
from core.sessions import address_key
from core.validation import mask_email
from core.wording import count

log = logging.getLogger("cloudacct.abuse")

FREE_FAILURES = 5  # the 5th failure in a row starts the delays
FIRST_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)  # a pair without a failure for this long starts again
ACCOUNT_WINDOW = timedelta(hours=24)
ACCOUNT_PER_ADDRESS = 5  # most failures one address adds to the account-wide count
ACCOUNT_THRESHOLD = 20
ACCOUNT_STEP = 5
ADDRESS_WINDOW = timedelta(hours=1)
ADDRESS_THRESHOLD = 30
ADDRESS_STEP = 10
OWNER_ADDRESSES = timedelta(days=90)
KEEP_ATTEMPTS = timedelta(days=30)
KEEP_UNKNOWN = timedelta(days=1)

LOG_ON = "log_on"
RE_ENTRY = "re_entry"
LOG_ON_MESSAGE = N_("Too many failed log-ons. Try again in {wait}.")
RE_ENTRY_MESSAGE = N_("Too many wrong passwords. Try again in {wait}.")
MFA = "mfa"
MFA_IN_SESSION = "mfa_step"
MFA_MESSAGE = N_("Too many wrong codes. Try again in {wait}.")


def _delay(steps: int) -> timedelta:
    """1 minute for step 0, doubling with each step, 15 minutes at most."""
    return min(MAX_DELAY, FIRST_DELAY * (2 ** min(steps, 10)))


def _minutes(until: datetime, at: datetime) -> int:
    return max(1, int((until - at).total_seconds() + 59) // 60)


def _pair_failures(email_key: str, kind: str, origin: str, at: datetime) -> tuple[int, datetime]:
    row = LogonThrottle.get_or_none(LogonThrottle.email_key == email_key,
                                    LogonThrottle.kind == kind, LogonThrottle.origin == origin)
    if row is None or row.last_failure_at <= at - FORGET_AFTER:
        return 0, at
    return row.failures, row.last_failure_at


def _pair_until(email_key: str, kind: str, origin: str, at: datetime) -> datetime | None:
    failures, last = _pair_failures(email_key, kind, origin, at)
    if failures < FREE_FAILURES:
        return None
    return last + _delay(failures - FREE_FAILURES)


def _account_count(email_key: str, at: datetime) -> int:
    per_address = (LogonAttempt.select(fn.COUNT(LogonAttempt.id).alias("n"))
                   .where(LogonAttempt.email_key == email_key, LogonAttempt.kind == LOG_ON,
                          LogonAttempt.result == "failed",
                          LogonAttempt.at > at - ACCOUNT_WINDOW)
                   .group_by(LogonAttempt.origin))
    return sum(min(row.n, ACCOUNT_PER_ADDRESS) for row in per_address)


def _owners_addresses(account_id: int, at: datetime) -> set[str]:
    rows = (Session.select(Session.origin).distinct()
            .where(Session.account == account_id, Session.created_at > at - OWNER_ADDRESSES))
    return {address_key(row.origin) for row in rows}


def known_addresses(account_id: int, at: datetime) -> set[str]:
    """The address keys the account logged on from in the last 90 days (its sessions)."""
    return _owners_addresses(account_id, at)


def _account_until(email_key: str, origin: str, account_id: int | None,
                   at: datetime) -> datetime | None:
    count = _account_count(email_key, at)
    if count < ACCOUNT_THRESHOLD:
        return None
    if account_id is not None and origin in _owners_addresses(account_id, at):
        return None
    latest = (LogonAttempt.select(fn.MAX(LogonAttempt.at))
              .where(LogonAttempt.email_key == email_key, LogonAttempt.kind == LOG_ON,
                     LogonAttempt.result == "failed").scalar())
    return latest + _delay((count - ACCOUNT_THRESHOLD) // ACCOUNT_STEP)


def _address_failures(origin: str, at: datetime):
    return LogonAttempt.select().where(LogonAttempt.origin == origin, LogonAttempt.kind == LOG_ON,
                                       LogonAttempt.result == "failed",
                                       LogonAttempt.at > at - ADDRESS_WINDOW)


def _address_until(origin: str, at: datetime) -> datetime | None:
    if origin == "local":
        return None
    failures = _address_failures(origin, at)
    count = failures.count()
    if count < ADDRESS_THRESHOLD:
        return None
    latest = failures.select(fn.MAX(LogonAttempt.at)).scalar()
    return latest + _delay((count - ADDRESS_THRESHOLD) // ADDRESS_STEP)


def refuse_throttled_logon(email_key: str, origin: str | None, account_id: int | None,
                           at: datetime) -> None:
    """LockedError (field `log-on`) while this address must wait before trying this email.
    `account_id` is the email's live account, if any (its own addresses are not held back by
    the account-wide count)."""
    where = address_key(origin)
    waits = [_pair_until(email_key, LOG_ON, where, at),
             _account_until(email_key, where, account_id, at),
             _address_until(where, at)]
    until = max((w for w in waits if w is not None), default=None)
    if until is not None and until > at:
        wait = count(_minutes(until, at), "minute")
        raise LockedError(phrase(LOG_ON_MESSAGE, wait=wait), "log-on")


def _prune(at: datetime) -> None:
    LogonAttempt.delete().where(LogonAttempt.at < at - KEEP_ATTEMPTS).execute()
    LogonAttempt.delete().where(LogonAttempt.at < at - KEEP_UNKNOWN,
                                LogonAttempt.account_id.is_null()).execute()
    LogonThrottle.delete().where(LogonThrottle.last_failure_at < at - ACCOUNT_WINDOW).execute()


def _count_pair_failure(email_key: str, kind: str, origin: str, at: datetime) -> int:
    """One more failure in a row for the pair, in SQL; returns the failures in a row now."""
    pair = (LogonThrottle.email_key == email_key, LogonThrottle.kind == kind,
            LogonThrottle.origin == origin)
    LogonThrottle.insert(email_key=email_key, kind=kind, origin=origin, failures=0,
                         last_failure_at=at).on_conflict_ignore().execute()
    LogonThrottle.update(failures=0).where(
        *pair, LogonThrottle.last_failure_at <= at - FORGET_AFTER).execute()
    LogonThrottle.update(failures=LogonThrottle.failures + 1, last_failure_at=at).where(
        *pair).execute()
    return LogonThrottle.get(*pair).failures


def throttle_logon_failure(email_key: str, origin: str | None, account_id: int | None,
                           at: datetime) -> None:
    """Record a failed log-on (wrong password or unknown email) and count it, in one
    transaction; log when a count starts delaying."""
    where = address_key(origin)
    with transaction():
        before = _account_count(email_key, at)
        LogonAttempt.create(at=at, email_key=email_key, account_id=account_id, origin=where,
                            kind=LOG_ON, result="failed")
        in_a_row = _count_pair_failure(email_key, LOG_ON, where, at)
        after = _account_count(email_key, at)
        from_address = _address_failures(where, at).count()
        _prune(at)
    shown = mask_email(email_key)
    if in_a_row == FREE_FAILURES:
        log.warning("log-on throttled: %d failed log-ons in a row for %s from %s; that address "
                    "now waits 1 to 15 minutes between tries for it", in_a_row, shown, where)
    if before < ACCOUNT_THRESHOLD <= after:
        log.warning("log-on throttled: failed log-ons for %s from several addresses (%d in 24 "
                    "hours, counting 5 at most per address); addresses its account has not used "
                    "now wait 1 to 15 minutes", shown, after)
    if where != "local" and from_address == ADDRESS_THRESHOLD:
        log.warning("log-on throttled: %d failed log-ons from %s in an hour, for several emails; "
                    "that address now waits 1 to 15 minutes between tries", from_address, where)


def clear_logon_failures(email_key: str, origin: str | None, account_id: int, at: datetime) -> None:
    """A successful log-on: record it and start this address's count for the email again.
    Call inside the log-on's transaction. Other addresses' counts stay as they are."""
    where = address_key(origin)
    LogonAttempt.create(at=at, email_key=email_key, account_id=account_id, origin=where,
                        kind=LOG_ON, result="ok")
    LogonThrottle.delete().where(LogonThrottle.email_key == email_key,
                                 LogonThrottle.kind == LOG_ON,
                                 LogonThrottle.origin == where).execute()


def refuse_throttled_reentry(email_key: str, at: datetime, field: str) -> None:
    """LockedError (for `field`) after 5 wrong re-entries in a row by this account's sessions.
    Failed log-ons never count here: nobody outside the account can delay it."""
    until = _pair_until(email_key, RE_ENTRY, "", at)
    if until is not None and until > at:
        raise LockedError(phrase(RE_ENTRY_MESSAGE, wait=count(_minutes(until, at), "minute")),
                          field)


def throttle_reentry_failure(email_key: str, account_id: int, at: datetime) -> None:
    with transaction():
        LogonAttempt.create(at=at, email_key=email_key, account_id=account_id, origin="",
                            kind=RE_ENTRY, result="failed")
        _count_pair_failure(email_key, RE_ENTRY, "", at)
        _prune(at)


def clear_reentry_failures(email_key: str) -> None:
    pair = (LogonThrottle.email_key == email_key, LogonThrottle.kind == RE_ENTRY)
    if LogonThrottle.select().where(*pair).exists():
        with transaction():
            LogonThrottle.delete().where(*pair).execute()


def forget_email(email_key: str) -> None:
    """Erase what the throttle holds about an email (F10); call inside the erasure."""
    LogonThrottle.delete().where(LogonThrottle.email_key == email_key).execute()
    LogonAttempt.delete().where(LogonAttempt.email_key == email_key).execute()


# --- authenticator and recovery codes (F13) ----------------------------------------------------

def _mfa_key(account_id: int) -> str:
    return f"account:{account_id}"


def _mfa_kind(in_session: bool) -> str:
    return MFA_IN_SESSION if in_session else MFA


def refuse_throttled_mfa(account_id: int, at: datetime, field: str, *,
                         in_session: bool = False) -> None:
    """LockedError (for `field`) after 5 wrong codes in a row for this account (at log-on and
    resets, or inside sessions), until the growing delay (1 to 15 minutes) is over."""
    until = _pair_until(_mfa_key(account_id), _mfa_kind(in_session), "", at)
    if until is not None and until > at:
        raise LockedError(phrase(MFA_MESSAGE, wait=count(_minutes(until, at), "minute")), field)


def throttle_mfa_failure(account_id: int, email_key: str, origin: str | None, at: datetime, *,
                         in_session: bool = False) -> int:
    """Record a wrong authenticator or recovery code (those at log-on show in recent log-ons)
    and count it; returns the wrong codes in a row now."""
    where = address_key(origin)
    kind = _mfa_kind(in_session)
    with transaction():
        LogonAttempt.create(at=at, email_key=email_key, account_id=account_id, origin=where,
                            kind=kind, result="failed")
        in_a_row = _count_pair_failure(_mfa_key(account_id), kind, "", at)
        _prune(at)
    if in_a_row == FREE_FAILURES:
        log.warning("codes throttled: %d wrong authenticator codes in a row for %s (%s, last "
                    "from %s); it now waits 1 to 15 minutes between tries", in_a_row,
                    mask_email(email_key), "in a session" if in_session else "at log-on",
                    where)
    return in_a_row


def clear_mfa_failures(account_id: int, *, in_session: bool = False) -> None:
    """A right code: its count starts again. Call inside the flow's transaction."""
    LogonThrottle.delete().where(LogonThrottle.email_key == _mfa_key(account_id),
                                 LogonThrottle.kind == _mfa_kind(in_session)).execute()


def forget_account(account_id: int) -> None:
    """Erase what the throttle holds under the account's id (F10): its code count, and every
    attempt recorded for it, under whichever email it had then."""
    LogonThrottle.delete().where(LogonThrottle.email_key == _mfa_key(account_id)).execute()
    LogonAttempt.delete().where(LogonAttempt.account_id == account_id).execute()
