"""The console starts fast and shows the configured brand as text."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.tui.helpers import shown
from tui.app import CloudAcctApp
from tui.screens.welcome import WelcomeScreen

HEAVY = ("argon2", "phonenumbers", "pycountry", "zxcvbn", "email_validator", "asyncssh")


def test_app_construction_imports_no_heavy_module(tmp_path):
    code = (
        "import json, sys\n"
        "from tui.app import CloudAcctApp\n"
        "CloudAcctApp()\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    env = {**os.environ, "CLOUDACCT_HOME": str(tmp_path / "home")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=60)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
    assert (tmp_path / "home" / "cloudacct.db").exists()  # created and migrated


async def test_brand_from_the_environment_is_shown_as_typed(monkeypatch):
    from core.config import reset_settings

    monkeypatch.setenv("CLOUDACCT_BRAND", "[red]Acme\x1b[2J Cloud")
    reset_settings()
    app = CloudAcctApp()
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, WelcomeScreen)
        assert shown(pilot, "#brand") == "[red]Acme[2J Cloud"
        await pilot.click("#free-account")
        await pilot.click("#read-privacy-policy")
        await pilot.pause()
        assert "[red]Acme" in shown(pilot, "#agreement-text")
