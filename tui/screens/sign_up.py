"""F1: sign up for a free account (country, email, password twice, the agreements).

The rules are core's: `core.accounts.sign_up` checks every field at once and refuses with one
FormErrors (shown by the default refusal handler of tui/core_calls.py, focus on the first field
in error); the email and the confirmation are checked live, as the person leaves them, by the
same `core.validation` functions (tui/validators.py); the meter asks core's verdict.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Input, Select, Static

from core.i18n import N_, _, current_language
from tui.core_calls import CallsCore
from tui.modals.agreement import AGREEMENTS, AgreementModal
from tui.navigation import GoTo, SignedUp
from tui.validators import CoreRule
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.brand_bar import BrandBar
from tui.widgets.console_app import console_app
from tui.widgets.field import LabelledField
from tui.widgets.footer import ConsoleFooter
from tui.widgets.password_strength import PasswordStrength
from tui.widgets.safe_text import FieldError

COUNTRY_NOTE = N_("Note: You must select the country in which your mobile phone number and "
                  "credit card are registered.")
AGREE_LABEL = N_("I agree to the Membership Agreement, Privacy Policy, Product Terms and "
                 "Terms of Use.")
AGREE_LABEL_NARROW = N_("I agree to the four documents below.")
# The titles of tui/modals/agreement.py's AGREEMENTS, marked for the catalogue here where their
# buttons are shown (`_(title)`).
AGREEMENT_TITLES = (N_("Membership Agreement"), N_("Privacy Policy"), N_("Product Terms"),
                    N_("Terms of Use"))  # when the full label cannot fit


def country_options() -> list[tuple[Text, str]]:
    """Every ISO 3166 country as "Name (XX)": typing part of either finds it."""
    from core.i18n import country_name
    from core.validation import countries

    # The English order in every language (a stable order; the code finds a country too).
    return [(Text(_("{name} ({code})").format(name=country_name(code), code=code)), code)
            for code, _name in countries()]


def _email_rule(value: str) -> None:
    from core.validation import check_email

    check_email(value)


def _confirmation_rule(confirmation: str, password: str) -> None:
    from core.validation import check_password_confirmation

    check_password_confirmation(password, confirmation)


class SignUpScreen(CallsCore, Screen):
    """Collects the four fields and the agreement, then one call to core.accounts.sign_up."""

    FORM_ERROR = "email"  # a refusal of no field of this form (e.g. the caps) goes there
    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="sign-up.back"),
        Binding("ctrl+s", "confirm", N_("Confirm"), id="sign-up.confirm"),
    ]

    def compose(self) -> ComposeResult:
        yield BrandBar(_("Free account"))
        with VerticalScroll(classes="form"):
            yield Static(_("Create your free account"), classes="title")
            yield LabelledField(_("Country"), Select(
                country_options(), prompt=_("Choose your country"), id="country",
                type_to_search=True, compact=True), hint=_(COUNTRY_NOTE))
            yield LabelledField(_("Email"), BoundedInput(
                placeholder=_("used to log on and for notifications"), id="email",
                compact=True, validators=[CoreRule(_email_rule)], validate_on=["blur"]))
            yield LabelledField(_("Password"), BoundedInput(
                placeholder=_("at least 12 characters"), password=True, id="password",
                compact=True))
            yield PasswordStrength(id="password-strength", classes="field-note")
            yield LabelledField(_("Confirm password"), BoundedInput(
                placeholder=_("the same password again"), password=True,
                id="password-confirm", compact=True,
                validators=[CoreRule(_confirmation_rule, self._password)],
                validate_on=["blur"]))
            yield Checkbox(_(AGREE_LABEL), id="agree", compact=True)
            yield FieldError("agree", classes="field-note")
            with Horizontal(classes="link-row"):
                for slug, title in AGREEMENTS.items():
                    yield Button(_(title), id=f"read-{slug}", classes="link", compact=True)
            with Horizontal(classes="button-row"):
                yield Button(_("Confirm"), id="confirm", variant="primary", compact=True)
                yield Button(_("Log on instead"), id="log-on", compact=True)
        yield ConsoleFooter()

    def _password(self) -> str:
        return self.query_one("#password", Input).value

    def on_mount(self) -> None:
        self.query_one("#country").focus()

    def on_resize(self) -> None:
        from rich.cells import cell_len

        fits = self.size.width >= cell_len(_(AGREE_LABEL)) + 10  # Chinese: 2 columns each
        self.query_one("#agree", Checkbox).label = (_(AGREE_LABEL) if fits
                                                    else _(AGREE_LABEL_NARROW))

    # -- live feedback --------------------------------------------------------------------

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._clear(event.input.id)
        if event.input.id in ("password", "email"):
            self.query_one(PasswordStrength).measure(
                self._password(), self.query_one("#email", Input).value)

    @on(Input.Blurred)
    def _left(self, event: Input.Blurred) -> None:
        """A field's live rule, as the person leaves it (nothing said about an empty one)."""
        result = event.validation_result
        if result is not None and event.value and not result.is_valid:
            self.query_one(f"#{event.input.id}-error", FieldError).show(
                result.failure_descriptions[0])

    @on(Select.Changed, "#country")
    def _country_changed(self) -> None:
        self._clear("country")

    @on(Checkbox.Changed, "#agree")
    def _agree_changed(self) -> None:
        self._clear("agree")

    def _clear(self, field: str | None) -> None:
        for line in self.query(f"#{field}-error").results(FieldError):
            line.clear()

    def _measure(self) -> None:
        """The meter, now (typing asks for it after a moment of quiet)."""
        self.query_one(PasswordStrength).measure_now(
            self._password(), self.query_one("#email", Input).value)

    # -- actions --------------------------------------------------------------------------

    @on(Button.Pressed, ".link")
    def _read(self, event: Button.Pressed) -> None:
        event.stop()
        self.app.push_screen(AgreementModal((event.button.id or "").removeprefix("read-")))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next field; in the last one it confirms."""
        event.stop()
        if event.input.id == "password-confirm":
            self.action_confirm()
        else:
            self.focus_next()

    @on(Button.Pressed, "#confirm")
    def _confirm_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_confirm()

    @on(Button.Pressed, "#log-on")
    def _log_on_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(GoTo("log-on"))

    def action_back(self) -> None:
        self.post_message(GoTo("welcome"))

    def action_confirm(self) -> None:
        from core.accounts import sign_up

        country = self.query_one("#country", Select).value
        self.call(
            sign_up,
            None if country is Select.NULL else str(country),
            self.query_one("#email", Input).value,
            self._password(),
            self.query_one("#password-confirm", Input).value,
            self.query_one("#agree", Checkbox).value,
            origin=console_app(self).origin,
            language=current_language(),  # F18: its first code already in this language
        ).then(self._signed_up, busy=self.query_one("#confirm", Button))

    def _signed_up(self, result: object) -> None:
        from core.accounts import SignUpResult

        assert isinstance(result, SignUpResult)
        self.post_message(SignedUp(result))
