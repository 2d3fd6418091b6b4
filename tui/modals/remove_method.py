"""Remove a payment method after re-entering the password (F5). Returns True when removed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from core.i18n import N_, _, translate
from tui.core_calls import CallsCore
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.footer import ConsoleFooter
from tui.widgets.safe_text import FieldError, SafeStatic

if TYPE_CHECKING:
    from core.errors import DomainError


class RemoveMethodModal(CallsCore, ModalScreen[bool]):
    """`#remove-password`, `#remove-confirm`, `#remove-cancel`; errors in `#remove-error`."""

    BINDINGS = [Binding("escape", "close", N_("Cancel"), id="remove-method.close")]


    def __init__(self, method_id: int, display: str, token: str | None = None) -> None:
        super().__init__()
        self.token = token
        self.method_id = method_id
        self.method_display = display

    def compose(self) -> ComposeResult:
        window = Vertical(id="remove-window", classes="window")
        window.border_title = _("Remove a payment method")
        with window:
            yield SafeStatic(_("Remove {method}? Enter your password to confirm.").format(
                method=self.method_display), id="remove-question")
            with Horizontal(classes="field-row"):
                yield Label(_("Password"), classes="field-label")
                yield BoundedInput(id="remove-password", password=True, compact=True)
            yield FieldError("remove")
            with Horizontal(classes="button-row"):
                yield Button(_("Remove"), id="remove-confirm", variant="error", compact=True)
                yield Button(_("Cancel"), id="remove-cancel", compact=True)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#remove-password").focus()

    @on(Button.Pressed, "#remove-confirm")
    @on(Input.Submitted, "#remove-password")
    def _confirm(self, event: Button.Pressed | Input.Submitted) -> None:
        event.stop()
        from core.payments import remove_method

        self.query_one("#remove-error", FieldError).clear()
        self.call(remove_method, self.token, self.method_id,
                  self.query_one("#remove-password", Input).value).then(
            self._removed, refused=self._refused,
            busy=self.query_one("#remove-confirm", Button))

    @on(Button.Pressed, "#remove-cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_close()

    def action_close(self) -> None:
        if not self.is_busy("remove_method"):
            self.dismiss(False)

    def _removed(self, _result: object) -> None:
        self.dismiss(True)  # not awaited: this runs in the modal's own handler

    def _refused(self, error: DomainError) -> None:
        self.query_one("#remove-password", Input).value = ""
        self.query_one("#remove-error", FieldError).show(translate(error.message))
        self.query_one("#remove-password").focus()
