"""Change email or change phone (SPEC F14): the new address or number, a code sent to it, the
code back, confirm. Both steps need a recent step-up (the core asks; tui/core_calls.py opens the
step-up window and sends again). The old address is told, and so is the new one.

Returns the account's new `AccountView` once confirmed, or None when closed without a change.
Every refusal of core.contact_change names the field `change`, shown in `#change-error`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from core.i18n import N_, _, ngettext
from tui.core_calls import CallsCore
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.field import LabelledField
from tui.widgets.footer import ConsoleFooter
from tui.widgets.safe_text import FieldError, SafeStatic

if TYPE_CHECKING:
    from core.accounts import AccountView
    from core.contact_change import ChangeState
    from core.errors import DomainError

Kind = Literal["email", "phone"]


def code_sent_text(state: ChangeState) -> str:
    """Where the code went, how many tries are left, when another may be asked for."""
    status = state.status
    via = {"sms": _("by text message"), "voice": _("by a call")}.get(state.channel, "")
    sent = (_("We sent a 6-digit code to {destination} {via}.").format(
        destination=state.destination_masked, via=via) if via else
        _("We sent a 6-digit code to {destination}.").format(
        destination=state.destination_masked))
    tries = ngettext("{n} try left.", "{n} tries left.", status.tries_left).format(
        n=status.tries_left)
    if not status.resend_in:
        return _("{sent} {tries}").format(sent=sent, tries=tries)
    resend = ngettext("You can ask for a new code in {n} second.",
                      "You can ask for a new code in {n} seconds.",
                      status.resend_in).format(n=status.resend_in)
    return _("{sent} {tries} {resend}").format(sent=sent, tries=tries, resend=resend)


class ChangeContactModal(CallsCore, ModalScreen["AccountView | None"]):
    """Email: `#new-email`; phone: `#new-phone` (and `#change-call` for a voice call); both:
    `#change-send`, `#change-code`, `#change-confirm`, `#change-cancel`, `#change-error`."""

    FORM_ERROR = "change"
    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="change-contact.cancel")]

    def __init__(self, token: str | None, kind: Kind, current: str | None = None) -> None:
        super().__init__()
        self.token = token
        self.kind: Kind = kind
        self.current = current
        self.channel = "email" if kind == "email" else "sms"
        self.sent_to: str | None = None
        """The address or number the code went to (what was typed then, as confirm needs)."""

    @property
    def field_id(self) -> str:
        return "new-email" if self.kind == "email" else "new-phone"

    def compose(self) -> ComposeResult:
        email = self.kind == "email"
        window = Vertical(id="change-window", classes="window")
        window.border_title = _("Change email") if email else _("Change phone")
        with window:
            if self.current:
                yield SafeStatic((_("Your email address now: {current}") if email
                                  else _("Your phone number now: {current}")).format(
                    current=self.current), id="change-current", classes="hint")
            yield Static(_("A code goes to the new address: it must be yours.") if email
                         else _("A code goes to the new number; it must be of your account's "
                                "country."), markup=False)
            send = Button(_("Send code"), id="change-send", compact=True)
            if email:
                yield LabelledField(_("New email"), BoundedInput(
                    id="new-email", compact=True, placeholder=_("name@example.com")), send)
            else:
                yield LabelledField(_("New phone"), BoundedInput(
                    id="new-phone", compact=True, placeholder=_("with the country code")),
                    send, Button(_("Call"), id="change-call", compact=True))
            yield SafeStatic("", id="change-status", classes="hint field-note")
            yield LabelledField(_("Code"), BoundedInput(id="change-code", compact=True,
                                                        placeholder=_("6 digits")))
            yield FieldError("change", classes="field-note")
            with Horizontal(classes="button-row"):
                yield Button(_("Confirm"), id="change-confirm", variant="primary",
                             compact=True)
                yield Button(_("Cancel"), id="change-cancel", compact=True)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#change-status").display = False
        self.query_one(f"#{self.field_id}").focus()

    # -- sending the code ---------------------------------------------------------------

    @on(Input.Submitted, "#new-email, #new-phone")
    @on(Button.Pressed, "#change-send")
    def _send(self, event: Input.Submitted | Button.Pressed) -> None:
        event.stop()
        self.send("email" if self.kind == "email" else "sms")

    @on(Button.Pressed, "#change-call")
    def _call(self, event: Button.Pressed) -> None:
        event.stop()
        self.send("voice")

    def send(self, channel: str) -> None:
        from core.contact_change import start_email_change, start_phone_change

        self.clear_errors()
        address = self.query_one(f"#{self.field_id}", Input).value
        busy = [self.query_one("#change-send", Button)]
        if self.kind == "email":
            call = self.call(start_email_change, self.token, address)
        else:
            busy += [self.query_one("#change-call", Button)]
            call = self.call(start_phone_change, self.token, address, channel)

        def sent(state: ChangeState) -> None:
            self.channel, self.sent_to = channel, address
            status = self.query_one("#change-status", SafeStatic)
            status.update(code_sent_text(state))
            status.display = True
            self.query_one("#change-code").focus()

        call.then(sent, refused=self._refused, busy=busy, group="change-send")

    # -- confirming -----------------------------------------------------------------------

    @on(Input.Submitted, "#change-code")
    @on(Button.Pressed, "#change-confirm")
    def _confirm(self, event: Input.Submitted | Button.Pressed) -> None:
        from core.contact_change import confirm_email_change, confirm_phone_change

        event.stop()
        self.clear_errors()
        address = self.sent_to or self.query_one(f"#{self.field_id}", Input).value
        code = self.query_one("#change-code", Input).value
        if self.kind == "email":
            call = self.call(confirm_email_change, self.token, address, code)
        else:
            call = self.call(confirm_phone_change, self.token, address, code, self.channel)
        call.then(self._changed, refused=self._refused,
                  busy=self.query_one("#change-confirm", Button), group="change-confirm")

    def _changed(self, account: AccountView) -> None:
        self.dismiss(account)

    def _refused(self, error: DomainError) -> None:
        """Shown in `#change-error`; focus goes where the person fixes it: the code once one
        is out, else the address."""
        self.show_refusal(error)
        target = "#change-code" if self.sent_to else f"#{self.field_id}"
        self.query_one(target).focus()

    @on(Input.Changed, "#new-email, #new-phone")
    def _address_changed(self) -> None:
        self.sent_to = None  # a code binds to its destination: a new one is needed

    @on(Button.Pressed, "#change-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_cancel(self) -> None:
        if not self.is_busy("change-confirm"):
            self.dismiss(None)
