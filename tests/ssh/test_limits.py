"""The SSH limits counted from the first byte (SPEC "Abuse limits", issue 11): what a flood of
connections can hold, for how long, and that a real client still gets in. Real connections
on 127.0.0.1; other clients come from other 127.0.0.0/8 addresses."""

from __future__ import annotations

import asyncio
import os
import time

import asyncssh
import pytest

from tests.ssh.conftest import connect, eventually, open_connection


def open_fds() -> int:
    """Descriptors open in this process, which is also the server's."""
    return len(os.listdir("/proc/self/fd"))


def messages(records, needle: str) -> list[str]:
    return [r.getMessage() for r in records if needle in r.getMessage()]


async def test_a_flood_of_channel_less_connections_is_bounded_and_a_person_still_gets_in(
        serve_ssh):
    """300 connections from one address that authenticate and open no channel, against
    `cloudacct serve-ssh` in its own process: at most `--per-address` are held at once, the
    rest are refused at once, the held ones are dropped after the no-channel limit, the
    server's descriptors stay bounded, and a person from another address connects and sees
    the Welcome screen meanwhile. The operator's log says so in a few lines."""
    per_address = 8
    server = await serve_ssh("--per-address", str(per_address), "--per-minute", "1000",
                             "--channel-timeout", "1")
    port = server.port
    before = server.open_fds()
    peak = {"fds": before}
    done = asyncio.Event()

    async def watch() -> None:
        while not done.is_set():
            peak["fds"] = max(peak["fds"], server.open_fds())
            await asyncio.sleep(0.01)

    held: list[asyncssh.SSHClientConnection] = []
    refused: list[float] = []
    most_held = 0

    async def attempt() -> None:
        nonlocal most_held
        started = time.monotonic()
        try:
            conn = await open_connection(port)
        except (asyncssh.Error, OSError):
            refused.append(time.monotonic() - started)
            return
        held.append(conn)
        most_held = max(most_held, sum(not c.is_closed() for c in held))

    watcher = asyncio.create_task(watch())
    flood_started = time.monotonic()
    try:
        for _wave in range(6):
            await asyncio.gather(*(attempt() for _ in range(50)))
        # Meanwhile a real person, from another address.
        connect_started = time.monotonic()
        person = await connect(port, source="127.0.0.2")
        await person.wait_for("Free Account", timeout=60)
        person_seconds = time.monotonic() - connect_started
        await person.close()
        # Every held connection is dropped by the server soon after the no-channel limit.
        for conn in held:
            await asyncio.wait_for(conn.wait_closed(), 30)
        flood_seconds = time.monotonic() - flood_started
    finally:
        done.set()
        await watcher
        for conn in held:
            conn.close()

    assert len(held) + len(refused) == 300
    assert len(refused) >= 250, (len(held), len(refused))
    assert max(refused) < 10  # refused at once: nobody waits for a log-on timeout
    assert most_held <= per_address
    # Held: a socket each (the person's also a PTY). Refused: a socket each for a moment, at
    # most one wave of them (asyncio accepts what is waiting, then each is closed at once).
    grown = peak["fds"] - before
    assert grown <= 3 * (per_address + 1) + 50 + 10, (before, peak)
    await eventually(lambda: server.open_fds() <= before + 2, what="descriptors given back")
    # The operator's log: the refusals at connect in one line, the dropped ones in one or two.
    await server.wait_for_log("no channel opened")
    assert len(server.log_lines("refused 127.0.0.1: connections at once")) == 1, server.lines
    assert 1 <= len(server.log_lines("refused 127.0.0.1: no channel opened")) <= 2
    assert not server.log_lines("Traceback")
    print(f"\nflood: 300 attempts, {len(held)} held (at most {most_held} at once), "
          f"{len(refused)} refused (slowest {max(refused):.2f} s); server fds {before} -> peak "
          f"{peak['fds']}; person saw Welcome in {person_seconds:.2f} s; all dropped "
          f"{flood_seconds:.1f} s after the flood began")


async def test_the_global_cap_refuses_at_once_with_a_reason(ssh_server, ssh_log):
    port = await ssh_server(max_connections=3, channel_timeout_s=30.0)
    held = [await open_connection(port, source=f"127.0.0.{10 + n}") for n in range(3)]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port,
                                                       local_addr=("127.0.0.20", 0))
        line = await asyncio.wait_for(reader.read(200), 10)
        writer.close()
        assert line.startswith(b"The server is busy")
        held.pop().close()
        await eventually(lambda: ssh_server.service.admission.connections == 2,
                         what="a closed connection released")
        again = await open_connection(port, source="127.0.0.21")
        held.append(again)
    finally:
        for conn in held:
            conn.close()
    assert messages(ssh_log, "server full")


def test_the_connection_cap_follows_the_descriptor_limit():
    from tui.ssh.limits import FDS_PER_CONNECTION, RESERVED_FDS, connection_ceiling

    assert connection_ceiling(None, 1 << 20) == 512
    assert connection_ceiling(5000, 1024) == (1024 - RESERVED_FDS) // FDS_PER_CONNECTION
    assert connection_ceiling(10, 1024) == 10
    assert connection_ceiling(None, 100) == 1  # never zero: the server still serves someone


def test_the_server_raises_its_open_file_limit_to_the_hard_one():
    import resource

    from tui.ssh.limits import raise_fd_limit

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
    try:
        assert raise_fd_limit() == hard
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_ipv6_clients_are_counted_by_their_slash_64():
    from tui.ssh.limits import Admission, Limits, address_key

    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    admission = Admission(Limits(per_address=2), max_connections=100)
    assert admission.admit("2001:db8:1:2::1") is None
    assert admission.admit("2001:db8:1:2::2") is None
    refusal = admission.admit("2001:db8:1:2::3")
    assert refusal is not None and refusal.reason == "connections at once"


def test_the_per_minute_count_keeps_bounded_memory_under_a_flood():
    from tui.ssh.limits import Admission, Limits

    now = [0.0]
    admission = Admission(Limits(per_address_per_minute=3, per_address=100),
                          max_connections=100, monotonic=lambda: now[0])
    results = [admission.admit("192.0.2.1") for _ in range(10_000)]
    assert results[:3] == [None, None, None]
    assert all(r is not None and r.reason == "connections per minute" for r in results[3:])
    assert all(len(q) <= 3 for q in admission._recent.values())
    now[0] = 61.0
    for _ in range(3):
        admission.release("192.0.2.1")
    assert admission.admit("192.0.2.1") is None  # a minute later the address is let in again


def test_repeated_refusals_are_logged_once_then_summed_up():
    import logging

    from tui.ssh.limits import RefusalLog

    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    logger = logging.getLogger("test.refusals")
    logger.addHandler(Keep())
    now = [0.0]
    refusals = RefusalLog(logger, window_s=60.0, monotonic=lambda: now[0])
    for _ in range(500):
        refusals.refused("192.0.2.1", "connections at once")
    refusals.refused("192.0.2.9", "connections at once")
    assert lines == ["refused 192.0.2.1: connections at once",
                     "refused 192.0.2.9: connections at once"]
    now[0] = 61.0
    refusals.refused("192.0.2.1", "connections at once")
    assert lines[-1] == ("refused 192.0.2.1: connections at once "
                         "(and 499 more in the last 60 s)")


async def test_a_connection_that_opens_no_channel_is_closed(ssh_server, ssh_log):
    port = await ssh_server(channel_timeout_s=0.5)
    conn = await open_connection(port)
    await asyncio.wait_for(conn.wait_closed(), 20)
    assert messages(ssh_log, "no channel opened")


async def test_a_connection_that_never_authenticates_is_closed(ssh_server, ssh_log):
    port = await ssh_server(logon_timeout_s=0.5)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        banner = await asyncio.wait_for(reader.readline(), 10)
        assert banner.startswith(b"SSH-2.0-")
        # Say nothing more: the server hangs up after the log-on timeout.
        async def until_closed() -> None:
            while await reader.read(4096):
                pass

        await asyncio.wait_for(until_closed(), 20)
    finally:
        writer.close()
    assert await eventually(lambda: messages(ssh_log, "log-on timeout"), what="logged")


async def test_a_second_channel_on_one_connection_is_refused(ssh_server, ssh_log):
    port = await ssh_server()
    console = await connect(port)
    try:
        await console.wait_for("Free Account")
        with pytest.raises(asyncssh.ChannelOpenError):
            await console.conn.create_process(term_type="xterm", encoding=None)
        with pytest.raises(asyncssh.ChannelOpenError):
            await console.conn.start_sftp_client()
        assert "Free Account" in console.text()  # the first one goes on
    finally:
        await console.close()
    assert messages(ssh_log, "second channel")


async def test_other_subsystems_and_forwarding_are_refused(ssh_server, ssh_log):
    port = await ssh_server()
    conn = await open_connection(port)
    try:
        with pytest.raises(asyncssh.Error):
            process = await conn.create_process(subsystem="netconf", encoding=None)
            await process.wait(timeout=10)
    finally:
        conn.close()
    assert messages(ssh_log, "subsystem")
    conn = await open_connection(port)
    try:
        with pytest.raises(asyncssh.Error):
            await conn.open_connection("127.0.0.1", 22)
        with pytest.raises(asyncssh.ChannelListenError):
            await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 22)
    finally:
        conn.close()
    assert messages(ssh_log, "port forwarding")


async def test_a_shell_without_a_terminal_and_exec_are_refused_with_a_reason(ssh_server):
    port = await ssh_server()
    shell = await connect(port, term=None)
    await shell.wait_closed()
    assert "needs a terminal" in shell.text() and shell.process.exit_status == 1
    for command in ("ls", "scp -t uploads/"):
        console = await connect(port, command=command)
        await console.wait_closed()
        assert "serves only its console" in console.text()
        assert console.process.exit_status == 1


async def test_a_terminal_type_with_control_characters_never_reaches_the_console(ssh_server):
    port = await ssh_server()
    console = await connect(port, term="xterm\x00\x1b[2J")
    try:
        await console.wait_for("Free Account")
        assert "Traceback" not in console.text()
    finally:
        await console.close()


@pytest.mark.parametrize("args", [["--per-address", "0"], ["--max-connections", "0"],
                                  ["--channel-timeout", "0"], ["--public-address", "a b"],
                                  ["--public-address", "host:port"]])
def test_serve_ssh_refuses_limits_that_make_no_sense(args, capsys):
    from tui.cli import main

    assert main(["serve-ssh", *args]) == 2
    assert capsys.readouterr().err.count("\n") == 1  # one line


def test_the_public_address_is_host_and_port():
    from tui.cli import _public_address

    assert _public_address("files.example.com", 2222) == "files.example.com:2222"
    assert _public_address("files.example.com:22", 2222) == "files.example.com:22"
    assert _public_address("2001:db8::1", 2222) == "[2001:db8::1]:2222"
    assert _public_address("[2001:db8::1]:22", 2222) == "[2001:db8::1]:22"
    assert _public_address(":22", 2222) is None
