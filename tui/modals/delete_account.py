"""Delete Account (F10): the seed's prerequisites with a shortcut to export, what blocks the
deletion (`#delete-blockers`), the disclaimer, the password and **Delete My Account**.

The window answers only through `dismiss`: a `DeleteOutcome` saying that the account is now
deletion pending (what core said), or which console section a blocker's shortcut asked for;
None when it closed without a change. When the account is deleted at once it posts
`SessionEnded` with core's message (tui/navigation.py): the app logs off to Welcome, which
closes this window too. With MFA on the core asks for a step-up first (SPEC F13), which
tui/core_calls.py opens over this window before sending the request again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from core.i18n import N_, _, translate
from tui.core_calls import CallsCore
from tui.navigation import SessionEnded
from tui.sections.formats import amount, moment
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.footer import ConsoleFooter
from tui.widgets.safe_text import FieldError, SafeStatic

if TYPE_CHECKING:
    from core.billing import PendingUsage
    from core.deletion import Blocker, DeletionCheck, DeletionResult
    from core.errors import DomainError

FIELDS = ("delete-disclaimer", "delete-password")
# Which console section fixes a blocker (core.deletion.Blocker.screen → SECTIONS key).
BLOCKER_SECTIONS = {"resources": ("products", N_("Open Products")),
                    "billing": ("billing", N_("Open Billing"))}
NOTHING_BLOCKS = N_("Nothing blocks the deletion.")
CHECKBOX_LABEL = N_("I have read the disclaimer and want to delete my account")
BLOCKED = N_("Your account cannot be deleted yet. Each item under “What blocks the deletion” "
             "says what to do.")


@dataclass(frozen=True)
class DeleteOutcome:
    """What the window did: the account became deletion pending (`pending`), or the person
    took a blocker's shortcut to the console section `go_to`."""

    pending: DeletionResult | None = None
    go_to: str | None = None


def intro_text(brand: str) -> str:
    return _("You can delete your {brand} account if you no longer use it. Once your account "
             "is deleted, you are logged out automatically. You can sign up again with the same "
             "email even after you delete your account.").format(brand=brand)


def blocker_lines(blocker: Blocker) -> str:
    return _("{what}\nWhat to do: {fix}\nClears: {clears}").format(
        what=translate(blocker.what), fix=translate(blocker.fix),
        clears=translate(blocker.clears))


class Bullet(Horizontal):
    """A list item whose wrapped lines stay indented under its first."""

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
    lines = [_("Pay-As-You-Go usage not billed yet (billed by {when}); the deletion waits for "
               "its bill to be issued and paid:").format(when=moment(due)) if due else
             _("Pay-As-You-Go usage not billed yet (billed); the deletion waits for its bill "
               "to be issued and paid:")]
    lines += ["  " + _("{what}: {amount}").format(what=translate(u.description),
                                                  amount=amount(u.amount_cents))
              for u in usage]
    return "\n".join(lines)


class DeleteAccountModal(CallsCore, ModalScreen[DeleteOutcome | None]):
    """The Delete Account window of Security settings."""

    FORM_ERROR = "delete"
    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="delete-account.cancel")]

    def __init__(self, token: str | None, brand: str) -> None:
        super().__init__()
        self.token = token
        self.brand = brand
        self.check: DeletionCheck | None = None

    def compose(self) -> ComposeResult:
        from core.deletion import DISCLAIMER, PREREQUISITES

        window = Vertical(id="delete-window", classes="window")
        window.border_title = _("Delete Account")
        with window, VerticalScroll(id="delete-body"):
            yield SafeStatic(intro_text(self.brand), id="delete-intro")
            yield Static(_("Prerequisites"), classes="subtitle")
            yield Static(_("Before deleting your account, make sure that:"))
            for line in PREREQUISITES:
                yield Bullet(translate(line), "prerequisite")
            with Horizontal(classes="button-row"):
                yield Button(_("Export my data"), id="delete-export", compact=True)
            yield hidden(SafeStatic("", id="delete-export-path", classes="hint"))
            yield Static(_("What blocks the deletion"), classes="subtitle")
            with Vertical(id="delete-blockers"):
                yield Static(_("Checking…"), classes="hint")
            yield hidden(SafeStatic("", id="delete-check-message", classes="hint"))
            yield SafeStatic(translate(DISCLAIMER), id="delete-disclaimer-text")
            yield Checkbox(_(CHECKBOX_LABEL), id="delete-disclaimer", compact=True)
            yield FieldError("delete-disclaimer")
            with Horizontal(classes="field-row"):
                yield Label(_("Password"), classes="field-label")
                yield BoundedInput(placeholder=_("your password again"), password=True,
                                   id="delete-password", compact=True)
            yield FieldError("delete-password")
            yield FieldError("delete")
            with Horizontal(classes="button-row"):
                yield Button(_("Delete My Account"), id="delete-account", variant="error",
                             compact=True)
                yield Button(_("Cancel"), id="delete-cancel", compact=True)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        from core.deletion import deletion_check

        self.query_one("#delete-body").scroll_home(animate=False)
        self.query_one("#delete-export").focus()
        self.call(deletion_check, self.token).then(self._checked, refused=self._check_refused)

    # -- the check ----------------------------------------------------------------------

    async def _checked(self, check: DeletionCheck) -> None:
        self.check = check
        await self.show_blockers(check.blockers, check.pending_usage, check.bills_due_by)
        set_line(self.query_one("#delete-check-message", SafeStatic), translate(check.message))

    def _check_refused(self, error: DomainError) -> None:
        self.query_one("#delete-error", FieldError).show(translate(error.message))

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
                widgets.append(Button(_(section[1]), id=f"blocker-{index}-go",
                                      classes="blocker-go", compact=True,
                                      name=section[0]))
        if not blockers:
            widgets.append(Static(_(NOTHING_BLOCKS), classes="blocker-none"))
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

    @on(Button.Pressed, "#delete-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    @on(Button.Pressed, ".blocker-go")
    def _go(self, event: Button.Pressed) -> None:
        event.stop()
        if not self.is_busy("request_deletion"):
            self.dismiss(DeleteOutcome(go_to=event.button.name))

    @on(Button.Pressed, "#delete-export")
    def _export_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        line = self.query_one("#delete-export-path", SafeStatic)

        def say(text: str) -> None:
            set_line(line, text)

        if self.call(export_and_say, self.token).then(
                lambda text: say(translate(text)),
                refused=lambda error: say(translate(error.message)),
                busy=self.query_one("#delete-export", Button)):
            set_line(line, _("Writing the export…"))

    def action_cancel(self) -> None:
        # While the request runs it may already have changed the account: wait for it.
        if not self.is_busy("request_deletion"):
            self.dismiss(None)

    @on(Input.Submitted, "#delete-password")
    @on(Button.Pressed, "#delete-account")
    def _delete_pressed(self, event: Input.Submitted | Button.Pressed) -> None:
        event.stop()
        self.action_delete()

    def action_delete(self) -> None:
        from core.deletion import request_deletion

        self.clear_errors()
        self.call(request_deletion, self.token,
                  self.query_one("#delete-password", Input).value,
                  self.query_one("#delete-disclaimer", Checkbox).value).then(
            self._requested, refused=self._refused,
            busy=(self.query_one("#delete-account", Button),
                  self.query_one("#delete-cancel", Button)))

    # -- results ------------------------------------------------------------------------

    def _requested(self, result: DeletionResult) -> None:
        if result.status == "deleted":
            # Every session of the account has ended: log off to Welcome with the message.
            self.post_message(SessionEnded(translate(result.message)))
        else:
            self.dismiss(DeleteOutcome(pending=result))

    def _refused(self, error: DomainError) -> None:
        """Blockers: list them as they are now and put focus on the first one's shortcut
        (or Cancel), so the next key acts in this window; anything else beside its field."""
        from core.deletion import DeletionBlocked

        if isinstance(error, DeletionBlocked):
            self.call_later(self._blocked, error.blockers)
        else:
            self.show_refusal(error)

    async def _blocked(self, blockers: tuple[Blocker, ...]) -> None:
        await self.show_blockers(blockers)
        self.query_one("#delete-error", FieldError).show(_(BLOCKED))
        first = next(iter(self.query(".blocker-go").results(Button)), None)
        (first or self.query_one("#delete-cancel", Button)).focus()


def export_and_say(token: str | None) -> str:
    """Export my data, and what to tell the person: where it is locally, over SSH the command
    that fetches it (core.files decides by the session)."""
    from core.files import export_notice
    from core.security import export_data

    return export_notice(token, export_data(token))
