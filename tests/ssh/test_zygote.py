"""Sessions are forked from one pre-started zygote: they are its children, it reaps them, it is
restarted when it dies, and without one sessions are spawned as before."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Iterator

import pytest

from tests.ssh.conftest import (
    children_of,
    connect,
    eventually,
    parent_of,
    process_name,
    trusted_account,
)


def forked_pids(launcher) -> set[int]:
    zygote = launcher.zygote
    return set(zygote.children) if zygote is not None else set()


def spawned_consoles() -> list[int]:
    """Console processes this (server) process started itself, the fallback way."""
    found = []
    for pid in children_of(os.getpid()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if b"tui.ssh.session" in cmdline.read():
                    found.append(pid)
        except OSError:
            continue
    return found


async def test_sessions_are_children_of_the_zygote_which_reaps_them(ssh_server):
    port = await ssh_server()
    launcher = ssh_server.launcher
    first = await connect(port)
    second = await connect(port)
    try:
        await first.wait_for("Free Account")
        await second.wait_for("Free Account")
        zygote = launcher.zygote
        pids = await eventually(lambda: forked_pids(launcher) if len(forked_pids(launcher)) == 2
                                else None, what="two forked sessions")
        assert zygote.forks == 2
        for pid in pids:
            assert parent_of(pid) == zygote.pid
            assert process_name(pid) == "cloudacct-ssh"
        assert parent_of(zygote.pid) == os.getpid()  # the zygote is the server's child
        assert spawned_consoles() == []
    finally:
        await first.close()
        await second.close()
    # Disconnecting ends each console, and the zygote reaps it: no zombie is left.
    await eventually(lambda: all(parent_of(pid) is None for pid in pids), what="reaped")
    await eventually(lambda: not forked_pids(launcher), what="exits reported")
    assert launcher.zygote is zygote and zygote.alive


async def test_a_killed_zygote_is_restarted_and_the_next_session_is_forked(ssh_server):
    port = await ssh_server()
    launcher = ssh_server.launcher
    before = await connect(port)
    try:
        await before.wait_for("Free Account")
        old = launcher.zygote
        (orphan_pid,) = forked_pids(launcher)
        orphan = old.children[orphan_pid]
        os.kill(old.pid, signal.SIGKILL)
        new = await eventually(
            lambda: launcher.zygote if launcher.zygote not in (None, old) else None,
            what="a new zygote")
        assert new.pid != old.pid
        # The session forked by the dead zygote goes on working.
        await before.settle()
        before.send("l")
        await before.wait_for("Log on to your account")

        after = await connect(port)
        try:
            await after.wait_for("Free Account")
            (pid,) = await eventually(lambda: forked_pids(launcher), what="a forked session")
            assert parent_of(pid) == new.pid
            assert spawned_consoles() == []
        finally:
            await after.close()
    finally:
        await before.close()
    # Its end is still seen (through a pidfd: it is no longer the zygote's child).
    await eventually(lambda: orphan.ended, what="the orphaned console ended")


async def test_two_forked_sessions_each_have_their_own_account(ssh_server):
    email_a, email_b = "forked1@example.com", "forked2@example.com"
    key_a, key_b = trusted_account(email_a), trusted_account(email_b)
    port = await ssh_server()
    a = await connect(port, key=key_a)
    b = await connect(port, key=key_b)
    nobody = await connect(port)
    try:
        await a.wait_for(email_a)
        await b.wait_for(email_b)
        await nobody.wait_for("Free Account")
        await a.settle()
        await b.settle()
        assert email_b not in a.text()
        assert email_a not in b.text()
        assert email_a not in nobody.text() and email_b not in nobody.text()
        zygote = ssh_server.launcher.zygote
        pids = forked_pids(ssh_server.launcher)
        assert len(pids) == 3
        assert {parent_of(pid) for pid in pids} == {zygote.pid}
    finally:
        await a.close()
        await b.close()
        await nobody.close()


async def test_without_a_zygote_sessions_are_spawned_and_a_warning_logged(ssh_server,
                                                                          ssh_log):
    from tui.ssh.launcher import ConsoleLauncher

    def broken(fd: int) -> list[str]:
        return [sys.executable, "-c", "raise SystemExit(3)"]

    port = await ssh_server(launcher=ConsoleLauncher(zygote_command=broken))
    console = await connect(port)
    try:
        await console.wait_for("Free Account")
        assert spawned_consoles(), "the console was not spawned by the server"
        assert ssh_server.launcher.zygote is None
    finally:
        await console.close()
    warnings = [r.getMessage() for r in ssh_log if r.levelno == logging.WARNING]
    assert any("did not start" in w for w in warnings), warnings
    assert any("as a new process" in w for w in warnings), warnings


@pytest.fixture
def sighup_ignored() -> Iterator[None]:
    """The server runs as under `nohup`: SIGHUP ignored, which children inherit."""
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    yield
    signal.signal(signal.SIGHUP, previous)


async def test_a_hang_up_ends_a_forked_console_even_under_nohup(sighup_ignored, ssh_server):
    port = await ssh_server()
    launcher = ssh_server.launcher
    console = await connect(port)
    try:
        await console.wait_for("Free Account")
        (pid,) = await eventually(lambda: forked_pids(launcher), what="a forked session")
        child = launcher.zygote.children[pid]
    finally:
        await console.close()
    await eventually(lambda: child.ended, what="the console ended")
    # Ended by the hang-up itself (the zygote reports how), not by the SIGKILL that follows
    # when a hang-up is ignored.
    assert child.returncode == -signal.SIGHUP
