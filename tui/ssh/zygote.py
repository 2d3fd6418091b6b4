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
                    {"op": "forked", "id", "pid"[, "spare": true]} or
                    {"op": "failed", "id", "error"}
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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tui.ssh import wire
from tui.ssh.session import name_process

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
    "tui.ssh.spare",  # what a spare console runs (its module would otherwise load in each)
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


@dataclass
class SpareBuilt:
    """In a spare child (tui/ssh/spare.py): its socket to the zygote."""

    link: socket.socket


@dataclass
class Spare:
    """In the zygote: one spare console (tui/ssh/spare.py), built for `env`."""

    pid: int
    link: socket.socket
    env: dict[str, str]
    built: bool = False


QUIET_BEFORE_BUILDING_S = 3.0
"""Spares are built only once no console was asked for this long: never while people start
consoles, nor in the first seconds after, when they start typing (measured: building half a
second after a crowd of 20 took their keystroke echo from 1.13x to 1.2-1.5x a local one)."""
OTHERS_BUSY_AT_MOST = 0.25
"""...and only while everything but the spares being built used at most this share of the
machine's CPUs over the last look (/proc/stat), so building never takes the CPU of sessions in
use, of another server, or of anything else running."""
LOOK_EVERY_S = 0.25
FAILED_SPARES_AT_MOST = 3
"""Spares in a row that end before they are built stop the building (the log says so): a
console that cannot start must not be forked again four times a second."""


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
    def __init__(self, link: socket.socket, spares: int = 0) -> None:
        self.link = link
        self.children: set[int] = set()
        self.spare_target = max(0, spares)
        """Spare consoles to keep built (tui/ssh/spare.py); 0: none."""
        self.spares: dict[int, Spare] = {}
        self.spare_env: dict[str, str] | None = None
        """The environment of the last console asked for: the one spares are built for."""
        self.last_request = float("-inf")
        self.load = MachineLoad()
        self.building_at_once = max(1, _cores() - 1)
        """Leaves a core to the sessions in use while spares are built."""
        self.failed_spares = 0
        self.wake_read, self.wake_write = os.pipe()
        for fd in (self.wake_read, self.wake_write):
            os.set_blocking(fd, False)

    def send(self, **message: Any) -> None:
        self.link.send(wire.encode(message))

    def serve(self) -> Fork | SpareBuilt | None:
        """Fork on request until the server hangs up (None); in a child, its Fork (or, in a
        spare, its SpareBuilt)."""
        signal.set_wakeup_fd(self.wake_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes poll() through the pipe
        self.poll = select.poll()
        self.poll.register(self.link, select.POLLIN)
        self.poll.register(self.wake_read, select.POLLIN)
        self.send(op="ready", pid=os.getpid())
        try:
            while True:
                events = dict(self.poll.poll(self.next_look_ms()))
                if self.wake_read in events:
                    with contextlib.suppress(BlockingIOError):
                        while os.read(self.wake_read, 512):
                            pass
                    self.reap()
                if self.link.fileno() in events:
                    forked = self.receive()
                    if forked is not False:
                        return forked
                for spare in list(self.spares.values()):
                    if spare.link.fileno() in events:
                        self.hear_spare(spare)
                built = self.build_spare_if_idle()
                if built is not None:
                    return built
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.hang_up()
        return None

    # -- spare consoles -----------------------------------------------------------------------

    def spares_wanted(self) -> bool:
        return (self.spare_target > 0 and self.spare_env is not None
                and sum(1 for s in self.spares.values() if s.env == self.spare_env)
                < self.spare_target)

    def next_look_ms(self) -> int:
        """How long poll() may sleep: for ever, unless spares are still to be built."""
        return int(LOOK_EVERY_S * 1000) if self.spares_wanted() else -1

    def build_spare_if_idle(self) -> SpareBuilt | None:
        """One more spare, if one is wanted and nobody is starting or using the CPUs."""
        import time

        # looked at every time, so each look covers one interval
        others = self.load.others_share(self.spares)
        if not self.spares_wanted():
            return None
        if time.monotonic() - self.last_request < QUIET_BEFORE_BUILDING_S:
            return None
        if sum(1 for s in self.spares.values() if not s.built) >= self.building_at_once:
            return None
        if others is not None and others > OTHERS_BUSY_AT_MOST:
            return None
        if len(self.spares) >= self.spare_target:
            self.retire_spare(next(s for s in self.spares.values() if s.env != self.spare_env))
        return self.fork_spare(dict(self.spare_env or {}))

    def fork_spare(self, env: dict[str, str]) -> SpareBuilt | None:
        ours, theirs = wire.socket_pair()
        try:
            pid = os.fork()
        except OSError as exc:
            ours.close()
            theirs.close()
            print(f"cloudacct zygote: no spare console: {exc}", file=sys.stderr)
            self.spare_target = len(self.spares)  # no more tries than the ones there are
            return None
        if pid == 0:
            try:
                ours.close()
                self.become_spare(env)
                return SpareBuilt(theirs)
            except BaseException:  # never fall back into the zygote's loop
                with contextlib.suppress(Exception):
                    traceback.print_exc()
                os._exit(1)
        theirs.close()
        ours.setblocking(False)
        self.spares[pid] = Spare(pid, ours, env)
        self.poll.register(ours, select.POLLIN)
        return None

    def hear_spare(self, spare: Spare) -> None:
        """The spare's one message ("built"), or its end (end-of-file)."""
        try:
            data = spare.link.recv(wire.MAX_MESSAGE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data == wire.encode({"op": "built"}):
            spare.built = True
            self.failed_spares = 0
        else:
            self.retire_spare(spare)

    def spare_failed(self, returncode: int) -> None:
        self.failed_spares += 1
        if self.failed_spares >= FAILED_SPARES_AT_MOST and self.spare_target:
            print(f"cloudacct zygote: {self.failed_spares} spare consoles in a row ended "
                  f"before they were built (the last with status {returncode}); no more are "
                  "built, sessions are forked as they come", file=sys.stderr)
            self.spare_target = 0

    def retire_spare(self, spare: Spare) -> None:
        """No connection will be handed to this spare: it ends (hang-up of its link)."""
        self.spares.pop(spare.pid, None)
        with contextlib.suppress(KeyError, ValueError):
            self.poll.unregister(spare.link)
        spare.link.close()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(spare.pid, signal.SIGTERM)

    def take_spare(self, env: dict[str, str]) -> Spare | None:
        """A spare built (or building) for exactly this environment, built ones first."""
        matching = [s for s in self.spares.values() if s.env == env]
        if not matching:
            return None
        spare = max(matching, key=lambda s: s.built)
        self.spares.pop(spare.pid)
        with contextlib.suppress(KeyError, ValueError):
            self.poll.unregister(spare.link)
        return spare

    def hand_to_spare(self, message: dict[str, Any], slave: int) -> int | None:
        """The connection's PTY and identity to a spare; its pid, or None if none could."""
        env = message.get("env") or {}
        while (spare := self.take_spare(env)) is not None:
            try:
                socket.send_fds(spare.link, [wire.encode(
                    {"op": "attach", "identity": message.get("identity") or {}})], [slave])
            except OSError:
                spare.link.close()
                continue  # it died meanwhile (reaped as a spare, not reported)
            spare.link.close()
            return spare.pid
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
        import time

        self.last_request = time.monotonic()
        env = message.get("env")
        if isinstance(env, dict):
            self.spare_env = {str(k): str(v) for k, v in env.items()}
        spare_pid = self.hand_to_spare(message, slave) if self.spares else None
        if spare_pid is not None:
            os.close(slave)
            self.children.add(spare_pid)
            self.send(op="forked", id=message.get("id"), pid=spare_pid, spare=True)
            return False
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
        while self.children or self.spares:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            spare = self.spares.pop(pid, None)
            if spare is not None:  # it ended before anyone was handed to it: nobody to tell
                with contextlib.suppress(KeyError, ValueError):
                    self.poll.unregister(spare.link)
                spare.link.close()
                if not spare.built:
                    self.spare_failed(os.waitstatus_to_exitcode(status))
                continue
            if pid in self.children:
                self.children.discard(pid)
                self.send(op="exited", pid=pid, returncode=os.waitstatus_to_exitcode(status))

    def signal(self, pid: int, sig: int) -> None:
        if pid in self.children and sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)

    def hang_up(self) -> None:
        """The server is gone: its sessions' terminals are (or are about to be) too, and no
        spare will be needed."""
        for spare in list(self.spares.values()):
            self.retire_spare(spare)
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGHUP)

    # -- in the child -------------------------------------------------------------------------

    def leave_the_zygote(self) -> None:
        """In any child: the zygote's signal set-up and descriptors left behind, including
        every spare's socket (a console must never hear what another is handed)."""
        reset_signals()
        for fd in (self.wake_read, self.wake_write):
            os.close(fd)
        self.link.close()
        for spare in self.spares.values():
            spare.link.close()
        self.spares.clear()
        self.children.clear()
        os.setsid()

    def become_session(self, slave: int, message: dict[str, Any]) -> None:
        """Turn the fresh fork into what `python -m tui.ssh.session` on this PTY would be."""
        self.leave_the_zygote()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        self.start_afresh(message.get("env") or {}, "cloudacct-ssh")
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # now a tty

    def become_spare(self, env: dict[str, str]) -> None:
        """Turn the fork into a console with no terminal yet (0/1/2 on /dev/null, no
        controlling terminal until the attach gives it one), for `env`."""
        self.leave_the_zygote()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        if null > 2:
            os.close(null)
        self.start_afresh(env, "cloudacct-spare")

    @staticmethod
    def start_afresh(env: dict[str, Any], name: str) -> None:
        """The environment the server computed, a new `random` seed, nothing of the
        zygote's settings or secret key."""
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in env.items()})
        random.seed()
        name_process(name)
        from core.config import reset_settings
        from core.hashing import forget_secret_key

        reset_settings()
        forget_secret_key()


class MachineLoad:
    """How busy the machine's CPUs were between two looks, leaving out given processes (the
    spares being built): /proc/stat and /proc/<pid>/stat, in clock ticks. None where there is
    nothing to read (not Linux): then nothing holds the building back but the quiet."""

    def __init__(self) -> None:
        self._last = self._machine()
        self._own: dict[int, int] = {}

    @staticmethod
    def _machine() -> tuple[int, int] | None:
        """(busy, total) ticks of all CPUs since boot."""
        try:
            with open("/proc/stat", "rb") as stat:
                fields = [int(v) for v in stat.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        total = sum(fields[:8])
        return total - fields[3] - (fields[4] if len(fields) > 4 else 0), total

    @staticmethod
    def _process(pid: int) -> int | None:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            return int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, ValueError, IndexError):
            return None

    def others_share(self, own: Iterable[int]) -> float | None:
        now, last = self._machine(), self._last
        self._last = now
        ticks = {pid: t for pid in own if (t := self._process(pid)) is not None}
        # a spare forked since the last look: all its CPU is of this interval
        own_busy = sum(t - self._own.get(pid, 0) for pid, t in ticks.items())
        self._own = ticks
        if now is None or last is None or now[1] <= last[1]:
            return None
        return max(0, now[0] - last[0] - own_busy) / (now[1] - last[1])


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cloudacct-ssh-zygote")
    parser.add_argument("--fd", type=int, required=True, help="the socket to the server")
    parser.add_argument("--spares", type=int, default=0,
                        help="spare consoles to keep built (tui/ssh/spare.py)")
    args = parser.parse_args(argv)
    link = socket.socket(fileno=args.fd)
    name_process("cloudacct-zygote")
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
        forked = Zygote(link, args.spares).serve()
    except OSError as exc:
        if exc.errno not in (errno.EPIPE, errno.ECONNRESET):
            raise
        return 0
    if forked is None:
        return 0
    if isinstance(forked, SpareBuilt):
        from tui.ssh.spare import run_spare

        return run_spare(forked.link)
    from tui.ssh.session import run_console

    return run_console(forked.identity)


if __name__ == "__main__":
    sys.exit(main())
