"""The windows and sections not pictured at 80x24 elsewhere: Real-name (enterprise, with its
licence field), the PayPal log-in window and the Remove-method window. Nothing a person needs
may be cut off at the smallest terminal the console supports."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable, RadioButton

from tests.tui.helpers import settle, snapshot_ready
from tests.tui.test_payment_methods import open_add_form, with_address
from tests.tui.test_products import press
from tui.app import CloudAcctApp
from tui.modals.paypal import PayPalModal
from tui.modals.remove_method import RemoveMethodModal

SMALL = (80, 24)


def test_real_name_enterprise_at_80x24(snap_compare, db):
    from tests.tui.test_billing_address import active_account, open_console

    token = active_account()

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "real-name")
        pilot.app.screen.query_one("#rn-enterprise", RadioButton).value = True
        await settle(pilot)
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=SMALL, run_before=run_before)


def test_paypal_window_at_80x24(snap_compare, db):
    from tests.tui.test_billing_address import open_console

    token = with_address()

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "payment-methods")
        await open_add_form(pilot)
        pilot.app.screen.query_one("#method-paypal", RadioButton).value = True
        await settle(pilot)
        await press(pilot, "#next")
        assert isinstance(pilot.app.screen, PayPalModal)
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=SMALL, run_before=run_before)


def test_remove_method_window_at_80x24(snap_compare, db):
    from core.payments import save_card
    from tests.tui.test_billing_address import open_console

    token = with_address()
    save_card(token, "4242 4242 4242 4242", "12/30", "123", "Alice Tan")

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "payment-methods")
        assert pilot.app.screen.query_one("#methods", DataTable).row_count == 1
        await press(pilot, "#remove-method")
        assert isinstance(pilot.app.screen, RemoveMethodModal)
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=SMALL, run_before=run_before)
