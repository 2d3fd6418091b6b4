"""serve-ssh over a real SSH connection on 127.0.0.1, screens read through pyte."""

from __future__ import annotations

import asyncio

import asyncssh
import pytest

from tests.ssh.conftest import connect, trusted_account


async def test_a_terminal_connection_shows_the_welcome_screen(ssh_server):
    port = await ssh_server()
    console = await connect(port)
    try:
        await console.wait_for("Free Account")
    finally:
        await console.close()


async def test_the_host_key_is_made_once_and_reused(ssh_server, cloudacct_home):
    from tui.ssh.server import host_key_path

    await ssh_server()
    first = host_key_path(cloudacct_home).read_bytes()
    await ssh_server()
    assert host_key_path(cloudacct_home).read_bytes() == first
    assert (host_key_path(cloudacct_home).stat().st_mode & 0o777) == 0o600


async def test_without_a_terminal_there_is_a_one_line_explanation(ssh_server):
    port = await ssh_server()
    console = await connect(port, term=None)
    await console.wait_closed()
    text = console.text()
    assert "needs a terminal" in text
    assert console.process.exit_status == 1


async def test_commands_are_refused(ssh_server):
    port = await ssh_server()
    console = await connect(port, command="cat /etc/passwd")
    await console.wait_closed()
    assert "serves only its console" in console.text()
    assert "root:" not in console.text()


async def test_port_forwarding_is_refused(ssh_server):
    port = await ssh_server()
    async with asyncssh.connect("127.0.0.1", port, username="x", known_hosts=None,
                                client_keys=[], password="", agent_path=None) as conn:
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.open_connection("127.0.0.1", port)
        with pytest.raises(asyncssh.Error):
            await conn.start_sftp_client()


async def test_the_per_address_rate_limit_says_so_before_any_ssh(ssh_server):
    """Counted at TCP accept: the third connection in a minute gets one line and is closed,
    before the SSH version exchange (so an SSH client sees the connection closed)."""
    port = await ssh_server(per_address_per_minute=2)
    consoles = [await connect(port, command="x") for _ in range(2)]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    line = await asyncio.wait_for(reader.read(200), 10)
    assert line.startswith(b"Too many connections from 127.0.0.1: at most 2 a minute")
    assert b"SSH-2.0" not in line
    assert await asyncio.wait_for(reader.read(200), 10) == b""  # closed
    writer.close()
    with pytest.raises((asyncssh.Error, OSError)):
        await connect(port)
    for console in consoles:
        await console.close()


async def test_the_concurrent_session_limit_says_so(ssh_server):
    port = await ssh_server(max_sessions=1)
    first = await connect(port)
    try:
        await first.wait_for("Free Account")
        second = await connect(port)
        await second.wait_closed()
        assert "The console is full" in second.text()
    finally:
        await first.close()


async def test_a_resize_reaches_the_console(ssh_server):
    port = await ssh_server()
    console = await connect(port, cols=100, rows=32)
    try:
        await console.wait_for("Free Account")
        console.resize(80, 24)
        # The footer (key help) is drawn on the last line of whatever size the console has.
        deadline = asyncio.get_running_loop().time() + 20
        while asyncio.get_running_loop().time() < deadline:
            if console.screen.display[23].strip():
                break
            await asyncio.sleep(0.05)
        assert console.screen.display[23].strip(), console.text()
        assert "Free Account" in console.text()
    finally:
        await console.close()


async def test_a_trusted_key_opens_the_console_logged_on(ssh_server, active):
    from core.accounts import log_on
    from core.security import trust_current_key
    from tests.conftest import STRONG_PASSWORD

    token, email = active
    key = asyncssh.generate_private_key("ssh-ed25519")
    fingerprint = key.get_fingerprint("sha256")
    session = log_on(email, STRONG_PASSWORD, origin="127.0.0.1", key_fingerprint=fingerprint)
    trust_current_key(session.token)

    port = await ssh_server()
    console = await connect(port, key=key)
    try:
        await console.wait_for(email)
    finally:
        await console.close()

    other = asyncssh.generate_private_key("ssh-ed25519")
    stranger = await connect(port, key=other)
    try:
        await stranger.wait_for("Free Account")
        assert email not in stranger.text()
    finally:
        await stranger.close()


async def test_ten_sessions_at_once_each_with_its_own_state(ssh_server, db):
    """Ten people at once: each trusted key opens its own account."""
    keys = []
    for n in range(10):
        email = f"person{n}@example.com"
        keys.append((email, trusted_account(email)))

    port = await ssh_server(per_address_per_minute=20, per_address=10)
    consoles = await asyncio.gather(*(connect(port, key=key) for _, key in keys))
    try:
        for (email, _), console in zip(keys, consoles, strict=True):
            await console.wait_for(email, timeout=90)
        for (email, _), console in zip(keys, consoles, strict=True):
            others = [e for e, _ in keys if e != email]
            assert not any(o in console.text() for o in others)
    finally:
        for console in consoles:
            await console.close()


async def test_log_on_over_ssh_and_a_password_change_elsewhere_ends_it(ssh_server, active):
    from core.security import change_password
    from tests.conftest import STRONG_PASSWORD

    token, email = active
    port = await ssh_server()
    console = await connect(port)
    try:
        await console.wait_for("Free Account")
        console.send("l")
        await console.wait_for("Log on to your account")
        await console.settle()
        console.send(email)
        await console.wait_for(email)
        await console.settle()
        console.send("\t")
        await console.settle()
        console.send(STRONG_PASSWORD)
        console.send("\r")
        await console.wait_for(email)
        await console.wait_for("Overview")
        # The log-on is recorded with where it came from.
        from core.security import security_overview

        where = [r.where for r in security_overview(token).recent_logons]
        assert "SSH from 127.0.0.1" in where
        # A password change in another session logs this console off.
        change_password(token, STRONG_PASSWORD, "a different long passphrase 41",
                        "a different long passphrase 41")
        await console.wait_for("Free Account", timeout=30)
        await console.wait_for("password was changed")
    finally:
        await console.close()



async def test_sign_up_and_verify_over_ssh(ssh_server):
    """A person signs up by keyboard over SSH, reads the code from the outbox and verifies."""
    from core.models import Account
    from tests.conftest import STRONG_PASSWORD, latest_code

    port = await ssh_server()
    console = await connect(port)
    try:
        await console.wait_for("Free Account")
        console.send("f")
        await console.wait_for("Create your free account")
        await console.settle()
        # Open the country list, type to search, choose; then Tab from field to field. Each key
        # group waits for the screen to settle, as a person's typing would.
        for keys in ("\r", "Singa", "\r", "\t", "remote@example.com", "\t", STRONG_PASSWORD,
                     "\t", STRONG_PASSWORD, "\t", " ", "\x13"):  # Space ticks; ctrl+s confirms
            console.send(keys)
            await console.settle()
        await console.wait_for("We will email a 6-digit code", timeout=30)
        await console.settle()
        assert Account.get(Account.email == "remote@example.com").status == "unverified"
        console.send("\r")  # Send (focused)
        code = None
        deadline = asyncio.get_running_loop().time() + 30
        while code is None and asyncio.get_running_loop().time() < deadline:
            try:
                code = latest_code("remote@example.com")
            except AssertionError:
                await asyncio.sleep(0.1)
        assert code, console.text()
        await console.settle()
        console.send(code)
        await console.settle()
        console.send("\r")
        await console.wait_for("Later", timeout=30)
        assert Account.get(Account.email == "remote@example.com").status == "active"
    finally:
        await console.close()


async def test_idle_sessions_are_ended_and_every_session_logs_one_line(ssh_server, ssh_log):
    port = await ssh_server(idle_timeout_s=1.0)
    console = await connect(port)
    await console.wait_for("Free Account")
    await console.wait_closed(timeout=30)
    assert "without input" in console.text()
    lines = [r.getMessage() for r in ssh_log if r.getMessage().startswith("session ")]
    assert len(lines) == 1
    assert "127.0.0.1" in lines[0] and "key=-" in lines[0] and "ended=idle timeout" in lines[0]
    assert "duration=" in lines[0]
