"""F1: sign up for a free account (country, email, password twice, the agreements)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select, Static

from tui.modals.agreement import AGREEMENTS, AgreementModal
from tui.navigation import GoTo, SignedUp
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.brand_bar import BrandBar
from tui.widgets.core_work import CoreWork, call_core
from tui.widgets.password_strength import PasswordStrength
from tui.widgets.safe_text import FieldError

if TYPE_CHECKING:
    from core.validation import Strength

FIELDS = ("country", "email", "password", "password-confirm", "agree")
COUNTRY_NOTE = ("Note: You must select the country in which your mobile phone number and "
                "credit card are registered.")
AGREE_LABEL = ("I agree to the Membership Agreement, Privacy Policy, Product Terms and Terms "
               "of Use.")
AGREE_LABEL_NARROW = "I agree to the four documents below."  # when the full label cannot fit
STRENGTH_DELAY = 0.25  # seconds of quiet typing before the meter is recomputed


def country_options() -> list[tuple[Text, str]]:
    """Every ISO 3166 country as "Name (XX)": typing part of either finds it."""
    from core.validation import countries

    return [(Text(f"{name} ({code})"), code) for code, name in countries()]


class SignUpScreen(CoreWork, Screen):
    """Collects the four fields and the agreement, then one call to core.accounts.sign_up."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="sign-up.back"),
        Binding("ctrl+s", "confirm", "Confirm", id="sign-up.confirm"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._strength_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield BrandBar("Free account")
        with VerticalScroll(classes="form"):
            yield Static("Create your free account", classes="title")
            with Horizontal(classes="field-row"):
                yield Label("Country", classes="field-label")
                yield Select(country_options(), prompt="Choose your country", id="country",
                             type_to_search=True, compact=True)
            yield Static(COUNTRY_NOTE, classes="hint field-note")
            yield FieldError("country", classes="field-note")
            with Horizontal(classes="field-row"):
                yield Label("Email", classes="field-label")
                yield BoundedInput(placeholder="used to log on and for notifications", id="email",
                                   compact=True)
            yield FieldError("email", classes="field-note")
            with Horizontal(classes="field-row"):
                yield Label("Password", classes="field-label")
                yield BoundedInput(placeholder="at least 12 characters", password=True,
                                   id="password", compact=True)
            yield PasswordStrength(id="password-strength", classes="field-note")
            yield FieldError("password", classes="field-note")
            with Horizontal(classes="field-row"):
                yield Label("Confirm password", classes="field-label")
                yield BoundedInput(placeholder="the same password again", password=True,
                                   id="password-confirm", compact=True)
            yield FieldError("password-confirm", classes="field-note")
            yield Checkbox(AGREE_LABEL, id="agree", compact=True)
            yield FieldError("agree", classes="field-note")
            with Horizontal(classes="link-row"):
                for slug, title in AGREEMENTS.items():
                    yield Button(title, id=f"read-{slug}", classes="link", compact=True)
            with Horizontal(classes="button-row"):
                yield Button("Confirm", id="confirm", variant="primary", compact=True)
                yield Button("Log on instead", id="log-on", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#country").focus()

    def on_resize(self) -> None:
        fits = self.size.width >= len(AGREE_LABEL) + 10
        self.query_one("#agree", Checkbox).label = AGREE_LABEL if fits else AGREE_LABEL_NARROW

    # -- live feedback --------------------------------------------------------------------

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        field = event.input.id or ""
        if field in FIELDS:
            self.query_one(f"#{field}-error", FieldError).clear()
        if field in ("password", "email"):
            if self._strength_timer is not None:
                self._strength_timer.stop()
            self._strength_timer = self.set_timer(STRENGTH_DELAY, self._measure)

    @on(Select.Changed, "#country")
    def _country_changed(self) -> None:
        self.query_one("#country-error", FieldError).clear()

    @on(Checkbox.Changed, "#agree")
    def _agree_changed(self) -> None:
        self.query_one("#agree-error", FieldError).clear()

    def _measure(self) -> None:
        password = self.query_one("#password", Input).value
        if not password:
            self.query_one(PasswordStrength).show(None)
            return
        email = self.query_one("#email", Input).value.strip()
        self.measure(password, email)

    @work(thread=True, exclusive=True, exit_on_error=False, group="strength")
    def measure(self, password: str, email: str) -> Strength:
        """Every rule core applies on Confirm (the email's name too), not the score alone."""
        from core.validation import password_verdict

        return password_verdict(password, email)

    # -- actions --------------------------------------------------------------------------

    @on(Button.Pressed, ".link")
    def _read(self, event: Button.Pressed) -> None:
        event.stop()
        self.app.push_screen(AgreementModal((event.button.id or "").removeprefix("read-")))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
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
        if not self.start_busy("sign-up", self.query_one("#confirm", Button)):
            return
        for error in self.query(FieldError):
            error.clear()
        country = self.query_one("#country", Select).value
        self.submit(
            None if country is Select.NULL else str(country),
            self.query_one("#email", Input).value,
            self.query_one("#password", Input).value,
            self.query_one("#password-confirm", Input).value,
            self.query_one("#agree", Checkbox).value,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="sign-up")
    def submit(self, country: str | None, email: str, password: str, confirm: str,
               agreed: bool) -> Any:
        """The SignUpResult; a FormErrors names every field in error (core checks them all)."""
        from core.accounts import sign_up

        return call_core(sign_up, country, email, password, confirm, agreed,
                         origin=self.app.origin)  # type: ignore[attr-defined]

    def core_done(self, group: str, result: Any) -> None:
        if group == "strength":
            self.query_one(PasswordStrength).show(result)
        elif group == "sign-up":
            self.post_message(SignedUp(result))

    def core_refused(self, group: str, error: Exception) -> None:
        from core.errors import FormErrors

        if group == "sign-up":
            if isinstance(error, FormErrors):
                self._show_errors(error.errors)
            else:
                field = getattr(error, "field", None)
                self._show_errors({field if field in FIELDS else "email": str(error)})

    def _show_errors(self, errors: dict[str, str]) -> None:
        first = None
        for field in FIELDS:
            if field in errors:
                self.query_one(f"#{field}-error", FieldError).show(errors[field])
                first = first or field
        if first is not None:
            self.query_one(f"#{first}").focus()
