"""Every field's error at once (issue 12): sign-up, the billing address and the order form
each raise one FormErrors naming every field in error, and store nothing. The rules stay those
of core.validation; the strength meter judges a password by all of them."""

from __future__ import annotations

import pytest

from core.errors import FormErrors, ValidationError
from tests.conftest import STRONG_PASSWORD
from tests.core.conftest import rows
from tests.core.test_billing_address import corporate, individual, verify_phone
from tests.core.test_products import (  # noqa: F401 (long_sessions is an autouse fixture)
    account_of,
    long_sessions,
    ready,
)

# --- sign-up --------------------------------------------------------------------------------


def test_sign_up_with_four_bad_fields_names_all_four(db):
    from core.accounts import sign_up
    from core.models import Account

    with pytest.raises(FormErrors) as info:
        sign_up(None, "not-an-email", "short", "different", True)
    errors = info.value.errors
    assert list(errors) == ["country", "email", "password", "password-confirm"]
    assert "country" in errors["country"].lower()
    assert "12 characters" in errors["password"]
    assert "not the same" in errors["password-confirm"]
    assert isinstance(info.value, ValidationError)
    assert (info.value.field, info.value.message) == ("country", errors["country"])
    assert rows(Account) == 0


def test_sign_up_names_the_agreement_and_the_emails_name_with_the_rest(db):
    from core.accounts import AGREEMENT_REFUSAL, sign_up

    password = "bobbytables-9Q!xz-lantern"
    with pytest.raises(FormErrors) as info:
        sign_up("XX", "bobbytables@example.com", password, password + "?", False)
    assert info.value.errors == {
        "country": "Choose the country where your phone and bank card are registered.",
        "password": "Your password must not contain your email name.",
        "password-confirm": "The two passwords are not the same.",
        "agree": AGREEMENT_REFUSAL,
    }


def test_a_valid_sign_up_still_signs_up(db):
    from core.accounts import sign_up

    result = sign_up("SG", "mei@example.com", STRONG_PASSWORD, STRONG_PASSWORD, True)
    assert result.token and result.country == "SG"


# --- the strength meter judges as core does ---------------------------------------------------

def test_the_meter_refuses_a_password_with_the_emails_name_as_core_does():
    from core.validation import MIN_STRENGTH, check_email, check_password, password_verdict

    password = "bobbytables-Violet-Harbour-1987"
    with pytest.raises(ValidationError) as info:
        check_password(password, check_email("bobbytables@example.com"))
    verdict = password_verdict(password, "bobbytables@example.com")
    assert not verdict.acceptable and verdict.score < MIN_STRENGTH
    assert verdict.warning == info.value.message
    assert verdict.label != "Very strong"
    # the same password with another email is fine, and the meter says so
    other = password_verdict(password, "mei@example.com")
    assert other.acceptable and other.score >= MIN_STRENGTH
    check_password(password, check_email("mei@example.com"))


@pytest.mark.parametrize(("password", "rule"), [
    ("short", True), ("a\nlong enough pass phrase", True), ("password1234", False)])
def test_the_meter_never_passes_what_core_refuses(password, rule):
    from core.validation import MIN_STRENGTH, check_password, password_verdict

    with pytest.raises(ValidationError) as info:
        check_password(password)
    verdict = password_verdict(password, "")
    assert not verdict.acceptable and verdict.score < MIN_STRENGTH
    if rule:  # a rule beside the score: its refusal is what the meter says
        assert verdict.warning == info.value.message


# --- the billing address ---------------------------------------------------------------------

@pytest.fixture
def verified(active):
    token, _email = active
    verify_phone(token)
    return token


def test_three_problems_of_the_billing_address_come_at_once(verified):
    from core.billing_address import save_billing_address
    from core.models import BillingAddress

    with pytest.raises(FormErrors) as info:
        save_billing_address(verified, **individual(full_name=" ", region="US-CA",
                                                    postal_code="12"))
    errors = info.value.errors
    assert list(errors) == ["full-name", "region", "postal-code"]
    assert errors["full-name"] == "Enter your full name."
    assert "Singapore" in errors["region"]
    assert "postal code of Singapore" in errors["postal-code"]
    assert rows(BillingAddress) == 0


def test_every_corporate_problem_comes_at_once(verified):
    from core.billing_address import save_billing_address

    with pytest.raises(FormErrors) as info:
        save_billing_address(verified, **corporate(company_name="", contact_name="",
                                                   contact_phone="12", contact_email="nope",
                                                   city="", street=""))
    assert list(info.value.errors) == ["company-name", "contact-name", "contact-phone",
                                       "contact-email", "city", "street"]


def test_an_unknown_country_still_reports_the_other_fields(verified):
    from core.billing_address import save_billing_address

    with pytest.raises(FormErrors) as info:
        save_billing_address(verified, **individual(country="ZZ", city="", full_name=""))
    # the region and postal code follow the country: judged once it is known
    assert list(info.value.errors) == ["full-name", "address-country", "city"]


def test_an_unknown_account_type_still_reports_the_address(verified):
    from core.billing_address import save_billing_address

    with pytest.raises(FormErrors) as info:
        save_billing_address(verified, **individual(account_type="alien", street=""))
    assert list(info.value.errors) == ["type", "street"]


def test_the_second_channel_is_asked_for_once_the_fields_are_right(active):
    from core.billing_address import SecondChannelRequired, save_billing_address

    token, _ = active
    with pytest.raises(FormErrors):
        save_billing_address(token, **individual(postal_code="12"))
    with pytest.raises(SecondChannelRequired):
        save_billing_address(token, **individual())


# --- the order form --------------------------------------------------------------------------

def test_every_bad_choice_of_an_order_comes_at_once(active):
    from core.models import Resource
    from core.products import place_order

    token, _ = active
    ready(token)
    with pytest.raises(FormErrors) as info:
        place_order(token, "teleporter", "mars-1", "subscription", 5)
    assert info.value.errors == {
        "product": "Choose a product.",
        "purchase-region": "Choose a region.",
        "period": "Choose a subscription period of 1, 3, 6 or 12 months.",
    }
    with pytest.raises(FormErrors) as info:
        place_order(token, "ecs", "mars-1", "barter", 5)
    assert list(info.value.errors) == ["purchase-region", "billing-method"]  # no period asked
    assert rows(Resource) == 0


def test_bad_choices_come_before_the_purchase_gate_which_names_every_step(active):
    from core.products import PurchaseRefused, place_order

    token, _ = active
    with pytest.raises(FormErrors) as info:
        place_order(token, "ecs", "nowhere", "payg")
    assert list(info.value.errors) == ["purchase-region"]
    with pytest.raises(PurchaseRefused) as refused:
        place_order(token, "ecs", "cn-hangzhou", "payg")
    assert [s.key for s in refused.value.missing] == ["billing-address", "payment-method",
                                                      "real-name"]


def test_the_order_forms_periods_and_prices_come_from_the_catalogue():
    from core.catalogue import SUBSCRIPTION_PERIODS, free_months, period_label, price_text

    assert SUBSCRIPTION_PERIODS == (1, 3, 6, 12)
    assert [period_label(m) for m in SUBSCRIPTION_PERIODS] == ["1 month", "3 months",
                                                               "6 months", "12 months"]
    assert [free_months(m) for m in SUBSCRIPTION_PERIODS] == [0, 0, 0, 2]
    assert price_text("ecs", "subscription", 12) == (
        "ECS instance: 12 months for 400.00 USD (2 months free), paid now with your default "
        "payment method.")
    assert price_text("ecs", "subscription", "1").startswith("ECS instance: 1 month for 40.00")
    assert price_text("ecs", "subscription", 5).endswith("Choose a period.")
    assert price_text(None, "payg", None) == "Choose a product to see its price."


def test_a_wrong_number_does_not_hide_a_wrong_security_code():
    """The card form at 80x24 showed three errors and said "2 fields need a change": the code
    was checked live but not by the flow while the number was wrong."""
    import pytest

    from core.errors import FormErrors
    from core.payments import check_card

    with pytest.raises(FormErrors) as refused:
        check_card("4242 4242 4242 4243", "13/30", "12", "Mei Tan")
    assert set(refused.value.errors) == {"card-number", "card-expiry", "card-cvv"}
    with pytest.raises(FormErrors) as refused:  # 4 digits may be an American Express code
        check_card("4242 4242 4242 4243", "12/30", "1234", "Mei Tan")
    assert set(refused.value.errors) == {"card-number"}
