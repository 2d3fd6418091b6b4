"""Enumeration (SPEC "Abuse limits"): the dummy hash is ready before the first log-on attempt,
and the phone path of a sign-up with an existing email sends a real code, like a new one's."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from core import hashing
from core.accounts import log_on
from core.delivery import read_outbox
from core.errors import AuthenticationError, CodeError, RateLimitError, Refused
from core.verify_account import EMAIL_HAS_ACCOUNT, confirm_code, send_code, verify_state
from tests.conftest import latest_code
from tests.core.conftest import CODE_RUN, make_account, make_verified_account

OWNER = "owner@example.com"
OTHER_PASSWORD = "Another strong passphrase 42"
PHONE = "8123 4567"
E164 = "+6581234567"


@pytest.fixture
def hashes(monkeypatch) -> list[str]:
    """Every argon2 hash built from now on (a fresh process: no dummy hash cached)."""
    built: list[str] = []
    real = PasswordHasher.hash

    def spy(self, password, *args, **kwargs):
        built.append(password)
        return real(self, password, *args, **kwargs)

    hashing._dummy_hash.cache_clear()
    monkeypatch.setattr(PasswordHasher, "hash", spy)
    yield built
    hashing._dummy_hash.cache_clear()


# --- the dummy hash -----------------------------------------------------------------------------

def test_the_first_attempt_for_an_unknown_email_builds_no_hash(db, hashes):
    with pytest.raises(AuthenticationError):
        log_on("nobody@example.com", "some password of 12")
    assert hashes == []  # verified against a ready hash, as long as a real one takes


@pytest.mark.parametrize("profile", ["production", "test"])
def test_the_ready_dummy_hash_costs_what_a_real_hash_costs(profile, hashes):
    from argon2 import extract_parameters

    ready = hashing._dummy_hash(profile)
    assert hashes == []
    real = hashing._hasher(profile).hash("a real password of someone")
    assert extract_parameters(ready) == extract_parameters(real)


def test_prepare_equal_time_builds_the_dummy_hash_ahead_when_none_fits(db, hashes, monkeypatch):
    monkeypatch.setitem(hashing._DUMMY_HASHES, "test", hashing._DUMMY_HASHES["production"])
    hashing.prepare_equal_time()  # what a console may call at start
    assert len(hashes) == 1
    with pytest.raises(AuthenticationError):
        log_on("nobody@example.com", "some password of 12")
    assert len(hashes) == 1  # the attempt itself built nothing


# --- the phone path of a sign-up with an existing email -----------------------------------------

def test_phone_path_of_an_existing_email_sends_a_real_code_like_a_new_one(db):
    make_verified_account(OWNER)
    new = make_account("new.person@example.com")
    decoy = make_account(OWNER, password=OTHER_PASSWORD)
    states = [send_code(new.token, "signup", "sms", PHONE)]
    new_text = read_outbox(E164)[0].body
    states.append(send_code(decoy.token, "signup", "sms", "8123 4568"))
    decoy_text = read_outbox("+6581234568")[0].body
    assert CODE_RUN.search(decoy_text)  # a real code, in the same words
    assert CODE_RUN.sub("", decoy_text) == CODE_RUN.sub("", new_text)
    for state in states:
        assert (state.status.sent, state.status.resend_in, state.status.tries_left) \
            == (True, 60, 5)
    # A call too.
    send_code(decoy.token, "signup", "voice", "6123 4567")  # a landline: calls only
    assert CODE_RUN.search(read_outbox("+6561234567")[0].body)


def test_after_the_right_code_it_says_the_email_has_an_account_and_tells_the_owner(db):
    make_verified_account(OWNER)
    decoy = make_account(OWNER, password=OTHER_PASSWORD)
    send_code(decoy.token, "signup", "sms", PHONE)
    code = latest_code(E164)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(CodeError) as err:  # a wrong code reads as for anyone
        confirm_code(decoy.token, "signup", "sms", wrong, PHONE)
    assert err.value.message == "Wrong code. 4 tries left."
    with pytest.raises(Refused) as err:
        confirm_code(decoy.token, "signup", "sms", code, PHONE)
    assert err.value.message == EMAIL_HAS_ACCOUNT and err.value.field == "code"
    note = read_outbox(OWNER)[0]
    assert "sign up" in note.subject.lower() and not CODE_RUN.search(note.body)
    assert "+65" in note.body and E164 not in note.body  # the phone, masked
    with pytest.raises(CodeError):  # the code is spent
        confirm_code(decoy.token, "signup", "sms", code, PHONE)
    with pytest.raises(AuthenticationError):  # nothing changed on the owner's account
        log_on(OWNER, OTHER_PASSWORD)


def test_a_phone_probe_costs_a_capped_message(db, clock):
    """Probing emails by the phone path needs a real phone per probe, and a session can only
    text 3 destinations."""
    from datetime import timedelta

    make_verified_account(OWNER)
    decoy = make_account(OWNER, password=OTHER_PASSWORD)
    for number in ("8123 4567", "8123 4568", "8123 4569"):
        send_code(decoy.token, "signup", "sms", number)
        clock.advance(timedelta(minutes=1))
    with pytest.raises(RateLimitError):
        send_code(decoy.token, "signup", "sms", "8123 4570")
    assert read_outbox("+6581234570") == []
    assert verify_state(decoy.token, "signup", "sms", "8123 4569").status.sent
