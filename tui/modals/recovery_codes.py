"""The ten recovery codes (SPEC F13), shown once: after virtual MFA is bound (in the setup
window) and after they are made again (this window). They are never read back from the core:
what is stored is only their keyed hashes, so once this closes nobody can show them again."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from core.i18n import N_, _
from tui.widgets.footer import ConsoleFooter
from tui.widgets.safe_text import SafeStatic


def recovery_codes_hint() -> str:
    return _("Each recovery code logs you on once instead of the authenticator code, for "
             "when your phone is lost. Write them down or print them now: they are not shown "
             "again.")


class RecoveryCodes(Vertical):
    """`#recovery-codes` (one code a line) and `#mfa-done`; the window it is in closes on Done."""

    def __init__(self, codes: tuple[str, ...]) -> None:
        super().__init__(id="recovery-codes-panel")
        self.codes = codes

    def compose(self) -> ComposeResult:
        yield Static(recovery_codes_hint(), classes="hint", markup=False)
        yield SafeStatic("\n".join(self.codes), id="recovery-codes")
        with Horizontal(classes="button-row"):
            yield Button(_("Done"), id="mfa-done", variant="primary", compact=True)


class RecoveryCodesModal(ModalScreen[None]):
    """New recovery codes, made with Regenerate: the old ones stopped working."""

    BINDINGS = [Binding("escape", "done", N_("Done"), id="recovery-codes.done")]

    def __init__(self, codes: tuple[str, ...]) -> None:
        super().__init__()
        self.codes = codes

    def compose(self) -> ComposeResult:
        window = Vertical(id="recovery-codes-window", classes="window")
        window.border_title = _("New recovery codes")
        with window:
            yield Static(_("Your old recovery codes no longer work. These are the new ones."),
                         markup=False)
            yield RecoveryCodes(self.codes)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#mfa-done").focus()

    @on(Button.Pressed, "#mfa-done")
    def _done(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_done()

    def action_done(self) -> None:
        self.dismiss(None)
