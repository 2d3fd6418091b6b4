"""The PayPal window of F5: "Pay with PayPal" log-on, then the billing agreement.

Returns the added PaymentMethodView, or None when the person cancelled (Cancel and return,
Escape): then nothing is added and the PayPal session, if any, is ended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from core.i18n import N_, _, translate
from tui.core_calls import CallsCore, call_core
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.footer import ConsoleFooter
from tui.widgets.safe_text import FieldError, SafeStatic, clean_text

if TYPE_CHECKING:
    from core.errors import DomainError
    from core.payments import PaymentMethodView

PAYPAL_SITE_NOTES = {
    "paypal-trouble": N_("Having trouble logging in? This opens on paypal.com, where PayPal "
                         "helps you recover your account. Come back here and log in when you "
                         "can."),
    "paypal-create": N_("Create an Account: this opens on paypal.com, where you can sign up for "
                        "PayPal. Come back here and log in when you have an account."),
}


def brand_llc() -> str:
    from core.config import settings

    return _("{brand} US LLC").format(brand=clean_text(settings().brand))


def _end_paypal_session(session: str) -> None:
    from core.payments import paypal_cancel

    call_core(paypal_cancel, session)


class PayPalModal(CallsCore, ModalScreen["PaymentMethodView | None"]):
    """PayPal's log-on page (Email, Password, Stay logged in, Log In, ...), then the agreement."""

    BINDINGS = [Binding("escape", "cancel", N_("Cancel and return"), id="paypal.cancel")]


    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.token = token
        self.paypal_session: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="paypal-window"):
            yield Static("PayPal", id="paypal-header")
            with VerticalScroll(id="paypal-body"):
                yield Static(_("Pay with PayPal"), classes="title")
                with Vertical(id="paypal-log-on"):
                    with Horizontal(classes="paypal-row"):
                        yield Label(_("Email"), classes="paypal-label")
                        yield BoundedInput(id="paypal-email", compact=True)
                    yield FieldError("paypal-email")
                    with Horizontal(classes="paypal-row"):
                        yield Label(_("Password"), classes="paypal-label")
                        yield BoundedInput(id="paypal-password", password=True, compact=True)
                    yield FieldError("paypal-password")
                    yield Checkbox(_("Stay logged in for faster purchases"), id="paypal-stay",
                                   compact=True)
                    yield Button(_("Log In"), id="paypal-log-in", compact=True)
                    yield Button(_("Having trouble logging in?"), id="paypal-trouble",
                                 classes="paypal-link", compact=True)
                    yield Button(_("Create an Account"), id="paypal-create",
                                 classes="paypal-link", compact=True)
                with Vertical(id="paypal-agreement", classes="-hidden"):
                    yield SafeStatic("", id="paypal-agreement-text")
                    yield Button(_("Agree and Continue"), id="paypal-agree", compact=True)
                yield FieldError("paypal")
                yield SafeStatic("", id="paypal-note")
                yield Button(_("Cancel and return to {company}").format(company=brand_llc()),
                             id="paypal-cancel",
                             classes="paypal-link", compact=True)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#paypal-email").focus()

    # -- log in ---------------------------------------------------------------------------

    @on(Button.Pressed, "#paypal-log-in")
    @on(Input.Submitted, "#paypal-email, #paypal-password")
    def _log_in(self, event: Button.Pressed | Input.Submitted) -> None:
        event.stop()
        if isinstance(event, Input.Submitted) and event.input.id == "paypal-email":
            self.query_one("#paypal-password").focus()
            return
        from core.payments import paypal_log_on

        self.clear_errors()
        email = self.query_one("#paypal-email", Input).value
        self.call(paypal_log_on, self.token, email,
                  self.query_one("#paypal-password", Input).value).then(
            lambda session: self._logged_on(email, session), refused=self._log_on_refused,
            busy=self.query_one("#paypal-log-in", Button))

    def _logged_on(self, email: str, session: str) -> None:
        self.paypal_session = session
        self.query_one("#paypal-password", Input).value = ""
        self.query_one("#paypal-log-on").add_class("-hidden")
        self.query_one("#paypal-agreement").remove_class("-hidden")
        self.query_one("#paypal-agreement-text", SafeStatic).update(
            _("Logged in as {email}.").format(email=email) + "\n\n"
            + _("Billing agreement: you allow {company} to charge this PayPal account for the "
                "products and services you buy, without asking you each time. You can cancel "
                "it in your PayPal account at any time.").format(company=brand_llc()))
        self.query_one("#paypal-agree").focus()

    def _log_on_refused(self, error: DomainError) -> None:
        """PayPal's message beside its field (else under the form); the password is typed
        again, so it is emptied and the focus goes there."""
        field = error.field if error.field in ("paypal-email", "paypal-password") else "paypal"
        self.clear_errors()
        self.query_one(f"#{field}-error", FieldError).show(translate(error.message))
        self.query_one("#paypal-password", Input).value = ""
        self.query_one("#paypal-email" if field == "paypal-email" else "#paypal-password").focus()

    # -- agree ----------------------------------------------------------------------------

    @on(Button.Pressed, "#paypal-agree")
    def _agree(self, event: Button.Pressed) -> None:
        from core.payments import add_paypal

        event.stop()
        if self.paypal_session is None:
            return
        self.clear_errors()
        self.call(add_paypal, self.token, self.paypal_session).then(
            self._agreed, refused=self._agree_refused,
            busy=self.query_one("#paypal-agree", Button))

    def _agreed(self, method: PaymentMethodView) -> None:
        self.paypal_session = None
        self.dismiss(method)

    def _agree_refused(self, error: DomainError) -> None:
        self.query_one("#paypal-error", FieldError).show(translate(error.message))
        self.query_one("#paypal-agree").focus()

    # -- links and cancel -----------------------------------------------------------------

    @on(Button.Pressed, "#paypal-trouble, #paypal-create")
    def _site_link(self, event: Button.Pressed) -> None:
        event.stop()
        note = PAYPAL_SITE_NOTES[event.button.id or ""]
        self.query_one("#paypal-note", SafeStatic).update(_(note))

    @on(Button.Pressed, "#paypal-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_cancel(self) -> None:
        if self.is_busy("add_paypal"):
            return  # the agreement is being recorded: wait for its result
        session, self.paypal_session = self.paypal_session, None
        if session:
            self.app.run_worker(lambda: _end_paypal_session(session), thread=True,
                                exit_on_error=False, group="paypal-cancel")
        self.dismiss(None)
