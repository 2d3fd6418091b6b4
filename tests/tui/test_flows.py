"""F1–F3 end to end through the console: sign up, verify, log off, log on."""

from __future__ import annotations

from textual.widgets import Input, Select

from tests.conftest import latest_code
from tests.tui.helpers import (
    STRONG_PASSWORD,
    fill,
    log_on,
    settle,
    shown,
    sign_up,
    texts_in,
    type_into,
)
from tui.app import CloudAcctApp
from tui.screens.console import ConsoleScreen
from tui.screens.log_on import LogOnScreen
from tui.screens.sign_up import SignUpScreen
from tui.screens.verify import VerifyScreen
from tui.screens.welcome import WelcomeScreen

SIZE = (100, 40)


async def test_sign_up_verify_by_email_log_off_and_on_again():
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, WelcomeScreen)
        await pilot.click("#free-account")
        await pilot.pause()
        assert isinstance(app.screen, SignUpScreen)
        await sign_up(pilot, "SG", "alice@example.com")
        assert isinstance(app.screen, VerifyScreen)
        assert app.token
        assert "a•••e@example.com" in shown(pilot, "#destination")

        await pilot.click("#send")
        await settle(pilot)
        assert "Tries left: 5" in shown(pilot, "#code-status")
        assert "(60 s)" in str(app.screen.query_one("#send").label)
        assert app.screen.query_one("#send").disabled
        fill(pilot, "#code", latest_code("alice@example.com"))
        await pilot.click("#verify")
        await settle(pilot)

        # F2 done: the console opens at the billing address (F4), which can be left for later.
        assert isinstance(app.screen, ConsoleScreen)
        assert app.screen.section == "billing-address"
        await pilot.click("#later")
        await settle(pilot)
        assert app.screen.section == "overview"
        assert "alice@example.com" in shown(pilot, "#account")
        assert "Active" in shown(pilot, "#account")
        assert "Singapore (SG)" in shown(pilot, "#account")

        await pilot.click("#log-off")
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        assert app.token is None
        assert shown(pilot, "#welcome-message") == "You have logged off."

        await log_on(pilot, "ALICE@example.com")
        assert isinstance(app.screen, ConsoleScreen)
        assert app.screen.section == "overview"
        steps = texts_in(pilot, "#next-steps")
        assert "Add billing address" in steps
        assert "Add payment method" in steps

        # A next step is a shortcut to its section.
        await pilot.click("#step-billing-address")
        await settle(pilot)
        assert app.screen.section == "billing-address"


async def test_every_nav_button_opens_its_section(monkeypatch):
    """The shell alone: every section but the overview replaced by a stand-in panel."""
    from textual.widgets import Static

    from core.accounts import sign_up as core_sign_up
    from core.verify_account import confirm_code, send_code
    from tui.sections import registry as sections
    from tui.widgets.section import Section

    class StandIn(Section):
        def __init__(self, label: str) -> None:
            super().__init__()
            self.label = label

        def compose(self):
            yield Static(f"Stand-in for the {self.label} section.")

    for key, (label, _factory) in list(sections.SECTIONS.items()):
        if key != "overview":
            monkeypatch.setitem(sections.SECTIONS, key,
                                (label, lambda label=label: StandIn(label)))
    app = CloudAcctApp()
    result = core_sign_up("SG", "nav@example.com", STRONG_PASSWORD, STRONG_PASSWORD, True)
    send_code(result.token, "signup", "email")
    confirm_code(result.token, "signup", "email", latest_code("nav@example.com"))
    async with app.run_test(size=(80, 24)) as pilot:
        await log_on(pilot, "nav@example.com")
        for key in ("billing-address", "payment-methods", "real-name", "products", "billing",
                    "security", "overview"):
            await pilot.click(f"#nav-{key}")
            await settle(pilot)
            assert app.screen.section == key
            assert app.screen.query_one(f"#nav-{key}").has_class("-current")
        await pilot.click("#nav-security")
        await pilot.pause()
        assert "Stand-in for the Security section." in texts_in(
            pilot, "#content")
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert app.screen.section == "overview"
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)


async def test_verify_by_sms_then_console():
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#free-account")
        await sign_up(pilot, "SG", "sam@example.com")
        await pilot.click("#use-phone")
        await pilot.pause()
        assert app.screen.query("#send-message") and not app.screen.query("#send")
        fill(pilot, "#phone", "+65 8123 4567")
        await pilot.click("#send-message")
        await settle(pilot)
        assert "+65" in shown(pilot, "#destination")
        assert "67" in shown(pilot, "#destination")
        assert "(60 s)" in str(app.screen.query_one("#call").label)
        fill(pilot, "#code", latest_code("+6581234567"))
        await pilot.click("#verify")
        await settle(pilot)
        assert isinstance(app.screen, ConsoleScreen)

    from core.models import Account

    account = Account.get(Account.email_key == "sam@example.com")
    assert account.status == "active"
    assert account.verified_channel == "phone"
    assert account.phone == "+6581234567"


async def test_verify_by_call():
    from core.delivery import read_outbox

    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#free-account")
        await sign_up(pilot, "SG", "cal@example.com")
        await pilot.click("#use-phone")
        await pilot.pause()
        fill(pilot, "#phone", "8123 4567")
        await pilot.click("#call")
        await settle(pilot)
        assert read_outbox("+6581234567")[0].channel == "voice"
        fill(pilot, "#code", latest_code("+6581234567"))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConsoleScreen)


async def test_phone_of_another_country_is_refused_beside_the_field():
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#free-account")
        await sign_up(pilot, "SG", "uk@example.com")
        await pilot.click("#use-phone")
        await pilot.pause()
        fill(pilot, "#phone", "+44 7400 123456")
        await pilot.click("#send-message")
        await settle(pilot)
        assert "Singapore" in shown(pilot, "#phone-error")
        await pilot.click("#use-email")
        await pilot.pause()
        assert app.screen.query("#send") and not app.screen.query("#phone")


async def test_wrong_code_shows_the_tries_left():
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#free-account")
        await sign_up(pilot, "SG", "wrong@example.com")
        await pilot.click("#send")
        await settle(pilot)
        right = latest_code("wrong@example.com")
        wrong = "000000" if right != "000000" else "111111"
        await type_into(pilot, "#code", wrong)
        await pilot.click("#verify")
        await settle(pilot)
        assert isinstance(app.screen, VerifyScreen)
        assert shown(pilot, "#code-error") == "Wrong code. 4 tries left."
        assert "Tries left: 4" in shown(pilot, "#code-status")

        await type_into(pilot, "#code", "12a456")
        await pilot.click("#verify")
        await settle(pilot)
        assert "6-digit" in shown(pilot, "#code-error")


async def test_resend_during_the_cooldown_does_nothing(clock):
    from core.delivery import read_outbox

    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#free-account")
        await sign_up(pilot, "SG", "twice@example.com")
        await pilot.click("#send")
        await settle(pilot)
        await pilot.click("#send")
        await settle(pilot)
        assert len(read_outbox("twice@example.com")) == 1


async def test_log_on_with_a_wrong_password_shows_one_message():
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#free-account")
        await sign_up(pilot, "SG", "bob@example.com")
        await pilot.click("#log-off")
        await settle(pilot)
        await log_on(pilot, "bob@example.com", "not the password at all")
        assert isinstance(app.screen, LogOnScreen)
        message = shown(pilot, "#log-on-error")
        assert message == "The email or password is not correct."
        await log_on(pilot, "nobody@example.com", "not the password at all")
        assert shown(pilot, "#log-on-error") == message


async def test_unverified_account_resumes_verification_after_log_on(db):
    from core.accounts import sign_up as core_sign_up

    core_sign_up("SG", "later@example.com", STRONG_PASSWORD, STRONG_PASSWORD, True)
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await log_on(pilot, "later@example.com")
        assert isinstance(app.screen, VerifyScreen)


async def test_session_ended_elsewhere_returns_to_welcome():
    from core.db import transaction
    from core.models import Account
    from core.sessions import end_account_sessions

    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#free-account")
        await sign_up(pilot, "SG", "gone@example.com")
        await pilot.click("#send")
        await settle(pilot)
        fill(pilot, "#code", latest_code("gone@example.com"))
        await pilot.click("#verify")
        await settle(pilot)
        assert isinstance(app.screen, ConsoleScreen)
        with transaction():
            end_account_sessions(Account.get(Account.email_key == "gone@example.com").id,
                                 "password_changed")
        app.check_session()
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        assert app.token is None
        assert "password was changed" in shown(pilot, "#welcome-message")


async def test_session_watch_waits_while_the_persons_own_action_runs():
    """The action in flight reports its own outcome (a deletion's "Your account has been
    deleted"); the watch must not race it to Welcome with a vaguer message."""
    import threading

    from core.db import transaction
    from core.models import Account
    from core.sessions import end_account_sessions

    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#free-account")
        await sign_up(pilot, "SG", "busy@example.com")
        assert isinstance(app.screen, VerifyScreen)
        release = threading.Event()
        app.screen.run_worker(release.wait, thread=True, group="send")
        with transaction():
            end_account_sessions(Account.get(Account.email_key == "busy@example.com").id,
                                 "password_changed")
        app.check_session()
        for worker in [w for w in app.workers if w.group == "session-watch"]:
            await worker.wait()
        await pilot.pause()
        assert isinstance(app.screen, VerifyScreen)
        assert app.token is not None
        release.set()
        await app.workers.wait_for_complete()
        app.check_session()
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        assert "password was changed" in shown(pilot, "#welcome-message")


async def test_idle_session_ends_on_the_next_action(clock):
    from datetime import timedelta

    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#free-account")
        await sign_up(pilot, "SG", "idle@example.com")
        clock.advance(timedelta(minutes=31))
        await pilot.click("#send")
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        assert "without activity" in shown(pilot, "#welcome-message")


async def test_unexpected_error_in_a_worker_is_reported_and_the_console_keeps_running(
        monkeypatch):
    import core.accounts

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(core.accounts, "log_on", broken)
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await log_on(pilot, "x@example.com", "whatever password")
        assert isinstance(app.screen, LogOnScreen)
        assert any(n.title == "Unexpected error" for n in app._notifications)
        assert not app.screen.query_one("#log-on").disabled
    log = (app_home() / "cloudacct.log").read_text()
    assert "RuntimeError: boom" in log


def app_home():
    from core.config import settings

    return settings().home


async def test_country_list_is_searchable_by_typing():
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#free-account")
        await pilot.pause()
        select = app.screen.query_one("#country", Select)
        assert select.has_focus
        await pilot.press("enter", *"singap", "enter")
        await pilot.pause()
        assert select.value == "SG"
        await pilot.press("enter", *"(de)", "enter")
        await pilot.pause()
        assert select.value == "DE"


async def test_keyboard_only_sign_up():
    app = CloudAcctApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f")
        await pilot.pause()
        await pilot.press("enter", *"singap", "enter", "tab")
        await pilot.press(*"key@example.com", "tab")
        await pilot.press(*STRONG_PASSWORD, "tab")
        await pilot.press(*STRONG_PASSWORD, "tab")
        await pilot.press("space")  # the agreement box
        assert app.screen.query_one("#agree").value
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, VerifyScreen)
        assert app.screen.query_one("#send").has_focus
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one("#code", Input).has_focus
        await pilot.press(*latest_code("key@example.com"), "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConsoleScreen)
