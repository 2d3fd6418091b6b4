"""Spare consoles (tui/ssh/spare.py): built by the zygote while the server is idle, each handed
one connection whose environment it was built for, and never anyone else's.

Real SSH connections to a real server on 127.0.0.1, screens read through pyte."""

from __future__ import annotations

import os
import socket

import pytest

from tests.ssh.conftest import (
    children_of,
    connect,
    eventually,
    parent_of,
    process_name,
    trusted_account,
)


def spares_of(launcher) -> set[int]:
    """The zygote's children that are still spares (no connection handed to them yet)."""
    zygote = launcher.zygote
    if zygote is None:
        return set()
    return {pid for pid in children_of(zygote.pid) if process_name(pid) == "cloudacct-spare"}


def sockets_of(pid: int) -> set[str]:
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:"):
            found.add(target)
    return found


@pytest.fixture
async def spare_server(ssh_server):
    """A server whose zygote keeps two spares, and the spares once the first connection (a
    console forked afresh) has told it which environment to build them for."""
    from tui.ssh.launcher import ConsoleLauncher

    launcher = ConsoleLauncher(spares=2)
    port = await ssh_server(launcher=launcher)
    first = await connect(port)
    try:
        await first.wait_for("Free Account")
    finally:
        await first.close()
    await eventually(lambda: not launcher.zygote.children, what="the first console reaped")
    spares = await eventually(lambda: s if len(s := spares_of(launcher)) == 2 else None,
                              what="two spare consoles")
    return port, launcher, spares


async def test_a_connection_is_handed_a_spare_which_is_then_its_own_console(spare_server, active):
    from core.security import security_overview
    from tests.conftest import STRONG_PASSWORD

    port, launcher, spares = spare_server
    token, email = active
    console = await connect(port)
    try:
        await console.wait_for("Free Account")
        (pid,) = await eventually(lambda: set(launcher.zygote.children) or None,
                                  what="the session's console")
        assert pid in spares  # handed a spare, not forked for it
        assert launcher.zygote.children[pid].from_spare  # (so it takes no turn of the queue)
        assert process_name(pid) == "cloudacct-ssh"
        assert parent_of(pid) == launcher.zygote.pid
        # It is the whole console: the keyboard, a burst of keys, the log-on with its origin.
        await console.log_on(email, STRONG_PASSWORD)
        assert "SSH from 127.0.0.1" in [r.where for r in security_overview(token).recent_logons]
        # and it follows the client's window.
        console.resize(120, 36)
        await console.wait_for("Overview")
    finally:
        await console.close()
    await eventually(lambda: parent_of(pid) is None, what="the console reaped")
    # A spare serves one connection: another is built in its place.
    await eventually(lambda: len(spares_of(launcher)) == 2 and pid not in spares_of(launcher),
                     what="the pool built again")


async def test_a_trusted_key_opens_a_spare_logged_on(spare_server):
    port, launcher, spares = spare_server
    key = trusted_account("kay@example.com")
    console = await connect(port, key=key, cols=80, rows=24)  # the size spares are built at
    try:
        await console.wait_for("kay@example.com")
        assert set(launcher.zygote.children) <= spares
    finally:
        await console.close()


async def test_a_spare_has_no_terminal_and_no_other_consoles_socket(spare_server):
    port, launcher, spares = spare_server
    zygote_ends = sockets_of(launcher.zygote.pid)
    for pid in spares:
        # Its own end of its link to the zygote (and, once running, its event loop's
        # self-pipe): never the zygote's end of any link, on which another spare is handed a PTY.
        mine = sockets_of(pid)
        assert mine and not mine & zygote_ends
        assert all(not mine & sockets_of(other) for other in spares - {pid})
        assert os.readlink(f"/proc/{pid}/fd/0") == os.devnull
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        assert int(fields[3]) == pid  # its own session (sid == pid) ...
        assert int(fields[4]) == 0  # ... with no controlling terminal until one is handed


async def test_another_environment_gets_a_console_of_its_own(spare_server):
    port, launcher, spares = spare_server
    console = await connect(port, term="vt100")  # not the terminal type the spares were built for
    try:
        await console.wait_for("Free Account")
        (pid,) = await eventually(lambda: set(launcher.zygote.children) or None,
                                  what="the session's console")
        assert pid not in spares and not launcher.zygote.children[pid].from_spare
        assert process_name(pid) == "cloudacct-ssh"
    finally:
        await console.close()


async def test_spares_end_with_the_server(spare_server, ssh_server):
    port, launcher, spares = spare_server
    service = ssh_server.service
    service.close()
    await service.wait_closed()
    await eventually(lambda: all(parent_of(pid) is None for pid in spares), what="spares ended")


def test_spares_that_cannot_be_built_stop_the_building(capsys):
    from tui.ssh.zygote import FAILED_SPARES_AT_MOST, Zygote

    ours, theirs = socket.socketpair()
    try:
        zygote = Zygote(theirs, spares=4)
        zygote.spare_env = {"TERM": "xterm-256color"}
        assert zygote.spares_wanted()
        for _ in range(FAILED_SPARES_AT_MOST):
            zygote.spare_failed(1)
        assert not zygote.spares_wanted()
        assert "no more are built" in capsys.readouterr().err
    finally:
        ours.close()
        theirs.close()
