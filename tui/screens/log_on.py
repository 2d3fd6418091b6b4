"""F3: log on with email and password."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from tui.navigation import GoTo, LoggedOn
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.brand_bar import BrandBar
from tui.widgets.core_work import CoreWork, call_core
from tui.widgets.safe_text import FieldError


class LogOnScreen(CoreWork, Screen):
    """Email and password, then one call to core.accounts.log_on."""

    BINDINGS = [Binding("escape", "back", "Back", id="log-on.back")]

    def compose(self) -> ComposeResult:
        yield BrandBar("Log on")
        with VerticalScroll(classes="form"):
            yield Static("Log on to your account", classes="title")
            with Horizontal(classes="field-row"):
                yield Label("Email", classes="field-label")
                yield BoundedInput(placeholder="your log-on ID", id="email", compact=True)
            yield FieldError("email", classes="field-note")
            with Horizontal(classes="field-row"):
                yield Label("Password", classes="field-label")
                yield BoundedInput(password=True, id="password", compact=True)
            yield FieldError("password", classes="field-note")
            yield FieldError("log-on", classes="field-note")
            with Horizontal(classes="button-row"):
                yield Button("Log on", id="log-on", variant="primary", compact=True)
                yield Button("Free account", id="free-account", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#email").focus()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self.query_one(f"#{event.input.id}-error", FieldError).clear()
        self.query_one("#log-on-error", FieldError).clear()

    @on(Input.Submitted, "#email")
    def _email_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#password").focus()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#log-on")
    def _log_on(self, event: Any) -> None:
        event.stop()
        if not self.start_busy("log-on", self.query_one("#log-on", Button)):
            return
        for error in self.query(FieldError):
            error.clear()
        self.log_on(self.query_one("#email", Input).value,
                    self.query_one("#password", Input).value)

    @on(Button.Pressed, "#free-account")
    def _free_account(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(GoTo("sign-up"))

    def action_back(self) -> None:
        self.post_message(GoTo("welcome"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="log-on")
    def log_on(self, email: str, password: str) -> Any:
        from core.accounts import log_on

        return call_core(log_on, email, password, origin=self.app.origin,  # type: ignore[attr-defined]
                         key_fingerprint=self.app.key_fingerprint,  # type: ignore[attr-defined]
                         key_algorithm=self.app.key_algorithm)  # type: ignore[attr-defined]

    def core_done(self, group: str, result: Any) -> None:
        if group == "log-on":
            self.post_message(LoggedOn(result))

    def core_refused(self, group: str, error: Exception) -> None:
        field = getattr(error, "field", None)
        target = field if field in ("email", "password") else "log-on"
        self.query_one(f"#{target}-error", FieldError).show(str(error))
        password = self.query_one("#password", Input)
        with password.prevent(Input.Changed):
            password.value = ""
        self.query_one("#email" if target == "email" else "#password").focus()
