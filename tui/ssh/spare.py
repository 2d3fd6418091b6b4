"""A spare console: forked by the zygote before anyone connects, built to its Welcome screen
with no terminal, and handed the next connection's PTY.

A forked console spends ~90 ms of CPU before its first screen (composing, styling, laying out
and rendering Welcome), all of it Textual's and the same for everyone. Twenty people connecting
at once on two cores wait for twenty of those one after another. A spare has done that work
while the server was idle; when a connection comes, it only takes the terminal, switches it to
application mode and paints the screen it already has (a few ms), so the person sees Welcome
sooner than a local start shows it.

A spare is a fresh fork used once, for one connection: it never served anyone before and
never serves anyone after. It is built for one child environment (tui/ssh/consoles.py
`child_environment`: the terminal type, the client's language, the address people reach this
server at); the zygote hands it only a connection whose environment is exactly that one, and
forks a new console for any other. Before the attach message it has no terminal (0/1/2 are
/dev/null), no identity (origin "ssh", no key) and no session; after it, it is the same console
a fresh fork would be.

Protocol, on a socketpair of its own with the zygote (tui/ssh/wire.py):
  spare -> zygote  {"op": "built"} once its Welcome screen is painted (into nothing)
  zygote -> spare  {"op": "attach", "identity"} + the PTY slave (SCM_RIGHTS)
End-of-file on it before an attach (the zygote is gone) ends the spare.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

from tui.ssh import wire
from tui.terminal_input import CalmLinuxDriver

SPARE_ORIGIN = "ssh"
"""The origin a spare is built with: not "local", so it chooses its language as an SSH console
does (from the client's locale in its environment); replaced by the real one at attach."""


class SpareDriver(CalmLinuxDriver):
    """Textual's terminal driver, dormant until the zygote passes the terminal: until then it
    reports the size the spare was built for and writes nowhere."""

    link: socket.socket | None = None
    """The socket to the zygote (set by `run_spare` before the app runs)."""
    built_size: tuple[int, int] = (80, 24)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attached = False

    def _get_terminal_size(self) -> tuple[int, int]:
        return super()._get_terminal_size() if self.attached else self.built_size

    def write(self, data: str) -> None:
        if self.attached:
            super().write(data)

    def flush(self) -> None:
        if self.attached:
            super().flush()

    def start_application_mode(self) -> None:
        import asyncio

        from textual import events
        from textual.geometry import Size

        link = self.link
        assert link is not None, "run_spare sets the link"
        self._spare_loop = asyncio.get_running_loop()
        size = Size(*self.built_size)
        self._spare_loop.call_soon(lambda: self._app.post_message(events.Resize(size, size)))
        link.setblocking(False)
        self._spare_loop.add_reader(link, self._on_link)

    def stop_application_mode(self) -> None:
        if self.attached:
            super().stop_application_mode()

    def disable_input(self) -> None:
        if self.attached:
            super().disable_input()

    def told_built(self) -> None:
        """Tell the zygote this spare can be handed a connection now."""
        link = self.link
        if link is not None and not self.attached:
            try:
                link.send(wire.encode({"op": "built"}))
            except OSError:
                self._app.exit()

    def _on_link(self) -> None:
        link = self.link
        assert link is not None
        try:
            data, fds, _flags, _addr = socket.recv_fds(link, wire.MAX_MESSAGE, 1)
        except BlockingIOError:
            return
        except OSError:
            data, fds = b"", []
        try:
            message = wire.decode(data) if data else {"op": "?"}
        except ValueError:
            message = {"op": "?"}
        if message["op"] != "attach" or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            # The zygote hung up, or sent what it never sends: this spare serves nobody.
            self._spare_loop.remove_reader(link)
            self._app.exit()
            return
        self._spare_loop.remove_reader(link)
        link.close()
        self.link = None
        try:
            self.attach(fds[0], message.get("identity") or {})
        except BaseException:
            # Half attached is no console to leave running: the server sees it end and
            # closes the session; the log says why.
            import logging

            logging.getLogger("cloudacct").exception("a spare console could not attach")
            os._exit(1)

    def attach(self, slave: int, identity: dict[str, Any]) -> None:
        """Take the PTY as this process's terminal and show it the screen already built."""
        import fcntl
        import termios

        from tui.ssh.session import clean_identity, name_process

        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        sys.__stdout__.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # a tty now
        name_process("cloudacct-ssh")  # a session's console now, like any forked one
        identity = clean_identity(identity)
        app: Any = self._app
        app.origin = identity["origin"]
        app.key_fingerprint = identity["key_fingerprint"]
        app.key_algorithm = identity["key_algorithm"]
        app.user_presence = identity["user_presence"]
        self.input_tty = os.isatty(self.fileno)
        self.attached = True
        # Its size event lays the screen out again on the PTY, which redraws all of it (the
        # terminal's size or not the one it was built for).
        super().start_application_mode()  # alt screen, raw mode, input thread, real size
        if app.key_fingerprint:
            app.log_on_with_key(app.key_fingerprint, app.origin)


def run_spare(link: socket.socket, cols: int = 80, rows: int = 24) -> int:
    """In the forked spare: build the console on no terminal and wait for one."""
    import gc

    from tui.terminal_type import clean_term_environment

    gc.disable()  # until the first screen is painted, as any console start
    clean_term_environment()
    try:
        from tui.app import CloudAcctApp

        app = CloudAcctApp(origin=SPARE_ORIGIN)
    except Exception:
        return 1
    SpareDriver.link = link
    SpareDriver.built_size = (cols, rows)
    app.driver_class = SpareDriver
    app.run()
    return app.return_code or 0
