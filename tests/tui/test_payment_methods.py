"""F5 Payment methods in the console: cards (saved, declined), PayPal (added, cancelled, wrong
password), Paytm (India only), Escape, default and removal, and a snapshot."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from tests.conftest import STRONG_PASSWORD, latest_code
from tests.tui.helpers import fill, settle, shown, snapshot_ready
from tests.tui.test_billing_address import active_account, open_console
from tui.app import CloudAcctApp
from tui.modals.add_method import AddMethodModal
from tui.modals.paypal import PayPalModal
from tui.sections.payment_methods import PaymentMethodsSection

SIZE = (100, 40)


def with_address(email: str = "alice@example.com", country: str = "SG", *,
                 by_phone: str | None = None) -> str:
    """An active account with a billing address (added through core)."""
    from core.billing_address import save_billing_address
    from core.verify_account import confirm_code, send_code

    token = active_account(email, country, by_phone=by_phone)
    if by_phone is None:
        phone = {"SG": "+6581234567", "IN": "+919876543210"}[country]
        send_code(token, "second_channel", "sms", phone)
        confirm_code(token, "second_channel", "sms", latest_code(phone), phone)
    postal = {"SG": "018956", "IN": "560001"}[country]
    region = {"SG": None, "IN": "IN-KA"}[country]
    save_billing_address(token, account_type="individual", full_name="Alice Tan",
                         country=country, region=region, city="Singapore"
                         if country == "SG" else "Bengaluru", street="10 Marina Boulevard",
                         postal_code=postal)
    return token


def methods(token: str):
    from core.payments import list_payment_methods

    return list_payment_methods(token)


def rows(pilot: Pilot) -> list[str]:
    table = pilot.app.screen.query_one("#methods", DataTable)
    return [str(table.get_row(key)[0]) for key in table.rows]


async def open_add_form(pilot: Pilot) -> None:
    await pilot.click("#add-method")
    await settle(pilot)
    assert isinstance(pilot.app.screen, AddMethodModal)


async def fill_card(pilot: Pilot, number: str, expiry: str = "12/30", cvv: str = "123",
                    holder: str = "Alice Tan") -> None:
    fill(pilot, "#card-number", number)
    fill(pilot, "#card-expiry", expiry)
    fill(pilot, "#card-cvv", cvv)
    fill(pilot, "#card-holder", holder)
    await pilot.pause()  # the changes clear old error lines (the form moves) before the click
    await pilot.click("#next")
    await settle(pilot)


async def test_visa_is_saved_with_the_hold_story(db):
    token = with_address()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "payment-methods")
        assert rows(pilot) == []
        await open_add_form(pilot)
        screen = app.screen
        assert screen.query_one("#card-cvv", Input).password
        await fill_card(pilot, "4242 4242 4242 4242")
        # The confirmation step: the billing address and the hold note; the secrets are gone.
        assert "Alice Tan" in shown(pilot, "#confirm-address")
        assert "10 Marina Boulevard" in shown(pilot, "#confirm-address")
        assert "1.00 USD pre-authorization hold" in shown(pilot, "#hold-note")
        assert screen.query_one("#card-number", Input).value == ""
        assert screen.query_one("#card-cvv", Input).value == ""
        await pilot.click("#save-card")
        await settle(pilot)

        assert isinstance(app.screen.query_one(PaymentMethodsSection), PaymentMethodsSection)
        assert "Held 1.00 USD on Visa •••• 4242 — released" in shown(pilot, "#payment-story")
        assert rows(pilot) == ["Visa •••• 4242"]
        table = app.screen.query_one("#methods", DataTable)
        saved = methods(token)
        assert [m.display for m in saved] == ["Visa •••• 4242"]
        assert str(saved[0].id) in [key.value for key in table.rows]
        assert str(table.get_row(str(saved[0].id))[2]) == "Default"


async def test_bad_card_fields_and_a_decline_add_nothing(db):
    token = with_address()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "payment-methods")
        await open_add_form(pilot)
        await fill_card(pilot, "4242 4242 4242 4241")  # fails Luhn
        assert shown(pilot, "#payment-error")
        assert shown(pilot, "#card-number-error")
        await fill_card(pilot, "4242 4242 4242 4242", expiry="13/30")
        assert shown(pilot, "#card-expiry-error")

        await fill_card(pilot, "4000 0000 0000 0002")
        await pilot.click("#save-card")
        await settle(pilot)
        assert isinstance(app.screen, AddMethodModal)
        assert "declined" in shown(pilot, "#payment-error").lower()
        await pilot.press("escape")
        await settle(pilot)
        assert rows(pilot) == []
        assert methods(token) == []


async def test_escape_closes_the_add_form_and_changes_nothing(db):
    token = with_address()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "payment-methods")
        await open_add_form(pilot)
        fill(pilot, "#card-number", "4242 4242 4242 4242")
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, AddMethodModal)
        assert app.screen.query("#nav-overview")
        assert rows(pilot) == []
        assert methods(token) == []


async def test_paypal_is_added_after_log_in_and_agreement(db):
    token = with_address()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "payment-methods")
        await open_add_form(pilot)
        await pilot.click("#method-paypal")
        await pilot.click("#next")
        await settle(pilot)
        assert isinstance(app.screen, PayPalModal)
        texts = [str(b.label) for b in app.screen.query("Button")]
        assert "Cancel and return to Alibaba Cloud US LLC" in texts
        assert "Having trouble logging in?" in texts and "Create an Account" in texts
        await pilot.click("#paypal-create")
        await pilot.pause()
        assert "paypal.com" in shown(pilot, "#paypal-note")

        fill(pilot, "#paypal-email", "buyer@example.com")
        fill(pilot, "#paypal-password", "sandbox-pass")
        await pilot.click("#paypal-stay")
        await pilot.click("#paypal-log-in")
        await settle(pilot)
        await pilot.click("#paypal-agree")
        await settle(pilot)
        assert isinstance(app.screen.query_one(PaymentMethodsSection), PaymentMethodsSection)
        assert len(rows(pilot)) == 1 and rows(pilot)[0].startswith("PayPal ")
        assert [m.kind for m in methods(token)] == ["paypal"]


async def test_paypal_wrong_password_and_cancel_add_nothing(db):
    token = with_address()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "payment-methods")
        await open_add_form(pilot)
        await pilot.click("#method-paypal")
        await pilot.click("#next")
        await settle(pilot)
        fill(pilot, "#paypal-email", "buyer@example.com")
        fill(pilot, "#paypal-password", "wrong-pass")
        await pilot.click("#paypal-log-in")
        await settle(pilot)
        assert "Check your email address and password" in shown(pilot, "#paypal-error")
        assert not app.screen.query_one("#paypal-agree").display or \
            not app.screen.query_one("#paypal-agreement").display
        await pilot.click("#paypal-cancel")
        await settle(pilot)
        assert isinstance(app.screen, AddMethodModal)

        # Logged in, then Escape instead of agreeing: nothing is added either.
        await pilot.click("#next")
        await settle(pilot)
        fill(pilot, "#paypal-email", "buyer@example.com")
        fill(pilot, "#paypal-password", "sandbox-pass")
        await pilot.click("#paypal-log-in")
        await settle(pilot)
        assert app.screen.query_one("#paypal-agreement").display
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AddMethodModal)
        await pilot.press("escape")
        await settle(pilot)
        assert rows(pilot) == []
        assert methods(token) == []


async def test_paytm_for_an_indian_account(db):
    token = with_address("ravi@example.com", "IN")
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "payment-methods")
        await open_add_form(pilot)
        await pilot.click("#method-paytm")
        await pilot.pause()
        fill(pilot, "#paytm-phone", "+91 5876 543 210")  # starts with 5
        await pilot.click("#paytm-send")
        await settle(pilot)
        assert shown(pilot, "#paytm-phone-error")
        fill(pilot, "#paytm-phone", "+91 98765 43210")
        await pilot.pause()
        await pilot.click("#paytm-send")
        await settle(pilot)
        fill(pilot, "#paytm-code", latest_code("+919876543210"))
        await pilot.pause()
        await pilot.click("#paytm-add")
        await settle(pilot)
        assert len(rows(pilot)) == 1 and rows(pilot)[0].startswith("Paytm ")
        assert [m.kind for m in methods(token)] == ["paytm"]


async def test_paytm_is_not_offered_outside_india(db):
    token = with_address()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "payment-methods")
        await open_add_form(pilot)
        paytm = app.screen.query("#method-paytm")
        assert not paytm or paytm.first().disabled
        assert not app.screen.query("#paytm-phone")


async def test_set_default_and_remove_with_password(db):
    from core.payments import save_card

    token = with_address()
    save_card(token, "4242 4242 4242 4242", "12/30", "123", "Alice Tan")
    master = save_card(token, "5555 5555 5555 4444", "11/29", "123", "Alice Tan").method
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "payment-methods")
        assert rows(pilot) == ["Visa •••• 4242", "Mastercard •••• 4444"]
        table = app.screen.query_one("#methods", DataTable)
        table.move_cursor(row=table.get_row_index(str(master.id)))
        await pilot.click("#set-default")
        await settle(pilot)
        assert [m.display for m in methods(token) if m.is_default] == ["Mastercard •••• 4444"]
        assert rows(pilot)[0] == "Mastercard •••• 4444"

        table = app.screen.query_one("#methods", DataTable)
        table.move_cursor(row=table.get_row_index(str(master.id)))
        await pilot.click("#remove-method")
        await settle(pilot)
        fill(pilot, "#remove-password", "not the password")
        await pilot.click("#remove-confirm")
        await settle(pilot)
        assert "not correct" in shown(pilot, "#remove-error")
        fill(pilot, "#remove-password", STRONG_PASSWORD)
        await pilot.click("#remove-confirm")
        await settle(pilot)
        assert rows(pilot) == ["Visa •••• 4242"]
        assert [m.display for m in methods(token)] == ["Visa •••• 4242"]


async def test_without_a_billing_address_the_section_leads_there(db):
    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "payment-methods")
        assert "billing address first" in shown(pilot, "#no-billing-address")
        assert not app.screen.query("#add-method")
        await pilot.click("#go-billing-address")
        await settle(pilot)
        assert app.screen.section == "billing-address"


def test_snapshot_payment_methods(snap_compare, db):
    from core.payments import save_card

    token = with_address()
    save_card(token, "4242 4242 4242 4242", "12/30", "123", "Alice Tan")

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "payment-methods")
        pilot.app.screen.query_one("#methods").focus()
        await pilot.pause()
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=(100, 32), run_before=run_before)


def test_snapshot_add_card_confirmation(snap_compare, db):
    token = with_address()

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "payment-methods")
        await open_add_form(pilot)
        await fill_card(pilot, "4242 4242 4242 4242")
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=(100, 32), run_before=run_before)


async def test_save_the_card_pressed_twice_saves_once(db):
    token = with_address()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "payment-methods")
        await open_add_form(pilot)
        await fill_card(pilot, "5555 5555 5555 4444")
        button = app.screen.query_one("#save-card")
        button.press()
        button.press()
        await settle(pilot)
        assert rows(pilot) == ["Mastercard •••• 4444"]
        assert len(methods(token)) == 1
