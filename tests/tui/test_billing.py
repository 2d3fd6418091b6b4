"""F8 through the console: bills, paying what is outstanding, the ledger."""

from __future__ import annotations

from datetime import timedelta

from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Select

from tests.conftest import START, stepped_up
from tests.tui.helpers import shown, snapshot_ready
from tests.tui.test_products import (  # noqa: F401 (long_sessions is an autouse fixture)
    SIZE,
    long_sessions,
    open_console,
    press,
    ready_buyer,
)
from tui.app import CloudAcctApp

LATER_DECLINED_CARD = "4000 0000 0000 0341"  # saves, every later charge is declined


def usage(token: str, hours: int = 10):
    """A Pay-As-You-Go ECS run for `hours` and released (the clock moves)."""
    from core import clock
    from core.products import place_order, release_resource

    view = place_order(token, "ecs", "us-west-1", "payg")
    clock.advance(timedelta(hours=hours))
    return release_resource(token, view.id)


async def test_pay_an_outstanding_bill(clock):
    from core.billing import list_bills
    from core.billing_run import run_billing
    from core.payments import list_payment_methods, save_card

    token = ready_buyer(card=LATER_DECLINED_CARD)
    usage(token)
    clock.set_now(START + timedelta(hours=10 + 48))
    run_billing()
    [bill] = list_bills(token)
    assert bill.status == "outstanding" and bill.amount_cents == 80
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "billing")
        table = app.screen.query_one("#bills", DataTable)
        row = table.get_row(str(bill.id))
        assert "0.80 USD" in row and "Outstanding" in row
        assert "0.80 USD" in shown(pilot, "#outstanding")
        # The card declines: the reason is shown and the bill stays outstanding.
        await press(pilot, "#pay-outstanding")
        assert "did not go through" in shown(pilot, "#billing-error")
        assert list_bills(token)[0].status == "outstanding"

        # A good card, chosen in #pay-with (the default stays the declining one), pays it.
        method = save_card(stepped_up(token), "5555 5555 5555 4444", "12/30", "123",
                           "Alice Tan")
        await press(pilot, "#nav-billing")
        table = app.screen.query_one("#bills", DataTable)
        choose = app.screen.query_one("#pay-with", Select)
        assert choose.value != method.method.id  # the default is offered first
        choose.value = method.method.id
        await press(pilot, "#pay-outstanding")
        assert list_bills(token)[0].status == "paid"
        [card] = [m for m in list_payment_methods(token) if m.id != method.method.id]
        assert card.is_default  # paying with another method changed no default
        assert list_bills(token)[0].status == "paid"
        assert "Paid 1 bill: 0.80 USD" in shown(pilot, "#pay-result")
        assert "Paid" in str(table.get_cell(str(bill.id), "status"))
        assert "0.00 USD" in shown(pilot, "#outstanding")
        assert app.screen.query_one("#pay-outstanding", Button).disabled


async def test_opening_billing_issues_no_bill_and_shows_the_due_usage(clock):
    """Billing runs only in the billing run: the section shows usage whose 48 hours are over
    as due, and the bill once `cloudacct billing run` (or the sandbox's schedule) issued it."""
    from core.billing import list_bills
    from core.billing_run import run_billing

    token = ready_buyer()
    usage(token, hours=5)
    clock.set_now(START + timedelta(hours=5 + 48, minutes=1))
    assert list_bills(token) == []
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "billing")
        assert list_bills(token) == []  # opening Billing billed nothing
        assert "0.40 USD, due: billed by the next billing run" in shown(pilot, "#usage")
        assert app.screen.query_one("#bills", DataTable).row_count == 0
    run_billing()
    [bill] = list_bills(token)
    assert bill.status == "paid"  # charged to the good card when issued
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "billing")
        assert str(bill.id) in [str(r.key.value) for r in
                                app.screen.query_one("#bills", DataTable).ordered_rows]
        assert app.screen.query_one("#pay-outstanding", Button).disabled
        ledger = app.screen.query_one("#ledger", DataTable)
        assert ledger.row_count >= 3  # the card's hold, its release, the charge
        assert "Done" in ledger.get_row_at(0)  # statuses read as labels, not "done"
        assert shown(pilot, "#usage") == "None."


def test_billing_snapshot(snap_compare, clock):
    from core.billing_run import run_billing

    token = ready_buyer()
    usage(token, hours=10)
    clock.set_now(START + timedelta(hours=10 + 48))
    run_billing()  # the bill due now (the section itself only reads)

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "billing")
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=SIZE, run_before=run_before)


async def test_the_console_bills_usage_in_the_background_once_its_48_hours_are_over(clock):
    """SPEC F8: the sandbox bills usage 48 hours after it ends without an operator: every
    console runs the billing run on a timer (here the timer's tick is called, the clock moved)."""
    from core.billing import list_bills
    from tui.app import BILLING_RUN_SECONDS

    token = ready_buyer()
    usage(token)
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.billing_timer._interval == BILLING_RUN_SECONDS
        app.run_due_billing()
        await app.workers.wait_for_complete()
        assert list_bills(token) == []  # 48 hours have not passed: nothing is due
        clock.set_now(START + timedelta(hours=10 + 48))
        app.run_due_billing()
        app.run_due_billing()  # a second tick while the first runs starts nothing
        await app.workers.wait_for_complete()
        await pilot.pause()
        [bill] = list_bills(token)
        assert bill.amount_cents == 80 and bill.status == "paid"
