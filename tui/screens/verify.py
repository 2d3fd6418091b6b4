"""F2: verify a new account by email (default) or phone, then open the console."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Static

from core.i18n import N_, _
from tui.core_calls import CallsCore
from tui.navigation import LoggedOff, Verified
from tui.widgets.brand_bar import BrandBar
from tui.widgets.code_verifier import CodeVerifier
from tui.widgets.console_app import console_app
from tui.widgets.footer import ConsoleFooter


class VerifyScreen(CallsCore, Screen):
    """Shown after sign-up, and after log-on of an account that is still unverified."""

    BINDINGS = [
        Binding("ctrl+l", "log_off", N_("Log off"), id="verify.log-off"),
    ]

    def compose(self) -> ComposeResult:
        yield BrandBar(_("Verify your account"))
        with VerticalScroll(classes="form"):
            yield Static(_("Verify your account"), classes="title")
            yield Static(_("Use your email (the default) or your phone. If you verify with "
                           "email now, you will verify your phone when you add your billing "
                           "address, and the other way around."), classes="hint")
            yield CodeVerifier("signup", id="verifier")
            with Horizontal(classes="button-row"):
                yield Button(_("Log off"), id="log-off", compact=True)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#send").focus()

    @on(CodeVerifier.Verified)
    def _verified(self, event: CodeVerifier.Verified) -> None:
        event.stop()
        self.post_message(Verified())

    @on(Button.Pressed, "#log-off")
    def _log_off_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_log_off()

    def action_log_off(self) -> None:
        """End the session in the core; the app then shows Welcome."""
        from core.accounts import log_off

        self.call(log_off, console_app(self).token).then(
            lambda _: self.post_message(LoggedOff()), busy=self.query_one("#log-off", Button))
