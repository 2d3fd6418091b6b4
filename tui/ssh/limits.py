"""Admission limits of the SSH server, counted from the first byte of every TCP connection.

A connection is counted the moment it is accepted, before the SSH version exchange: against
the connections of its address at once and in the last minute, and against every connection
at once. One refused there costs a closed socket and nothing else (no key exchange, no
authentication, no process). What was admitted is bounded in time: `logon_timeout_s` to
authenticate, `channel_timeout_s` to open its one channel, `idle_timeout_s` without input.

IPv6 addresses are counted by their /64 (what one subscriber is given), so a client cannot
escape the per-address limits by changing the low bits of its address.
"""

from __future__ import annotations

import ipaddress
import logging
import resource
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from core.i18n import phrase

ACCEPT_BURST = 128
"""The listening socket's backlog, which is also how many connections asyncio accepts in one
go: each holds a descriptor for a moment even when it is refused at once."""
RESERVED_FDS = 64 + ACCEPT_BURST
"""Descriptors kept for everything that is not a held connection: listening sockets, the
zygote's socket, the database's files in each worker thread, the log, a spawned console's
pipes, and a burst of connections being accepted (and perhaps refused)."""
FDS_PER_CONNECTION = 3
"""A connection's socket plus, at most, its console's PTY master or two open SFTP files."""
DEFAULT_MAX_CONNECTIONS = 512


@dataclass(frozen=True)
class Limits:
    max_sessions: int = 64
    """Consoles at once (each is a process)."""
    per_address_per_minute: int = 10
    """New connections from one address in any 60 s, refused ones included."""
    per_address: int = 8
    """Connections from one address at once, whatever state they are in."""
    max_connections: int | None = None
    """Connections at once from everybody; None: DEFAULT_MAX_CONNECTIONS, lowered to what the
    descriptor limit allows (`connection_ceiling`)."""
    logon_timeout_s: float = 30.0
    """From the first byte to a completed authentication."""
    channel_timeout_s: float = 10.0
    """An authenticated connection with no channel open (before its console, or after it)."""
    idle_timeout_s: float = 15 * 60.0
    keepalive_s: float = 30.0


def raise_fd_limit() -> int:
    """Raise this process's soft limit of open files to its hard limit; the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def connection_ceiling(requested: int | None, fd_limit: int) -> int:
    """The most connections at once this process can hold without running out of file
    descriptors, and at most `requested` (DEFAULT_MAX_CONNECTIONS when None)."""
    fits = max(1, (fd_limit - RESERVED_FDS) // FDS_PER_CONNECTION)
    wanted = DEFAULT_MAX_CONNECTIONS if requested is None else requested
    return max(1, min(wanted, fits))


def address_key(address: str) -> str:
    """The unit the per-address limits count: the IPv4 address, or the IPv6 /64."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass(frozen=True)
class Refusal:
    reason: str
    """Short, for the operator's log (one line per address and reason)."""
    message: str
    """For the person connecting."""


class Admission:
    """Counts connections at accept time; says why one is refused. Also counts consoles."""

    def __init__(self, limits: Limits, *, max_connections: int,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.max_connections = max_connections
        self._now = monotonic
        self._recent: dict[str, deque[float]] = {}
        self._open: dict[str, int] = {}
        self.connections = 0
        self.live = 0
        """Consoles running."""
        self._swept = monotonic()

    def admit(self, address: str) -> Refusal | None:
        """Count a new connection from `address`; None if admitted (release it later), else
        why it is refused (nothing to release)."""
        now = self._now()
        self._sweep(now)
        key = address_key(address)
        recent = self._recent.get(key)
        if recent is None:
            recent = self._recent[key] = deque(maxlen=max(1, self.limits.per_address_per_minute))
        full_minute = len(recent) == recent.maxlen and now - recent[0] < 60.0
        recent.append(now)  # refused attempts count too: a flood stays refused while it lasts
        if full_minute:
            return Refusal("connections per minute",
                           phrase("Too many connections from {address}: at most {n} a minute. "
                                  "Try again in a minute.", address=address,
                                  n=self.limits.per_address_per_minute))
        if self._open.get(key, 0) >= self.limits.per_address:
            return Refusal("connections at once",
                           phrase("Too many connections from {address} at once: at most {n}. "
                                  "Close one and try again.", address=address,
                                  n=self.limits.per_address))
        if self.connections >= self.max_connections:
            return Refusal("server full",
                           phrase("The server is busy. Please try again in a few minutes."))
        self._open[key] = self._open.get(key, 0) + 1
        self.connections += 1
        return None

    def release(self, address: str) -> None:
        key = address_key(address)
        count = self._open.get(key, 0) - 1
        if count > 0:
            self._open[key] = count
        else:
            self._open.pop(key, None)
        self.connections = max(0, self.connections - 1)

    def open_from(self, address: str) -> int:
        return self._open.get(address_key(address), 0)

    def session_refusal(self) -> str | None:
        if self.live >= self.limits.max_sessions:
            return phrase("The console is full ({n} people are using it). Please try again in a "
                          "few minutes.", n=self.limits.max_sessions)
        return None

    def _sweep(self, now: float) -> None:
        """Forget addresses not seen for a minute (at most once every 10 s): the table holds
        only the last minute's addresses."""
        if now - self._swept < 10.0:
            return
        self._swept = now
        for key in [k for k, q in self._recent.items() if not q or now - q[-1] >= 60.0]:
            del self._recent[key]


class RefusalLog:
    """Every refusal logged once (address, reason) without flooding the log: the first one of
    an address and reason is logged at once, repeats within `window_s` are counted and
    summed up in one line when the next one comes after the window."""

    def __init__(self, logger: logging.Logger, window_s: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic, max_keys: int = 10_000) -> None:
        self._log = logger
        self._window = window_s
        self._now = monotonic
        self._max_keys = max_keys
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}

    def refused(self, address: str, reason: str, detail: str = "") -> None:
        now = self._now()
        key = (address_key(address), reason)
        first, repeats = self._seen.get(key, (0.0, -1))
        if repeats >= 0 and now - first < self._window:
            self._seen[key] = (first, repeats + 1)
            return
        if len(self._seen) >= self._max_keys:
            self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self._window}
            if len(self._seen) >= self._max_keys:  # a storm of addresses: say so, once a window
                self._log.warning("refusing from %d addresses; no longer logging each",
                                  len(self._seen))
                self._seen.clear()
        self._seen[key] = (now, 0)
        more = f" (and {repeats} more in the last {self._window:.0f} s)" if repeats > 0 else ""
        self._log.warning("refused %s: %s%s%s", address, reason,
                          f" {detail}" if detail else "", more)
