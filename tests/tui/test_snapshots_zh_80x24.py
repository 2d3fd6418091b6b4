"""Issue 15 (SPEC F18): the 80x24 snapshots again, in Simplified Chinese (CLOUDACCT_LANG=zh-Hans).

The same screens and modals, set up the same way, as every 80x24 picture of the suite:
tests/tui/test_snapshots.py (Overview), test_screens_snapshots.py (the screens before the
console, the agreement and step-up modals), test_money_snapshots.py, test_snapshots_80x24.py,
test_account_security.py, test_change_contact.py, test_delete_account.py and test_mfa_setup.py.
Double-width characters must not push a button, a field or an error line off the screen.

After a change of wording, `pytest tests/tui/test_snapshots_zh_80x24.py --snapshot-update`
draws them again; look at every SVG that changed before committing it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, RadioButton

from tests.conftest import START, STRONG_PASSWORD
from tests.tui.helpers import at_the_first_error, fill, log_on, settle, sign_up, snapshot_ready
from tests.tui.zh_walk import zh_hans  # noqa: F401 (an autouse fixture: the console in zh-Hans)
from tui.app import CloudAcctApp

SMALL = (80, 24)


def zh_app() -> CloudAcctApp:
    app = CloudAcctApp()
    assert app.starting_language == "zh-Hans"
    return app


def snap(snap_compare, run_before) -> bool:
    return snap_compare(zh_app(), terminal_size=SMALL, run_before=run_before)


# --- before log-on (test_screens_snapshots.py, test_snapshots.py) ------------------------------

def test_welcome(snap_compare):
    assert snap(snap_compare, snapshot_ready)


def test_sign_up(snap_compare):
    async def run_before(pilot: Pilot) -> None:
        await pilot.click("#free-account")
        await snapshot_ready(pilot)

    assert snap(snap_compare, run_before)


def test_sign_up_with_every_error(snap_compare):
    async def run_before(pilot: Pilot) -> None:
        await pilot.click("#free-account")
        await pilot.pause()
        await sign_up(pilot, None, "not-an-email", "short", "other", agree=False)
        await at_the_first_error(pilot)
        await snapshot_ready(pilot)

    assert snap(snap_compare, run_before)


def test_agreement(snap_compare):
    async def run_before(pilot: Pilot) -> None:
        await pilot.click("#free-account")
        await pilot.pause()
        await pilot.click("#read-membership-agreement")
        await snapshot_ready(pilot)

    assert snap(snap_compare, run_before)


def test_verify_phone(snap_compare):
    from core.accounts import sign_up as core_sign_up

    core_sign_up("IN", "priya@example.com", STRONG_PASSWORD, STRONG_PASSWORD, True)

    async def run_before(pilot: Pilot) -> None:
        await log_on(pilot, "priya@example.com")
        await pilot.click("#use-phone")
        await snapshot_ready(pilot)

    assert snap(snap_compare, run_before)


def test_log_on(snap_compare):
    async def run_before(pilot: Pilot) -> None:
        await pilot.click("#log-on")
        await snapshot_ready(pilot)

    assert snap(snap_compare, run_before)


def test_log_on_mfa_step_with_an_error(snap_compare):
    from tests.tui.test_forgot_password import EMAIL
    from tests.tui.test_mfa_log_on import mfa_account

    mfa_account(EMAIL)

    async def run_before(pilot: Pilot) -> None:
        await log_on(pilot, EMAIL)
        fill(pilot, "#mfa-code", "12")
        await pilot.press("enter")
        await snapshot_ready(pilot)

    assert snap(snap_compare, run_before)


def test_forgot_password(snap_compare):
    async def run_before(pilot: Pilot) -> None:
        await pilot.click("#log-on")
        await pilot.pause()
        await pilot.click("#forgot-password")
        await snapshot_ready(pilot)

    assert snap(snap_compare, run_before)


def test_forgot_password_after_send_with_errors(snap_compare):
    from tests.tui.test_forgot_password import EMAIL, active_account

    active_account()

    async def run_before(pilot: Pilot) -> None:
        await pilot.click("#log-on")
        await pilot.pause()
        await pilot.click("#forgot-password")
        await pilot.pause()
        fill(pilot, "#reset-email", EMAIL)
        await pilot.press("enter")
        await settle(pilot)
        fill(pilot, "#reset-password", "short")
        await pilot.click("#reset-confirm")
        await settle(pilot)
        pilot.app.screen.query_one("#reset-confirm").scroll_visible(animate=False)
        await snapshot_ready(pilot)

    assert snap(snap_compare, run_before)


@pytest.mark.parametrize("method", ["code", "password"])
def test_step_up(snap_compare, method):
    from core.i18n import translate
    from core.step_up import StepUpRequired
    from tests.tui.test_forgot_password import EMAIL, active_account
    from tui.modals.step_up import StepUpModal

    active_account()

    async def run_before(pilot: Pilot) -> None:
        await log_on(pilot, EMAIL)
        # The reason as core gives it, in the console's language (the English pictures pass
        # the English text as written).
        reason = translate(StepUpRequired("delete_account", method).message)
        await pilot.app.push_screen(StepUpModal(reason, method))
        fill(pilot, "#step-up-code", "")
        await snapshot_ready(pilot)

    assert snap(snap_compare, run_before)


def test_overview(snap_compare):
    from tests.tui.test_billing_address import active_account

    active_account()

    async def run_before(pilot: Pilot) -> None:
        await log_on(pilot, "alice@example.com")
        await snapshot_ready(pilot)

    assert snap(snap_compare, run_before)


# --- money (test_money_snapshots.py, test_snapshots_80x24.py) ----------------------------------

def at_section(token: str, section: str):
    async def run_before(pilot: Pilot) -> None:
        from tests.tui.test_products import open_console

        await open_console(pilot, token, section)
        await snapshot_ready(pilot)
    return run_before


def test_billing(snap_compare, clock):
    from core.billing_run import run_billing
    from tests.tui.test_billing import usage
    from tests.tui.test_products import ready_buyer

    token = ready_buyer()
    usage(token, hours=10)
    clock.set_now(START + timedelta(hours=10 + 48))
    run_billing()
    assert snap(snap_compare, at_section(token, "billing"))


def test_products(snap_compare):
    from core.products import place_order
    from tests.tui.test_products import ready_buyer

    token = ready_buyer()
    place_order(token, "ecs", "us-west-1", "payg")
    assert snap(snap_compare, at_section(token, "products"))


def test_payment_methods(snap_compare):
    from tests.tui.test_products import open_console, ready_buyer

    token = ready_buyer()

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "payment-methods")
        pilot.app.screen.query_one("#methods").focus()  # as Tab leaves it (see the English)
        await snapshot_ready(pilot)

    assert snap(snap_compare, run_before)


def test_billing_address(snap_compare):
    from tests.tui.test_products import ready_buyer

    assert snap(snap_compare, at_section(ready_buyer(), "billing-address"))


def test_card_confirmation(snap_compare):
    from tests.tui.test_payment_methods import fill_card, open_add_form, with_address
    from tests.tui.test_products import open_console

    token = with_address()

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "payment-methods")
        await open_add_form(pilot)
        await fill_card(pilot, "4242 4242 4242 4242")
        await snapshot_ready(pilot)

    assert snap(snap_compare, run_before)


def test_order_form(snap_compare):
    from tests.tui.test_products import open_console, press, ready_buyer

    token = ready_buyer()

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "products")
        await press(pilot, "#buy")
        await snapshot_ready(pilot)

    assert snap(snap_compare, run_before)


def test_real_name_enterprise(snap_compare):
    from tests.tui.test_billing_address import active_account, open_console

    token = active_account()

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "real-name")
        pilot.app.screen.query_one("#rn-enterprise", RadioButton).value = True
        await settle(pilot)
        await snapshot_ready(pilot)

    assert snap(snap_compare, run_before)


def test_paypal_window(snap_compare):
    from tests.tui.test_billing_address import open_console
    from tests.tui.test_payment_methods import open_add_form, with_address
    from tests.tui.test_products import press
    from tui.modals.paypal import PayPalModal

    token = with_address()

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "payment-methods")
        await open_add_form(pilot)
        pilot.app.screen.query_one("#method-paypal", RadioButton).value = True
        await settle(pilot)
        await press(pilot, "#next")
        assert isinstance(pilot.app.screen, PayPalModal)
        await snapshot_ready(pilot)

    assert snap(snap_compare, run_before)


def test_remove_method_window(snap_compare):
    from core.payments import save_card
    from tests.tui.test_billing_address import open_console
    from tests.tui.test_payment_methods import with_address
    from tests.tui.test_products import press
    from tui.modals.remove_method import RemoveMethodModal

    token = with_address()
    save_card(token, "4242 4242 4242 4242", "12/30", "123", "Alice Tan")

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "payment-methods")
        assert pilot.app.screen.query_one("#methods", DataTable).row_count == 1
        await press(pilot, "#remove-method")
        assert isinstance(pilot.app.screen, RemoveMethodModal)
        await snapshot_ready(pilot)

    assert snap(snap_compare, run_before)


# --- Security and its windows (test_account_security.py, test_change_contact.py,
# --- test_delete_account.py, test_mfa_setup.py) --------------------------------------------

def test_security_with_mfa_and_a_trusted_key(snap_compare):
    from core.accounts import log_on as core_log_on
    from core.errors import AuthenticationError
    from core.security import trust_current_key
    from tests.core.protect import enable_mfa
    from tests.tui.test_security import FINGERPRINT, active_account, another_session, open_security

    active_account()
    ssh = another_session(origin="198.51.100.7", key_fingerprint=FINGERPRINT)
    trust_current_key(ssh)
    enable_mfa(ssh)
    with pytest.raises(AuthenticationError):
        core_log_on("alice@example.com", "not the password at all", origin="203.0.113.9")

    async def run_before(pilot: Pilot) -> None:
        await open_security(pilot, ssh)
        await snapshot_ready(pilot)
        await snapshot_ready(pilot)  # again: a late scroll behind the window undone

    assert snap(snap_compare, run_before)


def test_change_password(snap_compare):
    from tests.tui.test_security import active_account, open_security, press

    token = active_account()

    async def run_before(pilot: Pilot) -> None:
        await open_security(pilot, token)
        await snapshot_ready(pilot)  # the section behind at rest first
        await press(pilot, "#change-password")
        await press(pilot, "#change-password-save")
        await snapshot_ready(pilot)
        await snapshot_ready(pilot)  # again: a late scroll behind the window undone

    assert snap(snap_compare, run_before)


def test_confirm_key(snap_compare):
    from tests.tui.test_security import (
        FINGERPRINT,
        active_account,
        another_session,
        open_security,
        press,
    )

    active_account()
    ssh = another_session(origin="198.51.100.7", key_fingerprint=FINGERPRINT)

    async def run_before(pilot: Pilot) -> None:
        await open_security(pilot, ssh)
        await snapshot_ready(pilot)  # the section behind at rest first
        await press(pilot, "#trust-this-key")
        await snapshot_ready(pilot)
        await snapshot_ready(pilot)  # again: a late scroll behind the window undone

    assert snap(snap_compare, run_before)


@pytest.mark.parametrize("kind", ["email", "phone"])
def test_change_contact(snap_compare, kind):
    from tests.tui.test_change_contact import at_change
    from tests.tui.test_security import active_account

    assert snap(snap_compare, at_change(active_account(), kind, sent=True))


def test_delete_modal(snap_compare):
    from tests.tui.test_delete_account import at_modal
    from tests.tui.test_security import active_account

    assert snap(snap_compare, at_modal(active_account()))


def test_mfa_setup(snap_compare, monkeypatch):
    from tests.tui.test_mfa_setup import at_setup, fixed_setup
    from tests.tui.test_security import active_account

    fixed_setup(monkeypatch)
    assert snap(snap_compare, at_setup(active_account()))


def test_recovery_codes(snap_compare, monkeypatch):
    import core.mfa
    from tests.tui.test_mfa_setup import enable_in_console, fixed_setup
    from tests.tui.test_security import active_account, open_security

    fixed_setup(monkeypatch)
    codes = iter(f"{n:04d}-abcd-{n:02d}" for n in range(100))
    monkeypatch.setattr(core.mfa, "_new_recovery_code", lambda: next(codes))
    token = active_account()

    async def run_before(pilot: Pilot) -> None:
        await open_security(pilot, token)
        await snapshot_ready(pilot)  # the section behind at rest first
        await enable_in_console(pilot)
        await snapshot_ready(pilot)
        await snapshot_ready(pilot)  # again: a late scroll behind the window undone

    assert snap(snap_compare, run_before)


def test_mfa_disable(snap_compare):
    from tests.core.protect import enable_mfa
    from tests.tui.test_security import active_account, open_security, press

    token = active_account()
    enable_mfa(token)

    async def run_before(pilot: Pilot) -> None:
        await open_security(pilot, token)
        await snapshot_ready(pilot)  # the section behind at rest first
        await press(pilot, "#mfa-disable")
        await snapshot_ready(pilot)
        await snapshot_ready(pilot)  # again: a late scroll behind the window undone

    assert snap(snap_compare, run_before)
