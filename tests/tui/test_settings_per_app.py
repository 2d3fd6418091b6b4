"""Settings belong to the app: a second CloudAcctApp() under another CLOUDACCT_HOME uses that
home's database, outbox and secret key, never the first one's (CONTRACT.md: the app reads its
configuration from the environment when constructed)."""

from __future__ import annotations

from core.accounts import sign_up
from core.config import settings
from core.hashing import secret_key
from core.models import Account
from tests.conftest import STRONG_PASSWORD
from tui.app import CloudAcctApp


def test_a_second_app_under_another_home_keeps_nothing_of_the_first(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    monkeypatch.setenv("CLOUDACCT_HOME", str(first))
    CloudAcctApp()
    sign_up("SG", "mei@example.com", STRONG_PASSWORD, STRONG_PASSWORD, True)
    first_key = secret_key()

    monkeypatch.setenv("CLOUDACCT_HOME", str(second))
    monkeypatch.setenv("CLOUDACCT_BRAND", "Example Cloud")
    app = CloudAcctApp()

    assert settings().home == second
    assert app.title == "Example Cloud"
    assert Account.select().count() == 0  # the second home's own database
    assert (second / "cloudacct.db").exists()
    assert secret_key() != first_key
    assert (second / "secret.key").read_text().strip() == secret_key().hex()


def test_the_secret_key_of_the_environment_follows_the_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDACCT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CLOUDACCT_SECRET_KEY", "11" * 32)
    CloudAcctApp()
    assert secret_key() == bytes.fromhex("11" * 32)
    monkeypatch.setenv("CLOUDACCT_SECRET_KEY", "22" * 32)
    CloudAcctApp()
    assert secret_key() == bytes.fromhex("22" * 32)
