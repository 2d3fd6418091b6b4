"""A QR code drawn in the terminal, for a phone's camera (SPEC F13: the MFA secret's URI).

Each character cell holds two modules, one above the other: the upper half block `▀` in the
upper module's colour on the lower module's colour. A cell is about twice as tall as it is wide,
so the modules come out square, and a version-6 code (an `otpauth://` URI with a usual email)
with its quiet zone is 45 columns by 23 rows: it fits an 80×24 terminal.

The colours are set explicitly, black modules on white, whatever the theme: a light code on a
dark background (a dark theme's foreground on its background) is the inverse of what many phone
scanners read, and the quiet zone around it must be light too, so it is drawn as part of the
code rather than left to the window's background. segno is imported only when a code is drawn.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

QUIET_ZONE = 2
"""Modules of light border on each side. ISO 18004 asks for 4; phone scanners read 2 reliably,
and 2 keep the code inside 24 rows."""

DARK = "#000000"
LIGHT = "#ffffff"
UPPER_HALF = "\u2580"  # ▀

_STYLES = {(top, bottom): Style(color=DARK if top else LIGHT, bgcolor=DARK if bottom else LIGHT)
           for top in (False, True) for bottom in (False, True)}


def qr_modules(data: str, border: int = QUIET_ZONE) -> list[list[bool]]:
    """The code's modules (True: dark), quiet zone included, row by row."""
    import segno

    code = segno.make_qr(data, error="l")  # the smallest code; segno raises the level if it fits
    return [[bool(module) for module in row] for row in code.matrix_iter(scale=1, border=border)]


def _cells(upper: list[bool], lower: list[bool]) -> Iterator[tuple[str, Style]]:
    """Runs of equal cells of one text row, as (characters, style)."""
    run_style: Style | None = None
    length = 0
    for pair in zip(upper, lower, strict=True):
        style = _STYLES[pair]
        if style is run_style:
            length += 1
            continue
        if run_style is not None:
            yield UPPER_HALF * length, run_style
        run_style, length = style, 1
    if run_style is not None:
        yield UPPER_HALF * length, run_style


def qr_text(data: str, border: int = QUIET_ZONE) -> Text:
    """The code as text: one line per two rows of modules (an odd last row over light)."""
    rows = qr_modules(data, border)
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    text = Text(no_wrap=True, overflow="crop", end="")
    for index in range(0, len(rows), 2):
        if index:
            text.append("\n")
        for characters, style in _cells(rows[index], rows[index + 1]):
            text.append(characters, style)
    return text


class QrCode(Static):
    """`data` as a QR code (`.qr-code` in app.tcss sizes it to its content)."""

    def __init__(self, data: str, *, id: str | None = None, classes: str = "") -> None:
        super().__init__(qr_text(data), id=id, classes=f"qr-code {classes}".strip(),
                         markup=False)
        self.data = data
