"""`cloudacct serve-ssh`: the console for many people at once over SSH (F11), and SFTP into
each account's own files (F16).

Each connection that asks for a terminal gets its own console process on a real
pseudo-terminal (the PTY is the child's controlling terminal, so window resizes reach it as
SIGWINCH), forked from a zygote that has already imported the console (tui/ssh/launcher.py).
Who connected — the peer address, and the SHA256 fingerprint and type of the public key the
client proved it holds, and whether that proof was a touched security key — goes to the child
from this server, never through environment variables a client could set.

What one client can hold is bounded from the first byte (tui/ssh/limits.py):
- every TCP connection is counted when it is accepted, before the SSH version exchange
  (`AdmissionGate`): per address at once and per minute, and all together, the last derived
  from the process's descriptor limit; a refused one is closed at once with a one-line reason;
- an admitted connection has `logon_timeout_s` to authenticate and `channel_timeout_s` to open
  its channel (and is closed that long after its channel ends);
- a connection opens one channel in all: one console, or one SFTP session for a key trusted by
  an active account. A second channel, exec, a shell without a terminal, any other subsystem,
  port, agent and X11 forwarding are refused, each refusal logged once (`RefusalLog`).
When the server ends a console (idle, shutdown, the console failing) it restores the client's
terminal first (`RESTORE_TERMINAL`) and says why in one line.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncssh

from core.i18n import LOCALE_VARIABLES, N_, language_of_tag, translate
from tui.ssh.consoles import DEFAULT_TERM, ConsoleProcess, Identity, set_size
from tui.ssh.launcher import ConsoleLauncher
from tui.ssh.limits import (
    ACCEPT_BURST,
    Admission,
    Limits,
    RefusalLog,
    connection_ceiling,
    raise_fd_limit,
)
from tui.ssh.start_queue import StartQueue, Ticket, default_slots

log = logging.getLogger("cloudacct.ssh")

# What the server itself says to a client, in the language of the client's locale when it sent
# one (`client_language`), else English; each is written as one line ending in CRLF.
NO_TERMINAL = N_("cloudacct is a full-screen console and needs a terminal: connect with "
                 "`ssh -t -p PORT HOST` from an interactive terminal.")
NO_COMMANDS = N_("cloudacct serves only its console and SFTP (for a trusted key): commands "
                 "and shells are off. To copy files use `sftp`, or `scp` without -O.")
NO_SFTP = N_("SFTP is open only to a key trusted by an active account: log on in the console "
             "with this key and trust it (Security settings, Trust this key).")
ONE_CHANNEL = N_("One console or one file transfer per connection: connect again for another.")
LOCALE_VALUE_MAX = 64
"""A locale name longer than this is no locale (and is not read further)."""

TOUCH_CHECKED_ALGORITHMS = frozenset({"sk-ssh-ed25519@openssh.com",
                                      "sk-ecdsa-sha2-nistp256@openssh.com"})
"""Security-key types whose signature asyncssh accepts here only with the user-presence flag.

asyncssh 2.24.1 decides it per key: `SSHServerConnection._validate_client_public_key`
(connection.py:6206-6237) calls our `validate_public_key`, then
`key.set_touch_required(not self.get_key_option('no-touch-required', False))`; key options come
only from authorized_keys, which this server has none of, so it is always True (an `SSHKey`
starts False, public_key.py:265). `verify_ssh`, reached from connection.py:6264, then returns
False for a signature whose flags lack SSH_SK_USER_PRESENCE_REQD (0x01) (sk_eddsa.py:173,
sk_ecdsa.py:212, the WebAuthn form of sk-ecdsa too) and the attempt fails (auth.py:810-818).
So a connection that authenticated with one of these keys proved a touch (were the server ever
given `authorized_client_keys`, a `no-touch-required` option there would undo this).
tests/ssh/test_security_keys.py holds asyncssh to it with a signature without the flag."""

RESTORE_TERMINAL = (
    b"\x1b[<u"  # pop the kitty keyboard mode Textual pushes (before leaving the alt screen)
    b"\x1b[?1049l"  # main screen
    b"\x1b[?25h"  # cursor shown
    b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?1016l"  # mouse reporting off
    b"\x1b[?1004l"  # focus events off
    b"\x1b[?2004l"  # bracketed paste off
    b"\x1b[?2048l"  # in-band resize reports off
    b"\x1b[?7h"  # line wrap back on
    b"\x1b[0m"  # attributes reset
)
"""What a terminal needs to be usable again after a console that did not get to restore it."""

END_MESSAGES = {
    "idle timeout": N_("Logged off after a long time without input."),
    "server shutting down": N_("The server is shutting down: you have been logged off. "
                               "Please connect again in a few minutes."),
    "console failed": N_("The console stopped unexpectedly. Please connect again."),
}
SHUTDOWN_GRACE_S = 5.0


def client_language(environment: Mapping[str, str]) -> str | None:
    """The language of the client's locale as its SSH client sent it (OpenSSH's SendEnv or
    SetEnv): the first of LC_ALL, LC_MESSAGES, LANG that is set decides, as POSIX has it; `en`,
    `zh-Hans` or None. Only the language goes further, never the value the client sent."""
    for name in LOCALE_VARIABLES:
        value = environment.get(name)
        if not isinstance(value, str) or not value.strip():
            continue
        if len(value) > LOCALE_VALUE_MAX:
            return None
        return language_of_tag(value)
    return None


def channel_language(chan: asyncssh.SSHServerChannel | None) -> str | None:
    """`client_language` of what the client sent on this channel (None when it cannot say)."""
    if chan is None:
        return None
    try:
        return client_language(chan.get_environment())
    except Exception:
        return None


def client_line(message: str, language: str | None) -> bytes:
    """One line from the server to a client, in its language (English when not known)."""
    return (translate(message, language or "en") + "\r\n").encode("utf-8")


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


def _format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class AdmissionGate(asyncio.Protocol):
    """The listening socket's protocol for one accepted TCP connection: counts it at once and
    either closes it (a refusal costs no key exchange) or hands the transport to asyncssh."""

    def __init__(self, service: SSHService) -> None:
        self._service = service

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if peer else "unknown"
        refusal = self._service.admission.admit(address)
        if refusal is not None:
            self._service.refusals.refused(address, refusal.reason, "(at connect)")
            with contextlib.suppress(Exception):
                # Before any SSH byte: OpenSSH's client shows no such line, but `nc` and the
                # operator's tools do; it costs one small write.
                transport.write(  # type: ignore[attr-defined]
                    refusal.message.encode("utf-8") + b"\r\n")
            transport.close()
            return
        conn = self._service.new_ssh_connection()
        transport.set_protocol(conn)  # type: ignore[attr-defined]
        conn.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        pass  # a refused connection's bytes are not read

    def eof_received(self) -> bool:
        return False


class ConnectionOwner(asyncssh.SSHServer):
    """One admitted connection: how it authenticated, its one channel, its timers."""

    def __init__(self, service: SSHService) -> None:
        self.service = service
        self.conn: asyncssh.SSHServerConnection | None = None
        self.address = "unknown"
        self.ssh_address: str | None = None
        self.fingerprint: str | None = None
        self.key_algorithm: str | None = None
        """The proven key's type, e.g. ssh-ed25519 or sk-ssh-ed25519@openssh.com."""
        self.user_presence = False
        """Whether the proof was a security key's signature with the touch flag (see
        TOUCH_CHECKED_ALGORITHMS)."""
        self.files_account: int | None = None
        """The account whose files this key may open over SFTP (None: SFTP refused)."""
        self.authenticated = False
        self.channels = 0
        self.channel_open = False
        self._channel_timer: asyncio.TimerHandle | None = None
        self.started = time.monotonic()

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername")
        self.address = str(peer[0]) if peer else "unknown"
        local = conn.get_extra_info("sockname")
        public = self.service.public_address
        if public:
            self.ssh_address = public
        elif local:
            self.ssh_address = _format_address(str(local[0]), int(local[1]))
        self.service.owners.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.service.owners.discard(self)
        self.service.admission.release(self.address)
        self._cancel_channel_timer()
        if not self.authenticated and exc is not None and "Login timeout" in str(exc):
            self.service.refusals.refused(
                self.address, "log-on timeout",
                f"(not authenticated in {self.service.limits.logon_timeout_s:g} s)")

    # -- authentication --------------------------------------------------------------------

    def begin_auth(self, username: str) -> bool:
        return True  # offer public key first, then keyboard-interactive with no questions

    def public_key_auth_supported(self) -> bool:
        return True

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        # asyncssh checks the client's signature before authentication completes (and, for a
        # security key, its touch flag: TOUCH_CHECKED_ALGORITHMS); a key that was only offered
        # and not proven is cleared when keyboard-interactive takes over. Each signed attempt
        # calls this first, so what is kept is the key of the attempt that succeeded.
        fingerprint = key.get_fingerprint("sha256")
        self.fingerprint = fingerprint
        self.key_algorithm = key.get_algorithm()
        self.user_presence = self.key_algorithm in TOUCH_CHECKED_ALGORITHMS
        self.files_account = await self.service.file_space_for_key(fingerprint)
        return True

    def kbdint_auth_supported(self) -> bool:
        return True

    def get_kbdint_challenge(self, username: str, lang: str, submethods: str) -> bool:
        self.fingerprint = None
        self.key_algorithm = None
        self.user_presence = False
        self.files_account = None
        return True  # no questions: the console itself asks the person to log on

    def password_auth_supported(self) -> bool:
        return False

    def auth_completed(self) -> None:
        self.authenticated = True
        self._arm_channel_timer()

    # -- the one channel -------------------------------------------------------------------

    def _arm_channel_timer(self) -> None:
        self._cancel_channel_timer()
        loop = asyncio.get_running_loop()
        self._channel_timer = loop.call_later(self.service.limits.channel_timeout_s,
                                              self._no_channel)

    def _cancel_channel_timer(self) -> None:
        if self._channel_timer is not None:
            self._channel_timer.cancel()
            self._channel_timer = None

    def _no_channel(self) -> None:
        self._channel_timer = None
        if self.channel_open or self.conn is None:
            return
        reason = "no channel opened" if self.channels == 0 else "channel ended"
        self.service.refusals.refused(
            self.address, reason,
            f"(connection closed after {self.service.limits.channel_timeout_s:g} s)")
        self.conn.close()

    def session_requested(self) -> asyncssh.SSHServerSession | bool:
        if self.channels >= 1:
            self.service.refusals.refused(self.address, "second channel",
                                          f"key={self.fingerprint or '-'}")
            return False
        self.channels += 1
        self.channel_open = True
        self._cancel_channel_timer()
        return ChannelSession(self)

    def channel_closed(self) -> None:
        self.channel_open = False
        if self.conn is not None:
            self._arm_channel_timer()

    def _refuse_forwarding(self, what: str) -> bool:
        self.service.refusals.refused(self.address, what, f"key={self.fingerprint or '-'}")
        return False

    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str,
                             orig_port: int) -> bool:
        return self._refuse_forwarding("port forwarding")

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        return self._refuse_forwarding("remote port forwarding")

    def unix_connection_requested(self, dest_path: str) -> bool:
        return self._refuse_forwarding("socket forwarding")

    def unix_server_requested(self, listen_path: str) -> bool:
        return self._refuse_forwarding("socket forwarding")

    def tun_requested(self, unit: int | None) -> bool:
        return self._refuse_forwarding("tunnel")

    def tap_requested(self, unit: int | None) -> bool:
        return self._refuse_forwarding("tunnel")


class ChannelSession(asyncssh.SSHServerProcess):
    """The connection's one session channel: a console (terminal), or SFTP for a trusted key;
    exec, other subsystems and a shell without a terminal are refused with a reason."""

    def __init__(self, owner: ConnectionOwner) -> None:
        super().__init__(owner.service.handle_process, self._make_sftp, 3, False)
        self.owner = owner
        self.client_gone = False
        self._own_chan: asyncssh.SSHServerChannel | None = None

    def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:  # type: ignore[override]
        self._own_chan = chan
        super().connection_made(chan)

    def subsystem_requested(self, subsystem: str) -> bool:
        if subsystem == "sftp":
            return True  # for a key no active account trusts, refused with a reason below
        self.owner.service.refusals.refused(
            self.owner.address, "subsystem",
            f"({subsystem[:40]!r}) key={self.owner.fingerprint or '-'}")
        self._say(NO_COMMANDS)
        return False

    def session_started(self) -> None:
        chan = self._own_chan
        if chan is not None and chan.get_subsystem() == "sftp" \
                and self.owner.files_account is None:
            self.owner.service.refusals.refused(self.owner.address, "sftp for an untrusted key",
                                                f"key={self.owner.fingerprint or '-'}")
            # Accepted, then refused with words: OpenSSH's client may exit on a failed
            # subsystem request before it prints what came on stderr.
            self._say(NO_SFTP)
            chan.exit(1)
            return
        super().session_started()

    def _say(self, message: str) -> None:
        if self._own_chan is not None:
            with contextlib.suppress(Exception):
                self._own_chan.write_stderr(
                    client_line(message, channel_language(self._own_chan)))

    def eof_received(self) -> bool:
        self.client_gone = True
        return super().eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.client_gone = True
        super().connection_lost(exc)
        self.owner.channel_closed()

    def _make_sftp(self, chan: asyncssh.SSHServerChannel) -> asyncssh.SFTPServer:
        from tui.ssh.sftp import AccountFilesSFTP, watch_idle

        owner, service = self.owner, self.owner.service
        account_id = owner.files_account
        assert account_id is not None  # subsystem_requested let only a trusted key through
        fingerprint = owner.fingerprint

        async def still_allowed() -> bool:
            return await service.file_space_for_key(fingerprint) == account_id

        async def publish_documents() -> None:
            await service.publish_documents(account_id)

        started = time.monotonic()

        def ended(server: AccountFilesSFTP) -> None:
            log.info("sftp %s key=%s account=%s duration=%.1fs uploads=%d downloads=%d",
                     owner.address, fingerprint, account_id, time.monotonic() - started,
                     server.uploads, server.downloads)
            # An exit status, which asyncssh does not send after SFTP: without it OpenSSH's
            # ssh exits 255 and scp reports a failure after a transfer that worked.
            with contextlib.suppress(Exception):
                chan.exit(0)

        server = AccountFilesSFTP(chan, account_id, still_allowed=still_allowed,
                                  client_gone=lambda: self.client_gone, address=owner.address,
                                  on_exit=ended, publish_documents=publish_documents)
        service.track(asyncio.ensure_future(
            watch_idle(server, chan, service.limits.idle_timeout_s)))
        return server


class ConsoleSession:
    """One person's console: a process on a PTY, bridged to the SSH channel."""

    def __init__(self, process: asyncssh.SSHServerProcess, owner: ConnectionOwner,
                 limits: Limits, launcher: ConsoleLauncher,
                 start_queue: StartQueue | None = None, language: str | None = None) -> None:
        self.process = process
        self.language = language
        """The language of the client's locale (`client_language`), None if it sent none."""
        self.owner = owner
        self.limits = limits
        self.launcher = launcher
        self.start_queue = start_queue or StartQueue(0)
        self.last_input = time.monotonic()
        self.ended = "client disconnected"
        self._stop = asyncio.Event()

    def end(self, reason: str) -> None:
        """Ask the bridge to end the console (the server's own decision, e.g. a shutdown)."""
        self.ended = reason
        self._stop.set()

    async def run(self) -> int:
        term = self.process.get_terminal_type() or DEFAULT_TERM
        cols, rows, *_ = self.process.get_terminal_size()
        owner = self.owner
        ticket = await self.start_queue.enter()  # consoles start in turn (start_queue.py)
        try:
            console = await self.launcher.open(
                Identity(owner.address, owner.fingerprint, term, owner.ssh_address,
                         key_algorithm=owner.key_algorithm if owner.fingerprint else None,
                         user_presence=bool(owner.fingerprint) and owner.user_presence,
                         language=self.language),
                cols or 80, rows or 24)
        except BaseException:
            ticket.started()
            raise
        if console.process.from_spare:
            ticket.started()  # its first screen is built: the next one may start at once
        try:
            return await self._bridge(console.master, console.process, ticket,
                                      (cols or 80) * (rows or 24))
        finally:
            ticket.started()
            await console.process.stop()
            os.close(console.master)

    async def _bridge(self, master: int, child: ConsoleProcess, ticket: Ticket | None = None,
                      cells: int = 0) -> int:
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
            if ticket is not None:
                ticket.output(len(data), cells)
            try:
                self.process.stdout.write(data)
            except BrokenPipeError:  # the client closed the channel as the console drew
                loop.remove_reader(master)
                output_closed.set()

        loop.add_reader(master, on_output)
        tasks = {
            asyncio.create_task(self._pump_input(master), name="input"),
            asyncio.create_task(child.wait(), name="child"),
            asyncio.create_task(output_closed.wait(), name="output"),
            asyncio.create_task(self._watch_idle(), name="idle"),
            asyncio.create_task(self._stop.wait(), name="stop"),
        }
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            loop.remove_reader(master)
            for task in tasks:
                task.cancel()
        names = {t.get_name() for t in done}
        if "stop" not in names and ("child" in names or "output" in names):
            # The PTY may close before the exit is reported: wait for it to tell a person who
            # quit from a console that died.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(child.wait(), 2.0)
            self.ended = "console closed" if child.returncode == 0 else "console failed"
        return child.returncode or 0

    async def _pump_input(self, master: int) -> None:
        """The client's keys to the PTY. What is not UTF-8 (a terminal here always sends it)
        is replaced by U+FFFD on the way, sequences split across reads kept whole: a stray
        byte reaches the console as a character it can refuse, never as undecodable input."""
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        while True:
            try:
                data = await self.process.stdin.read(65536)
            except asyncssh.TerminalSizeChanged as change:
                set_size(master, change.width, change.height)
                continue
            except (asyncssh.BreakReceived, asyncssh.SignalReceived):
                continue  # a client's break or signal request means nothing to the console
            except (asyncssh.Error, OSError, asyncio.IncompleteReadError):
                return
            if not data:
                return
            self.last_input = time.monotonic()
            view = memoryview(decoder.decode(data).encode("utf-8"))
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


def _refuse(process: asyncssh.SSHServerProcess, message: str, language: str | None,
            before: bytes = b"") -> None:
    with contextlib.suppress(Exception):
        process.stdout.write(before + client_line(message, language))
    process.exit(1)


def _say_goodbye(process: asyncssh.SSHServerProcess, reason: str,
                 language: str | None = None) -> None:
    """Restore the client's terminal (the console may not have), then the reason in a line."""
    with contextlib.suppress(Exception):
        message = END_MESSAGES.get(reason)
        process.stdout.write(RESTORE_TERMINAL + (b"\r\n" + client_line(message, language)
                                                 if message else b""))


class SSHService:
    """The listening socket, its admission, the live consoles and their launcher."""

    def __init__(self, limits: Limits, launcher: ConsoleLauncher, *, max_connections: int,
                 public_address: str | None = None, starting_at_once: int | None = None
                 ) -> None:
        self.limits = limits
        self.launcher = launcher
        self.start_queue = StartQueue(default_slots() if starting_at_once is None
                                      else starting_at_once)
        """One per core unless asked (`--start-at-once`): on 2 quiet cores it brought the median
        first screen of 20 at once from 743 to 572 ms and of 50 from 1747 to 1398 ms, the
        slowest no later (tests/perf/bench.py measures both ways)."""
        self.admission = Admission(limits, max_connections=max_connections)
        self.refusals = RefusalLog(log)
        self.public_address = public_address
        self.owners: set[ConnectionOwner] = set()
        self.consoles: set[ConsoleSession] = set()
        self._handlers: set[asyncio.Task] = set()
        self._tasks: set[asyncio.Future] = set()
        self._db = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ssh-db")
        """Database reads of the server itself (who may open SFTP), off the event loop and on
        at most two connections."""
        self.server: asyncio.AbstractServer | None = None
        self.new_ssh_connection: Callable[[], asyncssh.SSHServerConnection]

    @property
    def sockets(self) -> list:
        return list(self.server.sockets) if self.server is not None else []

    def track(self, future: asyncio.Future) -> None:
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)

    async def file_space_for_key(self, fingerprint: str | None) -> int | None:
        from core.files import file_space_for_key

        if not fingerprint:
            return None
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._db, file_space_for_key, fingerprint)
        except Exception:  # a database that cannot answer opens no files
            log.warning("could not look up the key %s for SFTP", fingerprint, exc_info=True)
            return None

    async def publish_documents(self, account_id: int) -> None:
        """The account's statements, invoices and credit notes into its statements/ folder
        (F16, F17), off the event loop; a failure leaves the folder as it was."""
        from core.documents import publish_documents

        try:
            await asyncio.get_running_loop().run_in_executor(
                self._db, publish_documents, account_id)
        except Exception:
            log.warning("could not publish the documents of account %s", account_id,
                        exc_info=True)

    async def handle_process(self, process: asyncssh.SSHServerProcess) -> None:
        """The connection's one channel, once it asked for what it wants."""
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            await self._handle(process)
        finally:
            if task is not None:
                self._handlers.discard(task)

    async def _handle(self, process: asyncssh.SSHServerProcess) -> None:
        conn = process.get_extra_info("connection")
        owner: ConnectionOwner = conn.get_owner()
        key = owner.fingerprint or "-"
        language = channel_language(process.channel)
        if process.command is not None or process.subsystem is not None:
            _refuse(process, NO_COMMANDS, language)
            self.refusals.refused(owner.address, "command", f"key={key}")
            return
        if process.get_terminal_type() is None:
            _refuse(process, NO_TERMINAL, language)
            self.refusals.refused(owner.address, "no terminal", f"key={key}")
            return
        refusal = self.admission.session_refusal()
        if refusal:
            _refuse(process, refusal, language, before=RESTORE_TERMINAL)
            self.refusals.refused(owner.address, "session limit", f"key={key}")
            return
        self.admission.live += 1
        session = ConsoleSession(process, owner, self.limits, self.launcher, self.start_queue,
                                 language)
        self.consoles.add(session)
        started = time.monotonic()
        code = 1
        try:
            code = await session.run()
        except Exception as exc:  # one broken session must not take the server down
            session.ended = "console failed"
            log.exception("session from %s failed (%s)", owner.address, type(exc).__name__)
        finally:
            self.consoles.discard(session)
            self.admission.live -= 1
            log.info("session %s key=%s duration=%.1fs ended=%s", owner.address, key,
                     time.monotonic() - started, session.ended)
            _say_goodbye(process, session.ended, language)
            with contextlib.suppress(Exception):
                process.exit(code)

    def close(self) -> None:
        """Stop listening; every console is told the server is shutting down."""
        if self.server is not None:
            self.server.close()
        for session in list(self.consoles):
            session.end("server shutting down")

    async def wait_closed(self) -> None:
        """Until every console has said goodbye (a few seconds at most), then close every
        connection and the launcher."""
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=SHUTDOWN_GRACE_S)
        for owner in list(self.owners):
            if owner.conn is not None:
                owner.conn.close()
        for future in list(self._tasks):
            future.cancel()
        self.launcher.close()
        await self.launcher.wait_closed()
        if self.server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), SHUTDOWN_GRACE_S)
        self._db.shutdown(wait=False, cancel_futures=True)


async def start_server(host: str, port: int, home: Path, limits: Limits, *,
                       launcher: ConsoleLauncher | None = None,
                       public_address: str | None = None,
                       starting_at_once: int | None = None) -> SSHService:
    """Listen for SSH connections; the zygote starts meanwhile (sessions arriving before it is
    ready wait for it). `starting_at_once`: consoles starting at one time (None: one per core,
    the default; 0: no limit; tui/ssh/start_queue.py)."""
    fd_limit = raise_fd_limit()
    max_connections = connection_ceiling(limits.max_connections, fd_limit)
    if limits.max_connections is not None and max_connections < limits.max_connections:
        log.warning("--max-connections %d lowered to %d: the open-file limit is %d",
                    limits.max_connections, max_connections, fd_limit)
    launcher = launcher or ConsoleLauncher()
    service = SSHService(limits, launcher, max_connections=max_connections,
                         public_address=public_address, starting_at_once=starting_at_once)
    options = await asyncssh.SSHServerConnectionOptions.construct(
        server_factory=lambda: ConnectionOwner(service),
        server_host_keys=[load_or_create_host_key(home)],
        encoding=None, line_editor=False, agent_forwarding=False, allow_scp=False,
        x11_forwarding=False, login_timeout=limits.logon_timeout_s,
        keepalive_interval=limits.keepalive_s, keepalive_count_max=3)
    loop = asyncio.get_running_loop()
    service.new_ssh_connection = lambda: asyncssh.SSHServerConnection(loop, options)
    service.server = await loop.create_server(lambda: AdmissionGate(service), host, port,
                                              backlog=ACCEPT_BURST)
    launcher.start()
    log.info("limits: %d connections at once (open-file limit %d), %d per address at once, "
             "%d per address a minute, %d consoles", max_connections, fd_limit,
             limits.per_address, limits.per_address_per_minute, limits.max_sessions)
    return service


def serve_forever(host: str, port: int, home: Path, limits: Limits, *,
                  public_address: str | None = None, starting_at_once: int | None = None,
                  spare_consoles: int = 0) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s",
                        stream=sys.stderr)
    logging.getLogger("asyncssh").setLevel(logging.WARNING)  # one line per event is ours

    async def main() -> None:
        server = await start_server(host, port, home, limits, public_address=public_address,
                                    starting_at_once=starting_at_once,
                                    launcher=ConsoleLauncher(spares=spare_consoles))
        bound = server.sockets[0].getsockname() if server.sockets else (host, port)
        log.info("serving the console on %s port %s (host key %s)", bound[0], bound[1],
                 host_key_path(home))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # SIGHUP too (unless ignored, as under nohup): the terminal it was started from closing
        # (a tmux pane, an ssh session) must not kill it before every console was told and its
        # terminal restored.
        signals = [signal.SIGINT, signal.SIGTERM]
        if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
            signals.append(signal.SIGHUP)
        for sig in signals:
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("shutting down: ending %d consoles", len(server.consoles))
        server.close()
        await server.wait_closed()

    asyncio.run(main())
    return 0
