"""The placeholder of a console section that a later issue builds."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Button, Static

from tui.widgets.section import Section


class NotBuiltSection(Section):
    """Says plainly what the section will do; `later=True` adds **Later** (to the overview)."""

    def __init__(self, title: str, what: str, *, later: bool = False) -> None:
        super().__init__()
        self.title = title
        self.what = what
        self.later = later

    def compose(self) -> ComposeResult:
        yield Static(self.title, classes="title", markup=False)
        yield Static(f"This section is not built yet: {self.what}.", classes="not-built",
                     markup=False)
        if self.later:
            yield Button("Later", id="later", compact=True)

    @on(Button.Pressed, "#later")
    def _later(self, event: Button.Pressed) -> None:
        event.stop()
        self.navigate("overview")
