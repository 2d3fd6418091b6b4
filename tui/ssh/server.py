"""`cloudacct serve-ssh`: the console for many people at once over SSH (F11).

Each connection that asks for a terminal gets its own console process on a real
pseudo-terminal (the PTY is the child's controlling terminal, so window resizes reach it as
SIGWINCH), forked from a zygote that has already imported the console (tui/ssh/launcher.py).
Who connected — the peer address and the SHA256 fingerprint of the public key the client proved
it holds — goes to the child from this server, never through environment variables a client
could set. No shell, no exec, no forwarding, no SFTP/SCP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from pathlib import Path

import asyncssh

from tui.ssh.consoles import DEFAULT_TERM, ConsoleProcess, Identity, set_size
from tui.ssh.launcher import ConsoleLauncher
from tui.ssh.limits import Admission, Limits

log = logging.getLogger("cloudacct.ssh")

NO_TERMINAL = ("cloudacct is a full-screen console and needs a terminal: connect with "
               "`ssh -t -p PORT HOST` from an interactive terminal.\r\n")
NO_COMMANDS = "cloudacct serves only its console: commands, shells and file transfer are off.\r\n"


def host_key_path(home: Path) -> Path:
    return home / "ssh_host_ed25519_key"


def load_or_create_host_key(home: Path) -> asyncssh.SSHKey:
    """The server's ed25519 host key: generated once in the data directory, then reused."""
    path = host_key_path(home)
    if path.exists():
        return asyncssh.read_private_key(str(path))
    home.mkdir(parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.export_private_key())
        handle.flush()
        os.fsync(handle.fileno())
    return key


class ConsoleServer(asyncssh.SSHServer):
    """Per connection: admission, and which public key (if any) the client authenticated with."""

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self.address = "unknown"
        self.fingerprint: str | None = None
        self.refusal: str | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        peer = conn.get_extra_info("peername")
        self.address = str(peer[0]) if peer else "unknown"
        self.refusal = self._admission.connection_refusal(self.address)

    def begin_auth(self, username: str) -> bool:
        return True  # offer public key first, then keyboard-interactive with no questions

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        # asyncssh checks the client's signature before authentication completes; a key that
        # was only offered and not proven is cleared when keyboard-interactive takes over.
        self.fingerprint = key.get_fingerprint("sha256")
        return True

    def kbdint_auth_supported(self) -> bool:
        return True

    def get_kbdint_challenge(self, username: str, lang: str, submethods: str) -> bool:
        self.fingerprint = None
        return True  # no questions: the console itself asks the person to log on

    def password_auth_supported(self) -> bool:
        return False


class ConsoleSession:
    """One person's console: a process on a PTY, bridged to the SSH channel."""

    def __init__(self, process: asyncssh.SSHServerProcess, server: ConsoleServer,
                 limits: Limits, launcher: ConsoleLauncher) -> None:
        self.process = process
        self.server = server
        self.limits = limits
        self.launcher = launcher
        self.last_input = time.monotonic()
        self.ended = "client disconnected"

    async def run(self) -> int:
        term = self.process.get_terminal_type() or DEFAULT_TERM
        cols, rows, *_ = self.process.get_terminal_size()
        console = await self.launcher.open(
            Identity(self.server.address, self.server.fingerprint, term), cols or 80, rows or 24)
        try:
            return await self._bridge(console.master, console.process)
        finally:
            await console.process.stop()
            os.close(console.master)

    async def _bridge(self, master: int, child: ConsoleProcess) -> int:
        loop = asyncio.get_running_loop()
        output_closed = asyncio.Event()
        self.last_input = time.monotonic()  # waiting for a console to start is not idling
        started = False

        def on_output() -> None:
            nonlocal started
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if not data:
                loop.remove_reader(master)
                output_closed.set()
                return
            if not started:  # nor is waiting for its first screen on a busy machine
                started, self.last_input = True, time.monotonic()
            self.process.stdout.write(data)

        loop.add_reader(master, on_output)
        tasks = {
            asyncio.create_task(self._pump_input(master), name="input"),
            asyncio.create_task(child.wait(), name="child"),
            asyncio.create_task(output_closed.wait(), name="output"),
            asyncio.create_task(self._watch_idle(), name="idle"),
        }
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            loop.remove_reader(master)
            for task in tasks:
                task.cancel()
        names = {t.get_name() for t in done}
        if "child" in names or "output" in names:
            self.ended = "console closed"
        return child.returncode or 0

    async def _pump_input(self, master: int) -> None:
        while True:
            try:
                data = await self.process.stdin.read(65536)
            except asyncssh.TerminalSizeChanged as change:
                set_size(master, change.width, change.height)
                continue
            except (asyncssh.Error, OSError, asyncio.IncompleteReadError):
                return
            if not data:
                return
            self.last_input = time.monotonic()
            view = memoryview(data)
            while view:
                try:
                    written = os.write(master, view)
                except BlockingIOError:
                    await asyncio.sleep(0.01)
                    continue
                except OSError:
                    return
                view = view[written:]

    async def _watch_idle(self) -> None:
        limit = self.limits.idle_timeout_s
        while True:
            remaining = self.last_input + limit - time.monotonic()
            if remaining <= 0:
                self.ended = "idle timeout"
                return
            await asyncio.sleep(min(remaining, 30.0))


def _refuse(process: asyncssh.SSHServerProcess, message: str) -> None:
    with contextlib.suppress(Exception):
        process.stdout.write(message.encode("utf-8"))
    process.exit(1)


def make_process_handler(admission: Admission, limits: Limits, launcher: ConsoleLauncher):
    async def handle(process: asyncssh.SSHServerProcess) -> None:
        conn = process.get_extra_info("connection")
        server: ConsoleServer = conn.get_owner()
        started = time.monotonic()
        if server.refusal:
            _refuse(process, server.refusal + "\r\n")
            log.info("refused %s key=%s: %s", server.address, server.fingerprint or "-",
                     "rate limit")
            return
        if process.command is not None or process.subsystem is not None:
            _refuse(process, NO_COMMANDS)
            log.info("refused %s key=%s: command or subsystem", server.address,
                     server.fingerprint or "-")
            return
        if process.get_terminal_type() is None:
            _refuse(process, NO_TERMINAL)
            log.info("refused %s key=%s: no terminal", server.address, server.fingerprint or "-")
            return
        refusal = admission.session_refusal()
        if refusal:
            _refuse(process, refusal + "\r\n")
            log.info("refused %s key=%s: session limit", server.address,
                     server.fingerprint or "-")
            return
        admission.live += 1
        session = ConsoleSession(process, server, limits, launcher)
        code = 1
        try:
            code = await session.run()
        except Exception as exc:  # one broken session must not take the server down
            session.ended = f"error: {type(exc).__name__}"
            log.exception("session from %s failed", server.address)
        finally:
            admission.live -= 1
            log.info("session %s key=%s duration=%.1fs ended=%s", server.address,
                     server.fingerprint or "-", time.monotonic() - started, session.ended)
            if session.ended == "idle timeout":
                with contextlib.suppress(Exception):
                    process.stdout.write(b"\r\nLogged off after a long time without input.\r\n")
            with contextlib.suppress(Exception):
                process.exit(code)

    return handle


class SSHService:
    """The listening SSH server and the launcher of its consoles, closed together."""

    def __init__(self, acceptor: asyncssh.SSHAcceptor, launcher: ConsoleLauncher) -> None:
        self.acceptor = acceptor
        self.launcher = launcher

    @property
    def sockets(self) -> list:
        return list(self.acceptor.sockets)

    def close(self) -> None:
        self.acceptor.close()
        self.launcher.close()

    async def wait_closed(self) -> None:
        await self.acceptor.wait_closed()
        await self.launcher.wait_closed()


async def start_server(host: str, port: int, home: Path, limits: Limits, *,
                       launcher: ConsoleLauncher | None = None) -> SSHService:
    """Listen for SSH connections; the zygote starts meanwhile (sessions arriving before it is
    ready wait for it)."""
    admission = Admission(limits)
    launcher = launcher or ConsoleLauncher()
    acceptor = await asyncssh.create_server(
        lambda: ConsoleServer(admission), host, port,
        server_host_keys=[load_or_create_host_key(home)],
        process_factory=make_process_handler(admission, limits, launcher),
        encoding=None, line_editor=False, agent_forwarding=False, allow_scp=False,
        x11_forwarding=False, sftp_factory=None,
        login_timeout=limits.logon_timeout_s, keepalive_interval=limits.keepalive_s,
        keepalive_count_max=3,
    )
    launcher.start()
    return SSHService(acceptor, launcher)


def serve_forever(host: str, port: int, home: Path, limits: Limits) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s",
                        stream=sys.stderr)

    async def main() -> None:
        server = await start_server(host, port, home, limits)
        bound = server.sockets[0].getsockname() if server.sockets else (host, port)
        log.info("serving the console on %s port %s (host key %s)", bound[0], bound[1],
                 host_key_path(home))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        server.close()
        await server.wait_closed()

    asyncio.run(main())
    return 0
