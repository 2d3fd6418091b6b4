"""The key bar at the foot of every screen and modal, in the console's language.

Textual's Footer shows each binding's description as written; bindings are declared once per
class (at import, before any language is chosen), so their descriptions are marked with `N_`
and translated here, each time the bar is built (after a language switch too).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from core.i18n import _


class ConsoleFooter(Footer):
    """Footer with the binding descriptions translated."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                widget.description = _(widget.description) if widget.description else ""
                if widget.tooltip:
                    widget.tooltip = _(str(widget.tooltip))
            yield widget
