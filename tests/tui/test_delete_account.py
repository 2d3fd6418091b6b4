"""F10 Delete the account from Security settings: the modal, its blockers, deletion pending,
deleted at once (logged off to Welcome, a second session ends too), wrong input, Escape."""

from __future__ import annotations

from datetime import timedelta

from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, Input

from tests.conftest import STRONG_PASSWORD
from tests.tui.helpers import fill, settle, shown, snapshot_ready
from tests.tui.test_security import (  # noqa: F401 (long_sessions is an autouse fixture)
    EMAIL,
    active_account,
    another_session,
    long_sessions,
    open_security,
    press,
)
from tui.app import CloudAcctApp
from tui.modals.delete_account import NOTHING_BLOCKS, DeleteAccountModal
from tui.screens.console import ConsoleScreen
from tui.screens.welcome import WelcomeScreen

SIZE = (100, 40)


def buyer() -> str:
    """An active account with a billing address and a good card: its token."""
    from tests.core.test_products import ready

    token = active_account()
    ready(token)
    return token


def status_of(token_or_id) -> str:
    from core.models import Account

    return Account.get_by_id(token_or_id).status


def account_id(token: str) -> int:
    from core.sessions import require_account

    return require_account(token).id


async def open_modal(pilot: Pilot) -> DeleteAccountModal:
    await press(pilot, "#open-delete")
    modal = pilot.app.screen
    assert isinstance(modal, DeleteAccountModal)
    return modal


async def fill_and_delete(pilot: Pilot, password: str = STRONG_PASSWORD,
                          check: bool = True) -> None:
    screen = pilot.app.screen
    if check and not screen.query_one("#delete-disclaimer", Checkbox).value:
        await press(pilot, "#delete-disclaimer", "space")
    fill(pilot, "#delete-password", password)
    await press(pilot, "#delete-account")


async def test_blocked_then_pending_after_release(clock):
    from core.products import place_order, release_resource

    token = buyer()
    aid = account_id(token)
    resource = place_order(token, "ecs", "us-west-1", "payg")
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        modal = await open_modal(pilot)
        texts = modal.blocker_texts
        assert len(texts) == 1
        assert f"ECS instance #{resource.id} in us-west-1 is still running" in texts[0]
        assert "What to do: Release it (Resources)." in texts[0]
        assert "Clears: As soon as it is released." in texts[0]
        assert str(modal.query_one("#blocker-0-go", Button).label) == "Open Products"
        assert "make sure that" in " ".join(
            str(w.render()) for w in modal.query("#delete-body Static"))

        await fill_and_delete(pilot)
        assert app.screen is modal
        assert "cannot be deleted yet" in shown(pilot, "#delete-error")
        assert "is still running" in modal.blocker_texts[0]
        assert status_of(aid) == "active"

        # Released (through core): only unbilled usage is left, which does not refuse.
        clock.advance(timedelta(hours=1))
        release_resource(token, resource.id)
        await fill_and_delete(pilot)
        assert isinstance(app.screen, ConsoleScreen)
        assert status_of(aid) == "deletion_pending"
        assert "deleted automatically" in shown(pilot, "#security-message")
        pending = shown(pilot, "#deletion-status")
        assert pending.startswith("Deletion pending (requested 2026-12-01 11:00 UTC).")
        assert "billed (by 2026-12-03 11:00 UTC) and paid" in pending
        assert app.token == token  # still logged on: can pay

        await press(pilot, "#nav-overview")
        assert "Deletion pending" in shown(pilot, "#account")


async def test_blocker_shortcut_opens_its_section():
    from core.products import place_order

    token = buyer()
    place_order(token, "ecs", "us-west-1", "payg")
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        await open_modal(pilot)
        await press(pilot, "#blocker-0-go")
        assert isinstance(app.screen, ConsoleScreen)
        assert app.screen.section == "products"


async def test_clean_account_is_deleted_and_the_other_session_ends():
    from core.sessions import session_alive

    token = active_account()
    other = another_session()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        modal = await open_modal(pilot)
        assert modal.blocker_texts == [NOTHING_BLOCKS]
        assert "deleted within seconds" in shown(pilot, "#delete-check-message")
        await fill_and_delete(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        assert app.token is None
        assert "Your account has been deleted" in shown(pilot, "#welcome-message")
        assert len(app.screen_stack) == 2  # the modal is gone too
    assert session_alive(token) is not None
    assert session_alive(other) == "This account has been deleted."

    # The console open on the other session notices at its next check.
    second = CloudAcctApp()
    async with second.run_test(size=SIZE) as pilot:
        second.token = other
        second._show(ConsoleScreen("overview"))
        await pilot.pause()
        second.check_session()
        await settle(pilot)
        assert isinstance(second.screen, WelcomeScreen)
        assert second.token is None
        assert shown(pilot, "#welcome-message") == "This account has been deleted."


async def test_wrong_password_and_unchecked_disclaimer_delete_nothing():
    token = active_account()
    aid = account_id(token)
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        modal = await open_modal(pilot)

        await fill_and_delete(pilot, check=False)
        assert app.screen is modal
        assert "Check the disclaimer" in shown(pilot, "#delete-disclaimer-error")
        assert status_of(aid) == "active"

        await fill_and_delete(pilot, password="not the password at all")
        assert app.screen is modal
        assert shown(pilot, "#delete-password-error") == "The password is not correct."
        assert shown(pilot, "#delete-disclaimer-error") == ""
        assert status_of(aid) == "active"

        await fill_and_delete(pilot, password="")
        assert shown(pilot, "#delete-password-error") == "Enter your password."
        assert status_of(aid) == "active"
        assert app.token == token


async def test_escape_and_cancel_close_the_modal_and_change_nothing():
    token = active_account()
    aid = account_id(token)
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        await open_modal(pilot)
        await press(pilot, "#delete-disclaimer", "space")
        fill(pilot, "#delete-password", STRONG_PASSWORD)
        app.screen.query_one("#delete-password", Input).focus()
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConsoleScreen)
        assert status_of(aid) == "active"
        assert app.screen.query("#nav-overview")

        await open_modal(pilot)
        await press(pilot, "#delete-cancel")
        assert isinstance(app.screen, ConsoleScreen)
        assert status_of(aid) == "active"


async def test_double_press_requests_once(monkeypatch):
    import core.deletion

    calls = []
    real = core.deletion.request_deletion

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(core.deletion, "request_deletion", counting)
    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        modal = await open_modal(pilot)
        await press(pilot, "#delete-disclaimer", "space")
        fill(pilot, "#delete-password", STRONG_PASSWORD)
        modal.action_delete()
        assert modal.query_one("#delete-account", Button).disabled
        modal.action_delete()
        await settle(pilot)
        assert len(calls) == 1
        assert isinstance(app.screen, WelcomeScreen)


async def test_export_shortcut_in_the_modal():
    from pathlib import Path

    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        await open_modal(pilot)
        await press(pilot, "#delete-export")
        text = shown(pilot, "#delete-export-path")
        assert Path(text.removeprefix("Your data was exported to ")).is_file()


# --- snapshots ---------------------------------------------------------------------------------

def at_modal(token: str):
    async def run_before(pilot: Pilot) -> None:
        await open_security(pilot, token)
        await snapshot_ready(pilot)  # the section behind at rest first
        await open_modal(pilot)
        await snapshot_ready(pilot)
        await snapshot_ready(pilot)  # again: a late scroll behind the window undone

    return run_before


def test_snapshot_delete_modal_nothing_blocks(snap_compare):
    token = active_account()
    assert snap_compare(CloudAcctApp(), terminal_size=(100, 32), run_before=at_modal(token))


def test_snapshot_delete_modal_with_blockers(snap_compare):
    from core.products import place_order

    token = buyer()
    place_order(token, "ecs", "us-west-1", "payg")
    place_order(token, "oss", "us-west-1", "subscription", 1, True)
    assert snap_compare(CloudAcctApp(), terminal_size=(100, 32), run_before=at_modal(token))


def test_snapshot_delete_modal_at_80x24(snap_compare):
    token = active_account()
    assert snap_compare(CloudAcctApp(), terminal_size=(80, 24), run_before=at_modal(token))
