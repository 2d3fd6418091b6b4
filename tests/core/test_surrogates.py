"""A lone surrogate (text that is not valid Unicode, e.g. "\\ud800") is a refusal everywhere a
password is typed, never an UnicodeEncodeError (issue 11, smaller findings): sign-up, log-on
(the usual wrong-credentials message), change password, the re-entry of a deletion or a method
removal, and the PayPal window. Hypothesis feeds text that includes surrogates."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.accounts import WRONG_CREDENTIALS, log_on, sign_up
from core.errors import AuthenticationError, DomainError, LockedError, ValidationError
from core.models import Account
from core.security import change_password
from tests.conftest import STRONG_PASSWORD

LONE = "\ud800"
WITH_LONE = f"Violet-Harbour-{LONE}-Lantern-1987"

# Any code point, surrogates included (st.text() leaves them out).
ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)
WITH_SURROGATE = st.builds(lambda a, s, b: a + s + b, ANY_TEXT,
                           st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), ANY_TEXT)
PASSWORDS = st.one_of(WITH_SURROGATE, ANY_TEXT)
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
_emails = itertools.count()


def test_sign_up_refuses_a_lone_surrogate_beside_the_field(db):
    with pytest.raises(ValidationError) as info:
        sign_up("SG", "mei@example.com", WITH_LONE, WITH_LONE, True)
    assert info.value.field == "password" and "not valid text" in info.value.message
    assert Account.select().count() == 0


def test_log_on_with_a_lone_surrogate_is_the_usual_wrong_credentials(active):
    _, email = active
    for who in (email, "nobody@example.com"):
        with pytest.raises(AuthenticationError) as info:
            log_on(who, WITH_LONE)
        assert info.value.message == WRONG_CREDENTIALS


def test_change_password_with_a_lone_surrogate(active):
    token, _ = active
    with pytest.raises(AuthenticationError) as info:
        change_password(token, WITH_LONE, "Another strong passphrase 42",
                        "Another strong passphrase 42")
    assert info.value.field == "current-password"
    with pytest.raises(ValidationError) as info:
        change_password(token, STRONG_PASSWORD, WITH_LONE, WITH_LONE)
    assert info.value.field == "new-password" and "not valid text" in info.value.message


def test_deletion_re_entry_with_a_lone_surrogate(active):
    from core.deletion import request_deletion

    token, _ = active
    with pytest.raises(AuthenticationError) as info:
        request_deletion(token, WITH_LONE, True)
    assert info.value.field == "delete-password"
    assert Account.select().where(Account.status == "deleted").count() == 0


def test_paypal_password_with_a_lone_surrogate(active):
    from core.billing_address import save_billing_address
    from core.payments import PayPalRefused, paypal_log_on
    from core.verify_account import confirm_code, send_code
    from tests.conftest import latest_code

    token, _ = active
    phone = "+65 8123 4567"
    send_code(token, "second_channel", "sms", phone)
    confirm_code(token, "second_channel", "sms", latest_code(phone), phone)
    save_billing_address(token, account_type="individual", full_name="Mei Lin", country="SG",
                         region="SG-01", city="Singapore", street="1 Raffles Place",
                         postal_code="048616")
    with pytest.raises(PayPalRefused) as info:
        paypal_log_on(token, "buyer@example.com", "sandbox-" + LONE)
    assert "Check your email address and password" in info.value.message


@SETTINGS
@given(password=PASSWORDS, confirmation=st.one_of(st.none(), PASSWORDS))
@example(password=LONE, confirmation=LONE)
@example(password=WITH_LONE, confirmation=WITH_LONE)
def test_sign_up_only_ever_refuses_cleanly(db, password, confirmation):
    email = f"p{next(_emails)}@example.com"
    before = Account.select().count()
    try:
        sign_up("SG", email, password, password if confirmation is None else confirmation,
                True)
    except DomainError:
        assert Account.select().count() == before
    else:
        password.encode("utf-8")  # an accepted password is valid text


@SETTINGS
@given(password=PASSWORDS)
@example(password=LONE)
def test_log_on_only_ever_refuses_with_the_one_message(active, password):
    """Wrong credentials, or once the throttle slows the attempts down, its refusal."""
    _, email = active
    for who in (email, "nobody@example.com"):
        try:
            log_on(who, password)
        except LockedError:
            pass
        except AuthenticationError as exc:
            assert exc.message == WRONG_CREDENTIALS
        except ValidationError as exc:
            assert exc.field == "password"  # an empty password
        else:
            pytest.fail("an arbitrary text logged on")


@SETTINGS
@given(current=st.one_of(st.just(STRONG_PASSWORD), PASSWORDS), new=WITH_SURROGATE)
@example(current=LONE, new=WITH_LONE)
def test_change_password_only_ever_refuses_cleanly(active, current, new):
    """A new password holding a surrogate is never taken, whatever the current one typed."""
    token, _ = active
    with pytest.raises(DomainError) as info:
        change_password(token, current, new, new)
    assert info.value.field in ("current-password", "new-password", "new-password-confirm")
