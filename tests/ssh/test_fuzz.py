"""Thousands of random byte chunks typed into a console over SSH (issue 11, Deliver 9): it
stays up, answers afterwards, and never shows a traceback. Seeded, so a failure replays."""

from __future__ import annotations

import asyncio
import random
import time

from tests.ssh.conftest import connect

SEED = 1107
CHUNKS = 3000
BUDGET_S = 60.0

SEQUENCES = (  # what terminals really send, mixed in so the bytes reach more of the console
    b"\t", b"\r", b"\x1b", b"\x7f", b" ", b"\x1b[A", b"\x1b[B", b"\x1b[C", b"\x1b[D",
    b"\x1b[Z", b"\x1bOP", b"\x1b[3~", b"\x1b[200~", b"\x1b[201~", b"\x1b]52;c;aGk=\x07",
    b"\x1b[<0;10;5M", b"\x1b[<0;10;5m", b"\x1b[<64;20;8M", b"\x1b[I", b"\x1b[O",
    b"\x1b[13;2u", b"\xe2\x80\xae", "ねこ".encode(), b"\xff", b"\xc3", b"\x80\x80",
    b"\xed\xa0\x80", b"\x00", b"\x1b[9999;9999H", b"\x1b[?1049h",
)
QUIT = b"\x11"  # ctrl+q: quitting is a person's choice, not a crash; left out of the stream


def chunks(rng: random.Random):
    for _ in range(CHUNKS):
        if rng.random() < 0.35:
            chunk = b"".join(rng.choice(SEQUENCES) for _ in range(rng.randint(1, 4)))
        else:
            chunk = rng.randbytes(rng.choice((1, 1, 2, 3, 4, 8, 16, 32, 64)))
        yield chunk.replace(QUIT, b"")


async def quiet(console, seconds: float = 0.15, timeout: float = 3.0) -> None:
    """Until the console has drawn nothing for `seconds` (or `timeout`)."""
    deadline = time.monotonic() + timeout
    last, since = len(console.raw), time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.03)
        if len(console.raw) != last:
            last, since = len(console.raw), time.monotonic()
        elif time.monotonic() - since >= seconds:
            return


async def test_random_bytes_never_end_a_console_nor_show_a_traceback(ssh_server, ssh_log):
    port = await ssh_server(idle_timeout_s=600.0)
    console = await connect(port, cols=100, rows=32)
    try:
        await console.wait_for("Free Account")
        rng = random.Random(SEED)
        started = time.monotonic()
        sent = 0
        for n, chunk in enumerate(chunks(rng)):
            console.send(chunk)
            sent += 1
            if n % 60 == 59:
                await quiet(console)
                assert not console.closed, f"the console ended after {sent} chunks (seed {SEED})"
                assert "Traceback" not in console.text(), console.text()
            if time.monotonic() - started > BUDGET_S:
                break
        await quiet(console, 0.5, 20.0)
        assert not console.closed, f"the console ended after {sent} chunks (seed {SEED})"
        assert b"Traceback" not in console.raw
        assert sent >= 1000, f"only {sent} chunks in {BUDGET_S:.0f} s"
        # It still answers: each new window size is drawn again. (What it shows depends on
        # where the bytes took it: a form, a modal, a stack of "Do you want to quit?" toasts.)
        for cols, rows in ((80, 24), (90, 28)):
            drawn = len(console.raw)
            console.resize(cols, rows)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(console.raw) == drawn:
                await asyncio.sleep(0.05)
            assert len(console.raw) > drawn, f"no answer to a resize to {cols}x{rows}"
            await quiet(console, 0.3, 10.0)
            assert any(line.strip() for line in console.screen.display), console.text()
        assert not console.closed
        assert "Traceback" not in console.text() and b"Traceback" not in console.raw
    finally:
        await console.close()
    failures = [r.getMessage() for r in ssh_log if "failed" in r.getMessage()]
    assert not failures, failures
    print(f"\nfuzz: {sent} chunks (seed {SEED}) in {time.monotonic() - started:.1f} s")
