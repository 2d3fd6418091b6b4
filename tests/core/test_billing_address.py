"""F4 billing address: the second channel first, required fields per type, regions, postal
codes, contact phone/email, the Corporate → Individual rule, and bad input of every kind."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.billing_address import (
    SecondChannelRequired,
    get_billing_address,
    postal_code_hint,
    regions_of,
    save_billing_address,
    second_channel_required,
)
from core.errors import DomainError, Refused, SessionExpired, ValidationError
from core.models import Account, BillingAddress, RealNameRegistration
from core.verify_account import confirm_code, send_code
from tests.conftest import STRONG_PASSWORD, latest_code

SG_PHONE = "+65 8123 4567"


def individual(**over) -> dict:
    values = dict(account_type="individual", full_name="Alice Tan", country="SG",
                  region="SG-01", city="Singapore", street="1 Raffles Place",
                  street_2="#20-01", postal_code="048616")
    values.update(over)
    return values


def corporate(**over) -> dict:
    values = dict(account_type="corporate", company_name="Tan Trading Pte. Ltd.",
                  contact_name="Alice Tan", contact_phone="8123 4567",
                  contact_email="ap@tan-trading.example", country="SG", region="SG-01",
                  city="Singapore", street="1 Raffles Place", postal_code="048616")
    values.update(over)
    return values


def verify_phone(token: str, phone: str = SG_PHONE) -> None:
    send_code(token, "second_channel", "sms", phone)
    confirm_code(token, "second_channel", "sms", latest_code(phone), phone)


@pytest.fixture
def verified(active):
    """An active account (F2 by email) whose phone is verified too: returns its token."""
    token, _email = active
    verify_phone(token)
    return token


@pytest.fixture
def with_address(verified):
    """An active account with an Individual billing address: returns its token."""
    save_billing_address(verified, **individual())
    return verified


def count() -> int:
    return BillingAddress.select().count()


# --- the second channel -----------------------------------------------------------------------

def test_email_verified_account_must_verify_its_phone_first(active):
    token, _ = active
    assert second_channel_required(token) == "phone"
    with pytest.raises(SecondChannelRequired) as info:
        save_billing_address(token, **individual())
    assert isinstance(info.value, Refused)
    assert info.value.channel == "phone" and info.value.field == "code"
    assert "phone" in info.value.message
    assert count() == 0


def test_after_verifying_the_phone_the_address_saves(active):
    token, _ = active
    verify_phone(token)
    assert second_channel_required(token) is None
    saved = save_billing_address(token, **individual())
    assert saved.account_type == "individual" and saved.full_name == "Alice Tan"
    assert saved.region == "SG-01" and saved.region_name == "Central Singapore"
    assert saved.country_name == "Singapore" and saved.postal_code == "048616"
    assert get_billing_address(token) == saved
    assert saved.person_name == "Alice Tan"
    assert "Singapore" in saved.lines and "1 Raffles Place" in saved.lines
    assert count() == 1


def test_phone_verified_account_must_verify_its_email_first(db):
    from core.accounts import sign_up

    result = sign_up("SG", "bob@example.com", STRONG_PASSWORD, STRONG_PASSWORD, True)
    send_code(result.token, "signup", "sms", SG_PHONE)
    confirm_code(result.token, "signup", "sms", latest_code(SG_PHONE), SG_PHONE)
    assert second_channel_required(result.token) == "email"
    with pytest.raises(SecondChannelRequired) as info:
        save_billing_address(result.token, **individual())
    assert info.value.channel == "email" and "email" in info.value.message
    assert count() == 0
    send_code(result.token, "second_channel", "email")
    confirm_code(result.token, "second_channel", "email", latest_code("bob@example.com"))
    assert save_billing_address(result.token, **individual()).full_name == "Alice Tan"


def test_later_edits_need_no_new_verification(with_address, clock):
    Account.update(phone_verified_at=None).execute()  # even if the phone were un-verified
    clock.advance(timedelta(minutes=20))
    edited = save_billing_address(with_address, **individual(city="Jurong", street="2 Jalan"))
    assert edited.city == "Jurong" and edited.updated_at > edited.created_at
    assert count() == 1


def test_unverified_account_cannot_save(signed_up):
    result, _ = signed_up
    with pytest.raises(Refused):
        save_billing_address(result.token, **individual())
    assert count() == 0


def test_no_session_no_address(db):
    with pytest.raises(SessionExpired):
        get_billing_address("not-a-token")
    with pytest.raises(SessionExpired):
        save_billing_address(None, **individual())


def test_no_address_yet_reads_none(verified):
    assert get_billing_address(verified) is None


# --- account types and required fields --------------------------------------------------------

@pytest.mark.parametrize("kind", ["", None, "person", "INDIVIDUALS"])
def test_account_type_must_be_one_of_two(verified, kind):
    with pytest.raises(ValidationError) as info:
        save_billing_address(verified, **individual(account_type=kind))
    assert info.value.field == "type"
    assert count() == 0


def test_account_type_is_case_insensitive(verified):
    assert save_billing_address(verified, **individual(account_type="Individual")) \
        .account_type == "individual"


@pytest.mark.parametrize("field, key", [
    ("full-name", "full_name"), ("address-country", "country"), ("city", "city"),
    ("street", "street"), ("postal-code", "postal_code"),
])
def test_individual_required_fields(verified, field, key):
    with pytest.raises(ValidationError) as info:
        save_billing_address(verified, **individual(**{key: "   "}))
    assert info.value.field == field
    assert count() == 0


def test_region_required_where_addresses_need_it(verified):
    us = individual(country="US", region="", city="Austin", postal_code="78701")
    with pytest.raises(ValidationError) as info:
        save_billing_address(verified, **us)
    assert info.value.field == "region"
    assert count() == 0
    assert save_billing_address(verified, **{**us, "region": "US-TX"}).region == "US-TX"


def test_region_optional_in_singapore_but_checked_when_given(verified):
    assert save_billing_address(verified, **individual(region="")).region is None
    with pytest.raises(ValidationError) as info:
        save_billing_address(verified, **individual(region="US-CA"))
    assert info.value.field == "region"


@pytest.mark.parametrize("field, key", [
    ("company-name", "company_name"), ("contact-name", "contact_name"),
    ("contact-phone", "contact_phone"), ("contact-email", "contact_email"),
])
def test_corporate_required_fields(verified, field, key):
    with pytest.raises(ValidationError) as info:
        save_billing_address(verified, **corporate(**{key: None}))
    assert info.value.field == field
    assert count() == 0


def test_individual_does_not_need_corporate_fields_and_street_2_is_optional(verified):
    saved = save_billing_address(verified, **individual(street_2=""))
    assert saved.company_name is None and saved.contact_phone is None
    assert saved.street_2 is None


def test_corporate_address_and_switching_type_clears_the_other_fields(verified):
    saved = save_billing_address(verified, **corporate())
    assert saved.account_type == "corporate" and saved.full_name is None
    assert saved.contact_phone == "+6581234567"
    assert saved.contact_email == "ap@tan-trading.example"
    assert saved.person_name == "Alice Tan"
    back = save_billing_address(verified, **individual(full_name="Alice Tan Mei"))
    assert back.company_name is None and back.contact_name is None
    assert back.contact_phone is None and back.contact_email is None


def test_contact_phone_of_another_country_in_e164_is_fine(verified):
    saved = save_billing_address(verified, **corporate(contact_phone="+1 (650) 253-0000"))
    assert saved.contact_phone == "+16502530000"


@pytest.mark.parametrize("phone", ["12345", "not a phone", "+65 1234", "8123 4567 8901 2345",
                                   "+999 1234567", "8123\n4567"])
def test_contact_phone_must_be_valid(verified, phone):
    with pytest.raises(ValidationError) as info:
        save_billing_address(verified, **corporate(contact_phone=phone))
    assert info.value.field == "contact-phone"


@pytest.mark.parametrize("email", ["nobody", "a@@b.com", "a b@c.com", "a@b.com\r\nBcc: x@y.com",
                                   "x" * 65 + "@example.com"])
def test_contact_email_must_be_valid(verified, email):
    with pytest.raises(ValidationError) as info:
        save_billing_address(verified, **corporate(contact_email=email))
    assert info.value.field == "contact-email"


# --- Corporate → Individual after an approved enterprise registration -------------------------

def _registration(token: str, status: str, kind: str = "enterprise") -> None:
    from core import clock
    from core.sessions import require_account

    RealNameRegistration.create(account=require_account(token).id, kind=kind, status=status,
                                company_name="Tan Trading", submitted_at=clock.now())


def test_corporate_to_individual_refused_once_enterprise_is_approved(verified):
    save_billing_address(verified, **corporate())
    _registration(verified, "approved")
    with pytest.raises(Refused) as info:
        save_billing_address(verified, **individual())
    assert info.value.field == "type"
    assert get_billing_address(verified).account_type == "corporate"
    # other edits of a corporate address are still fine
    assert save_billing_address(verified, **corporate(city="Jurong")).city == "Jurong"


@pytest.mark.parametrize("status, kind", [("pending", "enterprise"), ("rejected", "enterprise"),
                                          ("approved", "individual")])
def test_corporate_to_individual_allowed_otherwise(verified, status, kind):
    save_billing_address(verified, **corporate())
    _registration(verified, status, kind)
    assert save_billing_address(verified, **individual()).account_type == "individual"


# --- regions ----------------------------------------------------------------------------------

def test_regions_of_lists_iso_subdivisions_sorted_by_name():
    us = regions_of("US")
    assert ("US-CA", "California") in us
    names = [name for _, name in us]
    assert names == sorted(names, key=str.casefold)
    assert regions_of("us") == us
    assert regions_of("VA") == [] and regions_of("") == [] and regions_of(None) == []
    assert all(code.startswith("IN-") for code, _ in regions_of("IN"))


@pytest.mark.parametrize("given", ["US-CA", "us-ca", "CA", "California", " california "])
def test_region_accepts_code_suffix_or_name(verified, given):
    saved = save_billing_address(verified, **individual(
        country="US", region=given, city="San Francisco", postal_code="94105"))
    assert saved.region == "US-CA" and saved.region_name == "California"


@pytest.mark.parametrize("country, region", [("SG", "US-CA"), ("US", "Bavaria"),
                                             ("US", "DE-BY"), ("US", "")])
def test_region_must_be_of_the_country(verified, country, region):
    with pytest.raises(ValidationError) as info:
        save_billing_address(verified, **individual(country=country, region=region,
                                                    postal_code="94105"))
    assert info.value.field == "region"
    assert count() == 0


def test_country_without_subdivisions_takes_no_region(verified):
    saved = save_billing_address(verified, **individual(country="VA", region="", postal_code=""))
    assert saved.region is None and saved.postal_code is None
    with pytest.raises(ValidationError) as info:
        save_billing_address(verified, **individual(country="VA", region="Rome"))
    assert info.value.field == "region"


@pytest.mark.parametrize("country", ["", "XX", "Singapore", "S", None])
def test_country_must_be_iso_alpha_2(verified, country):
    with pytest.raises(ValidationError) as info:
        save_billing_address(verified, **individual(country=country))
    assert info.value.field == "address-country"


def test_country_is_case_insensitive(verified):
    assert save_billing_address(verified, **individual(country="sg")).country == "SG"


# --- postal codes -----------------------------------------------------------------------------

REGION = {"US": "US-CA", "SG": "SG-01", "GB": "GB-ENG", "CA": "CA-ON", "DE": "DE-BE",
          "FR": "FR-75C", "IN": "IN-DL", "CN": "CN-BJ", "JP": "JP-13", "AU": "AU-NSW",
          "NL": "NL-NH", "BR": "BR-SP", "SE": "SE-AB", "PL": "PL-14", "IE": "IE-D"}


def _region(country: str) -> str:
    if country in REGION and any(code == REGION[country] for code, _ in regions_of(country)):
        return REGION[country]
    options = regions_of(country)
    return options[0][0] if options else ""


@pytest.mark.parametrize("country, given, stored", [
    ("US", "94105", "94105"), ("US", "94105-1234", "94105-1234"),
    ("SG", "018956", "018956"),
    ("GB", "SW1A 1AA", "SW1A 1AA"), ("GB", "sw1a1aa", "SW1A 1AA"), ("GB", "M1 1AE", "M1 1AE"),
    ("CA", "k1a0b1", "K1A 0B1"), ("DE", "10117", "10117"), ("FR", "75008", "75008"),
    ("IN", "110001", "110001"), ("IN", "110 001", "110001"), ("CN", "100000", "100000"),
    ("JP", "1000001", "100-0001"), ("JP", "100-0001", "100-0001"), ("AU", "2000", "2000"),
    ("NL", "1012js", "1012 JS"), ("BR", "01310100", "01310-100"), ("SE", "11455", "114 55"),
    ("PL", "00-950", "00-950"), ("IE", "d02x285", "D02 X285"),
])
def test_postal_codes_in_the_country_format(verified, country, given, stored):
    saved = save_billing_address(verified, **individual(country=country, region=_region(country),
                                                        postal_code=given))
    assert saved.postal_code == stored


@pytest.mark.parametrize("country, given", [
    ("US", "ABCDE"), ("US", "9410"), ("US", "94105-12"), ("SG", "123"), ("SG", "1234567"),
    ("GB", "12345"), ("CA", "123456"), ("DE", "1011"), ("FR", "7500A"), ("IN", "012345"),
    ("JP", "12-34567"), ("AU", "20000"), ("NL", "0123 AB"), ("BR", "0131-0100"),
    ("US", ""), ("SG", "   "),
])
def test_postal_codes_in_the_wrong_format_are_refused(verified, country, given):
    with pytest.raises(ValidationError) as info:
        save_billing_address(verified, **individual(country=country, region=_region(country),
                                                    postal_code=given))
    assert info.value.field == "postal-code"
    assert count() == 0


def test_unknown_format_is_free_text_up_to_20(verified):
    saved = save_billing_address(verified, **individual(country="AR", region=_region("AR"),
                                                        postal_code="C1002 ABC"))
    assert saved.postal_code == "C1002 ABC"
    with pytest.raises(ValidationError) as info:
        save_billing_address(verified, **individual(country="AR", region=_region("AR"),
                                                    postal_code="x" * 21))
    assert info.value.field == "postal-code"
    assert save_billing_address(verified, **individual(country="AR", region=_region("AR"),
                                                       postal_code="")).postal_code is None


def test_postal_code_hint():
    assert postal_code_hint("US") == "94105 or 94105-1234"
    assert postal_code_hint("AR") is None


# --- bad input everywhere ---------------------------------------------------------------------

TEXT_FIELDS = [("full_name", "full-name", individual), ("company_name", "company-name", corporate),
               ("contact_name", "contact-name", corporate), ("city", "city", individual),
               ("street", "street", individual), ("street_2", "street-2", individual)]

BAD_TEXT = ["x" * 10_000, "Alice\nTan", "Alice\r\nTan", "a\x00b", "\x1b[2J", "\x1b]52;c;SGk=\x07",
            "abc\u202edef", "a\u200bb", "tab\there", "a\u2028b"]


@pytest.mark.parametrize("key, field, form", TEXT_FIELDS)
@pytest.mark.parametrize("bad", BAD_TEXT)
def test_bad_text_is_refused_beside_its_field_and_nothing_changes(with_address, key, field,
                                                                  form, bad):
    before = get_billing_address(with_address)
    with pytest.raises(ValidationError) as info:
        save_billing_address(with_address, **form(**{key: bad}))
    assert info.value.field == field
    assert info.value.message and "\x1b" not in info.value.message
    assert count() == 1
    assert get_billing_address(with_address) == before


@pytest.mark.parametrize("key, field, form", [t for t in TEXT_FIELDS if t[0] != "street_2"])
@pytest.mark.parametrize("empty", ["", "   ", None, "\t \t"])
def test_empty_required_text_is_refused(verified, key, field, form, empty):
    with pytest.raises(ValidationError) as info:
        save_billing_address(verified, **form(**{key: empty}))
    assert info.value.field == field


@pytest.mark.parametrize("name", ["O'Hara", "Zoë", "ねこ", "Мария", "José María Núñez-Peña",
                                  "[bold]x[/]", "[link=http://e.vil]y", "a [ b",
                                  "'; DROP TABLE account; --",
                                  "Robert'); DROP TABLE billing_address;--"])
def test_real_names_markup_and_sql_are_stored_as_typed(verified, name):
    saved = save_billing_address(verified, **individual(full_name=name, city=name, street=name))
    assert saved.full_name == name and saved.city == name and saved.street == name
    assert get_billing_address(verified).full_name == name
    assert Account.select().count() == 1  # the table is still there


def test_names_are_trimmed(verified):
    assert save_billing_address(verified, **individual(full_name="  Alice  ")).full_name == "Alice"


def test_only_domain_errors_escape_for_garbage(verified):
    garbage = ["", " ", "x" * 10_000, "\x00", "\x1b[2J", "'; DROP TABLE account; --", "١٢٣"]
    keys = ["account_type", "full_name", "company_name", "contact_name", "contact_phone",
            "contact_email", "country", "region", "city", "street", "street_2", "postal_code"]
    for form in (individual, corporate):
        for key in keys:
            for value in garbage:
                try:
                    save_billing_address(verified, **form(**{key: value}))
                except DomainError as exc:
                    assert exc.field in {"type", "full-name", "company-name", "contact-name",
                                         "contact-phone", "contact-email", "address-country",
                                         "region", "city", "street", "street-2",
                                         "postal-code"}, (key, value, exc.field)
    assert count() <= 1
