"""F13 step-up: every sensitive action is refused without a recent proof and allowed after
one; the proof is the password with MFA off and the code with MFA on; a password an action
already carries is the proof when MFA is off; the grant's window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import AuthenticationError, CodeError
from core.step_up import STEP_UP_WINDOW, StepUpRequired
from tests.conftest import STRONG_PASSWORD, latest_code
from tests.core.protect import (
    EMAIL,
    KEY,
    NEW_PASSWORD,
    SSH_ADDRESS,
    active_account,
    enable_mfa,
    expire_grant,
    next_step,
    ssh_session,
)
from tests.core.test_products import GOOD_CARD, account_of, add_address


@pytest.fixture
def token(db):
    """An active account with a billing address, MFA off, its log-on's proof expired."""
    token = active_account()
    add_address(account_of(token).id)
    expire_grant()
    return token


def step_up(token, proof=STRONG_PASSWORD):
    from core.step_up import step_up as do

    return do(token, proof)


def refused_then_allowed(token, action, proof=STRONG_PASSWORD, method="password"):
    """`action()` raises StepUpRequired now (and changes nothing), and works after the step-up."""
    with pytest.raises(StepUpRequired) as refused:
        action()
    assert refused.value.method == method and refused.value.field == "step-up-code"
    grant = step_up(token, proof)
    assert grant.method == method
    return action()


def _card(token):
    from core.payments import save_card

    return save_card(token, GOOD_CARD, "12/30", "123", "Alice Tan")


# --- one test per action (MFA off: the password is the proof) ------------------------------------

def test_add_a_card(token):
    from core.payments import list_payment_methods

    assert refused_then_allowed(token, lambda: _card(token)).method.last4 == "4242"
    assert len(list_payment_methods(token)) == 1


def test_add_paypal(token):
    from core.payments import add_paypal, paypal_log_on

    session = refused_then_allowed(
        token, lambda: paypal_log_on(token, "buyer@example.com", "sandbox-pass"))
    expire_grant()
    assert refused_then_allowed(token, lambda: add_paypal(token, session)).kind == "paypal"


def test_add_paytm(db):
    from core.billing_address import save_billing_address
    from core.payments import add_paytm, send_paytm_code
    from tests.core.test_payments import _active_account

    token = _active_account("ravi@example.com", "IN", "+91 98111 22233")
    save_billing_address(token, account_type="individual", full_name="Ravi Kumar", country="IN",
                         region="IN-MH", city="Mumbai", street="1 Marine Drive",
                         postal_code="400001")
    expire_grant()
    refused_then_allowed(token, lambda: send_paytm_code(token, "98765 43210"))
    code = latest_code("+919876543210")
    expire_grant()
    method = refused_then_allowed(token, lambda: add_paytm(token, "+919876543210", code))
    assert method.kind == "paytm"


def test_trust_a_key(db):
    from core.security import trust_current_key, trusted_keys

    active_account()
    ssh = ssh_session()
    expire_grant()
    assert refused_then_allowed(ssh, lambda: trust_current_key(ssh)).fingerprint == KEY
    assert [k.fingerprint for k in trusted_keys(ssh)] == [KEY]


def test_remove_a_key(db):
    from core.security import remove_trusted_key, trust_current_key

    active_account()
    ssh = ssh_session()
    key = trust_current_key(ssh)
    expire_grant()
    assert refused_then_allowed(ssh, lambda: remove_trusted_key(ssh, key.id)) == ()


def test_change_email(token):
    from core.contact_change import confirm_email_change, start_email_change

    refused_then_allowed(token, lambda: start_email_change(token, "new@example.com"))
    code = latest_code("new@example.com")
    expire_grant()  # the code proves the address, not the person: confirming asks again
    view = refused_then_allowed(token,
                                lambda: confirm_email_change(token, "new@example.com", code))
    assert view.email == "new@example.com"


def test_change_phone(token):
    from core.contact_change import confirm_phone_change, start_phone_change

    refused_then_allowed(token, lambda: start_phone_change(token, "+65 8123 4567"))
    code = latest_code("+6581234567")
    expire_grant()
    view = refused_then_allowed(
        token, lambda: confirm_phone_change(token, "+65 8123 4567", code))
    assert view.phone == "+6581234567"


def test_turn_on_mfa(token):
    from core.mfa import begin_mfa_setup

    assert refused_then_allowed(token, lambda: begin_mfa_setup(token)).secret


# --- actions that carry the password: MFA off, that is the step-up --------------------------------

def test_change_password_with_mfa_off_needs_no_other_proof(token):
    from core.security import change_password

    assert change_password(token, STRONG_PASSWORD, NEW_PASSWORD, NEW_PASSWORD) is not None


def test_remove_a_method_with_mfa_off_needs_no_other_proof(token):
    from core.payments import list_payment_methods, remove_method

    step_up(token)
    method = _card(token).method
    expire_grant()
    assert remove_method(token, method.id, STRONG_PASSWORD) == []
    assert list_payment_methods(token) == []


def test_delete_with_mfa_off_needs_no_other_proof(token):
    from core.deletion import request_deletion

    assert request_deletion(token, STRONG_PASSWORD, True).deleted


# --- MFA on: the code, even for actions that carry the password ----------------------------------

@pytest.fixture
def mfa(token):
    step_up(token)
    account = enable_mfa(token)
    expire_grant()
    next_step()
    return account


def test_delete_with_mfa_on_needs_the_code(mfa):
    from core.deletion import request_deletion

    result = refused_then_allowed(mfa.token, lambda: request_deletion(mfa.token,
                                                                      STRONG_PASSWORD, True),
                                  mfa.code(), "code")
    assert result.deleted


def test_change_password_with_mfa_on_needs_the_code(mfa):
    from core.security import change_password

    refused_then_allowed(mfa.token, lambda: change_password(mfa.token, STRONG_PASSWORD,
                                                            NEW_PASSWORD, NEW_PASSWORD),
                         mfa.code(), "code")


def test_remove_a_method_with_mfa_on_needs_the_code(mfa):
    from core.payments import remove_method

    step_up(mfa.token, mfa.code())
    method = _card(mfa.token).method
    expire_grant()
    next_step()
    assert refused_then_allowed(mfa.token,
                                lambda: remove_method(mfa.token, method.id, STRONG_PASSWORD),
                                mfa.code(), "code") == []


def test_regenerate_recovery_codes(mfa):
    from core.mfa import regenerate_recovery_codes

    codes = refused_then_allowed(mfa.token, lambda: regenerate_recovery_codes(mfa.token),
                                 mfa.recovery_codes[0], "code")
    assert len(codes) == 10


def test_with_mfa_on_the_password_is_no_proof(mfa):
    with pytest.raises(CodeError):
        step_up(mfa.token, "0" * 6 if mfa.code() != "000000" else "1" * 6)
    from core.errors import ValidationError

    with pytest.raises(ValidationError):
        step_up(mfa.token, STRONG_PASSWORD)


def test_disabling_mfa_carries_its_own_proofs(mfa):
    """Disabling is the one action that takes the code and the password itself: no grant
    opens it without both."""
    from core.errors import FormErrors
    from core.mfa import disable_mfa

    step_up(mfa.token, mfa.code())
    next_step()
    with pytest.raises(FormErrors):
        disable_mfa(mfa.token, "", STRONG_PASSWORD)
    with pytest.raises(FormErrors):
        disable_mfa(mfa.token, mfa.code(), "")
    assert not disable_mfa(mfa.token, mfa.code(), STRONG_PASSWORD).enabled


# --- the grant ------------------------------------------------------------------------------------

def test_the_grant_lasts_five_minutes_for_any_action_then_ends(token, clock):
    from core.step_up import granted_until

    grant = step_up(token)
    assert grant.until == clock.now() + STEP_UP_WINDOW
    _card(token)
    clock.advance(STEP_UP_WINDOW)
    assert granted_until(token) == grant.until  # through its last second
    clock.advance(timedelta(seconds=1))
    assert granted_until(token) is None
    with pytest.raises(StepUpRequired):
        _card(token)


def test_a_log_on_with_the_password_counts_as_a_step_up(token):
    from core.accounts import log_on
    from core.step_up import granted_until

    fresh = log_on(EMAIL, STRONG_PASSWORD).token
    assert granted_until(fresh) is not None
    assert granted_until(token) is None  # another session's proof is not this one's


def test_a_wrong_password_grants_nothing_and_counts_as_a_wrong_re_entry(token):
    from core.errors import LockedError
    from core.step_up import granted_until

    for _ in range(4):
        with pytest.raises(AuthenticationError):
            step_up(token, "not my password at all")
    with pytest.raises(AuthenticationError):
        step_up(token, "not my password at all")
    with pytest.raises(LockedError):
        step_up(token)
    assert granted_until(token) is None


def test_a_step_up_is_the_sessions_own(db):
    from core.accounts import log_on
    from core.step_up import granted_until

    active_account()
    one = log_on(EMAIL, STRONG_PASSWORD, origin=SSH_ADDRESS).token
    expire_grant()
    other = log_on(EMAIL, STRONG_PASSWORD).token
    expire_grant()
    step_up(other)
    assert granted_until(other) is not None and granted_until(one) is None


def test_the_step_up_method_follows_mfa(token):
    from core.step_up import step_up_method

    assert step_up_method(token) == "password"
    step_up(token)
    enable_mfa(token)
    assert step_up_method(token) == "code"


def test_a_flood_of_wrong_codes_at_log_on_never_keeps_the_owner_from_stepping_up(mfa):
    """Someone who has the password floods the code step of the log-on: the owner, logged on,
    still steps up (and changes that password)."""
    from core.accounts import complete_mfa_log_on, log_on
    from core.errors import LockedError
    from core.security import change_password

    wrong = "000000" if mfa.code() != "000000" else "111111"
    for _ in range(6):
        pending = log_on(EMAIL, STRONG_PASSWORD, origin=SSH_ADDRESS)
        with pytest.raises((CodeError, LockedError)):
            complete_mfa_log_on(pending.pending_token, wrong)
    with pytest.raises(LockedError):
        complete_mfa_log_on(log_on(EMAIL, STRONG_PASSWORD, origin=SSH_ADDRESS).pending_token,
                            mfa.code())
    step_up(mfa.token, mfa.code(1))
    assert change_password(mfa.token, STRONG_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
