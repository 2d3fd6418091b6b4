"""F7: the catalogue, the purchase gate, orders, resources (release, auto-renewal), isolation."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.conftest import START, latest_code
from tests.core.conftest import make_account, rows

GOOD_CARD = "4242 4242 4242 4242"
LATER_DECLINED_CARD = "4000 0000 0000 0341"  # saves fine, every later charge is declined
EVEN_RESIDENT_ID = "11010519491231002X"  # the published example: ends in X → approved


@pytest.fixture(autouse=True)
def long_sessions(cloudacct_home, monkeypatch):
    """These tests move the clock by hours and months: sessions must outlive that."""
    from core.config import reset_settings

    monkeypatch.setenv("CLOUDACCT_SESSION_IDLE_MINUTES", str(10 * 366 * 24 * 60))
    monkeypatch.setenv("CLOUDACCT_SESSION_ABSOLUTE_HOURS", str(10 * 366 * 24))
    reset_settings()


# --- helpers (also used by test_billing) -----------------------------------------------------

def activate(email: str) -> str:
    """A new active account (verified by email); returns its session token."""
    from core.verify_account import confirm_code, send_code

    result = make_account(email)
    send_code(result.token, "signup", "email")
    confirm_code(result.token, "signup", "email", latest_code(email))
    return result.token


def account_of(token: str):
    from core.sessions import require_account

    return require_account(token)


def add_address(account_id: int) -> None:
    from core.models import BillingAddress

    BillingAddress.create(account=account_id, account_type="individual", full_name="Alice Tan",
                          country="SG", city="Singapore", street="1 Raffles Place",
                          postal_code="048616", created_at=START, updated_at=START)


def add_method_row(account_id: int) -> None:
    """A payment method row without the gateway (the gate only asks whether one exists)."""
    from core.models import PaymentMethod

    PaymentMethod.create(account=account_id, kind="card", gateway_token="tok_test",
                         brand="Visa", last4="4242", exp_month=12, exp_year=2030,
                         display="Visa •••• 4242", is_default=True, created_at=START)


def approve_real_name_row(account_id: int) -> None:
    from core.models import RealNameRegistration

    RealNameRegistration.create(account=account_id, kind="individual", status="approved",
                                legal_name="Li Lei", id_type="resident_id",
                                id_number=EVEN_RESIDENT_ID, submitted_at=START,
                                reviewed_at=START)


def ready(token: str, card: str = GOOD_CARD, *, real_name: bool = False) -> None:
    """Billing address, a saved card (through the sandbox gateway), optionally real-name."""
    from core.payments import save_card
    from core.real_name import submit_individual

    add_address(account_of(token).id)
    save_card(token, card, "12/30", "123", "Alice Tan")
    if real_name:
        assert submit_individual(token, "Li Lei", "resident_id",
                                 EVEN_RESIDENT_ID).status == "approved"


@pytest.fixture
def buyer(active):
    """An active account with a billing address and a good card: its token."""
    token, _ = active
    ready(token)
    return token


# --- catalogue -----------------------------------------------------------------------------

def test_catalogue_products_regions_and_periods():
    from core import catalogue

    ids = {p.id for p in catalogue.list_products()}
    assert {"ecs", "oss", "rds"} <= ids
    for item in catalogue.list_products():
        assert isinstance(item.hourly_cents, int) and item.hourly_cents > 0
        assert isinstance(item.monthly_cents, int) and item.monthly_cents > 0
    mainland = {r.id for r in catalogue.list_regions() if r.mainland_china}
    elsewhere = {r.id for r in catalogue.list_regions() if not r.mainland_china}
    assert mainland == {"cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen"}
    assert elsewhere == {"ap-southeast-1", "us-west-1", "eu-central-1", "ap-south-1"}
    assert catalogue.REGIONS["ap-southeast-1"].name == "Singapore"
    assert catalogue.PERIODS == (1, 3, 6, 12)
    assert catalogue.subscription_price_cents(4000, 3) == 12000
    assert catalogue.subscription_price_cents(4000, 12) == 40000  # two months free
    assert catalogue.period("6") == 6


@pytest.mark.parametrize("value", [0, 2, 24, "abc", "", None, True, "1.5"])
def test_period_refuses_other_values(value):
    from core import catalogue
    from core.errors import ValidationError

    with pytest.raises(ValidationError) as info:
        catalogue.period(value)
    assert info.value.field == "period"


def test_add_months_keeps_calendar_days_and_clamps():
    from core.products import add_months, months_between

    assert add_months(datetime(2026, 12, 1, 10), 1) == datetime(2027, 1, 1, 10)
    assert add_months(datetime(2026, 12, 1, 10), 12) == datetime(2027, 12, 1, 10)
    assert add_months(datetime(2027, 1, 31, 8), 1) == datetime(2027, 2, 28, 8)
    assert add_months(datetime(2028, 1, 31), 1) == datetime(2028, 2, 29)
    assert add_months(datetime(2027, 1, 31), 3) == datetime(2027, 4, 30)
    start = datetime(2027, 1, 31)
    assert months_between(start, add_months(start, 1)) == 1
    # renewing from the anchor does not drift: Jan 31 → Feb 28 → Mar 31
    assert add_months(start, months_between(start, add_months(start, 1)) + 1) == \
        datetime(2027, 3, 31)


def test_usage_cost_is_per_second_rounded_up_and_bills_add_up():
    from core.products import usage_cost_cents

    t0 = START
    assert usage_cost_cents(8, t0, t0, t0) == 0
    assert usage_cost_cents(8, t0, t0, t0 + timedelta(seconds=1)) == 1
    assert usage_cost_cents(8, t0, t0, t0 + timedelta(minutes=90)) == 12
    assert usage_cost_cents(8, t0, t0, t0 + timedelta(hours=1)) == 8
    cuts = [t0 + timedelta(seconds=s) for s in (0, 7, 1000, 3601, 9999, 86400)]
    parts = sum(usage_cost_cents(8, t0, a, b) for a, b in zip(cuts, cuts[1:], strict=False))
    assert parts == usage_cost_cents(8, t0, t0, cuts[-1])


# --- the gate --------------------------------------------------------------------------------

def _keys(steps) -> list[str]:
    return [s.key for s in steps]


def test_gate_lists_every_missing_step_together(signed_up):
    from core.errors import Refused
    from core.models import Resource
    from core.products import place_order, purchase_gate

    result, _ = signed_up  # unverified, nothing added
    assert _keys(purchase_gate(result.token, "cn-hangzhou")) == [
        "verify", "billing-address", "payment-method", "real-name"]
    assert _keys(purchase_gate(result.token, "us-west-1")) == [
        "verify", "billing-address", "payment-method"]
    with pytest.raises(Refused) as info:
        place_order(result.token, "ecs", "cn-hangzhou", "payg")
    message = info.value.message
    assert message.startswith("Before you can buy in cn-hangzhou:")
    for text in ("verify your account", "add a billing address", "add a payment method",
                 "real-name registration required"):
        assert text in message
    assert _keys(info.value.missing) == ["verify", "billing-address", "payment-method",
                                         "real-name"]
    assert rows(Resource) == 0


@pytest.mark.parametrize("missing", ["verify", "billing-address", "payment-method", "real-name"])
def test_gate_each_missing_step_alone(db, missing):
    from core.accounts import sign_up
    from core.errors import Refused
    from core.models import Account, Bill, Resource
    from core.products import place_order, purchase_gate
    from tests.conftest import STRONG_PASSWORD

    if missing == "verify":
        token = sign_up("SG", "carol@example.com", STRONG_PASSWORD, STRONG_PASSWORD,
                        True).token
        account_id = Account.get(Account.email == "carol@example.com").id
    else:
        token = activate("carol@example.com")
        account_id = account_of(token).id
    if missing != "billing-address":
        add_address(account_id)
    if missing != "payment-method":
        add_method_row(account_id)
    if missing != "real-name":
        approve_real_name_row(account_id)
    steps = purchase_gate(token, "cn-shanghai")
    assert _keys(steps) == [missing]
    with pytest.raises(Refused) as info:
        place_order(token, "ecs", "cn-shanghai", "payg")
    assert _keys(info.value.missing) == [missing]
    assert info.value.message.count(";") == 0
    assert rows(Resource) == 0 and rows(Bill) == 0
    if missing == "real-name":  # outside mainland China nothing is missing
        assert purchase_gate(token, "ap-southeast-1") == []


@pytest.mark.parametrize("status,hint", [("pending", "waiting for review"),
                                         ("rejected", "rejected")])
def test_gate_names_a_pending_or_rejected_registration(active, status, hint):
    from core.models import RealNameRegistration
    from core.products import purchase_gate

    token, _ = active
    account_id = account_of(token).id
    add_address(account_id)
    add_method_row(account_id)
    RealNameRegistration.create(account=account_id, kind="enterprise", status=status,
                                company_name="Acme", credit_code="91350100M000100Y43",
                                legal_rep="Li Lei", submitted_at=START)
    (step,) = purchase_gate(token, "cn-beijing")
    assert step.key == "real-name" and hint in step.text


def test_gate_refuses_unknown_region(active):
    from core.errors import ValidationError
    from core.products import purchase_gate

    token, _ = active
    with pytest.raises(ValidationError) as info:
        purchase_gate(token, "mars-north-1")
    assert info.value.field == "purchase-region"


@pytest.mark.parametrize("args,field", [
    (("vps", "us-west-1", "payg"), "product"),
    (("", "us-west-1", "payg"), "product"),
    (("'; DROP TABLE resource; --", "us-west-1", "payg"), "product"),
    (("ecs", "us-west-9", "payg"), "purchase-region"),
    (("ecs", "us-west-1", "prepaid"), "billing-method"),
    (("ecs", "us-west-1", None), "billing-method"),
    (("ecs", "us-west-1", "subscription", None), "period"),
    (("ecs", "us-west-1", "subscription", 2), "period"),
])
def test_order_field_errors(buyer, args, field):
    from core.errors import ValidationError
    from core.models import Resource
    from core.products import place_order

    with pytest.raises(ValidationError) as info:
        place_order(buyer, *args)
    assert info.value.field == field
    assert rows(Resource) == 0


def test_deletion_pending_account_cannot_buy(buyer):
    from core.errors import Refused
    from core.models import Account
    from core.products import place_order

    Account.update(status="deletion_pending").where(
        Account.id == account_of(buyer).id).execute()
    with pytest.raises(Refused):
        place_order(buyer, "ecs", "us-west-1", "payg")


# --- subscription orders -------------------------------------------------------------------

def test_subscription_is_paid_up_front(buyer):
    from core.models import Bill, LedgerEntry
    from core.products import list_resources, place_order

    view = place_order(buyer, "ecs", "ap-southeast-1", "subscription", "3", auto_renew=True)
    assert view.state == "running" and view.billing_method == "subscription"
    assert view.period_months == 3 and view.auto_renew is True
    assert view.created_at == START and view.period_end == datetime(2027, 3, 1, 10)
    assert view.cost_text.startswith("Ends 2027-03-01")
    (bill,) = Bill.select()
    assert (bill.kind, bill.status, bill.amount_cents) == ("subscription", "paid", 3 * 4000)
    assert bill.resource_id == view.id
    charge = LedgerEntry.get(LedgerEntry.kind == "charge")
    assert charge.bill_id == bill.id and charge.amount_cents == 12000
    assert charge.status == "done"
    assert [r.id for r in list_resources(buyer)] == [view.id]


def test_twelve_months_costs_ten(buyer):
    from core.models import Bill
    from core.products import place_order

    view = place_order(buyer, "rds", "us-west-1", "subscription", 12)
    assert view.period_end == datetime(2027, 12, 1, 10)
    assert Bill.get().amount_cents == 10 * 7500


def test_declined_subscription_creates_nothing(active):
    from core.models import Bill, LedgerEntry, Resource
    from core.payments import PaymentDeclined
    from core.products import place_order

    token, _ = active
    ready(token, LATER_DECLINED_CARD)
    with pytest.raises(PaymentDeclined) as info:
        place_order(token, "ecs", "us-west-1", "subscription", 1)
    assert info.value.message
    assert rows(Resource) == 0 and rows(Bill) == 0
    failed = LedgerEntry.get(LedgerEntry.kind == "charge_failed")
    assert failed.bill_id is None and failed.status == "failed"
    assert not LedgerEntry.select().where(LedgerEntry.kind == "charge").exists()


def test_mainland_subscription_with_real_name(active):
    from core.products import place_order

    token, _ = active
    ready(token, real_name=True)
    view = place_order(token, "oss", "cn-hangzhou", "subscription", 1)
    assert view.region == "cn-hangzhou" and view.region_name == "China (Hangzhou)"


def test_subscription_cannot_be_released_but_auto_renew_toggles(buyer):
    from core.errors import Refused
    from core.products import place_order, release_resource, set_auto_renew

    view = place_order(buyer, "ecs", "us-west-1", "subscription", 1)
    assert view.auto_renew is False and not view.can_release and view.can_set_auto_renew
    with pytest.raises(Refused) as info:
        release_resource(buyer, view.id)
    assert "2027-01-01" in info.value.message
    assert set_auto_renew(buyer, view.id, True).auto_renew is True
    assert set_auto_renew(buyer, str(view.id), False).auto_renew is False


# --- Pay-As-You-Go -------------------------------------------------------------------------

def test_payg_accrues_and_releases(buyer, clock):
    from core.errors import Refused
    from core.models import Bill
    from core.products import get_resource, place_order, release_resource, set_auto_renew

    view = place_order(buyer, "ecs", "us-west-1", "payg", period_months="garbage ignored",
                       auto_renew=True)
    assert view.state == "running" and view.period_end is None and view.auto_renew is False
    assert view.running_cost_cents == 0 and view.can_release
    assert rows(Bill) == 0  # nothing is charged up front
    clock.advance(timedelta(seconds=1))
    assert get_resource(buyer, view.id).running_cost_cents == 1  # a started cent
    clock.advance(timedelta(minutes=90) - timedelta(seconds=1))
    now_view = get_resource(buyer, view.id)
    assert now_view.running_cost_cents == 12 and now_view.cost_text == "0.12 USD so far"
    released = release_resource(buyer, view.id)
    assert released.state == "released" and released.released_at == START + timedelta(minutes=90)
    clock.advance(timedelta(hours=5))
    assert get_resource(buyer, view.id).running_cost_cents == 12  # stops at release
    with pytest.raises(Refused):
        release_resource(buyer, view.id)
    with pytest.raises(Refused):
        set_auto_renew(buyer, view.id, True)


def test_double_release_in_two_sessions_releases_once(buyer, clock):
    from core.errors import Refused
    from core.products import place_order, release_resource

    view = place_order(buyer, "oss", "us-west-1", "payg")
    first = release_resource(buyer, view.id)
    clock.advance(timedelta(minutes=5))
    with pytest.raises(Refused):
        release_resource(buyer, view.id)
    from core.models import Resource

    assert Resource.get_by_id(view.id).released_at == first.released_at


# --- isolation -----------------------------------------------------------------------------

@pytest.mark.parametrize("action", ["get", "release", "auto-renew-on", "auto-renew-off"])
def test_another_accounts_resource_is_not_found(buyer, action):
    from core.errors import NotFound
    from core.products import (
        get_resource,
        list_resources,
        place_order,
        release_resource,
        set_auto_renew,
    )

    mine = place_order(buyer, "ecs", "us-west-1", "payg")
    other = activate("bob@example.com")
    calls = {
        "get": lambda rid: get_resource(other, rid),
        "release": lambda rid: release_resource(other, rid),
        "auto-renew-on": lambda rid: set_auto_renew(other, rid, True),
        "auto-renew-off": lambda rid: set_auto_renew(other, rid, False),
    }
    for rid in (mine.id, str(mine.id), mine.id + 1000, "abc", None, "1; DROP TABLE x"):
        with pytest.raises(NotFound):
            calls[action](rid)
    assert list_resources(other) == []
    assert get_resource(buyer, mine.id).state == "running"  # untouched
