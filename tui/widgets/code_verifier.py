"""Verifying an email or phone with a one-time code: F2 on the Verify screen, and the second
channel of F4 on the billing address screen (purpose "second_channel").

Email mode: `#send`, `#code`, `#verify`, `#use-phone`. Phone mode: `#phone`, `#call`,
`#send-message`, `#code`, `#verify`, `#use-email`. Errors: `#phone-error`, `#code-error`.
The resend countdown ticks each second from `CodeStatus.resend_in`; the send buttons are
disabled and show the seconds left while it runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label

from core.i18n import N_, _
from tui.core_calls import CallsCore
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.console_app import console_app
from tui.widgets.safe_text import FieldError, SafeStatic

if TYPE_CHECKING:
    from core.accounts import AccountView
    from core.errors import DomainError
    from core.verify_account import VerifyState

SEND_LABELS = {"send": N_("Send"), "send-message": N_("Send message"),
               "call": N_("Call immediately")}


class CodeVerifier(CallsCore, Vertical):
    """Send a code by email, SMS or voice call, then check it."""

    FORM_ERROR = "code"  # a refusal of no field is said under the code

    DEFAULT_CSS = """
    CodeVerifier {
        height: auto;
    }
    CodeVerifier #destination {
        margin-top: 1;
    }
    CodeVerifier .verify-row {
        height: auto;
        margin-top: 1;
    }
    CodeVerifier .verify-row Button {
        margin-right: 2;
    }
    CodeVerifier .verify-label {
        width: 20;
    }
    CodeVerifier Input {
        width: 30;
    }
    CodeVerifier #code-status {
        margin-top: 1;
        color: $text-muted;
    }
    CodeVerifier .switch-row {
        height: auto;
        margin-top: 1;
    }
    """

    @dataclass
    class Verified(Message):
        """The code was right: the destination is verified."""

        verifier: CodeVerifier
        account: AccountView

    def __init__(self, purpose: str, *, mode: str = "email",
                 modes: tuple[str, ...] = ("email", "phone"), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.purpose = purpose
        self.modes = modes
        self.mode = mode if mode in modes else modes[0]
        self.state: VerifyState | None = None
        self._deadline = 0.0  # time.monotonic() when the resend cooldown ends
        self._last_channel: str | None = None
        self._shown_remaining = -1
        self.country: str | None = None
        """The country the phone must belong to, once the core said (for the placeholder)."""

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        if self.mode == "email":
            yield SafeStatic(_("We will email a 6-digit code to your email address."),
                             id="destination")
            with Horizontal(classes="verify-row"):
                yield Button(_(SEND_LABELS["send"]), id="send", variant="primary", compact=True)
        else:
            yield SafeStatic(_("Enter your mobile phone number: we will call it or send it a "
                               "6-digit code."), id="destination")
            with Horizontal(classes="verify-row"):
                yield Label(_("Phone number"), classes="verify-label")
                yield BoundedInput(placeholder=self._phone_placeholder(), id="phone",
                                   compact=True)
            yield FieldError("phone")
            with Horizontal(classes="verify-row"):
                yield Button(_(SEND_LABELS["call"]), id="call", variant="primary", compact=True)
                yield Button(_(SEND_LABELS["send-message"]), id="send-message", variant="primary",
                             compact=True)
        with Horizontal(classes="verify-row"):
            yield Label(_("Verification code"), classes="verify-label")
            yield BoundedInput(placeholder=_("6 digits"), id="code", compact=True)
            yield Button(_("Verify"), id="verify", variant="success", compact=True)
        yield FieldError("code")
        yield SafeStatic("", id="code-status")
        with Horizontal(classes="switch-row"):
            if self.mode == "email" and "phone" in self.modes:
                yield Button(_("Use phone instead"), id="use-phone", compact=True)
            if self.mode == "phone" and "email" in self.modes:
                yield Button(_("Use email instead"), id="use-email", compact=True)

    def _phone_placeholder(self) -> str:
        """An example mobile number of the account's country ("+91 81234 56789")."""
        from core.validation import phone_example

        return (phone_example(self.country) if self.country else None) or "+…"

    def on_mount(self) -> None:
        from core.verify_account import phone_country

        self.set_interval(1, self._tick)
        self._after_mode_change()
        self.call(phone_country, console_app(self).token, self.purpose).then(
            self._country_known, refused=lambda _error: None, group="verify-country")

    def _country_known(self, country: str) -> None:
        self.country = country
        for field in self.query("#phone").results(Input):
            field.placeholder = self._phone_placeholder()

    def _after_mode_change(self) -> None:
        self.state = None
        self._deadline = 0.0
        self._last_channel = None
        self._shown_remaining = -1
        self._render_state()
        if self.mode == "email":
            self.load_state("email", None)

    async def switch_mode(self, mode: str) -> None:
        """Email ↔ phone ("Use phone instead", "Use email instead")."""
        if mode == self.mode or mode not in self.modes:
            return
        self.mode = mode
        await self.recompose()
        self._after_mode_change()
        self.query_one("#phone" if mode == "phone" else "#send").focus()

    # -- state shown ----------------------------------------------------------------------

    def resend_remaining(self) -> int:
        return max(0, int(self._deadline - time.monotonic() + 0.999))

    def _send_buttons(self) -> list[Button]:
        ids = ("send",) if self.mode == "email" else ("call", "send-message")
        return [self.query_one(f"#{i}", Button) for i in ids]

    def _tick(self) -> None:
        remaining = self.resend_remaining()
        if remaining != self._shown_remaining:
            self._render_buttons(remaining)

    def _render_buttons(self, remaining: int) -> None:
        self._shown_remaining = remaining
        busy = self.is_busy("verify-send")
        for button in self._send_buttons():
            label = _(SEND_LABELS[button.id or "send"])
            # Translators: a send button's label and the seconds until it works again.
            button.label = (_("{label} ({seconds} s)").format(label=label, seconds=remaining)
                            if remaining else label)
            if not busy:
                button.disabled = remaining > 0

    def _render_state(self) -> None:
        state = self.state
        destination = self.query_one("#destination", SafeStatic)
        status = self.query_one("#code-status", SafeStatic)
        if state is None:
            status.update("")
        else:
            masked = state.destination_masked
            if state.channel == "email":
                destination.update(_("We will email a 6-digit code to {destination}.").format(
                    destination=masked))
            elif state.channel == "voice":
                destination.update(_("We will call {destination} with a 6-digit code.").format(
                    destination=masked))
            else:
                destination.update(_("We will text {destination} with a 6-digit code.").format(
                    destination=masked))
            code = state.status
            if code.locked_until is not None:
                status.update(_("Too many wrong codes: this verification is locked until "
                                "{time} UTC.").format(time=f"{code.locked_until:%H:%M}"))
            elif code.sent:
                status.update(_("A code was sent to {destination}. It is valid for 10 minutes. "
                                "Tries left: {n}.").format(destination=masked,
                                                           n=code.tries_left))
            else:
                status.update(_("Press Send to get a code.") if state.channel == "email" else
                              _("Press Call immediately or Send message to get a code."))
        self._render_buttons(self.resend_remaining())

    def _set_state(self, state: VerifyState) -> None:
        self.state = state
        self._deadline = time.monotonic() + state.status.resend_in
        self._render_state()

    # -- input ----------------------------------------------------------------------------

    def _phone(self) -> str | None:
        return self.query_one("#phone", Input).value if self.mode == "phone" else None

    @on(Button.Pressed, "#send, #send-message, #call")
    def _send_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if self.resend_remaining() > 0:
            return
        from core.verify_account import send_code

        channel = {"send": "email", "send-message": "sms", "call": "voice"}[event.button.id or ""]
        if self.is_busy("verify-send"):
            return
        self.clear_errors()
        self.call(send_code, console_app(self).token, self.purpose, channel, self._phone()).then(
            self._sent, busy=[event.button, *[b for b in self._send_buttons()
                                              if b is not event.button]],
            group="verify-send")

    @on(Button.Pressed, "#verify")
    @on(Input.Submitted, "#code")
    def _verify_pressed(self, event: Message) -> None:
        from core.verify_account import confirm_code

        event.stop()
        if self.is_busy("verify-confirm"):
            return
        self.clear_errors()
        channel = "email" if self.mode == "email" else (self._last_channel or "voice")
        self.call(confirm_code, console_app(self).token, self.purpose, channel,
                  self.query_one("#code", Input).value, self._phone()).then(
            self._confirmed, refused=self._confirm_refused,
            busy=self.query_one("#verify", Button), group="verify-confirm")

    @on(Input.Submitted, "#phone")
    def _phone_submitted(self, event: Input.Submitted) -> None:
        """Enter in the phone sends the text message (Call immediately is a Tab away)."""
        event.stop()
        self.query_one("#send-message", Button).press()

    @on(Button.Pressed, "#use-phone")
    async def _use_phone(self, event: Button.Pressed) -> None:
        event.stop()
        await self.switch_mode("phone")

    @on(Button.Pressed, "#use-email")
    async def _use_email(self, event: Button.Pressed) -> None:
        event.stop()
        await self.switch_mode("email")

    # -- what the core answered --------------------------------------------------------------

    def load_state(self, channel: str, phone: str | None) -> None:
        """The destination, countdown and tries left, without sending (nothing is said when
        the core refuses: the person has not acted yet)."""
        from core.verify_account import verify_state

        self.call(verify_state, console_app(self).token, self.purpose, channel, phone).then(
            self._set_state, refused=lambda _error: None, group="verify-state")

    def _sent(self, state: VerifyState) -> None:
        self._last_channel = state.channel
        self._set_state(state)
        self.query_one("#code", Input).focus()

    def _confirmed(self, account: AccountView) -> None:
        self.post_message(self.Verified(self, account))

    def _confirm_refused(self, error: DomainError) -> None:
        """Beside the code (or the phone), and the tries left brought up to date."""
        self.show_refusal(error)
        if self.mode == "email" or self._last_channel:
            self.load_state("email" if self.mode == "email" else self._last_channel or "voice",
                            self._phone())
