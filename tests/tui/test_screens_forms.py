"""The forms of the screens people meet before the console (issue 12): live checks by core's
rules, focus on the first field in error after a refusal (never on nothing), Enter in the last
field is the form's button, and a phone placeholder of the account's own country."""

from __future__ import annotations

from textual.widgets import Input

from tests.conftest import STRONG_PASSWORD, latest_code
from tests.tui.helpers import fill, log_on, settle, shown, type_into
from tui.app import CloudAcctApp
from tui.screens.log_on import LogOnScreen
from tui.screens.sign_up import SignUpScreen
from tui.screens.verify import VerifyScreen

SIZE = (100, 32)


async def open_sign_up(pilot) -> None:
    await pilot.click("#free-account")
    await pilot.pause()
    assert isinstance(pilot.app.screen, SignUpScreen)


async def test_sign_up_says_a_bad_email_as_the_person_leaves_the_field(db):
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_sign_up(pilot)
        await type_into(pilot, "#email", "not-an-email")
        await pilot.press("tab")
        await pilot.pause()
        assert "not a valid email" in shown(pilot, "#email-error")
        # Typing again clears it; a valid address says nothing.
        await type_into(pilot, "#email", "mei@example.com")
        await pilot.press("tab")
        await pilot.pause()
        assert shown(pilot, "#email-error") == ""


async def test_sign_up_says_a_mismatched_confirmation_on_leaving_it(db):
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_sign_up(pilot)
        fill(pilot, "#password", STRONG_PASSWORD)
        await type_into(pilot, "#password-confirm", "something else")
        await pilot.press("tab")
        await pilot.pause()
        assert "not the same" in shown(pilot, "#password-confirm-error")


async def test_enter_in_the_last_sign_up_field_confirms_and_focus_lands_in_error(db):
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_sign_up(pilot)
        fill(pilot, "#email", "mei@example.com")
        fill(pilot, "#password", STRONG_PASSWORD)
        await type_into(pilot, "#password-confirm", STRONG_PASSWORD)
        await pilot.press("enter")  # no country, box not checked
        await settle(pilot)
        assert isinstance(app.screen, SignUpScreen)
        assert "country" in shown(pilot, "#country-error").lower()
        assert "Check the box" in shown(pilot, "#agree-error")
        assert app.focused is app.screen.query_one("#country")
        assert app.screen.query_one("#password-confirm", Input).value == STRONG_PASSWORD


async def test_a_wrong_password_empties_it_and_waits_there(db):
    from tests.tui.test_forgot_password import active_account

    active_account("mei@example.com")
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await log_on(pilot, "mei@example.com", "not the password at all")
        screen = app.screen
        assert isinstance(screen, LogOnScreen)
        assert "not correct" in shown(pilot, "#log-on-error")
        assert screen.query_one("#password", Input).value == ""
        assert screen.query_one("#email", Input).value == "mei@example.com"
        assert app.focused is screen.query_one("#password")


async def test_log_on_offers_forgot_password(db):
    from tui.screens.forgot_password import ForgotPasswordScreen

    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#log-on")
        await pilot.pause()
        await pilot.click("#forgot-password")
        await settle(pilot)
        assert isinstance(app.screen, ForgotPasswordScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LogOnScreen)


async def unverified_on_verify(pilot, country: str, email: str) -> None:
    from core.accounts import sign_up

    sign_up(country, email, STRONG_PASSWORD, STRONG_PASSWORD, True)
    await log_on(pilot, email)
    assert isinstance(pilot.app.screen, VerifyScreen)


async def test_the_phone_placeholder_is_of_the_accounts_country(db):
    from core.validation import phone_example

    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await unverified_on_verify(pilot, "IN", "priya@example.com")
        await pilot.click("#use-phone")
        await settle(pilot)
        placeholder = app.screen.query_one("#phone", Input).placeholder
        assert placeholder == phone_example("IN") and placeholder.startswith("+91")


async def test_a_bad_phone_on_send_is_said_beside_it_with_focus_there(db):
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await unverified_on_verify(pilot, "SG", "mei@example.com")
        await pilot.click("#use-phone")
        await settle(pilot)
        fill(pilot, "#phone", "12")
        await pilot.click("#send-message")
        await settle(pilot)
        assert shown(pilot, "#phone-error") != ""
        assert app.focused is app.screen.query_one("#phone")
        assert app.screen.query_one("#phone", Input).value == "12"


async def test_a_wrong_code_on_verify_is_said_and_focus_is_on_the_code(db):
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await unverified_on_verify(pilot, "SG", "mei@example.com")
        await pilot.click("#send")
        await settle(pilot)
        right = latest_code("mei@example.com")
        fill(pilot, "#code", "000000" if right != "000000" else "111111")
        await pilot.press("enter")
        await settle(pilot)
        assert "Tries left: 4" in shown(pilot, "#code-status")
        assert shown(pilot, "#code-error") != ""
        assert app.focused is app.screen.query_one("#code")


async def test_enter_in_the_phone_sends_the_text_message(db):
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await unverified_on_verify(pilot, "SG", "mei@example.com")
        await pilot.click("#use-phone")
        await settle(pilot)
        await type_into(pilot, "#phone", "+65 8123 4567")
        await pilot.press("enter")
        await settle(pilot)
        assert "Tries left" in shown(pilot, "#code-status")
        assert latest_code("+6581234567")
        assert app.focused is app.screen.query_one("#code")
