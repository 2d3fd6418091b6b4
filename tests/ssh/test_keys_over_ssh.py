"""Over a real SSH connection: keys written in one burst land where typed (a password manager's
auto-type logs on), and bad bytes, a TERM with a NUL or a 100 KB paste leave the console up
with no traceback. Only the client's side is used: what it writes and what it sees."""

from __future__ import annotations

from tests.ssh.conftest import connect

EMAIL = "mei@example.com"
PASSWORD = "Violet-Harbour-Lantern-1987"


def active_account(email: str = EMAIL, password: str = PASSWORD) -> None:
    from core.accounts import sign_up
    from core.verify_account import confirm_code, send_code
    from tests.conftest import latest_code

    result = sign_up("SG", email, password, password, True)
    send_code(result.token, "signup", "email")
    confirm_code(result.token, "signup", "email", latest_code(email))


async def at_welcome(port: int, **options):
    console = await connect(port, cols=80, rows=24, **options)
    await console.wait_for("Free Account")
    await console.settle()
    return console


def assert_calm(console) -> None:
    assert not console.closed, console.text()
    assert "Traceback" not in console.text()


async def test_auto_type_logs_on_over_ssh(ssh_server, monkeypatch):
    monkeypatch.setenv("CLOUDACCT_NOW", "2026-12-01T10:00:00Z")
    active_account()
    console = await at_welcome(await ssh_server())
    try:
        console.send(b"\r")
        await console.wait_for("Log on to your account")
        await console.settle()
        console.send(f"{EMAIL}\t{PASSWORD}\r")  # one write on the channel
        await console.wait_for("Log off", timeout=60)
        assert_calm(console)
    finally:
        await console.close()


async def test_welcome_enter_email_tab_password_enter_in_one_write(ssh_server, monkeypatch):
    monkeypatch.setenv("CLOUDACCT_NOW", "2026-12-01T10:00:00Z")
    active_account()
    console = await at_welcome(await ssh_server())
    try:
        console.send(f"\r{EMAIL}\t{PASSWORD}\r")
        await console.wait_for("Log off", timeout=60)
        assert_calm(console)
    finally:
        await console.close()


async def test_bytes_that_are_not_utf8_and_a_huge_paste_leave_the_console_up(ssh_server):
    console = await at_welcome(await ssh_server())
    try:
        console.send(b"\xff")
        console.send(b"\x80\xc3")
        console.send(b"\r")  # still answering: Log on opens
        await console.wait_for("Log on to your account")
        await console.settle()
        console.send(b"\x1b[200~" + b"q" * 100_000 + b"\x1b[201~" + b"q" * 100_000
                     + b"\tpw\xff")
        await console.wait_for("Password          ••", timeout=60)
        assert "q" * 40 in console.text()
        assert_calm(console)
    finally:
        await console.close()


async def test_a_term_with_a_nul_and_control_characters_still_opens_the_console(ssh_server):
    console = await at_welcome(await ssh_server(), term="xterm\x00\x1b[31m")
    try:
        assert_calm(console)
        console.send(b"\r")
        await console.wait_for("Log on to your account")
    finally:
        await console.close()
