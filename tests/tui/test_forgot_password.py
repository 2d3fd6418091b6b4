"""F12 at the keyboard: Forgot password? on Log on, a code to the email, a new password twice,
Reset, and back to Log on saying so. An unknown or unverified email looks the same."""

from __future__ import annotations

from textual.widgets import Button, Input

from tests.conftest import STRONG_PASSWORD, latest_code
from tests.tui.helpers import fill, log_on, settle, shown
from tests.tui.test_keys_in_one_burst import until, write
from tests.tui.test_mfa_log_on import mfa_account
from tui.app import CloudAcctApp
from tui.screens.console import ConsoleScreen
from tui.screens.forgot_password import ForgotPasswordScreen
from tui.screens.log_on import LogOnScreen

SIZE = (100, 32)
EMAIL = "mei@example.com"
LOOKALIKE = "mai@example.com"  # masked like EMAIL: m•i@example.com
NEW_PASSWORD = "Violet-Harbour-Lantern-1987"


def active_account(email: str = EMAIL, phone: str | None = None) -> None:
    from core.accounts import sign_up
    from core.config import settings
    from core.db import init_database
    from core.verify_account import confirm_code, send_code

    init_database(settings().database_url)
    token = sign_up("SG", email, STRONG_PASSWORD, STRONG_PASSWORD, True).token
    send_code(token, "signup", "email")
    confirm_code(token, "signup", "email", latest_code(email))
    if phone:
        send_code(token, "second_channel", "sms", phone)
        confirm_code(token, "second_channel", "sms", latest_code(phone), phone)


def delivered(to: str) -> int:
    from core.delivery import read_outbox

    return len(read_outbox(to))


async def open_forgot_password(pilot) -> ForgotPasswordScreen:
    await pilot.click("#log-on")
    await pilot.pause()
    await pilot.click("#forgot-password")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ForgotPasswordScreen)
    assert pilot.app.focused is screen.query_one("#reset-email")
    return screen


async def send_code_to(pilot, email: str) -> None:
    fill(pilot, "#reset-email", email)
    await pilot.click("#reset-send")
    await settle(pilot)


async def reset(pilot, code: str, password: str = NEW_PASSWORD,
                confirm: str | None = None) -> None:
    fill(pilot, "#reset-code", code)
    fill(pilot, "#reset-password", password)
    fill(pilot, "#reset-password-confirm", password if confirm is None else confirm)
    await pilot.click("#reset-confirm")
    await settle(pilot)


def visible_text(app) -> list[str]:
    """What every Static on the screen says (status, hints, error lines, the meter)."""
    from textual.widgets import Static

    return [str(w.render()) for w in app.screen.query(Static) if w.display]


async def test_reset_by_email_then_log_on_with_the_new_password(db):
    from core.delivery import read_outbox

    active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_forgot_password(pilot)
        await send_code_to(pilot, EMAIL)
        assert "m•i@example.com" in shown(pilot, "#reset-status")
        assert app.focused is app.screen.query_one("#reset-code")
        await reset(pilot, latest_code(EMAIL))
        assert isinstance(app.screen, LogOnScreen)
        assert "password has been reset" in shown(pilot, "#log-on-message")
        await log_on(pilot, EMAIL, STRONG_PASSWORD)  # the old one no longer works
        assert isinstance(app.screen, LogOnScreen)
        assert "not correct" in shown(pilot, "#log-on-error")
        await log_on(pilot, EMAIL, NEW_PASSWORD)
        assert isinstance(app.screen, ConsoleScreen)
    assert "reset" in read_outbox(EMAIL)[0].subject.lower()  # the notice


async def test_an_unknown_email_looks_the_same_as_a_known_one(db):
    """Same status, same buttons, same refusal of a wrong code; nothing sent to it."""
    active_account()
    seen = {}
    for email in (EMAIL, LOOKALIKE):
        app = CloudAcctApp()
        async with app.run_test(size=SIZE) as pilot:
            await open_forgot_password(pilot)
            await send_code_to(pilot, email)
            status = shown(pilot, "#reset-status")
            buttons = [str(b.label) for b in app.screen.query(Button) if b.display]
            focus = app.focused.id
            await reset(pilot, "000001")
            seen[email] = (status, buttons, focus, shown(pilot, "#reset-code-error"),
                           [t.replace(email, "EMAIL") for t in visible_text(app)])
    assert seen[EMAIL] == seen[LOOKALIKE]
    assert "if m•i@example.com belongs to an account" in seen[EMAIL][0].lower()
    assert delivered(LOOKALIKE) == 0


async def test_an_unverified_account_is_treated_as_unknown(db):
    from core.accounts import sign_up

    active_account()
    sign_up("SG", LOOKALIKE, STRONG_PASSWORD, STRONG_PASSWORD, True)  # never verified
    before = delivered(LOOKALIKE)
    statuses = []
    for email in (EMAIL, LOOKALIKE):
        app = CloudAcctApp()
        async with app.run_test(size=SIZE) as pilot:
            await open_forgot_password(pilot)
            await send_code_to(pilot, email)
            statuses.append(shown(pilot, "#reset-status"))
    assert statuses[0] == statuses[1]
    assert delivered(LOOKALIKE) == before


async def test_every_refusal_of_the_reset_at_once_focus_on_the_first(db):
    active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_forgot_password(pilot)
        await send_code_to(pilot, EMAIL)
        await reset(pilot, "12ab", "short", "other")
        assert isinstance(app.screen, ForgotPasswordScreen)
        assert "6-digit" in shown(pilot, "#reset-code-error")
        assert "12 characters" in shown(pilot, "#reset-password-error")
        assert "not the same" in shown(pilot, "#reset-password-confirm-error")
        assert app.focused is app.screen.query_one("#reset-code")
        assert app.screen.query_one("#reset-password", Input).value == "short"  # kept


async def test_reset_before_send_says_what_to_do_first(db):
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_forgot_password(pilot)
        await pilot.click("#reset-confirm")
        await settle(pilot)
        assert "press Send" in shown(pilot, "#reset-email-error")
        assert app.focused is app.screen.query_one("#reset-email")


async def test_the_code_by_text_message_to_the_verified_phone(db):
    active_account(phone="+65 8123 4567")
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_forgot_password(pilot)
        await send_code_to(pilot, EMAIL)
        from datetime import timedelta

        from core import clock

        clock.advance(timedelta(seconds=61))
        await pilot.click("#reset-use-phone")
        await settle(pilot)
        assert "text message" in shown(pilot, "#reset-status")
        assert "+65" not in shown(pilot, "#reset-status")  # never shows the number
        await reset(pilot, latest_code("+6581234567"))
        assert isinstance(app.screen, LogOnScreen)


async def test_with_mfa_on_the_reset_asks_for_the_authenticator_code(db):
    account = mfa_account(EMAIL)
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_forgot_password(pilot)
        await send_code_to(pilot, EMAIL)
        await reset(pilot, latest_code(EMAIL))
        assert isinstance(app.screen, ForgotPasswordScreen)
        assert "authenticator" in shown(pilot, "#mfa-code-error")
        assert app.focused is app.screen.query_one("#mfa-code")
        await pilot.press(*account.code(), "enter")  # Enter in the last field: Reset
        await settle(pilot)
        assert isinstance(app.screen, LogOnScreen)
        assert "password has been reset" in shown(pilot, "#log-on-message")


async def test_the_reset_typed_in_bursts_lands_where_typed(db):
    """A password manager's auto-type on the new screen: each burst is one read."""
    active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_forgot_password(pilot)
        write(app, f"{EMAIL}\r")
        await until(pilot, lambda: delivered(EMAIL) >= 2, "the reset code")
        await settle(pilot)
        assert app.focused is app.screen.query_one("#reset-code")
        write(app, f"{latest_code(EMAIL)}\t{NEW_PASSWORD}\t{NEW_PASSWORD}\r")
        await until(pilot, lambda: isinstance(app.screen, LogOnScreen), "back on Log on")
        await settle(pilot)
        assert "password has been reset" in shown(pilot, "#log-on-message")
