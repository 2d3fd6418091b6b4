"""Where the console goes next, said by the screen that knows, decided by the app.

Screens and sections post one of these messages (`self.post_message(GoTo("log-on"))`); it
bubbles to `CloudAcctApp`, which alone routes between screens and holds the session token. No
screen calls the app's methods or pushes another main screen itself; modals are opened with
`push_screen(modal, callback)` and answer only through `dismiss`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from textual.message import Message

if TYPE_CHECKING:
    from core.accounts import LogOnResult, SignUpResult

Destination = Literal["welcome", "log-on", "sign-up", "forgot-password"]


@dataclass
class GoTo(Message):
    """Show one of the screens nobody needs to be logged on for (with a message on Welcome)."""

    screen: Destination
    message: str | None = None


@dataclass
class SignedUp(Message):
    """F1 done: the new account (or the decoy of an existing one) verifies next."""

    result: SignUpResult


@dataclass
class LoggedOn(Message):
    """F3 done (after the MFA step when it is on): verify, or the console."""

    result: LogOnResult


@dataclass
class Verified(Message):
    """F2 done: the console opens at the billing address (SPEC F4)."""


@dataclass
class LoggedOff(Message):
    """The person logged off (the session is already ended in the core)."""


@dataclass
class SessionEnded(Message):
    """The session ended elsewhere or by time: back to Welcome, saying why."""

    message: str
