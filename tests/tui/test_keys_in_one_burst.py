"""Keys written at once land where they were typed; pastes and floods are cut at the field's
limit, cleaned, and cost time linear in their size.

`pilot.press` waits for the app to go idle after every key, so it never shows the burst bug.
These tests write a burst the way a terminal does: the bytes go through the console's terminal
reader (tolerant UTF-8, pastes taken out whole, Textual's xterm parser) and every event it
makes is handed to the driver at once, before the app has handled the first (what the Linux
driver does with one read).
"""

from __future__ import annotations

import time

from textual import events
from textual.widgets import Input

from tests.tui.helpers import log_on, settle
from tui.app import CloudAcctApp
from tui.terminal_input import TerminalReader

SIZE = (100, 40)
EMAIL = "mei@example.com"
PASSWORD = "Violet-Harbour-Lantern-1987"


def active_account(email: str = EMAIL, password: str = PASSWORD) -> None:
    from core.accounts import sign_up
    from core.verify_account import confirm_code, send_code
    from tests.conftest import latest_code

    result = sign_up("SG", email, password, password, True)
    send_code(result.token, "signup", "email")
    confirm_code(result.token, "signup", "email", latest_code(email))


def write(app: CloudAcctApp, data: str | bytes) -> None:
    """Everything in `data` arrives in one read, as from a password manager's auto-type: its
    events are all posted before the app handles the first (as the Linux driver hands over
    one read's events)."""
    reader = TerminalReader()
    for event in [*reader.read(data.encode() if isinstance(data, str) else data),
                  *reader.quiet()]:
        event.set_sender(app)
        app.post_message(event)


def paste(app: CloudAcctApp, text: str) -> None:
    event = events.Paste(text)
    event.set_sender(app)
    app.post_message(event)


async def until(pilot, condition, what: str, timeout: float = 30.0) -> None:
    """Poll `condition` with a deadline (not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s "
                                 f"(screen {type(pilot.app.screen).__name__}, "
                                 f"focus {getattr(pilot.app.focused, 'id', None)})")
        await pilot.pause(0.01)


def value(app: CloudAcctApp, selector: str) -> str | None:
    """The field's value on the active screen (None while it is not there yet)."""
    fields = app.screen.query(selector)
    return fields.first(Input).value if fields else None


def on_screen(app: CloudAcctApp, name: str) -> bool:
    return type(app.screen).__name__ == name


async def open_log_on(app: CloudAcctApp, pilot) -> None:
    await pilot.click("#log-on")
    await until(pilot, lambda: on_screen(app, "LogOnScreen") and app.focused is not None
                and app.focused.id == "email", "Log on with focus on #email")


async def test_auto_type_logs_on_from_the_log_on_screen(db):
    active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_log_on(app, pilot)
        write(app, f"{EMAIL}\t{PASSWORD}\r")
        await until(pilot, lambda: on_screen(app, "ConsoleScreen"), "log-on")
        assert app.token is not None


async def test_one_burst_from_welcome_opens_log_on_and_logs_on(db):
    """Enter on Welcome pushes Log on while the rest of the burst is still waiting."""
    active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        assert app.focused.id == "log-on"
        write(app, f"\r{EMAIL}\t{PASSWORD}\r")
        await until(pilot, lambda: on_screen(app, "ConsoleScreen"), "log-on")


async def test_enter_that_moves_focus_takes_effect_before_the_next_key(db):
    """Enter in #email submits it, and the screen's handler moves focus to #password."""
    active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_log_on(app, pilot)
        write(app, f"{EMAIL}\r{PASSWORD}\r")
        await until(pilot, lambda: on_screen(app, "ConsoleScreen"), "log-on")


async def test_sign_up_fields_take_what_was_typed_for_them(db):
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#free-account")
        await until(pilot, lambda: on_screen(app, "SignUpScreen")
                    and getattr(app.focused, "id", None) == "country", "Sign up")
        write(app, f"\ta@example.com\t{PASSWORD}\t{PASSWORD}")
        await until(pilot, lambda: value(app, "#password-confirm") == PASSWORD, "the burst")
        assert value(app, "#email") == "a@example.com"
        assert value(app, "#password") == PASSWORD


async def test_shift_tab_in_a_burst_goes_back_before_the_next_key(db):
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_log_on(app, pilot)
        write(app, "\tpw\x1b[Zmail")  # shift+Tab is CSI Z
        await until(pilot, lambda: value(app, "#email") == "mail", "the burst")
        assert value(app, "#password") == "pw"


async def test_keys_in_a_modal_land_in_its_fields(active):
    _token, email = active
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await log_on(pilot, email)
        app.screen.query_one("#nav-security").press()
        await settle(pilot)
        app.screen.query_one("#change-password").press()
        await until(pilot, lambda: app.screen.query("#current-password")
                    and getattr(app.focused, "id", None) == "current-password",
                    "the change-password form")
        write(app, "old-password-1\tnew-password-22\tnew-password-22")
        await until(pilot, lambda: value(app, "#new-password-confirm") == "new-password-22",
                    "the burst")
        assert value(app, "#current-password") == "old-password-1"
        assert value(app, "#new-password") == "new-password-22"


# -- pastes and floods ----------------------------------------------------------------------

async def test_a_100_kb_paste_is_cut_at_the_email_limit(db):
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_log_on(app, pilot)
        paste(app, "m" * 100_000)
        await until(pilot, lambda: value(app, "#email"), "the paste")
        assert value(app, "#email") == "m" * 254
        await until(pilot, lambda: any("at most 254" in n.message
                                       for n in app._notifications), "the note")
        write(app, "\tx")  # and the console still answers keys
        await until(pilot, lambda: value(app, "#password") == "x", "the next keys")


async def test_a_100_kb_flood_of_typed_keys_is_cut_at_the_email_limit(db):
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_log_on(app, pilot)
        started = time.process_time()
        write(app, "k" * 100_000 + "\tx")
        await until(pilot, lambda: value(app, "#password") == "x", "the flood", timeout=60)
        assert value(app, "#email") == "k" * 254
        # told once, however many pieces the flood arrived in
        assert sum("at most 254" in n.message for n in app._notifications) == 1
        # Not a timing assertion: a quadratic flood took minutes here; linear takes seconds.
        assert time.process_time() - started < 60


async def test_a_flood_of_tabs_is_cut_short_and_the_person_told(db):
    """Each Tab costs a screen update; 20 000 of them would keep the console busy for minutes.
    In a flood only the first few keys that are not text for a field go on."""
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_log_on(app, pilot)
        write(app, "\t" * 20_000)
        await until(pilot, lambda: any("some were left out" in n.message
                                       for n in app._notifications), "the note", timeout=60)
        before = app.focused
        write(app, "\t")  # and the console answers the next key at once
        await until(pilot, lambda: app.focused is not before, "the next Tab")


async def test_a_paste_keeps_no_escape_control_or_second_line(db):
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_log_on(app, pilot)
        paste(app, "mei\x1b]52;c;SGVsbG8=\x07@exa\x1b[2Jmple\u202e.com\ufffd\x00\nBcc: x@y.com")
        await until(pilot, lambda: value(app, "#email"), "the paste")
        assert value(app, "#email") == "mei@example.com"


async def test_a_bracketed_paste_through_the_parser_is_cut_and_cleaned(db):
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_log_on(app, pilot)
        write(app, "\x1b[200~" + "p\x1b[31m" * 50_000 + "\x1b[201~\tx")
        await until(pilot, lambda: value(app, "#password") == "x", "the paste")
        assert value(app, "#email") == "p" * 254


async def test_every_field_has_a_limit_from_one_table(db):
    """Every Input the console composes is a BoundedInput (the source says which class)."""
    import re
    from pathlib import Path

    import tui

    offenders = []
    for path in Path(tui.__file__).parent.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"(?<![A-Za-z_])Input\(", line):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert offenders == []


def test_field_limits_follow_the_core_rules():
    from core.billing_address import CITY_MAX, NAME_MAX, STREET_MAX
    from core.validation import PASSWORD_MAX, POSTAL_CODE_MAX
    from tui.widgets.bounded_input import field_limit

    assert field_limit("email") == 254
    assert field_limit("password") == field_limit("password-confirm") == PASSWORD_MAX
    assert field_limit("full-name") == NAME_MAX
    assert field_limit("city") == CITY_MAX
    assert field_limit("street") == field_limit("street-2") == STREET_MAX
    assert field_limit("postal-code") == POSTAL_CODE_MAX


async def test_keys_wait_while_the_console_is_busy_and_are_not_lost(db):
    """A key typed while a screen is still mounting waits for it (nothing is dropped)."""
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        write(app, "f")  # Welcome's binding opens Sign up, which mounts 250 countries
        write(app, "\ta@b.c")
        await until(pilot, lambda: on_screen(app, "SignUpScreen")
                    and value(app, "#email") == "a@b.c", "the keys")
