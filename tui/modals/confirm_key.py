"""Confirm trusting or removing an SSH key (F11): the key's SHA256 fingerprint and what the action
changes. Returns True to go ahead, False (Cancel, Escape) to change nothing.

A trusted key opens the console without a password, so neither action happens on one press;
after this the core asks for a step-up (SPEC F13), which the Security section's call opens."""

from __future__ import annotations

from typing import Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button

from core.i18n import N_, _
from tui.widgets.footer import ConsoleFooter
from tui.widgets.safe_text import SafeStatic, clean_text

KeyAction = Literal["trust", "remove"]

QUESTIONS: dict[KeyAction, tuple[str, str, str]] = {
    # action → (window title, question, button), translated where shown
    "trust": (N_("Trust this key"),
              N_("Trust this SSH key? Later connections with it open your console logged on, "
                 "without a password."), N_("Trust this key")),
    "remove": (N_("Remove a trusted key"),
               N_("Remove this trusted SSH key? Connections with it will ask for your password "
                  "again; sessions already open with it go on until they end."),
               N_("Remove key")),
}


class ConfirmKeyModal(ModalScreen[bool]):
    """`#confirm-key-fingerprint`, `#confirm-key` (go ahead), `#confirm-key-cancel`."""

    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="confirm-key.cancel")]

    def __init__(self, action: KeyAction, fingerprint: str) -> None:
        super().__init__()
        self.action = action
        self.fingerprint = fingerprint

    def compose(self) -> ComposeResult:
        question, button = (_(text) for text in QUESTIONS[self.action][1:])
        window = Vertical(id="confirm-key-window", classes="window")
        window.border_title = _(QUESTIONS[self.action][0])
        with window:
            yield SafeStatic(question, id="confirm-key-question")
            yield SafeStatic(clean_text(self.fingerprint), id="confirm-key-fingerprint")
            with Horizontal(classes="button-row"):
                yield Button(button, id="confirm-key",
                             variant="error" if self.action == "remove" else "primary",
                             compact=True)
                yield Button(_("Cancel"), id="confirm-key-cancel", compact=True)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#confirm-key-cancel").focus()  # Enter alone changes nothing

    @on(Button.Pressed, "#confirm-key")
    def _confirm(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-key-cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(False)
