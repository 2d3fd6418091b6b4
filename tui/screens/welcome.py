"""The first screen when nobody is logged on: log on, or create a free account."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Static

from core.i18n import N_, _, translate
from tui.navigation import GoTo
from tui.widgets.brand_bar import BrandBar
from tui.widgets.safe_text import SafeStatic, clean_text


class WelcomeScreen(Screen):
    """Brand, one line about the console, and a message (e.g. "You have logged off.")."""

    BINDINGS = [
        Binding("l", "log_on", N_("Log on"), id="welcome.log-on"),
        Binding("f", "free_account", N_("Free account"), id="welcome.free-account"),
    ]

    def __init__(self, message: str | None = None) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        from core.config import settings

        brand = clean_text(settings().brand)
        yield BrandBar()
        with Center(), Vertical(id="welcome-box"):
            yield SafeStatic(brand, id="brand", keep_newlines=False)
            yield SafeStatic(_("Your {brand} account console: sign up, verify, add billing and "
                               "payment details, buy products and manage your account.").format(
                                 brand=brand), id="tagline")
            yield SafeStatic(translate(self.message or ""), id="welcome-message",
                             classes="-shown" if self.message else "")
            with Horizontal(classes="button-row"):
                yield Button(_("Log on"), id="log-on", variant="primary", compact=True)
                yield Button(_("Free Account"), id="free-account", variant="success", compact=True)
            yield Static(_("New here? Choose Free Account to sign up."), classes="hint")
        # The keys as one line, not a Footer: the Footer is built again every time the screen
        # resumes, a sixth of a forked SSH console's CPU to its first screen (issue 16).
        yield Static(_("[b]l[/b] Log on  [b]f[/b] Free account  [b]^q[/b] Quit"),
                     id="welcome-keys")

    def on_mount(self) -> None:
        self.query_one("#log-on").focus()

    @on(Button.Pressed, "#log-on")
    def _log_on(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_log_on()

    @on(Button.Pressed, "#free-account")
    def _free_account(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_free_account()

    def action_log_on(self) -> None:
        self.post_message(GoTo("log-on"))

    def action_free_account(self) -> None:
        self.post_message(GoTo("sign-up"))
