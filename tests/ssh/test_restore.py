"""When the server ends a console (idle timeout, shutdown, the console dying), the client's
terminal is restored before the channel closes: main screen, cursor shown, mouse reporting
and bracketed paste off, attributes reset; then one line says why."""

from __future__ import annotations

import os
import signal

from tests.ssh.conftest import connect, eventually

EXPECTED = (b"\x1b[?1049l", b"\x1b[?25h", b"\x1b[?1000l", b"\x1b[?1002l", b"\x1b[?1003l",
            b"\x1b[?1006l", b"\x1b[?1015l", b"\x1b[?2004l", b"\x1b[0m")


def assert_restored_last(raw: bytes, reason: str) -> None:
    """The restore sequences come after everything the console drew, then the reason."""
    from tui.ssh.server import RESTORE_TERMINAL

    for sequence in EXPECTED:
        assert sequence in RESTORE_TERMINAL
    assert b"\x1b[?1049h" in raw  # the console did switch to the alternate screen
    tail = raw[raw.rindex(RESTORE_TERMINAL):]
    assert tail == RESTORE_TERMINAL + f"\r\n{reason}\r\n".encode(), tail


async def test_an_idle_timeout_restores_the_terminal(ssh_server):
    port = await ssh_server(idle_timeout_s=1.0)
    console = await connect(port)
    await console.wait_for("Free Account")
    await console.wait_closed(timeout=30)
    assert_restored_last(bytes(console.raw), "Logged off after a long time without input.")


async def test_a_server_shutdown_restores_every_terminal(ssh_server):
    port = await ssh_server()
    consoles = [await connect(port) for _ in range(2)]
    for console in consoles:
        await console.wait_for("Free Account")
    service = ssh_server.services.pop()
    service.close()
    await service.wait_closed()
    for console in consoles:
        await console.wait_closed(timeout=30)
        assert_restored_last(bytes(console.raw), "The server is shutting down: you have been "
                             "logged off. Please connect again in a few minutes.")


async def test_a_console_that_dies_leaves_a_restored_terminal(ssh_server):
    port = await ssh_server()
    console = await connect(port)
    await console.wait_for("Free Account")
    zygote = ssh_server.launcher.zygote
    pids = await eventually(lambda: list(zygote.children), what="the forked console")
    os.kill(pids[0], signal.SIGKILL)
    await console.wait_closed(timeout=30)
    assert_restored_last(bytes(console.raw),
                         "The console stopped unexpectedly. Please connect again.")
    assert "Traceback" not in console.text()


async def test_sigterm_or_a_hang_up_of_serve_ssh_restores_every_terminal(serve_ssh):
    """The command an operator runs: SIGTERM (systemd), or SIGHUP when the terminal it was
    started from closes, ends it gracefully, every console told and its terminal restored."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        server = await serve_ssh("--per-minute", "20")
        consoles = [await connect(server.port) for _ in range(2)]
        for console in consoles:
            await console.wait_for("Free Account")
        server.process.send_signal(sig)
        for console in consoles:
            await console.wait_closed(timeout=30)
            assert_restored_last(bytes(console.raw), "The server is shutting down: you have "
                                 "been logged off. Please connect again in a few minutes.")
        assert await server.stop() == 0
        assert server.log_lines("shutting down: ending 2 consoles")
