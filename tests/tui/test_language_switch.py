"""F18 in the console: the language it starts in, the account's once logged on, and Security
settings → Language switching at once without losing what was typed."""

from __future__ import annotations

import pytest
from textual.widgets import Checkbox, Input, Select

from core.i18n import current_language, translate
from tests.tui.helpers import log_on, settle
from tests.tui.test_security import EMAIL, active_account, open_security
from tui.app import CloudAcctApp

SIZE = (80, 24)
SECURITY_TITLE_ZH = translate("Security settings", "zh-Hans")


def test_the_security_title_has_a_chinese_translation():
    assert SECURITY_TITLE_ZH != "Security settings"


@pytest.mark.parametrize(("environment", "expected"), [
    ({}, "en"),
    ({"CLOUDACCT_LANG": "zh-Hans"}, "zh-Hans"),
    ({"LANG": "zh_CN.UTF-8"}, "zh-Hans"),
    ({"LC_ALL": "zh_SG.UTF-8", "LANG": "en_GB.UTF-8"}, "zh-Hans"),
    ({"LC_MESSAGES": "zh_TW.UTF-8"}, "en"),  # Traditional is not Simplified
    ({"CLOUDACCT_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),  # the setting over the locale
])
def test_the_console_starts_in_the_language_f18_names(monkeypatch, environment, expected):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    app = CloudAcctApp()
    assert app.starting_language == expected == current_language()


def test_an_ssh_console_takes_the_clients_language_not_the_servers_locale(monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")  # the server's
    assert CloudAcctApp(origin="203.0.113.5").starting_language == "en"
    monkeypatch.setenv("CLOUDACCT_CLIENT_LANGUAGE", "zh-Hans")
    assert CloudAcctApp(origin="203.0.113.5").starting_language == "zh-Hans"
    monkeypatch.setenv("CLOUDACCT_CLIENT_LANGUAGE", "\x1b[2Jzh-Hans")  # never trusted raw
    assert CloudAcctApp(origin="203.0.113.5").starting_language == "en"


async def test_choosing_chinese_in_security_switches_at_once_and_is_kept_on_the_account():
    from core.languages import language_of_account

    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_security(pilot, token)
        assert "Security settings" in _screen_text(app)
        select = app.screen.query_one("#language", Select)
        assert select.value == "en"
        select.value = "zh-Hans"
        await settle(pilot)
        assert current_language() == "zh-Hans"
        assert SECURITY_TITLE_ZH in _screen_text(app)
        assert "Security settings" not in _screen_text(app)
        assert app.screen.query_one("#language", Select).value == "zh-Hans"
        assert language_of_account(token) == "zh-Hans"
        # Back to English the same way.
        app.screen.query_one("#language", Select).value = "en"
        await settle(pilot)
        assert "Security settings" in _screen_text(app)
        assert language_of_account(token) == "en"


async def test_log_on_takes_the_accounts_language_and_log_off_gives_the_starting_one_back():
    from core.languages import set_account_language

    token = active_account()
    set_account_language(token, "zh-Hans")
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        assert current_language() == "en"
        await log_on(pilot, EMAIL)
        assert current_language() == "zh-Hans"
        app.logged_off()
        await settle(pilot)
        assert current_language() == "en"


async def test_switching_keeps_every_typed_value_and_the_focus():
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        app.show_sign_up()
        await settle(pilot)
        screen = app.screen
        screen.query_one("#country", Select).value = "SG"
        screen.query_one("#email", Input).value = "typed@example.com"
        screen.query_one("#password", Input).value = "half a passw"
        screen.query_one("#agree", Checkbox).value = True
        screen.query_one("#password", Input).focus()
        await pilot.pause()
        before = screen.query_one("#email", Input)
        await app.switch_language("zh-Hans")
        await settle(pilot)
        assert app.screen is screen  # the same screen, composed again
        assert screen.query_one("#email", Input) is not before
        assert screen.query_one("#country", Select).value == "SG"
        assert screen.query_one("#email", Input).value == "typed@example.com"
        assert screen.query_one("#password", Input).value == "half a passw"
        assert screen.query_one("#agree", Checkbox).value is True
        assert app.focused is screen.query_one("#password", Input)
        await pilot.press("o", "r", "d")  # typing goes on where it was
        assert screen.query_one("#password", Input).value == "half a password"


def _screen_text(app: CloudAcctApp) -> str:
    from textual.widgets import Static

    return "\n".join(str(widget.render()) for widget in app.screen.query(Static))
