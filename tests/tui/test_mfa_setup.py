"""F13 virtual MFA in the console: enabling it from Security settings (the secret read from
`#mfa-secret`, the code computed with core.mfa.totp_code on the movable clock), the ten
recovery codes shown once, turning it off with a code and the password, new recovery codes
behind a step-up, the step-up before deleting the account, the QR code at 80×24 in a dark and a
light theme, and nothing of the secret or the codes in clear in the database file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.conftest import STRONG_PASSWORD
from tests.core.protect import next_step, secret_bytes
from tests.tui.helpers import fill, settle, shown, snapshot_ready
from tests.tui.test_security import (  # noqa: F401 (long_sessions is an autouse fixture)
    EMAIL,
    active_account,
    long_sessions,
    open_security,
    press,
)
from tui.app import CloudAcctApp
from tui.modals.mfa_disable import MfaDisableModal
from tui.modals.mfa_setup import MfaSetupModal
from tui.modals.recovery_codes import RecoveryCodesModal
from tui.modals.step_up import StepUpModal
from tui.screens.console import ConsoleScreen
from tui.screens.welcome import WelcomeScreen
from tui.widgets.qr_code import DARK, LIGHT, QUIET_ZONE, QrCode, qr_modules

SIZE = (100, 32)


def code_of(secret_text: str, offset_steps: int = 0) -> str:
    """The authenticator's code now (the movable clock), as a phone would show it."""
    from core import clock
    from core.mfa import time_step, totp_code

    return totp_code(secret_bytes(secret_text), time_step(clock.now()) + offset_steps)


def recovery_codes_shown(pilot: Pilot) -> list[str]:
    return [line for line in shown(pilot, "#recovery-codes").splitlines() if line.strip()]


async def enable_in_console(pilot: Pilot) -> tuple[str, list[str]]:
    """From Security settings: Enable virtual MFA, bind it with the code; the secret read off
    the screen and the recovery codes shown. Leaves the recovery codes on screen."""
    await press(pilot, "#mfa-enable")
    assert isinstance(pilot.app.screen, MfaSetupModal)
    secret = shown(pilot, "#mfa-secret").strip()
    fill(pilot, "#mfa-code", code_of(secret))
    await press(pilot, "#mfa-bind")
    return secret, recovery_codes_shown(pilot)


def mfa_on(token: str) -> bool:
    from core.mfa import mfa_enabled
    from core.sessions import require_account

    return mfa_enabled(require_account(token).id)


async def test_enable_mfa_shows_the_secret_binds_it_and_shows_ten_recovery_codes():
    from core.delivery import read_outbox

    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        assert "Virtual MFA       Off" in shown(pilot, "#security-account")
        assert not app.screen.query_one("#mfa-disable").display
        await press(pilot, "#mfa-enable")
        modal = app.screen
        assert isinstance(modal, MfaSetupModal)
        secret = shown(pilot, "#mfa-secret").strip()
        assert len(secret_bytes(secret)) == 20
        assert modal.query_one("#mfa-qr", QrCode).data.startswith("otpauth://totp/")
        assert f"secret={secret}" in modal.query_one("#mfa-qr", QrCode).data

        fill(pilot, "#mfa-code", "000000" if code_of(secret) != "000000" else "111111")
        await press(pilot, "#mfa-bind")
        assert app.screen is modal and not mfa_on(token)
        assert "does not match" in shown(pilot, "#mfa-code-error")
        assert app.screen.focused is modal.query_one("#mfa-code", Input)

        fill(pilot, "#mfa-code", code_of(secret))
        await press(pilot, "#mfa-bind")
        codes = recovery_codes_shown(pilot)
        assert len(codes) == 10 and len(set(codes)) == 10
        assert not app.screen.query("#mfa-secret")  # the secret left the screen
        assert mfa_on(token)
        await press(pilot, "#mfa-done")
        assert isinstance(app.screen, ConsoleScreen)
        assert "Virtual MFA       On, 10 recovery codes left" in shown(pilot, "#security-account")
        assert app.screen.query_one("#mfa-disable").display
        assert not app.screen.query_one("#mfa-enable").display
    assert any("MFA" in (m.subject or "") for m in read_outbox(EMAIL))


async def test_escape_from_the_setup_leaves_mfa_off():
    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        await press(pilot, "#mfa-enable")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConsoleScreen) and not mfa_on(token)
        assert app.screen.focused is app.screen.query_one("#mfa-enable")


async def test_a_recovery_code_shown_at_setup_logs_on():
    from core.accounts import MfaRequired, complete_mfa_log_on, log_on

    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        _secret, codes = await enable_in_console(pilot)
    pending = log_on(EMAIL, STRONG_PASSWORD)
    assert isinstance(pending, MfaRequired)
    assert complete_mfa_log_on(pending.pending_token, codes[0]).token


async def test_disable_mfa_needs_the_code_and_the_password(clock):
    from core.delivery import read_outbox

    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        secret, _codes = await enable_in_console(pilot)
        await press(pilot, "#mfa-done")
        next_step()
        await press(pilot, "#mfa-disable")
        assert isinstance(app.screen, MfaDisableModal)
        await press(pilot, "#mfa-disable-confirm")  # neither: both refused at once
        assert shown(pilot, "#mfa-code-error") and shown(pilot, "#password-error")
        assert mfa_on(token)

        fill(pilot, "#mfa-code", code_of(secret))
        fill(pilot, "#password", "not my password at all")
        await press(pilot, "#mfa-disable-confirm")
        assert shown(pilot, "#password-error") == "The password is not correct."
        assert mfa_on(token)

        next_step()
        fill(pilot, "#mfa-code", code_of(secret))
        fill(pilot, "#password", STRONG_PASSWORD)
        app.screen.query_one("#password", Input).focus()
        await pilot.press("enter")  # Enter in the password sends
        await settle(pilot)
        assert isinstance(app.screen, ConsoleScreen)
        assert not mfa_on(token)
        assert shown(pilot, "#security-message") == "Virtual MFA is off."
        assert "Virtual MFA       Off" in shown(pilot, "#security-account")
    subjects = [m.subject or "" for m in read_outbox(EMAIL)]
    assert any("Virtual MFA is off" in s for s in subjects), subjects


async def test_new_recovery_codes_ask_for_a_step_up_first(clock):
    from core.accounts import complete_mfa_log_on, log_on

    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        secret, old_codes = await enable_in_console(pilot)
        await press(pilot, "#mfa-done")
        clock.advance(timedelta(minutes=6))  # the binding's proof has run out

        await press(pilot, "#regenerate-codes")
        assert isinstance(app.screen, StepUpModal)
        fill(pilot, "#step-up-code", code_of(secret))
        await press(pilot, "#step-up-confirm")
        assert isinstance(app.screen, RecoveryCodesModal)
        new_codes = recovery_codes_shown(pilot)
        assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
        await press(pilot, "#mfa-done")
        assert isinstance(app.screen, ConsoleScreen)
        assert app.screen.focused is app.screen.query_one("#regenerate-codes")

    from core.errors import DomainError

    with pytest.raises(DomainError):  # the old ones stopped working
        complete_mfa_log_on(log_on(EMAIL, STRONG_PASSWORD).pending_token, old_codes[0])
    assert complete_mfa_log_on(log_on(EMAIL, STRONG_PASSWORD).pending_token, new_codes[0]).token


async def test_deleting_with_mfa_on_asks_for_the_code_first(clock):
    """SPEC F13: the step-up modal opens over the delete modal; Cancel there deletes nothing,
    the code deletes the account and logs off."""
    from core.models import Account
    from core.sessions import require_account

    token = active_account()
    account_id = require_account(token).id
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        secret, _codes = await enable_in_console(pilot)
        await press(pilot, "#mfa-done")
        clock.advance(timedelta(minutes=6))

        await press(pilot, "#open-delete")
        await press(pilot, "#delete-disclaimer", "space")
        fill(pilot, "#delete-password", STRONG_PASSWORD)
        await press(pilot, "#delete-account")
        assert isinstance(app.screen, StepUpModal)
        await press(pilot, "#step-up-cancel")
        assert Account.get_by_id(account_id).status == "active"
        assert app.screen.focused is app.screen.query_one("#delete-account")

        await press(pilot, "#delete-account")
        assert isinstance(app.screen, StepUpModal)
        fill(pilot, "#step-up-code", "123456" if code_of(secret) != "123456" else "654321")
        await press(pilot, "#step-up-confirm")
        assert isinstance(app.screen, StepUpModal)
        assert shown(pilot, "#step-up-code-error") or shown(pilot, "#step-up-error")

        fill(pilot, "#step-up-code", code_of(secret))
        await press(pilot, "#step-up-confirm")
        assert isinstance(app.screen, WelcomeScreen)
        assert "Your account has been deleted" in shown(pilot, "#welcome-message")
    assert Account.get_by_id(account_id).status == "deleted"


# --- the QR code -------------------------------------------------------------------------------

def drawn_modules(widget: QrCode) -> list[list[bool]]:
    """The modules as the terminal shows them: each cell's upper half is its foreground, the
    lower its background; dark must be exactly DARK and light exactly LIGHT."""
    from rich.color import Color

    dark, light = Color.parse(DARK).triplet, Color.parse(LIGHT).triplet
    rows: list[list[bool]] = []
    for y in range(widget.size.height):
        upper, lower = [], []
        for segment in widget.render_line(y):
            style = segment.style
            assert style is not None and style.color and style.bgcolor
            for _ in segment.text:
                fg, bg = style.color.triplet, style.bgcolor.triplet
                assert fg in (dark, light) and bg in (dark, light), (fg, bg)
                upper.append(fg == dark)
                lower.append(bg == dark)
        rows += [upper, lower]
    return rows


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
async def test_the_qr_code_fits_80x24_whole_in_dark_and_light(theme):
    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.theme = theme
        await open_security(pilot, token)
        await press(pilot, "#mfa-enable")
        await settle(pilot)
        qr = app.screen.query_one("#mfa-qr", QrCode)
        expected = qr_modules(qr.data)
        assert expected[0] == [False] * len(expected[0])  # the quiet zone is light
        region = qr.region
        assert region.x >= 0 and region.y >= 0 and region.right <= 80 and region.bottom <= 24
        assert (qr.size.width, qr.size.height) == (len(expected[0]), (len(expected) + 1) // 2)
        drawn = drawn_modules(qr)
        assert drawn[:len(expected)] == expected  # module for module, quiet zone included
        assert all(not dark for row in drawn[len(expected):] for dark in row)
        assert all(not any(row[:QUIET_ZONE]) for row in drawn)
        # the key, the code field and the buttons are on screen beside it
        for selector in ("#mfa-secret", "#mfa-code", "#mfa-bind", "#mfa-cancel"):
            widget = app.screen.query_one(selector)
            assert widget.region.right <= 80 and widget.region.bottom <= 24, selector
            assert widget.region.x >= region.right, selector


# --- nothing in clear on disk ------------------------------------------------------------------

@pytest.mark.sqlite_only
async def test_the_secret_and_the_recovery_codes_are_not_in_the_database_file():
    from core.config import settings
    from core.db import close_database

    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        secret, codes = await enable_in_console(pilot)
        await press(pilot, "#mfa-done")
    close_database()  # the WAL checkpointed into the file
    path = settings().database_url.removeprefix("sqlite:///")
    data = b"".join(Path(p).read_bytes() for p in (path, path + "-wal") if Path(p).exists())
    assert EMAIL.encode() in data  # the file is read: what is kept in clear is found
    raw = secret_bytes(secret)
    for needle in [secret.encode(), secret.lower().encode(), raw, raw.hex().encode()]:
        assert needle not in data
    for code in codes:
        for form in (code, code.replace("-", ""), code.upper(), code.replace("-", "").upper()):
            assert form.encode() not in data, form


# --- snapshots ---------------------------------------------------------------------------------

def fixed_setup(monkeypatch):
    """The same secret every run, so the picture of the setup is the same."""
    import core.mfa

    monkeypatch.setattr(core.mfa.os, "urandom", lambda n: bytes(range(n)))


def at_setup(token: str):
    async def run_before(pilot: Pilot) -> None:
        await open_security(pilot, token)
        await snapshot_ready(pilot)  # the section behind at rest first
        await press(pilot, "#mfa-enable")
        await snapshot_ready(pilot)
        await snapshot_ready(pilot)  # again: a late scroll behind the window undone

    return run_before


@pytest.mark.parametrize("size", [(80, 24), SIZE])
def test_snapshot_mfa_setup(snap_compare, monkeypatch, size):
    fixed_setup(monkeypatch)
    token = active_account()
    assert snap_compare(CloudAcctApp(), terminal_size=size, run_before=at_setup(token))


@pytest.mark.parametrize("size", [(80, 24), SIZE])
def test_snapshot_recovery_codes(snap_compare, monkeypatch, size):
    import core.mfa

    fixed_setup(monkeypatch)
    codes = iter(f"{n:04d}-abcd-{n:02d}" for n in range(100))
    monkeypatch.setattr(core.mfa, "_new_recovery_code", lambda: next(codes))
    token = active_account()

    async def run_before(pilot: Pilot) -> None:
        await open_security(pilot, token)
        await snapshot_ready(pilot)  # the section behind at rest first
        await enable_in_console(pilot)
        await snapshot_ready(pilot)
        await snapshot_ready(pilot)  # again: a late scroll behind the window undone

    assert snap_compare(CloudAcctApp(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), SIZE])
def test_snapshot_mfa_disable(snap_compare, size):
    from tests.core.protect import enable_mfa

    token = active_account()
    enable_mfa(token)

    async def run_before(pilot: Pilot) -> None:
        await open_security(pilot, token)
        await snapshot_ready(pilot)  # the section behind at rest first
        await press(pilot, "#mfa-disable")
        await snapshot_ready(pilot)
        await snapshot_ready(pilot)  # again: a late scroll behind the window undone

    assert snap_compare(CloudAcctApp(), terminal_size=size, run_before=run_before)
