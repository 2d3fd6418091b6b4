"""F3: log on with email and password; with virtual MFA on (F13), a second step asks for the
authenticator code or a recovery code.

Step one calls `core.accounts.log_on`, which answers a `LogOnResult` (logged on) or an
`MfaRequired` (the password was right, the code is still to come). Step two calls
`complete_mfa_log_on` with the pending token. A connection whose trusted SSH key is not a
security key opens straight at step two (SPEC F13: the key stands for the password, not for
the code): the app passes that MfaRequired in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Input, Static

from core.i18n import N_, _, translate
from tui.core_calls import CallsCore
from tui.navigation import GoTo, LoggedOn, SessionEnded
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.brand_bar import BrandBar
from tui.widgets.console_app import console_app
from tui.widgets.field import LabelledField
from tui.widgets.footer import ConsoleFooter
from tui.widgets.safe_text import FieldError, SafeStatic

if TYPE_CHECKING:
    from core.accounts import LogOnResult, MfaRequired
    from core.errors import DomainError


class LogOnScreen(CallsCore, Screen):
    """`#email`, `#password`, `#log-on`, `#free-account`, `#forgot-password`; then, with MFA
    on, `#mfa-code` and `#mfa-verify`. Errors: `#log-on-error`, `#mfa-code-error`."""

    FORM_ERROR = "log-on"
    BINDINGS = [Binding("escape", "back", N_("Back"), id="log-on.back")]

    def __init__(self, message: str | None = None, *, mfa: MfaRequired | None = None,
                 by_key: bool = False) -> None:
        """`message`: said above the form (e.g. after a password reset). `mfa`: open at the
        second step (`by_key`: a trusted SSH key stood for the password)."""
        super().__init__()
        self.message = message
        self.pending: MfaRequired | None = mfa
        self.by_key = by_key

    def compose(self) -> ComposeResult:
        yield BrandBar(_("Log on"))
        with VerticalScroll(classes="form"):
            yield Static(_("Log on to your account"), classes="title")
            yield SafeStatic(translate(self.message or ""), id="log-on-message",
                             classes="-shown" if self.message else "")
            with Vertical(id="password-step"):
                yield LabelledField(_("Email"), BoundedInput(
                    placeholder=_("your log-on ID"), id="email", compact=True))
                yield LabelledField(_("Password"), BoundedInput(
                    password=True, id="password", compact=True))
                yield FieldError("log-on", classes="field-note")
                with Horizontal(classes="button-row"):
                    yield Button(_("Log on"), id="log-on", variant="primary", compact=True)
                    yield Button(_("Free account"), id="free-account", compact=True)
                    yield Button(_("Forgot password?"), id="forgot-password", compact=True)
            with Vertical(id="mfa-step"):
                yield SafeStatic(self._mfa_intro() if self.pending is not None else "",
                                 id="mfa-intro")
                yield LabelledField(_("MFA code"), BoundedInput(
                    placeholder=_("6 digits, or a recovery code"), id="mfa-code",
                    compact=True))
                with Horizontal(classes="button-row"):
                    yield Button(_("Verify"), id="mfa-verify", variant="primary",
                                 compact=True)
                    yield Button(_("Back"), id="mfa-back", compact=True)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        if self.pending is not None:
            self._show_mfa_step(self.pending)
        else:
            self.query_one("#email").focus()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        for line in self.query(f"#{event.input.id}-error").results(FieldError):
            line.clear()
        if event.input.id in ("email", "password"):
            self.query_one("#log-on-error", FieldError).clear()

    # -- step one: email and password -------------------------------------------------------

    @on(Input.Submitted, "#email")
    def _email_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#password").focus()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#log-on")
    def _log_on(self, event: Input.Submitted | Button.Pressed) -> None:
        from core.accounts import log_on

        event.stop()
        app = console_app(self)
        self.call(log_on, self.query_one("#email", Input).value,
                  self.query_one("#password", Input).value, origin=app.origin,
                  key_fingerprint=app.key_fingerprint, key_algorithm=app.key_algorithm,
                  ).then(self._password_right, refused=self._password_refused,
                         busy=self.query_one("#log-on", Button))

    def _password_right(self, result: LogOnResult | MfaRequired) -> None:
        from core.accounts import MfaRequired

        if isinstance(result, MfaRequired):
            self._show_mfa_step(result)
        else:
            self.post_message(LoggedOn(result))

    def _password_refused(self, error: DomainError) -> None:
        """Beside its field; a wrong email or password empties the password (typed again)
        and focus waits there, the email kept."""
        self.show_refusal(error)
        if error.field in (None, "log-on"):
            password = self.query_one("#password", Input)
            with password.prevent(Input.Changed):
                password.value = ""
            password.focus()

    @on(Button.Pressed, "#free-account")
    def _free_account(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(GoTo("sign-up"))

    @on(Button.Pressed, "#forgot-password")
    def _forgot_password(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(GoTo("forgot-password"))

    # -- step two: the authenticator or a recovery code -------------------------------------

    def _show_mfa_step(self, pending: MfaRequired) -> None:
        self.pending = pending
        self.query_one("#mfa-intro", SafeStatic).update(self._mfa_intro())
        self.clear_errors()
        self.add_class("-mfa")
        self.query_one("#mfa-code", Input).focus()

    def _mfa_intro(self) -> str:
        """The second step's first line, in the console's language."""
        assert self.pending is not None
        intro = (_("Your SSH key is trusted. Virtual MFA is on for {email}: enter the 6-digit "
                   "code from your authenticator app, or one of your recovery codes.")
                 if self.by_key else
                 _("Virtual MFA is on for {email}: enter the 6-digit code from your "
                   "authenticator app, or one of your recovery codes."))
        return intro.format(email=self.pending.email_masked)

    def _show_password_step(self, message: str | None = None) -> None:
        self.pending = None
        self.by_key = False
        self.remove_class("-mfa")
        code = self.query_one("#mfa-code", Input)
        with code.prevent(Input.Changed):
            code.value = ""
        password = self.query_one("#password", Input)
        with password.prevent(Input.Changed):
            password.value = ""
        self.clear_errors()
        if message:
            self.query_one("#log-on-error", FieldError).show(message)
        email = self.query_one("#email", Input)
        (password if email.value else email).focus()

    @on(Input.Submitted, "#mfa-code")
    @on(Button.Pressed, "#mfa-verify")
    def _verify(self, event: Input.Submitted | Button.Pressed) -> None:
        from core.accounts import complete_mfa_log_on

        event.stop()
        if self.pending is None:
            return
        self.call(complete_mfa_log_on, self.pending.pending_token,
                  self.query_one("#mfa-code", Input).value).then(
            self._code_right, refused=self._code_refused,
            busy=self.query_one("#mfa-verify", Button))

    def _code_right(self, result: LogOnResult) -> None:
        self.post_message(LoggedOn(result))

    def _code_refused(self, error: DomainError) -> None:
        from core.errors import CodeError

        if isinstance(error, CodeError):  # typed again, never kept
            code = self.query_one("#mfa-code", Input)
            with code.prevent(Input.Changed):
                code.value = ""
        self.show_refusal(error)
        self.query_one("#mfa-code").focus()

    def on_session_ended(self, message: SessionEnded) -> None:
        """The second step expired or was used (nobody is logged on here): log on again."""
        message.stop()
        self._show_password_step(message.message)

    @on(Button.Pressed, "#mfa-back")
    def _mfa_back(self, event: Button.Pressed) -> None:
        event.stop()
        self._show_password_step()

    def action_back(self) -> None:
        if self.pending is not None:
            self._show_password_step()
        else:
            self.post_message(GoTo("welcome"))
