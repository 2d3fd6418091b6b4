"""Showing text people typed (or that contains what they typed) without letting it act.

Markup is never parsed (`markup=False`), and control, format and line-separator characters are
removed so that `\\x1b[2J`, OSC sequences or a right-to-left override cannot reach the terminal.
"""

from __future__ import annotations

import unicodedata

from textual.widgets import Static

_DROP = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def clean_text(text: object, *, keep_newlines: bool = False) -> str:
    """`text` as a string without control or invisible characters (newlines kept if asked)."""
    value = "" if text is None else str(text)
    out = []
    for ch in value:
        if keep_newlines and ch == "\n":
            out.append(ch)
        elif ch == "\t":
            out.append(" ")
        elif unicodedata.category(ch) not in _DROP:
            out.append(ch)
    return "".join(out)


class SafeStatic(Static):
    """A Static for untrusted text: markup off, control characters removed."""

    def __init__(self, text: object = "", *, keep_newlines: bool = True, **kwargs) -> None:
        self._keep_newlines = keep_newlines
        super().__init__(clean_text(text, keep_newlines=keep_newlines), markup=False, **kwargs)

    def update(self, content: object = "", *, layout: bool = True) -> None:  # type: ignore[override]
        super().update(clean_text(content, keep_newlines=self._keep_newlines), layout=layout)

    @property
    def text(self) -> str:
        """The plain text shown."""
        return str(self.content)


class FieldError(SafeStatic):
    """The error line beside a field (`#<field>-error`); hidden while empty."""

    DEFAULT_CSS = """
    FieldError {
        color: $text-error;
        height: auto;
        display: none;
    }
    FieldError.-shown {
        display: block;
    }
    """

    def __init__(self, field: str, *, classes: str = "", **kwargs) -> None:
        super().__init__("", id=f"{field}-error", classes=f"field-error {classes}".strip(),
                         **kwargs)

    def show(self, message: str | None) -> None:
        """Show `message` (or clear with None/empty)."""
        self.update(message or "")
        self.set_class(bool(message), "-shown")

    def clear(self) -> None:
        self.show(None)
