"""F4 Billing address: Individual (full name) or Corporate (company, contact person, phone,
email), and the address (country, state/province from ISO 3166-2, city, two street lines,
postal code in the country's format).

Before the first save the channel F2 did not verify must be verified (the phone when F2 used
email, the email when F2 used the phone), through `core.verify_account` with purpose
`second_channel`. Later edits need no new verification. Corporate → Individual is refused once an
enterprise real-name registration is approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from core import clock
from core.db import read_by, transaction
from core.errors import Refused, ValidationError
from core.forms import FormCheck
from core.i18n import N_
from core.models import Account, BillingAddress, PaymentMethod, RealNameRegistration
from core.sessions import require_account
from core.validation import (
    CITY,
    COMPANY_NAME,
    CONTACT_NAME,
    FULL_NAME,
    STREET,
    STREET_2,
    check_contact_phone,
    check_country,
    check_email,
    check_postal_code,
    check_region,
    clean_line,
    countries,
    country_name,
    phone_example,
    postal_code_example,
    region_name,
)
from core.validation import regions_of as _regions_of

if TYPE_CHECKING:
    from core.verify_account import VerifyState

ACCOUNT_TYPES = ("individual", "corporate")
NAME_MAX = 200
CITY_MAX = 100
STREET_MAX = 200


@dataclass(frozen=True)
class BillingAddressView:
    account_type: str  # individual | corporate
    full_name: str | None
    company_name: str | None
    contact_name: str | None
    contact_phone: str | None  # E.164
    contact_email: str | None
    country: str  # alpha-2
    country_name: str
    region: str | None  # ISO 3166-2 code ("US-CA")
    region_name: str | None
    city: str
    street: str
    street_2: str | None
    postal_code: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def person_name(self) -> str:
        """The person's own name: the full name (Individual) or the contact person (Corporate)."""
        return (self.full_name if self.account_type == "individual" else self.contact_name) or ""

    @property
    def lines(self) -> tuple[str, ...]:
        """The address as lines for a confirmation step (F5 "confirm the billing address")."""
        who = [self.full_name] if self.account_type == "individual" else [
            self.company_name, f"Attn. {self.contact_name}"]
        place = " ".join(part for part in (self.postal_code, self.city) if part)
        region = self.region_name if self.region else None
        rows = [*who, self.street, self.street_2, place, region, self.country_name]
        return tuple(row for row in rows if row)


class SecondChannelRequired(Refused):
    """Saving the first billing address needs the channel F2 did not verify (`channel`)."""

    field = "code"

    def __init__(self, channel: str) -> None:
        self.channel = channel  # phone | email
        if channel == "phone":
            message = N_("Verify your mobile phone number first: enter it, press Send message "
                         "or Call immediately, then enter the code.")
        else:
            message = N_("Verify your email address first: press Send, then enter the code we "
                         "email you.")
        super().__init__(message, "code")


def regions_of(country: str | None) -> list[tuple[str, str]]:
    """(ISO 3166-2 code, name) of the country's states/provinces, sorted; [] when it has none."""
    return list(_regions_of((country or "").strip().upper()))


def postal_code_hint(country: str | None) -> str | None:
    """An example postal code of the country when its format is known (for a placeholder)."""
    return postal_code_example((country or "").strip().upper())


def view(row: BillingAddress) -> BillingAddressView:
    return BillingAddressView(
        account_type=row.account_type, full_name=row.full_name, company_name=row.company_name,
        contact_name=row.contact_name, contact_phone=row.contact_phone,
        contact_email=row.contact_email, country=row.country,
        country_name=country_name(row.country), region=row.region,
        region_name=region_name(row.region), city=row.city, street=row.street,
        street_2=row.street_2, postal_code=row.postal_code, created_at=row.created_at,
        updated_at=row.updated_at)


def address_of(account_id: int) -> BillingAddressView | None:
    """The billing address of an account (for other flows: F5's card holder, F7's gate)."""
    row = read_by(BillingAddress, "account", account_id)
    return view(row) if row is not None else None


def get_billing_address(token: str | None) -> BillingAddressView | None:
    """The logged-on account's billing address, or None before it is added."""
    return address_of(require_account(token).id)


def second_channel_required(token: str | None) -> str | None:
    """'phone' or 'email' when that channel must be verified before the address can be saved
    (the first time); None when saving needs no verification."""
    account = require_account(token)
    if BillingAddress.select().where(BillingAddress.account == account.id).exists():
        return None
    return _missing_channel(account)


@dataclass(frozen=True)
class BillingAddressForm:
    """What the Billing address section shows, read at one moment: the saved address (or the
    empty form for the account's country), the choices that follow the country, and the
    second channel still to verify before the first save."""

    address: BillingAddressView | None  # None before the first save
    account_type: str  # individual | corporate (the saved one, else individual)
    full_name: str
    company_name: str
    contact_name: str
    contact_phone: str
    contact_email: str
    country: str  # alpha-2: the saved address's, else the account's
    region: str | None  # ISO 3166-2 code
    city: str
    street: str
    street_2: str
    postal_code: str
    countries: tuple[tuple[str, str], ...]  # (alpha-2, name), every ISO 3166 country
    regions: tuple[tuple[str, str], ...]  # of `country`; () when it has none
    postal_code_example: str | None  # of `country`, for the placeholder
    second_channel: str | None  # 'phone' | 'email' to verify before saving; None: nothing
    second_channel_state: VerifyState | None  # the email's code state (a phone's follows
    #                                           the number typed)
    phone_region: str  # the account's country: phone numbers are read as of it (F2)
    phone_example: str | None  # a mobile number of `phone_region`, for placeholders
    has_payment_method: bool  # after saving, is adding a payment method the next step?


def billing_address_form(token: str | None) -> BillingAddressForm:
    """The Billing address section's page (F4), in one transaction."""
    account = require_account(token)
    with transaction():
        account = Account.get_by_id(account.id)
        row = BillingAddress.get_or_none(BillingAddress.account == account.id)
        channel = _missing_channel(account) if row is None else None
        state = None
        if channel == "email" and account.status != "unverified":
            from core.verify_account import verify_state

            state = verify_state(token, "second_channel", "email")
        has_method = PaymentMethod.select().where(PaymentMethod.account == account.id,
                                                  PaymentMethod.removed_at.is_null()).exists()
    saved = view(row) if row is not None else None
    country = saved.country if saved is not None else account.country

    def text(value: str | None) -> str:
        return value or ""

    return BillingAddressForm(
        address=saved, account_type=saved.account_type if saved else "individual",
        full_name=text(saved and saved.full_name),
        company_name=text(saved and saved.company_name),
        contact_name=text(saved and saved.contact_name),
        contact_phone=text(saved and saved.contact_phone),
        contact_email=text(saved and saved.contact_email), country=country,
        region=saved.region if saved else None, city=text(saved and saved.city),
        street=text(saved and saved.street), street_2=text(saved and saved.street_2),
        postal_code=text(saved and saved.postal_code), countries=tuple(countries()),
        regions=tuple(regions_of(country)), postal_code_example=postal_code_hint(country),
        second_channel=channel, second_channel_state=state, phone_region=account.country,
        phone_example=phone_example(account.country), has_payment_method=has_method)


def _missing_channel(account: Account) -> str | None:
    if account.verified_channel == "phone":
        return None if account.email_verified_at is not None else "email"
    # email (the default channel of F2), or unknown: the phone is the other channel
    return None if account.phone_verified_at is not None else "phone"


def _enterprise_approved(account_id: int) -> bool:
    return RealNameRegistration.select().where(
        RealNameRegistration.account == account_id,
        RealNameRegistration.kind == "enterprise",
        RealNameRegistration.status == "approved").exists()


@dataclass(frozen=True)
class _Clean:
    account_type: str
    full_name: str | None
    company_name: str | None
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    country: str
    region: str | None
    city: str
    street: str
    street_2: str | None
    postal_code: str | None


def _account_type(value: str | None) -> str:
    kind = (value or "").strip().casefold()
    if kind not in ACCOUNT_TYPES:
        raise ValidationError("Choose Individual or Corporate.", "type")
    return kind


def check_billing_address(*, account_type: str | None, full_name: str | None = None,
                          company_name: str | None = None, contact_name: str | None = None,
                          contact_phone: str | None = None, contact_email: str | None = None,
                          country: str | None, region: str | None = None,
                          city: str | None, street: str | None, street_2: str | None = None,
                          postal_code: str | None = None) -> _Clean:
    """Every field checked at once, in the form's order: FormErrors by field (the CONTRACT
    ids). The fields of the account type only (none while the type is unknown), and the
    region, postal code and contact phone only once the country is known (they follow it)."""
    form = FormCheck()
    kind = form.check(_account_type, account_type)
    name = company = contact = phone = email = None
    if kind == "individual":
        name = form.check(clean_line, full_name, "full-name", FULL_NAME,
                          max_length=NAME_MAX)
    elif kind == "corporate":
        company = form.check(clean_line, company_name, "company-name", COMPANY_NAME,
                             max_length=NAME_MAX)
        contact = form.check(clean_line, contact_name, "contact-name",
                             CONTACT_NAME, max_length=NAME_MAX)
    code = form.check(check_country, country, "address-country")
    if kind == "corporate":
        if code is not None:
            phone = form.check(check_contact_phone, contact_phone, code, "contact-phone")
        address = form.check(check_email, contact_email, "contact-email")
        email = address.address if address is not None else None
    subdivision = form.check(check_region, region, code, "region") if code else None
    town = form.check(clean_line, city, "city", CITY, max_length=CITY_MAX)
    line_1 = form.check(clean_line, street, "street", STREET,
                        max_length=STREET_MAX)
    line_2 = form.check(clean_line, street_2, "street-2", STREET_2,
                        max_length=STREET_MAX, required=False) or None
    postal = form.check(check_postal_code, postal_code, code, "postal-code") if code else None
    form.raise_errors()
    assert kind is not None and code is not None and town is not None and line_1 is not None
    return _Clean(kind, name, company, contact, phone, email, code, subdivision, town, line_1,
                  line_2, postal)


def save_billing_address(token: str | None, *, account_type: str | None,
                         full_name: str | None = None, company_name: str | None = None,
                         contact_name: str | None = None, contact_phone: str | None = None,
                         contact_email: str | None = None, country: str | None,
                         region: str | None = None, city: str | None, street: str | None,
                         street_2: str | None = None,
                         postal_code: str | None = None) -> BillingAddressView:
    """Add or edit the billing address (F4), all in one transaction.

    Raises FormErrors naming every field in error (field = the CONTRACT id), then
    SecondChannelRequired (a Refused, field 'code') before the first save while the other
    channel is unverified, Refused for Corporate → Individual after an approved enterprise
    registration.
    """
    clean = check_billing_address(
        account_type=account_type, full_name=full_name, company_name=company_name,
        contact_name=contact_name, contact_phone=contact_phone, contact_email=contact_email,
        country=country, region=region, city=city, street=street, street_2=street_2,
        postal_code=postal_code)
    account = require_account(token)
    at = clock.now()
    with transaction():
        account = Account.get_by_id(account.id)  # fresh, inside the transaction
        if account.status not in ("active", "deletion_pending"):
            raise Refused("Verify your account first.")
        row = BillingAddress.get_or_none(BillingAddress.account == account.id)
        if row is None:
            missing = _missing_channel(account)
            if missing is not None:
                raise SecondChannelRequired(missing)
        elif (row.account_type == "corporate" and clean.account_type == "individual"
              and _enterprise_approved(account.id)):
            raise Refused("This account's enterprise real-name registration is approved, so it "
                          "stays a Corporate account.", "type")
        values = {
            "account_type": clean.account_type, "full_name": clean.full_name,
            "company_name": clean.company_name, "contact_name": clean.contact_name,
            "contact_phone": clean.contact_phone, "contact_email": clean.contact_email,
            "country": clean.country, "region": clean.region, "city": clean.city,
            "street": clean.street, "street_2": clean.street_2,
            "postal_code": clean.postal_code, "updated_at": at,
        }
        if row is None:
            row = BillingAddress.create(account=account.id, created_at=at, **values)
        else:
            BillingAddress.update(values).where(BillingAddress.account == account.id).execute()
            row = BillingAddress.get(BillingAddress.account == account.id)
        result = view(row)
    return result
