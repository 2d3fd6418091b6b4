"""Log-on throttling (SPEC F3, "Abuse limits"): it keys on the account and the client address,
grows its delay step by step, never locks the owner out of their own address or their
logged-on actions, lets a trusted key in, and answers alike for known and unknown emails."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest

from core.accounts import log_on, log_on_with_trusted_key
from core.errors import AuthenticationError, DomainError, LockedError
from core.models import LogonAttempt
from tests.conftest import STRONG_PASSWORD
from tests.core.conftest import make_verified_account

OWNER = "owner@example.com"
HOME = "198.51.100.10"  # the owner's own address
ATTACKER = "203.0.113.66"
WRONG = "not the right password 12"
MINUTE = timedelta(minutes=1)


@pytest.fixture(autouse=True)
def long_sessions(cloudacct_home, monkeypatch):
    from core.config import reset_settings

    monkeypatch.setenv("CLOUDACCT_SESSION_IDLE_MINUTES", str(3 * 24 * 60))
    monkeypatch.setenv("CLOUDACCT_SESSION_ABSOLUTE_HOURS", str(3 * 24))
    reset_settings()


@pytest.fixture
def owner(db) -> str:
    """An active account that signed up (and so is known) at HOME: its session token."""
    return make_verified_account(OWNER, origin=HOME).token


def attempt(email: str, password: str, origin: str) -> type:
    """The outcome of one log-on: the refusal's type, or None for a success."""
    try:
        log_on(email, password, origin=origin)
    except DomainError as exc:
        return type(exc)
    return type(None)


def hammer(email: str, origin: str, times: int) -> list[type]:
    return [attempt(email, WRONG, origin) for _ in range(times)]


def distributed_attack(email: str, addresses: int, each: int = 4) -> None:
    """`each` failures (fewer than the 5 that delay one address) from each of many addresses."""
    for n in range(addresses):
        outcomes = hammer(email, f"192.0.2.{n + 1}", each)
        assert set(outcomes) <= {AuthenticationError, LockedError}


# --- one address cannot keep the owner out ------------------------------------------------------

def test_owner_logs_on_from_their_address_while_an_attacker_fails_from_another(owner, clock):
    for _ in range(12):  # two hours of trying as fast as it may, and faster
        outcomes = hammer(OWNER, ATTACKER, 8)
        assert LockedError in outcomes
        assert attempt(OWNER, STRONG_PASSWORD, HOME) is type(None)
        clock.advance(timedelta(minutes=10))
    # The attacker's address waits even with the right password ...
    hammer(OWNER, ATTACKER, 1)
    assert attempt(OWNER, STRONG_PASSWORD, ATTACKER) is LockedError
    # ... and the owner gets in from a new address too: one address alone never holds back
    # the account as a whole.
    assert attempt(OWNER, STRONG_PASSWORD, "198.51.100.200") is type(None)


def test_the_attackers_waits_grow_and_the_owners_success_does_not_reset_them(owner, clock):
    hammer(OWNER, ATTACKER, 4)
    waits = []
    for _ in range(6):
        assert attempt(OWNER, WRONG, ATTACKER) is AuthenticationError
        with pytest.raises(LockedError) as err:
            log_on(OWNER, STRONG_PASSWORD, origin=ATTACKER)
        waits.append(int(re.search(r"in (\d+) minute", err.value.message).group(1)))
        assert attempt(OWNER, STRONG_PASSWORD, HOME) is type(None)  # resets HOME's count only
        clock.advance(timedelta(minutes=waits[-1]))
    assert waits == [1, 2, 4, 8, 15, 15]


def test_the_delay_starts_once_and_the_log_says_so_once(owner, caplog):
    caplog.set_level(logging.WARNING, logger="cloudacct.abuse")
    hammer(OWNER, ATTACKER, 12)
    lines = [r.getMessage() for r in caplog.records if r.name == "cloudacct.abuse"]
    assert len(lines) == 1
    assert ATTACKER in lines[0] and "o•••r@example.com" in lines[0]
    assert OWNER not in lines[0]


# --- many addresses are slowed as one ------------------------------------------------------------

def test_a_distributed_attacker_is_slowed_but_not_the_owners_address(owner, clock):
    """Four tries from each of many addresses (never enough to delay one address): from 20
    failures on, every address the account has not used waits after the latest failure,
    longer and longer, up to 15 minutes: a few tries an hour, whatever the addresses."""
    through = []
    address = 0
    for _minute in range(6 * 60):  # six hours, trying every minute from new addresses
        for _ in range(4):
            address += 1
            outcome = attempt(OWNER, WRONG, f"10.{address // 250}.{address % 250}.1")
            if outcome is AuthenticationError:
                through.append(clock.now())
        # The owner's own address is never held back.
        if _minute % 30 == 0:
            assert attempt(OWNER, STRONG_PASSWORD, HOME) is type(None)
        clock.advance(MINUTE)
    last_hours = [t for t in through if t >= clock.now() - timedelta(hours=3)]
    assert len(last_hours) <= 3 * 4 + 1  # one try each 15 minutes once it has grown
    assert len(through) < 100  # against 6 * 60 * 4 = 1440 tries
    # A new address waits even with the right password; the owner's does not.
    assert attempt(OWNER, STRONG_PASSWORD, "192.0.2.200") is LockedError
    assert attempt(OWNER, STRONG_PASSWORD, HOME) is type(None)


def test_the_account_wide_delay_grows_step_by_step(owner, clock):
    distributed_attack(OWNER, 5)  # 20 failures from 5 addresses: the first step
    waits = []
    for n in range(25):
        with pytest.raises(LockedError) as err:
            log_on(OWNER, STRONG_PASSWORD, origin="192.0.2.100")
        wait = int(re.search(r"in (\d+) minute", err.value.message).group(1))
        waits.append(wait)
        clock.advance(timedelta(minutes=wait))
        assert attempt(OWNER, WRONG, f"192.0.2.{101 + n}") is AuthenticationError
    assert waits == [1] * 5 + [2] * 5 + [4] * 5 + [8] * 5 + [15] * 5


def test_a_trusted_key_gets_in_during_an_attack(owner, clock):
    from core.security import trust_current_key

    keyed = log_on(OWNER, STRONG_PASSWORD, origin=HOME, key_fingerprint="SHA256:owner").token
    trust_current_key(keyed, "laptop")
    distributed_attack(OWNER, 10)
    hammer(OWNER, ATTACKER, 10)
    result = log_on_with_trusted_key("SHA256:owner", "192.0.2.250")
    assert result is not None and result.account.email == OWNER


# --- the logged-on owner is never refused ------------------------------------------------------

def test_logged_on_owner_changes_password_and_deletes_the_account_during_an_attack(owner):
    from core.deletion import request_deletion
    from core.security import change_password

    new = "an entirely new pass phrase 77"
    distributed_attack(OWNER, 10)
    hammer(OWNER, ATTACKER, 20)
    hammer(OWNER, HOME, 6)  # even failures from the owner's own address
    assert change_password(owner, STRONG_PASSWORD, new, new).sessions_ended == 0
    distributed_attack(OWNER, 10)
    result = request_deletion(owner, new, True)
    assert result.status == "deleted"


def test_wrong_re_entries_have_their_own_count_that_failed_log_ons_never_raise(owner, clock):
    from core.security import change_password

    for _ in range(5):
        with pytest.raises(AuthenticationError):
            change_password(owner, WRONG, "x", "x")
    with pytest.raises(LockedError) as err:  # five wrong re-entries: a minute's wait
        change_password(owner, STRONG_PASSWORD, "an entirely new pass phrase 77",
                        "an entirely new pass phrase 77")
    assert err.value.field == "current-password"
    assert "1 minute" in err.value.message
    # The owner's own log-on is not delayed by the re-entries.
    assert attempt(OWNER, STRONG_PASSWORD, HOME) is type(None)
    clock.advance(MINUTE)
    assert change_password(owner, STRONG_PASSWORD, "an entirely new pass phrase 77",
                           "an entirely new pass phrase 77").sessions_ended == 1


# --- one address, many emails ------------------------------------------------------------------

def test_one_address_trying_many_emails_is_slowed(db):
    for n in range(30):  # 30 emails, one failure each
        assert attempt(f"victim{n}@example.com", WRONG, ATTACKER) is AuthenticationError
    assert attempt("victim99@example.com", WRONG, ATTACKER) is LockedError
    assert attempt("victim99@example.com", WRONG, "198.51.100.77") is AuthenticationError


# --- enumeration ---------------------------------------------------------------------------------

def test_known_and_unknown_emails_answer_alike_under_every_delay(owner, clock):
    unknown = "nobody-here@example.com"

    def both(password: str, origin: str) -> None:
        refusals = []
        for email in (OWNER, unknown):
            with pytest.raises(DomainError) as info:
                log_on(email, password, origin=origin)
            refusals.append((type(info.value), info.value.message, info.value.field))
        assert refusals[0] == refusals[1]

    for _ in range(7):  # one address: free tries, then growing waits
        both(WRONG, ATTACKER)
    both(STRONG_PASSWORD, ATTACKER)
    for n in range(10):  # many addresses: the account-wide wait
        for _ in range(4):
            both(WRONG, f"192.0.2.{n + 1}")
    both(STRONG_PASSWORD, "192.0.2.200")
    clock.advance(timedelta(minutes=15))
    both(WRONG, "192.0.2.201")


# --- what is recorded ----------------------------------------------------------------------------

def test_every_attempt_is_recorded_without_the_password(owner):
    hammer(OWNER, ATTACKER, 2)
    attempt("nobody@example.com", WRONG, ATTACKER)
    attempt(OWNER, STRONG_PASSWORD, HOME)
    rows = [(r.email_key, r.origin, r.result, r.account_id is not None)
            for r in LogonAttempt.select().order_by(LogonAttempt.id)]
    assert rows == [(OWNER, ATTACKER, "failed", True), (OWNER, ATTACKER, "failed", True),
                    ("nobody@example.com", ATTACKER, "failed", False), (OWNER, HOME, "ok", True)]
    for row in LogonAttempt.select():
        assert WRONG not in str(row.__data__) and STRONG_PASSWORD not in str(row.__data__)


def test_attempts_of_unknown_emails_are_kept_a_day_and_the_others_30_days(owner, clock):
    attempt("nobody@example.com", WRONG, ATTACKER)
    attempt(OWNER, WRONG, ATTACKER)
    clock.advance(timedelta(days=1, seconds=1))
    attempt(OWNER, WRONG, ATTACKER)
    assert [r.email_key for r in LogonAttempt.select()] == [OWNER, OWNER]
    clock.advance(timedelta(days=30, seconds=1))
    attempt(OWNER, WRONG, ATTACKER)
    assert LogonAttempt.select().count() == 1
