"""Snapshots of the main screens at 100x32 (the clock stands still, so they are stable).

Regenerate after an intended change with `pytest tests/tui/test_snapshots.py --snapshot-update`
and look at the SVGs in tests/tui/__snapshots__/ before committing them.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.conftest import latest_code
from tests.tui.helpers import STRONG_PASSWORD, log_on, sign_up, snapshot_ready
from tui.app import CloudAcctApp

SIZE = (100, 32)


@pytest.fixture
def active_account(db):
    """An active account (verified by email), to log on with."""
    from core.accounts import sign_up as core_sign_up
    from core.verify_account import confirm_code, send_code

    result = core_sign_up("SG", "alice@example.com", STRONG_PASSWORD, STRONG_PASSWORD, True)
    send_code(result.token, "signup", "email")
    confirm_code(result.token, "signup", "email", latest_code("alice@example.com"))
    return "alice@example.com"


def test_welcome(snap_compare):
    assert snap_compare(CloudAcctApp(), terminal_size=SIZE, run_before=snapshot_ready)


def test_sign_up(snap_compare):
    async def run_before(pilot: Pilot) -> None:
        await pilot.click("#free-account")
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=SIZE, run_before=run_before)


def test_sign_up_with_errors(snap_compare):
    async def run_before(pilot: Pilot) -> None:
        await pilot.click("#free-account")
        await pilot.pause()
        await sign_up(pilot, None, "[bold]x[/]@example.com", "short", "other", agree=False)
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=SIZE, run_before=run_before)


def test_verify(snap_compare):
    async def run_before(pilot: Pilot) -> None:
        await pilot.click("#free-account")
        await pilot.pause()
        await sign_up(pilot, "SG", "alice@example.com")
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=SIZE, run_before=run_before)


def test_verify_phone(snap_compare):
    async def run_before(pilot: Pilot) -> None:
        await pilot.click("#free-account")
        await pilot.pause()
        await sign_up(pilot, "SG", "alice@example.com")
        await pilot.click("#use-phone")
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=SIZE, run_before=run_before)


def test_log_on(snap_compare):
    async def run_before(pilot: Pilot) -> None:
        await pilot.click("#log-on")
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=SIZE, run_before=run_before)


def test_overview(snap_compare, active_account):
    async def run_before(pilot: Pilot) -> None:
        await log_on(pilot, active_account)
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=SIZE, run_before=run_before)


def test_overview_at_80x24(snap_compare, active_account):
    async def run_before(pilot: Pilot) -> None:
        await log_on(pilot, active_account)
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=(80, 24), run_before=run_before)
