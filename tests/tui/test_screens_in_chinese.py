"""The screens before the console, and the console's frame, in Simplified Chinese at 80x24:
every text translated and whole on screen (a cut-off text would not be found), English
nowhere. Each screen's text is also written to $CLOUDACCT_ZH_SHOTS (when set) to look at."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Button, Input

from tests.tui.helpers import fill, log_on, settle, sign_up
from tests.tui.test_forgot_password import EMAIL, active_account
from tests.tui.test_mfa_log_on import mfa_account
from tui.app import CloudAcctApp

SIZE = (80, 24)


@pytest.fixture
def zh_app(monkeypatch) -> CloudAcctApp:
    """A console that starts in Chinese (CLOUDACCT_LANG), as a person would start it."""
    monkeypatch.setenv("CLOUDACCT_LANG", "zh-Hans")
    return CloudAcctApp()


def screen_text(pilot: Pilot, name: str) -> str:
    """What the terminal shows now, as text (and kept to look at, with an SVG)."""
    app = pilot.app
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False,
                      safe_box=False)
    console.print(app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens))
    text = console.export_text(clear=False)
    shots = os.environ.get("CLOUDACCT_ZH_SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        Path(shots, f"{name}.txt").write_text(text, encoding="utf-8")
        Path(shots, f"{name}.svg").write_text(console.export_svg(title=name), encoding="utf-8")
    return text


def assert_whole(text: str, *needles: str) -> None:
    for needle in needles:
        assert needle in text, f"{needle!r} not whole on screen:\n{text}"


def assert_no_english_labels(pilot: Pilot, *allowed: str) -> None:
    """No button or placeholder left in English (ids, codes and key names aside)."""
    for button in pilot.app.screen.query(Button):
        label = str(button.label)
        if button.display and label not in allowed:
            assert not label.isascii(), f"button #{button.id} says {label!r}"
    for field in pilot.app.screen.query(Input):
        if field.placeholder and field.placeholder not in allowed:
            assert not field.placeholder.isascii(), f"#{field.id}: {field.placeholder!r}"


async def test_welcome_in_chinese(db, zh_app):
    async with zh_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(pilot, "welcome")
        assert_whole(text, "账号控制台", "登录", "免费注册", "新用户？请选择“免费注册”。")
        assert "Free Account" not in text and "Log on" not in text
        keys = str(pilot.app.screen.query_one("#welcome-keys").render())
        assert "登录" in keys and "免费注册" in keys and "Quit" not in keys
        assert_no_english_labels(pilot)


async def test_sign_up_in_chinese_with_every_error(db, zh_app):
    async with zh_app.run_test(size=SIZE) as pilot:
        await pilot.click("#free-account")
        await settle(pilot)
        text = screen_text(pilot, "sign-up")
        assert_whole(text, "免费", "邮箱", "密码")
        assert_no_english_labels(pilot)
        await sign_up(pilot, None, "not-an-email", "short", "other", agree=False)
        text = screen_text(pilot, "sign-up-errors")
        assert "Free account" not in text and "Confirm" not in text


async def test_verify_in_chinese_by_email_and_by_phone(db, zh_app):
    async with zh_app.run_test(size=SIZE) as pilot:
        await pilot.click("#free-account")
        await settle(pilot)
        await sign_up(pilot, "SG", "lin@example.com")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "VerifyScreen"
        text = screen_text(pilot, "verify-email")
        assert_whole(text, "验证账号", "验证码", "发送", "改用手机", "退出登录")
        assert_no_english_labels(pilot)
        await pilot.click("#send")
        await settle(pilot)
        text = screen_text(pilot, "verify-email-sent")
        assert_whole(text, "验证码已发送至")
        await pilot.click("#use-phone")
        await settle(pilot)
        text = screen_text(pilot, "verify-phone")
        assert_whole(text, "手机号码", "立即呼叫", "发送短信", "改用邮箱")
        assert_no_english_labels(pilot, pilot.app.screen.query_one("#phone", Input).placeholder)


async def test_log_on_and_its_mfa_step_in_chinese(db, zh_app):
    mfa_account()
    async with zh_app.run_test(size=SIZE) as pilot:
        await pilot.click("#log-on")
        await settle(pilot)
        text = screen_text(pilot, "log-on")
        assert_whole(text, "邮箱", "密码", "忘记密码")
        assert_no_english_labels(pilot)
        await log_on(pilot, EMAIL)
        await settle(pilot)
        text = screen_text(pilot, "log-on-mfa")
        assert "Virtual MFA" not in text
        assert_no_english_labels(pilot)


async def test_forgot_password_in_chinese(db, zh_app):
    active_account()
    async with zh_app.run_test(size=SIZE) as pilot:
        await pilot.click("#log-on")
        await settle(pilot)
        await pilot.click("#forgot-password")
        await settle(pilot)
        text = screen_text(pilot, "forgot-password")
        assert_no_english_labels(pilot)
        fill(pilot, "#reset-email", EMAIL)
        await pilot.click("#reset-send")
        await settle(pilot)
        text = screen_text(pilot, "forgot-password-sent")
        assert "重新发送" in str(pilot.app.screen.query_one("#reset-send", Button).label)
        assert "It is valid" not in text


async def test_the_console_frame_in_chinese(db, zh_app):
    active_account()
    async with zh_app.run_test(size=SIZE) as pilot:
        await log_on(pilot, EMAIL)
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "ConsoleScreen"
        nav = [str(b.label) for b in pilot.app.screen.query("#nav Button")]
        assert "退出登录" in nav and "概览" in nav
        assert all(not label.isascii() for label in nav), nav
        text = screen_text(pilot, "console")
        assert_whole(text, "控制台", "账单地址", "付款方式", "实名认证", "安全设置", "退出登录")


async def test_the_console_shows_its_section_again_after_a_language_switch(db, monkeypatch):
    active_account()
    app = CloudAcctApp()
    async with app.run_test(size=(100, 32)) as pilot:
        await log_on(pilot, EMAIL)
        await settle(pilot)
        assert "Log off" in [str(b.label) for b in app.screen.query("#nav Button")]
        await app.switch_language("zh-Hans")
        await settle(pilot)
        assert "退出登录" in [str(b.label) for b in app.screen.query("#nav Button")]
        assert app.screen.query_one("#content").children  # the section was shown again


async def test_english_is_as_before(db):
    async with CloudAcctApp().run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(pilot, "welcome-en")
        assert_whole(text, "Free Account", "New here? Choose Free Account to sign up.")
