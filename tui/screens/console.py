"""The console shell: navigation on the left, one section on the right, log off."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Static

from core.i18n import N_, _
from tui.core_calls import CallsCore
from tui.navigation import LoggedOff
from tui.sections.registry import SECTIONS
from tui.widgets.brand_bar import BrandBar
from tui.widgets.console_app import console_app
from tui.widgets.footer import ConsoleFooter
from tui.widgets.section import Section

# The navigation labels of tui/sections/registry.py, marked for the catalogue here where they
# are shown (each button is `_(label)`).
SECTION_LABELS = (N_("Overview"), N_("Billing address"), N_("Payment methods"),
                  N_("Real-name"), N_("Products"), N_("Billing"), N_("Security"))


class ConsoleScreen(CallsCore, Screen):
    """Every screen after log-on: `#nav-<section>` buttons, `#log-off`, and the section."""

    BINDINGS = [
        Binding("ctrl+o", "section('overview')", N_("Overview"), id="console.overview"),
        Binding("ctrl+l", "log_off", N_("Log off"), id="console.log-off"),
        Binding("down", "nav_move(1)", N_("Next section"), id="console.nav-down", show=False),
        Binding("up", "nav_move(-1)", N_("Previous section"), id="console.nav-up", show=False),
        Binding("right", "into_section", N_("Into the section"), id="console.into-section",
                show=False),
    ]

    def __init__(self, section: str = "overview") -> None:
        super().__init__()
        self.section = section if section in SECTIONS else "overview"

    def compose(self) -> ComposeResult:
        yield BrandBar(_("Console"))
        with Horizontal(id="console"):
            with Vertical(id="nav"):
                yield Static(_("Console"), classes="nav-title")
                for key, (label, _factory) in SECTIONS.items():
                    yield Button(_(label), id=f"nav-{key}", classes="nav", compact=True)
                yield Button(_("Log off"), id="log-off", classes="nav", compact=True)
            yield Container(id="content")
        yield ConsoleFooter()

    async def recompose(self) -> None:
        """Composed again (another language, tui/language.py): the section shown again too."""
        await super().recompose()
        if self.is_attached:
            await self.show_section(self.section)

    async def on_mount(self) -> None:
        await self.show_section(self.section)
        self.query_one(f"#nav-{self.section}").focus()
        if self.section != "overview":
            # Opened at a section by the app (e.g. after F2): start in its content.
            self.call_after_refresh(self._focus_content)

    def _focus_content(self) -> None:
        content = self.query_one("#content")
        for widget in self.focus_chain:
            if content in widget.ancestors:
                widget.focus()
                return

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Up/Down move between the navigation buttons and Right enters the section, only while
        a navigation button has focus, so fields and tables keep their arrow keys."""
        if action in ("nav_move", "into_section"):
            focused = self.focused
            return focused is not None and focused.has_class("nav")
        return True

    def action_into_section(self) -> None:
        self._focus_content()

    def action_nav_move(self, step: int) -> None:
        buttons = list(self.query("#nav Button.nav"))
        if self.focused in buttons:
            index = buttons.index(self.focused)
            buttons[(index + step) % len(buttons)].focus()

    async def show_section(self, key: str) -> None:
        """Replace the content area with a new widget of section `key`."""
        label, factory = SECTIONS[key]
        self.section = key
        content = self.query_one("#content", Container)
        await content.remove_children()
        await content.mount(factory())
        for button in self.query("#nav Button.nav"):
            button.set_class(button.id == f"nav-{key}", "-current")
        self.sub_title = _(label)

    @on(Button.Pressed, ".nav")
    async def _nav(self, event: Button.Pressed) -> None:
        event.stop()
        button_id = event.button.id or ""
        if button_id == "log-off":
            self.action_log_off()
        else:
            await self.show_section(button_id.removeprefix("nav-"))

    @on(Section.Navigate)
    async def _navigate(self, event: Section.Navigate) -> None:
        event.stop()
        if event.key in SECTIONS:
            await self.show_section(event.key)
            self.query_one(f"#nav-{event.key}").focus()

    async def action_section(self, key: str) -> None:
        await self.show_section(key)
        self.query_one(f"#nav-{key}").focus()

    def action_log_off(self) -> None:
        """End the session in the core; the app then shows Welcome."""
        from core.accounts import log_off

        self.call(log_off, console_app(self).token).then(
            lambda _: self.post_message(LoggedOff()), busy=self.query_one("#log-off", Button))
