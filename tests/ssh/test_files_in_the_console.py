"""The console of an SSH session (origin set as `serve-ssh` sets it) and the account's files:
the real-name form offers the person's uploads instead of a server path, and the export says
how to fetch it with scp. Locally both stay as they were (SPEC F16)."""

from __future__ import annotations

from textual.widgets import Input, Select

from tests.conftest import STRONG_PASSWORD
from tests.tui.helpers import settle, shown
from tests.tui.test_products import (  # noqa: F401 (long_sessions is an autouse fixture)
    SIZE,
    active_account,
    long_sessions,
    open_console,
    press,
)
from tests.tui.test_real_name import credit_code, fill
from tui.app import CloudAcctApp

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SSH = "127.0.0.1"


def ssh_token(email: str = "alice@example.com", fingerprint: str | None = None) -> str:
    from core.accounts import log_on

    return log_on(email, STRONG_PASSWORD, origin=SSH, key_fingerprint=fingerprint).token


def uploaded(token: str, name: str, data: bytes = PNG) -> None:
    from core.files import NewUpload
    from core.sessions import require_account

    upload = NewUpload(require_account(token).id, name)
    upload.write(0, data)
    upload.finish()


async def test_over_ssh_the_licence_is_picked_from_the_uploads_and_submitted(monkeypatch):
    from core.config import reset_settings
    from core.real_name import real_name_status

    monkeypatch.setenv("CLOUDACCT_SSH_ADDRESS", "console.example:2222")
    reset_settings()
    local = active_account()
    token = ssh_token()
    app = CloudAcctApp(origin=SSH)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "real-name")
        await pilot.click("#rn-enterprise")
        await settle(pilot)
        picker = app.screen.query_one("#rn-licence", Select)
        assert not isinstance(picker, Input)  # no path field over SSH
        assert "scp -P 2222 licence.pdf console.example:uploads/" in shown(
            pilot, "#rn-uploads-hint")
        # The person uploads by SFTP meanwhile, then lists the uploads again.
        uploaded(local, "licence.png")
        await press(pilot, "#rn-refresh-uploads")
        assert picker.value == "licence.png"  # the only one: chosen already
        fill(pilot, {"#rn-company": "Example Trading Co.", "#rn-credit-code": credit_code(),
                     "#rn-legal-rep": "Wang Fang"})
        await press(pilot, "#rn-submit")
        assert "Pending review" in shown(pilot, "#rn-status"), shown(pilot, "#rn-error")
    assert real_name_status(local).status == "pending"


async def test_over_ssh_submitting_without_an_upload_names_no_server_file():
    active_account()
    token = ssh_token()
    app = CloudAcctApp(origin=SSH)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "real-name")
        await pilot.click("#rn-enterprise")
        await settle(pilot)
        fill(pilot, {"#rn-company": "Example Trading Co.", "#rn-credit-code": credit_code(),
                     "#rn-legal-rep": "Wang Fang"})
        await press(pilot, "#rn-submit")
        assert "uploaded to uploads/" in shown(pilot, "#rn-licence-error")


async def test_locally_the_licence_field_is_still_a_path(tmp_path):
    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "real-name")
        assert isinstance(app.screen.query_one("#rn-licence"), Input)
        assert not app.screen.query("#rn-refresh-uploads")


async def test_over_ssh_the_export_says_the_scp_command(monkeypatch):
    from core.config import reset_settings
    from core.security import trust_current_key

    monkeypatch.setenv("CLOUDACCT_SSH_ADDRESS", "[2001:db8::5]:2200")
    reset_settings()
    active_account()
    token = ssh_token(fingerprint="SHA256:alicekey")
    trust_current_key(token)
    app = CloudAcctApp(origin=SSH, key_fingerprint=None)
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "security")
        await press(pilot, "#export-data")
        text = shown(pilot, "#export-path")
        assert "scp -P 2200 [2001:db8::5]:exports/cloudacct-export-" in text, text
        assert "sftp -P 2200 [2001:db8::5]" in text
        assert "/files/" not in text  # no server path over SSH
