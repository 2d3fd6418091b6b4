"""The console starts fast and shows the configured brand as text."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.core.test_payments import payer as payer  # noqa: F401 (fixtures)
from tests.core.test_payments import verified as verified  # noqa: F401
from tests.tui.helpers import shown
from tui.app import CloudAcctApp
from tui.screens.welcome import WelcomeScreen

HEAVY = ("argon2", "phonenumbers", "pycountry", "zxcvbn", "email_validator", "asyncssh",
         # The screens after Welcome load when first shown (issue 8's cold start).
         "tui.screens.console", "tui.sections.registry", "tui.screens.sign_up",
         "tui.screens.log_on", "tui.screens.verify", "core.reconciliation", "core.payments")


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
        await pilot.pause()
        await pilot.click("#read-privacy-policy")
        await pilot.pause()
        assert "[red]Acme" in shown(pilot, "#agreement-text")


async def test_start_finishes_a_hold_an_interruption_left_behind(payer, clock):
    """Issue 7: the console reconciles in the background once the Welcome screen is up."""
    from datetime import timedelta

    import pytest

    from core.gateway import payment_gateway, set_payment_gateway
    from core.models import LedgerEntry
    from core.payments import place_preauthorization_hold
    from core.sessions import require_account
    from tests.core.test_reconciliation import Crash, CrashingGateway, card_token
    from tests.tui.helpers import settle

    set_payment_gateway(None)
    sandbox = payment_gateway()
    token = card_token(sandbox)
    set_payment_gateway(CrashingGateway(sandbox, "authorize", "after"))
    with pytest.raises(Crash):
        place_preauthorization_hold(require_account(payer).id, token, "Visa •••• 4242")
    set_payment_gateway(None)
    assert len(sandbox.authorizations("held")) == 1
    clock.advance(timedelta(hours=1))
    app = CloudAcctApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
    assert sandbox.authorizations("held") == []
    assert [(e.kind, e.status) for e in LedgerEntry.select().order_by(LedgerEntry.id)] == [
        ("hold", "done"), ("hold_release", "done")]
