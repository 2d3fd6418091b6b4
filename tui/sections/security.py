"""Security settings (F9, F13, F14): what is verified, change password, email and phone, virtual
MFA and its recovery codes, log off everywhere, recent log-ons with the failed attempts, trusted
SSH keys (F11), export my data, and the Delete Account area (F10).

The page is one read (`core.security.security_page`). Every sensitive action is one core call;
when the core asks for a step-up (StepUpRequired), tui/core_calls.py opens the step-up window
over this section and sends the same call again once the person proved it is them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Static

from core.i18n import N_, _, ngettext, translate
from tui.core_calls import CallsCore
from tui.modals.change_contact import ChangeContactModal
from tui.modals.change_password import ChangePasswordModal, password_changed_message
from tui.modals.confirm_key import ConfirmKeyModal
from tui.modals.delete_account import (
    DeleteAccountModal,
    DeleteOutcome,
    export_and_say,
    hidden,
    set_line,
)
from tui.modals.mfa_disable import MfaDisableModal
from tui.modals.mfa_setup import MfaSetupModal
from tui.modals.recovery_codes import RecoveryCodesModal
from tui.sections.formats import label_row, short_moment
from tui.sections.formats import moment as moment_text
from tui.widgets.language_choice import LanguageChoice
from tui.widgets.safe_text import SafeStatic, clean_text
from tui.widgets.section import Section

if TYPE_CHECKING:
    from datetime import datetime

    from core.accounts import AccountView
    from core.mfa import MfaEnabled, MfaSetup, MfaStatus
    from core.security import ActivityRecord, PasswordChanged, SecurityPage, TrustedKeyView

DELETE_AREA_TEXT = N_(
    "You can delete your account if you no longer use it. Once it is deleted you are logged "
    "out automatically, and you can sign up again with the same email. Before deleting, back "
    "up your data, release all your resources (Subscription and Pay-As-You-Go) and settle "
    "any outstanding charges.")

# core.security.ActivityRecord → the short words of the Result column (fits 80 columns)
RESULTS = {"logged_on": N_("Logged on"), "wrong_password": N_("Wrong password"),
           "wrong_code": N_("Wrong code")}

KEY_TYPES = {"ssh-ed25519": "Ed25519", "ssh-rsa": "RSA", "ecdsa-sha2-nistp256": "ECDSA",
             "sk-ssh-ed25519@openssh.com": N_("Ed25519 security key"),
             "sk-ecdsa-sha2-nistp256@openssh.com": N_("ECDSA security key")}
SSH_KEY = N_("SSH key")


def _utc(when: datetime | None) -> str:
    return moment_text(when) if when else _("Never")


def account_lines(page: SecurityPage) -> str:
    email = (_("{email} (verified)") if page.email_verified
             else _("{email} (not verified)")).format(email=page.email)
    phone = (_("{phone} (verified)").format(phone=page.phone_masked) if page.phone_masked
             else _("No verified phone"))
    if page.mfa_enabled:
        left = page.recovery_codes_left
        mfa = ngettext("On, {n} recovery code left", "On, {n} recovery codes left",
                       left).format(n=left)
    else:
        mfa = _("Off")
    rows = [(_("Email"), email), (_("Phone"), phone),
            (_("Password changed"), _utc(page.password_changed_at) if page.password_changed_at
             else _("Not since sign-up")),
            (_("Virtual MFA"), mfa)]
    return "\n".join(label_row(label, value, 18) for label, value in rows)


def activity_cells(record: ActivityRecord) -> tuple[Text, Text, Text]:
    """Time, result, where from: short enough for 80 columns (the year is left out: these
    are the latest few)."""
    result = (_(RESULTS[record.result]) if record.result in RESULTS
              else translate(record.result_text))
    if record.result == "logged_on" and record.current:
        result = _("This session")
    elif record.result == "logged_on" and record.ended:
        result = _("Ended")
    style = "" if record.result == "logged_on" else "bold"
    return (Text(short_moment(record.at)), Text(result, style=style),
            Text(clean_text(translate(record.where))))


def key_cell(key: TrustedKeyView) -> Text:
    """Two lines that fit 80 columns: the fingerprint, whole (it identifies the key), and the
    key's type, when it was added and its label."""
    algorithm = key.algorithm or ""
    details = [_(KEY_TYPES[algorithm]) if algorithm in KEY_TYPES else algorithm or _(SSH_KEY),
               _("added {when}").format(when=_utc(key.added_at))]
    if key.label:
        details.append(clean_text(key.label))
    return Text(f"{clean_text(key.fingerprint)}\n  " + ", ".join(details))


class SecuritySection(CallsCore, Section):
    """The Security settings section of the console."""

    def __init__(self) -> None:
        super().__init__()
        self.page: SecurityPage | None = None

    def compose(self) -> ComposeResult:
        yield Static(_("Security settings"), classes="title", markup=False)
        yield SafeStatic(_("Loading…"), id="security-account")
        yield hidden(SafeStatic("", id="security-message"))
        with Horizontal(classes="button-row"):
            yield Button(_("Change password"), id="change-password", compact=True)
            yield Button(_("Change email"), id="change-email", compact=True)
            yield Button(_("Change phone"), id="change-phone", compact=True)

        yield Static(_("Virtual MFA"), classes="subtitle", markup=False)
        yield Static(_("An authenticator app on your phone gives a code that is asked for "
                       "after your password and before sensitive actions."), classes="hint",
                     markup=False)
        with Horizontal(classes="button-row", id="mfa-actions"):
            yield Button(_("Enable virtual MFA"), id="mfa-enable", compact=True)
            yield Button(_("Turn off MFA"), id="mfa-disable", compact=True)
            yield Button(_("New recovery codes"), id="regenerate-codes", compact=True)

        yield Static(_("Recent log-ons"), classes="subtitle", markup=False)
        logons: DataTable = DataTable(id="logons", cursor_type="row", zebra_stripes=True)
        logons.add_columns(_("Time (UTC)"), _("Result"), _("Where from"))
        yield logons
        with Horizontal(classes="button-row"):
            yield Button(_("Log off everywhere else"), id="log-off-everywhere", compact=True)

        yield Static(_("Trusted SSH keys"), classes="subtitle", markup=False)
        yield Static(_("Connections over SSH with a trusted key open the console logged on."),
                     classes="hint", markup=False)
        keys: DataTable = DataTable(id="trusted-keys", cursor_type="row")
        keys.add_column(_("Key"), key="key")
        yield keys
        yield hidden(SafeStatic("", id="keys-message", classes="hint"))
        with Horizontal(classes="button-row", id="key-actions"):
            yield Button(_("Remove key"), id="remove-key", compact=True, disabled=True)

        yield LanguageChoice(id="language-area")  # SPEC F18, `#language`

        yield Static(_("Export my data"), classes="subtitle", markup=False)
        yield Static(_("A JSON file of everything stored about your account (no passwords or "
                       "other secrets)."), classes="hint", markup=False)
        with Horizontal(classes="button-row"):
            yield Button(_("Export my data"), id="export-data", compact=True)
        yield hidden(SafeStatic("", id="export-path"))

        yield Static(_("Delete Account"), classes="subtitle", markup=False)
        yield Static(_(DELETE_AREA_TEXT), classes="hint", markup=False)
        yield hidden(SafeStatic("", id="deletion-status"))
        with Horizontal(classes="button-row"):
            yield Button(_("Delete Account…"), id="open-delete", variant="error", compact=True)

    def on_mount(self) -> None:
        self.load()

    # -- the page -----------------------------------------------------------------------

    def load(self) -> None:
        from core.security import security_page

        self.call(security_page, self.token).then(self.show)

    async def show(self, page: SecurityPage) -> None:
        self.page = page
        self.query_one("#security-account", SafeStatic).update(account_lines(page))
        self.query_one("#mfa-enable").display = not page.mfa_enabled
        self.query_one("#mfa-disable").display = page.mfa_enabled
        self.query_one("#regenerate-codes").display = page.mfa_enabled

        logons = self.query_one("#logons", DataTable)
        logons.clear()
        for record in page.recent:
            logons.add_row(*activity_cells(record))
        self.show_keys(page.trusted_keys)

        actions = self.query_one("#key-actions", Horizontal)
        trust = self.query("#trust-this-key")
        if page.can_trust_current_key and not trust:
            await actions.mount(Button(_("Trust this key"), id="trust-this-key", compact=True))
        elif not page.can_trust_current_key and trust:
            await trust.remove()
        current = page.current_key_fingerprint
        set_line(self.query_one("#keys-message", SafeStatic),
                 _("This connection's key: {key}").format(key=current) if current else "")

        line = self.query_one("#deletion-status", SafeStatic)
        if page.status != "deletion_pending":
            set_line(line, "")
            return
        status = (_("Deletion pending (requested {when})").format(
            when=_utc(page.deletion_requested_at)) if page.deletion_requested_at
            else _("Deletion pending"))
        set_line(line, _("{status}.").format(status=status))
        # What it waits for is the deletion flow's to say (core.deletion, its own read).
        from core.deletion import deletion_check

        self.call(deletion_check, self.token).then(
            lambda check: set_line(line, _("{status}. {message}").format(
                status=status, message=translate(check.message))))

    def show_keys(self, keys: tuple[TrustedKeyView, ...]) -> None:
        table = self.query_one("#trusted-keys", DataTable)
        table.clear()
        for key in keys:
            table.add_row(key_cell(key), key=str(key.id), height=2)
        if not keys:
            table.add_row(Text(_("No trusted keys.")), key="none")
        self.query_one("#remove-key", Button).disabled = not keys

    def say(self, text: str) -> None:
        set_line(self.query_one("#security-message", SafeStatic), text)

    def _refocus(self, selector: str) -> None:
        """After a window closes, the button that opened it (if it is still there)."""
        for widget in self.query(selector).results(Button):
            if widget.display and not widget.disabled:
                widget.focus()

    # -- password, email, phone ---------------------------------------------------------

    @on(Button.Pressed, "#change-password")
    def _change_password(self, event: Button.Pressed) -> None:
        event.stop()

        def done(result: PasswordChanged | None) -> None:
            if result is not None:
                self.say(password_changed_message(result))
                self.load()
            self._refocus("#change-password")

        self.app.push_screen(ChangePasswordModal(self.token, self.page.email if self.page
                                                 else ""), done)

    @on(Button.Pressed, "#change-email, #change-phone")
    def _change_contact(self, event: Button.Pressed) -> None:
        event.stop()
        kind = "email" if event.button.id == "change-email" else "phone"
        current = (self.page.email if kind == "email" else self.page.phone_masked) \
            if self.page else None

        def done(account: AccountView | None) -> None:
            if account is not None:
                self.say(_("Your log-on email is now {email}.").format(email=account.email)
                         if kind == "email" else _("Your phone number was changed."))
                self.load()
            self._refocus(f"#change-{kind}")

        self.app.push_screen(ChangeContactModal(self.token, kind, current), done)

    # -- virtual MFA ----------------------------------------------------------------------

    @on(Button.Pressed, "#mfa-enable")
    def _enable_mfa(self, event: Button.Pressed) -> None:
        from core.mfa import begin_mfa_setup

        event.stop()
        self.call(begin_mfa_setup, self.token).then(
            self._set_up, busy=self.query_one("#mfa-enable", Button))

    def _set_up(self, setup: MfaSetup) -> None:
        def done(enabled: MfaEnabled | None) -> None:
            if enabled is not None:
                self.say(_("Virtual MFA is on."))
            self.load()
            self._refocus("#mfa-disable" if enabled else "#mfa-enable")

        self.app.push_screen(MfaSetupModal(self.token, setup), done)

    @on(Button.Pressed, "#mfa-disable")
    def _disable_mfa(self, event: Button.Pressed) -> None:
        event.stop()

        def done(status: MfaStatus | None) -> None:
            if status is not None:
                self.say(_("Virtual MFA is off."))
                self.load()
            self._refocus("#mfa-enable" if status else "#mfa-disable")

        self.app.push_screen(MfaDisableModal(self.token), done)

    @on(Button.Pressed, "#regenerate-codes")
    def _regenerate(self, event: Button.Pressed) -> None:
        from core.mfa import regenerate_recovery_codes

        event.stop()

        def made(codes: tuple[str, ...]) -> None:
            self.say(_("New recovery codes were made; the old ones no longer work."))
            self.load()
            self.app.push_screen(RecoveryCodesModal(codes),
                                 lambda _none: self._refocus("#regenerate-codes"))

        self.call(regenerate_recovery_codes, self.token).then(
            made, busy=self.query_one("#regenerate-codes", Button))

    # -- sessions -----------------------------------------------------------------------

    @on(Button.Pressed, "#log-off-everywhere")
    def _log_off_everywhere(self, event: Button.Pressed) -> None:
        from core.security import log_off_everywhere

        event.stop()

        def ended(count: int) -> None:
            self.say(ngettext("{n} other session was logged off.",
                              "{n} other sessions were logged off.", count).format(n=count))
            self.load()

        self.call(log_off_everywhere, self.token).then(
            ended, busy=self.query_one("#log-off-everywhere", Button))

    # -- trusted keys ---------------------------------------------------------------------

    def _keys_said(self, text: str) -> None:
        set_line(self.query_one("#keys-message", SafeStatic), text)

    @on(Button.Pressed, "#remove-key")
    def _remove_key(self, event: Button.Pressed) -> None:
        from core.security import remove_trusted_key

        event.stop()
        table = self.query_one("#trusted-keys", DataTable)
        if table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if not key or key == "none":
            return
        keys = self.page.trusted_keys if self.page else ()
        fingerprint = next((k.fingerprint for k in keys if str(k.id) == key), "")

        def removed(left: tuple[TrustedKeyView, ...]) -> None:
            self.show_keys(left)
            self._keys_said(_("The key was removed."))
            self.load()

        def confirmed(go: bool | None) -> None:
            if go:
                self.call(remove_trusted_key, self.token, key).then(
                    removed, refused=lambda error: self._keys_said(translate(error.message)),
                    busy=self.query_one("#remove-key", Button))
            else:
                self._refocus("#remove-key")

        self.app.push_screen(ConfirmKeyModal("remove", fingerprint), confirmed)

    @on(Button.Pressed, "#trust-this-key")
    def _trust(self, event: Button.Pressed) -> None:
        from core.security import trust_current_key

        event.stop()
        fingerprint = self.page.current_key_fingerprint if self.page else None
        if not fingerprint:
            return

        def trusted(key: TrustedKeyView) -> None:
            self.say(_("This key is now trusted: {key}").format(key=key.fingerprint))
            self.load()
            self._refocus("#remove-key")

        def confirmed(go: bool | None) -> None:
            button = next(iter(self.query("#trust-this-key").results(Button)), None)
            if go and button is not None:
                self.call(trust_current_key, self.token).then(
                    trusted, refused=lambda error: self._keys_said(translate(error.message)),
                    busy=button)
            elif button is not None:
                button.focus()

        self.app.push_screen(ConfirmKeyModal("trust", fingerprint), confirmed)

    # -- export and delete ----------------------------------------------------------------

    @on(Button.Pressed, "#export-data")
    def _export(self, event: Button.Pressed) -> None:
        event.stop()
        line = self.query_one("#export-path", SafeStatic)
        if self.call(export_and_say, self.token).then(
                lambda text: set_line(line, translate(text)),
                refused=lambda error: set_line(line, translate(error.message)),
                busy=self.query_one("#export-data", Button)):
            set_line(line, _("Writing the export…"))

    @on(Button.Pressed, "#open-delete")
    def _open_delete(self, event: Button.Pressed) -> None:
        from core.config import settings

        event.stop()

        def done(outcome: DeleteOutcome | None) -> None:
            if outcome is not None and outcome.go_to:
                self.navigate(outcome.go_to)
                return
            if outcome is not None and outcome.pending is not None:
                message = translate(outcome.pending.message)
                self.say(message)
                self.app.notify(clean_text(message), title=_("Deletion pending"),
                                markup=False, timeout=8)
                self.load()
            self._refocus("#open-delete")

        self.app.push_screen(DeleteAccountModal(self.token, settings().brand), done)
