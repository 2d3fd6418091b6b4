"""The one typed way screens call the core (tui/core_calls.py): results, refusals beside their
fields, double presses, focus, ended sessions and bugs."""

from __future__ import annotations

import contextlib
import threading

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Button, Input
from textual.worker import WorkerFailed

from core.errors import FormErrors, Refused, SessionExpired
from tests.conftest import STRONG_PASSWORD
from tui.core_calls import CallsCore
from tui.navigation import SessionEnded
from tui.widgets.safe_text import FieldError

release = threading.Event()
calls: list[tuple[str, str]] = []


def save_names(first: str, last: str) -> str:
    """Stands in for a core flow: refuses every empty field at once."""
    calls.append((first, last))
    errors = {}
    if not first:
        errors["first"] = "Enter your first name."
    if not last:
        errors["last"] = "Enter your last name."
    if errors:
        raise FormErrors(errors)
    if first == "wait":
        release.wait(10)
    if first == "refuse":
        raise Refused("Not now.")
    if first == "ended":
        raise SessionExpired("Your session has ended.")
    if first == "bug":
        raise RuntimeError("a bug")
    return f"{first} {last}"


class NamesScreen(CallsCore, Screen):
    FORM_ERROR = "names"

    def __init__(self) -> None:
        super().__init__()
        self.saved: list[str] = []

    def compose(self) -> ComposeResult:
        yield Input(id="first")
        yield FieldError("first")
        yield Input(id="last")
        yield FieldError("last")
        yield Button("Save", id="save")
        yield FieldError("names")

    def on_button_pressed(self) -> None:
        self.call(save_names, self.query_one("#first", Input).value,
                  self.query_one("#last", Input).value).then(
            self.saved.append, busy=self.query_one("#save", Button))


class NamesApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.ended: list[str] = []
        self.bugs: list[BaseException] = []

    def on_mount(self) -> None:
        self.push_screen(NamesScreen())

    def on_session_ended(self, message: SessionEnded) -> None:
        self.ended.append(message.message)

    def report_unexpected(self, error: BaseException) -> None:
        self.bugs.append(error)


async def settle(pilot) -> None:
    """Until the workers have ended and their outcomes were handled (a worker that raised is
    an outcome here, not a test failure)."""
    for _ in range(4):
        with contextlib.suppress(WorkerFailed):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def _press_save(pilot, first: str, last: str) -> NamesScreen:
    screen = pilot.app.screen
    screen.query_one("#first", Input).value = first
    screen.query_one("#last", Input).value = last
    screen.query_one("#save").focus()
    await pilot.pause()
    screen.on_button_pressed()  # not pilot.press: a Button ignores Enter while it still flashes
    await settle(pilot)
    return screen


async def test_the_typed_result_reaches_done() -> None:
    async with NamesApp().run_test() as pilot:
        screen = await _press_save(pilot, "Mei", "Tan")
        assert screen.saved == ["Mei Tan"]


async def test_every_field_error_is_shown_at_once_and_typed_values_are_kept() -> None:
    async with NamesApp().run_test() as pilot:
        screen = await _press_save(pilot, "", "")
        assert screen.query_one("#first-error", FieldError).text == "Enter your first name."
        assert screen.query_one("#last-error", FieldError).text == "Enter your last name."
        assert screen.focused is screen.query_one("#first")
        screen = await _press_save(pilot, "Mei", "")
        assert screen.query_one("#first-error", FieldError).text == ""
        assert screen.query_one("#last-error", FieldError).text == "Enter your last name."
        assert screen.query_one("#first", Input).value == "Mei"
        assert screen.focused is screen.query_one("#last")


async def test_a_refusal_of_no_field_goes_to_the_form_line_and_focus_comes_back() -> None:
    async with NamesApp().run_test() as pilot:
        screen = await _press_save(pilot, "refuse", "x")
        assert screen.query_one("#names-error", FieldError).text == "Not now."
        assert screen.focused is screen.query_one("#save")


async def test_a_double_press_acts_once() -> None:
    calls.clear()
    release.clear()
    async with NamesApp().run_test() as pilot:
        screen = pilot.app.screen
        screen.query_one("#first", Input).value = "wait"
        screen.query_one("#last", Input).value = "x"
        screen.on_button_pressed()
        screen.on_button_pressed()
        assert screen.query_one("#save", Button).disabled
        release.set()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert calls == [("wait", "x")]
        assert screen.saved == ["wait x"]
        assert not screen.query_one("#save", Button).disabled


async def test_an_ended_session_goes_to_the_app_and_a_bug_to_its_one_handler() -> None:
    async with NamesApp().run_test() as pilot:
        await _press_save(pilot, "ended", "x")
        assert pilot.app.ended == ["Your session has ended."]
        await _press_save(pilot, "bug", "x")
        assert [str(b) for b in pilot.app.bugs] == ["a bug"]


def delete_something(token: str) -> str:
    """Stands in for a sensitive core action (SPEC F13)."""
    from core.step_up import require_step_up

    require_step_up(token, "delete_account")
    calls.append(("sensitive", token))
    return "done"


class SensitiveScreen(CallsCore, Screen):
    def __init__(self) -> None:
        super().__init__()
        self.results: list[str] = []

    def compose(self) -> ComposeResult:
        yield Button("Delete", id="delete")

    def on_button_pressed(self) -> None:
        self.call(delete_something, self.app.token).then(
            self.results.append, busy=self.query_one("#delete", Button))


class SensitiveApp(App[None]):
    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def on_mount(self) -> None:
        self.push_screen(SensitiveScreen())

    def on_session_ended(self, message: SessionEnded) -> None:
        raise AssertionError(message.message)

    def report_unexpected(self, error: BaseException) -> None:
        raise AssertionError(error)


async def test_a_step_up_is_asked_over_the_screen_and_the_action_runs_after_it(db):
    from datetime import timedelta

    from core import clock
    from core.accounts import log_on
    from tests.core.conftest import make_verified_account

    make_verified_account("mei@example.com")
    token = log_on("mei@example.com", STRONG_PASSWORD).token
    clock.advance(timedelta(minutes=6))  # the log-on's own proof is over
    calls.clear()
    async with SensitiveApp(token).run_test() as pilot:
        screen = pilot.app.screen
        screen.on_button_pressed()
        await settle(pilot)
        modal = pilot.app.screen
        assert modal is not screen and modal.query_one("#step-up-code")
        assert calls == []
        modal.query_one("#step-up-code", Input).value = "not my password"
        await pilot.click("#step-up-confirm")
        await settle(pilot)
        assert pilot.app.screen is modal  # refused: asked again, nothing done
        assert modal.query_one("#step-up-code", Input).value == ""
        assert "not correct" in modal.query_one("#step-up-code-error", FieldError).text
        modal.query_one("#step-up-code", Input).value = STRONG_PASSWORD
        await pilot.click("#step-up-confirm")
        await settle(pilot)
        assert pilot.app.screen is screen
        assert screen.results == ["done"] and calls == [("sensitive", token)]


async def test_cancelling_the_step_up_does_nothing(db):
    from datetime import timedelta

    from core import clock
    from core.accounts import log_on
    from tests.core.conftest import make_verified_account

    make_verified_account("mei@example.com")
    token = log_on("mei@example.com", STRONG_PASSWORD).token
    clock.advance(timedelta(minutes=6))
    calls.clear()
    async with SensitiveApp(token).run_test() as pilot:
        screen = pilot.app.screen
        screen.query_one("#delete").focus()
        screen.on_button_pressed()
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is screen and screen.results == [] and calls == []
        assert screen.focused is screen.query_one("#delete")
