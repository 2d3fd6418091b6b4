"""Caps on messages that cost money or reach other people (SPEC "Abuse limits").

Every code and every notice to someone else is counted before it goes out, in the
`message_send` table (so that every process, SSH consoles included, and every machine sharing a
PostgreSQL database count together), and refused with a RateLimitError saying what to do when
one of these is reached:

- one session: at most 3 distinct destinations (emails and phone numbers; a call and a text
  to one number are one destination), for the life of the session;
- one account: 10 text messages and calls, and 20 emails, in 24 hours;
- one client address (the session's origin: `local` or the SSH peer's address, an IPv6 one
  by its /64): 30 messages in 24 hours;
- everything together: `CLOUDACCT_MESSAGES_PER_HOUR` (default 1000) in the last hour; past it
  sends pause, and the `cloudacct.abuse` log says so once when it trips and once when sending
  resumes.

A sign-up with an email that has an account (a decoy session) has no account: its sends count
against its session, its address and the ceiling. F2's per-destination hourly cap
(core.verification) counts only the codes that the same account asked for, so other accounts'
sends cannot block someone's own phone.

A security notice to the account's own verified email or phone is never refused (nor counted
against anything): the owner must hear that their password changed even while someone runs the
caps up. It is recorded (`capped` false) so that what was sent stays visible. A "notice" to an
address the account has not verified is capped like any other message.

The time is `core.clock.now()`; rows older than two days are pruned as new ones are recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import fn

from core import clock
from core.config import settings
from core.db import read_by, transaction
from core.errors import RateLimitError
from core.hashing import keyed_hash
from core.i18n import phrase
from core.models import Account, MessageSend, SendPause
from core.sessions import address_key, resolve_session
from core.wording import count

log = logging.getLogger("cloudacct.abuse")

DESTINATIONS_PER_SESSION = 3
PHONE_MESSAGES_PER_ACCOUNT_PER_DAY = 10  # SMS and calls
EMAILS_PER_ACCOUNT_PER_DAY = 20
MESSAGES_PER_ADDRESS_PER_DAY = 30
DAY = timedelta(hours=24)
HOUR = timedelta(hours=1)
KEEP = timedelta(days=2)
PHONE_CHANNELS = ("sms", "voice")
CHANNELS = ("email", *PHONE_CHANNELS)
_CEILING = "global_ceiling"


@dataclass(frozen=True)
class Asker:
    """Who asks for a message: the session (None outside one), the account (None for a decoy
    sign-up) and the client address the session came from."""

    session_id: int | None
    account_id: int | None
    origin: str


def asker_of(token: str | None) -> Asker:
    """The asker behind a session token (SessionExpired when the session has ended)."""
    info = resolve_session(token, touch=False)
    return Asker(info.id, info.account_id, info.origin)


def _destination_hash(channel: str, destination: str) -> str:
    kind = "email" if channel == "email" else "phone"
    return keyed_hash("message-destination", kind, destination.strip().casefold())


def _hours_until(moment: datetime, at: datetime) -> int:
    return max(1, int((moment - at).total_seconds() + 3599) // 3600)


def _minutes_until(moment: datetime, at: datetime) -> int:
    return max(1, int((moment - at).total_seconds() + 59) // 60)


def _capped():
    return MessageSend.capped == True  # noqa: E712 (SQL, not Python)


def _refuse_over_session(asker: Asker, digest: str) -> None:
    if asker.session_id is None:
        return
    mine = MessageSend.select().where(MessageSend.session_id == asker.session_id, _capped())
    if mine.where(MessageSend.destination_hash == digest).exists():
        return  # a destination this session already used
    used = (MessageSend.select(fn.COUNT(fn.DISTINCT(MessageSend.destination_hash)))
            .where(MessageSend.session_id == asker.session_id, _capped()).scalar()) or 0
    if used >= DESTINATIONS_PER_SESSION:
        raise RateLimitError(phrase(
            "One session can send codes to at most {most} different email addresses and phone "
            "numbers. Use one you have already used in this session.",
            most=DESTINATIONS_PER_SESSION), "code")


def _oldest(query) -> datetime:
    return query.select(fn.MIN(MessageSend.at)).scalar()


def _refuse_over_account(asker: Asker, channel: str, at: datetime) -> None:
    if asker.account_id is None:
        return
    phone = channel in PHONE_CHANNELS
    channels = PHONE_CHANNELS if phone else ("email",)
    limit = PHONE_MESSAGES_PER_ACCOUNT_PER_DAY if phone else EMAILS_PER_ACCOUNT_PER_DAY
    today = MessageSend.select().where(MessageSend.account_id == asker.account_id, _capped(),
                                       MessageSend.channel.in_(channels),
                                       MessageSend.at > at - DAY)
    if today.count() < limit:
        return
    hours = _hours_until(_oldest(today) + DAY, at)
    if phone:
        raise RateLimitError(phrase(
            "You have reached today's limit of {limit} text messages and calls for this "
            "account. Try again in {wait}, or use email.", limit=limit,
            wait=count(hours, "hour")), "code")
    raise RateLimitError(phrase(
        "You have reached today's limit of {limit} emails for this account. Try again in "
        "{wait}.", limit=limit, wait=count(hours, "hour")), "code")


def _refuse_over_address(origin: str, at: datetime) -> None:
    today = MessageSend.select().where(MessageSend.origin == origin, _capped(),
                                       MessageSend.at > at - DAY)
    if today.count() < MESSAGES_PER_ADDRESS_PER_DAY:
        return
    hours = _hours_until(_oldest(today) + DAY, at)
    raise RateLimitError(phrase(
        "{most} messages were sent from your network address today, the most we send for one "
        "address. Try again in {wait}.", most=MESSAGES_PER_ADDRESS_PER_DAY,
        wait=count(hours, "hour")), "code")


def _last_hour(at: datetime):
    return MessageSend.select().where(_capped(), MessageSend.at > at - HOUR)


def _refuse_over_ceiling(at: datetime) -> None:
    last_hour = _last_hour(at)
    if last_hour.count() < settings().messages_per_hour:
        return
    minutes = _minutes_until(_oldest(last_hour) + HOUR, at)
    raise RateLimitError(phrase(
        "Sending codes is paused for a while: unusually many messages are going out. Please "
        "try again in {wait}.", wait=count(minutes, "minute")), "code")


def watch_ceiling() -> None:
    """Log once when the global hourly ceiling trips and once when sending resumes. Call it
    before a send's own transaction: it commits on its own, whatever the send does then."""
    limit = settings().messages_per_hour
    at = clock.now()
    over = _last_hour(at).count() >= limit
    if over == SendPause.select().where(SendPause.name == _CEILING).exists():
        return  # nothing changed: the usual case, with no write at all
    with transaction():
        over = _last_hour(at).count() >= limit  # again, under the write lock
        paused = SendPause.get_or_none(SendPause.name == _CEILING)
        if over and paused is None:
            SendPause.create(name=_CEILING, since=at)
            log.warning("message sends paused: %d messages in the last hour reached the "
                        "ceiling (CLOUDACCT_MESSAGES_PER_HOUR=%d); codes and notices are "
                        "refused until the hourly count falls below it", limit, limit)
        elif not over and paused is not None:
            SendPause.delete().where(SendPause.name == _CEILING).execute()
            log.info("message sends resumed after a pause since %s (ceiling %d an hour)",
                        clock.iso(paused.since), limit)


def _is_owners_verified_address(account_id: int | None, channel: str, destination: str) -> bool:
    if account_id is None:
        return False
    account = read_by(Account, "id", account_id)
    if account is None or account.status == "deleted":
        return False
    if channel == "email":
        return (account.email_verified_at is not None
                and account.email.strip().casefold() == destination.strip().casefold())
    return account.phone_verified_at is not None and account.phone == destination


def count_against_caps(asker: Asker, channel: str, destination: str, *,
                       security_notice: bool = False) -> int:
    """Count one message for `asker` to `destination` by `channel` (email, sms, voice), or
    raise RateLimitError when a cap is reached. Returns the record's id, for `forget_send`
    if delivery then fails. Call it inside the sending flow's transaction.

    `security_notice=True` says "this is a security notice to the account's owner": when
    `destination` is that account's own verified email or phone it is recorded and never
    refused; otherwise it is capped like any other message."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    at = clock.now()
    digest = _destination_hash(channel, destination)
    origin = address_key(asker.origin)
    capped = not (security_notice
                  and _is_owners_verified_address(asker.account_id, channel, destination))
    if capped:
        _refuse_over_session(asker, digest)
        _refuse_over_account(asker, channel, at)
        _refuse_over_address(origin, at)
        _refuse_over_ceiling(at)
    MessageSend.delete().where(MessageSend.at < at - KEEP).execute()
    return MessageSend.insert(at=at, account_id=asker.account_id, session_id=asker.session_id,
                              origin=origin, channel=channel, destination_hash=digest,
                              capped=capped).execute()


def forget_send(send_id: int) -> None:
    """Delivery failed: the message was not sent, so it does not count."""
    with transaction():
        MessageSend.delete().where(MessageSend.id == send_id).execute()


def send_counted(asker: Asker, channel: str, destination: str, send: Callable[[], None], *,
                 security_notice: bool = False) -> None:
    """Count a message (count_against_caps), then send it outside the transaction; a failed
    delivery is not counted. Raises RateLimitError (nothing sent) or what `send` raises."""
    watch_ceiling()
    with transaction():
        send_id = count_against_caps(asker, channel, destination,
                                     security_notice=security_notice)
    try:
        send()
    except BaseException:
        forget_send(send_id)
        raise


def forget_account_sends(account_id: int) -> int:
    """Erase an account's records (F10); call inside the erasure's transaction."""
    return MessageSend.delete().where(MessageSend.account_id == account_id).execute()
