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

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label

from tui.widgets.bounded_input import BoundedInput
from tui.widgets.core_work import CoreWork, call_core
from tui.widgets.safe_text import FieldError, SafeStatic

if TYPE_CHECKING:
    from core.accounts import AccountView
    from core.verify_account import VerifyState

SEND_LABELS = {"send": "Send", "send-message": "Send message", "call": "Call immediately"}


class CodeVerifier(CoreWork, Vertical):
    """Send a code by email, SMS or voice call, then check it."""

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

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        if self.mode == "email":
            yield SafeStatic("We will email a 6-digit code to your email address.",
                             id="destination")
            with Horizontal(classes="verify-row"):
                yield Button(SEND_LABELS["send"], id="send", variant="primary", compact=True)
        else:
            yield SafeStatic("Enter your mobile phone number: we will call it or send it a "
                             "6-digit code.", id="destination")
            with Horizontal(classes="verify-row"):
                yield Label("Phone number", classes="verify-label")
                yield BoundedInput(placeholder="+65 8123 4567", id="phone", compact=True)
            yield FieldError("phone")
            with Horizontal(classes="verify-row"):
                yield Button(SEND_LABELS["call"], id="call", variant="primary", compact=True)
                yield Button(SEND_LABELS["send-message"], id="send-message", variant="primary",
                             compact=True)
        with Horizontal(classes="verify-row"):
            yield Label("Verification code", classes="verify-label")
            yield BoundedInput(placeholder="6 digits", id="code", compact=True)
            yield Button("Verify", id="verify", variant="success", compact=True)
        yield FieldError("code")
        yield SafeStatic("", id="code-status")
        with Horizontal(classes="switch-row"):
            if self.mode == "email" and "phone" in self.modes:
                yield Button("Use phone instead", id="use-phone", compact=True)
            if self.mode == "phone" and "email" in self.modes:
                yield Button("Use email instead", id="use-email", compact=True)

    def on_mount(self) -> None:
        self.set_interval(1, self._tick)
        self._after_mode_change()

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
            label = SEND_LABELS[button.id or "send"]
            button.label = f"{label} ({remaining} s)" if remaining else label
            if not busy:
                button.disabled = remaining > 0

    def _render_state(self) -> None:
        state = self.state
        destination = self.query_one("#destination", SafeStatic)
        status = self.query_one("#code-status", SafeStatic)
        if state is None:
            status.update("")
        else:
            verb = "email" if state.channel == "email" else (
                "call" if state.channel == "voice" else "text")
            if state.channel == "email":
                destination.update(f"We will email a 6-digit code to {state.destination_masked}.")
            else:
                destination.update(f"We will {verb} {state.destination_masked} with a 6-digit "
                                   "code.")
            code = state.status
            if code.locked_until is not None:
                status.update("Too many wrong codes: this verification is locked until "
                              f"{code.locked_until:%H:%M} UTC.")
            elif code.sent:
                status.update(f"A code was sent to {state.destination_masked}. It is valid for "
                              f"10 minutes. Tries left: {code.tries_left}.")
            else:
                status.update("Press Send to get a code." if state.channel == "email" else
                              "Press Call immediately or Send message to get a code.")
        self._render_buttons(self.resend_remaining())

    def _set_state(self, state: VerifyState) -> None:
        self.state = state
        self._deadline = time.monotonic() + state.status.resend_in
        self._render_state()

    # -- input ----------------------------------------------------------------------------

    def _phone(self) -> str | None:
        return self.query_one("#phone", Input).value if self.mode == "phone" else None

    def _error(self, field: str, message: str | None) -> None:
        self.query_one(f"#{field}-error", FieldError).show(message)

    def _clear_errors(self) -> None:
        for error in self.query(FieldError):
            error.clear()

    @on(Button.Pressed, "#send, #send-message, #call")
    def _send_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if self.resend_remaining() > 0:
            return
        channel = {"send": "email", "send-message": "sms", "call": "voice"}[event.button.id or ""]
        if not self.start_busy("verify-send", event.button, *[
                b for b in self._send_buttons() if b is not event.button]):
            return
        self._clear_errors()
        self.send(channel, self._phone())

    @on(Button.Pressed, "#verify")
    @on(Input.Submitted, "#code")
    def _verify_pressed(self, event: Message) -> None:
        event.stop()
        if not self.start_busy("verify-confirm", self.query_one("#verify", Button)):
            return
        self._clear_errors()
        channel = "email" if self.mode == "email" else (self._last_channel or "voice")
        self.confirm(channel, self.query_one("#code", Input).value, self._phone())

    @on(Input.Submitted, "#phone")
    def _phone_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#send-message", Button).focus()

    @on(Button.Pressed, "#use-phone")
    async def _use_phone(self, event: Button.Pressed) -> None:
        event.stop()
        await self.switch_mode("phone")

    @on(Button.Pressed, "#use-email")
    async def _use_email(self, event: Button.Pressed) -> None:
        event.stop()
        await self.switch_mode("email")

    # -- core calls -----------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="verify-state")
    def load_state(self, channel: str, phone: str | None) -> VerifyState:
        from core.verify_account import verify_state

        return call_core(verify_state, self.app.token, self.purpose, channel, phone)

    @work(thread=True, exclusive=True, exit_on_error=False, group="verify-send")
    def send(self, channel: str, phone: str | None) -> VerifyState:
        from core.verify_account import send_code

        return call_core(send_code, self.app.token, self.purpose, channel, phone)

    @work(thread=True, exclusive=True, exit_on_error=False, group="verify-confirm")
    def confirm(self, channel: str, code: str, phone: str | None) -> AccountView:
        from core.verify_account import confirm_code

        return call_core(confirm_code, self.app.token, self.purpose, channel, code, phone)

    def core_done(self, group: str, result: Any) -> None:
        if group in ("verify-state", "verify-send"):
            if group == "verify-send":
                self._last_channel = result.channel
            self._set_state(result)
            if group == "verify-send":
                self.query_one("#code", Input).focus()
        elif group == "verify-confirm":
            self.post_message(self.Verified(self, result))

    def core_refused(self, group: str, error: Exception) -> None:
        field = getattr(error, "field", None)
        message = getattr(error, "message", str(error))
        if group == "verify-state":
            return  # nothing to show until the person acts
        self._error("phone" if field == "phone" and self.mode == "phone" else "code", message)
        if group == "verify-confirm" and (self.mode == "email" or self._last_channel):
            self.load_state("email" if self.mode == "email" else self._last_channel,
                            self._phone())
