"""Helpers of the account-protection tests (issue 13): an account with virtual MFA on, the
TOTP of its secret at the movable clock, sessions from SSH."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from tests.conftest import STRONG_PASSWORD, latest_code

EMAIL = "alice@example.com"
PHONE = "+65 8123 4567"
E164 = "+6581234567"
SSH_ADDRESS = "203.0.113.5"
KEY = "SHA256:uJ0DLmV1ytPmgw1ooIhdq0qvGEw9nC5V8rYuY0xpmtQ"
SK_ED25519 = "sk-ssh-ed25519@openssh.com"
SK_ECDSA = "sk-ecdsa-sha2-nistp256@openssh.com"
NEW_PASSWORD = "a brand new pass phrase 42"


def secret_bytes(base32: str) -> bytes:
    return base64.b32decode(base32 + "=" * (-len(base32) % 8))


def totp(secret: bytes, offset_steps: int = 0) -> str:
    """The code of `secret` for the clock's step plus `offset_steps`, computed here from RFC
    6238 with the standard library (not with the code under test)."""
    import hashlib
    import hmac
    import struct

    from core import clock
    from core.mfa import time_step

    counter = time_step(clock.now()) + offset_steps
    digest = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    start = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[start:start + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


@dataclass
class MfaAccount:
    token: str
    secret: bytes
    secret_text: str
    recovery_codes: tuple[str, ...]
    email: str = EMAIL

    def code(self, offset_steps: int = 0) -> str:
        return totp(self.secret, offset_steps)


def next_step() -> None:
    """Move the clock to the start of the next 30-second step (a code is used once)."""
    from datetime import timedelta

    from core import clock

    seconds = clock.now().second % 30 + clock.now().microsecond / 1e6
    clock.advance(timedelta(seconds=30 - seconds))


def enable_mfa(token: str, email: str = EMAIL) -> MfaAccount:
    from core.mfa import begin_mfa_setup, bind_mfa

    setup = begin_mfa_setup(token)
    secret = secret_bytes(setup.secret)
    enabled = bind_mfa(token, totp(secret))
    next_step()  # the binding code's step is spent
    return MfaAccount(token, secret, setup.secret, enabled.recovery_codes, email)


def active_account(email: str = EMAIL, phone: str | None = None, origin: str = "local") -> str:
    """An active account verified by email (and its phone by SMS): its session token."""
    from core.accounts import sign_up
    from core.verify_account import confirm_code, send_code

    result = sign_up("SG", email, STRONG_PASSWORD, STRONG_PASSWORD, True, origin=origin)
    send_code(result.token, "signup", "email")
    confirm_code(result.token, "signup", "email", latest_code(email))
    if phone:
        send_code(result.token, "second_channel", "sms", phone)
        confirm_code(result.token, "second_channel", "sms", latest_code(phone), phone)
    return result.token


def ssh_session(email: str = EMAIL, key: str = KEY, algorithm: str | None = "ssh-ed25519",
                address: str = SSH_ADDRESS) -> str:
    """A password log-on over SSH with a key (MFA off)."""
    from core.accounts import log_on

    return log_on(email, STRONG_PASSWORD, origin=address, key_fingerprint=key,
                  key_algorithm=algorithm).token


def outbox_count(to: str) -> int:
    from core.delivery import read_outbox

    return len(read_outbox(to))


def expire_grant() -> None:
    """Let the step-up window (and the log-on's proof) pass."""
    from datetime import timedelta

    from core import clock
    from core.step_up import STEP_UP_WINDOW

    clock.advance(STEP_UP_WINDOW + timedelta(seconds=1))
