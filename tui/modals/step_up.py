"""Step-up (SPEC F13): the small modal a sensitive action opens when the core asks for a fresh
proof — the authenticator or a recovery code with MFA on, the password without.

It dismisses with True once `core.step_up.step_up` accepted the proof (the action is then
retried by tui/core_calls.py), or False when cancelled (nothing happened).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input

from core.i18n import N_, _
from tui.core_calls import CallsCore
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.console_app import console_app
from tui.widgets.field import LabelledField
from tui.widgets.footer import ConsoleFooter
from tui.widgets.safe_text import SafeStatic

if TYPE_CHECKING:
    from core.errors import DomainError


class StepUpModal(CallsCore, ModalScreen[bool]):
    """`#step-up-code`, `#step-up-confirm`, `#step-up-cancel`; errors in `#step-up-code-error`
    (CONTRACT's `#step-up-error` is the form's line)."""

    FORM_ERROR = "step-up"
    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="step-up.cancel")]

    def __init__(self, reason: str, method: str) -> None:
        super().__init__()
        self.reason = reason
        self.method = method

    def compose(self) -> ComposeResult:
        from tui.widgets.safe_text import FieldError

        code = self.method == "code"
        window = Vertical(id="step-up-window", classes="window")
        window.border_title = _("Confirm it is you")
        with window:
            yield SafeStatic(self.reason, id="step-up-reason")
            yield LabelledField(
                _("Code") if code else _("Password"),
                BoundedInput(id="step-up-code", password=not code, compact=True,
                             placeholder=_("6 digits, or a recovery code") if code
                             else _("your password")))
            yield FieldError("step-up", classes="field-note")
            with Horizontal(classes="button-row"):
                yield Button(_("Confirm"), id="step-up-confirm", variant="primary", compact=True)
                yield Button(_("Cancel"), id="step-up-cancel", compact=True)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#step-up-code").focus()

    @on(Input.Submitted, "#step-up-code")
    @on(Button.Pressed, "#step-up-confirm")
    def _confirm(self, event: Input.Submitted | Button.Pressed) -> None:
        from core.step_up import step_up

        event.stop()
        self.clear_errors()
        field = self.query_one("#step-up-code", Input)
        self.call(step_up, console_app(self).token, field.value).then(
            self._stepped_up, refused=self._refused,
            busy=self.query_one("#step-up-confirm", Button))

    def _stepped_up(self, _grant: object) -> None:
        self.dismiss(True)

    def _refused(self, error: DomainError) -> None:
        field = self.query_one("#step-up-code", Input)
        with field.prevent(Input.Changed):
            field.value = ""  # a wrong code or password is typed again, never kept
        self.show_refusal(error)
        field.focus()

    @on(Button.Pressed, "#step-up-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(False)
