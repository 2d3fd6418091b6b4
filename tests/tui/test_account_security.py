"""What people meet in Security settings, Real-name and their windows (issues 12 and 13): log
off everywhere, failed log-ons in the recent list, the trusted-keys table whole at 80 columns,
every error of a form at once, focus after a refusal and after Escape, Enter in the delete
password, the delete window answering only through dismiss, "Pending review" said once."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from tests.conftest import STRONG_PASSWORD
from tests.tui.helpers import fill, settle, shown, snapshot_ready
from tests.tui.test_security import (  # noqa: F401 (long_sessions is an autouse fixture)
    EMAIL,
    FINGERPRINT,
    active_account,
    another_session,
    long_sessions,
    open_security,
    press,
    rows_of,
)
from tui.app import CloudAcctApp
from tui.modals.change_password import ChangePasswordModal
from tui.modals.delete_account import DeleteAccountModal
from tui.screens.console import ConsoleScreen

SIZE = (100, 32)


def visible_text(widget) -> str:
    """What the terminal shows of `widget`: its rendered lines, as cut by its size."""
    return "\n".join("".join(segment.text for segment in widget.render_line(y))
                     for y in range(widget.size.height))


# --- F9 additions --------------------------------------------------------------------------------

async def test_log_off_everywhere_ends_the_other_sessions_only():
    from core.sessions import session_alive

    token = active_account()
    others = [another_session(), another_session(origin="203.0.113.5")]
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        await press(pilot, "#log-off-everywhere")
        assert shown(pilot, "#security-message") == "2 other sessions were logged off."
        assert app.screen.focused is app.screen.query_one("#log-off-everywhere")
        results = [row[1] for row in rows_of(pilot, "#logons")]
        assert results.count("Ended") == 2 and "This session" in results
    assert session_alive(token) is None
    assert all(session_alive(other) is not None for other in others)


async def test_recent_log_ons_show_a_failed_attempt():
    from core.accounts import log_on
    from core.errors import AuthenticationError

    token = active_account()
    with pytest.raises(AuthenticationError):
        log_on(EMAIL, "not the password at all", origin="203.0.113.9")
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        rows = rows_of(pilot, "#logons")
        assert ["12-01 10:00", "Wrong password", "SSH from 203.0.113.9"] in rows
        assert ["12-01 10:00", "This session", "local terminal"] in rows


async def test_at_80_columns_the_trusted_keys_and_their_buttons_are_whole():
    from core.security import trust_current_key

    active_account()
    ssh = another_session(origin="198.51.100.7", key_fingerprint=FINGERPRINT)
    trust_current_key(ssh)
    second = another_session(origin="198.51.100.8", key_fingerprint=FINGERPRINT[:-2] + "xy")
    app = CloudAcctApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_security(pilot, second)
        table = app.screen.query_one("#trusted-keys", DataTable)
        table.scroll_visible(animate=False, immediate=True)
        await settle(pilot)
        assert FINGERPRINT in visible_text(table)
        assert table.region.right <= 80
        for selector in ("#remove-key", "#trust-this-key"):
            button = app.screen.query_one(selector)
            button.scroll_visible(animate=False, immediate=True)
            await settle(pilot)
            assert button.region.right <= 80 and button.region.width >= len(
                str(button.label)), selector


# --- every error at once -------------------------------------------------------------------------

async def test_change_password_shows_every_error_at_once():
    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        await press(pilot, "#change-password")
        fill(pilot, "#new-password", "short")
        fill(pilot, "#new-password-confirm", "different")
        await press(pilot, "#change-password-save")
        assert isinstance(app.screen, ChangePasswordModal)
        assert shown(pilot, "#current-password-error") == "Enter your current password."
        assert shown(pilot, "#new-password-error")
        assert shown(pilot, "#new-password-confirm-error")
        assert app.screen.focused is app.screen.query_one("#current-password")
        assert app.screen.query_one("#new-password", Input).value == "short"  # kept


async def test_delete_shows_both_errors_at_once_and_enter_in_the_password_sends():
    from core.models import Account
    from core.sessions import require_account

    token = active_account()
    account_id = require_account(token).id
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        await press(pilot, "#open-delete")
        modal = app.screen
        assert isinstance(modal, DeleteAccountModal)
        assert not hasattr(modal, "result") and not hasattr(modal, "go_to")
        await press(pilot, "#delete-account")
        assert "Check the disclaimer" in shown(pilot, "#delete-disclaimer-error")
        assert shown(pilot, "#delete-password-error") == "Enter your password."

        await press(pilot, "#delete-disclaimer", "space")
        fill(pilot, "#delete-password", STRONG_PASSWORD)
        modal.query_one("#delete-password", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert Account.get_by_id(account_id).status == "deleted"


async def test_real_name_shows_every_error_at_once():
    from tests.tui.test_products import open_console

    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "real-name")
        fill(pilot, "#rn-id-number", "110105194912310021")
        await press(pilot, "#rn-submit")
        assert shown(pilot, "#rn-name-error")
        assert "check digit" in shown(pilot, "#rn-id-number-error")
        both = shown(pilot, "#rn-error")
        assert shown(pilot, "#rn-name-error") in both and "check digit" in both
        assert app.screen.focused is app.screen.query_one("#rn-name")


async def test_real_name_checks_as_typed_with_the_core_rule():
    from tests.tui.test_products import open_console
    from tui.sections.real_name import RealNameSection

    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "real-name")
        fill(pilot, "#rn-id-number", "110105194912310021")
        section = app.screen.query_one(RealNameSection)
        section._check("rn-id-number")  # what the timer does a moment after the last key
        assert "check digit" in shown(pilot, "#rn-id-number-error")
        fill(pilot, "#rn-id-number", "11010519491231002X")
        section._check("rn-id-number")
        assert shown(pilot, "#rn-id-number-error") == ""


async def test_pending_review_is_said_once(tmp_path):
    from core.real_name import submit_enterprise
    from tests.tui.test_products import open_console
    from tests.tui.test_real_name import credit_code

    licence = tmp_path / "licence.pdf"
    licence.write_bytes(b"%PDF-1.4\n% a licence\n")
    token = active_account()
    submit_enterprise(token, "Example Trading Co.", credit_code(), "Wang Fang", str(licence))
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "real-name")
        first = shown(pilot, "#rn-status").splitlines()[0]
        assert first == "Pending review (about 3 business days)."
        assert "Submitted" not in shown(pilot, "#rn-status")


# --- focus after a refusal or Escape ----------------------------------------------------------

async def test_delete_with_blockers_puts_focus_on_the_first_shortcut():
    from core.products import place_order
    from tests.tui.test_delete_account import buyer

    token = buyer()
    place_order(token, "ecs", "us-west-1", "payg")
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        await press(pilot, "#open-delete")
        await press(pilot, "#delete-disclaimer", "space")
        fill(pilot, "#delete-password", STRONG_PASSWORD)
        await press(pilot, "#delete-account")
        assert "cannot be deleted yet" in shown(pilot, "#delete-error")
        assert app.screen.focused is app.screen.query_one("#blocker-0-go")
        await pilot.press("enter")  # the shortcut: the window answers, the section goes there
        await settle(pilot)
        assert isinstance(app.screen, ConsoleScreen) and app.screen.section == "products"


@pytest.mark.parametrize("opener", ["#open-delete", "#change-password", "#change-email",
                                    "#mfa-enable"])
async def test_escape_from_a_window_gives_focus_back_to_its_button(opener):
    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        await press(pilot, opener)
        assert not isinstance(app.screen, ConsoleScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConsoleScreen)
        assert app.screen.focused is app.screen.query_one(opener)


# --- snapshots ---------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(80, 24), SIZE])
def test_snapshot_security_with_mfa_and_a_trusted_key(snap_compare, size):
    from core.accounts import log_on
    from core.errors import AuthenticationError
    from core.security import trust_current_key
    from tests.core.protect import enable_mfa

    active_account()
    ssh = another_session(origin="198.51.100.7", key_fingerprint=FINGERPRINT)
    trust_current_key(ssh)
    enable_mfa(ssh)
    with pytest.raises(AuthenticationError):
        log_on(EMAIL, "not the password at all", origin="203.0.113.9")

    async def run_before(pilot: Pilot) -> None:
        await open_security(pilot, ssh)
        await snapshot_ready(pilot)
        await snapshot_ready(pilot)  # again: a late scroll behind the window undone

    assert snap_compare(CloudAcctApp(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), SIZE])
def test_snapshot_change_password(snap_compare, size):
    token = active_account()

    async def run_before(pilot: Pilot) -> None:
        await open_security(pilot, token)
        await snapshot_ready(pilot)  # the section behind at rest first
        await press(pilot, "#change-password")
        await press(pilot, "#change-password-save")
        await snapshot_ready(pilot)
        await snapshot_ready(pilot)  # again: a late scroll behind the window undone

    assert snap_compare(CloudAcctApp(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), SIZE])
def test_snapshot_confirm_key(snap_compare, size):
    active_account()
    ssh = another_session(origin="198.51.100.7", key_fingerprint=FINGERPRINT)

    async def run_before(pilot: Pilot) -> None:
        await open_security(pilot, ssh)
        await snapshot_ready(pilot)  # the section behind at rest first
        await press(pilot, "#trust-this-key")
        await snapshot_ready(pilot)
        await snapshot_ready(pilot)  # again: a late scroll behind the window undone

    assert snap_compare(CloudAcctApp(), terminal_size=size, run_before=run_before)


# --- the step-up before each sensitive action of Security settings (SPEC F13) -------------------

async def test_each_sensitive_action_asks_for_the_step_up_then_goes_on(clock):
    """Long after the log-on (its proof lasts 5 minutes), trusting a key, removing it, turning
    on MFA and changing the password each open the step-up window over where they were asked;
    the password (MFA off) or the code (MFA on) lets the same action go on."""
    from datetime import timedelta

    from core.security import trusted_keys
    from tests.tui.test_mfa_setup import code_of
    from tui.modals.confirm_key import ConfirmKeyModal
    from tui.modals.mfa_setup import MfaSetupModal
    from tui.modals.step_up import StepUpModal

    token = active_account()
    ssh = another_session(origin="198.51.100.7", key_fingerprint=FINGERPRINT)
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, ssh)
        await snapshot_ready(pilot)  # the section behind at rest first

        async def prove(proof: str) -> None:
            assert isinstance(app.screen, StepUpModal)
            fill(pilot, "#step-up-code", proof)
            await press(pilot, "#step-up-confirm")

        clock.advance(timedelta(minutes=6))
        await press(pilot, "#trust-this-key")
        assert isinstance(app.screen, ConfirmKeyModal)
        await press(pilot, "#confirm-key")
        await prove(STRONG_PASSWORD)
        assert [k.fingerprint for k in trusted_keys(token)] == [FINGERPRINT]

        clock.advance(timedelta(minutes=6))
        app.screen.query_one("#trusted-keys", DataTable).move_cursor(row=0)
        await press(pilot, "#remove-key")
        await press(pilot, "#confirm-key")
        await prove(STRONG_PASSWORD)
        assert trusted_keys(token) == ()

        clock.advance(timedelta(minutes=6))
        await press(pilot, "#mfa-enable")
        await prove(STRONG_PASSWORD)
        assert isinstance(app.screen, MfaSetupModal)
        secret = shown(pilot, "#mfa-secret").strip()
        fill(pilot, "#mfa-code", code_of(secret))
        await press(pilot, "#mfa-bind")
        await press(pilot, "#mfa-done")

        clock.advance(timedelta(minutes=6))
        await press(pilot, "#change-password")
        new = "purple elephant marching slowly 42"
        fill(pilot, "#current-password", STRONG_PASSWORD)
        fill(pilot, "#new-password", new)
        fill(pilot, "#new-password-confirm", new)
        await press(pilot, "#change-password-save")
        await prove(code_of(secret))  # MFA is on now: the code
        assert isinstance(app.screen, ConsoleScreen)
        assert shown(pilot, "#security-message").startswith("Password changed")
