"""What people meet in the money sections at 80×24 (issue 12) and the Billing documents
(issue 14): each of these failed on main."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Button, DataTable, Input

from tests.conftest import START
from tests.tui.helpers import settle, shown
from tests.tui.test_billing import usage
from tests.tui.test_payment_methods import fill, fill_card, open_add_form, with_address
from tests.tui.test_products import (  # noqa: F401 (long_sessions is an autouse fixture)
    long_sessions,
    open_console,
    press,
    ready_buyer,
)
from tui.app import CloudAcctApp
from tui.modals.add_method import DEDUCTION_NOTE, AddMethodModal

SMALL = (80, 24)


def visible(pilot, selector: str) -> bool:
    """The widget is on screen, inside its window (not below a border)."""
    widget = pilot.app.screen.query_one(selector)
    region = widget.region
    return (widget.display and region.height > 0 and region.bottom <= SMALL[1]
            and widget.visible)


async def test_card_form_shows_every_error_at_once(db):
    token = with_address()
    app = CloudAcctApp()
    async with app.run_test(size=SMALL) as pilot:
        await open_console(pilot, token, "payment-methods")
        await open_add_form(pilot)
        await fill_card(pilot, "4242 4242 4242 4241", expiry="13/30", cvv="1", holder="R2D2")
        for field in ("card-number", "card-expiry", "card-holder"):
            assert shown(pilot, f"#{field}-error"), field
        assert app.screen.focused is app.screen.query_one("#card-number")  # the first


async def test_card_confirmation_fits_at_80x24_with_the_seed_sentence_and_a_decline(db):
    token = with_address()
    app = CloudAcctApp()
    async with app.run_test(size=SMALL) as pilot:
        await open_console(pilot, token, "payment-methods")
        await open_add_form(pilot)
        await fill_card(pilot, "4000 0000 0000 0002")
        assert isinstance(app.screen, AddMethodModal)
        assert DEDUCTION_NOTE in shown(pilot, "#deduction-note")
        assert visible(pilot, "#save-card")
        await pilot.press("enter")  # focus is on Save the card
        await settle(pilot)
        assert "declined" in shown(pilot, "#payment-error").lower()
        assert visible(pilot, "#payment-error") and visible(pilot, "#save-card")
        assert app.screen.focused is not None  # focus lands on Back, not nowhere
        assert app.screen.focused.id == "back"


async def test_escape_from_the_add_form_gives_the_focus_back(db):
    token = with_address()
    app = CloudAcctApp()
    async with app.run_test(size=SMALL) as pilot:
        await open_console(pilot, token, "payment-methods")
        await open_add_form(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.focused is not None
        assert app.screen.focused.id == "add-method"


async def test_paypal_failure_keeps_focus_on_the_password(db):
    token = with_address()
    app = CloudAcctApp()
    async with app.run_test(size=SMALL) as pilot:
        await open_console(pilot, token, "payment-methods")
        await open_add_form(pilot)
        await pilot.click("#method-paypal")
        await pilot.pause()
        await press(pilot, "#next")
        fill(pilot, "#paypal-email", "buyer@example.com")
        fill(pilot, "#paypal-password", "wrong")
        await press(pilot, "#paypal-log-in")
        assert "Check your email address and password" in shown(pilot, "#paypal-error")
        assert app.screen.focused is app.screen.query_one("#paypal-password")


async def test_enter_on_the_nav_keeps_a_half_typed_corporate_address(db):
    token = with_address()
    app = CloudAcctApp()
    async with app.run_test(size=SMALL) as pilot:
        await open_console(pilot, token, "billing-address")
        await pilot.click("#type-corporate")
        await pilot.pause()
        fill(pilot, "#company-name", "Harbour Lantern Pte Ltd")
        fill(pilot, "#street", "1 Half Typed Road")
        await pilot.pause()
        await press(pilot, "#nav-billing-address")
        assert app.screen.query_one("#company-name", Input).value == "Harbour Lantern Pte Ltd"
        assert app.screen.query_one("#street", Input).value == "1 Half Typed Road"


async def test_after_saving_the_address_the_next_step_knows_a_method_exists(db):
    token = ready_buyer()
    app = CloudAcctApp()
    async with app.run_test(size=SMALL) as pilot:
        await open_console(pilot, token, "billing-address")
        await press(pilot, "#save")
        assert not app.screen.query("#add-payment-method")
        assert app.screen.query_one("#go-products", Button)


async def test_overview_shows_the_account_id_and_what_is_owed(db):
    from core.accounts import overview_page

    token = ready_buyer()
    page = overview_page(token)
    app = CloudAcctApp()
    async with app.run_test(size=SMALL) as pilot:
        await open_console(pilot, token, "overview")
        text = shown(pilot, "#account")
        assert f"Account ID       {page.account_id}" in text
        assert "Amount owed      0.00 USD" in text
        assert "Visa •••• 4242 (expires 12/30)" in text


async def test_place_order_twice_buys_once_and_lists_the_resource(db):
    from core.products import list_resources

    token = ready_buyer()
    app = CloudAcctApp()
    async with app.run_test(size=SMALL) as pilot:
        await open_console(pilot, token, "products")
        await press(pilot, "#buy")
        app.screen.query_one("#place-order").focus()
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert len(list_resources(token)) == 1
        table = app.screen.query_one("#resources", DataTable)
        assert table.display and table.row_count == 1
        assert not app.screen.query_one("#resources-empty").display


async def test_documents_are_listed_and_a_statement_exports_as_pdf_and_csv(clock):
    from core.billing_run import run_billing

    token = ready_buyer()
    usage(token, hours=10)
    clock.set_now(START + timedelta(hours=10 + 48))
    run_billing()
    app = CloudAcctApp()
    async with app.run_test(size=SMALL) as pilot:
        await open_console(pilot, token, "billing")
        table = app.screen.query_one("#documents", DataTable)
        keys = [str(row.key.value) for row in table.ordered_rows]
        month = f"{START:%Y-%m}"
        assert f"statement-{month}" in keys and "invoice-1" in keys
        table.move_cursor(row=keys.index(f"statement-{month}"))
        await press(pilot, "#export-document")
        notice = shown(pilot, "#export-result")
        assert f"-{month}.pdf" in notice and f"-{month}.csv" in notice


async def test_paying_lets_the_person_choose_the_method(clock):
    from core.billing import list_bills
    from core.billing_run import run_billing
    from core.payments import save_card
    from tests.conftest import stepped_up

    token = ready_buyer(card="4000 0000 0000 0341")  # every later charge declined
    good = save_card(stepped_up(token), "5555 5555 5555 4444", "12/30", "123", "Alice Tan")
    usage(token)
    clock.set_now(START + timedelta(hours=10 + 48))
    run_billing()
    app = CloudAcctApp()
    async with app.run_test(size=SMALL) as pilot:
        await open_console(pilot, token, "billing")
        await press(pilot, "#pay-outstanding")  # the default (declining) card
        assert "did not go through" in shown(pilot, "#billing-error")
        assert app.screen.focused is app.screen.query_one("#pay-with")  # choose another
        app.screen.query_one("#pay-with").value = good.method.id
        await press(pilot, "#pay-outstanding")
        assert list_bills(token)[0].status == "paid"
