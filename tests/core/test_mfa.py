"""F13 virtual MFA: TOTP as RFC 6238 writes it, setup bound by a current code, the window's
edges, drift, replays, recovery codes, throttling, disabling, the sealed secret, log-on with
MFA and the security-key decision over SSH."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import CodeError, FormErrors, LockedError, SessionExpired, StorageError
from tests.conftest import STRONG_PASSWORD
from tests.core.protect import (
    EMAIL,
    KEY,
    SK_ECDSA,
    SK_ED25519,
    SSH_ADDRESS,
    active_account,
    enable_mfa,
    next_step,
    secret_bytes,
    totp,
)


@pytest.fixture
def account(db):
    return active_account()


@pytest.fixture
def mfa(account):
    return enable_mfa(account)


# --- TOTP ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("unix_time", "code"), [
    (59, "287082"), (1111111109, "081804"), (1111111111, "050471"),
    (1234567890, "005924"), (2000000000, "279037"), (20000000000, "353130"),
])
def test_totp_is_rfc_6238_sha1(unix_time, code):
    """RFC 6238 appendix B, SHA-1 (its 8-digit codes, of which a 6-digit code is the end)."""
    from core.mfa import totp_code

    assert totp_code(b"12345678901234567890", unix_time // 30) == code


def test_setup_shows_the_secret_as_base32_and_as_an_otpauth_uri(account):
    from urllib.parse import parse_qs, urlsplit

    from core.mfa import begin_mfa_setup, mfa_enabled
    from core.sessions import require_account

    setup = begin_mfa_setup(account)
    assert len(secret_bytes(setup.secret)) == 20  # 160 bits
    assert setup.secret.isalnum() and setup.secret.isupper()
    parts = urlsplit(setup.uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert parts.path == "/Alibaba%20Cloud:alice@example.com"
    query = parse_qs(parts.query)
    assert query["secret"] == [setup.secret] and query["issuer"] == ["Alibaba Cloud"]
    # SHA-1, 6 digits and 30 s are the key URI format's defaults: left out for a smaller QR.
    assert not {"algorithm", "digits", "period"} & set(query)
    assert setup.secret_grouped.replace(" ", "") == setup.secret
    assert not mfa_enabled(require_account(account).id)  # not before a code binds it


def test_binding_needs_a_current_code_of_the_new_secret(account):
    from core.mfa import begin_mfa_setup, bind_mfa, mfa_status
    from core.sessions import require_account

    setup = begin_mfa_setup(account)
    secret = secret_bytes(setup.secret)
    with pytest.raises(CodeError):
        bind_mfa(account, totp(secret, 3))
    with pytest.raises(CodeError):
        bind_mfa(account, totp(b"another secret 1234!"))
    enabled = bind_mfa(account, totp(secret))
    assert len(enabled.recovery_codes) == 10 and len(set(enabled.recovery_codes)) == 10
    status = mfa_status(require_account(account).id)
    assert status.enabled and status.recovery_codes_left == 10


def test_a_new_setup_replaces_an_unbound_one_and_an_old_setup_expires(account, clock):
    from core.errors import Refused
    from core.mfa import begin_mfa_setup, bind_mfa

    first = secret_bytes(begin_mfa_setup(account).secret)
    second = secret_bytes(begin_mfa_setup(account).secret)
    assert first != second
    with pytest.raises(CodeError):
        bind_mfa(account, totp(first))
    from tests.conftest import stepped_up

    clock.advance(timedelta(minutes=20))
    stepped_up(account)  # the session stays in use; the setup is 31 minutes old next
    clock.advance(timedelta(minutes=11))
    stepped_up(account)
    with pytest.raises(Refused):
        bind_mfa(account, totp(second))


# --- the window's edges, drift, replays ----------------------------------------------------------

def _use(mfa, code):
    from core.mfa import use_second_factor
    from core.sessions import require_account

    return use_second_factor(require_account(mfa.token), code, origin="local")[0]


def test_a_code_is_accepted_through_the_29th_second_of_its_step(mfa, clock):
    start = clock.now()
    assert start.second % 30 == 0
    clock.set_now(start + timedelta(seconds=29))
    assert _use(mfa, totp(mfa.secret)).kind == "authenticator"


def test_at_the_30th_second_the_code_belongs_to_the_step_before(mfa, clock):
    start = clock.now()
    code = totp(mfa.secret)  # the step starting at `start`
    clock.set_now(start + timedelta(seconds=30))
    assert totp(mfa.secret) != code
    assert _use(mfa, code).kind == "authenticator"  # one step behind: drift


@pytest.mark.parametrize("offset", [-1, 1])
def test_drift_of_one_step_either_way_is_accepted(mfa, offset):
    next_step()  # the step before is not the binding's (that one is spent)
    assert _use(mfa, mfa.code(offset)).kind == "authenticator"


@pytest.mark.parametrize("offset", [-2, 2, -3, 3])
def test_drift_of_two_steps_is_refused(mfa, offset):
    with pytest.raises(CodeError):
        _use(mfa, mfa.code(offset))


def test_a_code_is_accepted_once(mfa):
    from core.mfa import USED_CODE

    code = mfa.code()
    _use(mfa, code)
    with pytest.raises(CodeError) as refused:
        _use(mfa, code)
    assert refused.value.message == USED_CODE


def test_an_earlier_steps_code_after_a_later_one_is_a_replay(mfa):
    _use(mfa, mfa.code(1))
    with pytest.raises(CodeError):
        _use(mfa, mfa.code(0))  # a valid code of an earlier step than the last accepted one
    with pytest.raises(CodeError):
        _use(mfa, mfa.code(-1))


def test_the_last_step_is_kept_in_the_database_for_every_process(mfa):
    from core.models import MfaDevice
    from tests.core.conftest import query_elsewhere

    code = mfa.code()
    _use(mfa, code)
    step = MfaDevice.get().last_step
    assert query_elsewhere("SELECT last_step FROM mfa_device") == [(step,)]


# --- recovery codes -----------------------------------------------------------------------------

def test_recovery_codes_look_right_and_carry_50_bits(mfa):
    from core.mfa import RECOVERY_ALPHABET

    for code in mfa.recovery_codes:
        assert len(code) == 12 and code[4] == code[9] == "-"
        assert all(c in RECOVERY_ALPHABET for c in code.replace("-", ""))
    assert len(RECOVERY_ALPHABET) ** 10 >= 2 ** 50


def test_a_recovery_code_works_once(mfa):
    from core.mfa import USED_RECOVERY

    code = mfa.recovery_codes[0]
    used = _use(mfa, code)
    assert used.kind == "recovery" and used.recovery_codes_left == 9
    with pytest.raises(CodeError) as refused:
        _use(mfa, code)
    assert refused.value.message == USED_RECOVERY


@pytest.mark.parametrize("spelling", [
    lambda c: c.upper(), lambda c: c.replace("-", ""), lambda c: c.replace("-", " "),
    lambda c: f"  {c[:2]} {c[2:]}  ".upper(), lambda c: c.replace("1", "l").replace("0", "O"),
])
def test_recovery_codes_are_accepted_with_spaces_dashes_and_in_any_case(mfa, spelling):
    assert _use(mfa, spelling(mfa.recovery_codes[1])).kind == "recovery"


def test_regenerating_voids_the_old_codes(mfa):
    from core.mfa import regenerate_recovery_codes

    new = regenerate_recovery_codes(mfa.token)
    assert len(new) == 10 and not set(new) & set(mfa.recovery_codes)
    with pytest.raises(CodeError):
        _use(mfa, mfa.recovery_codes[2])
    assert _use(mfa, new[0]).recovery_codes_left == 9


def test_text_that_is_no_code_is_a_validation_error_and_no_try(mfa):
    from core.errors import ValidationError
    from core.models import LogonAttempt

    for text in ("", "12345", "1234567", "１２３４５６", "abcd-efgh", "+123456", "1e5"):
        with pytest.raises(ValidationError):
            _use(mfa, text)
    assert LogonAttempt.select().where(LogonAttempt.kind == "mfa").count() == 0


# --- throttling -----------------------------------------------------------------------------------

def test_five_wrong_codes_in_a_row_slow_the_account_down(mfa, clock):
    wrong = f"{(int(mfa.code()) + 1) % 1_000_000:06d}"
    for _ in range(4):
        with pytest.raises(CodeError):
            _use(mfa, wrong)
    with pytest.raises(LockedError) as locked:
        _use(mfa, wrong)  # the 5th
    assert "1 minute" in locked.value.message
    with pytest.raises(LockedError):
        _use(mfa, mfa.code())  # even the right code waits
    clock.advance(timedelta(minutes=1, seconds=1))
    assert _use(mfa, mfa.code()).kind == "authenticator"
    # the right code started the count again: 4 more wrong ones are free
    for _ in range(4):
        with pytest.raises(CodeError):
            _use(mfa, wrong)


def test_the_delay_grows_step_by_step(mfa, clock):
    wrong = f"{(int(mfa.code()) + 7) % 1_000_000:06d}"
    for _ in range(4):
        with pytest.raises(CodeError):
            _use(mfa, wrong)
    with pytest.raises(LockedError):
        _use(mfa, wrong)
    clock.advance(timedelta(minutes=1, seconds=1))
    with pytest.raises(LockedError) as second:
        _use(mfa, wrong)  # the 6th wrong one: 2 minutes now
    assert "2 minute" in second.value.message


def test_wrong_recovery_codes_count_too(mfa):
    for _ in range(4):
        with pytest.raises(CodeError):
            _use(mfa, "zzzz-zzzz-zz")
    with pytest.raises(LockedError):
        _use(mfa, "zzzz-zzzz-zy")


# --- disabling -----------------------------------------------------------------------------------

def test_disabling_needs_a_code_and_the_password(mfa):
    from core.errors import AuthenticationError
    from core.mfa import disable_mfa, mfa_enabled
    from core.sessions import require_account

    with pytest.raises(FormErrors) as both:
        disable_mfa(mfa.token, "", "")
    assert set(both.value.errors) == {"mfa-code", "password"}
    with pytest.raises(AuthenticationError):
        disable_mfa(mfa.token, mfa.code(), "not the password at all")
    with pytest.raises(CodeError):
        disable_mfa(mfa.token, "000000" if mfa.code() != "000000" else "111111",
                    STRONG_PASSWORD)
    account_id = require_account(mfa.token).id
    assert mfa_enabled(account_id)
    status = disable_mfa(mfa.token, mfa.code(), STRONG_PASSWORD)
    assert not status.enabled and not mfa_enabled(account_id)


def test_disabling_with_a_recovery_code(mfa):
    from core.mfa import disable_mfa
    from core.models import RecoveryCode

    assert not disable_mfa(mfa.token, mfa.recovery_codes[3], STRONG_PASSWORD).enabled
    assert RecoveryCode.select().count() == 0


# --- the secret, sealed ---------------------------------------------------------------------------

def test_the_secret_is_sealed_to_its_account(mfa):
    from core.mfa import _secret_of
    from core.models import MfaDevice

    device = MfaDevice.get()
    assert device.secret_sealed.startswith("v1:")
    assert mfa.secret_text not in device.secret_sealed
    assert _secret_of(device) == mfa.secret
    device.account_id = device.account_id + 1  # the same sealed value under another account
    with pytest.raises(StorageError):
        _secret_of(device)


def test_machines_sharing_the_secret_key_read_the_secret_and_others_cannot(mfa, monkeypatch):
    from core.config import load_settings
    from core.hashing import secret_key
    from core.mfa import _secret_of
    from core.models import MfaDevice

    shared = secret_key().hex()
    monkeypatch.setenv("CLOUDACCT_SECRET_KEY", shared)
    load_settings()  # another machine, started with the shared key
    assert _secret_of(MfaDevice.get()) == mfa.secret
    monkeypatch.setenv("CLOUDACCT_SECRET_KEY", "ab" * 32)
    load_settings()
    with pytest.raises(StorageError):
        _secret_of(MfaDevice.get())


@pytest.mark.sqlite_only
def test_nothing_of_the_secret_or_the_recovery_codes_is_in_clear_on_disk(mfa, cloudacct_home):
    import json

    from core.mfa import normalise_recovery_code, regenerate_recovery_codes

    _use(mfa, mfa.recovery_codes[0])
    codes = list(mfa.recovery_codes) + list(regenerate_recovery_codes(mfa.token))
    needles = [mfa.secret_text, mfa.secret_text.lower(), mfa.secret.hex()]
    for code in codes:
        needles += [code, code.upper(), normalise_recovery_code(code)]
    files = [p for p in cloudacct_home.rglob("*") if p.is_file()]
    assert any(p.name == "cloudacct.db" for p in files)
    assert any(p.name == "cloudacct.db-wal" for p in files)
    for path in files:
        data = path.read_bytes()
        assert mfa.secret not in data, path
        for needle in needles:
            for form in (needle.encode(), json.dumps(needle).encode(),
                         needle.encode("utf-16-le")):
                assert form not in data, f"{needle!r} in {path.name}"


# --- log on with MFA ------------------------------------------------------------------------------

def test_log_on_with_mfa_asks_for_the_code_before_any_session(mfa):
    from core.accounts import MfaRequired, complete_mfa_log_on, log_on
    from core.models import Session

    sessions = Session.select().count()
    pending = log_on(EMAIL, STRONG_PASSWORD)
    assert isinstance(pending, MfaRequired)
    assert pending.email_masked == "a•••e@example.com"
    assert Session.select().count() == sessions  # nothing logged on yet
    result = complete_mfa_log_on(pending.pending_token, mfa.code())
    assert result.account.email == EMAIL and result.token
    with pytest.raises(SessionExpired):
        complete_mfa_log_on(pending.pending_token, mfa.code(1))  # used once


def test_a_recovery_code_logs_on_when_the_phone_is_lost(mfa):
    from core.accounts import complete_mfa_log_on, log_on

    pending = log_on(EMAIL, STRONG_PASSWORD)
    assert complete_mfa_log_on(pending.pending_token, mfa.recovery_codes[4].upper()).token


def test_the_pending_step_expires_after_five_minutes(mfa, clock):
    from core.accounts import complete_mfa_log_on, log_on

    pending = log_on(EMAIL, STRONG_PASSWORD)
    clock.advance(timedelta(minutes=5, seconds=1))
    with pytest.raises(SessionExpired) as expired:
        complete_mfa_log_on(pending.pending_token, mfa.code())
    assert expired.value.field == "mfa-code"


def test_wrong_codes_at_log_on_are_throttled_across_pending_steps(mfa):
    from core.accounts import complete_mfa_log_on, log_on

    wrong = f"{(int(mfa.code()) + 3) % 1_000_000:06d}"
    for attempt in range(5):
        pending = log_on(EMAIL, STRONG_PASSWORD)  # a new step does not start the count again
        with pytest.raises(LockedError if attempt == 4 else CodeError):
            complete_mfa_log_on(pending.pending_token, wrong)
    with pytest.raises(LockedError):
        complete_mfa_log_on(log_on(EMAIL, STRONG_PASSWORD).pending_token, mfa.code())


def test_a_wrong_password_never_reaches_the_code_step(mfa):
    from core.accounts import log_on
    from core.errors import AuthenticationError

    with pytest.raises(AuthenticationError):
        log_on(EMAIL, "a wrong password here")


# --- security keys over SSH: the decision ------------------------------------------------------

@pytest.mark.parametrize(("trusted", "mfa_on", "algorithm", "touch", "outcome"), [
    (False, False, "ssh-ed25519", False, "none"),
    (False, True, SK_ED25519, True, "none"),
    (True, False, "ssh-ed25519", False, "open"),
    (True, False, SK_ED25519, False, "open"),
    (True, True, "ssh-ed25519", False, "code"),
    (True, True, "ssh-ed25519", True, "code"),  # a touch flag on a plain key means nothing
    (True, True, "ecdsa-sha2-nistp256", False, "code"),
    (True, True, SK_ED25519, False, "code"),  # no touch: not present
    (True, True, SK_ECDSA, False, "code"),
    (True, True, SK_ED25519, True, "open"),
    (True, True, SK_ECDSA, True, "open"),
    (True, True, None, True, "code"),
    (True, True, "SK-SSH-ED25519@OPENSSH.COM", True, "code"),  # names are exact
])
def test_the_key_decision_table(trusted, mfa_on, algorithm, touch, outcome):
    from core.accounts import key_log_on_outcome

    assert key_log_on_outcome(trusted, mfa_on, algorithm, touch) == outcome


def _trust(token, key=KEY, algorithm="ssh-ed25519"):
    """Trust `key` from an SSH session of the account (logged on with the password)."""
    from core.accounts import log_on
    from core.security import trust_current_key

    ssh = log_on(EMAIL, STRONG_PASSWORD, origin=SSH_ADDRESS, key_fingerprint=key,
                 key_algorithm=algorithm).token
    trust_current_key(ssh)
    return ssh


@pytest.mark.parametrize(("algorithm", "touch", "opens"), [
    ("ssh-ed25519", False, False), (SK_ED25519, False, False), (SK_ED25519, True, True),
    (SK_ECDSA, True, True),
])
def test_a_trusted_key_of_an_mfa_account(account, algorithm, touch, opens):
    from core.accounts import LogOnResult, MfaRequired, complete_mfa_log_on, log_on_with_trusted_key
    from core.security import trusted_keys

    _trust(account, algorithm=algorithm)
    assert trusted_keys(account)[0].algorithm == algorithm
    mfa = enable_mfa(account)
    result = log_on_with_trusted_key(KEY, SSH_ADDRESS, key_algorithm=algorithm,
                                     user_presence=touch)
    if opens:
        assert isinstance(result, LogOnResult)
    else:
        assert isinstance(result, MfaRequired)
        assert complete_mfa_log_on(result.pending_token, mfa.code()).token


def test_a_trusted_key_without_mfa_opens_and_an_untrusted_one_does_nothing(account):
    from core.accounts import LogOnResult, decide_key_log_on, log_on_with_trusted_key

    _trust(account)
    assert isinstance(log_on_with_trusted_key(KEY, SSH_ADDRESS), LogOnResult)
    assert log_on_with_trusted_key("SHA256:someoneelse", SSH_ADDRESS) is None
    assert decide_key_log_on("SHA256:someoneelse", SK_ED25519, True).outcome == "none"


def test_a_key_trusted_as_a_plain_key_is_never_a_second_factor(account):
    """The client says which type its key is: a key trusted as ssh-ed25519 cannot claim to be
    a touched security key later."""
    from core.accounts import decide_key_log_on

    _trust(account, algorithm="ssh-ed25519")
    enable_mfa(account)
    assert decide_key_log_on(KEY, SK_ED25519, True).outcome == "code"


def test_a_session_opened_by_a_key_alone_is_not_stepped_up(account):
    from core.accounts import log_on_with_trusted_key
    from core.step_up import granted_until

    _trust(account)
    keyed = log_on_with_trusted_key(KEY, SSH_ADDRESS)
    assert granted_until(keyed.token) is None


# --- migration 6 ----------------------------------------------------------------------------------

def test_migration_6_brings_an_older_database_up(db):
    """A database of version 4 (before account protection) gets the tables and columns."""
    from core.db import database
    from core.migrations import LATEST, migrate

    for table in ("mfa_device", "recovery_code", "pending_log_on", "password_reset",
                  "notice_sent"):
        database.execute_sql(f"DROP TABLE {table}")
    database.execute_sql("DROP INDEX payment_method_card_expiry")
    for table, column in (("session", "stepped_up_at"), ("session", "key_algorithm"),
                          ("trusted_key", "algorithm")):
        database.execute_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
    database.execute_sql("DELETE FROM schema_version WHERE version = 6")
    from core.migrations import applied_versions

    assert migrate(database.obj) == LATEST
    assert 6 in applied_versions(database.obj)
    assert {"mfa_device", "recovery_code", "pending_log_on", "password_reset",
            "notice_sent"} <= set(database.get_tables())
    assert "stepped_up_at" in {c.name for c in database.get_columns("session")}
    assert "algorithm" in {c.name for c in database.get_columns("trusted_key")}
    active_account()  # the flows work on it
    assert migrate(database.obj) == LATEST  # and again is a no-op
