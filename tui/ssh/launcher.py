"""How `serve-ssh` starts each session's console: forked by a zygote it keeps running (started
once, restarted when it dies), or, when no zygote can be had, spawned as a new interpreter."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from tui.ssh.consoles import ConsoleProcess, Identity, open_pty, spawn_console
from tui.ssh.zygote_link import (
    READY_TIMEOUT_S,
    ForkUncertain,
    ZygoteLink,
    ZygoteUnavailable,
    zygote_command,
)

log = logging.getLogger("cloudacct.ssh")

QUICK_DEATH_S = 10.0
"""A zygote that dies sooner than this after starting counts as a failure to start."""
RETRIES_AT_ONCE = 3
"""Failures in a row restarted at once; after that, wait (and spawn meanwhile)."""
BACKOFF_MAX_S = 300.0


@dataclass
class Console:
    """A started console: the PTY master the server talks to, and the process behind it."""

    master: int
    process: ConsoleProcess


class ConsoleLauncher:
    """Keeps one zygote running and starts consoles from it, spawning when it cannot."""

    def __init__(self, *, zygote_command: Callable[..., list[str]] = zygote_command,
                 spares: int = 0) -> None:
        """`spares`: consoles the zygote keeps built before anyone connects (tui/ssh/spare.py;
        `serve-ssh --spare-consoles`)."""
        self._command = (zygote_command if not spares
                         else lambda fd: zygote_command(fd, spares))
        self.zygote: ZygoteLink | None = None
        """The zygote in service, if one is."""
        self._settled = asyncio.Event()
        """Set while a zygote is up or known to have failed; clear while one is starting."""
        self._keeper: asyncio.Task | None = None
        self._last_failure: str | None = None

    def start(self) -> None:
        if self._keeper is None:
            self._keeper = asyncio.create_task(self._keep_zygote(), name="zygote-keeper")

    async def _keep_zygote(self) -> None:
        failures = 0
        while True:
            self._settled.clear()
            started = time.monotonic()
            try:
                link = await ZygoteLink.start(self._command)
            except ZygoteUnavailable as exc:
                self._last_failure = f"the zygote did not start ({exc})"
                self._settled.set()
                log.warning("%s: sessions start as new processes until one does",
                            self._last_failure)
                failures += 1
            else:
                self.zygote, self._last_failure = link, None
                self._settled.set()
                log.info("zygote %s ready in %.1f s: sessions are forked from it", link.pid,
                         time.monotonic() - started)
                await asyncio.shield(link.died)
                self._settled.clear()
                self.zygote = None
                status = await _exit_status(link)
                self._last_failure = f"zygote {link.pid} exited (status {status})"
                log.warning("%s after %d sessions; starting another", self._last_failure,
                            link.forks)
                failures = failures + 1 if time.monotonic() - started < QUICK_DEATH_S else 0
            if failures >= RETRIES_AT_ONCE:
                self._settled.set()  # meanwhile, sessions are spawned
                await asyncio.sleep(min(BACKOFF_MAX_S, 5.0 * 2 ** (failures - RETRIES_AT_ONCE)))

    async def _ready_zygote(self) -> ZygoteLink | None:
        """The zygote, waiting for one that is starting; None if there is none to be had."""
        zygote = self.zygote
        if zygote is not None:
            if zygote.alive:
                return zygote
            self._settled.clear()  # it has just died: the keeper is starting another
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled.wait(), READY_TIMEOUT_S)
        zygote = self.zygote
        return zygote if zygote is not None and zygote.alive else None

    async def open(self, identity: Identity, cols: int, rows: int) -> Console:
        """A console for one session on a new PTY of this size."""
        zygote = await self._ready_zygote()
        if zygote is not None:
            master, slave = open_pty(cols, rows)
            try:
                process = await zygote.fork(slave, identity)
            except (ZygoteUnavailable, ForkUncertain) as exc:
                reason = f"zygote {zygote.pid} did not fork ({exc})"
            except BaseException:
                os.close(master)  # hangs up a child that may have been forked on it
                raise
            else:
                return Console(master, process)
            finally:
                os.close(slave)  # the child has its own copy
            os.close(master)  # a fresh PTY below: none is shared with a child we never heard of
        else:
            reason = self._last_failure or "the zygote is not ready"
        log.warning("session from %s: %s; starting its console as a new process",
                    identity.origin, reason)
        master, slave = open_pty(cols, rows)
        try:
            return Console(master, await spawn_console(slave, identity))
        except BaseException:
            os.close(master)
            raise

    def close(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
        if self.zygote is not None:
            self.zygote.close()

    async def wait_closed(self) -> None:
        if self._keeper is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
        if self.zygote is not None:
            await self.zygote.wait_closed()


async def _exit_status(link: ZygoteLink) -> int | None:
    try:
        return await asyncio.wait_for(link.process.wait(), 5.0)
    except TimeoutError:
        return None
