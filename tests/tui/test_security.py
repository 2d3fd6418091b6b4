"""F9 Security settings in the console: what is verified, recent log-ons, change password (ends
other sessions), trusted SSH keys (only over SSH with a key), export my data."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, DataTable

from tests.conftest import STRONG_PASSWORD, latest_code
from tests.tui.helpers import fill, settle, shown, snapshot_ready
from tui.app import CloudAcctApp
from tui.modals.change_password import ChangePasswordModal
from tui.modals.confirm_key import ConfirmKeyModal
from tui.screens.console import ConsoleScreen

SIZE = (100, 40)
EMAIL = "alice@example.com"
NEW_PASSWORD = "purple elephant marching slowly 42"
FINGERPRINT = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"


@pytest.fixture(autouse=True)
def long_sessions(cloudacct_home, monkeypatch):
    """Some tests move the clock by hours: sessions must outlive that."""
    from core.config import reset_settings

    monkeypatch.setenv("CLOUDACCT_SESSION_IDLE_MINUTES", str(10 * 366 * 24 * 60))
    monkeypatch.setenv("CLOUDACCT_SESSION_ABSOLUTE_HOURS", str(10 * 366 * 24))
    reset_settings()


# --- helpers (also used by test_delete_account) ------------------------------------------------

def active_account(email: str = EMAIL) -> str:
    """A new active account (verified by email); returns its session token."""
    from core.accounts import sign_up
    from core.config import settings
    from core.db import init_database
    from core.verify_account import confirm_code, send_code

    init_database(settings().database_url)
    result = sign_up("SG", email, STRONG_PASSWORD, STRONG_PASSWORD, True)
    send_code(result.token, "signup", "email")
    confirm_code(result.token, "signup", "email", latest_code(email))
    return result.token


def another_session(email: str = EMAIL, **kwargs) -> str:
    """Log on once more (another terminal or an SSH connection): its token."""
    from core.accounts import log_on

    return log_on(email, STRONG_PASSWORD, **kwargs).token


async def open_security(pilot: Pilot, token: str) -> None:
    """The console at Security settings for `token`, as after log-on."""
    app = pilot.app
    app.token = token  # type: ignore[attr-defined]
    app._show(ConsoleScreen("security"))  # type: ignore[attr-defined]
    await settle(pilot)
    assert isinstance(app.screen, ConsoleScreen) and app.screen.section == "security"


async def press(pilot: Pilot, selector: str, key: str = "enter") -> None:
    """Focus a button or checkbox on the active screen and press it from the keyboard."""
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    await pilot.pause()
    await pilot.press(key)
    await settle(pilot)


def rows_of(pilot: Pilot, selector: str) -> list[list[str]]:
    table = pilot.app.screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def fingerprints(pilot: Pilot) -> list[str]:
    """The first line of each row of `#trusted-keys`: the key's whole fingerprint."""
    return [row[0].split("\n", 1)[0] for row in rows_of(pilot, "#trusted-keys")]


# --- the section -------------------------------------------------------------------------------

async def test_section_shows_email_log_ons_and_no_trust_button_locally():
    token = active_account()
    another_session(origin="203.0.113.5")
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        account = shown(pilot, "#security-account")
        assert "alice@example.com (verified)" in account
        assert "No verified phone" in account
        logons = rows_of(pilot, "#logons")
        assert logons[0][1:] == ["Logged on", "SSH from 203.0.113.5"]
        assert logons[1] == ["12-01 10:00", "This session", "local terminal"]
        # A local session has no SSH key: nothing to trust.
        assert not app.screen.query("#trust-this-key")
        assert app.screen.query_one("#trusted-keys", DataTable)
        assert rows_of(pilot, "#trusted-keys") == [["No trusted keys."]]
        assert app.screen.query_one("#remove-key", Button).disabled
        assert app.screen.query_one("#open-delete", Button)
        assert shown(pilot, "#deletion-status") == ""


async def test_trust_and_remove_the_key_of_an_ssh_session():
    from core.security import trusted_keys

    token = active_account()
    ssh = another_session(origin="198.51.100.7", key_fingerprint=FINGERPRINT)
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, ssh)
        assert rows_of(pilot, "#logons")[0][1:] == ["This session", "SSH from 198.51.100.7"]
        assert FINGERPRINT in shown(pilot, "#keys-message")
        await press(pilot, "#trust-this-key")
        assert isinstance(app.screen, ConfirmKeyModal)  # asks first, naming the key
        assert shown(pilot, "#confirm-key-fingerprint") == FINGERPRINT
        assert trusted_keys(token) == ()
        await press(pilot, "#confirm-key")
        assert [k.fingerprint for k in trusted_keys(token)] == [FINGERPRINT]
        assert fingerprints(pilot) == [FINGERPRINT]
        assert not app.screen.query("#trust-this-key")  # trusted now: nothing more to trust

        app.screen.query_one("#trusted-keys", DataTable).move_cursor(row=0)
        await press(pilot, "#remove-key")
        assert isinstance(app.screen, ConfirmKeyModal)
        assert shown(pilot, "#confirm-key-fingerprint") == FINGERPRINT
        assert len(trusted_keys(token)) == 1
        await press(pilot, "#confirm-key")
        assert trusted_keys(token) == ()
        assert rows_of(pilot, "#trusted-keys") == [["No trusted keys."]]
        assert app.screen.query("#trust-this-key")  # it can be trusted again


async def test_trusting_and_removing_a_key_can_be_cancelled():
    """Cancel or Escape in the confirmation changes nothing; Enter alone is Cancel."""
    from core.security import trusted_keys

    token = active_account()
    ssh = another_session(origin="198.51.100.7", key_fingerprint=FINGERPRINT)
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, ssh)
        await press(pilot, "#trust-this-key")
        await pilot.press("enter")  # focus starts on Cancel
        await settle(pilot)
        assert isinstance(app.screen, ConsoleScreen) and trusted_keys(token) == ()
        await press(pilot, "#trust-this-key")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConsoleScreen) and trusted_keys(token) == ()
        assert app.screen.query("#trust-this-key")

        await press(pilot, "#trust-this-key")
        await press(pilot, "#confirm-key")
        app.screen.query_one("#trusted-keys", DataTable).move_cursor(row=0)
        await press(pilot, "#remove-key")
        await press(pilot, "#confirm-key-cancel")
        assert isinstance(app.screen, ConsoleScreen)
        assert [k.fingerprint for k in trusted_keys(token)] == [FINGERPRINT]
        assert fingerprints(pilot) == [FINGERPRINT]


async def test_change_password_removes_trusted_keys_unless_unchecked():
    from core.models import TrustedKey
    from core.security import trusted_keys
    from core.sessions import require_account
    from tests.conftest import START

    token = active_account()
    account_id = require_account(token).id
    for n in range(2):
        TrustedKey.create(account=account_id, fingerprint=f"{FINGERPRINT[:-1]}{n}",
                          created_at=START)
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        await press(pilot, "#change-password")
        assert app.screen.query_one("#remove-trusted-keys").value is True  # on by default
        fill(pilot, "#current-password", STRONG_PASSWORD)
        fill(pilot, "#new-password", NEW_PASSWORD)
        fill(pilot, "#new-password-confirm", NEW_PASSWORD)
        await press(pilot, "#change-password-save")
        assert isinstance(app.screen, ConsoleScreen)
        assert shown(pilot, "#security-message") == (
            "Password changed; 0 other sessions were logged off. 2 trusted SSH keys were "
            "removed.")
        assert trusted_keys(token) == ()
        assert rows_of(pilot, "#trusted-keys") == [["No trusted keys."]]

        TrustedKey.create(account=account_id, fingerprint=FINGERPRINT, created_at=START)
        await press(pilot, "#change-password")
        fill(pilot, "#current-password", NEW_PASSWORD)
        fill(pilot, "#new-password", STRONG_PASSWORD)
        fill(pilot, "#new-password-confirm", STRONG_PASSWORD)
        await press(pilot, "#remove-trusted-keys", "space")
        assert app.screen.query_one("#remove-trusted-keys").value is False
        await press(pilot, "#change-password-save")
        assert shown(pilot, "#security-message") == \
            "Password changed; 0 other sessions were logged off."
        assert [k.fingerprint for k in trusted_keys(token)] == [FINGERPRINT]


async def test_change_password_ends_another_session():
    from core.accounts import log_on
    from core.sessions import session_alive

    token = active_account()
    other = another_session()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        await press(pilot, "#change-password")
        modal = app.screen
        assert isinstance(modal, ChangePasswordModal)

        fill(pilot, "#current-password", "not my password at all")
        fill(pilot, "#new-password", NEW_PASSWORD)
        fill(pilot, "#new-password-confirm", NEW_PASSWORD)
        modal._measure()  # the live meter runs a moment after typing stops
        await settle(pilot)
        assert "Strength" in str(modal.query_one("#new-password-strength").render())
        await press(pilot, "#change-password-save")
        assert app.screen is modal
        assert shown(pilot, "#current-password-error") == "Your current password is not correct."
        assert session_alive(other) is None

        fill(pilot, "#current-password", STRONG_PASSWORD)
        fill(pilot, "#new-password-confirm", NEW_PASSWORD + "x")
        await press(pilot, "#change-password-save")
        assert shown(pilot, "#new-password-confirm-error")
        assert session_alive(other) is None

        fill(pilot, "#new-password-confirm", NEW_PASSWORD)
        await press(pilot, "#change-password-save")
        assert isinstance(app.screen, ConsoleScreen)
        assert shown(pilot, "#security-message") == \
            "Password changed; 1 other session was logged off."
        assert session_alive(token) is None
        assert session_alive(other) == \
            "Your password was changed in another session. Please log on again."
    assert log_on(EMAIL, NEW_PASSWORD).token


async def test_change_password_window_closes_with_escape_and_changes_nothing():
    from core.sessions import session_alive

    token = active_account()
    other = another_session()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        await press(pilot, "#change-password")
        fill(pilot, "#current-password", STRONG_PASSWORD)
        fill(pilot, "#new-password", NEW_PASSWORD)
        fill(pilot, "#new-password-confirm", NEW_PASSWORD)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConsoleScreen)
        assert shown(pilot, "#security-message") == ""
        assert session_alive(other) is None


async def test_export_writes_a_file_whose_path_is_shown():
    import json
    from pathlib import Path

    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        await press(pilot, "#export-data")
        text = shown(pilot, "#export-path")
        assert text.startswith("Your data was exported to ")
        path = Path(text.removeprefix("Your data was exported to "))
        assert path.is_file()
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["account"]["email"] == EMAIL
        assert "password_hash" not in document["account"]


async def test_user_text_is_shown_as_typed(db):
    """A key label with markup and escape codes shows as text (markup off, controls dropped)."""
    from core.models import TrustedKey
    from core.sessions import require_account
    from tests.conftest import START

    token = active_account()
    TrustedKey.create(account=require_account(token).id, fingerprint=FINGERPRINT,
                      label="[bold]x\x1b[2J", created_at=START)
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        cell = rows_of(pilot, "#trusted-keys")[0][0]
        assert cell.startswith(FINGERPRINT + "\n") and cell.endswith(", [bold]x[2J")


# --- snapshots ---------------------------------------------------------------------------------

def steady_at_security(token: str):
    async def run_before(pilot: Pilot) -> None:
        await open_security(pilot, token)
        await snapshot_ready(pilot)

    return run_before


def test_snapshot_security_section(snap_compare):
    token = active_account()
    another_session(origin="203.0.113.5")
    assert snap_compare(CloudAcctApp(), terminal_size=(100, 32),
                        run_before=steady_at_security(token))
