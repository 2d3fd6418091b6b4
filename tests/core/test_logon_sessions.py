"""F3: log on (one message for unknown email and wrong password, the lock), log off, and
sessions (idle, absolute, ended from another connection or process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from core.accounts import current_account, log_off, log_on, overview_page
from core.db import transaction
from core.errors import AuthenticationError, LockedError, SessionExpired, ValidationError
from core.models import Account, LogonThrottle, Session
from core.sessions import end_account_sessions, resolve_session, session_alive
from core.verify_account import confirm_code, send_code
from tests.conftest import STRONG_PASSWORD, latest_code
from tests.core.conftest import make_account, make_verified_account, query_elsewhere

ROOT = Path(__file__).resolve().parents[2]
WRONG = "not the right password 12"


# --- one message for unknown email and wrong password ---------------------------------------

def test_unknown_email_and_wrong_password_look_the_same(signed_up):
    _, email = signed_up
    with pytest.raises(AuthenticationError) as unknown:
        log_on("nobody@example.com", STRONG_PASSWORD)
    with pytest.raises(AuthenticationError) as wrong:
        log_on(email, WRONG)
    assert type(unknown.value) is type(wrong.value)
    assert unknown.value.message == wrong.value.message
    assert unknown.value.field == wrong.value.field


def test_log_on_returns_a_live_session(signed_up):
    _, email = signed_up
    result = log_on(email, STRONG_PASSWORD)
    assert result.account.email == email
    assert current_account(result.token).id == result.account.id
    assert Session.select().where(Session.account == result.account.id).count() == 2


def test_empty_password_is_asked_for(signed_up):
    with pytest.raises(ValidationError) as err:
        log_on(signed_up[1], "")
    assert err.value.field == "password"


# --- the lock -------------------------------------------------------------------------------

def _fail(email: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationError):
            log_on(email, WRONG)


def test_five_failures_in_a_row_delay_that_address_with_growing_waits(signed_up, clock):
    """The 5th failure in a row makes the address wait 1 minute, each later one twice as
    long, 15 minutes at most; even the right password waits."""
    _, email = signed_up
    _fail(email, 4)
    for minutes in (1, 2, 4, 8, 15, 15):
        _fail(email, 1)
        with pytest.raises(LockedError) as err:  # even the right password
            log_on(email, STRONG_PASSWORD)
        assert f"{minutes} minute" in err.value.message
        clock.advance(timedelta(minutes=minutes) - timedelta(seconds=1))
        with pytest.raises(LockedError):
            log_on(email, STRONG_PASSWORD)
        clock.advance(timedelta(seconds=1))
    assert log_on(email, STRONG_PASSWORD).account.email == email
    _fail(email, 4)  # the success started the count again
    assert log_on(email, STRONG_PASSWORD).account.email == email


def test_unknown_email_is_locked_alike(signed_up, clock):
    """The lock reveals nothing: an unknown email locks after the same 5 failures."""
    known, _ = signed_up[1], None
    unknown = "nobody@example.com"
    errors = {}
    for email in (known, unknown):
        _fail(email, 5)
        with pytest.raises(LockedError) as err:
            log_on(email, WRONG)
        errors[email] = err.value
    assert errors[known].message == errors[unknown].message
    assert errors[known].field == errors[unknown].field
    assert LogonThrottle.select().count() == 2


def test_case_variants_share_one_lock(signed_up):
    _, email = signed_up
    _fail(email.upper(), 3)
    _fail(email, 2)
    with pytest.raises(LockedError):
        log_on(email, STRONG_PASSWORD)


def test_lock_failures_are_stored_by_key_only(signed_up):
    _fail("Nobody@Example.com", 1)
    assert [r.email_key for r in LogonThrottle.select()] == ["nobody@example.com"]


# --- unverified accounts --------------------------------------------------------------------

def test_unverified_account_logs_on_and_then_verifies(signed_up):
    _, email = signed_up
    result = log_on(email, STRONG_PASSWORD)
    assert result.account.status == "unverified"
    assert [s.key for s in overview_page(result.token).next_steps][0] == "verify"
    send_code(result.token, "signup", "email")
    view = confirm_code(result.token, "signup", "email", latest_code(email))
    assert view.status == "active"
    assert "verify" not in [s.key for s in overview_page(result.token).next_steps]


# --- idle and absolute limits ---------------------------------------------------------------

def test_idle_29_59_is_fine_and_30_01_ends(signed_up, clock):
    _, email = signed_up
    token = log_on(email, STRONG_PASSWORD).token
    clock.advance(timedelta(minutes=29, seconds=59))
    assert current_account(token).email == email
    clock.advance(timedelta(minutes=29, seconds=59))  # idle counts from the last use
    assert current_account(token).email == email
    clock.advance(timedelta(minutes=30, seconds=1))
    with pytest.raises(SessionExpired) as err:
        current_account(token)
    assert "30 minutes" in err.value.message
    with pytest.raises(SessionExpired):  # and it stays ended
        clock.advance(timedelta(seconds=-30))
        current_account(token)


def test_idle_counts_from_every_use(signed_up, clock):
    """A use a few seconds after the previous one still moves the idle start."""
    _, email = signed_up
    token = log_on(email, STRONG_PASSWORD).token
    clock.advance(timedelta(seconds=20))
    assert current_account(token).email == email  # last use: 0:20
    clock.advance(timedelta(minutes=29, seconds=59))  # 29:59 idle since then
    assert current_account(token).email == email


def test_watching_a_session_does_not_keep_it_alive(signed_up, clock):
    _, email = signed_up
    token = log_on(email, STRONG_PASSWORD).token
    for _ in range(3):
        clock.advance(timedelta(minutes=10, seconds=1))
        message = session_alive(token)
    assert message is not None and "30 minutes" in message


def test_absolute_limit_of_12_hours_despite_activity(signed_up, clock):
    _, email = signed_up
    token = log_on(email, STRONG_PASSWORD).token
    for _ in range(35):  # a use every 20 minutes, up to 11:40
        clock.advance(timedelta(minutes=20))
        current_account(token)
    clock.advance(timedelta(minutes=19, seconds=59))  # 11:59:59
    assert current_account(token).email == email
    clock.advance(timedelta(seconds=2))  # 12:00:01
    with pytest.raises(SessionExpired) as err:
        current_account(token)
    assert "12-hour" in err.value.message


def test_idle_limit_is_configurable(signed_up, clock, monkeypatch):
    from core.config import reset_settings

    monkeypatch.setenv("CLOUDACCT_SESSION_IDLE_MINUTES", "5")
    reset_settings()
    _, email = signed_up
    token = log_on(email, STRONG_PASSWORD).token
    clock.advance(timedelta(minutes=5, seconds=1))
    with pytest.raises(SessionExpired) as err:
        current_account(token)
    assert "5 minutes" in err.value.message


def test_log_off_ends_the_session_at_once(signed_up):
    _, email = signed_up
    first = log_on(email, STRONG_PASSWORD).token
    second = log_on(email, STRONG_PASSWORD).token
    log_off(first)
    with pytest.raises(SessionExpired) as err:
        current_account(first)
    assert "logged off" in err.value.message
    assert current_account(second).email == email  # only that one


@pytest.mark.parametrize("token", [None, "", "made-up-token", "x" * 10_000, "\x00\x1b[2J"])
def test_unknown_tokens_are_refused(db, token):
    with pytest.raises(SessionExpired):
        resolve_session(token)
    with pytest.raises(SessionExpired):
        current_account(token)
    log_off(token)  # nothing to end, nothing raised


# --- ending every session of an account, across connections and processes ------------------

def test_end_account_sessions_reaches_another_connection(signed_up, cloudacct_home):
    _, email = signed_up
    keep = log_on(email, STRONG_PASSWORD).token
    other = log_on(email, STRONG_PASSWORD).token
    account_id = current_account(keep).id
    with transaction():
        ended = end_account_sessions(account_id, "password_changed", except_token=keep)
    assert ended == 2  # the sign-up session and `other`
    # A second, independent connection sees it committed.
    reasons = query_elsewhere(
        "SELECT ended_reason FROM session WHERE account_id = ? ORDER BY id", (account_id,))
    assert [r[0] for r in reasons] == ["password_changed", None, "password_changed"]
    with pytest.raises(SessionExpired) as err:
        current_account(other)
    assert "password was changed" in err.value.message
    assert current_account(keep).email == email


_CHILD = """
import json, sys
from core.config import settings
from core.db import init_database
init_database(settings().database_url)
from core.sessions import session_alive, end_account_sessions
from core.db import transaction
action = sys.argv[1]
if action == "end":
    with transaction():
        n = end_account_sessions(int(sys.argv[2]), "account_deleted")
    print(json.dumps(n))
else:
    print(json.dumps([session_alive(t) for t in sys.argv[2:]]))
"""


def _child(cloudacct_home, *args: str):
    env = {"CLOUDACCT_HOME": str(cloudacct_home), "CLOUDACCT_NOW": "2026-12-01T10:00:00Z",
           "CLOUDACCT_HASH_PROFILE": "test", "PATH": "/usr/bin:/bin"}
    if os.environ.get("CLOUDACCT_DATABASE_URL"):  # PostgreSQL: the same database
        env["CLOUDACCT_DATABASE_URL"] = os.environ["CLOUDACCT_DATABASE_URL"]
    out = subprocess.run([sys.executable, "-c", _CHILD, *args], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_sessions_ended_in_this_process_are_ended_in_another(signed_up, cloudacct_home):
    _, email = signed_up
    keep = log_on(email, STRONG_PASSWORD).token
    other = log_on(email, STRONG_PASSWORD).token
    assert _child(cloudacct_home, "alive", keep, other) == [None, None]
    with transaction():
        end_account_sessions(current_account(keep).id, "password_changed", except_token=keep)
    alive = _child(cloudacct_home, "alive", keep, other)
    assert alive[0] is None
    assert "password was changed" in alive[1]


def test_sessions_ended_by_another_process_end_here(signed_up, cloudacct_home):
    _, email = signed_up
    token = log_on(email, STRONG_PASSWORD).token
    account_id = current_account(token).id
    assert _child(cloudacct_home, "end", str(account_id)) == 2
    with pytest.raises(SessionExpired) as err:
        current_account(token)
    assert "deleted" in err.value.message


def test_deleted_account_session_is_refused(signed_up):
    _, email = signed_up
    token = log_on(email, STRONG_PASSWORD).token
    Account.update(status="deleted").execute()
    with pytest.raises(SessionExpired):
        current_account(token)


def test_decoy_session_has_no_account(db):
    make_verified_account("owner@example.com")
    decoy = make_account("owner@example.com", password="Another strong passphrase 42")
    assert resolve_session(decoy.token).is_decoy
    with pytest.raises(SessionExpired):
        current_account(decoy.token)
