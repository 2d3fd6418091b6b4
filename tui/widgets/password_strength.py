"""The live strength meter under a new password: the estimator's score and its feedback, judged
by every rule core applies when the form is sent.

The meter never judges on its own: `core.validation.password_verdict` takes the password and
the email (its name must not be in the password) and says whether core would accept it, so a
password core refuses is never shown as strong enough.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

from core.i18n import _, translate
from tui.core_calls import CallsCore
from tui.widgets.safe_text import clean_text

if TYPE_CHECKING:
    from core.validation import Strength

_STYLES = ("red", "red", "yellow", "green", "green")
QUIET_TYPING = 0.25  # seconds of quiet typing before the meter is recomputed


class PasswordStrength(CallsCore, Static):
    """Shows "Strength ■■■□□ Strong" and, below, core's refusal, the estimator's warning or
    its first suggestion. `measure(password, email)` as people type."""

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
        self.strength: Strength | None = None
        self._timer: Timer | None = None

    @property
    def score(self) -> int | None:
        return self.strength.score if self.strength is not None else None

    def measure(self, password: str, email: str | None) -> None:
        """Recompute after a moment of quiet typing (the estimator is slow on long input)."""
        if self._timer is not None:
            self._timer.stop()
        if not password:
            self.show(None)
            return
        self._timer = self.set_timer(QUIET_TYPING, lambda: self.measure_now(password, email))

    def measure_now(self, password: str, email: str | None) -> None:
        """Ask core's verdict at once (off the UI thread)."""
        from core.validation import password_verdict

        if self._timer is not None:
            self._timer.stop()
        if not password:
            self.show(None)
            return
        self.call(password_verdict, password, (email or "").strip()).then(self.show)

    def show(self, strength: Strength | None) -> None:
        """Show `strength` (None clears the meter)."""
        self.strength = strength
        if strength is None:
            self.update("")
            return
        filled = strength.score + 1
        text = Text(_("Strength") + " ")
        text.append("■" * filled, style=_STYLES[strength.score])
        text.append("□" * (5 - filled), style="dim")
        text.append(f" {_(strength.label)}")
        if not strength.acceptable:
            text.append(" — " + _("not strong enough yet"), style="dim")
        hint = strength.warning or (strength.suggestions[0] if strength.suggestions else "")
        if hint:
            text.append("\n")
            text.append(clean_text(translate(hint)))
        self.update(text)
