"""One SSH session's console process, however it was started, and the spawn path that starts
one as a new interpreter (`python -m tui.ssh.session`).

The spawn path is the fallback when the zygote (tui/ssh/zygote.py) cannot be used: it pays the
whole Python + Textual import for every session, but depends on nothing else running.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import signal
import struct
import sys
import termios
from abc import ABC, abstractmethod
from dataclasses import dataclass

from core.i18n import LANGUAGES
from tui.terminal_type import DEFAULT_TERM, clean_term

STOP_SIGNALS = ((signal.SIGHUP, 2.0), (signal.SIGKILL, 2.0))
"""How a console is ended: hang up (Textual exits cleanly), then kill; seconds to wait each."""


@dataclass(frozen=True)
class Identity:
    """Who connected, as the SSH server established it (never what the client claims)."""

    origin: str
    key_fingerprint: str | None
    term: str = DEFAULT_TERM
    ssh_address: str | None = None
    """"host:port" people reach this server at (for the scp/sftp commands the console shows)."""
    key_algorithm: str | None = None
    """The proven key's type (`sk-ssh-ed25519@openssh.com` for a security key)."""
    user_presence: bool = False
    """The key is a security key and asyncssh accepted its signature only with the touch flag:
    with MFA on, the second factor (F13)."""
    language: str | None = None
    """The language of the client's own LC_ALL / LC_MESSAGES / LANG (OpenSSH's SendEnv), as
    `core.i18n.language_of_tag` read it: `en`, `zh-Hans` or None (never the raw value)."""

    def as_message(self) -> dict[str, str | bool | None]:
        return {"origin": self.origin, "key_fingerprint": self.key_fingerprint,
                "key_algorithm": self.key_algorithm, "user_presence": self.user_presence}


def set_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", max(rows, 1), max(cols, 1), 0, 0))


def open_pty(cols: int, rows: int) -> tuple[int, int]:
    """A fresh (master, slave) pair with the client's window size on it."""
    master, slave = os.openpty()
    set_size(slave, cols, rows)
    return master, slave


def take_controlling_terminal() -> None:
    """In the child, after setsid: make the PTY on stdin the controlling terminal, whose
    hang-up ends the console (even when the server was started with SIGHUP ignored)."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def child_environment(term: str | None, ssh_address: str | None = None,
                      language: str | None = None) -> dict[str, str]:
    """The whole environment of a console: our settings and the basics, nothing the SSH client
    sent (the terminal type and the language only once checked).

    The server's own locale is not passed on: it must not choose a client's language (F18),
    so the console gets `LANG=C.UTF-8` for the encoding and the language of the client's
    locale, as `language` names it, in CLOUDACCT_CLIENT_LANGUAGE."""
    from tui.language import CLIENT_LANGUAGE_VARIABLE

    env = {k: v for k, v in os.environ.items()
           if k.startswith("CLOUDACCT_") or k in ("PATH", "HOME", "PYTHONPATH", "VIRTUAL_ENV",
                                                  "TMPDIR")}
    env.pop("CLOUDACCT_SSH_ADDRESS", None)
    env.pop(CLIENT_LANGUAGE_VARIABLE, None)
    if ssh_address:
        env["CLOUDACCT_SSH_ADDRESS"] = ssh_address
    if language in LANGUAGES:
        env[CLIENT_LANGUAGE_VARIABLE] = language
    env["TERM"] = clean_term(term)
    env["LANG"] = "C.UTF-8"
    env["COLORTERM"] = "truecolor"
    return env


class ConsoleProcess(ABC):
    """A running console: its pid, how it ended, and a way to end it."""

    pid: int
    from_spare: bool = False
    """A spare console handed this session (tui/ssh/spare.py): built already, it starts in
    milliseconds and takes no turn of the start queue."""

    @property
    @abstractmethod
    def returncode(self) -> int | None:
        """The exit code once it has ended (negative: killed by that signal), else None."""

    @abstractmethod
    async def wait(self) -> int | None:
        """Until the process has ended; its exit code when known."""

    @abstractmethod
    async def send_signal(self, sig: int) -> None:
        """Signal the console (a no-op once it has ended)."""

    @property
    def ended(self) -> bool:
        return self.returncode is not None

    async def stop(self) -> None:
        """Hang up, then kill, waiting a little after each."""
        for sig, wait in STOP_SIGNALS:
            if self.ended:
                return
            await self.send_signal(sig)
            try:
                await asyncio.wait_for(self.wait(), wait)
                return
            except TimeoutError:
                continue


class SpawnedConsole(ConsoleProcess):
    """A console started as a new interpreter, a child of the server itself."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self.pid = process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.returncode

    async def wait(self) -> int | None:
        return await self._process.wait()

    async def send_signal(self, sig: int) -> None:
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)  # its own session: pgid == pid


async def spawn_console(slave: int, identity: Identity) -> SpawnedConsole:
    """`python -m tui.ssh.session` on the PTY `slave` (closed here), identity on a pipe."""
    identity_read, identity_write = os.pipe()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui.ssh.session", "--identity-fd", str(identity_read),
            stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
            preexec_fn=take_controlling_terminal, pass_fds=(identity_read,),
            env=child_environment(identity.term, identity.ssh_address, identity.language))
    except BaseException:
        os.close(identity_write)
        raise
    finally:
        os.close(slave)
        os.close(identity_read)
    with os.fdopen(identity_write, "w") as pipe:
        json.dump(identity.as_message(), pipe)
    return SpawnedConsole(process)
