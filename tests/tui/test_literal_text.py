"""Security (issue 7, item 6): what people typed is shown literally in the console — markup is
not parsed and escape sequences never reach the terminal."""

from __future__ import annotations

from textual.widgets import Input, Select, Static

from tests.conftest import START
from tests.tui.helpers import fill, settle, shown
from tests.tui.test_billing_address import SIZE, active_account, open_console
from tests.tui.test_products import press
from tui.app import CloudAcctApp

HOSTILE = "[bold]x[/] \x1b[2J O'Hara"
MARKUP = "[bold]x[/] [red]O'Hara[/red]"


def _both_channels(token: str) -> None:
    from core.models import Account
    from core.sessions import require_account

    account = require_account(token)
    Account.update(phone="+6581234567", phone_verified_at=START,
                   email_verified_at=START).where(Account.id == account.id).execute()


def _statics(app) -> list[str]:
    return [str(w.render()) for w in app.screen.query(Static)]


async def test_billing_address_name_is_shown_literally(db):
    from core.models import BillingAddress

    token = active_account()
    _both_channels(token)
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "billing-address")
        fill(pilot, "#full-name", HOSTILE)
        fill(pilot, "#city", "Singapore")
        fill(pilot, "#street", "1 Raffles Place")
        fill(pilot, "#postal-code", "048616")
        await pilot.click("#save")
        await settle(pilot)
        error = shown(pilot, "#full-name-error")
        assert "cannot be used" in error and "\x1b" not in error
        assert BillingAddress.select().count() == 0

        fill(pilot, "#full-name", MARKUP)
        await press(pilot, "#save")  # scrolled into view, below the error lines
        assert MARKUP in shown(pilot, "#saved-text")  # brackets kept, not styled
        assert BillingAddress.get().full_name == MARKUP


async def test_a_stored_escape_sequence_never_reaches_the_screen(db):
    """A row written past the checks (an older version, another front end) is still shown
    without its escape sequence and without its markup being parsed."""
    from core.models import BillingAddress
    from core.sessions import require_account

    token = active_account()
    _both_channels(token)
    BillingAddress.create(account=require_account(token).id, account_type="individual",
                          full_name=HOSTILE, country="SG", city="[link=x]Singapore[/link]",
                          street="1 Raffles \x1b]0;pwned\x07Place", postal_code="048616",
                          created_at=START, updated_at=START)
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "overview")
        for section in ("overview", "billing-address"):
            await open_console(pilot, token, section)
            texts = _statics(app)
            assert not any("\x1b" in t or "\x07" in t for t in texts), section
        # Saving it again is refused by the checks, with a message that does not echo it.
        await pilot.click("#save")
        await settle(pilot)
        assert "\x1b" not in shown(pilot, "#full-name-error")
        assert BillingAddress.get().full_name == HOSTILE  # unchanged: nothing partial saved


async def test_real_name_legal_name_is_shown_literally(db):
    from textual.widgets import Button

    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "real-name")
        fill(pilot, "#rn-name", "[bold]Li[/bold] [i]Lei[/]")
        fill(pilot, "#rn-id-number", "11010519491231002X")
        app.screen.query_one("#rn-id-type", Select).value = "resident_id"
        await pilot.pause()
        app.screen.query_one("#rn-submit", Button).press()
        await settle(pilot)
        status = shown(pilot, "#rn-status")
        assert "[bold]Li[/bold] [i]Lei[/]" in status
        assert app.screen.query_one("#rn-name", Input).value == "[bold]Li[/bold] [i]Lei[/]"
