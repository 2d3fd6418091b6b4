"""The real console (`python -m tui.cli`) on a real pseudo-terminal, its screen read through a
terminal emulator (pyte): what a person at a terminal sees, and what their bytes do."""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-12-01T10:00:00Z"  # the tests' frozen clock (tests/conftest.py START), for the child


class LocalConsole:
    """`cloudacct` on a PTY of `cols`×`rows`; `write` sends bytes as a terminal does."""

    def __init__(self, env: dict[str, str], cols: int = 80, rows: int = 24) -> None:
        import pyte

        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self._lock = threading.Lock()
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.master = master
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui.cli"], stdin=slave, stdout=slave, stderr=slave,
            env=env, cwd=ROOT, start_new_session=True, close_fds=True)
        os.close(slave)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                break
            if not data:
                break
            with self._lock:
                self.raw += data
                self.stream.feed(data)

    def text(self) -> str:
        with self._lock:
            return "\n".join(self.screen.display)

    def line_with(self, needle: str) -> str:
        return next((line for line in self.text().splitlines() if needle in line), "")

    def wait_for(self, needle: str, timeout: float = 30.0) -> str:
        """Poll the screen until `needle` shows (a deadline, not a timing assertion)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if needle in text:
                return text
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} not on screen (exit {self.process.poll()}):\n"
                             f"{self.text()}")

    def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until the screen has not changed for `quiet` seconds: the console is idle and
        ready for keys (what a person does before typing)."""
        deadline = time.monotonic() + timeout
        last, since = self.text(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.text()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return

    def write(self, data: bytes | str) -> None:
        """One write; the kernel passes it on as the console reads (a large one in parts)."""
        data = data.encode() if isinstance(data, str) else data
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view):]

    def cpu_seconds(self) -> float:
        """User + system CPU the console has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._reader.join(5)  # the slave is closed: its read ends (EIO)
        os.close(self.master)


@pytest.fixture
def console(db) -> Iterator:
    """`console(**env)` starts a console on this test's data directory."""
    started: list[LocalConsole] = []

    def start(cols: int = 80, rows: int = 24, **extra: str) -> LocalConsole:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
        env.update({"CLOUDACCT_NOW": NOW, "TERM": "xterm-256color", "LANG": "C.UTF-8",
                    "CLOUDACCT_LANG": "en", **extra})
        started.append(LocalConsole(env, cols, rows))
        return started[-1]

    yield start
    for each in started:
        each.close()
