"""F9 security settings: change password, what is verified, recent log-ons, trusted SSH keys,
and export of everything stored about the account (secrets excluded). The Delete Account area
(F10) is core.deletion.

Decisions
- Changing the password needs the current one; wrong re-entries have a throttle of their own
  (so an unattended session cannot be used to guess it), which failed log-ons never raise:
  an attack on the log-on never keeps the logged-on owner from changing the password. The
  change ends every other session of the account in the same transaction (other processes see
  it at their next check, `core.sessions.session_alive`), keeps the current one, and mails a
  notice (a security notice: never capped, core.message_caps).
- Sensitive actions (change password, trust or remove a key) need a recent step-up first
  (core.step_up); the current password of a change counts as one when MFA is off. Each change
  is notified (core.notices) after its commit.
- Log off everywhere ends every other session; recent log-ons (`recent_activity`) list the
  sessions opened and the failed attempts (wrong passwords at log-on, wrong codes), and
  `security_page` is everything the section shows, MFA and key types included.
- Trusted SSH keys (F11): the key of the current connection can be trusted by a verified
  account; a key opens at most one account (trusting a key another live account trusts is
  refused), and `core.accounts.log_on_with_trusted_key` logs such a connection on.
- Export: a JSON file in the account's `exports/` (core.files, mode 0600; over SSH fetched
  by SFTP, F16) with every row stored about the
  account. Left out: the password hash, session token hashes, code hashes, gateway tokens, the
  keyed fingerprints of cards/PayPal/Paytm, idempotency keys and the audit hash. SSH key
  fingerprints are kept: they are the public names of the person's own keys, shown on the
  Security screen. Deleting the account removes its exports.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core import clock
from core.config import settings
from core.db import transaction
from core.errors import (
    AuthenticationError,
    FormErrors,
    NotFound,
    Refused,
    SessionExpired,
    ValidationError,
)
from core.hashing import hash_password, token_hash, verify_password
from core.i18n import N_, phrase
from core.models import (
    Account,
    Bill,
    BillingAddress,
    Code,
    Invoice,
    LedgerEntry,
    LogonAttempt,
    LogonThrottle,
    PaymentMethod,
    RealNameRegistration,
    Resource,
    Session,
    TrustedKey,
    VerificationLock,
)
from core.notices import notify_key_removed, notify_key_trusted, notify_password_changed
from core.sessions import (
    end_account_sessions,
    reason_message,
    require_account,
    resolve_session,
    session_origin,
)
from core.validation import (
    KEY_LABEL,
    check_email,
    check_password,
    check_password_confirmation,
    clean_line,
    mask_phone,
    parse_object_id,
)
from core.wording import verbatim


@dataclass(frozen=True)
class LogOnRecord:
    at: datetime
    where: str  # "local terminal" or "SSH from 203.0.113.5"
    current: bool
    ended: bool
    with_key: bool = False  # opened with a trusted SSH key or over SSH with a key


@dataclass(frozen=True)
class TrustedKeyView:
    id: int
    fingerprint: str  # SHA256:…
    label: str | None
    added_at: datetime
    algorithm: str | None = None  # e.g. ssh-ed25519, sk-ssh-ed25519@openssh.com

    @property
    def is_security_key(self) -> bool:
        """A hardware security key (F13: with a touch, a second factor over SSH)."""
        from core.accounts import SECURITY_KEY_ALGORITHMS

        return (self.algorithm or "") in SECURITY_KEY_ALGORITHMS


@dataclass(frozen=True)
class SecurityView:
    email: str
    email_verified: bool
    phone_masked: str | None  # only once verified
    phone_verified: bool
    password_changed_at: datetime | None
    recent_logons: tuple[LogOnRecord, ...]  # newest first
    trusted_keys: tuple[TrustedKeyView, ...]
    current_key_fingerprint: str | None  # the SSH key of this connection, if any
    current_key_trusted: bool
    status: str = "active"  # unverified | active | deletion_pending
    deletion_requested_at: datetime | None = None

    @property
    def can_trust_current_key(self) -> bool:
        """Show #trust-this-key: over SSH with a key not yet trusted, by a verified account."""
        return (bool(self.current_key_fingerprint) and not self.current_key_trusted
                and self.status in ("active", "deletion_pending"))


RECENT_LOGONS = 10


def _where(origin: str) -> str:
    if origin == "local":
        return N_("local terminal")
    return phrase("SSH from {origin}", origin=verbatim(origin)) if origin else N_("unknown")


def _current(token: str | None) -> tuple[Account, int, str | None]:
    """The account, the current session's id and its SSH key fingerprint (one resolve)."""
    info = resolve_session(token)
    if info.account_id is None:
        raise SessionExpired(reason_message("ended"))
    account = Account.get_or_none(Account.id == info.account_id)
    if account is None or account.status == "deleted":
        raise SessionExpired(reason_message("account_deleted"))
    return account, info.id, info.key_fingerprint


def _keys(account_id: int) -> tuple[TrustedKeyView, ...]:
    rows = (TrustedKey.select().where(TrustedKey.account == account_id)
            .order_by(TrustedKey.created_at, TrustedKey.id))
    return tuple(_key_view(k) for k in rows)


def security_overview(token: str | None) -> SecurityView:
    """What the Security settings screen shows."""
    account, session_id, current = _current(token)
    rows = (Session.select().where(Session.account == account.id)
            .order_by(Session.created_at.desc(), Session.id.desc()).limit(RECENT_LOGONS))
    records = tuple(LogOnRecord(r.created_at, _where(r.origin), r.id == session_id,
                                r.ended_at is not None, bool(r.key_fingerprint))
                    for r in rows)
    keys = _keys(account.id)
    return SecurityView(
        email=account.email, email_verified=account.email_verified_at is not None,
        phone_masked=mask_phone(account.phone) if account.phone and account.phone_verified_at
        else None,
        phone_verified=account.phone_verified_at is not None,
        password_changed_at=account.password_changed_at, recent_logons=records,
        trusted_keys=keys, current_key_fingerprint=current,
        current_key_trusted=bool(current) and any(k.fingerprint == current for k in keys),
        status=account.status, deletion_requested_at=account.deletion_requested_at,
    )


# --- change password ---------------------------------------------------------------------------

def check_password_again(account: Account, password: str | None, field: str) -> None:
    """A password re-entered to confirm an action of a logged-on person. Log-on failures
    (anybody's, from anywhere) never refuse it: only this account's own wrong re-entries do,
    5 in a row and then growing delays (core.logon_throttle, LockedError while one lasts).
    Raises ValidationError when empty and AuthenticationError when wrong, both for `field`."""
    from core.logon_throttle import (
        clear_reentry_failures,
        refuse_throttled_reentry,
        throttle_reentry_failure,
    )

    if not password:
        raise ValidationError("Enter your password.", field)
    at = clock.now()
    refuse_throttled_reentry(account.email_key, at, field)
    if not verify_password(account.password_hash, password):
        throttle_reentry_failure(account.email_key, account.id, at)
        raise AuthenticationError("The password is not correct.", field)
    clear_reentry_failures(account.email_key)


@dataclass(frozen=True)
class PasswordChanged:
    sessions_ended: int  # other sessions of the account, logged off
    keys_removed: int  # trusted SSH keys removed with the change


class WrongPasswordForm(FormErrors, AuthenticationError):
    """The form's refusals, the first of them a wrong current password: shown all at once like
    any FormErrors, and an AuthenticationError for whoever counts those."""


def _check_password_form(account: Account, current: str | None, new: str | None,
                         confirmation: str | None) -> str:
    """Every field of the change-password form at once (FormErrors by field; WrongPasswordForm
    when the current password is wrong); the clean new password when all pass. A lock on
    re-entries (LockedError) is raised as it is."""
    from core.forms import FormCheck

    form = FormCheck()
    wrong = False
    if not current:
        form.refuse("current-password", N_("Enter your current password."))
    else:
        try:
            check_password_again(account, current, "current-password")
        except AuthenticationError:
            form.refuse("current-password", N_("Your current password is not correct."))
            wrong = True
    clean = form.check(check_password, new, check_email(account.email), field="new-password")
    form.check(check_password_confirmation, new, confirmation, field="new-password-confirm")
    if clean is not None and verify_password(account.password_hash, clean):
        form.refuse("new-password",
                    N_("Choose a password different from the current one."))
    if wrong:
        raise WrongPasswordForm(form.errors)
    form.raise_errors()
    assert clean is not None
    return clean


def change_password(token: str | None, current: str | None, new: str | None,
                    confirmation: str | None, *,
                    remove_trusted_keys: bool = True) -> PasswordChanged:
    """Change the password (fields `current-password`, `new-password`,
    `new-password-confirm`); every other session of the account ends, in every process, and
    the current one stays. With `remove_trusted_keys` (the default) the account's trusted SSH
    keys go in the same transaction. Returns how many sessions ended and keys went."""
    from core.step_up import require_step_up

    account = require_account(token)
    require_step_up(token, "change_password", password_carried=True)
    clean = _check_password_form(account, current, new, confirmation)
    new_hash = hash_password(clean)  # slow: before the transaction
    with transaction():
        alive = Session.select().where(Session.token_hash == token_hash(token or ""),
                                       Session.ended_at.is_null()).exists()
        if not alive:
            raise SessionExpired(reason_message("ended"))
        changed = Account.update(password_hash=new_hash, password_changed_at=clock.now()).where(
            Account.id == account.id, Account.password_hash == account.password_hash,
            Account.status != "deleted").execute()
        if changed != 1:
            raise Refused("Your password was changed in another session in the meantime. "
                          "Log on again.", "current-password")
        ended = end_account_sessions(account.id, "password_changed", except_token=token)
        removed = 0
        if remove_trusted_keys:
            removed = TrustedKey.delete().where(TrustedKey.account == account.id).execute()
    notify_password_changed(account.id, origin=session_origin(token), keys_removed=removed)
    return PasswordChanged(sessions_ended=ended, keys_removed=removed)


# --- trusted SSH keys (F11) --------------------------------------------------------------------

def _key_view(row: TrustedKey) -> TrustedKeyView:
    return TrustedKeyView(row.id, row.fingerprint, row.label, row.created_at, row.algorithm)


def trusted_keys(token: str | None) -> tuple[TrustedKeyView, ...]:
    """The account's trusted SSH keys, oldest first."""
    return _keys(require_account(token).id)


def trust_current_key(token: str | None, label: str | None = None) -> TrustedKeyView:
    """Trust the SSH key of this connection: later connections with it open logged on
    (`core.accounts.log_on_with_trusted_key`). Trusting it again returns the same key."""
    from core.step_up import require_step_up

    account, session_id, fingerprint = _current(token)
    if not fingerprint:
        raise Refused("This session did not connect with an SSH key: there is no key to trust.",
                      "trusted-keys")
    if account.status not in ("active", "deletion_pending"):
        raise Refused("Verify your account before trusting a key.", "trusted-keys")
    name = clean_line(label, "key-label", KEY_LABEL, max_length=100, required=False) or None
    existing = TrustedKey.get_or_none(TrustedKey.account == account.id,
                                      TrustedKey.fingerprint == fingerprint)
    if existing is not None:
        return _key_view(existing)
    require_step_up(token, "trust_key")
    session = Session.get_by_id(session_id)
    with transaction():
        existing = TrustedKey.get_or_none(TrustedKey.account == account.id,
                                          TrustedKey.fingerprint == fingerprint)
        if existing is not None:
            return _key_view(existing)
        elsewhere = (TrustedKey.select().join(Account)
                     .where(TrustedKey.fingerprint == fingerprint,
                            TrustedKey.account != account.id, Account.status != "deleted")
                     .exists())
        if elsewhere:
            raise Refused("This key already opens another account. Remove it there first, or "
                          "connect with another key.", "trusted-keys")
        row = TrustedKey.create(account=account.id, fingerprint=fingerprint,
                                label=name, algorithm=session.key_algorithm,
                                created_at=clock.now())
    notify_key_trusted(account.id, fingerprint, name, origin=session.origin)
    return _key_view(row)


def remove_trusted_key(token: str | None, key_id: int | str) -> tuple[TrustedKeyView, ...]:
    """Stop trusting a key (NotFound when it is not among the account's keys). Returns the
    keys left. Sessions already opened with it go on until they end."""
    from core.step_up import require_step_up

    account = require_account(token)
    wanted = parse_object_id(key_id)
    if not TrustedKey.select().where(TrustedKey.id == wanted,
                                     TrustedKey.account == account.id).exists():
        raise NotFound("That key is not among your trusted keys.", "trusted-keys")
    require_step_up(token, "remove_key")
    with transaction():
        row = TrustedKey.get_or_none(TrustedKey.id == wanted, TrustedKey.account == account.id)
        deleted = TrustedKey.delete().where(TrustedKey.id == wanted,
                                            TrustedKey.account == account.id).execute()
    if not deleted or row is None:
        raise NotFound("That key is not among your trusted keys.", "trusted-keys")
    notify_key_removed(account.id, row.fingerprint, row.label, origin=session_origin(token))
    return _keys(account.id)


# --- log off everywhere, recent log-ons with failures, the security page (F9, F13) -------------

def log_off_everywhere(token: str | None) -> int:
    """End every session of the account but this one, in every process (F9). No step-up: it
    only ever takes access away. Returns how many sessions ended."""
    account = require_account(token)
    with transaction():
        return end_account_sessions(account.id, "logged_off_everywhere", except_token=token)


@dataclass(frozen=True)
class ActivityRecord:
    """One line of recent log-ons: a session opened, or an attempt that failed."""

    at: datetime
    where: str  # "local terminal" or "SSH from 203.0.113.5"
    result: str  # logged_on | wrong_password | wrong_code
    result_text: str  # "Logged on", "Wrong password", "Wrong authenticator code"
    with_key: bool = False
    current: bool = False
    ended: bool = False


RESULT_TEXTS = {"logged_on": N_("Logged on"), "logged_on_key": N_("Logged on with an SSH key"),
                "wrong_password": N_("Wrong password"),
                "wrong_code": N_("Wrong authenticator code")}
RECENT_ACTIVITY = 20


def recent_activity(account_id: int, *, current_session_id: int | None = None,
                    limit: int = RECENT_ACTIVITY) -> tuple[ActivityRecord, ...]:
    """Log-ons (its sessions) and failed attempts (wrong passwords at log-on, wrong codes),
    newest first, with time, where from and result; never what was typed."""
    sessions = (Session.select().where(Session.account == account_id)
                .order_by(Session.created_at.desc(), Session.id.desc()).limit(limit))
    records = [(r.created_at, r.id, ActivityRecord(
        r.created_at, _where(r.origin), "logged_on",
        RESULT_TEXTS["logged_on_key" if r.key_fingerprint and r.stepped_up_at is None
                     else "logged_on"],
        bool(r.key_fingerprint), r.id == current_session_id, r.ended_at is not None))
        for r in sessions]
    failures = (LogonAttempt.select()
                .where(LogonAttempt.account_id == account_id, LogonAttempt.result == "failed",
                       LogonAttempt.kind.in_(("log_on", "mfa")))
                .order_by(LogonAttempt.at.desc(), LogonAttempt.id.desc()).limit(limit))
    for attempt in failures:
        result = "wrong_password" if attempt.kind == "log_on" else "wrong_code"
        records.append((attempt.at, -attempt.id, ActivityRecord(
            attempt.at, _where(attempt.origin), result, RESULT_TEXTS[result])))
    records.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return tuple(record for _, _, record in records[:limit])


@dataclass(frozen=True)
class SecurityPage:
    """What the Security settings section shows, read at one moment (F9, F13, F14)."""

    email: str
    email_verified: bool
    phone_masked: str | None  # only once verified
    phone_verified: bool
    password_changed_at: datetime | None
    mfa_enabled: bool
    recovery_codes_left: int
    step_up_method: str  # code | password: what the step-up modal asks for
    recent: tuple[ActivityRecord, ...]  # newest first, failures included
    trusted_keys: tuple[TrustedKeyView, ...]  # with their type
    current_key_fingerprint: str | None
    current_key_trusted: bool
    status: str
    deletion_requested_at: datetime | None

    @property
    def can_trust_current_key(self) -> bool:
        return (bool(self.current_key_fingerprint) and not self.current_key_trusted
                and self.status in ("active", "deletion_pending"))


def security_page(token: str | None) -> SecurityPage:
    """Everything the Security section shows, in one transaction."""
    from core.mfa import mfa_status

    with transaction():
        account, session_id, current = _current(token)
        mfa = mfa_status(account.id)
        keys = _keys(account.id)
        return SecurityPage(
            email=account.email, email_verified=account.email_verified_at is not None,
            phone_masked=mask_phone(account.phone) if account.phone and account.phone_verified_at
            else None,
            phone_verified=account.phone_verified_at is not None,
            password_changed_at=account.password_changed_at, mfa_enabled=mfa.enabled,
            recovery_codes_left=mfa.recovery_codes_left,
            step_up_method="code" if mfa.enabled else "password",
            recent=recent_activity(account.id, current_session_id=session_id),
            trusted_keys=keys, current_key_fingerprint=current,
            current_key_trusted=bool(current) and any(k.fingerprint == current for k in keys),
            status=account.status, deletion_requested_at=account.deletion_requested_at)


# --- export my data ----------------------------------------------------------------------------

# Columns never exported, per table: secrets, and keyed hashes that only serve lookups.
_LEFT_OUT: dict[str, frozenset[str]] = {
    "account": frozenset({"password_hash", "email_audit_hash"}),
    "session": frozenset({"token_hash"}),
    "code": frozenset({"code_hash"}),
    "payment_method": frozenset({"gateway_token", "fingerprint"}),
    "ledger_entry": frozenset({"idempotency_key"}),
}


def _row(model_row) -> dict:
    left_out = _LEFT_OUT.get(model_row._meta.table_name, frozenset())
    data = {}
    for name, value in model_row.__data__.items():
        if name in left_out:
            continue
        if isinstance(value, datetime):
            value = clock.iso(value)
        data[name] = value
    return data


def _rows(query) -> list[dict]:
    return [_row(r) for r in query]


def export_document(account_id: int) -> dict:
    """Everything stored about the account, secrets excluded (read in one transaction)."""
    aid = account_id
    with transaction():
        account = Account.get_by_id(aid)
        return {
            "exported_at": clock.iso(clock.now()),
            "provider": settings().brand,
            "account": _row(account),
            "billing_address": _rows(BillingAddress.select().where(
                BillingAddress.account == aid)),
            "payment_methods": _rows(PaymentMethod.select().where(
                PaymentMethod.account == aid).order_by(PaymentMethod.id)),
            "real_name_registrations": _rows(RealNameRegistration.select().where(
                RealNameRegistration.account == aid).order_by(RealNameRegistration.id)),
            "resources": _rows(Resource.select().where(Resource.account == aid)
                               .order_by(Resource.id)),
            "bills": _rows(Bill.select().where(Bill.account == aid).order_by(Bill.id)),
            "ledger": _rows(LedgerEntry.select().where(LedgerEntry.account == aid)
                            .order_by(LedgerEntry.id)),
            "invoices": _rows(Invoice.select().where(Invoice.account == aid)
                              .order_by(Invoice.number)),
            "log_ons": _rows(Session.select().where(Session.account == aid)
                             .order_by(Session.id)),
            "trusted_ssh_keys": _rows(TrustedKey.select().where(TrustedKey.account == aid)
                                      .order_by(TrustedKey.id)),
            "verification_codes": _rows(Code.select().where(Code.account == aid)
                                        .order_by(Code.id)),
            "verification_locks": _rows(VerificationLock.select().where(
                VerificationLock.account == aid)),
            "log_on_failures": _rows(LogonThrottle.select().where(
                LogonThrottle.email_key == account.email_key)),
            "log_on_attempts": _rows(LogonAttempt.select().where(
                LogonAttempt.email_key == account.email_key).order_by(LogonAttempt.id)),
        }


def export_data(token: str | None) -> Path:
    """Write everything stored about the account (no secrets) to a JSON file in the account's
    `exports/` folder (core.files); returns its path
    (`cloudacct-export-<id>-<UTC time>.json`). It is written under a hidden name and renamed,
    so SFTP never lists a half-written export."""
    from core.files import ensure_account_files

    account = require_account(token)
    document = export_document(account.id)
    directory = ensure_account_files(account.id).exports
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"cloudacct-export-{account.id}-{stamp}.json"
    tmp = directory / f".{path.name}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, ensure_ascii=False, indent=2, default=str)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def remove_data_exports(account_id: int) -> int:
    """F10: erase the data exports written to the shared exports folder before every account
    had its own file space (core.files erases that); the number removed."""
    import contextlib

    directory = settings().exports_dir
    if not directory.exists():
        return 0
    removed = 0
    for pattern in (f"cloudacct-export-{account_id}-*.json",
                    f"cloudacct-export-{account_id}-*.json.tmp"):
        for item in directory.glob(pattern):
            with contextlib.suppress(OSError):
                item.unlink()
                removed += 1
    return removed
