"""The base of every console section (Overview, Billing address, ...).

A section is one widget shown in the console's content area. It reads the session token from
the app and asks the console to show another section by posting `Section.Navigate`.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.containers import VerticalScroll
from textual.message import Message


class Section(VerticalScroll):
    """One console section; subclasses compose their content."""

    DEFAULT_CSS = """
    Section {
        height: 1fr;
        padding: 0 1;
    }
    """

    @dataclass
    class Navigate(Message):
        """Ask the console to show the section `key` (a key of `tui.sections.registry.SECTIONS`)."""

        key: str

    @property
    def token(self) -> str | None:
        from tui.widgets.console_app import console_app

        return console_app(self).token

    def navigate(self, key: str) -> None:
        self.post_message(self.Navigate(key))
