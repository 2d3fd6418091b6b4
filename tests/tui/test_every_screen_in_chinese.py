"""Issue 15 (SPEC F18): the whole console in Simplified Chinese at 80x24.

Each walk starts the console with CLOUDACCT_LANG=zh-Hans and goes through screens and modals the
way the other tests of tests/tui reach them (their helpers are reused), stopping at each one to
read everything it shows (tests/tui/zh_walk.py) and noting the English words left. At the end
the walk fails with the list, stop → words, which is the to-do list of the translation.

A stop that cannot be reached, or a refusal that is not shown, fails a walk as surely as an
English word left (`EnglishLeft`).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, RadioButton, Select

from tests.conftest import START, STRONG_PASSWORD, latest_code, stepped_up
from tests.tui.helpers import fill, log_on, settle
from tests.tui.test_security import press
from tests.tui.zh_walk import (  # noqa: F401 (zh_hans is an autouse fixture)
    EnglishLeft,
    Walk,
    english_words,
    until,
    zh_hans,
)
from tui.app import CloudAcctApp

SIZE = (80, 24)
FINGERPRINT = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"


def chinese_app() -> CloudAcctApp:
    app = CloudAcctApp()
    assert app.starting_language == "zh-Hans"
    return app


# --- the detector itself -----------------------------------------------------------------------

def test_the_detector_finds_english_and_lets_data_codes_and_names_through():
    from tests.tui.zh_walk import allowed_words

    allowed = allowed_words()
    assert english_words("Log on", allowed=allowed) == ["Log", "on"]
    assert english_words("登录 a 或 Free Account", allowed=allowed) == ["Free", "Account"]
    assert english_words("请输入密码。", allowed=allowed) == []
    # data, codes, brands, keys, files and protocols
    for text in ("发送至 alice@example.com", "m•i@example.com", "alice@exa",
                 "Alibaba Cloud 账号", "ECS 实例 us-west-1 按量付费", "cn-hangzhou",
                 "US$40.00", "40.00 USD", "2026年12月1日 10:05 UTC", "按 ctrl+q 退出",
                 "^q 退出", "Tab 下一项", "Enter 确认", "导出为 PDF 和 CSV",
                 "已导出到 /home/x/cloudacct-bill-1-2026.pdf", "SSH 密钥 SHA256:nThbg6kX+/E5",
                 "虚拟 MFA", "Visa •••• 4242", "Mastercard", "PayPal 账号", "账号 ID 12345",
                 "bill-12-3"):
        assert english_words(text, allowed=allowed) == [], text
    assert english_words("姓名 Zoë O'Hara", data={"Zoë O'Hara"}, allowed=allowed) == []
    assert english_words("Zoë O'Hara", allowed=allowed) == ["Zo", "Hara"]
    # a single letter is no word; a masked or cut English word still is
    assert english_words("X 或 I", allowed=allowed) == []
    assert english_words("Passwo…", allowed=allowed) == ["Passwo"]
    assert english_words("SMS 验证码", allowed=allowed) == ["SMS"]  # 短信 in Chinese


async def test_the_walk_fails_on_a_stop_it_cannot_reach_not_as_english(db):
    """A wrong screen is an AssertionError of its own, not EnglishLeft."""
    from tui.screens.log_on import LogOnScreen

    walk = Walk()
    async with chinese_app().run_test(size=SIZE) as pilot:
        with pytest.raises(AssertionError, match="not reached") as raised:
            await walk.stop(pilot, "Log on", LogOnScreen)
        assert not isinstance(raised.value, EnglishLeft)
    with pytest.raises(AssertionError, match="stops not reached") as raised:
        walk.check(["Log on"])
    assert not isinstance(raised.value, EnglishLeft)


# --- before log-on -----------------------------------------------------------------------------

WALK_BEFORE_LOG_ON = [
    "Welcome", "Sign up", "Sign up · every refusal", "Agreement · membership-agreement",
    "Agreement · privacy-policy", "Agreement · product-terms", "Agreement · terms-of-use",
    "Verify", "Verify · wrong code", "Verify · phone, refused", "Welcome · logged off"]


async def test_sign_up_and_verify_in_chinese():
    from tui.modals.agreement import AGREEMENTS, AgreementModal
    from tui.screens.sign_up import SignUpScreen
    from tui.screens.verify import VerifyScreen
    from tui.screens.welcome import WelcomeScreen

    walk = Walk()
    email = "mei@example.com"
    walk.add_data(email, "not-an-email")
    async with chinese_app().run_test(size=SIZE) as pilot:
        await walk.stop(pilot, "Welcome", WelcomeScreen)
        await press(pilot, "#free-account")
        await walk.stop(pilot, "Sign up", SignUpScreen)
        await fill_sign_up(pilot, None, "not-an-email", "short", "other", agree=False)
        await walk.stop(pilot, "Sign up · every refusal", SignUpScreen,
                        errors=["#country-error", "#email-error", "#password-confirm-error",
                                "#agree-error"])
        for slug in AGREEMENTS:
            await press(pilot, f"#read-{slug}")
            await walk.stop(pilot, f"Agreement · {slug}", AgreementModal)
            await pilot.press("escape")
            await settle(pilot)
        await fill_sign_up(pilot, "SG", email, STRONG_PASSWORD, STRONG_PASSWORD, agree=True)
        await walk.stop(pilot, "Verify", VerifyScreen)
        await press(pilot, "#send")
        right = latest_code(email)
        fill(pilot, "#code", "000000" if right != "000000" else "111111")
        pilot.app.screen.query_one("#code").focus()
        await pilot.press("enter")
        await walk.stop(pilot, "Verify · wrong code", VerifyScreen, errors=["#code-error"])
        for _attempt in range(3):  # Use phone is idempotent; under load a key was seen lost
            await press(pilot, "#use-phone")
            if pilot.app.screen.query("#phone"):
                break
        await until(pilot, lambda: bool(pilot.app.screen.query("#phone")), "the phone field")
        fill(pilot, "#phone", "12")
        await press(pilot, "#send-message")
        await walk.stop(pilot, "Verify · phone, refused", VerifyScreen, errors=["#phone-error"])
        await press(pilot, "#log-off")
        await walk.stop(pilot, "Welcome · logged off", WelcomeScreen,
                        shown=["#welcome-message"])
    walk.check(WALK_BEFORE_LOG_ON)


async def fill_sign_up(pilot: Pilot, country: str | None, email: str, password: str,
                       confirm: str, *, agree: bool) -> None:
    """tests/tui/helpers.sign_up from the keyboard: clicks at 80x24 may land on a form
    scrolled by the error lines, so the values are set and Confirm is pressed with Enter."""
    from textual.widgets import Checkbox

    screen = pilot.app.screen
    if country is not None:
        screen.query_one("#country", Select).value = country
    fill(pilot, "#email", email)
    fill(pilot, "#password", password)
    fill(pilot, "#password-confirm", confirm)
    screen.query_one("#agree", Checkbox).value = agree
    await settle(pilot)
    await press(pilot, "#confirm")


WALK_LOG_ON = [
    "Log on", "Log on · wrong password", "Log on · MFA code step",
    "Log on · MFA code refused", "Forgot password", "Forgot password · refused",
    "Forgot password · code sent, every refusal"]


async def test_log_on_and_forgot_password_in_chinese():
    from tests.tui.test_forgot_password import active_account
    from tests.tui.test_mfa_log_on import mfa_account
    from tui.screens.forgot_password import ForgotPasswordScreen
    from tui.screens.log_on import LogOnScreen

    walk = Walk()
    plain, with_mfa = "mei@example.com", "lei@example.com"
    walk.add_data(plain, with_mfa)
    active_account(plain)
    mfa_account(with_mfa)
    async with chinese_app().run_test(size=SIZE) as pilot:
        await press(pilot, "#log-on")
        await walk.stop(pilot, "Log on", LogOnScreen)
        await log_on(pilot, plain, "not the password at all")
        await walk.stop(pilot, "Log on · wrong password", LogOnScreen,
                        errors=["#log-on-error"])
        await log_on(pilot, with_mfa)
        await walk.stop(pilot, "Log on · MFA code step", LogOnScreen, shown=["#mfa-code"])
        fill(pilot, "#mfa-code", "12")
        pilot.app.screen.query_one("#mfa-code").focus()
        await pilot.press("enter")
        await walk.stop(pilot, "Log on · MFA code refused", LogOnScreen,
                        errors=["#mfa-code-error"])
        await press(pilot, "#mfa-back")
        await press(pilot, "#forgot-password")
        await walk.stop(pilot, "Forgot password", ForgotPasswordScreen)
        fill(pilot, "#reset-email", "")
        await press(pilot, "#reset-send")
        await walk.stop(pilot, "Forgot password · refused", ForgotPasswordScreen,
                        errors=["#reset-email-error"])
        fill(pilot, "#reset-email", plain)
        await press(pilot, "#reset-send")
        fill(pilot, "#reset-password", "short")
        await press(pilot, "#reset-confirm")
        await walk.stop(pilot, "Forgot password · code sent, every refusal",
                        ForgotPasswordScreen, errors=["#reset-code-error",
                                                      "#reset-password-error"])
    walk.check(WALK_LOG_ON)


# --- the console: every section, before and after the first purchase --------------------------

WALK_NEW_ACCOUNT = [
    "Console · Overview (new account)", "Console · Billing address (form)",
    "Console · Billing address · refused", "Console · Billing address · corporate",
    "Console · Payment methods (no address)", "Console · Real-name",
    "Console · Real-name · refused", "Console · Real-name · enterprise, refused",
    "Console · Products (steps missing)", "Console · Billing (nothing yet)",
    "Console · Security"]


async def test_every_section_of_a_new_account_in_chinese():
    from tests.tui.test_billing_address import active_account, fill_individual
    from tui.screens.console import ConsoleScreen
    from tui.sections.registry import SECTIONS

    walk = Walk()
    walk.add_data("alice@example.com", "Zoë O'Hara", "Singapore", "10 Marina Boulevard",
                  "#12-01", "123", "Li Lei", "Example Trading Co.", "Wang Fang",
                  "91330100MA2AB1CD1I")
    token = active_account()
    async with chinese_app().run_test(size=SIZE) as pilot:
        await log_on_at(pilot, token, "overview")
        await walk.stop(pilot, "Console · Overview (new account)", ConsoleScreen)
        await section(pilot, "billing-address")
        await walk.stop(pilot, "Console · Billing address (form)", ConsoleScreen)
        fill_individual(pilot, postal_code="123")
        await press(pilot, "#save")
        await walk.stop(pilot, "Console · Billing address · refused", ConsoleScreen,
                        errors=["#postal-code-error"])
        pilot.app.screen.query_one("#type-corporate", RadioButton).value = True
        await walk.stop(pilot, "Console · Billing address · corporate", ConsoleScreen,
                        shown=["#corporate-fields"])
        await section(pilot, "payment-methods")
        await walk.stop(pilot, "Console · Payment methods (no address)", ConsoleScreen)
        await section(pilot, "real-name")
        await walk.stop(pilot, "Console · Real-name", ConsoleScreen)
        fill(pilot, "#rn-name", "Li Lei")
        fill(pilot, "#rn-id-number", "110105194912310021")
        await press(pilot, "#rn-submit")
        await walk.stop(pilot, "Console · Real-name · refused", ConsoleScreen,
                        errors=["#rn-id-number-error"])
        pilot.app.screen.query_one("#rn-enterprise", RadioButton).value = True
        await settle(pilot)
        fill(pilot, "#rn-company", "Example Trading Co.")
        fill(pilot, "#rn-credit-code", "91330100MA2AB1CD1I")
        fill(pilot, "#rn-legal-rep", "Wang Fang")
        await press(pilot, "#rn-submit")
        await walk.stop(pilot, "Console · Real-name · enterprise, refused", ConsoleScreen,
                        errors=["#rn-error"], shown=["#rn-enterprise-fields"])
        await section(pilot, "products")
        await walk.stop(pilot, "Console · Products (steps missing)", ConsoleScreen)
        await section(pilot, "billing")
        await walk.stop(pilot, "Console · Billing (nothing yet)", ConsoleScreen)
        await section(pilot, "security")
        await walk.stop(pilot, "Console · Security", ConsoleScreen)
    assert {"overview", "billing-address", "payment-methods", "real-name", "products",
            "billing", "security"} == set(SECTIONS), "a section was added: walk it too"
    walk.check(WALK_NEW_ACCOUNT)


async def log_on_at(pilot: Pilot, token: str, key: str) -> None:
    """As after a log-on (tests/tui/test_products.open_console), at section `key`."""
    from tests.tui.test_products import open_console

    await open_console(pilot, token, key)


async def section(pilot: Pilot, key: str) -> None:
    """Open section `key` from its navigation button, as a person does."""
    await press(pilot, f"#nav-{key}")
    assert pilot.app.screen.section == key


WALK_BUYER = [
    "Console · Overview (buyer)", "Console · Billing address (saved)",
    "Console · Payment methods", "Console · Products (a resource)",
    "Console · Billing (a bill)", "Order", "Order · every refusal", "Order · subscription",
    "Add method · card", "Add method · card, every refusal", "Add method · card confirmation",
    "Add method · PayPal chosen", "PayPal · log in", "PayPal · refused", "PayPal · agreement",
    "Remove method", "Remove method · refused"]


async def test_the_money_sections_and_modals_in_chinese(clock):
    from core.billing_run import run_billing
    from core.products import place_order
    from tests.tui.test_billing import usage
    from tests.tui.test_products import ready_buyer
    from tui.modals.add_method import AddMethodModal
    from tui.modals.order import OrderModal
    from tui.modals.paypal import PayPalModal
    from tui.modals.remove_method import RemoveMethodModal
    from tui.screens.console import ConsoleScreen

    walk = Walk()
    token = ready_buyer()
    place_order(token, "ecs", "us-west-1", "payg")
    usage(token, hours=10)
    clock.set_now(START + timedelta(hours=10 + 48))
    run_billing()
    stepped_up(token)  # days after the log-on: PayPal would ask for the step-up first
    walk.add_data(*stored_data(token), "buyer@example.com", "wrong-pass")
    async with chinese_app().run_test(size=SIZE) as pilot:
        await log_on_at(pilot, token, "overview")
        await walk.stop(pilot, "Console · Overview (buyer)", ConsoleScreen)
        await section(pilot, "billing-address")
        await walk.stop(pilot, "Console · Billing address (saved)", ConsoleScreen)
        await section(pilot, "payment-methods")
        await walk.stop(pilot, "Console · Payment methods", ConsoleScreen,
                        shown=["#methods"])
        await section(pilot, "products")
        await walk.stop(pilot, "Console · Products (a resource)", ConsoleScreen,
                        shown=["#resources"])
        await section(pilot, "billing")
        await walk.stop(pilot, "Console · Billing (a bill)", ConsoleScreen, shown=["#bills"])

        await section(pilot, "products")
        await press(pilot, "#buy")
        await walk.stop(pilot, "Order", OrderModal)
        modal = pilot.app.screen
        modal.query_one("#product", Select).clear()
        modal.query_one("#purchase-region", Select).clear()
        await settle(pilot)
        await press(pilot, "#place-order")
        await walk.stop(pilot, "Order · every refusal", OrderModal, errors=["#order-error"])
        modal.query_one("#product", Select).value = "oss"
        modal.query_one("#purchase-region", Select).value = "us-west-1"
        modal.query_one("#billing-method", Select).value = "subscription"
        await settle(pilot)
        modal.query_one("#period", Select).value = 12
        await walk.stop(pilot, "Order · subscription", OrderModal, shown=["#period-row"])
        await pilot.press("escape")

        await section(pilot, "payment-methods")
        await press(pilot, "#add-method")
        await walk.stop(pilot, "Add method · card", AddMethodModal)
        fill(pilot, "#card-number", "4242 4242 4242 4241")
        fill(pilot, "#card-expiry", "13/20")
        fill(pilot, "#card-cvv", "1")
        fill(pilot, "#card-holder", "")
        await press(pilot, "#next")
        await walk.stop(pilot, "Add method · card, every refusal", AddMethodModal,
                        errors=["#card-number-error"])
        fill(pilot, "#card-number", "5555 5555 5555 4444")
        fill(pilot, "#card-expiry", "11/29")
        fill(pilot, "#card-cvv", "123")
        fill(pilot, "#card-holder", "Alice Tan")
        await press(pilot, "#next")
        await walk.stop(pilot, "Add method · card confirmation", AddMethodModal,
                        shown=["#step-confirm"])
        await press(pilot, "#back")
        pilot.app.screen.query_one("#method-paypal", RadioButton).value = True
        await walk.stop(pilot, "Add method · PayPal chosen", AddMethodModal,
                        shown=["#paypal-fields"])
        await press(pilot, "#next")
        await walk.stop(pilot, "PayPal · log in", PayPalModal)
        fill(pilot, "#paypal-email", "buyer@example.com")
        fill(pilot, "#paypal-password", "wrong-pass")
        await press(pilot, "#paypal-log-in")
        await walk.stop(pilot, "PayPal · refused", PayPalModal, errors=["#paypal-error"])
        fill(pilot, "#paypal-password", "sandbox-pass")
        await press(pilot, "#paypal-log-in")
        await walk.stop(pilot, "PayPal · agreement", PayPalModal,
                        shown=["#paypal-agreement"])
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)

        assert isinstance(pilot.app.screen, ConsoleScreen)
        assert pilot.app.screen.query_one("#methods", DataTable).row_count == 1
        await press(pilot, "#remove-method")
        await walk.stop(pilot, "Remove method", RemoveMethodModal)
        fill(pilot, "#remove-password", "not the password")
        await press(pilot, "#remove-confirm")
        await walk.stop(pilot, "Remove method · refused", RemoveMethodModal,
                        errors=["#remove-error"])
    walk.check(WALK_BUYER)


def stored_data(token: str) -> list[str]:
    """What core holds for the account and shows back: its email, the billing address, the
    card holder, and the descriptions of its bills and ledger entries — records kept as they
    were issued (in English, like the PDF and CSV statements made of them), not texts of the
    console (data, allowed in the texts)."""
    from core.billing_address import get_billing_address
    from core.models import Bill, LedgerEntry
    from core.sessions import require_account

    account = require_account(token)
    issued = [row.description for kind in (Bill, LedgerEntry)
              for row in kind.select(kind.description).where(kind.account == account.id)]
    address = get_billing_address(token)
    values = [account.email, "Alice Tan", *issued]
    if address is not None:
        values += [str(getattr(address, name, "") or "") for name in
                   ("full_name", "company", "city", "street", "street_2", "postal_code")]
    return values


async def test_paytm_for_an_indian_account_in_chinese():
    from tests.tui.test_payment_methods import with_address
    from tui.modals.add_method import AddMethodModal

    walk = Walk()
    token = with_address("priya@example.com", "IN")
    walk.add_data(*stored_data(token))
    async with chinese_app().run_test(size=SIZE) as pilot:
        await log_on_at(pilot, token, "payment-methods")
        await press(pilot, "#add-method")
        pilot.app.screen.query_one("#method-paytm", RadioButton).value = True
        await walk.stop(pilot, "Add method · Paytm", AddMethodModal, shown=["#paytm-fields"])
    walk.check(["Add method · Paytm"])


# --- Security settings and its windows ---------------------------------------------------------

WALK_SECURITY = [
    "Console · Security (over SSH with a key)", "Confirm key · trust", "Confirm key · remove",
    "Step up · password", "Step up · password refused", "Change password",
    "Change password · every refusal", "Change email", "Change email · refused",
    "Change phone · code sent", "Delete account", "Delete account · every refusal",
    "MFA setup", "MFA setup · wrong code", "MFA setup · recovery codes",
    "Console · Security (MFA on)", "MFA disable", "MFA disable · every refusal",
    "Step up · authenticator code", "Step up · code refused", "Recovery codes (new)"]


async def test_security_and_every_window_of_it_in_chinese(clock):
    from tests.tui.test_mfa_setup import code_of
    from tests.tui.test_security import active_account, another_session, open_security
    from tui.modals.change_contact import ChangeContactModal
    from tui.modals.change_password import ChangePasswordModal
    from tui.modals.confirm_key import ConfirmKeyModal
    from tui.modals.delete_account import DeleteAccountModal
    from tui.modals.mfa_disable import MfaDisableModal
    from tui.modals.mfa_setup import MfaSetupModal
    from tui.modals.recovery_codes import RecoveryCodesModal
    from tui.modals.step_up import StepUpModal
    from tui.screens.console import ConsoleScreen

    walk = Walk()
    email = "alice@example.com"
    walk.add_data(email, "alice.new@example.org", "not an address", "8123 4567", "198.51.100.7")
    active_account(email)
    ssh = another_session(origin="198.51.100.7", key_fingerprint=FINGERPRINT)
    async with chinese_app().run_test(size=SIZE) as pilot:
        app = pilot.app
        await open_security(pilot, ssh)
        await walk.stop(pilot, "Console · Security (over SSH with a key)", ConsoleScreen,
                        shown=["#trust-this-key"])
        await press(pilot, "#trust-this-key")
        await walk.stop(pilot, "Confirm key · trust", ConfirmKeyModal)
        await press(pilot, "#confirm-key")
        assert isinstance(app.screen, ConsoleScreen)

        clock.advance(timedelta(minutes=6))  # the log-on's proof is over: a step-up is asked
        app.screen.query_one("#trusted-keys", DataTable).move_cursor(row=0)
        await press(pilot, "#remove-key")
        await walk.stop(pilot, "Confirm key · remove", ConfirmKeyModal)
        await press(pilot, "#confirm-key")
        await walk.stop(pilot, "Step up · password", StepUpModal)
        fill(pilot, "#step-up-code", "not my password")
        await press(pilot, "#step-up-confirm")
        await walk.stop(pilot, "Step up · password refused", StepUpModal,
                        errors=["#step-up-code-error"])
        fill(pilot, "#step-up-code", STRONG_PASSWORD)
        await press(pilot, "#step-up-confirm")  # proved: the key is removed, 5 minutes start
        assert isinstance(app.screen, ConsoleScreen)

        await press(pilot, "#change-password")
        await walk.stop(pilot, "Change password", ChangePasswordModal)
        fill(pilot, "#new-password", "short")
        fill(pilot, "#new-password-confirm", "different")
        await press(pilot, "#change-password-save")
        await walk.stop(pilot, "Change password · every refusal", ChangePasswordModal,
                        errors=["#current-password-error", "#new-password-error"])
        await pilot.press("escape")

        await press(pilot, "#change-email")
        await walk.stop(pilot, "Change email", ChangeContactModal)
        fill(pilot, "#new-email", "not an address")
        await press(pilot, "#change-send")
        await walk.stop(pilot, "Change email · refused", ChangeContactModal,
                        errors=["#change-error"])
        await pilot.press("escape")
        await press(pilot, "#change-phone")
        fill(pilot, "#new-phone", "8123 4567")
        await press(pilot, "#change-send")
        await walk.stop(pilot, "Change phone · code sent", ChangeContactModal,
                        shown=["#change-code"])
        await pilot.press("escape")

        await press(pilot, "#open-delete")
        await walk.stop(pilot, "Delete account", DeleteAccountModal)
        await press(pilot, "#delete-account")
        await walk.stop(pilot, "Delete account · every refusal", DeleteAccountModal,
                        errors=["#delete-disclaimer-error", "#delete-password-error"])
        await pilot.press("escape")

        await press(pilot, "#mfa-enable")
        secret = str(app.screen.query_one("#mfa-secret").render()).strip()
        walk.add_data(secret, *secret.split())  # the secret is data (shown in groups)
        await walk.stop(pilot, "MFA setup", MfaSetupModal)
        right = code_of(secret)
        fill(pilot, "#mfa-code", "000000" if right != "000000" else "111111")
        await press(pilot, "#mfa-bind")
        await walk.stop(pilot, "MFA setup · wrong code", MfaSetupModal,
                        errors=["#mfa-code-error"])
        fill(pilot, "#mfa-code", right)
        await press(pilot, "#mfa-bind")
        add_recovery_codes(walk, pilot)
        await walk.stop(pilot, "MFA setup · recovery codes", MfaSetupModal,
                        shown=["#mfa-codes-window"])
        await press(pilot, "#mfa-done")
        await walk.stop(pilot, "Console · Security (MFA on)", ConsoleScreen,
                        shown=["#mfa-disable"])

        clock.advance(timedelta(seconds=30))  # the binding code's step is spent
        await press(pilot, "#mfa-disable")
        await walk.stop(pilot, "MFA disable", MfaDisableModal)
        await press(pilot, "#mfa-disable-confirm")
        await walk.stop(pilot, "MFA disable · every refusal", MfaDisableModal,
                        errors=["#mfa-code-error", "#password-error"])
        await pilot.press("escape")

        clock.advance(timedelta(minutes=6))
        await press(pilot, "#regenerate-codes")
        await walk.stop(pilot, "Step up · authenticator code", StepUpModal)
        fill(pilot, "#step-up-code", "12")
        await press(pilot, "#step-up-confirm")
        await walk.stop(pilot, "Step up · code refused", StepUpModal,
                        errors=["#step-up-code-error"])
        fill(pilot, "#step-up-code", code_of(secret))
        await press(pilot, "#step-up-confirm")
        add_recovery_codes(walk, pilot)
        await walk.stop(pilot, "Recovery codes (new)", RecoveryCodesModal)
    walk.check(WALK_SECURITY)


def add_recovery_codes(walk: Walk, pilot: Pilot) -> None:
    """The recovery codes on screen are data (random letters and digits)."""
    from textual.css.query import NoMatches

    try:
        codes = str(pilot.app.screen.query_one("#recovery-codes").render())
    except NoMatches:
        return  # not there: the stop's check says where the walk is instead
    walk.add_data(*codes.split())
