"""Admission limits of the SSH server: concurrent sessions and connections per address."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_sessions: int = 64
    per_address_per_minute: int = 10
    logon_timeout_s: float = 30.0
    idle_timeout_s: float = 15 * 60.0
    keepalive_s: float = 30.0


class Admission:
    """Counts live sessions and recent connections per address; says why one is refused."""

    def __init__(self, limits: Limits, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._now = monotonic
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self.live = 0

    def connection_refusal(self, address: str) -> str | None:
        """Record a new connection from `address`; the refusal message if it is one too many."""
        now = self._now()
        recent = self._recent[address]
        while recent and now - recent[0] >= 60.0:
            recent.popleft()
        recent.append(now)
        if len(recent) > self.limits.per_address_per_minute:
            return (f"Too many connections from {address}: at most "
                    f"{self.limits.per_address_per_minute} a minute. Try again in a minute.")
        return None

    def session_refusal(self) -> str | None:
        if self.live >= self.limits.max_sessions:
            return (f"The console is full ({self.limits.max_sessions} people are using it). "
                    "Please try again in a few minutes.")
        return None

    def forget_idle_addresses(self) -> None:
        now = self._now()
        for address in [a for a, q in self._recent.items() if not q or now - q[-1] >= 60.0]:
            del self._recent[address]
