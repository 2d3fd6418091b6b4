"""Change password (F9): the current password, a new one with its live strength, and the new one
again, and whether to remove the trusted SSH keys too (checked by default). On success every
other session of the account ends; the window returns how many, and how many keys went."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Checkbox, Input, Static

from core.i18n import N_, _, ngettext
from tui.core_calls import CallsCore
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.field import LabelledField
from tui.widgets.footer import ConsoleFooter
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
    text = ngettext("Password changed; {n} other session was logged off.",
                    "Password changed; {n} other sessions were logged off.", ended).format(n=ended)
    keys = result.keys_removed
    if keys:
        text = _("{sessions} {keys}").format(sessions=text, keys=ngettext(
            "{n} trusted SSH key was removed.", "{n} trusted SSH keys were removed.",
            keys).format(n=keys))
    return text


def measure_strength(password: str, email: str) -> Strength:
    """The live meter's reading, with the email's name counted as guessable (as core does)."""
    from core.validation import password_strength

    local = email.rsplit("@", 1)[0] if "@" in email else ""
    return password_strength(password, tuple(x for x in (local, email) if x))


class ChangePasswordModal(CallsCore, ModalScreen["PasswordChanged | None"]):
    """Returns what the change did (sessions ended, keys removed), or None when closed without
    a change. Every field's error is shown at once, beside it (core's FormErrors)."""

    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="change-password.cancel"),
        Binding("ctrl+s", "save", N_("Change password"), id="change-password.save"),
    ]

    def __init__(self, token: str | None, email: str = "") -> None:
        super().__init__()
        self.token = token
        self.email = email
        self._strength_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        window = Vertical(id="change-password-window", classes="window")
        window.border_title = _("Change password")
        with window, VerticalScroll(id="change-password-body"):
            yield Static(_("Other sessions of your account are logged off when the "
                           "password changes; this one stays."), classes="hint", markup=False)
            yield LabelledField(_("Current password"), BoundedInput(
                password=True, id="current-password", compact=True))
            yield LabelledField(_("New password"), BoundedInput(
                placeholder=_("at least 12 characters"), password=True, id="new-password",
                compact=True))
            yield PasswordStrength(id="new-password-strength", classes="field-note")
            yield LabelledField(_("Confirm password"), BoundedInput(
                placeholder=_("the new password again"), password=True,
                id="new-password-confirm", compact=True))
            # A key trusted by whoever knew the old password would go on opening the console.
            yield Checkbox(_("Also remove my trusted SSH keys"), value=True,
                           id="remove-trusted-keys", compact=True)
            with Horizontal(classes="button-row"):
                yield Button(_("Change password"), id="change-password-save",
                             variant="primary", compact=True)
                yield Button(_("Cancel"), id="change-password-cancel", compact=True)
        yield ConsoleFooter()

    def on_mount(self) -> None:
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
        meter = self.query_one(PasswordStrength)
        if not password:
            meter.show(None)
            return
        self.call(measure_strength, password, self.email).then(meter.show)

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
        if not self.is_busy("change_password"):
            self.dismiss(None)

    def action_save(self) -> None:
        from core.security import change_password

        current, new, confirmation = (self.query_one(f"#{field}", Input).value
                                      for field in FIELDS)
        self.clear_errors()
        self.call(change_password, self.token, current, new, confirmation,
                  remove_trusted_keys=self.query_one("#remove-trusted-keys", Checkbox).value
                  ).then(self._changed_password,
                         busy=self.query_one("#change-password-save", Button))

    def _changed_password(self, result: PasswordChanged) -> None:
        self.dismiss(result)
