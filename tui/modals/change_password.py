"""Change password (F9): the current password, a new one with its live strength, and the new one
again, and whether to remove the trusted SSH keys too (checked by default). On success every
other session of the account ends; the window returns how many, and how many keys went."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Checkbox, Footer, Input, Label, Static

from tui.widgets.bounded_input import BoundedInput
from tui.widgets.core_work import CoreWork, call_core
from tui.widgets.password_strength import PasswordStrength
from tui.widgets.safe_text import FieldError

if TYPE_CHECKING:
    from core.security import PasswordChanged
    from core.validation import Strength

FIELDS = ("current-password", "new-password", "new-password-confirm")
STRENGTH_DELAY = 0.25


def password_changed_message(result: PasswordChanged) -> str:
    """"Password changed; N other sessions were logged off." (singular for one), and how many
    trusted SSH keys were removed with it, if any."""
    ended = result.sessions_ended
    text = ("Password changed; 1 other session was logged off." if ended == 1
            else f"Password changed; {ended} other sessions were logged off.")
    keys = result.keys_removed
    if keys:
        text += (" 1 trusted SSH key was removed." if keys == 1
                 else f" {keys} trusted SSH keys were removed.")
    return text


class ChangePasswordModal(CoreWork, ModalScreen["PasswordChanged | None"]):
    """Returns what the change did (sessions ended, keys removed), or None when closed without
    a change."""

    DEFAULT_CSS = """
    ChangePasswordModal #change-password-window {
        height: auto;
        max-height: 100%;
    }
    ChangePasswordModal #change-password-body {
        height: auto;
        max-height: 1fr;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="change-password.cancel"),
        Binding("ctrl+s", "save", "Change password", id="change-password.save"),
    ]

    def __init__(self, email: str = "") -> None:
        super().__init__()
        self.email = email
        self._strength_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with (Vertical(id="change-password-window", classes="window"),
              VerticalScroll(id="change-password-body")):
            yield Static("Other sessions of your account are logged off when the "
                         "password changes; this one stays.", classes="hint")
            with Horizontal(classes="field-row"):
                yield Label("Current password", classes="field-label")
                yield BoundedInput(password=True, id="current-password", compact=True)
            yield FieldError("current-password", classes="field-note")
            with Horizontal(classes="field-row"):
                yield Label("New password", classes="field-label")
                yield BoundedInput(placeholder="at least 12 characters", password=True,
                                   id="new-password", compact=True)
            yield PasswordStrength(id="new-password-strength", classes="field-note")
            yield FieldError("new-password", classes="field-note")
            with Horizontal(classes="field-row"):
                yield Label("Confirm password", classes="field-label")
                yield BoundedInput(placeholder="the new password again", password=True,
                                   id="new-password-confirm", compact=True)
            yield FieldError("new-password-confirm", classes="field-note")
            # A key trusted by whoever knew the old password would go on opening the console.
            yield Checkbox("Also remove my trusted SSH keys", value=True,
                           id="remove-trusted-keys", compact=True)
            with Horizontal(classes="button-row"):
                yield Button("Change password", id="change-password-save",
                             variant="primary", compact=True)
                yield Button("Cancel", id="change-password-cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#change-password-window").border_title = "Change password"
        self.query_one("#current-password").focus()

    # -- live strength ------------------------------------------------------------------

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        field = event.input.id or ""
        if field in FIELDS:
            self.query_one(f"#{field}-error", FieldError).clear()
        if field == "new-password":
            if self._strength_timer is not None:
                self._strength_timer.stop()
            self._strength_timer = self.set_timer(STRENGTH_DELAY, self._measure)

    def _measure(self) -> None:
        password = self.query_one("#new-password", Input).value
        if not password:
            self.query_one(PasswordStrength).show(None)
            return
        self.measure(password, self.email)

    @work(thread=True, exclusive=True, exit_on_error=False, group="strength")
    def measure(self, password: str, email: str) -> Strength:
        from core.validation import password_strength

        local = email.rsplit("@", 1)[0] if "@" in email else ""
        return password_strength(password, tuple(x for x in (local, email) if x))

    # -- actions ------------------------------------------------------------------------

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "new-password-confirm":
            self.action_save()
        else:
            self.focus_next()

    @on(Button.Pressed, "#change-password-save")
    def _save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_save()

    @on(Button.Pressed, "#change-password-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_cancel(self) -> None:
        if not self.is_busy("change-password"):
            self.dismiss(None)

    def action_save(self) -> None:
        if not self.start_busy("change-password",
                               self.query_one("#change-password-save", Button)):
            return
        for error in self.query(FieldError):
            error.clear()
        self.submit(*(self.query_one(f"#{field}", Input).value for field in FIELDS),
                    remove_keys=self.query_one("#remove-trusted-keys", Checkbox).value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="change-password")
    def submit(self, current: str, new: str, confirmation: str, *,
               remove_keys: bool) -> PasswordChanged:
        from core.security import change_password

        return call_core(change_password, self.app.token,  # type: ignore[attr-defined]
                         current, new, confirmation, remove_trusted_keys=remove_keys)

    def core_done(self, group: str, result: Any) -> None:
        if group == "strength":
            self.query_one(PasswordStrength).show(result)
        elif group == "change-password":
            self.dismiss(result)

    def core_refused(self, group: str, error: Exception) -> None:
        if group != "change-password":
            return
        field = getattr(error, "field", None)
        if field not in FIELDS:
            field = "current-password"
        self.query_one(f"#{field}-error", FieldError).show(str(error))
        self.query_one(f"#{field}").focus()
