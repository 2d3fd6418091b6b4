"""Find text in a terminal's output without a terminal emulator (issue 16, Deliver 2).

The benchmark used to feed every byte to pyte and search the emulated screen: with twenty
sessions at once that emulation was a third of the figure (the clients' own CPU). Textual
writes each run of styled text whole ("\\x1b[1;30;102m Free Account \\x1b[0m"), so removing the
escape sequences from the bytes and searching the text is enough, and costs next to nothing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ESCAPES = re.compile(
    rb"\x1b(?:\[[0-9;:?<>=!$ ]*[@-~]"  # CSI (cursor moves, colours, modes)
    rb"|\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC (titles, colours), BEL or ST ended
    rb"|[PX^_][^\x1b]*\x1b\\"  # DCS, SOS, PM, APC
    rb"|[()*+][0-9A-Za-z]"  # character set designations
    rb"|[ -/]*[0-~])"  # any other two- or three-byte escape
)
KEEP = 4096
"""Bytes kept between reads: a text or an escape sequence may be split across two reads."""


class RawScreen:
    """The text of a terminal's recent output, escapes removed, for `seen`."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> None:
        """Keep the end of what came before (a text may straddle two reads) and all of this."""
        self._buffer = self._buffer[-KEEP:] + data

    def seen(self, text: str) -> bool:
        return text.encode("utf-8") in ESCAPES.sub(b"", self._buffer)

    def clear(self) -> None:
        self._buffer = b""


ECHO_KEYS = "zxwvqjkybg"
"""Typed one by one into an empty field: each key is new there, so the first output holding it
(escapes removed) is its echo, never an earlier redraw (a cursor blink redraws the field)."""

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (since its fork, for a forked one)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def memory_kib(pid: int) -> dict[str, int]:
    """Pss, Rss and Private (clean + dirty) in KiB, from /proc/<pid>/smaps_rollup."""
    values = {"Pss": 0, "Rss": 0, "Private": 0}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name = parts[0].rstrip(":")
        if name in ("Pss", "Rss"):
            values[name] = int(parts[1])
        elif name in ("Private_Clean", "Private_Dirty"):
            values["Private"] += int(parts[1])
    return values
