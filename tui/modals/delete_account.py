"""Delete Account (F10): the seed's prerequisites with a shortcut to export, what blocks the
deletion (`#delete-blockers`), the disclaimer, the password and **Delete My Account**.

The window returns True when the request did something the Security section must show
(the account is now deletion pending; `result` holds what core said), False when it closed
without a change. When the account is deleted at once the app logs off to Welcome with
core's message (`CloudAcctApp.session_ended`), which closes this window too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Static

from tui.navigation import SessionEnded
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.core_work import CoreWork, call_core
from tui.widgets.safe_text import FieldError, SafeStatic, clean_text

if TYPE_CHECKING:

    from core.billing import PendingUsage
    from core.deletion import Blocker, DeletionCheck, DeletionResult

FIELDS = ("delete-disclaimer", "delete-password")
# Which console section fixes a blocker (core.deletion.Blocker.screen → SECTIONS key).
BLOCKER_SECTIONS = {"resources": ("products", "Open Products"),
                    "billing": ("billing", "Open Billing")}
NOTHING_BLOCKS = "Nothing blocks the deletion."
CHECKBOX_LABEL = "I have read the disclaimer and want to delete my account"


def intro_text(brand: str) -> str:
    return (f"You can delete your {brand} account if you no longer use it. Once your account is "
            "deleted, you are logged out automatically. You can sign up again with the same "
            "email even after you delete your account.")


def blocker_lines(blocker: Blocker) -> str:
    return f"{blocker.what}\nWhat to do: {blocker.fix}\nClears: {blocker.clears}"


class Bullet(Horizontal):
    """A list item whose wrapped lines stay indented under its first."""

    DEFAULT_CSS = """
    Bullet {
        height: auto;
        padding-left: 1;
    }
    Bullet > .bullet-mark {
        width: 2;
    }
    Bullet > .bullet-text {
        width: 1fr;
    }
    """

    def __init__(self, text: str, classes: str = "") -> None:
        super().__init__(Static("•", classes="bullet-mark"),
                         SafeStatic(text, classes="bullet-text"), classes=classes)


def set_line(widget: SafeStatic, text: str) -> None:
    """Show `text`, or hide the line while there is nothing to say."""
    widget.update(text)
    widget.display = bool(text)


def hidden(widget: SafeStatic) -> SafeStatic:
    widget.display = False
    return widget


def usage_lines(usage: tuple[PendingUsage, ...], due: Any) -> str:
    from core.money import format_usd

    when = f" by {due:%Y-%m-%d %H:%M} UTC" if due else ""
    lines = [f"Pay-As-You-Go usage not billed yet (billed{when}); the deletion waits for its "
             "bill to be issued and paid:"]
    lines += [f"  {u.description}: {format_usd(u.amount_cents)}" for u in usage]
    return "\n".join(lines)


class DeleteAccountModal(CoreWork, ModalScreen[bool]):
    """The Delete Account window of Security settings."""

    DEFAULT_CSS = """
    DeleteAccountModal #delete-window {
        height: 90%;
    }
    DeleteAccountModal #delete-body {
        height: 1fr;
    }
    DeleteAccountModal .blocker {
        padding-left: 1;
        border-left: outer $error;
        margin-top: 1;
    }
    DeleteAccountModal #delete-blockers {
        height: auto;
        margin-left: 2;
    }
    DeleteAccountModal .blocker-go {
        margin-left: 2;
    }
    DeleteAccountModal #delete-disclaimer-text {
        margin-top: 1;
        color: $text-warning;
    }
    DeleteAccountModal #delete-disclaimer {
        margin-top: 1;
    }
    DeleteAccountModal #delete-error {
        margin-top: 1;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="delete-account.cancel")]

    def __init__(self) -> None:
        super().__init__()
        self.check: DeletionCheck | None = None
        self.result: DeletionResult | None = None
        """What core said when the account became deletion pending."""
        self.go_to: str | None = None
        """The console section a blocker's shortcut asked for (None: none)."""

    def compose(self) -> ComposeResult:
        from core.config import settings
        from core.deletion import DISCLAIMER, PREREQUISITES

        with (Vertical(id="delete-window", classes="window"),
              VerticalScroll(id="delete-body")):
            yield SafeStatic(intro_text(settings().brand), id="delete-intro")
            yield Static("Prerequisites", classes="subtitle")
            yield Static("Before deleting your account, make sure that:")
            for line in PREREQUISITES:
                yield Bullet(line, "prerequisite")
            with Horizontal(classes="button-row"):
                yield Button("Export my data", id="delete-export", compact=True)
            yield hidden(SafeStatic("", id="delete-export-path", classes="hint"))
            yield Static("What blocks the deletion", classes="subtitle")
            with Vertical(id="delete-blockers"):
                yield Static("Checking…", classes="hint")
            yield hidden(SafeStatic("", id="delete-check-message", classes="hint"))
            yield SafeStatic(DISCLAIMER, id="delete-disclaimer-text")
            yield Checkbox(CHECKBOX_LABEL, id="delete-disclaimer", compact=True)
            yield FieldError("delete-disclaimer")
            with Horizontal(classes="field-row"):
                yield Label("Password", classes="field-label")
                yield BoundedInput(placeholder="your password again", password=True,
                                   id="delete-password", compact=True)
            yield FieldError("delete-password")
            yield FieldError("delete")
            with Horizontal(classes="button-row"):
                yield Button("Delete My Account", id="delete-account", variant="error",
                             compact=True)
                yield Button("Cancel", id="delete-cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#delete-window").border_title = "Delete Account"
        self.query_one("#delete-body").scroll_home(animate=False)
        self.query_one("#delete-export").focus()
        self.load_check()

    # -- the check ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="delete-check")
    def load_check(self) -> DeletionCheck:
        from core.deletion import deletion_check

        return call_core(deletion_check, self.app.token)  # type: ignore[attr-defined]

    async def show_blockers(self, blockers: tuple[Blocker, ...],
                            usage: tuple[PendingUsage, ...] = (), due: Any = None) -> None:
        """Fill `#delete-blockers`: each blocker (what, what to do, when it clears) with a
        shortcut to where it is fixed, or that nothing blocks, and any unbilled usage."""
        box = self.query_one("#delete-blockers", Vertical)
        await box.remove_children()
        widgets: list[Static | Button] = []
        for index, blocker in enumerate(blockers):
            widgets.append(SafeStatic(blocker_lines(blocker), classes="blocker"))
            section = BLOCKER_SECTIONS.get(blocker.screen)
            if section is not None:
                widgets.append(Button(section[1], id=f"blocker-{index}-go",
                                      classes="blocker-go", compact=True,
                                      name=section[0]))
        if not blockers:
            widgets.append(Static(NOTHING_BLOCKS, classes="blocker-none"))
        if usage:
            widgets.append(SafeStatic(usage_lines(usage, due), classes="pending-usage"))
        await box.mount_all(widgets)

    @property
    def blocker_texts(self) -> list[str]:
        """The plain texts shown under `#delete-blockers` (for tests and screen readers)."""
        return [str(w.render()) for w in self.query_one("#delete-blockers").query(Static)]

    # -- actions ------------------------------------------------------------------------

    @on(Checkbox.Changed, "#delete-disclaimer")
    def _disclaimer_changed(self) -> None:
        self.query_one("#delete-disclaimer-error", FieldError).clear()

    @on(Input.Changed, "#delete-password")
    def _password_changed(self) -> None:
        self.query_one("#delete-password-error", FieldError).clear()

    @on(Input.Submitted, "#delete-password")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#delete-account").focus()

    @on(Button.Pressed, "#delete-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    @on(Button.Pressed, ".blocker-go")
    def _go(self, event: Button.Pressed) -> None:
        event.stop()
        if self.is_busy("delete"):
            return
        self.go_to = event.button.name
        self.dismiss(False)

    @on(Button.Pressed, "#delete-export")
    def _export_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if self.start_busy("delete-export", self.query_one("#delete-export", Button)):
            set_line(self.query_one("#delete-export-path", SafeStatic), "Writing the export…")
            self.export()

    @work(thread=True, exclusive=True, exit_on_error=False, group="delete-export")
    def export(self) -> str:
        """Over SSH the message is the command that fetches the export (core.files)."""
        from core.files import export_notice
        from core.security import export_data

        def export_and_say(token: str | None) -> str:
            return export_notice(token, export_data(token))

        return call_core(export_and_say, self.app.token)  # type: ignore[attr-defined]

    def action_cancel(self) -> None:
        # While the request runs it may already have changed the account: wait for it.
        if not self.is_busy("delete"):
            self.dismiss(False)

    @on(Button.Pressed, "#delete-account")
    def _delete_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_delete()

    def action_delete(self) -> None:
        if not self.start_busy("delete", self.query_one("#delete-account", Button),
                               self.query_one("#delete-cancel", Button)):
            return
        for error in self.query(FieldError):
            error.clear()
        self.request(self.query_one("#delete-password", Input).value,
                     self.query_one("#delete-disclaimer", Checkbox).value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="delete")
    def request(self, password: str, checked: bool) -> DeletionResult:
        from core.deletion import request_deletion

        return call_core(request_deletion, self.app.token,  # type: ignore[attr-defined]
                         password, checked)

    # -- results ------------------------------------------------------------------------

    async def core_done(self, group: str, result: Any) -> None:
        if group == "delete-check":
            self.check = result
            await self.show_blockers(result.blockers, result.pending_usage,
                                     result.bills_due_by)
            set_line(self.query_one("#delete-check-message", SafeStatic), result.message)
        elif group == "delete-export":
            set_line(self.query_one("#delete-export-path", SafeStatic), result)
        elif group == "delete":
            if result.status == "deleted":
                # Every session of the account has ended: log off to Welcome with the message.
                self.post_message(SessionEnded(result.message))
            else:
                self.result = result
                self.dismiss(True)

    def core_refused(self, group: str, error: Exception) -> None:
        from core.deletion import DeletionBlocked

        message = clean_text(error)
        if group == "delete-export":
            set_line(self.query_one("#delete-export-path", SafeStatic), message)
            return
        if group != "delete":
            self.query_one("#delete-error", FieldError).show(message)
            return
        if isinstance(error, DeletionBlocked):
            self.call_later(self.show_blockers, error.blockers)
            self.query_one("#delete-error", FieldError).show(
                "Your account cannot be deleted yet. Each item under “What blocks the "
                "deletion” says what to do.")
            return
        field = getattr(error, "field", None)
        if field in FIELDS:
            self.query_one(f"#{field}-error", FieldError).show(message)
            self.query_one(f"#{field}").focus()
        else:
            self.query_one("#delete-error", FieldError).show(message)
