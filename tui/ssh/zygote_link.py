"""The server's side of one zygote (tui/ssh/zygote.py): start it, ask it to fork, hear how
each child ended, and notice when it dies."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from tui.ssh import wire
from tui.ssh.consoles import DEFAULT_TERM, ConsoleProcess, Identity, child_environment

log = logging.getLogger("cloudacct.ssh")

READY_TIMEOUT_S = 60.0
"""How long the zygote may take to import everything (generous: a busy machine)."""
FORK_TIMEOUT_S = 10.0
"""A fork takes milliseconds; a zygote that has not answered by then is stuck."""


class ZygoteUnavailable(Exception):
    """No fork was made; the PTY may be used by another way of starting the console."""


class ForkUncertain(Exception):
    """The request went out but no answer came: a child may exist on that PTY."""


def zygote_command(fd: int, spares: int = 0) -> list[str]:
    """The zygote's command line, given the descriptor of its end of the socket and how many
    spare consoles it keeps built (tui/ssh/spare.py)."""
    return [sys.executable, "-m", "tui.ssh.zygote", "--fd", str(fd), "--spares", str(spares)]


class ForkedConsole(ConsoleProcess):
    """A console forked by the zygote: it reports the exit, and signals it on our behalf
    (only it knows whether the pid is still its unreaped child)."""

    def __init__(self, link: ZygoteLink, pid: int) -> None:
        self.pid = pid
        self._link: ZygoteLink | None = link
        self._returncode: int | None = None
        self._done = asyncio.get_running_loop().create_future()
        self._pidfd: int | None = None

    @property
    def returncode(self) -> int | None:
        return self._returncode

    @property
    def ended(self) -> bool:
        return self._done.done()  # an orphan's end is known, its exit code is not

    async def wait(self) -> int | None:
        await asyncio.shield(self._done)
        return self._returncode

    async def send_signal(self, sig: int) -> None:
        if self._done.done():
            return
        if self._link is not None:
            with contextlib.suppress(ZygoteUnavailable):
                await self._link.send({"op": "signal", "pid": self.pid, "signal": int(sig)})
                return
        if self._pidfd is not None:  # the zygote is gone: the pidfd still names this process
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, sig)

    def exited(self, returncode: int | None) -> None:
        if self._done.done():
            return
        self._returncode = returncode
        self._done.set_result(None)
        if self._pidfd is not None:
            asyncio.get_running_loop().remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None

    def orphaned(self) -> None:
        """The zygote died before this child: watch it through a pidfd (it is still running,
        since the zygote had not reported its end, and init reaps it now)."""
        self._link = None
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except ProcessLookupError:
            self.exited(None)
            return
        except (OSError, AttributeError):
            return  # no pidfd here: the session still ends when the PTY closes
        asyncio.get_running_loop().add_reader(self._pidfd, self.exited, None)


class ZygoteLink:
    """One running zygote process and the socket to it."""

    def __init__(self, process: asyncio.subprocess.Process, sock: socket.socket) -> None:
        self.process = process
        self.pid = process.pid
        self._sock = sock
        self._loop = asyncio.get_running_loop()
        self._ids = itertools.count(1)
        self._ready: asyncio.Future[None] = self._loop.create_future()
        self._pending: dict[int, asyncio.Future[ForkedConsole]] = {}
        self.children: dict[int, ForkedConsole] = {}
        self.died: asyncio.Future[None] = self._loop.create_future()
        """Done once the zygote has hung up (await it shielded: cancelling it is no hang-up)."""
        self._gone_already = False
        self.forks = 0
        self._loop.add_reader(sock, self._on_readable)

    @classmethod
    async def start(cls, command: Callable[[int], list[str]] = zygote_command) -> ZygoteLink:
        """Start a zygote and wait until it has imported everything and is ready to fork."""
        ours, theirs = wire.socket_pair()
        try:
            process = await asyncio.create_subprocess_exec(
                *command(theirs.fileno()),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),), start_new_session=True,
                env=child_environment(DEFAULT_TERM))
        except OSError as exc:
            ours.close()
            raise ZygoteUnavailable(f"cannot start: {exc}") from exc
        finally:
            theirs.close()
        ours.setblocking(False)
        link = cls(process, ours)
        try:
            await asyncio.wait_for(asyncio.shield(link._ready), READY_TIMEOUT_S)
        except (TimeoutError, ZygoteUnavailable) as exc:
            await link.kill()
            reason = "not ready in time" if isinstance(exc, TimeoutError) else str(exc)
            raise ZygoteUnavailable(f"{reason} (exit status {process.returncode})") from None
        except asyncio.CancelledError:  # the server is closing while the zygote starts
            link._gone()
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            raise
        return link

    @property
    def alive(self) -> bool:
        return not self._gone_already

    async def fork(self, slave: int, identity: Identity) -> ForkedConsole:
        """A child of the zygote running the console on the PTY `slave` (which stays ours to
        close)."""
        request_id = next(self._ids)
        answer = self._loop.create_future()
        self._pending[request_id] = answer
        try:
            await self.send({"op": "fork", "id": request_id, "identity": identity.as_message(),
                             "env": child_environment(identity.term,
                                                            identity.ssh_address,
                                                            identity.language)}, [slave])
            try:
                return await asyncio.wait_for(asyncio.shield(answer), FORK_TIMEOUT_S)
            except TimeoutError:
                log.warning("zygote %s did not answer a fork in %.0f s; stopping it", self.pid,
                            FORK_TIMEOUT_S)
                await self.kill()
                raise ForkUncertain("no answer") from None
            except ZygoteUnavailable as exc:
                raise ForkUncertain(str(exc)) from None
        finally:
            self._pending.pop(request_id, None)
            if not answer.done():
                answer.cancel()

    async def send(self, message: dict[str, Any], fds: list[int] | None = None) -> None:
        data = wire.encode(message)
        while True:
            if not self.alive:
                raise ZygoteUnavailable("the zygote has exited")
            try:
                socket.send_fds(self._sock, [data], fds or [])
                return
            except BlockingIOError:
                writable: asyncio.Future[None] = self._loop.create_future()
                self._loop.add_writer(self._sock, _resolve, writable)
                try:
                    await asyncio.wait([writable, self.died],
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    self._loop.remove_writer(self._sock)
            except OSError as exc:
                self._gone()
                raise ZygoteUnavailable(f"the zygote has exited ({exc.strerror})") from None

    def _on_readable(self) -> None:
        while self.alive:
            try:
                data = self._sock.recv(wire.MAX_MESSAGE)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._gone()
                return
            try:
                self._handle(wire.decode(data))
            except (ValueError, KeyError, TypeError):
                log.warning("zygote %s sent a message that makes no sense: %r", self.pid,
                            data[:200])

    def _handle(self, message: dict[str, Any]) -> None:
        op = message["op"]
        if op == "ready":
            if not self._ready.done():
                self._ready.set_result(None)
        elif op == "forked":
            child = ForkedConsole(self, int(message["pid"]))
            child.from_spare = message.get("spare") is True
            self.children[child.pid] = child
            self.forks += 1
            answer = self._pending.get(message["id"])
            if answer is not None and not answer.done():
                answer.set_result(child)
        elif op == "failed":
            answer = self._pending.get(message["id"])
            if answer is not None and not answer.done():
                answer.set_exception(ZygoteUnavailable(str(message.get("error"))))
        elif op == "exited":
            child = self.children.pop(int(message["pid"]), None)
            if child is not None:
                returncode = message.get("returncode")
                child.exited(int(returncode) if returncode is not None else None)

    def _gone(self) -> None:
        """The zygote hung up (it died, or we closed): fail what waits, orphan its children."""
        if self._gone_already:
            return
        self._gone_already = True
        self._loop.remove_reader(self._sock)
        self._sock.close()
        for answer in self._pending.values():
            if not answer.done():
                answer.set_exception(ZygoteUnavailable("the zygote has exited"))
        if not self._ready.done():
            self._ready.set_exception(ZygoteUnavailable("the zygote has exited"))
            self._ready.exception()  # retrieved: nobody else may be waiting for it
        for child in self.children.values():
            child.orphaned()
        self.children.clear()
        if not self.died.done():
            self.died.set_result(None)

    def close(self) -> None:
        """Hang up: the zygote hangs up its children and exits."""
        self._gone()

    async def kill(self) -> None:
        self._gone()
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        await self.process.wait()

    async def wait_closed(self, timeout: float = 10.0) -> None:
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            await self.kill()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
