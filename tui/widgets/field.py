"""One labelled form field: the label, the input (or select, checkbox…), what else belongs on
its line (a Send button), an optional hint, and its error line `#<id>-error`.

Every form builds its rows from this, so a field looks, wraps and reports its errors the same
everywhere, and the error line a refusal is shown in (tui/core_calls.py) always exists:

    yield LabelledField("Email", BoundedInput(id="email", placeholder="your log-on ID"))
    yield LabelledField("Phone", BoundedInput(id="phone"), Button("Send", id="send"),
                        hint="We will text or call it with a 6-digit code.")
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Label, Static

from tui.widgets.safe_text import FieldError


class LabelledField(Vertical):
    """A form row (`.field-row`) with its hint and error line below (`.field-note`)."""

    def __init__(self, label: str, field: Widget, *beside: Widget, hint: str | None = None,
                 error_id: str | None = None, id: str | None = None,
                 classes: str = "") -> None:
        """`error_id` names the error line when it is not the field's own id (e.g. a group of
        radio buttons whose errors go to `#<group>-error`)."""
        super().__init__(id=id or (f"{field.id}-row" if field.id else None),
                         classes=f"labelled-field {classes}".strip())
        self.label = label
        self.field = field
        self.beside = beside
        self.hint = hint
        self.error_id = error_id or field.id or ""

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-row"):
            yield Label(self.label, classes="field-label")
            yield self.field
            yield from self.beside
        if self.hint:
            yield Static(self.hint, classes="hint field-note", markup=False)
        yield FieldError(self.error_id, classes="field-note")
