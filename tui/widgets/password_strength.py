"""The live strength meter under a new password: the estimator's score and its feedback."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from tui.widgets.safe_text import clean_text

if TYPE_CHECKING:
    from core.validation import Strength

_STYLES = ("red", "red", "yellow", "green", "green")
_REQUIRED = 3  # core.validation.MIN_STRENGTH, without importing the estimator at start-up


class PasswordStrength(Static):
    """Shows "Strength ■■■□□ Strong" and, below, the estimator's warning or first suggestion."""

    DEFAULT_CSS = """
    PasswordStrength {
        height: 2;  /* fixed: the form must not move under the pointer while people type */
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self.score: int | None = None

    def show(self, strength: Strength | None) -> None:
        """Show `strength` (None clears the meter)."""
        if strength is None:
            self.score = None
            self.update("")
            return
        self.score = strength.score
        filled = strength.score + 1
        text = Text("Strength ")
        text.append("■" * filled, style=_STYLES[strength.score])
        text.append("□" * (5 - filled), style="dim")
        text.append(f" {strength.label}")
        if strength.score < _REQUIRED:
            text.append(" — not strong enough yet", style="dim")
        hint = strength.warning or (strength.suggestions[0] if strength.suggestions else "")
        if hint:
            text.append("\n")
            text.append(clean_text(hint))
        self.update(text)
