"""F14 change email / change phone from Security settings: the step-up first, a code to the new
address or number (from the outbox), confirm; the account keeps its id, both addresses are
told; refusals in `#change-error`; Escape changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.pilot import Pilot

from tests.conftest import STRONG_PASSWORD, latest_code
from tests.tui.helpers import fill, settle, shown, snapshot_ready
from tests.tui.test_security import (  # noqa: F401 (long_sessions is an autouse fixture)
    EMAIL,
    active_account,
    long_sessions,
    open_security,
    press,
)
from tui.app import CloudAcctApp
from tui.modals.change_contact import ChangeContactModal
from tui.modals.step_up import StepUpModal
from tui.screens.console import ConsoleScreen

SIZE = (100, 32)
NEW_EMAIL = "alice.new@example.org"
PHONE = "8123 4567"
E164 = "+6581234567"


def account_of(token: str):
    from core.models import Account
    from core.sessions import require_account

    return Account.get_by_id(require_account(token).id)


async def test_change_email_asks_for_a_step_up_then_a_code_and_tells_both_addresses(clock):
    from core.accounts import log_on
    from core.delivery import read_outbox

    token = active_account()
    before = account_of(token).id
    clock.advance(timedelta(minutes=6))  # the log-on's proof has run out
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        await press(pilot, "#change-email")
        assert isinstance(app.screen, ChangeContactModal)
        assert EMAIL in shown(pilot, "#change-current")
        fill(pilot, "#new-email", NEW_EMAIL)
        await press(pilot, "#change-send")
        assert isinstance(app.screen, StepUpModal)  # F13: the password, MFA being off
        fill(pilot, "#step-up-code", STRONG_PASSWORD)
        await press(pilot, "#step-up-confirm")
        assert isinstance(app.screen, ChangeContactModal)  # and the code went out
        assert "We sent a 6-digit code to" in shown(pilot, "#change-status")
        assert app.screen.focused is app.screen.query_one("#change-code")

        fill(pilot, "#change-code", "000000" if latest_code(NEW_EMAIL) != "000000" else "111111")
        await press(pilot, "#change-confirm")
        assert isinstance(app.screen, ChangeContactModal)
        assert shown(pilot, "#change-error")
        assert account_of(token).email == EMAIL

        fill(pilot, "#change-code", latest_code(NEW_EMAIL))
        await press(pilot, "#change-confirm")
        assert isinstance(app.screen, ConsoleScreen)
        assert shown(pilot, "#security-message") == f"Your log-on email is now {NEW_EMAIL}."
        assert f"{NEW_EMAIL} (verified)" in shown(pilot, "#security-account")
        assert app.screen.focused is app.screen.query_one("#change-email")

    account = account_of(token)
    assert (account.id, account.email) == (before, NEW_EMAIL)
    old_notice = read_outbox(EMAIL)[0]
    new_notice = read_outbox(NEW_EMAIL)[0]
    assert "changed" in (old_notice.subject or "").lower()
    assert (new_notice.subject or "").startswith("This is now the email of your")
    assert not __import__("re").search(r"(?<!\d)\d{6}(?!\d)", new_notice.body)  # a notice
    assert log_on(NEW_EMAIL, STRONG_PASSWORD).token


async def test_change_email_to_a_bad_address_is_refused_in_change_error():
    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        await press(pilot, "#change-email")
        fill(pilot, "#new-email", "not an address")
        await press(pilot, "#change-send")
        assert isinstance(app.screen, ChangeContactModal)
        assert shown(pilot, "#change-error")
        assert app.screen.focused is app.screen.query_one("#new-email")
        fill(pilot, "#new-email", EMAIL)
        await press(pilot, "#change-send")
        assert shown(pilot, "#change-error") == \
            "This is already the email address of your account."


async def test_an_email_of_another_account_looks_the_same_and_its_owner_is_told():
    from core.delivery import read_outbox

    token = active_account()
    active_account("bob@example.com")
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        await press(pilot, "#change-email")
        fill(pilot, "#new-email", "bob@example.com")
        await press(pilot, "#change-send")
        assert "We sent a 6-digit code to" in shown(pilot, "#change-status")
        assert shown(pilot, "#change-error") == ""
    newest = read_outbox("bob@example.com")[0]
    assert not __import__("re").search(r"(?<!\d)\d{6}(?!\d)", newest.body)  # no code, a notice


async def test_change_phone_by_sms_then_the_code(clock):
    from core.delivery import read_outbox

    token = active_account()
    assert account_of(token).phone_verified_at is None
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        await press(pilot, "#change-phone")
        assert isinstance(app.screen, ChangeContactModal)
        fill(pilot, "#new-phone", "+1 415 555 0100")  # not of the account's country (SG)
        await press(pilot, "#change-send")
        assert shown(pilot, "#change-error")

        fill(pilot, "#new-phone", PHONE)
        await press(pilot, "#change-send")
        assert "by text message" in shown(pilot, "#change-status")
        fill(pilot, "#change-code", latest_code(E164))
        await press(pilot, "#change-confirm")
        assert isinstance(app.screen, ConsoleScreen)
        assert shown(pilot, "#security-message") == "Your phone number was changed."
        assert "(verified)" in shown(pilot, "#security-account").splitlines()[1]
    account = account_of(token)
    assert account.phone == E164 and account.phone_verified_at is not None
    assert any("phone" in (m.subject or "").lower() for m in read_outbox(EMAIL))


async def test_escape_closes_the_change_window_and_changes_nothing():
    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        await press(pilot, "#change-email")
        fill(pilot, "#new-email", NEW_EMAIL)
        await press(pilot, "#change-send")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConsoleScreen)
        assert app.screen.focused is app.screen.query_one("#change-email")
    assert account_of(token).email == EMAIL


# --- snapshots ---------------------------------------------------------------------------------

def at_change(token: str, kind: str, sent: bool):
    async def run_before(pilot: Pilot) -> None:
        await open_security(pilot, token)
        await snapshot_ready(pilot)  # the section behind at rest first
        await press(pilot, f"#change-{kind}")
        if sent:
            fill(pilot, f"#new-{kind}", NEW_EMAIL if kind == "email" else PHONE)
            await press(pilot, "#change-send")
        await snapshot_ready(pilot)
        await snapshot_ready(pilot)  # again: a late scroll behind the window undone

    return run_before


@pytest.mark.parametrize("size", [(80, 24), SIZE])
@pytest.mark.parametrize("kind", ["email", "phone"])
def test_snapshot_change_contact(snap_compare, size, kind):
    token = active_account()
    assert snap_compare(CloudAcctApp(), terminal_size=size,
                        run_before=at_change(token, kind, sent=True))
