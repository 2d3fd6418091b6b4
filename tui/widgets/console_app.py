"""The running console, typed: what a screen or widget reads of it (the session token, where
the person connected from, the SSH key) without `# type: ignore`."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    from tui.app import CloudAcctApp


def console_app(node: MessagePump) -> CloudAcctApp:
    """`node.app` as the CloudAcctApp it is."""
    return cast("CloudAcctApp", node.app)
