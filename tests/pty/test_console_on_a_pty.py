"""The console on a real terminal: bursts land where typed, floods and pastes are cut at the
field's limit quickly, and no byte, TERM or paste ends it or shows a traceback.

Every burst below is one write to the terminal, as a password manager's auto-type, a paste or
a fast typist over a slow link sends it.
"""

from __future__ import annotations

EMAIL = "mei@example.com"
PASSWORD = "Violet-Harbour-Lantern-1987"
# 64 + 1 + 189 = 254 characters: the longest email a field takes, and a valid one.
LONG_EMAIL = "m" * 64 + "@" + ".".join(["d" * 62, "e" * 62, "f" * 59]) + ".com"
assert len(LONG_EMAIL) == 254

def active_account(email: str = EMAIL, password: str = PASSWORD) -> None:
    from core.accounts import sign_up
    from core.verify_account import confirm_code, send_code
    from tests.conftest import latest_code

    result = sign_up("SG", email, password, password, True)
    send_code(result.token, "signup", "email")
    confirm_code(result.token, "signup", "email", latest_code(email))


def at_welcome(term):
    term.wait_for("Free Account")
    term.settle()
    return term


def at_log_on(term):
    at_welcome(term).write(b"\r")
    term.wait_for("Log on to your account")
    term.settle()
    return term


def logged_on(term, email: str = EMAIL) -> None:
    term.wait_for("Log off", timeout=60)
    assert "Log on to your account" not in term.text()
    assert_calm(term)


def assert_calm(term) -> None:
    assert term.alive(), term.text()
    assert b"Traceback" not in term.raw and "Traceback" not in term.text()


def test_auto_type_logs_on_at_log_on(console):
    active_account()
    term = at_log_on(console())
    term.write(f"{EMAIL}\t{PASSWORD}\r")
    logged_on(term)


def test_one_burst_from_welcome_opens_log_on_and_logs_on(console):
    active_account()
    term = at_welcome(console())
    term.write(f"\r{EMAIL}\t{PASSWORD}\r")
    logged_on(term)


def test_a_whole_sign_up_in_one_burst(console):
    """Country from its list, email, password twice, the agreement, Confirm: all one write."""
    term = at_welcome(console())
    term.write(f"f\rSingapore\r\ta@example.com\t{PASSWORD}\t{PASSWORD}\t \x13")
    term.wait_for("a•@example.com", timeout=60)  # Verify, for the email typed
    assert "Verify your account" in term.text()
    assert_calm(term)


def test_a_100_kb_typed_flood_is_cut_at_254_and_the_keys_after_it_work(console):
    active_account(LONG_EMAIL)
    term = at_log_on(console())
    before = term.cpu_seconds()
    term.write(LONG_EMAIL + "z" * 100_000 + f"\t{PASSWORD}\r")
    logged_on(term)  # the field held exactly the 254 characters, then Tab, password, Enter
    print(f"100 KB typed: {term.cpu_seconds() - before:.2f} CPU-s in the console")


def test_a_100_kb_bracketed_paste_is_cut_at_254_and_the_keys_after_it_work(console):
    active_account(LONG_EMAIL)
    term = at_log_on(console())
    before = term.cpu_seconds()
    term.write("\x1b[200~" + LONG_EMAIL + "z" * 100_000 + "\x1b[201~" + f"\t{PASSWORD}\r")
    logged_on(term)
    print(f"100 KB pasted: {term.cpu_seconds() - before:.2f} CPU-s in the console")


def test_a_paste_with_escapes_osc_and_a_second_line_lands_clean(console):
    active_account()
    term = at_log_on(console())
    term.write("\x1b[200~mei\x1b]52;c;SGVsbG8=\x07@exa\x1b[2Jmple.com\r\nBcc: x@y.com"
               "\x1b[201~" + f"\t{PASSWORD}\r")
    logged_on(term)


def test_bytes_that_are_not_utf8_leave_the_console_up(console):
    active_account()
    term = at_welcome(console())
    term.write(b"\xff")
    term.write(b"\x80")
    term.write(b"\r")  # Welcome still answers: Log on opens
    term.wait_for("Log on to your account")
    term.settle()
    term.write(b"mei\xff@exam\x80ple.com\t" + PASSWORD.encode() + b"\xc3\r")
    logged_on(term)


def test_keys_that_break_textuals_parser_leave_the_console_up(console):
    active_account()
    term = at_log_on(console())
    term.write(b"\x1b[1:2;3u\x1b[97;1;99999999u\x1b[99999999999u")
    term.write(f"{EMAIL}\t{PASSWORD}\r")
    logged_on(term)


def test_a_term_with_control_characters_starts_the_console(console):
    active_account()
    term = at_log_on(console(TERM="xterm\x1b[31m\x07", COLORTERM="x\x01"))
    term.write(f"{EMAIL}\t{PASSWORD}\r")
    logged_on(term)
