"""The PayPal window of F5: "Pay with PayPal" log-on, then the billing agreement.

Returns the added PaymentMethodView, or None when the person cancelled (Cancel and return,
Escape): then nothing is added and the PayPal session, if any, is ended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Static

from tui.widgets.bounded_input import BoundedInput
from tui.widgets.core_work import CoreWork, call_core
from tui.widgets.safe_text import FieldError, SafeStatic, clean_text

if TYPE_CHECKING:
    from core.payments import PaymentMethodView

PAYPAL_SITE_NOTES = {
    "paypal-trouble": "Having trouble logging in? This opens on paypal.com, where PayPal helps "
                      "you recover your account. Come back here and log in when you can.",
    "paypal-create": "Create an Account: this opens on paypal.com, where you can sign up for "
                     "PayPal. Come back here and log in when you have an account.",
}


def brand_llc() -> str:
    from core.config import settings

    return f"{clean_text(settings().brand)} US LLC"


def _end_paypal_session(session: str) -> None:
    from core.payments import paypal_cancel

    call_core(paypal_cancel, session)


class PayPalModal(CoreWork, ModalScreen["PaymentMethodView | None"]):
    """PayPal's log-on page (Email, Password, Stay logged in, Log In, ...), then the agreement."""

    BINDINGS = [Binding("escape", "cancel", "Cancel and return", id="paypal.cancel")]

    DEFAULT_CSS = """
    PayPalModal #paypal-window {
        width: 64;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round #0070ba;
        background: $surface;
        padding: 0 1;
    }
    PayPalModal #paypal-header {
        background: #003087;
        color: #ffffff;
        text-style: bold;
        content-align: center middle;
        width: 100%;
        height: 1;
    }
    PayPalModal #paypal-body {
        height: auto;
        max-height: 100%;
    }
    PayPalModal .paypal-row {
        height: auto;
        margin-top: 1;
    }
    PayPalModal .paypal-label {
        width: 10;
    }
    PayPalModal Input {
        width: 1fr;
    }
    PayPalModal #paypal-log-in, PayPalModal #paypal-agree {
        width: 100%;
        margin-top: 1;
        background: #0070ba;
        color: #ffffff;
        text-style: bold;
    }
    PayPalModal .paypal-link {
        width: 100%;
        margin-top: 1;
        min-width: 0;
        text-style: underline;
        color: $text-accent;
        background: transparent;
    }
    PayPalModal #paypal-note {
        margin-top: 1;
        color: $text-muted;
    }
    PayPalModal #paypal-error {
        margin-top: 1;
    }
    PayPalModal #paypal-agreement.-hidden, PayPalModal #paypal-log-on.-hidden {
        display: none;
    }
    PayPalModal #paypal-agreement, PayPalModal #paypal-log-on {
        height: auto;
    }
    PayPalModal #paypal-stay {
        margin-top: 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.paypal_session: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="paypal-window"):
            yield Static("PayPal", id="paypal-header")
            with VerticalScroll(id="paypal-body"):
                yield Static("Pay with PayPal", classes="title")
                with Vertical(id="paypal-log-on"):
                    with Horizontal(classes="paypal-row"):
                        yield Label("Email", classes="paypal-label")
                        yield BoundedInput(id="paypal-email", compact=True)
                    yield FieldError("paypal-email")
                    with Horizontal(classes="paypal-row"):
                        yield Label("Password", classes="paypal-label")
                        yield BoundedInput(id="paypal-password", password=True, compact=True)
                    yield FieldError("paypal-password")
                    yield Checkbox("Stay logged in for faster purchases", id="paypal-stay",
                                   compact=True)
                    yield Button("Log In", id="paypal-log-in", compact=True)
                    yield Button("Having trouble logging in?", id="paypal-trouble",
                                 classes="paypal-link", compact=True)
                    yield Button("Create an Account", id="paypal-create",
                                 classes="paypal-link", compact=True)
                with Vertical(id="paypal-agreement", classes="-hidden"):
                    yield SafeStatic("", id="paypal-agreement-text")
                    yield Button("Agree and Continue", id="paypal-agree", compact=True)
                yield FieldError("paypal")
                yield SafeStatic("", id="paypal-note")
                yield Button(f"Cancel and return to {brand_llc()}", id="paypal-cancel",
                             classes="paypal-link", compact=True)
        yield Footer()

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
        if not self.start_busy("paypal-log-on", self.query_one("#paypal-log-in", Button)):
            return
        for error in self.query(FieldError):
            error.clear()
        self.log_on(self.query_one("#paypal-email", Input).value,
                    self.query_one("#paypal-password", Input).value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="paypal-log-on")
    def log_on(self, email: str, password: str) -> tuple[str, str]:
        from core.payments import paypal_log_on

        return email, call_core(paypal_log_on, self.app.token, email, password)

    # -- agree ----------------------------------------------------------------------------

    @on(Button.Pressed, "#paypal-agree")
    def _agree(self, event: Button.Pressed) -> None:
        event.stop()
        if self.paypal_session is None:
            return
        if not self.start_busy("paypal-agree", self.query_one("#paypal-agree", Button)):
            return
        self.query_one("#paypal-error", FieldError).clear()
        self.agree(self.paypal_session)

    @work(thread=True, exclusive=True, exit_on_error=False, group="paypal-agree")
    def agree(self, session: str) -> PaymentMethodView:
        from core.payments import add_paypal

        return call_core(add_paypal, self.app.token, session)

    # -- links and cancel -----------------------------------------------------------------

    @on(Button.Pressed, "#paypal-trouble, #paypal-create")
    def _site_link(self, event: Button.Pressed) -> None:
        event.stop()
        self.query_one("#paypal-note", SafeStatic).update(PAYPAL_SITE_NOTES[event.button.id or ""])

    @on(Button.Pressed, "#paypal-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_cancel(self) -> None:
        if self.is_busy("paypal-agree"):
            return  # the agreement is being recorded: wait for its result
        session, self.paypal_session = self.paypal_session, None
        if session:
            self.app.run_worker(lambda: _end_paypal_session(session), thread=True,
                                exit_on_error=False, group="paypal-cancel")
        self.dismiss(None)

    # -- results --------------------------------------------------------------------------

    def core_done(self, group: str, result: Any) -> None:
        if group == "paypal-log-on":
            email, self.paypal_session = result
            self.query_one("#paypal-password", Input).value = ""
            self.query_one("#paypal-log-on").add_class("-hidden")
            self.query_one("#paypal-agreement").remove_class("-hidden")
            self.query_one("#paypal-agreement-text", SafeStatic).update(
                f"Logged in as {email}.\n\nBilling agreement: you allow {brand_llc()} to "
                "charge this PayPal account for the products and services you buy, without "
                "asking you each time. You can cancel it in your PayPal account at any time.")
            self.query_one("#paypal-agree").focus()
        elif group == "paypal-agree":
            self.paypal_session = None
            self.dismiss(result)

    def core_refused(self, group: str, error: Exception) -> None:
        message = getattr(error, "message", str(error))
        field = getattr(error, "field", None)
        if field not in ("paypal-email", "paypal-password"):
            field = "paypal"
        self.query_one(f"#{field}-error", FieldError).show(message)
        if group == "paypal-log-on":
            self.query_one("#paypal-password", Input).value = ""
            self.query_one("#paypal-password" if field == "paypal" else f"#{field}").focus()
