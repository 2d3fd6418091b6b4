"""A real SSH server on 127.0.0.1 (ephemeral port) and a client with a PTY whose screen is read
through a terminal emulator (pyte)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncssh
import pytest


class RemoteConsole:
    """One SSH connection with a PTY, its output fed to a pyte screen."""

    def __init__(self, conn, process, cols: int, rows: int) -> None:
        import pyte

        self.conn = conn
        self.process = process
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.closed = False
        self.raw = bytearray()
        """Every byte the server sent on the channel (escape sequences included)."""
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            try:
                data = await self.process.stdout.read(65536)
            except Exception:
                break
            if not data:
                break
            self.raw += data
            self.stream.feed(data)
        self.closed = True

    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(self, needle: str, timeout: float = 30.0) -> str:
        """Poll the screen until `needle` shows (a deadline, not a timing assertion)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if needle in text:
                return text
            if self.closed:
                break
            await asyncio.sleep(0.05)
        raise AssertionError(f"{needle!r} not on screen:\n{self.text()}")

    async def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until the screen has not changed for `quiet` seconds (the console is idle and
        ready for keys), so typed keys do not race a screen that is still mounting."""
        deadline = time.monotonic() + timeout
        last, since = self.text(), time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            now = self.text()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return

    async def wait_closed(self, timeout: float = 30.0) -> None:
        await asyncio.wait_for(self._reader, timeout)

    def send(self, keys: str | bytes) -> None:
        self.process.stdin.write(keys.encode() if isinstance(keys, str) else keys)

    async def log_on(self, email: str, password: str) -> None:
        """From the Welcome screen, as a person would: the email typed in one burst, Tab, the
        password and Enter; until the console's Overview shows."""
        self.send("l")
        await self.wait_for("Log on to your account")
        await self.settle()
        self.send(email)  # one write: the keys arrive in one burst
        await self.wait_for(email)
        await self.settle()
        self.send("\t")
        await self.settle()
        self.send(password + "\r")
        await self.wait_for("Overview")

    def resize(self, cols: int, rows: int) -> None:
        self.screen.resize(rows, cols)
        self.process.change_terminal_size(cols, rows)

    async def close(self) -> None:
        self.conn.close()
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


class ServerStarter:
    """`await ssh_server(**limits)` starts `serve-ssh` in this event loop and returns its port;
    `ssh_server.services` are the running servers (with their console launchers)."""

    def __init__(self) -> None:
        self.services: list = []

    async def __call__(self, *, launcher=None, public_address=None, **limits) -> int:
        from core.config import settings
        from tui.ssh.limits import Limits
        from tui.ssh.server import start_server

        service = await start_server("127.0.0.1", 0, settings().home, Limits(**limits),
                                     launcher=launcher, public_address=public_address)
        self.services.append(service)
        return service.sockets[0].getsockname()[1]

    @property
    def launcher(self):
        return self.services[-1].launcher

    @property
    def service(self):
        return self.services[-1]


@pytest.fixture
async def ssh_server(db) -> AsyncIterator[ServerStarter]:
    starter = ServerStarter()
    yield starter
    for service in starter.services:
        service.close()
        await service.wait_closed()


async def eventually(condition: Callable[[], object], timeout: float = 30.0,
                     what: str = "condition"):
    """Poll `condition` until it is true (a deadline, not a timing assertion); its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} did not hold within {timeout} s")


def parent_of(pid: int) -> int | None:
    """The parent pid of a live process (None once it is gone, zombies included)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else int(fields[1])


def process_name(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and parent_of(int(entry.name)) == pid:
            found.append(int(entry.name))
    return found


async def open_connection(port: int, *, key=None, source: str | None = None):
    """An authenticated SSH connection with no channel yet (from `source`, a 127.0.0.0/8
    address, to look like another client)."""
    import asyncssh

    # Without a key, asyncssh's client answers keyboard-interactive only when it has a password
    # to give; the server asks no questions, so an empty one is never sent (OpenSSH's client
    # tries keyboard-interactive by itself).
    return await asyncssh.connect("127.0.0.1", port, username="someone", known_hosts=None,
                                  client_keys=[key] if key is not None else [],
                                  password=None if key is not None else "",
                                  agent_path=None, preferred_auth="publickey,keyboard-interactive",
                                  local_addr=(source, 0) if source else None)


async def connect(port: int, *, key=None, cols: int = 100, rows: int = 32,
                  term: str | None = "xterm-256color", command: str | None = None,
                  source: str | None = None):
    conn = await open_connection(port, key=key, source=source)
    process = await conn.create_process(command, term_type=term, term_size=(cols, rows),
                                        encoding=None)
    return RemoteConsole(conn, process, cols, rows)


@pytest.fixture
def ssh_log() -> Iterator[list[logging.LogRecord]]:
    """What the server logs (on its own logger: the console's settings may stop propagation)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("cloudacct.ssh")
    handler, level = Keep(level=logging.INFO), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


def trusted_account(email: str) -> asyncssh.SSHKey:
    """An active account whose new ed25519 key is trusted for log-on: that key."""
    from core.accounts import log_on, sign_up
    from core.security import trust_current_key
    from core.verify_account import confirm_code, send_code
    from tests.conftest import STRONG_PASSWORD, latest_code

    result = sign_up("SG", email, STRONG_PASSWORD, STRONG_PASSWORD, True)
    send_code(result.token, "signup", "email")
    confirm_code(result.token, "signup", "email", latest_code(email))
    key = asyncssh.generate_private_key("ssh-ed25519")
    session = log_on(email, STRONG_PASSWORD, origin="127.0.0.1",
                     key_fingerprint=key.get_fingerprint("sha256"))
    trust_current_key(session.token)
    return key


class ServeSSHProcess:
    """`cloudacct serve-ssh` as an operator runs it: its own process, its log on stderr."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.pid = process.pid
        self.lines: list[str] = []
        self.port = 0
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.lines.append(line.decode("utf-8", "replace").rstrip("\n"))

    def log_lines(self, needle: str) -> list[str]:
        return [line for line in self.lines if needle in line]

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    async def wait_for_log(self, needle: str, timeout: float = 60.0) -> str:
        found = await eventually(lambda: self.log_lines(needle), timeout, f"log {needle!r}")
        return found[0]

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        await asyncio.wait_for(self._reader, 10)
        return self.process.returncode or 0


@pytest.fixture
async def serve_ssh(db) -> AsyncIterator[Callable[..., Awaitable[ServeSSHProcess]]]:
    """`await serve_ssh("--per-address", "8", ...)`: a running `cloudacct serve-ssh --port 0`
    whose zygote is ready."""
    started: list[ServeSSHProcess] = []

    async def start(*args: str) -> ServeSSHProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui.cli", "serve-ssh", "--port", "0", *args,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, start_new_session=True)
        server = ServeSSHProcess(process)
        started.append(server)
        line = await server.wait_for_log("serving the console on")
        server.port = int(line.split(" port ")[1].split()[0])
        await server.wait_for_log("ready in")
        return server

    yield start
    for server in started:
        await server.stop()
