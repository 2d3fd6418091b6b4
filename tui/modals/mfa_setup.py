"""Enable virtual MFA (SPEC F13): the new secret as a QR code and as base32 text, the current
code from the authenticator app to bind it, then the ten recovery codes, shown once.

The Security section asks the core for the secret (`core.mfa.begin_mfa_setup`, behind a
step-up) and opens this window with it; binding (`core.mfa.bind_mfa`) happens here. The window
returns the `MfaEnabled` result once bound, or None when closed before (nothing is on then).

At 80×24 the QR code (45×23 with its quiet zone) takes the left of the screen and the key, the
code field and the buttons the right; the window has no border or footer then, so the code is
never cut (app.tcss, the account region).
"""

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
from tui.modals.recovery_codes import RecoveryCodes
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.qr_code import QrCode
from tui.widgets.safe_text import FieldError, SafeStatic

if TYPE_CHECKING:
    from core.mfa import MfaEnabled, MfaSetup


class MfaSetupModal(CallsCore, ModalScreen["MfaEnabled | None"]):
    """`#mfa-secret`, the QR code `#mfa-qr`, `#mfa-code`, `#mfa-bind`, `#mfa-cancel`; once bound
    `#recovery-codes` and `#mfa-done`. Errors: `#mfa-code-error`, the form's `#mfa-error`."""

    FORM_ERROR = "mfa"
    BINDINGS = [Binding("escape", "close", N_("Cancel"), id="mfa-setup.close")]

    def __init__(self, token: str | None, setup: MfaSetup) -> None:
        super().__init__()
        self.token = token
        self.setup = setup
        self.enabled: MfaEnabled | None = None

    def compose(self) -> ComposeResult:
        setup = self.setup
        with Horizontal(id="mfa-setup-window", classes="window"):
            yield QrCode(setup.uri, id="mfa-qr")
            with Vertical(id="mfa-setup-side"):
                yield Static(_("Enable virtual MFA"), classes="title", markup=False)
                yield Static(_("1. Scan the QR code with an authenticator app, or type this "
                               "key in it:"), markup=False)
                yield SafeStatic(setup.secret, id="mfa-secret")
                yield SafeStatic(f"{setup.issuer} ({setup.account_name})", id="mfa-account",
                                 classes="hint")
                yield Static(_("2. Type the 6-digit code the app shows:"), id="mfa-code-label",
                             markup=False)
                yield BoundedInput(placeholder=_("6 digits"), id="mfa-code", compact=True)
                yield FieldError("mfa-code")
                yield FieldError("mfa")
                with Horizontal(classes="button-row"):
                    yield Button(_("Turn on"), id="mfa-bind", variant="primary", compact=True)
                    yield Button(_("Cancel"), id="mfa-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#mfa-code").focus()

    @on(Input.Submitted, "#mfa-code")
    @on(Button.Pressed, "#mfa-bind")
    def _bind(self, event: Input.Submitted | Button.Pressed) -> None:
        from core.mfa import bind_mfa

        event.stop()
        self.clear_errors()
        code = self.query_one("#mfa-code", Input).value
        self.call(bind_mfa, self.token, code).then(
            self._bound, busy=self.query_one("#mfa-bind", Button))

    async def _bound(self, enabled: MfaEnabled) -> None:
        """On now: the secret leaves the screen, the recovery codes take its place."""
        self.enabled = enabled
        await self.query_one("#mfa-setup-window").remove()
        window = Vertical(id="mfa-codes-window", classes="window")
        window.border_title = _("Virtual MFA is on")
        await self.mount(window)
        await window.mount(Static(_("From now on, log on with your password and the code "
                                    "from your authenticator app."), markup=False),
                           RecoveryCodes(enabled.recovery_codes))
        self.query_one("#mfa-done").focus()

    @on(Button.Pressed, "#mfa-done")
    @on(Button.Pressed, "#mfa-cancel")
    def _close_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_close()

    def action_close(self) -> None:
        if not self.is_busy("bind_mfa"):
            self.dismiss(self.enabled)
