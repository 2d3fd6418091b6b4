"""The money sections and modals at 80×24: nothing a person needs is cut off."""

from __future__ import annotations

from datetime import timedelta

from textual.pilot import Pilot

from tests.conftest import START
from tests.tui.helpers import snapshot_ready
from tests.tui.test_billing import usage
from tests.tui.test_payment_methods import fill_card, open_add_form, with_address
from tests.tui.test_products import (  # noqa: F401 (long_sessions is an autouse fixture)
    long_sessions,
    open_console,
    press,
    ready_buyer,
)
from tui.app import CloudAcctApp

SMALL = (80, 24)


def _at(token: str, section: str):
    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, section)
        await snapshot_ready(pilot)
    return run_before


def test_billing_at_80x24(snap_compare, clock):
    from core.billing_run import run_billing

    token = ready_buyer()
    usage(token, hours=10)
    clock.set_now(START + timedelta(hours=10 + 48))
    run_billing()
    assert snap_compare(CloudAcctApp(), terminal_size=SMALL, run_before=_at(token, "billing"))


def test_products_at_80x24(snap_compare, db):
    from core.products import place_order

    token = ready_buyer()
    place_order(token, "ecs", "us-west-1", "payg")
    assert snap_compare(CloudAcctApp(), terminal_size=SMALL, run_before=_at(token, "products"))


def test_payment_methods_at_80x24(snap_compare, db):
    token = ready_buyer()

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "payment-methods")
        # Whether the table has taken focus by the time of the picture depends on timing
        # (its cursor is drawn brighter when focused): picture it focused, as Tab leaves it.
        pilot.app.screen.query_one("#methods").focus()
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=SMALL, run_before=run_before)


def test_billing_address_at_80x24(snap_compare, db):
    token = ready_buyer()
    assert snap_compare(CloudAcctApp(), terminal_size=SMALL,
                        run_before=_at(token, "billing-address"))


def test_card_confirmation_at_80x24(snap_compare, db):
    token = with_address()

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "payment-methods")
        await open_add_form(pilot)
        await fill_card(pilot, "4242 4242 4242 4242")
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=SMALL, run_before=run_before)


def test_order_form_at_80x24(snap_compare, db):
    token = ready_buyer()

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "products")
        await press(pilot, "#buy")
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=SMALL, run_before=run_before)
