"""Sign up refuses bad input beside each field, stores nothing, and shows text as typed."""

from __future__ import annotations

import html

import pytest

from tests.tui.helpers import STRONG_PASSWORD, settle, shown, sign_up, type_into
from tui.app import CloudAcctApp
from tui.screens.sign_up import SignUpScreen
from tui.screens.verify import VerifyScreen

SIZE = (100, 40)
ERRORS = ("#country-error", "#email-error", "#password-error", "#password-confirm-error",
          "#agree-error")


def stored_accounts() -> int:
    from core.models import Account

    return Account.select().count()


async def open_sign_up(app, pilot) -> None:
    await pilot.click("#free-account")
    await pilot.pause()
    assert isinstance(app.screen, SignUpScreen)


async def test_every_error_is_shown_beside_its_field_at_once():
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_sign_up(app, pilot)
        await sign_up(pilot, None, "not-an-email", "short", "different", agree=False)
        assert isinstance(app.screen, SignUpScreen)
        assert "country" in shown(pilot, "#country-error").lower()
        assert "@" in shown(pilot, "#email-error")
        assert "12 characters" in shown(pilot, "#password-error")
        assert "not the same" in shown(pilot, "#password-confirm-error")
        assert "agree" in shown(pilot, "#agree-error")
        assert app.screen.query_one("#country").has_focus  # the first field in error
    assert stored_accounts() == 0


@pytest.mark.parametrize(
    ("field", "values", "expected"),
    [
        ("#country-error", dict(country=None), "Choose the country"),
        ("#email-error", dict(email="a@@example.com"), "not a valid email"),
        ("#email-error", dict(email=""), "Enter your email"),
        ("#email-error", dict(email="a@b.com\r\nBcc: x@y.com"), "spaces or line breaks"),
        ("#password-error", dict(password="short pass", confirm="short pass"), "12"),
        ("#password-error", dict(password="bobby" + "tables-9Q!xz", confirm="bobby"
                                 "tables-9Q!xz"), "email name"),
        ("#password-error", dict(password="password1234", confirm="password1234"), "easy"),
        ("#password-confirm-error", dict(confirm=STRONG_PASSWORD + "x"), "not the same"),
        ("#password-confirm-error", dict(confirm=""), "again"),
        ("#agree-error", dict(agree=False), "Check the box"),
    ],
)
async def test_one_bad_field(field, values, expected):
    args = dict(country="SG", email="bobbytables@example.com", password=STRONG_PASSWORD,
                confirm=None, agree=True)
    args.update(values)
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_sign_up(app, pilot)
        await sign_up(pilot, **args)
        assert isinstance(app.screen, SignUpScreen)
        assert expected in shown(pilot, field)
        for other in ERRORS:
            if other != field:
                assert shown(pilot, other) == ""
        assert not app.screen.query_one("#confirm").disabled
    assert stored_accounts() == 0


async def test_markup_typed_in_the_email_is_shown_literally():
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_sign_up(app, pilot)
        await type_into(pilot, "#email", "[bold]x[/]@example.com")
        await pilot.click("#confirm")
        await settle(pilot)
        message = shown(pilot, "#email-error")
        assert message.endswith("before the @-sign: '[', ']'.")
        # What the terminal shows, not just what the widget holds: the brackets, unparsed.
        screen_text = html.unescape(app.export_screenshot()).replace("\xa0", " ")
        assert "before the @-sign: '[', ']'." in screen_text
        assert "[bold]x[/]@example.com" in screen_text


async def test_control_characters_never_reach_the_screen():
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_sign_up(app, pilot)
        app.screen.query_one("#email-error").show("x\x1b[2J\x1b]52;c;aGk=\x07\u202ey")
        await pilot.pause()
        text = shown(pilot, "#email-error")
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text


async def test_double_confirm_signs_up_once():
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_sign_up(app, pilot)
        screen = app.screen
        screen.query_one("#country").value = "SG"
        screen.query_one("#email").value = "once@example.com"
        screen.query_one("#password").value = STRONG_PASSWORD
        screen.query_one("#password-confirm").value = STRONG_PASSWORD
        screen.query_one("#agree").value = True
        screen.query_one("#confirm").focus()
        await pilot.press("enter", "enter", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, VerifyScreen)
    from core.models import Session

    assert stored_accounts() == 1
    assert Session.select().count() == 1


def verified_owner(email: str = "owner@example.com") -> None:
    """An account that verified its email: a sign-up with it is a decoy."""
    from core.accounts import sign_up as core_sign_up
    from core.verify_account import confirm_code, send_code
    from tests.conftest import latest_code

    token = core_sign_up("SG", email, STRONG_PASSWORD, STRONG_PASSWORD, True).token
    send_code(token, "signup", "email")
    confirm_code(token, "signup", "email", latest_code(email))


async def test_existing_email_looks_the_same_and_the_owner_gets_a_notice(db):
    from core.delivery import read_outbox

    verified_owner()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_sign_up(app, pilot)
        await sign_up(pilot, "SG", "Owner@Example.com", "another strong pass phrase 7")
        assert isinstance(app.screen, VerifyScreen)
        await pilot.click("#send")
        await settle(pilot)
        assert "Tries left" in shown(pilot, "#code-status")
    assert "tried to sign up" in read_outbox("owner@example.com")[0].subject
    assert stored_accounts() == 1


async def test_phone_path_of_an_existing_email_texts_a_code_then_says_so(db):
    """Like a new sign-up's, the phone path texts a real code; the right code then says that
    the email has an account, beside the code, and the console stays on Verify."""
    from core.delivery import read_outbox
    from core.verify_account import EMAIL_HAS_ACCOUNT
    from tests.conftest import latest_code
    from tests.tui.helpers import fill

    verified_owner()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_sign_up(app, pilot)
        await sign_up(pilot, "SG", "owner@example.com", "another strong pass phrase 7")
        await pilot.click("#use-phone")
        await pilot.pause()
        fill(pilot, "#phone", "+65 8123 4567")
        await pilot.click("#send-message")
        await settle(pilot)
        assert "Tries left" in shown(pilot, "#code-status")
        fill(pilot, "#code", latest_code("+6581234567"))
        await pilot.click("#verify")
        await settle(pilot)
        assert isinstance(app.screen, VerifyScreen)
        assert shown(pilot, "#code-error") == EMAIL_HAS_ACCOUNT
    assert "tried to sign up" in read_outbox("owner@example.com")[0].subject
    assert stored_accounts() == 1


async def test_strength_meter_follows_the_typing():
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_sign_up(app, pilot)
        await type_into(pilot, "#password", "password")
        await pilot.pause(0.4)  # the meter waits for a quarter second of quiet
        await settle(pilot)
        meter = app.screen.query_one("#password-strength")
        assert meter.score is not None and meter.score < 3
        assert "not strong enough" in str(meter.render())
        await type_into(pilot, "#password", STRONG_PASSWORD)
        await pilot.pause(0.4)
        await settle(pilot)
        assert meter.score >= 3


async def test_each_agreement_is_readable_and_escape_closes_it():
    from tui.modals.agreement import AgreementModal

    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_sign_up(app, pilot)
        for slug in ("membership-agreement", "privacy-policy", "product-terms", "terms-of-use"):
            await pilot.click(f"#read-{slug}")
            await pilot.pause()
            assert isinstance(app.screen, AgreementModal)
            assert "Alibaba Cloud" in shown(pilot, "#agreement-text")
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, SignUpScreen)
        assert stored_accounts() == 0


async def test_the_meter_says_what_confirm_would_refuse_for_the_emails_name():
    """The meter judges by core's rules (core.validation.password_verdict): a long, varied
    password holding the email's name is not shown as strong enough."""
    from textual.widgets import Input

    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_sign_up(app, pilot)
        app.screen.query_one("#email", Input).value = "bobbytables@example.com"
        app.screen.query_one("#password", Input).value = "bobbytables-Violet-Harbour-1987"
        app.screen._measure()  # what the quarter-second timer after typing calls
        await settle(pilot)
        meter = app.screen.query_one("#password-strength")
        assert meter.score is not None and meter.score < 3
        text = str(meter.render())
        assert "not strong enough" in text and "must not contain your email name" in text
        assert "Very strong" not in text


def test_the_membership_agreement_says_an_alibaba_cloud_account(monkeypatch):
    from core.config import reset_settings
    from tui.modals.agreement import agreement_text

    assert "An Alibaba Cloud account lets you" in agreement_text("membership-agreement")
    monkeypatch.setenv("CLOUDACCT_BRAND", "Nimbus")
    reset_settings()
    assert "A Nimbus account lets you" in agreement_text("membership-agreement")
