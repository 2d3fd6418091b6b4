"""The console's navigation from the keyboard alone: Up/Down between sections, Enter opens one,
Right goes into it; arrows inside a section stay the section's."""

from __future__ import annotations

from tests.tui.helpers import log_on, settle
from tui.app import CloudAcctApp


async def test_arrows_move_through_the_navigation_and_right_enters_the_section(active):
    _token, email = active
    app = CloudAcctApp()
    async with app.run_test(size=(100, 32)) as pilot:
        await log_on(pilot, email)
        assert app.focused.id == "nav-overview"
        await pilot.press("down")
        assert app.focused.id == "nav-billing-address"
        await pilot.press("up", "up")
        assert app.focused.id == "log-off"  # wraps around
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert app.screen.section == "billing-address"
        await pilot.press("right")
        await settle(pilot)
        content = app.screen.query_one("#content")
        assert content in app.focused.ancestors
        # Inside the section the arrows are the fields' own: focus stays in the section.
        await pilot.press("down", "up")
        assert content in app.focused.ancestors
