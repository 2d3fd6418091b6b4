"""The Overview section (issue 12): what it says while the deletion is pending, with a
payment method, and with an expired default card."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.tui.helpers import STRONG_PASSWORD, shown, texts_in
from tests.tui.test_products import (  # noqa: F401 (long_sessions is an autouse fixture)
    SIZE,
    active_account,
    long_sessions,
    open_console,
    ready_buyer,
)
from tui.app import CloudAcctApp


async def test_while_deletion_is_pending_it_says_so_and_what_is_left(clock):
    from core.deletion import request_deletion
    from core.products import place_order, release_resource

    token = ready_buyer()
    view = place_order(token, "ecs", "us-west-1", "payg")
    clock.advance(timedelta(hours=2))
    release_resource(token, view.id)
    request_deletion(token, STRONG_PASSWORD, True)
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "overview")
        steps = " ".join(texts_in(pilot, "#next-steps"))
        assert "Nothing left to do" not in steps and "you can buy" not in steps
        assert "Your account is being deleted" in shown(pilot, "#overview-note")
        assert "0.16 USD of Pay-As-You-Go usage not billed yet" in shown(pilot, "#overview-note")
        assert "Deletion pending" in shown(pilot, "#account")


async def test_with_a_payment_method_it_does_not_ask_for_one():
    token = ready_buyer()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "overview")
        steps = texts_in(pilot, "#next-steps")
        assert "Add payment method" not in steps and "Add billing address" not in steps
        assert not app.screen.query("#step-payment-method")


async def test_an_expired_default_card_is_a_next_step(clock):
    from core.payments import save_card
    from tests.core.test_products import account_of, add_address

    token = active_account()
    add_address(account_of(token).id)
    save_card(token, "4242 4242 4242 4242", "12/26", "123", "Alice Tan")
    clock.set_now(datetime(2027, 1, 3, 9, 0))
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "overview")
        steps = texts_in(pilot, "#next-steps")
        assert "Update payment method" in steps
        assert ("Your default card Visa •••• 4242 expired 12/26: add a new card or choose "
                "another default.") in steps
        await pilot.click("#step-payment-method")
        await pilot.pause()
        assert app.screen.section == "payment-methods"
