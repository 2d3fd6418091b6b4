"""Turn off virtual MFA (SPEC F13): a current code (or a recovery code) and the password, both,
so that neither a stolen phone nor a stolen password alone can take the protection away.
Returns the new `MfaStatus`, or None when closed without a change. A notice is emailed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from core.i18n import N_, _
from tui.core_calls import CallsCore
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.field import LabelledField
from tui.widgets.footer import ConsoleFooter
from tui.widgets.safe_text import FieldError

if TYPE_CHECKING:
    from core.mfa import MfaStatus


class MfaDisableModal(CallsCore, ModalScreen["MfaStatus | None"]):
    """`#mfa-code`, `#password`, `#mfa-disable-confirm`, `#mfa-disable-cancel`; errors beside
    the fields (`#mfa-code-error`, `#password-error`) and in `#mfa-disable-error`."""

    FORM_ERROR = "mfa-disable"
    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="mfa-disable.cancel")]

    def __init__(self, token: str | None) -> None:
        super().__init__()
        self.token = token

    def compose(self) -> ComposeResult:
        window = Vertical(id="mfa-disable-window", classes="window")
        window.border_title = _("Turn off virtual MFA")
        with window:
            yield Static(_("Without virtual MFA, your password alone opens your account. "
                           "Your recovery codes stop working."), markup=False)
            yield LabelledField(_("Code"), BoundedInput(
                id="mfa-code", compact=True, placeholder=_("6 digits, or a recovery code")))
            yield LabelledField(_("Password"), BoundedInput(
                id="password", password=True, compact=True, placeholder=_("your password")))
            yield FieldError("mfa-disable", classes="field-note")
            with Horizontal(classes="button-row"):
                yield Button(_("Turn off MFA"), id="mfa-disable-confirm", variant="error",
                             compact=True)
                yield Button(_("Cancel"), id="mfa-disable-cancel", compact=True)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#mfa-code").focus()

    @on(Input.Submitted, "#mfa-code")
    def _next(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#password").focus()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#mfa-disable-confirm")
    def _confirm(self, event: Input.Submitted | Button.Pressed) -> None:
        from core.mfa import disable_mfa

        event.stop()
        self.clear_errors()
        code = self.query_one("#mfa-code", Input).value
        password = self.query_one("#password", Input).value
        self.call(disable_mfa, self.token, code, password).then(
            self._turned_off, busy=self.query_one("#mfa-disable-confirm", Button))

    def _turned_off(self, status: MfaStatus) -> None:
        self.dismiss(status)

    @on(Button.Pressed, "#mfa-disable-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_cancel(self) -> None:
        if not self.is_busy("disable_mfa"):
            self.dismiss(None)
