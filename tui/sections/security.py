"""Security settings (F9): what is verified, change password, recent log-ons, trusted SSH keys
(F11), export my data, and the Delete Account area (F10)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Static

from tui.modals.change_password import ChangePasswordModal, password_changed_message
from tui.modals.confirm_key import ConfirmKeyModal
from tui.modals.delete_account import DeleteAccountModal, hidden, set_line
from tui.widgets.core_work import call_core
from tui.widgets.safe_text import SafeStatic, clean_text
from tui.widgets.section import Section

if TYPE_CHECKING:
    from datetime import datetime

    from core.deletion import DeletionCheck
    from core.security import PasswordChanged, SecurityView, TrustedKeyView

DELETE_AREA_TEXT = (
    "You can delete your account if you no longer use it. Once it is deleted you are logged "
    "out automatically, and you can sign up again with the same email. Before deleting, back "
    "up your data, release all your resources (Subscription and Pay-As-You-Go) and settle "
    "any outstanding charges.")


def _utc(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"


def account_lines(view: SecurityView) -> str:
    email = f"{view.email} ({'verified' if view.email_verified else 'not verified'})"
    phone = f"{view.phone_masked} (verified)" if view.phone_masked else "no verified phone"
    rows = [("Email", email), ("Phone", phone),
            ("Password changed", _utc(view.password_changed_at) if view.password_changed_at
             else "not since sign-up")]
    return "\n".join(f"{label:<18}{value}" for label, value in rows)


class SecuritySection(Section):
    """The Security settings section of the console."""

    DEFAULT_CSS = """
    SecuritySection DataTable {
        height: auto;
        max-height: 12;
        margin-top: 1;
    }
    SecuritySection #security-message {
        color: $text-success;
        margin-top: 1;
    }
    SecuritySection #deletion-status {
        color: $text-warning;
    }
    SecuritySection .button-row Button {
        margin-right: 2;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.security: SecurityView | None = None
        self.pending: DeletionCheck | None = None

    def compose(self) -> ComposeResult:
        yield Static("Security settings", classes="title")
        yield SafeStatic("Loading…", id="security-account")
        yield hidden(SafeStatic("", id="security-message"))
        with Horizontal(classes="button-row"):
            yield Button("Change password", id="change-password", compact=True)

        yield Static("Recent log-ons", classes="subtitle")
        logons: DataTable = DataTable(id="logons", cursor_type="row", zebra_stripes=True)
        logons.add_columns("Time (UTC)", "Where from", "")
        yield logons

        yield Static("Trusted SSH keys", classes="subtitle")
        yield Static("Connections over SSH with a trusted key open the console logged on.",
                     classes="hint")
        keys: DataTable = DataTable(id="trusted-keys", cursor_type="row")
        keys.add_columns("Fingerprint", "Label", "Added (UTC)")
        yield keys
        yield hidden(SafeStatic("", id="keys-message", classes="hint"))
        with Horizontal(classes="button-row", id="key-actions"):
            yield Button("Remove key", id="remove-key", compact=True, disabled=True)

        yield Static("Export my data", classes="subtitle")
        yield Static("A JSON file of everything stored about your account (no passwords or "
                     "other secrets).", classes="hint")
        with Horizontal(classes="button-row"):
            yield Button("Export my data", id="export-data", compact=True)
        yield hidden(SafeStatic("", id="export-path"))

        yield Static("Delete Account", classes="subtitle")
        yield Static(DELETE_AREA_TEXT, classes="hint")
        yield hidden(SafeStatic("", id="deletion-status"))
        with Horizontal(classes="button-row"):
            yield Button("Delete Account…", id="open-delete", variant="error", compact=True)

    def on_mount(self) -> None:
        self.load()

    # -- loading ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="security")
    def load(self) -> tuple[SecurityView, DeletionCheck | None]:
        from core.deletion import deletion_check
        from core.security import security_overview

        def both(token: str | None) -> tuple[SecurityView, DeletionCheck | None]:
            view = security_overview(token)
            pending = deletion_check(token) if view.status == "deletion_pending" else None
            return view, pending

        return call_core(both, self.token)

    async def show(self, view: SecurityView, pending: DeletionCheck | None) -> None:
        self.security, self.pending = view, pending
        self.query_one("#security-account", SafeStatic).update(account_lines(view))

        logons = self.query_one("#logons", DataTable)
        logons.clear()
        for record in view.recent_logons:
            note = "this session" if record.current else ("ended" if record.ended else "")
            logons.add_row(Text(_utc(record.at).removesuffix(" UTC")),
                           Text(clean_text(record.where)), Text(note))
        self.show_keys(view.trusted_keys)

        actions = self.query_one("#key-actions", Horizontal)
        trust = self.query("#trust-this-key")
        if view.can_trust_current_key and not trust:
            await actions.mount(Button("Trust this key", id="trust-this-key", compact=True))
        elif not view.can_trust_current_key and trust:
            await trust.remove()
        current = view.current_key_fingerprint
        set_line(self.query_one("#keys-message", SafeStatic),
            f"This connection's key: {current}" if current else "")

        status = ""
        if view.status == "deletion_pending":
            status = "Deletion pending"
            if view.deletion_requested_at:
                status += f" (requested {_utc(view.deletion_requested_at)})"
            status += ". " + (pending.message if pending else "")
        set_line(self.query_one("#deletion-status", SafeStatic), status.strip())

    def show_keys(self, keys: tuple[TrustedKeyView, ...]) -> None:
        table = self.query_one("#trusted-keys", DataTable)
        table.clear()
        for key in keys:
            table.add_row(Text(clean_text(key.fingerprint)), Text(clean_text(key.label or "")),
                          Text(_utc(key.added_at).removesuffix(" UTC")), key=str(key.id))
        if not keys:
            table.add_row(Text("No trusted keys."), Text(""), Text(""), key="none")
        self.query_one("#remove-key", Button).disabled = not keys

    # -- actions ------------------------------------------------------------------------

    def say(self, text: str) -> None:
        set_line(self.query_one("#security-message", SafeStatic), text)

    @on(Button.Pressed, "#change-password")
    def _change_password(self, event: Button.Pressed) -> None:
        event.stop()
        email = self.security.email if self.security else ""

        def done(result: PasswordChanged | None) -> None:
            if result is not None:
                self.say(password_changed_message(result))
                self.load()

        self.app.push_screen(ChangePasswordModal(email), done)

    @on(Button.Pressed, "#remove-key")
    def _remove_key(self, event: Button.Pressed) -> None:
        event.stop()
        table = self.query_one("#trusted-keys", DataTable)
        if table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if not key or key == "none":
            return
        keys = self.security.trusted_keys if self.security else ()
        fingerprint = next((k.fingerprint for k in keys if str(k.id) == key), "")

        def confirmed(go: bool | None) -> None:
            if go and self.start_busy("remove-key", self.query_one("#remove-key", Button)):
                self.remove_key(key)

        self.app.push_screen(ConfirmKeyModal("remove", fingerprint), confirmed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="remove-key")
    def remove_key(self, key_id: str) -> tuple[TrustedKeyView, ...]:
        from core.security import remove_trusted_key

        return call_core(remove_trusted_key, self.token, key_id)

    @on(Button.Pressed, "#trust-this-key")
    def _trust(self, event: Button.Pressed) -> None:
        event.stop()
        fingerprint = self.security.current_key_fingerprint if self.security else None
        if not fingerprint:
            return

        def confirmed(go: bool | None) -> None:
            trust = self.query("#trust-this-key")
            if go and trust and self.start_busy("trust-key", trust.first(Button)):
                self.trust_key()

        self.app.push_screen(ConfirmKeyModal("trust", fingerprint), confirmed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="trust-key")
    def trust_key(self) -> TrustedKeyView:
        from core.security import trust_current_key

        return call_core(trust_current_key, self.token)

    @on(Button.Pressed, "#export-data")
    def _export(self, event: Button.Pressed) -> None:
        event.stop()
        if self.start_busy("export", self.query_one("#export-data", Button)):
            set_line(self.query_one("#export-path", SafeStatic), "Writing the export…")
            self.export()

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def export(self) -> str:
        """The export, and what to tell the person: where it is locally, over SSH the command
        that fetches it (no server path is of use there; core.files decides by the session)."""
        from core.files import export_notice
        from core.security import export_data

        def export_and_say(token: str | None) -> str:
            return export_notice(token, export_data(token))

        return call_core(export_and_say, self.token)

    @on(Button.Pressed, "#open-delete")
    def _open_delete(self, event: Button.Pressed) -> None:
        event.stop()
        modal = DeleteAccountModal()

        def done(changed: bool | None) -> None:
            if changed and modal.result is not None:
                self.say(modal.result.message)
                self.app.notify(clean_text(modal.result.message), title="Deletion pending",
                                markup=False, timeout=8)
                self.load()
            elif modal.go_to:
                self.navigate(modal.go_to)

        self.app.push_screen(modal, done)

    # -- results ------------------------------------------------------------------------

    async def core_done(self, group: str, result: Any) -> None:
        if group == "security":
            await self.show(*result)
        elif group == "remove-key":
            self.show_keys(result)
            set_line(self.query_one("#keys-message", SafeStatic), "The key was removed.")
            self.load()
        elif group == "trust-key":
            self.say(f"This key is now trusted: {result.fingerprint}")
            self.load()
        elif group == "export":
            set_line(self.query_one("#export-path", SafeStatic), result)

    def core_refused(self, group: str, error: Exception) -> None:
        text = clean_text(error)
        if group in ("remove-key", "trust-key"):
            set_line(self.query_one("#keys-message", SafeStatic), text)
        elif group == "export":
            set_line(self.query_one("#export-path", SafeStatic), text)
        else:
            super().core_refused(group, error)
