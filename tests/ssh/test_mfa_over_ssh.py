"""An account with virtual MFA on logs on over a real SSH connection (SPEC F13): after the
password the console asks for the authenticator code; a trusted key that is not a security key
stands for the password only, so the console opens at the code step.

The console runs in its own process on CLOUDACCT_NOW; the test's clock is moved to the same
instant, and the code is core.mfa.totp_code of the device's secret for that step."""

from __future__ import annotations

import base64

import asyncssh

from tests.conftest import STRONG_PASSWORD, latest_code
from tests.ssh.conftest import connect, eventually

EMAIL = "mei@example.com"
NOW = "2026-12-01T10:00:30Z"  # the step after the binding code's (the suite's START + 30 s)


def mfa_on(token: str) -> bytes:
    """Bind a virtual MFA device to the session's account (at the suite's START): its secret."""
    from core import clock
    from core.mfa import begin_mfa_setup, bind_mfa, time_step, totp_code

    setup = begin_mfa_setup(token)
    secret = base64.b32decode(setup.secret + "=" * (-len(setup.secret) % 8))
    bind_mfa(token, totp_code(secret, time_step(clock.now())))
    return secret


def active_account(email: str = EMAIL) -> str:
    from core.accounts import sign_up
    from core.verify_account import confirm_code, send_code

    token = sign_up("SG", email, STRONG_PASSWORD, STRONG_PASSWORD, True).token
    send_code(token, "signup", "email")
    confirm_code(token, "signup", "email", latest_code(email))
    return token


def code_at_console(secret: bytes) -> str:
    """The code the authenticator shows at the console's instant (NOW)."""
    from core import clock
    from core.clock import parse_instant
    from core.mfa import time_step, totp_code

    clock.set_now(parse_instant(NOW))
    return totp_code(secret, time_step(clock.now()))


def sessions_of(email: str) -> list:
    from core.models import Account, Session

    account = Account.get(Account.email == email)
    return list(Session.select().where(Session.account == account.id))


async def test_password_then_the_code_over_ssh(ssh_server, monkeypatch):
    monkeypatch.setenv("CLOUDACCT_NOW", NOW)
    secret = mfa_on(active_account())
    before = len(sessions_of(EMAIL))
    port = await ssh_server()
    console = await connect(port, cols=80, rows=24)
    try:
        await console.wait_for("Free Account")
        await console.settle()
        console.send("\r")
        await console.wait_for("Log on to your account")
        await console.settle()
        console.send(f"{EMAIL}\t{STRONG_PASSWORD}\r")  # one write, as auto-type does
        await console.wait_for("Virtual MFA is on", timeout=60)
        await console.settle()
        assert len(sessions_of(EMAIL)) == before  # no session before the code
        console.send("000000\r" if code_at_console(secret) != "000000" else "111111\r")
        await console.wait_for("not correct")
        await console.settle()
        console.send(code_at_console(secret) + "\r")
        await console.wait_for("Log off", timeout=60)
        await console.wait_for(EMAIL)
        assert "Traceback" not in console.text()
    finally:
        await console.close()
    opened = await eventually(lambda: sessions_of(EMAIL)[before:], what="the new session")
    assert opened[0].origin == "127.0.0.1"


async def test_a_trusted_ordinary_key_opens_at_the_code_step(ssh_server, monkeypatch):
    """SPEC F13: only a touched security key is a second factor; any other trusted key still
    needs the code at connect (and no password)."""
    from core.accounts import log_on
    from core.security import trust_current_key

    monkeypatch.setenv("CLOUDACCT_NOW", NOW)
    active_account()
    key = asyncssh.generate_private_key("ssh-ed25519")
    session = log_on(EMAIL, STRONG_PASSWORD, origin="127.0.0.1",
                     key_fingerprint=key.get_fingerprint("sha256"),
                     key_algorithm=key.get_algorithm())
    trust_current_key(session.token)
    secret = mfa_on(session.token)
    port = await ssh_server()
    console = await connect(port, key=key, cols=80, rows=24)
    try:
        await console.wait_for("Your SSH key is trusted", timeout=60)
        await console.settle()
        console.send(code_at_console(secret) + "\r")
        await console.wait_for("Log off", timeout=60)
        await console.wait_for(EMAIL)
    finally:
        await console.close()
    keyed = [s for s in sessions_of(EMAIL) if s.key_fingerprint == key.get_fingerprint("sha256")]
    assert len(keyed) == 2  # the one that trusted the key, and the one the code opened
