"""Snapshots of the screens and modals before the console (Welcome, Sign up, Verify, Log on and
its MFA step, Forgot password, the step-up and agreement modals) at 80x24 and at the default
size of the suite (100x32). The clock stands still, so they are stable.

Regenerate after an intended change with
`pytest tests/tui/test_screens_snapshots.py --snapshot-update` and look at the SVGs before
committing them: every button, field and error line a person needs must be on screen.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.tui.helpers import at_the_first_error, fill, log_on, settle, sign_up, snapshot_ready
from tests.tui.test_forgot_password import EMAIL, active_account
from tests.tui.test_mfa_log_on import mfa_account
from tui.app import CloudAcctApp

SIZES = pytest.mark.parametrize("size", [(80, 24), (100, 32)], ids=["80x24", "100x32"])


@SIZES
def test_welcome(snap_compare, size):
    assert snap_compare(CloudAcctApp(), terminal_size=size, run_before=snapshot_ready)


@SIZES
def test_sign_up(snap_compare, size):
    async def run_before(pilot: Pilot) -> None:
        await pilot.click("#free-account")
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=size, run_before=run_before)


@SIZES
def test_sign_up_with_every_error(snap_compare, size):
    async def run_before(pilot: Pilot) -> None:
        await pilot.click("#free-account")
        await pilot.pause()
        await sign_up(pilot, None, "not-an-email", "short", "other", agree=False)
        await at_the_first_error(pilot)
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=size, run_before=run_before)


@SIZES
def test_agreement(snap_compare, size):
    async def run_before(pilot: Pilot) -> None:
        await pilot.click("#free-account")
        await pilot.pause()
        await pilot.click("#read-membership-agreement")
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=size, run_before=run_before)


@SIZES
def test_verify_phone(snap_compare, size, db):
    from core.accounts import sign_up as core_sign_up
    from tests.conftest import STRONG_PASSWORD

    core_sign_up("IN", "priya@example.com", STRONG_PASSWORD, STRONG_PASSWORD, True)

    async def run_before(pilot: Pilot) -> None:
        await log_on(pilot, "priya@example.com")
        await pilot.click("#use-phone")
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=size, run_before=run_before)


@SIZES
def test_log_on(snap_compare, size):
    async def run_before(pilot: Pilot) -> None:
        await pilot.click("#log-on")
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=size, run_before=run_before)


@SIZES
def test_log_on_mfa_step_with_an_error(snap_compare, size, db):
    mfa_account(EMAIL)

    async def run_before(pilot: Pilot) -> None:
        await log_on(pilot, EMAIL)
        fill(pilot, "#mfa-code", "12")
        await pilot.press("enter")
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=size, run_before=run_before)


@SIZES
def test_forgot_password(snap_compare, size):
    async def run_before(pilot: Pilot) -> None:
        await pilot.click("#log-on")
        await pilot.pause()
        await pilot.click("#forgot-password")
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=size, run_before=run_before)


@SIZES
def test_forgot_password_after_send_with_errors(snap_compare, size, db):
    """The status after Send and every refusal of Reset at once; the Reset button shown."""
    active_account()

    async def run_before(pilot: Pilot) -> None:
        await pilot.click("#log-on")
        await pilot.pause()
        await pilot.click("#forgot-password")
        await pilot.pause()
        fill(pilot, "#reset-email", EMAIL)
        await pilot.press("enter")
        await settle(pilot)
        fill(pilot, "#reset-password", "short")
        await pilot.click("#reset-confirm")
        await settle(pilot)
        pilot.app.screen.query_one("#reset-confirm").scroll_visible(animate=False)
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=size, run_before=run_before)


@SIZES
@pytest.mark.parametrize("method", ["code", "password"])
def test_step_up(snap_compare, size, method, db):
    from tui.modals.step_up import StepUpModal

    active_account()

    async def run_before(pilot: Pilot) -> None:
        await log_on(pilot, EMAIL)
        reason = ("Confirm it is you before you delete the account: enter the code from your "
                  "authenticator app." if method == "code" else
                  "Confirm it is you before you delete the account: enter your password.")
        await pilot.app.push_screen(StepUpModal(reason, method))
        fill(pilot, "#step-up-code", "")
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=size, run_before=run_before)
