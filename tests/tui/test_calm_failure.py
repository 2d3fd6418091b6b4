"""An unexpected error never shows a traceback: it goes to cloudacct.log, the person reads one
line, and the console keeps running where it can."""

from __future__ import annotations

import asyncio
import time

from tests.tui.helpers import log_on, settle
from tui.app import CloudAcctApp

SIZE = (100, 40)


async def until(pilot, condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        await pilot.pause(0.01)


def log_text(home) -> str:
    path = home / "cloudacct.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def unexpected(app) -> list:
    return [n for n in app._notifications if n.title == "Unexpected error"]


async def test_an_error_in_a_handler_reopens_the_screen_and_the_console_runs_on(
        db, cloudacct_home, monkeypatch):
    from tui.screens.log_on import LogOnScreen

    def broken(self, event):
        raise RuntimeError("kaboom in a handler")

    monkeypatch.setattr(LogOnScreen, "on_key", broken, raising=False)
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")  # Welcome's #log-on: Log on, focus on #email
        await until(pilot, lambda: type(app.screen).__name__ == "LogOnScreen", "Log on")
        await pilot.press("a", "tab")  # the Tab bubbles up to the screen's broken handler
        await until(pilot, lambda: unexpected(app), "the calm line")
        assert type(app.screen).__name__ == "WelcomeScreen"  # nobody logged on: Welcome again
        assert "cloudacct.log" in unexpected(app)[0].message
        assert "Traceback" not in unexpected(app)[0].message
        # ... and the console still answers keys
        await pilot.press("enter")
        await until(pilot, lambda: type(app.screen).__name__ == "LogOnScreen"
                    and app.focused is not None and app.focused.id == "email", "Log on again")
    assert app.return_code in (0, None)
    assert "RuntimeError: kaboom in a handler" in log_text(cloudacct_home)
    assert "Traceback" in log_text(cloudacct_home)


async def test_a_logged_on_console_reopens_its_section_after_an_error(
        active, cloudacct_home, monkeypatch):
    _token, email = active
    from tui.screens.console import ConsoleScreen

    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await log_on(pilot, email)
        app.screen.query_one("#nav-security").press()
        await settle(pilot)
        assert app.screen.section == "security"
        before = app.screen

        def broken(*_args):
            raise ValueError("kaboom in a section")

        monkeypatch.setattr(ConsoleScreen, "on_key", broken, raising=False)
        await pilot.press("x")
        await until(pilot, lambda: unexpected(app) and app.screen is not before, "reopening")
        assert isinstance(app.screen, ConsoleScreen) and app.screen.section == "security"
        assert app.token is not None  # still logged on
    assert "ValueError: kaboom in a section" in log_text(cloudacct_home)


async def test_errors_again_and_again_stop_the_console_with_one_line(db, cloudacct_home,
                                                                     monkeypatch, capfd):
    from tui.screens.welcome import WelcomeScreen

    def broken(self):
        raise RuntimeError("kaboom on mount")

    app = CloudAcctApp()
    async with app.run_test(size=SIZE):
        monkeypatch.setattr(WelcomeScreen, "on_mount", broken)
        app.show_welcome()  # fails; its reopening fails too: the console stops
        deadline = time.monotonic() + 30
        while app.return_code is None and time.monotonic() < deadline:
            await asyncio.sleep(0.01)  # (the app is stopping: Pilot's pause would not return)
        app._exception = None  # the test expected it (a Pilot run re-raises it otherwise)
    assert app.return_code == 1
    terminal = capfd.readouterr().err  # what Textual prints after leaving the screen
    assert app.stopped_line() in terminal and "Traceback" not in terminal
    assert app.stopped_line().startswith("cloudacct stopped after an unexpected error; "
                                         "the details are in ")
    assert str(cloudacct_home / "cloudacct.log") in app.stopped_line()
    assert "kaboom on mount" in log_text(cloudacct_home)


def test_over_ssh_the_line_names_no_server_path(db, cloudacct_home):
    app = CloudAcctApp(origin="203.0.113.5")
    assert str(cloudacct_home) not in app.stopped_line()
    assert "cloudacct.log" in app.stopped_line()


def test_a_term_with_control_characters_is_replaced_before_rich_reads_it(db, monkeypatch):
    import os

    from tui.terminal_type import DEFAULT_TERM, clean_term

    monkeypatch.setenv("TERM", "xterm\x1b[31m\x07")
    monkeypatch.setenv("COLORTERM", "true\x01color")
    app = CloudAcctApp()
    assert os.environ["TERM"] == DEFAULT_TERM and "COLORTERM" not in os.environ
    assert app.console.color_system is not None
    assert clean_term("screen-256color") == "screen-256color"
    assert clean_term("x\x00y") == clean_term("") == clean_term(None) == DEFAULT_TERM
    assert clean_term("a" * 65) == DEFAULT_TERM
