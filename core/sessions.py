"""Sessions (F3): stored in the database so that any process can end them.

A session ends after `session_idle_minutes` without use, `session_absolute_hours` in all, on log
off, and when the account's password changes or the account is deleted (every other session).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core import clock
from core.config import settings
from core.db import call_memo, lightly_durable, read_by, transaction
from core.errors import SessionExpired
from core.hashing import new_token, token_hash
from core.i18n import N_, phrase
from core.models import Account, Session

# Every use moves the idle start: keeping it only to the half-minute would end a session up to
# 30 s early (used at 0:20, ended at 30:01 though idle only 29:41).
TOUCH_EVERY = timedelta(0)

REASON_MESSAGES = {
    "logged_off": N_("You have logged off."),
    "idle": N_("You were logged off after {idle} minutes without activity. Please log on again."),
    "absolute": N_("Your session reached its {hours}-hour limit. Please log on again."),
    "password_changed": N_("Your password was changed in another session. Please log on again."),
    "password_reset": N_("Your password was reset. Please log on with the new one."),
    "logged_off_everywhere": N_("You were logged off from another session (Log off everywhere). "
                             "Please log on again."),
    "account_deleted": N_("This account has been deleted."),
    "account_closed": N_("This account was closed: the owner of its email address verified the "
                      "address and took it back."),
    "ended": N_("Your session has ended. Please log on again."),
}


def reason_message(reason: str | None) -> str:
    cfg = settings()
    template = REASON_MESSAGES.get(reason or "ended", REASON_MESSAGES["ended"])
    values = {"idle": cfg.session_idle_minutes, "hours": cfg.session_absolute_hours}
    return phrase(template, **{name: value for name, value in values.items()
                               if "{" + name + "}" in template})


def address_key(origin: str | None) -> str:
    """The client address as the abuse limits count it: `local`, an IPv4 address, or the /64
    network of an IPv6 address (one subscriber commonly holds a whole /64, so counting single
    IPv6 addresses would let one client count as billions)."""
    import ipaddress

    text = (origin or "").strip()[:100]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass(frozen=True)
class SessionInfo:
    id: int
    account_id: int | None
    is_decoy: bool
    origin: str
    key_fingerprint: str | None
    created_at: datetime
    last_seen_at: datetime


def start_session(account_id: int | None, *, origin: str = "local",
                  key_fingerprint: str | None = None,
                  notify_account_id: int | None = None,
                  signup_country: str | None = None,
                  key_algorithm: str | None = None,
                  stepped_up: bool = False) -> str:
    """A new session; returns its token (only its hash is stored). Call inside a transaction.

    `stepped_up`: the session opens on a proof that the owner is there (the password, and the
    authenticator code when MFA is on), which counts as a step-up for a few minutes
    (core.step_up). A trusted key alone is no such proof."""
    token = new_token()
    at = clock.now()
    Session.create(token_hash=token_hash(token), account=account_id,
                   notify_account=notify_account_id, signup_country=signup_country,
                   origin=origin[:100],
                   key_fingerprint=key_fingerprint,
                   key_algorithm=key_algorithm[:60] if key_algorithm else None,
                   created_at=at, last_seen_at=at,
                   stepped_up_at=at if stepped_up else None)
    return token


def _expiry_reason(row: Session, at: datetime) -> str | None:
    cfg = settings()
    if row.ended_at is not None:
        return row.ended_reason or "ended"
    if at - row.last_seen_at > timedelta(minutes=cfg.session_idle_minutes):
        return "idle"
    if at - row.created_at > timedelta(hours=cfg.session_absolute_hours):
        return "absolute"
    return None


def _session_by_token(hashed: str) -> Session | None:
    memo = call_memo()
    if memo is not None:
        row = memo.get(("session", hashed))
        if row is not None:
            return row
    return read_by(Session, "token_hash", hashed)


def live_session_row(token: str | None, *, touch: bool = True) -> Session:
    """The row of the live session behind `token` (for a flow that needs more of it than
    SessionInfo, such as its step-up time), or SessionExpired saying why it ended.

    Within one core call (core.db.core_call) the session is read once and touched once."""
    if not token:
        raise SessionExpired(reason_message("ended"))
    hashed = token_hash(token)
    row = _session_by_token(hashed)
    if row is None:
        raise SessionExpired(reason_message("ended"))
    at = clock.now()
    reason = _expiry_reason(row, at)
    if reason is not None:
        forget_sessions()
        if row.ended_at is None:
            with transaction():
                Session.update(ended_at=at, ended_reason=reason).where(
                    Session.id == row.id, Session.ended_at.is_null()).execute()
        raise SessionExpired(reason_message(reason))
    if touch and at - row.last_seen_at > TOUCH_EVERY:
        # Only the idle clock: a crash of the machine may lose the last few of these (the
        # session then ends idle a little early), never anything a person did.
        with lightly_durable():
            Session.update(last_seen_at=at).where(Session.id == row.id).execute()
        row.last_seen_at = at
    memo = call_memo()
    if memo is not None:
        memo[("session", hashed)] = row
    return row


def resolve_session(token: str | None, *, touch: bool = True) -> SessionInfo:
    """The live session behind `token`, or SessionExpired saying why it ended."""
    row = live_session_row(token, touch=touch)
    return SessionInfo(row.id, row.account_id, row.account_id is None, row.origin,
                       row.key_fingerprint, row.created_at, row.last_seen_at)


def require_account(token: str | None) -> Account:
    """The account of a live, non-decoy session (internal: flows return dataclasses)."""
    info = resolve_session(token)
    if info.account_id is None:
        raise SessionExpired(reason_message("ended"))
    memo = call_memo()
    account = memo.get(("account", info.account_id)) if memo is not None else None
    if account is None:
        account = read_by(Account, "id", info.account_id)
    if account is None or account.status == "deleted":
        raise SessionExpired(reason_message("account_deleted"))
    if memo is not None:
        memo[("account", info.account_id)] = account
    return account


def forget_sessions() -> None:
    """Empty this call's memo: a session was ended here (its row and account may be stale)."""
    memo = call_memo()
    if memo:
        memo.clear()


def session_origin(token: str | None) -> str | None:
    """Where the session came from (`local` or the SSH address), for notices; None once it
    has ended."""
    try:
        return resolve_session(token, touch=False).origin
    except SessionExpired:
        return None


def session_alive(token: str | None) -> str | None:
    """None while the session lives, else the message to show (used by the console's watch)."""
    try:
        resolve_session(token, touch=False)
    except SessionExpired as exc:
        return exc.message
    return None


def end_session(token: str | None, reason: str = "logged_off") -> None:
    if not token:
        return
    forget_sessions()
    with transaction():
        Session.update(ended_at=clock.now(), ended_reason=reason).where(
            Session.token_hash == token_hash(token), Session.ended_at.is_null()).execute()


def end_account_sessions(account_id: int, reason: str, *, except_token: str | None = None) -> int:
    """End every live session of an account (but `except_token`'s). Call inside a transaction."""
    forget_sessions()
    query = Session.update(ended_at=clock.now(), ended_reason=reason).where(
        Session.account == account_id, Session.ended_at.is_null())
    if except_token:
        query = query.where(Session.token_hash != token_hash(except_token))
    return query.execute()


def recent_logons(account_id: int, limit: int = 10) -> list[SessionInfo]:
    rows = (Session.select().where(Session.account == account_id)
            .order_by(Session.created_at.desc(), Session.id.desc()).limit(limit))
    return [SessionInfo(r.id, r.account_id, False, r.origin, r.key_fingerprint, r.created_at,
                        r.last_seen_at) for r in rows]
