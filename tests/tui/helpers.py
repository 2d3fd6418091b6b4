"""Driving the console in Pilot tests: typing, waiting for workers, reading what is shown."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Button, Input, Select, Static

from tests.conftest import STRONG_PASSWORD

__all__ = ["STRONG_PASSWORD", "at_the_first_error", "fill", "log_on", "settle", "shown",
           "sign_up", "snapshot_ready", "texts_in", "type_into"]


async def settle(pilot: Pilot) -> None:
    """Let every worker finish and every message it caused be handled."""
    from textual.worker import WorkerFailed

    for _ in range(4):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerFailed:
            # A refused core call ends its worker in error: that is an outcome the screen
            # shows (the test asserts it), not a failure of the test's waiting. Wait again.
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def type_into(pilot: Pilot, selector: str, text: str) -> None:
    """Focus the input and type `text` key by key, as a person would."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = ""
    await pilot.pause()
    await pilot.press(*text)


def shown(pilot: Pilot, selector: str) -> str:
    """The plain text a Static (e.g. an `#<field>-error`) shows now."""
    widget = pilot.app.screen.query_one(selector, Static)
    return str(widget.render())


def texts_in(pilot: Pilot, selector: str) -> list[str]:
    """The texts of the buttons and statics under `selector`."""
    out = []
    for widget in pilot.app.screen.query_one(selector).query("*"):
        if isinstance(widget, Button):
            out.append(str(widget.label))
        elif isinstance(widget, Static):
            out.append(str(widget.render()))
    return out


async def sign_up(pilot: Pilot, country: str | None, email: str, password: str = STRONG_PASSWORD,
                  confirm: str | None = None, agree: bool = True) -> None:
    """Fill the Sign up form and press Confirm (the app must be on Sign up)."""
    screen = pilot.app.screen
    if country is not None:
        screen.query_one("#country", Select).value = country
    screen.query_one("#email", Input).value = email
    screen.query_one("#password", Input).value = password
    screen.query_one("#password-confirm", Input).value = password if confirm is None else confirm
    if agree:
        await pilot.click("#agree")
    await pilot.click("#confirm")
    await settle(pilot)


def fill(pilot: Pilot, selector: str, text: str) -> None:
    """Put `text` in an input at once (typing key by key is slow; see `type_into`)."""
    pilot.app.screen.query_one(selector, Input).value = text


async def log_on(pilot: Pilot, email: str, password: str = STRONG_PASSWORD) -> None:
    """From Welcome or Log on: log on and wait for the result."""
    if not pilot.app.screen.query("#password"):
        await pilot.click("#log-on")
        await pilot.pause()
    fill(pilot, "#email", email)
    fill(pilot, "#password", password)
    await pilot.pause()
    await pilot.click("#log-on")
    await settle(pilot)


async def at_the_first_error(pilot: Pilot, first: str = "#country") -> None:
    """A refused form, as the refusal leaves it: focus on its first field in error and the
    form scrolled to its top (whether a scroll-into-view had ended by the picture depended on
    timing under load)."""
    await settle(pilot)
    pilot.app.screen.query_one(first).focus(scroll_visible=False)
    for widget in pilot.app.screen.query("*"):
        if widget.is_scrollable:
            widget.scroll_home(animate=False, immediate=True)
    await settle(pilot)


async def snapshot_ready(pilot: Pilot) -> None:
    """A picture that does not depend on timing: workers done, cursors still, animations and
    button flashes over, and the mouse parked on the brand bar (a click leaves it over whatever
    the next screen puts there)."""
    await settle(pilot)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.hover(None, offset=(0, 0))
    # A clicked button flashes (`-active`) for a moment on a timer; a modal opened by the click
    # leaves it showing behind, or not, by timing. End the flash on every screen now.
    # Likewise, whether the button that opened a modal shows focused behind it depends on
    # whether its mouse-down focus landed before the modal: nothing behind a modal is focused.
    for screen in pilot.app.screen_stack:
        for button in screen.query(Button):
            button.remove_class("-active")
    # and what is behind a modal rests at the top, wherever a scroll-into-view had it.
    for screen in pilot.app.screen_stack[:-1]:
        screen.set_focus(None)
        for widget in screen.query("*"):
            if widget.is_scrollable:
                widget.scroll_home(animate=False, immediate=True)
    # Scrolling into view animates, and a DataTable sizes its columns when idle, sometimes a
    # refresh later: wait until three pictures in a row, a little apart, are the same.
    last, same = None, 0
    for _ in range(40):
        await pilot.wait_for_scheduled_animations()
        await settle(pilot)
        await pilot.pause(0.05)
        picture = pilot.app.export_screenshot()
        same = same + 1 if picture == last else 0
        if same >= 2:
            break
        last = picture
