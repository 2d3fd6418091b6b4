"""F9 security settings: change password, what is verified, recent log-ons, trusted SSH keys,
and export of everything stored about the account (secrets excluded)."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core import clock
from core.config import settings
from core.db import transaction
from core.errors import AuthenticationError, NotFound, Refused, ValidationError
from core.hashing import hash_password, verify_password
from core.models import (
    Account,
    Bill,
    BillingAddress,
    LedgerEntry,
    PaymentMethod,
    RealNameRegistration,
    Resource,
    Session,
    TrustedKey,
)
from core.sessions import end_account_sessions, recent_logons, require_account, resolve_session
from core.validation import (
    check_email,
    check_password,
    check_password_confirmation,
    clean_line,
    mask_phone,
)


@dataclass(frozen=True)
class LogOnRecord:
    at: datetime
    where: str  # "local" or "SSH from 203.0.113.5"
    current: bool
    ended: bool


@dataclass(frozen=True)
class TrustedKeyView:
    id: int
    fingerprint: str
    label: str | None
    added_at: datetime


@dataclass(frozen=True)
class SecurityView:
    email: str
    email_verified: bool
    phone_masked: str | None
    phone_verified: bool
    password_changed_at: datetime | None
    recent_logons: tuple[LogOnRecord, ...]
    trusted_keys: tuple[TrustedKeyView, ...]
    current_key_fingerprint: str | None  # the SSH key of this connection, if any
    current_key_trusted: bool


def _where(origin: str) -> str:
    return "local terminal" if origin == "local" else f"SSH from {origin}"


def security_overview(token: str | None) -> SecurityView:
    account = require_account(token)
    info = resolve_session(token)
    records = []
    for item in recent_logons(account.id, limit=10):
        row = Session.get_by_id(item.id)
        records.append(LogOnRecord(item.created_at, _where(item.origin), item.id == info.id,
                                   row.ended_at is not None))
    keys = tuple(_key_view(k) for k in TrustedKey.select().where(TrustedKey.account == account.id)
                 .order_by(TrustedKey.created_at, TrustedKey.id))
    current = info.key_fingerprint
    return SecurityView(
        email=account.email, email_verified=account.email_verified_at is not None,
        phone_masked=mask_phone(account.phone) if account.phone else None,
        phone_verified=account.phone_verified_at is not None,
        password_changed_at=account.password_changed_at, recent_logons=tuple(records),
        trusted_keys=keys, current_key_fingerprint=current,
        current_key_trusted=bool(current) and any(k.fingerprint == current for k in keys),
    )


def change_password(token: str | None, current: str | None, new: str | None,
                    confirmation: str | None) -> int:
    """Change the password; every other session of the account ends (in every process).

    Returns how many other sessions were ended.
    """
    account = require_account(token)
    if not current:
        raise ValidationError("Enter your current password.", "current-password")
    if not verify_password(account.password_hash, current):
        raise AuthenticationError("Your current password is not correct.", "current-password")
    clean = check_password(new, check_email(account.email), field="new-password")
    check_password_confirmation(new, confirmation, field="new-password-confirm")
    if verify_password(account.password_hash, clean):
        raise ValidationError("Choose a password different from the current one.",
                              "new-password")
    new_hash = hash_password(clean)
    with transaction():
        Account.update(password_hash=new_hash, password_changed_at=clock.now()).where(
            Account.id == account.id).execute()
        ended = end_account_sessions(account.id, "password_changed", except_token=token)
    _notify_password_changed(account.email)
    return ended


def _notify_password_changed(email: str) -> None:
    from core.delivery import send_email
    from core.errors import DeliveryError

    brand = settings().brand
    # The change stands even when the notice cannot be sent.
    with contextlib.suppress(DeliveryError):
        send_email(email, f"Your {brand} password was changed",
                   f"The password of your {brand} account was changed, and every other "
                   "session was logged off.\n\nIf you did not do this, reset your password "
                   "at once and contact support.")


# --- trusted SSH keys (F11) ------------------------------------------------------------------

def _key_view(row: TrustedKey) -> TrustedKeyView:
    return TrustedKeyView(row.id, row.fingerprint, row.label, row.created_at)


def trust_current_key(token: str | None, label: str | None = None) -> TrustedKeyView:
    """Trust the SSH key of this connection: later connections with it open logged on."""
    account = require_account(token)
    info = resolve_session(token)
    if not info.key_fingerprint:
        raise Refused("This session did not connect with an SSH key: there is no key to trust.")
    name = clean_line(label, "key-label", "a label", max_length=100, required=False) or None
    with transaction():
        existing = TrustedKey.get_or_none(TrustedKey.account == account.id,
                                          TrustedKey.fingerprint == info.key_fingerprint)
        if existing is not None:
            return _key_view(existing)
        row = TrustedKey.create(account=account.id, fingerprint=info.key_fingerprint,
                                label=name, created_at=clock.now())
    return _key_view(row)


def remove_trusted_key(token: str | None, key_id: int) -> None:
    account = require_account(token)
    with transaction():
        deleted = TrustedKey.delete().where(TrustedKey.id == key_id,
                                            TrustedKey.account == account.id).execute()
    if not deleted:
        raise NotFound("That key is not among your trusted keys.")


# --- export my data ----------------------------------------------------------------------------

_SECRET_COLUMNS = {"password_hash", "token_hash", "code_hash", "gateway_token", "fingerprint",
                   "idempotency_key", "email_audit_hash", "key_fingerprint_hash"}


def _row(model_row) -> dict:
    data = {}
    for name, value in model_row.__data__.items():
        if name in _SECRET_COLUMNS:
            continue
        if isinstance(value, datetime):
            value = clock.iso(value)
        data[name] = value
    return data


def export_data(token: str | None) -> Path:
    """Write everything stored about the account (no secrets) to a JSON file; returns its path."""
    account = require_account(token)
    aid = account.id
    document = {
        "exported_at": clock.iso(clock.now()),
        "provider": settings().brand,
        "account": _row(account),
        "billing_address": [_row(r) for r in BillingAddress.select().where(
            BillingAddress.account == aid)],
        "payment_methods": [_row(r) for r in PaymentMethod.select().where(
            PaymentMethod.account == aid)],
        "real_name_registrations": [_row(r) for r in RealNameRegistration.select().where(
            RealNameRegistration.account == aid)],
        "resources": [_row(r) for r in Resource.select().where(Resource.account == aid)],
        "bills": [_row(r) for r in Bill.select().where(Bill.account == aid)],
        "ledger": [_row(r) for r in LedgerEntry.select().where(LedgerEntry.account == aid)],
        "log_ons": [_row(r) for r in Session.select().where(Session.account == aid)],
        "trusted_ssh_keys": [_row(r) for r in TrustedKey.select().where(
            TrustedKey.account == aid)],
    }
    directory = settings().exports_dir
    directory.mkdir(parents=True, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"cloudacct-export-{aid}-{stamp}.json"
    tmp = path.with_suffix(".json.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, ensure_ascii=False, indent=2, default=str)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


