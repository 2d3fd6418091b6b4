"""F4 Billing address in the console: Individual and Corporate, the second channel, errors,
Later, editing, and a snapshot."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input, RadioButton, Select

from tests.conftest import STRONG_PASSWORD, latest_code
from tests.tui.helpers import fill, settle, shown, snapshot_ready
from tests.tui.test_products import press
from tui.app import CloudAcctApp
from tui.screens.console import ConsoleScreen

SIZE = (100, 40)


def active_account(email: str = "alice@example.com", country: str = "SG", *,
                   by_phone: str | None = None) -> str:
    """An active account made through core (verified by email, or by SMS to `by_phone`)."""
    from core.accounts import sign_up
    from core.verify_account import confirm_code, send_code

    result = sign_up(country, email, STRONG_PASSWORD, STRONG_PASSWORD, True)
    if by_phone is None:
        send_code(result.token, "signup", "email")
        confirm_code(result.token, "signup", "email", latest_code(email))
    else:
        send_code(result.token, "signup", "sms", by_phone)
        confirm_code(result.token, "signup", "sms", latest_code(by_phone), by_phone)
    return result.token


async def open_console(pilot: Pilot, token: str, section: str) -> None:
    """Log the app on with `token` (as the app does after F2) at `section`."""
    app = pilot.app
    app.token = token  # type: ignore[attr-defined]
    app._show(ConsoleScreen(section))  # type: ignore[attr-defined]
    await settle(pilot)


def fill_individual(pilot: Pilot, postal_code: str = "018956") -> None:
    fill(pilot, "#full-name", "Zoë O'Hara")
    fill(pilot, "#city", "Singapore")
    fill(pilot, "#street", "10 Marina Boulevard")
    fill(pilot, "#street-2", "#12-01")
    fill(pilot, "#postal-code", postal_code)


def saved_address():
    from core.models import BillingAddress

    return BillingAddress.select().first()


async def test_individual_address_with_phone_verification_then_next_step(db):
    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "billing-address")
        screen = app.screen
        assert screen.query_one("#type-individual", RadioButton).value
        assert screen.query_one("#address-country", Select).value == "SG"
        assert screen.query_one("#postal-code", Input).placeholder == "e.g. 018956"
        assert not screen.query_one("#contact-phone").display or not screen.query_one(
            "#corporate-fields").display
        fill_individual(pilot)

        # Saving before the phone is verified is refused beside the code.
        await pilot.click("#save")
        await settle(pilot)
        assert "Verify your mobile phone number first" in shown(pilot, "#code-error")
        assert saved_address() is None

        fill(pilot, "#phone", "+65 8123 4567")
        await pilot.click("#send-message")
        await settle(pilot)
        fill(pilot, "#code", latest_code("+6581234567"))
        await pilot.click("#verify")
        await settle(pilot)
        assert "is verified" in shown(pilot, "#second-channel-done")

        await pilot.click("#save")
        await settle(pilot)
        assert "Your billing address is saved" in shown(pilot, "#saved-text")
        assert "Zoë O'Hara" in shown(pilot, "#saved-text")
        row = saved_address()
        assert row.account_type == "individual"
        assert row.full_name == "Zoë O'Hara"
        assert row.postal_code == "018956"

        await pilot.click("#add-payment-method")
        await settle(pilot)
        assert app.screen.section == "payment-methods"

    from core.models import Account

    assert Account.get(Account.email_key == "alice@example.com").phone == "+6581234567"


async def test_corporate_address_in_the_us_with_a_region(db):
    token = active_account("corp@example.com", "US", by_phone="+1 415 555 2671")
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "billing-address")
        screen = app.screen
        await pilot.click("#type-corporate")
        await pilot.pause()
        assert screen.query_one("#corporate-fields").display
        assert not screen.query_one("#individual-fields").display
        # F2 used the phone: the email is verified now.
        assert screen.query("#send") and not screen.query("#phone")
        await pilot.click("#send")
        await settle(pilot)
        fill(pilot, "#code", latest_code("corp@example.com"))
        await pilot.click("#verify")
        await settle(pilot)

        fill(pilot, "#company-name", "'; DROP TABLE account; --")
        fill(pilot, "#contact-name", "[bold]Mária[/]")
        fill(pilot, "#contact-phone", "+1 415 555 2671")
        fill(pilot, "#contact-email", "billing@corp.example.com")
        screen.query_one("#address-country", Select).value = "CA"
        screen.query_one("#address-country", Select).value = "US"
        screen.query_one("#region", Select).value = "US-CA"
        fill(pilot, "#city", "San Francisco")
        fill(pilot, "#street", "1 Market St")
        fill(pilot, "#postal-code", "94105")
        await pilot.click("#save")
        await settle(pilot)
        assert "[bold]Mária[/]" in shown(pilot, "#saved-text")
        row = saved_address()
        assert row.account_type == "corporate"
        assert row.company_name == "'; DROP TABLE account; --"
        assert row.region == "US-CA"
        assert row.full_name is None

    # Editing later: the form shows the saved address, with no verification.
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "billing-address")
        screen = app.screen
        assert screen.query_one("#type-corporate", RadioButton).value
        assert screen.query_one("#region", Select).value == "US-CA"
        assert screen.query_one("#company-name", Input).value == "'; DROP TABLE account; --"
        assert not screen.query("#second-channel")
        fill(pilot, "#city", "Oakland")
        await pilot.click("#save")
        await settle(pilot)
        assert saved_address().city == "Oakland"


async def test_bad_postal_code_is_shown_and_nothing_is_saved(db):
    token = active_account()
    from core.billing_address import get_billing_address

    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "billing-address")
        fill_individual(pilot, postal_code="123")
        await pilot.click("#save")
        await settle(pilot)
        assert shown(pilot, "#postal-code-error")
        assert app.screen.query_one("#postal-code-error").display
        assert get_billing_address(token) is None

        fill(pilot, "#full-name", "   ")
        fill(pilot, "#postal-code", "018956")
        await press(pilot, "#save")  # scrolled into view, as Tab would
        assert shown(pilot, "#full-name-error")
        assert get_billing_address(token) is None


async def test_three_problems_are_shown_after_one_save(db):
    """Issue 12: "the billing address took three Saves to learn three problems"."""
    from core.billing_address import get_billing_address

    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "billing-address")
        fill_individual(pilot, postal_code="123")
        fill(pilot, "#full-name", "   ")
        fill(pilot, "#city", "")
        await pilot.click("#save")
        await settle(pilot)
        assert shown(pilot, "#full-name-error") == "Enter your full name."
        assert shown(pilot, "#city-error") == "Enter the city."
        assert "postal code of Singapore" in shown(pilot, "#postal-code-error")
        assert "3 fields need a change" in shown(pilot, "#save-error")
        assert app.screen.query_one("#full-name").has_focus  # the first field in error
        assert app.screen.query_one("#street", Input).value == "10 Marina Boulevard"  # kept
        assert get_billing_address(token) is None


async def test_an_indian_account_is_shown_an_indian_number(db):
    token = active_account("priya@example.in", "IN")
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "billing-address")
        assert app.screen.query_one("#phone", Input).placeholder.startswith("+91 ")


async def test_with_a_payment_method_saving_does_not_ask_for_one(db):
    from core.payments import save_card
    from tests.core.test_products import add_address

    token = active_account()
    from core.sessions import require_account

    add_address(require_account(token).id)
    save_card(token, "4242 4242 4242 4242", "12/30", "123", "Alice Tan")
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "billing-address")
        fill(pilot, "#city", "Singapore City")
        await pilot.click("#save")
        await settle(pilot)
        assert "Your billing address is saved" in shown(pilot, "#saved-text")
        assert not app.screen.query("#add-payment-method")
        texts = [str(w.render()) for w in app.screen.query("#saved Static")]
        assert not any("add a payment method" in t for t in texts)


async def test_country_without_regions_disables_the_region(db):
    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "billing-address")
        screen = app.screen
        screen.query_one("#address-country", Select).value = "US"
        region = screen.query_one("#region", Select)
        assert not region.disabled
        region.value = "US-NY"
        screen.query_one("#address-country", Select).value = "AQ"  # Antarctica: none
        assert region.disabled and region.is_blank()
        assert screen.query_one("#postal-code", Input).placeholder == "optional"


async def test_later_goes_to_the_overview(db):
    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        app.token = token
        app.after_verified()
        await settle(pilot)
        assert app.screen.section == "billing-address"
        assert app.screen.query("#full-name")
        await pilot.click("#later")
        await settle(pilot)
        assert app.screen.section == "overview"
        await pilot.click("#step-billing-address")
        await settle(pilot)
        assert app.screen.section == "billing-address"


def test_snapshot_billing_address(snap_compare, db):
    token = active_account()

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "billing-address")
        pilot.app.screen.query_one("#account-type").focus()
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=(100, 32), run_before=run_before)


async def test_at_80x24_the_phone_typed_into_the_verifier_is_in_view(db):
    """Tabbing from the postal code to the verifier's phone number at 80x24 scrolls it into
    view, clear of the buttons: what the person types there is seen (the row of buttons used
    to be docked over the form's last visible line)."""
    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_console(pilot, token, "billing-address")
        app.screen.query_one("#postal-code", Input).focus()
        await settle(pilot)
        await pilot.press("tab")
        await settle(pilot)
        phone = app.screen.query_one("#phone", Input)
        assert app.focused is phone
        buttons = app.screen.query_one("#billing-address-buttons")
        section = phone.query_ancestor("BillingAddressSection")
        assert section.scrollable_content_region.contains_region(phone.region)
        assert not phone.region.overlaps(buttons.region)
