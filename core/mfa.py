"""F13 virtual MFA: a TOTP authenticator (RFC 6238: SHA-1, 6 digits, 30 s) and recovery codes.

Decisions
- TOTP is computed by `cryptography`'s `hazmat.primitives.twofactor.totp.TOTP`: cryptography is
  already installed (asyncssh needs it, and core.sealed uses its AES-GCM), it is maintained by
  the PyCA, and its HOTP is RFC 4226/6238 as written (checked against RFC 6238's test vectors in
  tests/core/test_mfa.py). No new dependency.
- The secret is 160 random bits (RFC 4226's recommended length), shown as base32 and as an
  `otpauth://totp/<issuer>:<email>?secret=…&issuer=<brand>` URI (the console draws its QR code).
  It is stored sealed (core.sealed: AES-GCM under a key derived from the secret key, bound to
  the account): never in clear, never only hashed, since the server must read it back.
- Setting up is two steps: `begin_mfa_setup` makes a new secret (pending, 30 minutes), and
  `bind_mfa` turns it on only when the person types a current code from it. Both need a recent
  step-up (core.step_up): whoever could bind a device of their own in an unattended session
  would lock the owner out.
- A code is accepted for the current 30-second step and one step either way (clock drift), and
  at most once: the last accepted step is kept per account in the database, and that step or an
  earlier one is refused (a replay), in every process.
- Ten recovery codes, `xxxx-xxxx-xx` from a CSPRNG in Crockford's base32 (50 bits each; no I, L,
  O or U, so nothing is misread), shown once and stored only as keyed hashes. Each works once;
  regenerating voids the old ones. Typed with or without spaces and dashes, in any case (an I or
  L reads as 1, an O as 0).
- Wrong codes (authenticator or recovery) are counted per account by core.logon_throttle: 5 in a
  row, then growing delays of 1 to 15 minutes, as for passwords; those typed in a logged-on
  session apart from those at log-on, so an attacker who has the password and floods the
  log-on's code step never keeps the owner from stepping up.
- Disabling needs a current code (or a recovery code) and the password; it is notified.
"""

from __future__ import annotations

import base64
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from urllib.parse import quote

from core import clock
from core.config import settings
from core.db import transaction
from core.errors import CodeError, Refused, ValidationError
from core.forms import FormCheck
from core.hashing import keyed_hash
from core.i18n import N_
from core.models import Account, MfaDevice, PendingLogOn, RecoveryCode, Session
from core.sealed import seal, unseal

T = TypeVar("T")

DIGITS = 6
STEP_SECONDS = 30
DRIFT_STEPS = 1
SECRET_BYTES = 20  # 160 bits
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base32
RECOVERY_LENGTH = 10  # 50 bits
SETUP_LIFETIME = timedelta(minutes=30)
_SEAL_LABEL = "mfa-secret"
_EPOCH = datetime(1970, 1, 1)

CODE_FIELD = "mfa-code"
ENTER_CODE = N_("Enter the 6-digit code from your authenticator app, or a recovery code.")
WRONG_CODE = N_("The code is not correct. Type the newest code from your authenticator app.")
USED_CODE = N_("This code was already used. Wait for the next one in your authenticator app "
             "(they change every 30 seconds).")
USED_RECOVERY = N_("This recovery code was already used: each one works once.")


# --- views -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MfaSetup:
    """What the MFA setup screen shows: the secret as text (`#mfa-secret`) and as a URI for
    the QR code."""

    secret: str  # base32, no padding
    uri: str  # otpauth://totp/…
    account_name: str  # the email
    issuer: str  # the brand
    expires_at: datetime  # bind before this

    @property
    def secret_grouped(self) -> str:
        """The secret in groups of four, easier to type into an app by hand."""
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))


@dataclass(frozen=True)
class MfaEnabled:
    recovery_codes: tuple[str, ...]  # shown once


@dataclass(frozen=True)
class MfaStatus:
    enabled: bool
    enabled_at: datetime | None
    recovery_codes_left: int


@dataclass(frozen=True)
class SecondFactor:
    """Which second factor was accepted."""

    kind: str  # authenticator | recovery
    recovery_codes_left: int


# --- TOTP (RFC 6238) ---------------------------------------------------------------------------

def time_step(at: datetime) -> int:
    """The 30-second step of `at` (naive UTC) since the Unix epoch."""
    return int((at - _EPOCH).total_seconds()) // STEP_SECONDS


def totp_code(secret: bytes, step: int) -> str:
    """The 6-digit code of `secret` for time step `step`."""
    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP

    totp = TOTP(secret, DIGITS, SHA1(), STEP_SECONDS, enforce_key_length=False)
    return totp.generate(step * STEP_SECONDS).decode("ascii")


def _matching_step(secret: bytes, code: str, at: datetime) -> int | None:
    """The step within the drift whose code is `code` (each compared in constant time)."""
    now = time_step(at)
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp_code(secret, step), code):
            found = step
    return found


def _b32(secret: bytes) -> str:
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def provisioning_uri(secret: bytes, email: str, issuer: str) -> str:
    """`otpauth://totp/<issuer>:<email>?secret=…&issuer=<issuer>` (the key URI format of Google
    Authenticator). SHA-1, 6 digits and 30 s are that format's defaults, so they are left out:
    the shorter URI is a smaller QR code (version 6 for an email up to about 40 characters),
    which fits an 80×24 terminal with its quiet zone (tui/widgets/qr_code.py)."""
    label = quote(f"{issuer}:{email}", safe=":@")
    return f"otpauth://totp/{label}?secret={_b32(secret)}&issuer={quote(issuer, safe='')}"


def _context(account_id: int) -> str:
    return f"account:{account_id}"


def _secret_of(device: MfaDevice) -> bytes:
    return unseal(_SEAL_LABEL, device.secret_sealed, _context(device.account_id))


# --- recovery codes ----------------------------------------------------------------------------

def _new_recovery_code() -> str:
    chars = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


_MISREAD = str.maketrans({"i": "1", "l": "1", "o": "0"})


def normalise_recovery_code(text: str) -> str | None:
    """The code's 10 characters, or None if it cannot be one."""
    value = "".join(text.split()).replace("-", "").lower().translate(_MISREAD)
    if len(value) != RECOVERY_LENGTH or any(c not in RECOVERY_ALPHABET for c in value):
        return None
    return value


def _recovery_hash(account_id: int, normalised: str) -> str:
    return keyed_hash("recovery-code", str(account_id), normalised)


def _store_recovery_codes(account_id: int, at: datetime) -> tuple[str, ...]:
    """Replace the account's recovery codes by ten new ones (inside a transaction)."""
    RecoveryCode.delete().where(RecoveryCode.account == account_id).execute()
    codes = tuple(_new_recovery_code() for _ in range(RECOVERY_CODES))
    for code in codes:
        RecoveryCode.create(account=account_id,
                            code_hash=_recovery_hash(account_id, normalise_recovery_code(code)),
                            created_at=at)
    return codes


def _codes_left(account_id: int) -> int:
    return RecoveryCode.select().where(RecoveryCode.account == account_id,
                                       RecoveryCode.used_at.is_null()).count()


# --- status ------------------------------------------------------------------------------------

def _enabled_device(account_id: int) -> MfaDevice | None:
    return MfaDevice.get_or_none(MfaDevice.account == account_id,
                                 MfaDevice.enabled_at.is_null(False))


def mfa_enabled(account_id: int) -> bool:
    return _enabled_device(account_id) is not None


def mfa_status(account_id: int) -> MfaStatus:
    device = _enabled_device(account_id)
    if device is None:
        return MfaStatus(False, None, 0)
    return MfaStatus(True, device.enabled_at, _codes_left(account_id))


# --- checking a second factor ------------------------------------------------------------------

def read_code(text: str | None, field: str = CODE_FIELD) -> tuple[str, str]:
    """('authenticator', six digits) or ('recovery', ten characters), or ValidationError."""
    raw = "".join((text or "").split())
    if raw.isascii() and raw.isdigit() and len(raw) == DIGITS:
        return "authenticator", raw
    recovery = normalise_recovery_code(raw) if raw.isascii() else None
    if recovery is None:
        raise ValidationError(ENTER_CODE, field)
    return "recovery", recovery


def _accept_authenticator(device: MfaDevice, code: str, at: datetime) -> str | None:
    """None when accepted (its step recorded, in SQL), else the refusal."""
    step = _matching_step(_secret_of(device), code, at)
    if step is None:
        return WRONG_CODE
    accepted = MfaDevice.update(last_step=step).where(
        MfaDevice.account == device.account_id,
        MfaDevice.last_step.is_null() | (MfaDevice.last_step < step)).execute()
    return None if accepted == 1 else USED_CODE


def _accept_recovery(account_id: int, code: str, at: datetime) -> str | None:
    digest = _recovery_hash(account_id, code)
    used = RecoveryCode.update(used_at=at).where(
        RecoveryCode.account == account_id, RecoveryCode.code_hash == digest,
        RecoveryCode.used_at.is_null()).execute()
    if used == 1:
        return None
    if RecoveryCode.select().where(RecoveryCode.account == account_id,
                                   RecoveryCode.code_hash == digest).exists():
        return USED_RECOVERY
    return WRONG_CODE


def use_second_factor(account: Account, code: str | None, *, origin: str | None,
                      field: str = CODE_FIELD, in_session: bool = False,
                      on_success: Callable[[], T] | None = None) -> tuple[SecondFactor, T | None]:
    """Check an authenticator or recovery code of an account with MFA on and, in the same
    transaction, run `on_success`: the code is spent only if that commits. A wrong code is
    counted (core.logon_throttle) even though the error is raised; 5 in a row slow the account
    down (`in_session`: typed in a logged-on session, counted apart from the log-on's). Raises
    ValidationError (not a code), CodeError (wrong, used), LockedError (wait), Refused (MFA is
    off)."""
    from core.logon_throttle import (
        clear_mfa_failures,
        refuse_throttled_mfa,
        throttle_mfa_failure,
    )

    kind, value = read_code(code, field)
    at = clock.now()
    refuse_throttled_mfa(account.id, at, field, in_session=in_session)
    refusal: str | None = None
    result: T | None = None
    with transaction():
        device = _enabled_device(account.id)
        if device is None:
            raise Refused("Virtual MFA is not on for this account.", field)
        if kind == "authenticator":
            refusal = _accept_authenticator(device, value, at)
        else:
            refusal = _accept_recovery(account.id, value, at)
        if refusal is None:
            clear_mfa_failures(account.id, in_session=in_session)
            if on_success is not None:
                result = on_success()
            left = _codes_left(account.id)
    if refusal is not None:
        throttle_mfa_failure(account.id, account.email_key, origin, at, in_session=in_session)
        # the 5th in a row starts the delays
        refuse_throttled_mfa(account.id, at, field, in_session=in_session)
        raise CodeError(refusal, field)
    return SecondFactor(kind, left), result


# --- turning it on and off ---------------------------------------------------------------------

def _session_of(token: str | None):
    from core.sessions import require_account, resolve_session

    account = require_account(token)
    return account, resolve_session(token, touch=False)


def begin_mfa_setup(token: str | None) -> MfaSetup:
    """A new secret for the person to add to an authenticator app (Enable virtual MFA). It is
    not on until `bind_mfa` gets a current code from it. Needs a recent step-up."""
    from core.step_up import require_step_up

    account, _ = _session_of(token)
    if account.status not in ("active", "deletion_pending"):
        raise Refused("Verify your account before you turn on virtual MFA.", CODE_FIELD)
    require_step_up(token, "enable_mfa")
    secret = os.urandom(SECRET_BYTES)
    at = clock.now()
    with transaction():
        if _enabled_device(account.id) is not None:
            raise Refused("Virtual MFA is already on. Turn it off first to bind another "
                          "device.", CODE_FIELD)
        MfaDevice.delete().where(MfaDevice.account == account.id).execute()
        MfaDevice.create(account=account.id, created_at=at,
                         secret_sealed=seal(_SEAL_LABEL, secret, _context(account.id)))
    issuer = settings().brand
    return MfaSetup(_b32(secret), provisioning_uri(secret, account.email, issuer),
                    account.email, issuer, at + SETUP_LIFETIME)


def bind_mfa(token: str | None, code: str | None) -> MfaEnabled:
    """Turn virtual MFA on with a current code of the new secret; returns the ten recovery
    codes (shown once). The person's session counts as stepped up by it. Notified."""
    from core.notices import notify_mfa_enabled
    from core.step_up import require_step_up

    account, info = _session_of(token)
    require_step_up(token, "enable_mfa")
    raw = "".join((code or "").split())
    if not (raw.isascii() and raw.isdigit() and len(raw) == DIGITS):
        raise ValidationError("Enter the 6-digit code your authenticator app shows now.",
                              CODE_FIELD)
    at = clock.now()
    with transaction():
        device = MfaDevice.get_or_none(MfaDevice.account == account.id)
        if device is not None and device.enabled_at is not None:
            raise Refused("Virtual MFA is already on.", CODE_FIELD)
        if device is None or device.created_at + SETUP_LIFETIME < at:
            raise Refused("This setup has expired. Start again with Enable virtual MFA.",
                          CODE_FIELD)
        step = _matching_step(_secret_of(device), raw, at)
        if step is None:
            raise CodeError("That code does not match. Check that your phone's clock is right "
                            "and type the code the app shows now.", CODE_FIELD)
        MfaDevice.update(enabled_at=at, last_step=step).where(
            MfaDevice.account == account.id, MfaDevice.enabled_at.is_null()).execute()
        codes = _store_recovery_codes(account.id, at)
        Session.update(stepped_up_at=at).where(Session.id == info.id).execute()
    notify_mfa_enabled(account.id, origin=info.origin, at=at)
    return MfaEnabled(codes)


def disable_mfa(token: str | None, code: str | None, password: str | None) -> MfaStatus:
    """Turn virtual MFA off: a current code (or a recovery code) and the password, both
    (fields `mfa-code`, `password`; FormErrors when either is missing). Notified."""
    from core.notices import notify_mfa_disabled
    from core.security import check_password_again

    account, info = _session_of(token)
    form = FormCheck()
    form.check(read_code, code, CODE_FIELD)
    if not password:
        form.refuse("password", N_("Enter your password."))
    form.raise_errors()
    if not mfa_enabled(account.id):
        raise Refused("Virtual MFA is not on.", CODE_FIELD)
    check_password_again(account, password, "password")
    at = clock.now()

    def turn_off() -> None:
        MfaDevice.delete().where(MfaDevice.account == account.id).execute()
        RecoveryCode.delete().where(RecoveryCode.account == account.id).execute()
        PendingLogOn.update(ended_at=at).where(PendingLogOn.account == account.id,
                                               PendingLogOn.ended_at.is_null()).execute()

    use_second_factor(account, code, origin=info.origin, in_session=True, on_success=turn_off)
    notify_mfa_disabled(account.id, origin=info.origin, at=at)
    return mfa_status(account.id)


def regenerate_recovery_codes(token: str | None) -> tuple[str, ...]:
    """Ten new recovery codes (shown once); the old ones stop working. Needs a step-up."""
    from core.step_up import require_step_up

    account, _ = _session_of(token)
    require_step_up(token, "regenerate_recovery_codes")
    at = clock.now()
    with transaction():
        if _enabled_device(account.id) is None:
            raise Refused("Virtual MFA is not on: there are no recovery codes.", CODE_FIELD)
        return _store_recovery_codes(account.id, at)


def forget_mfa(account_id: int) -> None:
    """Erase the account's device, recovery codes and pending log-ons (F10)."""
    MfaDevice.delete().where(MfaDevice.account == account_id).execute()
    RecoveryCode.delete().where(RecoveryCode.account == account_id).execute()
    PendingLogOn.delete().where(PendingLogOn.account == account_id).execute()
