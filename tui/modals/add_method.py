"""The add-payment-method form of F5: bank card, PayPal or Paytm.

Card: number, expiry, security code, holder → **Next** → confirm the billing address (and the
note on the 1.00 USD pre-authorization hold) → **Save the card**. Each field is checked as the
person leaves it (CoreRule: the rules of core.validation), and Next runs core.payments.check_card,
which reports every field in error at once (FormErrors). The number and the security code leave
the widgets as soon as Next is pressed (kept only in memory until the card is saved or the form
closes). PayPal: **Next** opens the PayPal window. Paytm: the phone, **Send**, the code,
**Add now**.

The confirmation step fits at 80×24: the address, the card and the seed's two sentences scroll
inside the window; the decline reason (`#payment-error`) and the buttons stay below, always in
sight.

Returns a `MethodAdded` (the method and, for a card, the hold story), or None when closed with
Escape / Cancel: then nothing was added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from core.i18n import N_, _, ngettext, translate
from tui.core_calls import CallsCore
from tui.modals.paypal import PayPalModal
from tui.validators import CoreRule
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.field import LabelledField
from tui.widgets.footer import ConsoleFooter
from tui.widgets.safe_text import FieldError, SafeStatic, clean_text

if TYPE_CHECKING:
    from core.errors import DomainError
    from core.payments import CardSaved, PaymentMethodView
    from core.verify_account import VerifyState

CARD_FIELDS = ("card-number", "card-expiry", "card-cvv", "card-holder")
PAYTM_FIELDS = ("paytm-phone", "paytm-code")
KINDS = ("card", "paypal", "paytm")
DEDUCTION_NOTE = N_("don't worry, we will return the money immediately after we deduct "
                    "successfully.")


def hold_note() -> str:
    from core.config import settings

    brand = clean_text(settings().brand)
    return _("In order to verify your card, {brand} will make 1.00 USD pre-authorization hold "
             "to your bank card and will cancel the pre-authorization hold soon after you added "
             "your card.").format(brand=brand)


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


def tries_text(status_line: str, tries_left: int) -> str:
    return _("{status} {tries}").format(
        status=status_line,
        tries=ngettext("{n} try left.", "{n} tries left.", tries_left).format(n=tries_left))


class AddMethodModal(CallsCore, ModalScreen["MethodAdded | None"]):
    """Add a bank card, PayPal or Paytm (CONTRACT "Payment methods")."""

    BINDINGS = [Binding("escape", "close", N_("Close"), id="add-method.close")]
    FORM_ERROR = "payment"

    def __init__(self, address_lines: tuple[str, ...], *, paytm: bool, holder: str = "",
                 token: str | None = None, phone_example: str | None = None) -> None:
        super().__init__()
        self.address_lines = address_lines
        self.paytm = paytm
        self.holder = holder
        self.token = token
        self.phone_example = phone_example
        self._card: _PendingCard | None = None
        self.kind = "card"
        self._paypal_open = False
        self._paytm_sent = ""
        self._refused_values: dict[str, str] = {}
        """Each field's value when its error was shown: a change to it clears the error."""

    # -- layout ------------------------------------------------------------------------------

    def _brand(self) -> str | None:
        """The brand of the number typed so far (the security code's length follows it)."""
        from core.errors import ValidationError
        from core.validation import check_card_number

        try:
            return check_card_number(self.query_one("#card-number", Input).value)[1]
        except ValidationError:
            return None

    def _input(self, name: str, placeholder: str, *rules: CoreRule, value: str = "",
               password: bool = False) -> BoundedInput:
        return BoundedInput(value, placeholder=placeholder, id=name, password=password,
                            compact=True, validators=list(rules), validate_on=["blur"])

    def compose(self) -> ComposeResult:
        from core.validation import (
            check_card_cvv,
            check_card_expiry,
            check_card_holder,
            check_card_number,
            check_indian_mobile,
        )

        window = Vertical(id="add-method-window", classes="window")
        window.border_title = _("Add a payment method")
        with window:
            with VerticalScroll(id="add-method-body"):
                with Vertical(id="step-form", classes="step"):
                    with Horizontal(classes="field-row"):
                        yield Label(_("Method"), classes="field-label")
                        with RadioSet(id="method-kind", compact=True):
                            yield RadioButton(_("Bank card"), id="method-card", value=True,
                                              compact=True)
                            yield RadioButton("PayPal", id="method-paypal", compact=True)
                            if self.paytm:
                                yield RadioButton("Paytm", id="method-paytm", compact=True)
                    if not self.paytm:
                        yield Static(_("Paytm is offered to accounts in India."),
                                     classes="hint field-note")
                    with Vertical(id="card-fields", classes="kind-fields"):
                        yield LabelledField(_("Card number"), self._input(
                            "card-number", "1234 5678 9012 3456", CoreRule(check_card_number)))
                        yield LabelledField(_("Expiry"), self._input(
                            "card-expiry", "MM/YY", CoreRule(check_card_expiry)))
                        yield LabelledField(_("Security code"), self._input(
                            "card-cvv", _("3 or 4 digits"), CoreRule(check_card_cvv, self._brand),
                            password=True))
                        yield LabelledField(
                            _("Card holder"),
                            self._input("card-holder", _("name on the card"),
                                        CoreRule(check_card_holder), value=self.holder),
                            hint=_("An enterprise card without a holder name: fill in your "
                                   "own name."))
                    with Vertical(id="paypal-fields", classes="kind-fields -hidden"):
                        yield Static(_("Press Next: PayPal's log-on window opens. Log on with "
                                       "your PayPal account and confirm the billing "
                                       "agreement."), classes="hint")
                    if self.paytm:
                        with Vertical(id="paytm-fields", classes="kind-fields -hidden"):
                            yield Static(_("Your Paytm-registered phone number: press Send to "
                                           "get a code, enter it, then Add now."),
                                         classes="hint")
                            yield LabelledField(
                                _("Paytm phone"),
                                self._input("paytm-phone", self.phone_example or "+91 98765 43210",
                                            CoreRule(check_indian_mobile)),
                                Button(_("Send"), id="paytm-send", compact=True))
                            yield LabelledField(
                                _("Code"), self._input("paytm-code", _("6 digits")),
                                Button(_("Add now"), id="paytm-add", variant="primary",
                                       compact=True))
                            yield SafeStatic("", id="paytm-status")
                with Vertical(id="step-confirm", classes="step -hidden"):
                    yield Static(_("Confirm your billing address"), classes="subtitle")
                    yield SafeStatic("\n".join(self.address_lines), id="confirm-address")
                    yield SafeStatic("", id="confirm-card")
                    yield Static(_(DEDUCTION_NOTE), id="deduction-note", markup=False)
                    yield Static(hold_note(), id="hold-note", markup=False)
            yield FieldError("payment")
            with Horizontal(classes="button-row", id="add-method-buttons"):
                yield Button(_("Next"), id="next", variant="primary", compact=True)
                yield Button(_("Save the card"), id="save-card", variant="primary",
                             compact=True, classes="-hidden")
                yield Button(_("Back"), id="back", compact=True, classes="-hidden")
                yield Button(_("Cancel"), id="add-method-cancel", compact=True)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#method-kind").focus()

    def show_refusal(self, error: DomainError) -> None:
        """Each message beside its field, and (CONTRACT: the form's errors are in
        `#payment-error`) what is wrong in the form's error line too."""
        from core.errors import FormErrors

        super().show_refusal(error)
        self._refused_values = {field.id: field.value for field in self.query(Input)
                                if field.id}
        errors = error.errors if isinstance(error, FormErrors) else {error.field: error.message}
        line = self.query_one("#payment-error", FieldError)
        if not line.text:
            messages = list(errors.values())
            line.show(translate(messages[0]) if len(messages) == 1 else _(
                "Check the card: {n} fields need a change.").format(n=len(messages)))

    # -- live checks ---------------------------------------------------------------------------

    @on(Input.Blurred)
    def _checked_on_leaving(self, event: Input.Blurred) -> None:
        """A field's rule, as the person leaves it (empty fields wait for Next)."""
        name = event.input.id or ""
        result = event.validation_result
        if result is None or not event.value.strip() or not self.query(f"#{name}-error"):
            return
        line = self.query_one(f"#{name}-error", FieldError)
        line.show(None if result.is_valid else translate(result.failure_descriptions[0]))

    @on(Input.Changed)
    def _typing(self, event: Input.Changed) -> None:
        name = event.input.id or ""
        if event.value != self._refused_values.get(name) and self.query(f"#{name}-error"):
            self.query_one(f"#{name}-error", FieldError).clear()

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
        self.clear_errors()

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
        self.clear_errors()
        if self.kind == "paypal":
            if not self._paypal_open:  # a double press opens one window
                self._paypal_open = True
                self.app.push_screen(PayPalModal(self.token), self._paypal_done)
        elif self.kind == "card":
            self._card_next()

    def _card_next(self) -> None:
        from core.errors import FormErrors
        from core.payments import check_card

        values = {name: self.query_one(f"#{name}", Input).value for name in CARD_FIELDS}
        try:
            card = check_card(values["card-number"], values["card-expiry"], values["card-cvv"],
                              values["card-holder"])
        except FormErrors as exc:
            self.show_refusal(exc)  # every field in error at once, focus on the first
            return
        self._card = _PendingCard(values["card-number"], values["card-expiry"],
                                  values["card-cvv"], values["card-holder"])
        self._forget_card_widgets()
        holder = card.holder or _("(your own name)")
        self.query_one("#confirm-card", SafeStatic).update(
            _("Card: {card}, expires {expiry}, holder {holder}").format(
                card=translate(card.display), expiry=card.expiry, holder=holder))
        del card
        self._show_step("confirm")
        self.query_one("#save-card").focus()
        self.query_one("#add-method-body").scroll_home(animate=False)

    def _forget_card_widgets(self) -> None:
        for name in ("card-number", "card-cvv"):
            self.query_one(f"#{name}", Input).value = ""

    @on(Button.Pressed, "#back")
    def _back(self, event: Button.Pressed) -> None:
        event.stop()
        if self.is_busy("save_card"):
            return
        self._to_form()

    def _to_form(self) -> None:
        self._card = None
        self.clear_errors()
        self._show_step("form")
        self.query_one("#card-number").focus()

    # -- Save the card -------------------------------------------------------------------

    @on(Button.Pressed, "#save-card")
    def _save_card_pressed(self, event: Button.Pressed) -> None:
        from core.payments import save_card

        event.stop()
        card = self._card
        if card is None:
            return
        self.clear_errors()
        self.call(save_card, self.token, card.number, card.expiry, card.cvv, card.holder).then(
            self._saved, refused=self._save_refused,
            busy=(self.query_one("#save-card", Button), self.query_one("#back", Button)))

    def _saved(self, saved: CardSaved) -> None:
        self._card = None
        self.dismiss(MethodAdded(saved.method, saved.story))

    def _save_refused(self, error: DomainError) -> None:
        """A card problem found at saving (e.g. the same card twice): back to the form, the
        message beside the field. A decline: its reason under the confirmation, which stays
        (Save again for "try again", Back for another card)."""
        if error.field in CARD_FIELDS:
            self._card = None
            self._show_step("form")
            self.show_refusal(error)
            return
        self.query_one("#payment-error", FieldError).show(translate(error.message))
        self.query_one("#back").focus()

    # -- PayPal --------------------------------------------------------------------------

    def _paypal_done(self, method: PaymentMethodView | None) -> None:
        self._paypal_open = False
        if method is not None:
            self.dismiss(MethodAdded(method))
        else:
            self.query_one("#method-paypal").focus()

    # -- Paytm ---------------------------------------------------------------------------

    @on(Button.Pressed, "#paytm-send")
    @on(Input.Submitted, "#paytm-phone")
    def _paytm_send(self, event: Button.Pressed | Input.Submitted) -> None:
        from core.payments import send_paytm_code

        event.stop()
        self.clear_errors()
        self.call(send_paytm_code, self.token,
                  self.query_one("#paytm-phone", Input).value).then(
            self._paytm_sent_to, busy=self.query_one("#paytm-send", Button))

    def _paytm_sent_to(self, state: VerifyState) -> None:
        self._paytm_sent = _("A code was sent to {to}. It is valid for 10 minutes.").format(
            to=state.destination_masked)
        self._paytm_status(state)
        self.query_one("#paytm-code").focus()

    def _paytm_status(self, state: VerifyState) -> None:
        self.query_one("#paytm-status", SafeStatic).update(
            tries_text(self._paytm_sent, state.status.tries_left))

    @on(Button.Pressed, "#paytm-add")
    @on(Input.Submitted, "#paytm-code")
    def _paytm_add(self, event: Button.Pressed | Input.Submitted) -> None:
        from core.payments import add_paytm

        event.stop()
        self.clear_errors()
        self.call(add_paytm, self.token, self.query_one("#paytm-phone", Input).value,
                  self.query_one("#paytm-code", Input).value).then(
            self._paytm_added, refused=self._paytm_refused,
            busy=self.query_one("#paytm-add", Button))

    def _paytm_added(self, method: PaymentMethodView) -> None:
        self.dismiss(MethodAdded(method))

    def _paytm_refused(self, error: DomainError) -> None:
        """The message beside its field; after a wrong code, the tries left as they are now."""
        from core.payments import paytm_code_state

        self.show_refusal(error)
        if error.field == "paytm-code" and self._paytm_sent:
            self.query_one("#paytm-code", Input).value = ""
            self.call(paytm_code_state, self.token,
                      self.query_one("#paytm-phone", Input).value).then(
                self._paytm_status, refused=lambda _error: None)

    # -- closing -------------------------------------------------------------------------

    @on(Button.Pressed, "#add-method-cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_close()

    def action_close(self) -> None:
        if self.is_busy("save_card") or self.is_busy("add_paytm"):
            return  # a method is being added: wait for the result
        self._card = None
        self._forget_card_widgets()
        self.dismiss(None)
