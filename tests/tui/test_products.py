"""F7 through the console: the catalogue, the order form, the purchase gate and resources.

Accounts are set up with core calls (fast); the app is then given the session token and opened
at the section, as after a log-on. The helpers here are shared by test_real_name and
test_billing.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, DataTable, Select

from tests.conftest import latest_code
from tests.tui.helpers import STRONG_PASSWORD, settle, shown, snapshot_ready
from tui.app import CloudAcctApp
from tui.modals.order import OrderModal
from tui.screens.console import ConsoleScreen

SIZE = (100, 40)
GOOD_CARD = "4242 4242 4242 4242"
APPROVED_RESIDENT_ID = "11010519491231002X"


@pytest.fixture(autouse=True)
def long_sessions(cloudacct_home, monkeypatch):
    """Some tests move the clock by days: sessions must outlive that. Also opens the
    database of the test's data directory (accounts are set up through core)."""
    from core.config import reset_settings, settings
    from core.db import init_database

    monkeypatch.setenv("CLOUDACCT_SESSION_IDLE_MINUTES", str(10 * 366 * 24 * 60))
    monkeypatch.setenv("CLOUDACCT_SESSION_ABSOLUTE_HOURS", str(10 * 366 * 24))
    reset_settings()
    init_database(settings().database_url)


# --- helpers (shared with test_real_name and test_billing) ----------------------------------

def active_account(email: str = "alice@example.com") -> str:
    """A new active account (verified by email); its session token."""
    from core.accounts import sign_up
    from core.verify_account import confirm_code, send_code

    result = sign_up("SG", email, STRONG_PASSWORD, STRONG_PASSWORD, True)
    send_code(result.token, "signup", "email")
    confirm_code(result.token, "signup", "email", latest_code(email))
    return result.token


def ready_buyer(email: str = "alice@example.com", card: str = GOOD_CARD) -> str:
    """An active account with a billing address and a saved card; its session token."""
    from core.payments import save_card
    from tests.core.test_products import account_of, add_address

    token = active_account(email)
    add_address(account_of(token).id)
    save_card(token, card, "12/30", "123", "Alice Tan")
    return token


async def open_console(pilot: Pilot, token: str, section: str) -> None:
    """As after a log-on: the console with the token, at `section`."""
    app = pilot.app
    app.token = token  # type: ignore[attr-defined]
    app._show(ConsoleScreen(section))  # type: ignore[attr-defined]
    await settle(pilot)
    assert isinstance(app.screen, ConsoleScreen)
    assert app.screen.section == section


async def press(pilot: Pilot, selector: str) -> None:
    """Focus a button (scrolling it into view) and press Enter, then wait for its work."""
    button = pilot.app.screen.query_one(selector, Button)
    assert not button.disabled, f"{selector} is disabled"
    button.focus()
    await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)


async def order(pilot: Pilot, product: str, region: str, method: str, period: int | str = 1,
                auto_renew: bool = False) -> None:
    """Open the order form, fill it and place the order."""
    await press(pilot, "#buy")
    screen = pilot.app.screen
    assert isinstance(screen, OrderModal)
    screen.query_one("#product", Select).value = product
    screen.query_one("#purchase-region", Select).value = region
    screen.query_one("#billing-method", Select).value = method
    await pilot.pause()
    if method == "subscription":
        screen.query_one("#period", Select).value = period
        screen.query_one("#auto-renew", Checkbox).value = auto_renew
        await pilot.pause()
    await press(pilot, "#place-order")


def resource_keys(pilot: Pilot) -> list[str]:
    table = pilot.app.screen.query_one("#resources", DataTable)
    return [str(row.key.value) for row in table.ordered_rows]


# --- tests -------------------------------------------------------------------------------------

async def test_buy_payg_outside_mainland_without_real_name():
    from core.products import list_resources

    token = ready_buyer()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "products")
        catalogue = app.screen.query_one("#catalogue", DataTable)
        assert catalogue.row_count >= 3
        await order(pilot, "ecs", "ap-southeast-1", "payg")
        assert isinstance(app.screen, ConsoleScreen)
        [view] = list_resources(token)
        assert view.billing_method == "payg" and view.region == "ap-southeast-1"
        assert resource_keys(pilot) == [str(view.id)]
        row = app.screen.query_one("#resources", DataTable).get_row(str(view.id))
        assert "Running" in row and "ap-southeast-1" in row and "0.00 USD so far" in row


async def test_mainland_order_refused_without_real_name_then_allowed_after_it(clock):
    from datetime import timedelta

    from core.products import list_resources
    from core.real_name import submit_individual

    token = ready_buyer()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "products")
        await order(pilot, "rds", "cn-hangzhou", "payg")
        assert isinstance(app.screen, OrderModal)
        assert "real-name" in shown(pilot, "#order-error")
        assert app.screen.query("#go-real-name")
        assert list_resources(token) == []

        # The link to the missing step closes the form and opens that section.
        await press(pilot, "#go-real-name")
        assert isinstance(app.screen, ConsoleScreen)
        assert app.screen.section == "real-name"

        assert submit_individual(token, "Li Lei", "resident_id",
                                 APPROVED_RESIDENT_ID).status == "approved"
        clock.advance(timedelta(hours=1))
        await press(pilot, "#nav-products")
        await order(pilot, "ecs", "cn-hangzhou", "subscription", period="3", auto_renew=True)
        assert isinstance(app.screen, ConsoleScreen)
        [view] = list_resources(token)
        assert (view.region, view.billing_method, view.period_months, view.auto_renew) == \
            ("cn-hangzhou", "subscription", 3, True)
        assert resource_keys(pilot) == [str(view.id)]
        # A subscription: auto-renewal off and on again, release refused (button disabled).
        table = app.screen.query_one("#resources", DataTable)
        table.move_cursor(row=0)
        await pilot.pause()
        assert app.screen.query_one("#release", Button).disabled
        await press(pilot, "#auto-renew-off")
        assert list_resources(token)[0].auto_renew is False
        await press(pilot, "#auto-renew-on")
        assert list_resources(token)[0].auto_renew is True


async def test_every_missing_step_is_listed_with_a_link():
    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "products")
        await order(pilot, "oss", "cn-shanghai", "payg")
        error = shown(pilot, "#order-error")
        assert "billing address" in error and "payment method" in error
        assert "real-name" in error
        for key in ("billing-address", "payment-method", "real-name"):
            assert app.screen.query(f"#go-{key}")
        await press(pilot, "#go-payment-method")
        assert app.screen.section == "payment-methods"


async def test_release_a_payg_resource(clock):
    from datetime import timedelta

    from core.products import list_resources, place_order

    token = ready_buyer()
    view = place_order(token, "ecs", "us-west-1", "payg")
    clock.advance(timedelta(hours=2))
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "products")
        row = app.screen.query_one("#resources", DataTable).get_row(str(view.id))
        assert "0.16 USD so far" in row  # 2 hours at 0.08 USD, refreshed when shown
        assert app.screen.query_one("#auto-renew-off", Button).disabled
        await press(pilot, "#release")
        [after] = list_resources(token)
        assert after.state == "released"
        row = app.screen.query_one("#resources", DataTable).get_row(str(view.id))
        assert "Released" in row
        assert app.screen.query_one("#release", Button).disabled


async def test_escape_closes_the_order_form_and_buys_nothing():
    from core.products import list_resources

    token = ready_buyer()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "products")
        await press(pilot, "#buy")
        assert isinstance(app.screen, OrderModal)
        app.screen.query_one("#billing-method", Select).value = "subscription"
        app.screen.query_one("#period", Select).value = 12
        await pilot.pause()
        assert "400.00 USD" in shown(pilot, "#order-price")  # 12 months of ECS: 10 paid
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConsoleScreen)
        assert app.screen.section == "products"
        assert list_resources(token) == []
        assert resource_keys(pilot) == []
        assert app.screen.query("#nav-billing")


async def test_place_order_twice_buys_once():
    from core.products import list_resources

    token = ready_buyer()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "products")
        await press(pilot, "#buy")
        button = app.screen.query_one("#place-order", Button)
        app.screen.action_place_order()  # type: ignore[attr-defined]
        app.screen.action_place_order()  # type: ignore[attr-defined]
        assert button.disabled
        await settle(pilot)
        assert len(list_resources(token)) == 1


def test_products_snapshot(snap_compare):
    from core.products import place_order

    token = ready_buyer()
    place_order(token, "ecs", "ap-southeast-1", "payg")
    place_order(token, "oss", "us-west-1", "subscription", 3, True)

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "products")
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=SIZE, run_before=run_before)


def test_order_form_snapshot(snap_compare):
    # At a size where the refused form fits: at 80x24 it scrolls to the error, and when that
    # scroll lands relative to the picture is a matter of timing.
    token = ready_buyer()

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "products")
        await order(pilot, "ecs", "cn-hangzhou", "subscription", period=6)
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=SIZE, run_before=run_before)


async def test_an_indian_account_orders_in_mumbai_by_default():
    from core.accounts import sign_up
    from core.verify_account import confirm_code, send_code

    result = sign_up("IN", "priya@example.in", STRONG_PASSWORD, STRONG_PASSWORD, True)
    send_code(result.token, "signup", "email")
    confirm_code(result.token, "signup", "email", latest_code("priya@example.in"))
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, result.token, "products")
        await press(pilot, "#buy")
        assert isinstance(app.screen, OrderModal)
        assert app.screen.query_one("#purchase-region", Select).value == "ap-south-1"


async def test_every_bad_choice_is_shown_at_once():
    token = ready_buyer()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "products")
        await press(pilot, "#buy")
        screen = app.screen
        screen.query_one("#product", Select).clear()
        screen.query_one("#purchase-region", Select).clear()
        await pilot.pause()
        await press(pilot, "#place-order")
        error = shown(pilot, "#order-error")
        assert "Choose a product." in error and "Choose a region." in error
        assert isinstance(app.screen, OrderModal)
