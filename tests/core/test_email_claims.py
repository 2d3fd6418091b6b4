"""Email squatting (SPEC "Abuse limits", last bullet): an email that an account took without
verifying it cannot keep its owner out. The owner's sign-up proceeds as new, with a real code
to the email; once verified by email the address is the owner's alone, and the other account
is closed and told by SMS."""

from __future__ import annotations

import pytest

from core.accounts import log_on, log_on_with_trusted_key, sign_up
from core.billing_address import SecondChannelRequired, save_billing_address
from core.delivery import read_outbox
from core.errors import AuthenticationError, CodeError, Refused, SessionExpired
from core.models import Account, EmailClaim
from core.sessions import resolve_session
from core.verify_account import EMAIL_HAS_ACCOUNT, confirm_code, send_code, verify_state
from tests.conftest import STRONG_PASSWORD, latest_code
from tests.core.conftest import CODE_RUN, make_account

VICTIM = "victim@example.com"
SQUATTER_PASSWORD = "squatters own pass phrase 31"
SQUATTER_PHONE = "+6581234567"
VICTIM_PHONE = "+6591234567"


def squat(email: str = VICTIM, fingerprint: str | None = None) -> str:
    """Sign up with someone else's email and verify with one's own phone; returns the token."""
    result = make_account(email, password=SQUATTER_PASSWORD, origin="203.0.113.9")
    send_code(result.token, "signup", "sms", SQUATTER_PHONE)
    view = confirm_code(result.token, "signup", "sms", latest_code(SQUATTER_PHONE),
                        SQUATTER_PHONE)
    assert view.status == "active" and not view.email_verified
    if fingerprint:
        from core.security import trust_current_key

        keyed = log_on(email, SQUATTER_PASSWORD, origin="203.0.113.9",
                       key_fingerprint=fingerprint).token
        trust_current_key(keyed, "squatter's laptop")
    return result.token


def test_email_squatting_ends_when_the_owner_verifies_the_email(db):
    squatter = squat(fingerprint="SHA256:squatter")
    squatter_id = Account.get(Account.email_key == VICTIM).id
    # The owner signs up with their own email: a real account and a real code by email.
    owner = sign_up("SG", VICTIM, STRONG_PASSWORD, STRONG_PASSWORD, True)
    send_code(owner.token, "signup", "email")
    assert CODE_RUN.search(read_outbox(VICTIM)[0].body)
    view = confirm_code(owner.token, "signup", "email", latest_code(VICTIM))
    assert view.status == "active" and view.email_verified and view.email == VICTIM
    # The squatter's account is closed, and told so at its verified phone.
    closed = Account.get_by_id(squatter_id)
    assert closed.status == "deleted" and closed.email_key != VICTIM and closed.phone is None
    text = read_outbox(SQUATTER_PHONE)[0]
    assert "closed" in text.body and not CODE_RUN.search(text.body)
    with pytest.raises(SessionExpired) as err:
        send_code(squatter, "second_channel", "email")
    assert "closed" in err.value.message
    # Log-on with the email reaches the owner, and only the owner.
    assert log_on(VICTIM, STRONG_PASSWORD).account.id == view.id
    with pytest.raises(AuthenticationError):
        log_on(VICTIM, SQUATTER_PASSWORD)
    assert log_on_with_trusted_key("SHA256:squatter", "203.0.113.9") is None
    assert EmailClaim.select().count() == 0
    # The address is the owner's alone now: a new sign-up with it is a decoy.
    again = make_account(VICTIM, password=SQUATTER_PASSWORD)
    assert resolve_session(again.token).is_decoy


def test_the_claim_looks_like_a_new_sign_up(db):
    squat()
    claim = sign_up("SG", VICTIM, STRONG_PASSWORD, STRONG_PASSWORD, True)
    new = sign_up("SG", "someone.new@example.com", STRONG_PASSWORD, STRONG_PASSWORD, True)
    assert type(claim) is type(new) and len(claim.token) == len(new.token)
    states = [verify_state(t, "signup", "email").status for t in (claim.token, new.token)]
    assert [(s.sent, s.resend_in, s.tries_left) for s in states] == [(False, 0, 5)] * 2
    assert not resolve_session(claim.token).is_decoy  # a real account, not a decoy


def test_a_squatter_cannot_reach_the_billing_address(db):
    """F4 needs the email verified, and its code goes to the email the squatter lacks."""
    squatter = squat()
    form = dict(account_type="individual", full_name="Sam Squat", country="SG",
                city="Singapore", street="1 Raffles Place", postal_code="048616")
    with pytest.raises(SecondChannelRequired):
        save_billing_address(squatter, **form)
    before = len(read_outbox(VICTIM))
    send_code(squatter, "second_channel", "email")
    assert len(read_outbox(VICTIM)) == before + 1  # to the victim's mailbox, nowhere else
    with pytest.raises(CodeError):
        confirm_code(squatter, "second_channel", "email", "000000")
    with pytest.raises(SecondChannelRequired):
        save_billing_address(squatter, **form)


def test_a_phone_cannot_take_an_email_back(db):
    """The claim's phone path sends a real code, but the right one does not verify the email:
    it says the email has an account, and the address gets a note."""
    squat()
    claim = sign_up("SG", VICTIM, STRONG_PASSWORD, STRONG_PASSWORD, True)
    send_code(claim.token, "signup", "sms", VICTIM_PHONE)
    with pytest.raises(Refused) as err:
        confirm_code(claim.token, "signup", "sms", latest_code(VICTIM_PHONE), VICTIM_PHONE)
    assert err.value.message == EMAIL_HAS_ACCOUNT
    assert "verify it by email" in read_outbox(VICTIM)[0].body
    assert log_on(VICTIM, SQUATTER_PASSWORD)  # the holder is still there ...
    send_code(claim.token, "signup", "email")  # ... until the claim verifies by email
    assert confirm_code(claim.token, "signup", "email", latest_code(VICTIM)).email_verified


def test_an_email_nobody_verified_is_claimed_without_any_text(db):
    abandoned = make_account(VICTIM, password=SQUATTER_PASSWORD)  # never verified at all
    claim = sign_up("SG", VICTIM, STRONG_PASSWORD, STRONG_PASSWORD, True)
    send_code(claim.token, "signup", "email")
    confirm_code(claim.token, "signup", "email", latest_code(VICTIM))
    with pytest.raises(SessionExpired):
        send_code(abandoned.token, "signup", "email")
    assert log_on(VICTIM, STRONG_PASSWORD).account.email_verified


def test_the_first_to_verify_the_email_keeps_it(db):
    squat()
    first = sign_up("SG", VICTIM, STRONG_PASSWORD, STRONG_PASSWORD, True)
    second = sign_up("SG", VICTIM, "a second pass phrase 2024", "a second pass phrase 2024", True)
    send_code(second.token, "signup", "email")
    send_code(first.token, "signup", "email")
    first_code = latest_code(VICTIM)
    confirm_code(first.token, "signup", "email", first_code)
    with pytest.raises(SessionExpired):  # the other claim went with it
        confirm_code(second.token, "signup", "email", first_code)
    assert Account.select().where(Account.status != "deleted").count() == 1


def test_the_holder_verifying_its_email_first_ends_the_claims(db):
    """The holder is the owner after all (it verified the email in F4): pending claims go."""
    holder = squat()
    claim = sign_up("SG", VICTIM, STRONG_PASSWORD, STRONG_PASSWORD, True)
    send_code(holder, "second_channel", "email")
    confirm_code(holder, "second_channel", "email", latest_code(VICTIM))
    with pytest.raises(SessionExpired):
        send_code(claim.token, "signup", "email")
    assert log_on(VICTIM, SQUATTER_PASSWORD).account.email_verified
    assert resolve_session(make_account(VICTIM).token).is_decoy


def test_a_closed_squatter_is_told_in_its_own_language(db):
    from core.languages import set_account_language

    squatter = squat()
    set_account_language(squatter, "zh-Hans")
    owner = sign_up("SG", VICTIM, STRONG_PASSWORD, STRONG_PASSWORD, True)
    send_code(owner.token, "signup", "email")
    confirm_code(owner.token, "signup", "email", latest_code(VICTIM))
    text = read_outbox(SQUATTER_PHONE)[0].body
    assert "closed" not in text and not CODE_RUN.search(text)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)  # in Chinese, as it chose
