"""F12: a forgotten password, reset from the Log on screen.

The email (`#reset-email`) and **Send** (`#reset-send`) start `core.password_reset`'s flow; the
code (`#reset-code`), the new password twice and **Reset** (`#reset-confirm`) complete it, with
an authenticator or recovery code (`#mfa-code`) when the account has virtual MFA. The screen
says the same thing whatever the email: the core answers an unknown or unverified email exactly
as a known one, and so does every word here ("if it belongs to an account"). The phone is
offered to everyone and never shown: only a known account with a verified phone gets the text.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Input, Static

from core.i18n import N_, _
from tui.core_calls import CallsCore
from tui.navigation import GoTo
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.brand_bar import BrandBar
from tui.widgets.console_app import console_app
from tui.widgets.field import LabelledField
from tui.widgets.footer import ConsoleFooter
from tui.widgets.password_strength import PasswordStrength
from tui.widgets.safe_text import FieldError, SafeStatic

if TYPE_CHECKING:
    from core.errors import DomainError
    from core.password_reset import PasswordResetDone, ResetState

RESET_DONE = N_("Your password has been reset. Log on with the new one. Every other session "
                "of the account has ended and its trusted SSH keys were removed.")
SEND_LABEL = N_("Send")
RESEND_LABEL = N_("Send again")


class ForgotPasswordScreen(CallsCore, Screen):
    """`#reset-email`, `#reset-send`, `#reset-code`, `#reset-password`,
    `#reset-password-confirm`, `#mfa-code`, `#reset-confirm`; errors `#<field>-error`."""

    FORM_ERROR = "reset-email"
    BINDINGS = [Binding("escape", "back", N_("Back"), id="forgot-password.back")]

    def __init__(self) -> None:
        super().__init__()
        self.state: ResetState | None = None
        self._deadline: datetime | None = None  # when a new code may be asked for (core's clock)
        self._flow_email = ""  # the email the current flow was started for

    def compose(self) -> ComposeResult:
        yield BrandBar(_("Forgot password"))
        with VerticalScroll(classes="form", id="reset-form"):
            yield Static(_("Reset your password"), classes="title")
            yield Static(_("Enter the email you log on with. If it belongs to an account, we "
                           "will send it a 6-digit code."), classes="hint")
            yield LabelledField(_("Email"), BoundedInput(
                placeholder=_("your log-on ID"), id="reset-email", compact=True),
                Button(_(SEND_LABEL), id="reset-send", variant="primary", compact=True))
            yield SafeStatic("", id="reset-status", classes="hint")
            with Horizontal(classes="button-row", id="reset-channels"):
                yield Button(_("Text my verified phone instead"), id="reset-use-phone",
                             compact=True)
                yield Button(_("Email me instead"), id="reset-use-email", compact=True)
            yield LabelledField(_("Code"), BoundedInput(
                placeholder=_("6 digits"), id="reset-code", compact=True))
            yield LabelledField(_("New password"), BoundedInput(
                placeholder=_("at least 12 characters"), password=True, id="reset-password",
                compact=True))
            yield PasswordStrength(id="reset-password-strength", classes="field-note")
            yield LabelledField(_("Confirm password"), BoundedInput(
                placeholder=_("the same password again"), password=True,
                id="reset-password-confirm", compact=True))
            yield LabelledField(_("MFA code"), BoundedInput(
                placeholder=_("only with virtual MFA on: app or recovery code"),
                id="mfa-code", compact=True))
            with Horizontal(classes="button-row"):
                yield Button(_("Reset"), id="reset-confirm", variant="primary", compact=True)
                yield Button(_("Back to log on"), id="reset-back", compact=True)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.set_interval(1, self._tick)
        self._render_state()
        self.query_one("#reset-email").focus()

    # -- what is shown ----------------------------------------------------------------------

    def _resend_in(self) -> int:
        """Seconds until Send again works, on core's clock (it stands still in tests)."""
        from core import clock

        if self._deadline is None:
            return 0
        return max(0, int((self._deadline - clock.now()).total_seconds() + 0.999))

    def _tick(self) -> None:
        if self.state is None:
            return
        remaining = self._resend_in()
        label = _(RESEND_LABEL)
        self.query_one("#reset-send", Button).label = (
            _("{label} ({seconds} s)").format(label=label, seconds=remaining) if remaining
            else label)

    def _render_state(self) -> None:
        state = self.state
        status = self.query_one("#reset-status", SafeStatic)
        channels = self.query_one("#reset-channels")
        channels.display = state is not None
        if state is None:
            status.update("")
            return
        self.query_one("#reset-use-phone").display = state.channel == "email"
        self.query_one("#reset-use-email").display = state.channel != "email"
        if state.channel == "email":
            where = _("If {email} belongs to an account, a code was sent to it.").format(
                email=state.destination_masked)
        else:
            where = _("If the account has a verified phone number, a code was sent to it by "
                      "text message.")
        status.update(where + " " + _("It is valid for 10 minutes. Tries left: {n}.").format(
            n=state.tries_left))
        self._tick()

    def _set_state(self, state: ResetState) -> None:
        self.state = state
        from datetime import timedelta

        from core import clock

        self._deadline = clock.now() + timedelta(seconds=state.resend_in)
        self._render_state()

    # -- sending ----------------------------------------------------------------------------

    @on(Input.Submitted, "#reset-email")
    @on(Button.Pressed, "#reset-send")
    def _send(self, event: Input.Submitted | Button.Pressed) -> None:
        event.stop()
        self._ask_for_code(self.state.channel if self.state is not None else "email")

    @on(Button.Pressed, "#reset-use-phone")
    def _use_phone(self, event: Button.Pressed) -> None:
        event.stop()
        self._ask_for_code("sms")

    @on(Button.Pressed, "#reset-use-email")
    def _use_email(self, event: Button.Pressed) -> None:
        event.stop()
        self._ask_for_code("email")

    def _ask_for_code(self, channel: str) -> None:
        """A new flow for a (new) email; a resend, or the other channel, for the same one."""
        from core.password_reset import send_reset_code, start_password_reset

        self.clear_errors()
        email = self.query_one("#reset-email", Input).value
        busy = self.query_one("#reset-send", Button)
        if self.state is None or email != self._flow_email:
            self._flow_email = email
            self.call(start_password_reset, email, origin=console_app(self).origin).then(
                self._sent, refused=self._send_refused, busy=busy, group="reset-send")
        else:
            self.call(send_reset_code, self.state.reset_token, channel).then(
                self._sent, refused=self._send_refused, busy=busy, group="reset-send")

    def _sent(self, state: ResetState) -> None:
        self._set_state(state)
        self.query_one("#reset-code").focus()

    def _send_refused(self, error: DomainError) -> None:
        from core.password_reset import FLOW_EXPIRED

        if error.message == FLOW_EXPIRED or self.state is None:
            self.state = None  # a new email starts afresh
            self._render_state()
        self.show_refusal(error)

    # -- resetting --------------------------------------------------------------------------

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        for line in self.query(f"#{event.input.id}-error").results(FieldError):
            line.clear()
        if event.input.id in ("reset-password", "reset-email"):
            self.query_one(PasswordStrength).measure(
                self.query_one("#reset-password", Input).value,
                self.query_one("#reset-email", Input).value)

    @on(Input.Submitted, "#reset-code, #reset-password")
    def _next_field(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    @on(Input.Submitted, "#reset-password-confirm, #mfa-code")
    @on(Button.Pressed, "#reset-confirm")
    def _reset(self, event: Input.Submitted | Button.Pressed) -> None:
        """Enter in the confirmation (the MFA code is asked for only when needed) or in the
        MFA code, or **Reset**."""
        from core.password_reset import complete_password_reset

        event.stop()
        if self.state is None:
            self.clear_errors()
            self.query_one("#reset-email-error", FieldError).show(
                _("Enter your email and press Send to get a code first."))
            self.query_one("#reset-email").focus()
            return

        def value(selector: str) -> str:
            return self.query_one(selector, Input).value

        self.call(complete_password_reset, self.state.reset_token, value("#reset-code"),
                  value("#reset-password"), value("#reset-password-confirm"),
                  value("#mfa-code") or None).then(
            self._reset_done, refused=self._reset_refused,
            busy=self.query_one("#reset-confirm", Button), group="reset-confirm")

    def _reset_done(self, _done: PasswordResetDone) -> None:
        self.post_message(GoTo("log-on", _(RESET_DONE)))

    def _reset_refused(self, error: DomainError) -> None:
        """Every field's refusal at once; a wrong code or MFA code is typed again."""
        from core.errors import CodeError

        if isinstance(error, CodeError) and error.field in ("reset-code", "mfa-code"):
            field = self.query_one(f"#{error.field}", Input)
            with field.prevent(Input.Changed):
                field.value = ""
        if error.field == "reset-email":  # the flow expired: Send again starts a new one
            self.state = None
            self._render_state()
        self.show_refusal(error)
        if self.state is not None and error.field == "reset-code":
            from core.password_reset import reset_state

            self.call(reset_state, self.state.reset_token).then(
                self._set_state, refused=lambda _error: None, group="reset-state")

    @on(Button.Pressed, "#reset-back")
    def _back_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_back()

    def action_back(self) -> None:
        self.post_message(GoTo("log-on"))
