"""F12 forgotten password: the reset, what it ends and removes, its notice, MFA on, and an
unknown or unverified email looking exactly like a known one."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import timedelta

import pytest

from core.errors import CodeError, DomainError, FormErrors, LockedError, RateLimitError
from tests.conftest import STRONG_PASSWORD, latest_code
from tests.core.protect import (
    E164,
    EMAIL,
    KEY,
    NEW_PASSWORD,
    PHONE,
    SSH_ADDRESS,
    active_account,
    enable_mfa,
    outbox_count,
)

UNKNOWN = "nobody@example.com"
UNVERIFIED = "later@example.com"


@pytest.fixture
def known(db):
    return active_account(phone=PHONE)


@pytest.fixture
def three(known):
    """A known account, an unverified one and an email without an account."""
    from tests.core.conftest import make_account

    make_account(UNVERIFIED)  # signed up, never verified
    return {"known": EMAIL, "unverified": UNVERIFIED, "unknown": UNKNOWN}


def start(email, origin="local"):
    from core.password_reset import start_password_reset

    return start_password_reset(email, origin=origin)


def reset(state, code, password=NEW_PASSWORD, confirmation=None, mfa_code=None):
    from core.password_reset import complete_password_reset

    return complete_password_reset(state.reset_token, code, password,
                                   password if confirmation is None else confirmation, mfa_code)


def shape(state) -> dict:
    """Everything a state shows but its token and the masked email (the email typed)."""
    data = dataclasses.asdict(state)
    del data["reset_token"], data["destination_masked"]
    return data


def outcome(call):
    try:
        call()
    except DomainError as exc:
        return type(exc).__name__, exc.message, exc.field
    return "ok"


# --- the reset ------------------------------------------------------------------------------------

def test_reset_ends_every_session_removes_every_key_and_notifies(known, clock):
    from core.accounts import LogOnResult, log_on
    from core.delivery import read_outbox
    from core.models import TrustedKey
    from core.security import trust_current_key
    from core.sessions import session_alive
    from tests.core.protect import ssh_session

    ssh = ssh_session()
    trust_current_key(ssh)
    local = log_on(EMAIL, STRONG_PASSWORD).token
    state = start(EMAIL)
    assert state.sent and state.channel == "email"
    assert state.destination_masked == "a•••e@example.com"
    done = reset(state, latest_code(EMAIL))
    assert done.sessions_ended == 3 and done.keys_removed == 1  # sign-up, SSH, local
    assert TrustedKey.select().count() == 0
    for token in (known, ssh, local):
        assert session_alive(token) == "Your password was reset. Please log on with the new one."
    from core.errors import AuthenticationError

    with pytest.raises(AuthenticationError):
        log_on(EMAIL, STRONG_PASSWORD)
    assert isinstance(log_on(EMAIL, NEW_PASSWORD), LogOnResult)
    notice = next(m for m in read_outbox(EMAIL) if "reset" in m.subject.lower()
                  and "code" not in m.subject.lower())
    assert "2026-12-01 10:00 UTC" in notice.body and "this computer" in notice.body
    assert "not you" in notice.body and "support@" in notice.body
    assert any("password was reset" in m.body for m in read_outbox(E164))  # and by SMS


def test_the_new_password_follows_f1_every_field_at_once(known):
    state = start(EMAIL)
    with pytest.raises(FormErrors) as refused:
        reset(state, "12x", "short", "other")
    assert set(refused.value.errors) == {"reset-code", "reset-password",
                                         "reset-password-confirm"}
    with pytest.raises(FormErrors) as local_part:
        reset(state, latest_code(EMAIL), "alice and her long password 9")
    assert "email name" in local_part.value.errors["reset-password"]
    assert reset(state, latest_code(EMAIL)).sessions_ended == 1


def test_the_code_by_phone_instead(known):
    from core.password_reset import PHONE_SHOWN, send_reset_code

    state = start(EMAIL)
    by_phone = send_reset_code(state.reset_token, "sms")
    assert by_phone.channel == "sms" and by_phone.destination_masked == PHONE_SHOWN
    with pytest.raises(CodeError):
        reset(state, latest_code(EMAIL))  # the email's code was voided by the new one
    assert reset(state, latest_code(E164)).sessions_ended == 1


def test_a_code_for_another_purpose_is_refused(known):
    from core.verify_account import send_code

    state = start(EMAIL)
    reset_code = latest_code(EMAIL)
    send_code(known, "second_channel", "email")  # a code for F4 to the same address
    other = latest_code(EMAIL)
    if other != reset_code:
        with pytest.raises(CodeError):
            reset(state, other)
    assert reset(state, reset_code).sessions_ended == 1


def test_a_flow_is_used_once_and_expires(known, clock):
    from core.errors import Refused

    state = start(EMAIL)
    code = latest_code(EMAIL)
    reset(state, code)
    with pytest.raises(Refused):
        reset(state, code, "yet another good pass phrase 7")
    clock.advance(timedelta(minutes=2))
    second = start(EMAIL)
    code = latest_code(EMAIL)
    clock.advance(timedelta(hours=1, seconds=1))
    with pytest.raises(Refused):
        reset(second, code)


# --- MFA on ---------------------------------------------------------------------------------------

@pytest.fixture
def mfa(known):
    return enable_mfa(known)


def test_with_mfa_the_reset_needs_a_code_and_says_how_to_reach_support(mfa, monkeypatch):
    from core.config import reset_settings
    from core.models import Account
    from core.password_reset import MfaCodeNeeded

    monkeypatch.setenv("CLOUDACCT_SUPPORT", "help@cloud.example")
    reset_settings()
    before = Account.get().password_hash
    state = start(EMAIL)
    with pytest.raises(MfaCodeNeeded) as needed:
        reset(state, latest_code(EMAIL))
    assert needed.value.field == "mfa-code" and "help@cloud.example" in needed.value.message
    with pytest.raises(CodeError) as wrong:
        reset(state, "ignored now", mfa_code="000000" if mfa.code() != "000000" else "111111")
    assert "help@cloud.example" in wrong.value.message
    assert Account.get().password_hash == before  # nothing changed
    assert reset(state, "ignored now", mfa_code=mfa.code()).sessions_ended == 1
    assert Account.get().password_hash != before


def test_with_mfa_a_recovery_code_resets_too(mfa):
    state = start(EMAIL)
    done = reset(state, latest_code(EMAIL), mfa_code=mfa.recovery_codes[0])
    assert done.sessions_ended == 1


def test_the_default_support_address(db):
    from core.config import settings

    assert settings().support == "support@cloudacct.invalid"


# --- enumeration ----------------------------------------------------------------------------------

def test_unknown_and_unverified_emails_look_the_same_and_receive_nothing(three):
    from core.delivery import read_outbox
    from core.models import MessageSend
    from core.password_reset import ResetState

    states = {}
    for name, email in three.items():
        sends = MessageSend.select().count()
        states[name] = start(email, origin="198.51.100.7")
        assert type(states[name]) is ResetState
        assert MessageSend.select().count() == sends + 1  # the same caps: one counted send
    assert shape(states["unknown"]) == shape(states["unverified"]) == shape(states["known"])
    assert states["unknown"].destination_masked == "n••••y@example.com"
    assert outbox_count(UNKNOWN) == 0 and outbox_count(UNVERIFIED) == 0
    assert "reset code" in read_outbox(EMAIL)[0].subject  # the known one got its code


def test_every_refusal_is_the_same_whatever_the_email(three, clock):
    """Resend too soon, wrong codes until the code burns, more sends, the lock: each the same
    words at the same moments for all three."""
    from core.password_reset import send_reset_code

    states = {name: start(email) for name, email in three.items()}
    wrong = "000001"
    latest = latest_code(EMAIL)
    if latest == wrong:
        wrong = "000002"
    script = []
    for name, state in states.items():
        steps = [outcome(lambda s=state: send_reset_code(s.reset_token))]  # cooldown
        steps.append(shape(send_reset_code(state.reset_token, "sms")))  # the phone: same
        for _ in range(6):  # 5 tries burn the code, the 6th finds none
            steps.append(outcome(lambda s=state: reset(s, wrong)))
        script.append((name, steps))
    first = script[0][1]
    for name, steps in script[1:]:
        assert steps == first, name
    assert first[0][0] == "RateLimitError"
    assert first[2:7] == [("CodeError", f"Wrong code. {n} left.", "reset-code")
                          for n in ("4 tries", "3 tries", "2 tries", "1 try")] + [
        ("CodeError", "Wrong code. This code can no longer be used: press Send to get a new "
                      "one.", "reset-code")]
    # 10 failures in a row lock the email's resets for 15 minutes, resends or not
    clock.advance(timedelta(minutes=1))
    locks = []
    for state in states.values():
        send_reset_code(state.reset_token)
        results = [outcome(lambda s=state: reset(s, wrong)) for _ in range(4)]
        results.append(outcome(lambda s=state: send_reset_code(s.reset_token)))
        locks.append(results)
    assert locks[0] == locks[1] == locks[2]
    assert locks[0][3][0] == "LockedError" and locks[0][4][0] == "LockedError"


def test_five_sends_an_hour_per_email_for_everyone(three, clock):
    from core.password_reset import send_reset_code

    answers = []
    for email in three.values():
        state = start(email)
        for _ in range(4):
            clock.advance(timedelta(seconds=61))
            send_reset_code(state.reset_token)
        clock.advance(timedelta(seconds=61))
        with pytest.raises(RateLimitError) as capped:
            send_reset_code(state.reset_token)
        answers.append(capped.value.message)
        clock.advance(timedelta(hours=1))
    assert answers[0] == answers[1] == answers[2]


def test_the_caps_of_the_address_count_resets_for_every_email(db, monkeypatch):
    """A stranger probing resets from one address runs into the same caps whether or not the
    emails have accounts."""
    from core.message_caps import MESSAGES_PER_ADDRESS_PER_DAY

    active_account()
    for n in range(MESSAGES_PER_ADDRESS_PER_DAY - 1):
        start(f"probe{n}@example.com", origin="198.51.100.9")
    start(EMAIL, origin="198.51.100.9")
    for email in (EMAIL, "another@example.com"):
        with pytest.raises(RateLimitError):
            start(email, origin="198.51.100.9")


def test_the_same_work_for_an_unknown_email(three, monkeypatch):
    """No keyed hash for one and not the other: a code is drawn and hashed for both."""
    import core.password_reset as reset_module
    import core.verification as verification

    counted = []
    real = reset_module.keyed_hash

    def count(*parts):
        counted.append(parts[0])
        return real(*parts)

    monkeypatch.setattr(reset_module, "keyed_hash", count)
    monkeypatch.setattr(verification, "keyed_hash", count)
    per_email = []
    for email in three.values():
        counted.clear()
        state = start(email)
        outcome(lambda s=state: reset(s, "123450"))
        per_email.append(counted.count("code"))
    assert per_email[0] == per_email[1] == per_email[2] >= 2


def test_reset_from_ssh_says_where_from(known):
    from core.delivery import read_outbox

    state = start(EMAIL, origin=SSH_ADDRESS)
    reset(state, latest_code(EMAIL))
    notice = next(m for m in read_outbox(EMAIL) if m.subject.endswith("password was reset"))
    assert SSH_ADDRESS in notice.body
    assert KEY  # (the keys were removed: the console cannot log on with them any more)


def test_a_locked_reset_tells_the_owner_nothing_new(known):
    """Failures of a reset never lock the owner's log-on."""
    from core.accounts import log_on

    state = start(EMAIL)
    for _ in range(10):
        with contextlib.suppress(CodeError, LockedError):
            reset(state, "999999" if latest_code(EMAIL) != "999999" else "999998")
    assert log_on(EMAIL, STRONG_PASSWORD).token
