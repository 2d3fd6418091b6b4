"""The zygote: one process that has imported the console, forking a child per SSH session.

A new interpreter per session pays the whole Python + Textual import (about a second of CPU)
before the first screen; twenty people connecting at once on two cores wait for twenty of
those. `serve-ssh` starts this process once (`python -m tui.ssh.zygote --fd N`); it imports
everything a console needs at start, then waits. Per session the server sends the PTY's slave
and who connected; the zygote forks, and the child (already warm) runs the console at once.
Forked children also share the imported modules' pages with the zygote until they write them.

Why a socketpair inherited from the server, not a Unix socket in the data directory: there is
no path to create, protect (mode 0700) and clean up, no moment in which another local user
could connect and have a console forked with an identity of their choosing, and the zygote
learns of the server's death by end-of-file on it. It also makes this module a child of the
server, so the server reaps it and sees when it dies.

What must hold at fork, so a child starts as clean as a new interpreter:
- before forking the zygote opens no database connection, starts no thread and runs no event
  loop (checked after the imports: a zygote that finds one refuses to serve, and the server
  falls back to spawning);
- the child gets a session of its own with the PTY as controlling terminal (so resizes arrive
  as SIGWINCH and a hang-up as SIGHUP), the PTY on 0/1/2, the environment the server computed
  for it, the signal handlers of a new interpreter, a new `random` seed, and none of the
  zygote's descriptors;
- the zygote reaps every child (SIGCHLD, waitpid) and tells the server how it ended, and
  signals a child only while it is its unreaped child, so a recycled pid is never hit.

Every child shares the zygote's string-hash seed (PYTHONHASHSEED is fixed at interpreter
start), as threads of one server would.

Protocol (tui/ssh/wire.py):
  server -> zygote  {"op": "fork", "id", "identity", "env"} + the PTY slave (SCM_RIGHTS)
                    {"op": "signal", "pid", "signal"}
  zygote -> server  {"op": "ready", "pid"}
                    {"op": "forked", "id", "pid"} or {"op": "failed", "id", "error"}
                    {"op": "exited", "pid", "returncode"}
The window size is not in the message: the server sets it on the PTY before sending, and later
resizes go to the PTY too, so no stale copy can undo one.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import gc
import importlib
import os
import pkgutil
import random
import select
import signal
import socket
import sys
import termios
import threading
import traceback
from dataclasses import dataclass
from typing import Any

from tui.ssh import wire

PRELOAD = (
    # what the console imports on its way to the Welcome screen beyond tui.app (found by
    # diffing sys.modules of a console run against this list)
    "textual.drivers.linux_driver", "textual._xterm_parser", "textual.worker_manager",
    "textual.layouts.factory", "textual.layouts.horizontal", "textual.layouts.stream",
    "textual.scrollbar", "textual.pilot", "textual.drivers.headless_driver",
    "concurrent.futures.thread",
    # the core the console touches at start (settings, database, log-on by key, reconcile)
    "core.config", "core.db", "core.migrations", "core.models", "core.accounts",
    "core.sessions", "core.security", "core.reconciliation", "core.gateway.sandbox",
    "sqlite3", "playhouse.db_url",
)
PRELOAD_PACKAGES = ("tui.screens", "tui.sections", "tui.modals", "tui.widgets")
"""Every screen and widget: screens import their modals and core modules when first shown."""
PRELOAD_LIBRARIES = ("zxcvbn", "phonenumbers", "email_validator", "argon2", "pycountry")
"""What core.validation and core.hashing import when first used (sign-up, log-on): loaded
once here, their pages are shared by every session instead of copied into each (~16 MiB)."""


@dataclass
class Fork:
    """In the child: what the server asked for."""

    identity: dict[str, Any]


def preload() -> None:
    """Import the console once, here, instead of once per session. Only the console itself
    must import; a module that fails is left for the session to import (and report) itself."""
    importlib.import_module("tui.app")
    importlib.import_module("tui.ssh.session")
    names = [*PRELOAD]
    for package_name in PRELOAD_PACKAGES:
        package = importlib.import_module(package_name)
        names += [info.name for info in pkgutil.walk_packages(
            package.__path__, prefix=package_name + ".", onerror=lambda name: None)]
    for name in [*names, *PRELOAD_LIBRARIES]:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 (one module less shared, no more)
            print(f"cloudacct zygote: not preloaded: {name}: {exc!r}", file=sys.stderr)
    with contextlib.suppress(Exception):
        from core.validation import countries

        countries()  # pycountry's data, loaded on first use; pure, reads no settings
    warm()
    # Move everything imported out of the collector's sight: a collection in a child would
    # otherwise touch (and so copy) every page of it.
    gc.collect()
    gc.freeze()


def warm() -> None:
    """One headless console run to its Welcome screen here, so every child inherits the CSS
    parsed, the caches filled and the code paths run once (tui/warm.py): a child's first
    screen then costs only what is its own. A warm-up that fails costs nothing but itself."""
    try:
        from tui.css_parses import share_css_parses
        from tui.warm import warm_console

        share_css_parses()
        warm_console()
    except Exception as exc:  # noqa: BLE001 (the children start cold, as before)
        print(f"cloudacct zygote: not warmed: {exc!r}", file=sys.stderr)


def unsafe_to_fork() -> str | None:
    """Why forking would hand a child something it must not share, if it would."""
    from core import config, db, gateway

    if threading.active_count() != 1:
        return f"{threading.active_count()} threads are running"
    if getattr(db.database, "obj", None) is not None or getattr(db, "_pending_url", None):
        return "a database is open"
    if getattr(gateway, "_gateway", None) is not None:
        return "the payment gateway's database is open"
    if getattr(config, "_settings", None) is not None:
        return "the settings were read"
    return None


def reset_signals() -> None:
    """Every signal as a new interpreter sets it up, whatever the zygote inherited: a console
    started under `nohup` must still end when its terminal hangs up."""
    signal.set_wakeup_fd(-1)
    for sig in signal.valid_signals():
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        handler = {signal.SIGINT: signal.default_int_handler, signal.SIGPIPE: signal.SIG_IGN,
                   signal.SIGXFSZ: signal.SIG_IGN}.get(sig, signal.SIG_DFL)
        with contextlib.suppress(OSError, ValueError):
            signal.signal(sig, handler)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


class Zygote:
    def __init__(self, link: socket.socket) -> None:
        self.link = link
        self.children: set[int] = set()
        self.wake_read, self.wake_write = os.pipe()
        for fd in (self.wake_read, self.wake_write):
            os.set_blocking(fd, False)

    def send(self, **message: Any) -> None:
        self.link.send(wire.encode(message))

    def serve(self) -> Fork | None:
        """Fork on request until the server hangs up (None); in a child, its Fork."""
        signal.set_wakeup_fd(self.wake_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes poll() through the pipe
        poll = select.poll()
        poll.register(self.link, select.POLLIN)
        poll.register(self.wake_read, select.POLLIN)
        self.send(op="ready", pid=os.getpid())
        try:
            while True:
                events = dict(poll.poll())
                if self.wake_read in events:
                    with contextlib.suppress(BlockingIOError):
                        while os.read(self.wake_read, 512):
                            pass
                    self.reap()
                if self.link.fileno() in events:
                    forked = self.receive()
                    if forked is not False:
                        return forked
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.hang_up()
        return None

    def receive(self) -> Fork | None | bool:
        """One message: False to go on, None when the server is gone, a Fork in a child."""
        data, fds, _flags, _addr = socket.recv_fds(self.link, wire.MAX_MESSAGE, 4)
        if not data:
            for fd in fds:
                os.close(fd)
            self.hang_up()
            return None
        try:
            message = wire.decode(data)
        except ValueError:
            message = {"op": "?"}
        if message["op"] == "fork" and len(fds) == 1:
            return self.fork(message, fds[0])
        for fd in fds:
            os.close(fd)
        if message["op"] == "fork":
            self.send(op="failed", id=message.get("id"), error="no terminal was passed")
        elif message["op"] == "signal":
            with contextlib.suppress(KeyError, TypeError, ValueError):
                self.signal(int(message["pid"]), int(message["signal"]))
        return False

    def fork(self, message: dict[str, Any], slave: int) -> Fork | bool:
        try:
            pid = os.fork()
        except OSError as exc:
            os.close(slave)
            self.send(op="failed", id=message.get("id"), error=str(exc))
            return False
        if pid == 0:
            try:
                self.become_session(slave, message)
                return Fork(identity=dict(message.get("identity") or {}))
            except BaseException:  # never fall back into the zygote's loop
                with contextlib.suppress(Exception):
                    traceback.print_exc()
                os._exit(1)
        os.close(slave)
        self.children.add(pid)
        self.send(op="forked", id=message.get("id"), pid=pid)
        return False

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            self.send(op="exited", pid=pid, returncode=os.waitstatus_to_exitcode(status))

    def signal(self, pid: int, sig: int) -> None:
        if pid in self.children and sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)

    def hang_up(self) -> None:
        """The server is gone: its sessions' terminals are (or are about to be) too."""
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGHUP)

    # -- in the child -------------------------------------------------------------------------

    def become_session(self, slave: int, message: dict[str, Any]) -> None:
        """Turn the fresh fork into what `python -m tui.ssh.session` on this PTY would be."""
        reset_signals()
        for fd in (self.wake_read, self.wake_write):
            os.close(fd)
        self.link.close()
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        env = message.get("env") or {}
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in env.items()})
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # now a tty
        random.seed()
        _name_process("cloudacct-ssh")
        from core.config import reset_settings
        from core.hashing import forget_secret_key

        reset_settings()
        forget_secret_key()


def _name_process(name: str) -> None:
    """So `ps -o comm` tells the zygote and the sessions it forked apart (Linux)."""
    with contextlib.suppress(OSError), open("/proc/self/comm", "w") as comm:
        comm.write(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cloudacct-ssh-zygote")
    parser.add_argument("--fd", type=int, required=True, help="the socket to the server")
    args = parser.parse_args(argv)
    link = socket.socket(fileno=args.fd)
    _name_process("cloudacct-zygote")
    try:
        preload()
    except Exception:
        traceback.print_exc()
        return 1
    refusal = unsafe_to_fork()
    if refusal:
        print(f"cloudacct zygote: not forking: {refusal}", file=sys.stderr)
        return 1
    try:
        forked = Zygote(link).serve()
    except OSError as exc:
        if exc.errno not in (errno.EPIPE, errno.ECONNRESET):
            raise
        return 0
    if forked is None:
        return 0
    from tui.ssh.session import run_console

    return run_console(forked.identity)


if __name__ == "__main__":
    sys.exit(main())
