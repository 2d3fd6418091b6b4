"""Logging on with virtual MFA on (SPEC F13): after the password, Log on asks for the code
(`#mfa-code`, `#mfa-verify`, errors in `#mfa-code-error`); a recovery code works there too.

The tests set MFA up through the core (begin_mfa_setup, bind_mfa) and compute each code with
core.mfa.totp_code from the device's secret, on the movable clock."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import timedelta

from textual.widgets import Input

from tests.conftest import STRONG_PASSWORD, latest_code
from tests.tui.helpers import fill, log_on, settle, shown
from tui.app import CloudAcctApp
from tui.screens.console import ConsoleScreen
from tui.screens.log_on import LogOnScreen

SIZE = (100, 32)
EMAIL = "mei@example.com"


@dataclass
class MfaAccount:
    email: str
    secret: bytes
    recovery_codes: tuple[str, ...]

    def code(self, steps_ahead: int = 0) -> str:
        """The authenticator's code now (core.mfa.totp_code of the device's secret)."""
        from core import clock
        from core.mfa import time_step, totp_code

        return totp_code(self.secret, time_step(clock.now()) + steps_ahead)


def next_step() -> None:
    """The next 30-second step: a code is accepted once, so each log-on needs a new one."""
    from core import clock

    clock.advance(timedelta(seconds=30))


def mfa_account(email: str = EMAIL, country: str = "SG") -> MfaAccount:
    """An active account (verified by email) with virtual MFA bound."""
    from core import clock
    from core.accounts import sign_up
    from core.config import settings
    from core.db import init_database
    from core.mfa import begin_mfa_setup, bind_mfa, time_step, totp_code
    from core.verify_account import confirm_code, send_code

    init_database(settings().database_url)
    token = sign_up(country, email, STRONG_PASSWORD, STRONG_PASSWORD, True).token
    send_code(token, "signup", "email")
    confirm_code(token, "signup", "email", latest_code(email))
    setup = begin_mfa_setup(token)
    secret = base64.b32decode(setup.secret + "=" * (-len(setup.secret) % 8))
    enabled = bind_mfa(token, totp_code(secret, time_step(clock.now())))
    next_step()  # the binding code's step is spent
    return MfaAccount(email, secret, enabled.recovery_codes)


def mfa_step_shown(app: CloudAcctApp) -> bool:
    screen = app.screen
    return (isinstance(screen, LogOnScreen) and screen.has_class("-mfa")
            and screen.query_one("#mfa-code").display
            and not screen.query_one("#password-step").display)


async def test_the_code_is_asked_after_the_password_and_logs_on(db):
    account = mfa_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await log_on(pilot, EMAIL)
        assert mfa_step_shown(app)
        assert app.token is None  # no session before the code
        assert app.focused is app.screen.query_one("#mfa-code")
        assert "m•i@example.com" in shown(pilot, "#mfa-intro")
        fill(pilot, "#mfa-code", account.code())
        await pilot.click("#mfa-verify")
        await settle(pilot)
        assert isinstance(app.screen, ConsoleScreen)
        assert app.token is not None


async def test_a_wrong_code_is_said_beside_the_field_and_focus_stays_there(db):
    account = mfa_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await log_on(pilot, EMAIL)
        wrong = "000000" if account.code() != "000000" else "111111"
        fill(pilot, "#mfa-code", wrong)
        await pilot.click("#mfa-verify")
        await settle(pilot)
        assert mfa_step_shown(app)
        assert "not correct" in shown(pilot, "#mfa-code-error")
        assert app.focused is app.screen.query_one("#mfa-code")
        assert app.screen.query_one("#mfa-code", Input).value == ""  # typed again
        # Enter in the code field is the step's Verify.
        await pilot.press(*account.code(), "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConsoleScreen)


async def test_a_recovery_code_logs_on_once(db):
    account = mfa_account()
    code = account.recovery_codes[0]
    typed = code.upper().replace("-", " ")  # spaces, upper case: the same code
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await log_on(pilot, EMAIL)
        fill(pilot, "#mfa-code", typed)
        await pilot.click("#mfa-verify")
        await settle(pilot)
        assert isinstance(app.screen, ConsoleScreen)
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await log_on(pilot, EMAIL)
        fill(pilot, "#mfa-code", code)
        await pilot.click("#mfa-verify")
        await settle(pilot)
        assert mfa_step_shown(app)
        assert "already used" in shown(pilot, "#mfa-code-error")


async def test_a_code_used_once_is_refused_the_second_time(db):
    account = mfa_account()
    code = account.code()
    for expected_console in (True, False):
        app = CloudAcctApp()
        async with app.run_test(size=SIZE) as pilot:
            await log_on(pilot, EMAIL)
            fill(pilot, "#mfa-code", code)
            await pilot.click("#mfa-verify")
            await settle(pilot)
            assert isinstance(app.screen, ConsoleScreen) is expected_console
            if not expected_console:
                assert "already used" in shown(pilot, "#mfa-code-error")


async def test_an_expired_step_goes_back_to_the_password_with_the_reason(db):
    from core import clock

    account = mfa_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await log_on(pilot, EMAIL)
        assert mfa_step_shown(app)
        clock.advance(timedelta(minutes=6))
        fill(pilot, "#mfa-code", account.code())
        await pilot.click("#mfa-verify")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LogOnScreen) and not screen.has_class("-mfa")
        assert "expired" in shown(pilot, "#log-on-error")
        assert screen.query_one("#email", Input).value == EMAIL  # kept
        assert app.focused is screen.query_one("#password")


async def test_escape_from_the_code_step_returns_to_the_password(db):
    mfa_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await log_on(pilot, EMAIL)
        assert mfa_step_shown(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LogOnScreen) and not app.screen.has_class("-mfa")
        assert app.focused is app.screen.query_one("#password")
