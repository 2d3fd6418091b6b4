"""Remove a payment method after re-entering the password (F5). Returns True when removed."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label

from tui.widgets.bounded_input import BoundedInput
from tui.widgets.core_work import CoreWork, call_core
from tui.widgets.safe_text import FieldError, SafeStatic


class RemoveMethodModal(CoreWork, ModalScreen[bool]):
    """`#remove-password`, `#remove-confirm`, `#remove-cancel`; errors in `#remove-error`."""

    BINDINGS = [Binding("escape", "close", "Cancel", id="remove-method.close")]

    DEFAULT_CSS = """
    RemoveMethodModal #remove-window {
        height: auto;
        width: 64;
    }
    RemoveMethodModal .field-row {
        height: auto;
        margin-top: 1;
    }
    RemoveMethodModal .field-label {
        width: 12;
    }
    RemoveMethodModal #remove-error {
        margin-top: 1;
    }
    """

    def __init__(self, method_id: int, display: str) -> None:
        super().__init__()
        self.method_id = method_id
        self.method_display = display

    def compose(self) -> ComposeResult:
        with Vertical(id="remove-window", classes="window"):
            yield SafeStatic(f"Remove {self.method_display}? Enter your password to confirm.",
                             id="remove-question")
            with Horizontal(classes="field-row"):
                yield Label("Password", classes="field-label")
                yield BoundedInput(id="remove-password", password=True, compact=True)
            yield FieldError("remove")
            with Horizontal(classes="button-row"):
                yield Button("Remove", id="remove-confirm", variant="error", compact=True)
                yield Button("Cancel", id="remove-cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#remove-window").border_title = "Remove a payment method"
        self.query_one("#remove-password").focus()

    @on(Button.Pressed, "#remove-confirm")
    @on(Input.Submitted, "#remove-password")
    def _confirm(self, event: Button.Pressed | Input.Submitted) -> None:
        event.stop()
        if not self.start_busy("remove-method", self.query_one("#remove-confirm", Button)):
            return
        self.query_one("#remove-error", FieldError).clear()
        self.remove_method(self.query_one("#remove-password", Input).value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="remove-method")
    def remove_method(self, password: str):
        from core.payments import remove_method

        return call_core(remove_method, self.app.token, self.method_id, password)

    @on(Button.Pressed, "#remove-cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_close()

    def action_close(self) -> None:
        if not self.is_busy("remove-method"):
            self.dismiss(False)

    def core_done(self, group: str, result: Any) -> None:
        if group == "remove-method":
            self.dismiss(True)

    def core_refused(self, group: str, error: Exception) -> None:
        self.query_one("#remove-password", Input).value = ""
        self.query_one("#remove-error", FieldError).show(getattr(error, "message", str(error)))
        self.query_one("#remove-password").focus()
