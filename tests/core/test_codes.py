"""F2 one-time codes: format, lifetime, single use, binding, tries, lock, cooldown, hourly limit,
and storage as a keyed hash only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core.errors import CodeError, LockedError, RateLimitError, Refused
from core.message_caps import Asker
from core.models import Account, Code, VerificationLock
from core.verification import consume_code, issue_code
from core.verify_account import confirm_code, send_code, verify_state
from tests.conftest import latest_code
from tests.core.conftest import make_account

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)


def issue(account_id: int, purpose: str, destination: str, channel: str, deliver):
    """issue_code as the account's own console asks it (no session: no per-session cap)."""
    return issue_code(account_id, purpose, destination, channel, deliver,
                      asker=Asker(None, account_id, "local"))


def wrong(code: str) -> str:
    """A well-formed code that is not `code`."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- the code itself ------------------------------------------------------------------------

def test_code_is_six_ascii_digits_in_the_email(signed_up):
    result, email = signed_up
    state = send_code(result.token, "signup", "email")
    code = latest_code(email)
    assert re.fullmatch(r"[0-9]{6}", code)
    assert state.status.sent and state.status.tries_left == 5
    assert state.destination_masked == "a•••e@example.com"


def test_codes_are_random(account_id, captured, clock):
    for _ in range(5):
        issue(account_id, "signup", "x@example.com", "email", captured)
        clock.advance(MINUTE)
    assert len(set(captured.codes)) > 1


def test_right_code_activates_the_account(signed_up):
    result, email = signed_up
    send_code(result.token, "signup", "email")
    view = confirm_code(result.token, "signup", "email", latest_code(email))
    assert view.status == "active"
    assert view.verified_channel == "email"
    assert view.email_verified
    assert view.other_channel == "phone"


def test_code_with_surrounding_spaces_is_accepted(signed_up):
    result, email = signed_up
    send_code(result.token, "signup", "email")
    assert confirm_code(result.token, "signup", "email", f" {latest_code(email)} ").status \
        == "active"


# --- lifetime and single use ----------------------------------------------------------------

def test_code_is_valid_for_exactly_10_minutes(signed_up, clock):
    result, email = signed_up
    send_code(result.token, "signup", "email")
    clock.advance(timedelta(minutes=10))
    assert verify_state(result.token, "signup", "email").status.sent
    assert confirm_code(result.token, "signup", "email", latest_code(email)).status == "active"


def test_code_expires_after_10_minutes_and_1_second(signed_up, clock):
    result, email = signed_up
    send_code(result.token, "signup", "email")
    clock.advance(timedelta(minutes=10, seconds=1))
    assert not verify_state(result.token, "signup", "email").status.sent
    with pytest.raises(CodeError) as err:
        confirm_code(result.token, "signup", "email", latest_code(email))
    assert "expired" in err.value.message
    assert err.value.field == "code"
    assert Account.get().status == "unverified"


def test_code_is_single_use(account_id, captured):
    issue(account_id, "second_channel", "+6581234567", "sms", captured)
    consume_code(account_id, "second_channel", "+6581234567", captured.last)
    with pytest.raises(CodeError):
        consume_code(account_id, "second_channel", "+6581234567", captured.last)


def test_reused_code_is_refused_after_verification(signed_up):
    result, email = signed_up
    send_code(result.token, "signup", "email")
    code = latest_code(email)
    confirm_code(result.token, "signup", "email", code)
    with pytest.raises(Refused):  # already verified: the code cannot be spent again
        confirm_code(result.token, "signup", "email", code)
    assert Code.select().where(Code.used_at.is_null(False)).count() == 1


def test_previous_code_is_invalid_after_a_resend(signed_up, clock):
    result, email = signed_up
    send_code(result.token, "signup", "email")
    first = latest_code(email)
    clock.advance(MINUTE)
    send_code(result.token, "signup", "email")
    second = latest_code(email)
    if first == second:  # one chance in a million: the old one is voided all the same
        pytest.skip("the two random codes happen to be equal")
    with pytest.raises(CodeError):
        confirm_code(result.token, "signup", "email", first)
    assert confirm_code(result.token, "signup", "email", second).status == "active"


def test_code_for_another_purpose_is_refused(account_id, captured):
    issue(account_id, "signup", "alice@example.com", "email", captured)
    with pytest.raises(CodeError):
        consume_code(account_id, "second_channel", "alice@example.com", captured.last)
    consume_code(account_id, "signup", "alice@example.com", captured.last)


def test_code_for_another_destination_is_refused(account_id, captured):
    issue(account_id, "second_channel", "+6581234567", "sms", captured)
    with pytest.raises(CodeError):
        consume_code(account_id, "second_channel", "+6581234568", captured.last)
    consume_code(account_id, "second_channel", "+6581234567", captured.last)


def test_code_of_another_account_is_refused(db, monkeypatch):
    import core.verification

    codes = iter([111111, 222222])
    monkeypatch.setattr(core.verification.secrets, "randbelow", lambda _n: next(codes))
    a = make_account("a.person@example.com")
    b = make_account("b.person@example.com")
    send_code(a.token, "signup", "email")
    send_code(b.token, "signup", "email")
    assert latest_code("a.person@example.com") == "111111"
    with pytest.raises(CodeError):
        confirm_code(b.token, "signup", "email", "111111")
    assert Account.get(Account.email == "b.person@example.com").status == "unverified"
    assert confirm_code(a.token, "signup", "email", "111111").status == "active"
    assert confirm_code(b.token, "signup", "email", "222222").status == "active"


def test_phone_code_must_be_confirmed_for_the_same_number(active, clock):
    token, _ = active
    send_code(token, "second_channel", "sms", "8123 4567")
    code = latest_code("+6581234567")
    with pytest.raises(CodeError):
        confirm_code(token, "second_channel", "sms", code, "8123 4568")
    view = confirm_code(token, "second_channel", "sms", code, "+65 8123-4567")
    assert view.phone == "+6581234567"
    assert view.verified_channel == "email"  # F4 does not change the F2 channel


# --- wrong tries and the lock ---------------------------------------------------------------

def test_five_wrong_tries_burn_the_code(signed_up):
    result, email = signed_up
    send_code(result.token, "signup", "email")
    code = latest_code(email)
    for left in (4, 3, 2, 1):
        with pytest.raises(CodeError) as err:
            confirm_code(result.token, "signup", "email", wrong(code))
        assert f"{left} {'try' if left == 1 else 'tries'} left" in err.value.message
        assert verify_state(result.token, "signup", "email").status.tries_left == left
    with pytest.raises(CodeError) as err:
        confirm_code(result.token, "signup", "email", wrong(code))
    assert "no longer be used" in err.value.message
    with pytest.raises(CodeError):  # the 6th try, even with the right code
        confirm_code(result.token, "signup", "email", code)
    assert Account.get().status == "unverified"
    assert not verify_state(result.token, "signup", "email").status.sent


def test_ten_consecutive_failures_lock_for_15_minutes_despite_resends(signed_up, clock):
    result, email = signed_up
    send_code(result.token, "signup", "email")
    for _ in range(5):
        with pytest.raises(CodeError):
            confirm_code(result.token, "signup", "email", wrong(latest_code(email)))
    clock.advance(MINUTE)
    send_code(result.token, "signup", "email")  # a resend does not reset the count
    code = latest_code(email)
    for _ in range(4):
        with pytest.raises(CodeError):
            confirm_code(result.token, "signup", "email", wrong(code))
    assert verify_state(result.token, "signup", "email").status.tries_left == 1
    with pytest.raises(LockedError) as err:  # the 10th failure in a row
        confirm_code(result.token, "signup", "email", wrong(code))
    assert err.value.field == "code"
    assert "15 minutes" in err.value.message
    # Locked: neither the right code of a new send nor a resend is accepted.
    clock.advance(MINUTE)
    with pytest.raises(LockedError):
        send_code(result.token, "signup", "email")
    with pytest.raises(LockedError):
        confirm_code(result.token, "signup", "email", code)
    clock.advance(timedelta(minutes=13, seconds=59))  # 14:59 after the lock
    with pytest.raises(LockedError):
        send_code(result.token, "signup", "email")
    clock.advance(SECOND)  # 15:00: the lock has cleared
    send_code(result.token, "signup", "email")
    assert verify_state(result.token, "signup", "email").status.tries_left == 5
    assert confirm_code(result.token, "signup", "email", latest_code(email)).status == "active"


def test_success_resets_the_failure_count(account_id, captured, clock):
    dest = "+6581234567"
    issue(account_id, "second_channel", dest, "sms", captured)
    for _ in range(4):
        with pytest.raises(CodeError):
            consume_code(account_id, "second_channel", dest, wrong(captured.last))
    consume_code(account_id, "second_channel", dest, captured.last)
    lock = VerificationLock.get(VerificationLock.account == account_id)
    assert lock.failures == 0


def test_lock_is_per_verification(account_id, captured):
    """10 failures of the F4 verification do not lock F2's."""
    issue(account_id, "second_channel", "+6581234567", "sms", captured)
    for _ in range(10):
        with pytest.raises((CodeError, LockedError)):
            consume_code(account_id, "second_channel", "+6581234567", "000000"
                         if captured.last != "000000" else "000001")
    with pytest.raises(LockedError):
        issue(account_id, "second_channel", "+6581234567", "sms", captured)
    issue(account_id, "signup", "alice@example.com", "email", captured)
    consume_code(account_id, "signup", "alice@example.com", captured.last)


# --- resend cooldown and hourly limit -------------------------------------------------------

def test_resend_cooldown_is_60_seconds(signed_up, clock):
    result, _ = signed_up
    send_code(result.token, "signup", "email")
    assert verify_state(result.token, "signup", "email").status.resend_in == 60
    clock.advance(timedelta(seconds=59))
    assert verify_state(result.token, "signup", "email").status.resend_in == 1
    with pytest.raises(RateLimitError) as err:
        send_code(result.token, "signup", "email")
    assert "1 s" in err.value.message
    clock.advance(SECOND)
    assert verify_state(result.token, "signup", "email").status.resend_in == 0
    send_code(result.token, "signup", "email")
    assert Code.select().count() == 2


def test_five_sends_per_destination_per_hour(signed_up, clock):
    result, email = signed_up
    for _ in range(5):
        send_code(result.token, "signup", "email")
        clock.advance(MINUTE)
    # Now 5 minutes after the first send: the 6th is refused, and stays refused until an hour
    # has passed since the first.
    with pytest.raises(RateLimitError) as err:
        send_code(result.token, "signup", "email")
    assert "5 codes" in err.value.message
    for _ in range(3):  # 54:59 more, keeping the session alive
        clock.advance(timedelta(minutes=18))
        verify_state(result.token, "signup", "email")
    clock.advance(timedelta(seconds=59))  # 59:59 after the first
    with pytest.raises(RateLimitError):
        send_code(result.token, "signup", "email")
    clock.advance(SECOND)  # 60:00 after the first: it no longer counts
    send_code(result.token, "signup", "email")
    assert Code.select().where(Code.delivered_at.is_null(False)).count() == 6
    assert confirm_code(result.token, "signup", "email", latest_code(email)).status == "active"


def test_hourly_limit_counts_only_the_sends_that_account_asked_for(db, clock):
    """Five codes an hour sent to a phone by other accounts do not block it for its owner."""
    from tests.core.conftest import make_verified_account

    others = [make_verified_account(f"p.{n}@example.com").token for n in ("one", "two")]
    owner = make_verified_account("owner@example.com").token
    for i in range(5):
        send_code(others[i % 2], "second_channel", "sms", "8123 4567")
        clock.advance(MINUTE)
    send_code(owner, "second_channel", "sms", "8123 4567")
    assert confirm_code(owner, "second_channel", "sms", latest_code("+6581234567"),
                        "8123 4567").phone == "+6581234567"
    # Each account's own five still count for it.
    for _ in range(2):
        send_code(others[0], "second_channel", "sms", "8123 4567")
        clock.advance(MINUTE)
    with pytest.raises(RateLimitError) as err:
        send_code(others[0], "second_channel", "sms", "8123 4567")
    assert "5 codes" in err.value.message


def _account_of(token: str) -> int:
    from core.sessions import resolve_session

    return resolve_session(token).account_id


# --- the code is never stored in clear ------------------------------------------------------

@pytest.mark.sqlite_only
def test_code_is_stored_only_as_a_keyed_hash(signed_up, cloudacct_home):
    from core.db import database

    result, email = signed_up
    send_code(result.token, "signup", "email")
    code = latest_code(email)
    row = Code.get()
    assert re.fullmatch(r"[0-9a-f]{64}", row.code_hash)
    assert code not in row.code_hash
    files = sorted(cloudacct_home.glob("cloudacct.db*"))
    assert any(p.name.endswith("-wal") for p in files)  # the WAL is searched too
    data = b"".join(p.read_bytes() for p in files)
    assert row.code_hash.encode() in data  # the search does see what is stored
    assert code.encode() not in data
    # Even after a checkpoint moves the WAL into the main file.
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    data = b"".join(p.read_bytes() for p in sorted(cloudacct_home.glob("cloudacct.db*")))
    assert code.encode() not in data


def test_code_hash_depends_on_the_secret_key(signed_up, monkeypatch):
    from core.config import load_settings
    from core.verification import _code_hash

    first = _code_hash(1, "signup", "a@example.com", "123456")
    monkeypatch.setenv("CLOUDACCT_SECRET_KEY", "00" * 32)
    load_settings()  # as the next console or command started with it would
    assert _code_hash(1, "signup", "a@example.com", "123456") != first
