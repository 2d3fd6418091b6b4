"""The add-payment-method form of F5: bank card, PayPal or Paytm.

Card: number, expiry, security code, holder → **Next** → confirm the billing address (and the
note on the 1.00 USD pre-authorization hold) → **Save the card**. The number and the security
code leave the widgets as soon as **Next** is pressed (they are kept only in memory until the
card is saved or the form closes). PayPal: **Next** opens the PayPal window. Paytm: the phone,
**Send**, the code, **Add now**.

Returns a `MethodAdded` (the method and, for a card, the hold story), or None when closed with
Escape / Cancel: then nothing was added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, RadioButton, RadioSet, Static

from tui.modals.paypal import PayPalModal
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.core_work import CoreWork, call_core
from tui.widgets.safe_text import FieldError, SafeStatic, clean_text

if TYPE_CHECKING:
    from core.payments import PaymentMethodView

CARD_FIELDS = ("card-number", "card-expiry", "card-cvv", "card-holder")
PAYTM_FIELDS = ("paytm-phone", "paytm-code")
KINDS = ("card", "paypal", "paytm")


def hold_note() -> str:
    from core.config import settings

    brand = clean_text(settings().brand)
    return (f"In order to verify your card, {brand} will make 1.00 USD pre-authorization hold "
            "to your bank card and will cancel the pre-authorization hold soon after you added "
            "your card.")


@dataclass(frozen=True)
class MethodAdded:
    method: PaymentMethodView
    story: str | None = None  # "Held 1.00 USD on Visa •••• 4242 — released" for a card


@dataclass
class _PendingCard:
    """The card between Next and Save the card; its repr shows no secret."""

    number: str = field(repr=False)
    expiry: str
    cvv: str = field(repr=False)
    holder: str

    def __repr__(self) -> str:
        return "_PendingCard(…)"


class AddMethodModal(CoreWork, ModalScreen["MethodAdded | None"]):
    """Add a bank card, PayPal or Paytm (CONTRACT "Payment methods")."""

    BINDINGS = [Binding("escape", "close", "Close", id="add-method.close")]

    DEFAULT_CSS = """
    AddMethodModal #add-method-window {
        height: auto;
        max-height: 100%;
    }
    AddMethodModal #add-method-body {
        height: auto;
        max-height: 1fr;
    }
    AddMethodModal #method-kind {
        layout: horizontal;
        width: auto;
        height: auto;
        border: none;
        padding: 0;
    }
    AddMethodModal #method-kind RadioButton {
        width: auto;
        margin-right: 2;
    }
    AddMethodModal .step, AddMethodModal .kind-fields {
        height: auto;
    }
    AddMethodModal .-hidden {
        display: none;
    }
    AddMethodModal .field-row {
        margin-top: 0;
    }
    AddMethodModal .field-label {
        width: 16;
    }
    AddMethodModal .field-note {
        margin-left: 16;
    }
    AddMethodModal #confirm-address {
        margin: 1 0 0 2;
        height: auto;
    }
    AddMethodModal #hold-note {
        margin-top: 1;
        color: $text-muted;
    }
    AddMethodModal #payment-error {
        margin-top: 1;
    }
    AddMethodModal #paytm-status {
        color: $text-muted;
    }
    """

    def __init__(self, address_lines: tuple[str, ...], *, paytm: bool,
                 holder: str = "") -> None:
        super().__init__()
        self.address_lines = address_lines
        self.paytm = paytm
        self.holder = holder
        self._card: _PendingCard | None = None
        self.kind = "card"
        self._paypal_open = False

    def compose(self) -> ComposeResult:
        with Vertical(id="add-method-window", classes="window"):
            with VerticalScroll(id="add-method-body"):
                with Vertical(id="step-form", classes="step"):
                    with Horizontal(classes="field-row"):
                        yield Label("Method", classes="field-label")
                        with RadioSet(id="method-kind", compact=True):
                            yield RadioButton("Bank card", id="method-card", value=True,
                                              compact=True)
                            yield RadioButton("PayPal", id="method-paypal", compact=True)
                            if self.paytm:
                                yield RadioButton("Paytm", id="method-paytm", compact=True)
                    if not self.paytm:
                        yield Static("Paytm is offered to accounts in India.",
                                     classes="hint field-note")
                    with Vertical(id="card-fields", classes="kind-fields"):
                        yield from self._field("card-number", "Card number",
                                               "1234 5678 9012 3456")
                        yield from self._field("card-expiry", "Expiry", "MM/YY")
                        yield from self._field("card-cvv", "Security code", "3 or 4 digits",
                                               password=True)
                        yield from self._field("card-holder", "Card holder",
                                               "name on the card", value=self.holder)
                        yield Static("An enterprise card without a holder name: fill in your "
                                     "own name.", classes="hint field-note")
                    with Vertical(id="paypal-fields", classes="kind-fields -hidden"):
                        yield Static("Press Next: PayPal's log-on window opens. Log on with your "
                                     "PayPal account and confirm the billing agreement.",
                                     classes="hint")
                    if self.paytm:
                        with Vertical(id="paytm-fields", classes="kind-fields -hidden"):
                            yield Static("Your Paytm-registered phone number: press Send to "
                                         "get a code, enter it, then Add now.", classes="hint")
                            with Horizontal(classes="field-row"):
                                yield Label("Paytm phone", classes="field-label")
                                yield BoundedInput(placeholder="+91 98765 43210", id="paytm-phone",
                                                   compact=True)
                                yield Button("Send", id="paytm-send", compact=True)
                            yield FieldError("paytm-phone", classes="field-note")
                            with Horizontal(classes="field-row"):
                                yield Label("Code", classes="field-label")
                                yield BoundedInput(placeholder="6 digits", id="paytm-code",
                                                   compact=True)
                                yield Button("Add now", id="paytm-add", variant="primary",
                                             compact=True)
                            yield FieldError("paytm-code", classes="field-note")
                            yield SafeStatic("", id="paytm-status")
                with Vertical(id="step-confirm", classes="step -hidden"):
                    yield Static("Confirm your billing address", classes="subtitle")
                    yield SafeStatic("\n".join(self.address_lines), id="confirm-address")
                    yield SafeStatic("", id="confirm-card")
                    yield Static(hold_note(), id="hold-note", markup=False)
                yield FieldError("payment")
            with Horizontal(classes="button-row"):
                yield Button("Next", id="next", variant="primary", compact=True)
                yield Button("Save the card", id="save-card", variant="primary",
                             compact=True, classes="-hidden")
                yield Button("Back", id="back", compact=True, classes="-hidden")
                yield Button("Cancel", id="add-method-cancel", compact=True)
        yield Footer()

    @staticmethod
    def _field(name: str, label: str, placeholder: str, *, value: str = "",
               password: bool = False) -> ComposeResult:
        with Horizontal(classes="field-row"):
            yield Label(label, classes="field-label")
            yield BoundedInput(value, placeholder=placeholder, id=name, password=password,
                               compact=True)
        yield FieldError(name, classes="field-note")

    def on_mount(self) -> None:
        self.query_one("#add-method-window").border_title = "Add a payment method"
        self.query_one("#method-kind").focus()

    # -- choosing the method ---------------------------------------------------------------

    @on(RadioSet.Changed, "#method-kind")
    def _kind_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self.kind = (event.pressed.id or "method-card").removeprefix("method-")
        if self.kind != "card":
            self._forget_card_widgets()  # leaving the card form
        for kind in KINDS:
            for box in self.query(f"#{kind}-fields"):
                box.set_class(kind != self.kind, "-hidden")
        self.query_one("#next").set_class(self.kind == "paytm", "-hidden")
        self._clear_errors()

    def _clear_errors(self) -> None:
        for error in self.query(FieldError):
            error.clear()

    def _show_error(self, field_id: str | None, message: str) -> None:
        if field_id and self.query(f"#{field_id}-error") and field_id != "payment":
            self.query_one(f"#{field_id}-error", FieldError).show(message)
        self.query_one("#payment-error", FieldError).show(message)

    def _show_step(self, step: str) -> None:
        confirm = step == "confirm"
        self.query_one("#step-form").set_class(confirm, "-hidden")
        self.query_one("#step-confirm").set_class(not confirm, "-hidden")
        self.query_one("#next").set_class(confirm or self.kind == "paytm", "-hidden")
        self.query_one("#save-card").set_class(not confirm, "-hidden")
        self.query_one("#back").set_class(not confirm, "-hidden")

    # -- Next ----------------------------------------------------------------------------

    @on(Button.Pressed, "#next")
    @on(Input.Submitted, "#card-number, #card-expiry, #card-cvv, #card-holder")
    def _next(self, event: Button.Pressed | Input.Submitted) -> None:
        event.stop()
        self._clear_errors()
        if self.kind == "paypal":
            if not self._paypal_open:  # a double press opens one window
                self._paypal_open = True
                self.app.push_screen(PayPalModal(), self._paypal_done)
        elif self.kind == "card":
            self._card_next()

    def _card_next(self) -> None:
        from core.errors import ValidationError
        from core.payments import check_card

        values = {name: self.query_one(f"#{name}", Input).value for name in CARD_FIELDS}
        try:
            card = check_card(values["card-number"], values["card-expiry"], values["card-cvv"],
                              values["card-holder"])
        except ValidationError as exc:
            self._show_error(exc.field, exc.message)
            if exc.field in CARD_FIELDS:
                self.query_one(f"#{exc.field}").focus()
            return
        self._card = _PendingCard(values["card-number"], values["card-expiry"],
                                  values["card-cvv"], values["card-holder"])
        self._forget_card_widgets()
        holder = card.holder or "(your own name)"
        self.query_one("#confirm-card", SafeStatic).update(
            f"\nCard: {card.display}, expires {card.expiry}, holder {holder}")
        del card
        self._show_step("confirm")
        self.query_one("#save-card").focus()

    def _forget_card_widgets(self) -> None:
        for name in ("card-number", "card-cvv"):
            self.query_one(f"#{name}", Input).value = ""

    @on(Button.Pressed, "#back")
    def _back(self, event: Button.Pressed) -> None:
        event.stop()
        if self.is_busy("save-card"):
            return
        self._card = None
        self._clear_errors()
        self._show_step("form")
        self.query_one("#card-number").focus()

    # -- Save the card -------------------------------------------------------------------

    @on(Button.Pressed, "#save-card")
    def _save_card_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        card = self._card
        if card is None:
            return
        if not self.start_busy("save-card", self.query_one("#save-card", Button),
                               self.query_one("#back", Button)):
            return
        self._clear_errors()
        self.save_card(card)

    @work(thread=True, exclusive=True, exit_on_error=False, group="save-card")
    def save_card(self, card: _PendingCard):
        from core.payments import save_card

        return call_core(save_card, self.app.token, card.number, card.expiry, card.cvv,
                         card.holder)

    # -- PayPal --------------------------------------------------------------------------

    def _paypal_done(self, method: PaymentMethodView | None) -> None:
        self._paypal_open = False
        if method is not None:
            self.dismiss(MethodAdded(method))
        else:
            self.query_one("#next").focus()

    # -- Paytm ---------------------------------------------------------------------------

    @on(Button.Pressed, "#paytm-send")
    @on(Input.Submitted, "#paytm-phone")
    def _paytm_send(self, event: Button.Pressed | Input.Submitted) -> None:
        event.stop()
        if not self.start_busy("paytm-send", self.query_one("#paytm-send", Button)):
            return
        self._clear_errors()
        self.paytm_send(self.query_one("#paytm-phone", Input).value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="paytm-send")
    def paytm_send(self, phone: str):
        from core.payments import send_paytm_code

        return call_core(send_paytm_code, self.app.token, phone)

    @on(Button.Pressed, "#paytm-add")
    @on(Input.Submitted, "#paytm-code")
    def _paytm_add(self, event: Button.Pressed | Input.Submitted) -> None:
        event.stop()
        if not self.start_busy("paytm-add", self.query_one("#paytm-add", Button)):
            return
        self._clear_errors()
        self.paytm_add(self.query_one("#paytm-phone", Input).value,
                       self.query_one("#paytm-code", Input).value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="paytm-add")
    def paytm_add(self, phone: str, code: str):
        from core.payments import add_paytm

        return call_core(add_paytm, self.app.token, phone, code)

    # -- closing -------------------------------------------------------------------------

    @on(Button.Pressed, "#add-method-cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_close()

    def action_close(self) -> None:
        if self.is_busy("save-card") or self.is_busy("paytm-add"):
            return  # a method is being added: wait for the result
        self._card = None
        self._forget_card_widgets()
        self.dismiss(None)

    # -- results -------------------------------------------------------------------------

    def core_done(self, group: str, result: Any) -> None:
        if group == "save-card":
            self._card = None
            self.dismiss(MethodAdded(result.method, result.story))
        elif group == "paytm-send":
            status = result.status
            self.query_one("#paytm-status", SafeStatic).update(
                f"A code was sent to {result.destination_masked}. It is valid for 10 minutes. "
                f"Tries left: {status.tries_left}.")
            self.query_one("#paytm-code").focus()
        elif group == "paytm-add":
            self.dismiss(MethodAdded(result))

    def core_refused(self, group: str, error: Exception) -> None:
        message = getattr(error, "message", str(error))
        field_id = getattr(error, "field", None)
        if group == "save-card" and field_id in CARD_FIELDS:
            # A card problem found at saving (e.g. the same card twice): back to the form.
            self._card = None
            self._show_step("form")
        self._show_error(field_id, message)
