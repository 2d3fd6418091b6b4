"""One page read per section (issue 12): each returns one frozen dataclass holding no Peewee
row, reads in one transaction with a number of queries that does not grow with the rows, and
says what its section shows — the Overview while deletion is pending, with a payment method
and with an expired default card; the products' default region by country; a Billing page
that issues no bill."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from tests.conftest import START
from tests.core.conftest import make_account, rows
from tests.core.sql_trace import traced_sql
from tests.core.test_products import (  # noqa: F401 (long_sessions is an autouse fixture)
    GOOD_CARD,
    LATER_DECLINED_CARD,
    account_of,
    activate,
    add_address,
    approve_real_name_row,
    long_sessions,
    ready,
)

H48 = timedelta(hours=48)


def pages():
    from core.accounts import overview_page
    from core.billing import billing_page
    from core.billing_address import billing_address_form
    from core.products import products_page

    return {"overview": overview_page, "billing-address": billing_address_form,
            "products": products_page, "billing": billing_page}


def payg(token: str, hours: float, *, release: bool = True):
    from core import clock
    from core.products import place_order, release_resource

    view = place_order(token, "ecs", "us-west-1", "payg")
    clock.advance(timedelta(hours=hours))
    return release_resource(token, view.id) if release else view


def rows_inside(value, seen=None) -> list[object]:
    """Every Peewee model instance reachable from `value` (there must be none)."""
    from peewee import Model

    seen = set() if seen is None else seen
    if id(value) in seen:
        return []
    seen.add(id(value))
    if isinstance(value, Model):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts = [getattr(value, f.name) for f in dataclasses.fields(value)]
    elif isinstance(value, (list, tuple, set, frozenset)):
        parts = list(value)
    elif isinstance(value, dict):
        parts = [*value.keys(), *value.values()]
    else:
        return []
    return [row for part in parts for row in rows_inside(part, seen)]


@pytest.fixture
def busy_account(active, clock):
    """An account with something on every page: an address, a card, resources, bills."""
    from core.billing_run import run_billing
    from core.products import place_order

    token, _ = active
    ready(token)
    payg(token, 2)
    place_order(token, "oss", "us-west-1", "subscription", 1)
    clock.advance(H48)
    run_billing()
    payg(token, 1, release=False)
    return token


# --- the shape: one frozen dataclass, no rows -------------------------------------------------

@pytest.mark.parametrize("section", ["overview", "billing-address", "products", "billing"])
def test_each_page_is_one_frozen_dataclass_holding_no_row(busy_account, section):
    page = pages()[section](busy_account)
    assert dataclasses.is_dataclass(page)
    assert type(page).__dataclass_params__.frozen
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.__setattr__(dataclasses.fields(page)[0].name, None)
    assert rows_inside(page) == []


# --- one transaction, a bounded number of queries ----------------------------------------------

@pytest.mark.parametrize("section", ["overview", "billing-address", "products", "billing"])
def test_each_page_reads_in_one_transaction_whatever_the_rows(busy_account, clock, section):
    from core.billing_run import run_billing

    read = pages()[section]
    read(busy_account)  # warm: the session's first use, lazy imports
    with traced_sql() as small:
        read(busy_account)
    for _ in range(4):  # more resources, bills and ledger entries
        payg(busy_account, 1)
    clock.advance(H48)
    run_billing()
    read(busy_account)
    with traced_sql() as large:
        read(busy_account)
    for trace in (small, large):
        assert trace.begins == 1  # one transaction for the page
        assert len(trace.reads(inside=False)) <= 2  # the session and its account, before it
        assert trace.writes == []  # a page only reads
    assert len(large.reads(inside=True)) == len(small.reads(inside=True)) <= 12


# --- Overview ----------------------------------------------------------------------------------

def test_overview_of_a_new_account_lists_every_step(active):
    from core.accounts import overview_page

    page = overview_page(active[0])
    assert [s.key for s in page.next_steps] == ["billing-address", "payment-method", "real-name"]
    assert page.status_label == "Active" and page.real_name_label == "Not registered"
    assert page.note is None and page.owed_cents == 0 and page.default_method is None


def test_overview_with_a_payment_method_does_not_ask_for_one(active):
    from core.accounts import overview_page

    token, _ = active
    ready(token)
    page = overview_page(token)
    keys = [s.key for s in page.next_steps]
    assert "payment-method" not in keys and "billing-address" not in keys
    assert keys == ["real-name"]
    assert page.payment_methods == 1 and page.default_method == "Visa •••• 4242"
    assert page.default_method_expiry == "12/30" and not page.default_method_expired


def test_overview_with_nothing_left_says_so(active):
    from core.accounts import NOTHING_LEFT, overview_page

    token, _ = active
    ready(token)
    approve_real_name_row(account_of(token).id)
    page = overview_page(token)
    assert page.next_steps == () and page.note == NOTHING_LEFT
    assert page.real_name_label == "Approved"


def test_a_pending_review_reads_as_one_status(active):
    from core.accounts import overview_page
    from core.models import RealNameRegistration

    token, _ = active
    RealNameRegistration.create(account=account_of(token).id, kind="enterprise",
                                status="pending", company_name="Tan Trading",
                                submitted_at=START)
    page = overview_page(token)
    assert page.real_name_label == "Pending review"
    (step,) = [s for s in page.next_steps if s.key == "real-name"]
    assert step.detail == "Waiting for review (about 3 business days)."
    assert "Submitted" not in step.detail


def test_overview_while_deletion_is_pending_says_what_is_left_to_pay(active, clock):
    from core.accounts import NOTHING_LEFT, overview_page
    from core.deletion import request_deletion
    from tests.conftest import STRONG_PASSWORD

    token, _ = active
    ready(token)
    view = payg(token, 2)  # 16 cents, billed 48 hours after the release
    assert request_deletion(token, STRONG_PASSWORD, True).status == "deletion_pending"
    page = overview_page(token)
    assert page.deletion_pending and page.status_label == "Deletion pending"
    assert page.note != NOTHING_LEFT and "you can buy" not in page.note
    assert page.note.startswith("Your account is being deleted")
    due = view.released_at + H48
    assert f"0.16 USD of Pay-As-You-Go usage not billed yet, billed by {due:%Y-%m-%d %H:%M} " \
           "UTC" in page.note
    assert page.unbilled_cents == 16 and page.owed_cents == 16 and page.owed_text == "0.16 USD"
    # nothing to buy: no step towards buying (real-name, methods) while the account goes
    assert page.next_steps == ()


def test_a_pending_deletion_waiting_for_a_declined_bill_asks_to_pay_it(active, clock):
    from core.accounts import overview_page
    from core.billing_run import run_billing
    from core.deletion import request_deletion
    from tests.conftest import STRONG_PASSWORD

    token, _ = active
    ready(token, LATER_DECLINED_CARD)
    view = payg(token, 1)
    request_deletion(token, STRONG_PASSWORD, True)
    clock.set_now(view.released_at + H48)
    run_billing()  # the bill is issued; its charge is declined
    page = overview_page(token)
    assert [(s.key, s.title) for s in page.next_steps] == [("billing", "Pay outstanding bills")]
    assert "0.08 USD in 1 outstanding bill (pay it in Billing)" in page.note
    assert page.outstanding_cents == 8 and page.unbilled_cents == 0


def test_an_expired_default_card_is_a_next_step(active, clock):
    from core.accounts import overview_page
    from core.payments import save_card

    token, _ = active
    add_address(account_of(token).id)
    save_card(token, GOOD_CARD, "12/26", "123", "Alice Tan")  # valid through 2026-12-31
    assert not overview_page(token).default_method_expires_soon  # 30 days and more to go
    clock.set_now(datetime(2026, 12, 5, 9, 0))
    page = overview_page(token)
    assert not page.default_method_expired and page.default_method_expires_soon
    assert "payment-method" not in [s.key for s in page.next_steps]
    clock.set_now(datetime(2027, 1, 2, 9, 0))
    page = overview_page(token)
    assert page.default_method_expired and not page.default_method_expires_soon
    (step,) = [s for s in page.next_steps if s.key == "payment-method"]
    assert step.detail == ("Your default card Visa •••• 4242 expired 12/26: add a new card or "
                           "choose another default.")


# --- Billing address ---------------------------------------------------------------------------

def test_billing_address_form_before_the_first_save(db):
    from core.billing_address import billing_address_form
    from core.verify_account import confirm_code, send_code
    from tests.conftest import latest_code

    token = make_account("priya@example.in", country="IN").token
    send_code(token, "signup", "email")
    confirm_code(token, "signup", "email", latest_code("priya@example.in"))
    form = billing_address_form(token)
    assert form.address is None and form.account_type == "individual"
    assert (form.full_name, form.city, form.postal_code) == ("", "", "")
    assert form.country == "IN" and form.phone_region == "IN"
    assert "IN-MH" in dict(form.regions)
    assert form.postal_code_example == "110001"
    assert form.second_channel == "phone" and form.second_channel_state is None
    assert form.phone_example is not None and form.phone_example.startswith("+91 ")
    assert not form.has_payment_method
    assert ("IN", "India") in form.countries


def test_billing_address_form_of_a_phone_verified_account_asks_for_the_email(db):
    from core.billing_address import billing_address_form
    from core.verify_account import confirm_code, send_code
    from tests.conftest import latest_code

    token = make_account("mei@example.com").token
    send_code(token, "signup", "sms", "+65 8123 4567")
    confirm_code(token, "signup", "sms", latest_code("+6581234567"), "+65 8123 4567")
    form = billing_address_form(token)
    assert form.second_channel == "email"
    assert form.second_channel_state is not None
    assert form.second_channel_state.channel == "email"
    assert form.second_channel_state.destination_masked == "m•i@example.com"


def test_billing_address_form_after_saving(active):
    from core.billing_address import billing_address_form

    token, _ = active
    ready(token)
    form = billing_address_form(token)
    assert form.address is not None and form.second_channel is None
    assert (form.full_name, form.country, form.postal_code) == ("Alice Tan", "SG", "048616")
    assert form.has_payment_method  # the section does not say "add a payment method" next


# --- Products ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("country", "region"), [
    ("IN", "ap-south-1"), ("CN", "cn-hangzhou"), ("SG", "ap-southeast-1"),
    ("HK", "ap-southeast-1"), ("JP", "ap-southeast-1"), ("DE", "eu-central-1"),
    ("NG", "eu-central-1"), ("US", "us-west-1"), ("BR", "us-west-1"), ("PK", "ap-south-1"),
])
def test_the_default_region_is_the_nearest_for_the_country(country, region):
    from core.catalogue import REGIONS, default_region

    assert default_region(country) == region
    assert REGIONS[region].mainland_china == (country == "CN")


def test_an_indian_account_orders_in_mumbai_by_default(db):
    from core.products import products_page

    token = make_account("priya@example.in", country="IN").token
    assert products_page(token).default_region == "ap-south-1"


def test_products_page_names_the_gate_as_purchase_gate_does(active):
    from core.products import products_page, purchase_gate

    token, _ = active
    page = products_page(token)
    assert [s.key for s in page.missing_steps] == ["billing-address", "payment-method"]
    assert page.real_name_step is not None and page.real_name_step.key == "real-name"
    for region in ("cn-hangzhou", "ap-south-1"):
        assert list(page.missing_for(region)) == purchase_gate(token, region)
    assert page.periods == (1, 3, 6, 12)
    assert [p.id for p in page.products] == ["ecs", "oss", "rds"]
    assert page.resources == () and not page.deletion_pending


def test_resources_say_what_is_billed(active, clock):
    from core.billing_run import run_billing
    from core.products import products_page

    token, _ = active
    ready(token)
    released = payg(token, 2)
    running = payg(token, 1, release=False)
    views = {v.id: v for v in products_page(token).resources}
    assert views[running.id].cost_text == "0.08 USD so far"
    due = released.released_at + H48
    assert views[released.id].cost_text == f"0.16 USD, billed {due:%Y-%m-%d %H:%M} UTC"
    assert views[released.id].state_label == "Released"
    assert views[released.id].renewal_label == "—"
    clock.set_now(due)
    run_billing()
    views = {v.id: v for v in products_page(token).resources}
    assert views[released.id].cost_text == "billed 0.16 USD"
    assert "so far" not in views[released.id].period_or_cost_text


# --- Billing -----------------------------------------------------------------------------------

def test_the_billing_page_issues_no_bill(active, clock):
    from core.billing import billing_page
    from core.billing_run import run_billing
    from core.models import Bill

    token, _ = active
    ready(token)
    view = payg(token, 2)
    clock.set_now(view.released_at + H48 + timedelta(minutes=5))  # the bill is due
    page = billing_page(token)
    assert rows(Bill) == 0 and page.bills == ()  # reading billed nothing
    (usage,) = page.pending_usage
    assert usage.due and page.usage_due
    assert usage.text.endswith("0.16 USD, due: billed by the next billing run")
    assert page.outstanding_line == "Outstanding: 0.00 USD"
    run_billing()
    page = billing_page(token)
    assert rows(Bill) == 1 and page.pending_usage == () and not page.usage_due
    (bill,) = page.paid
    assert bill.status_label == f"Paid {bill.paid_at:%Y-%m-%d}" and bill.amount_text == "0.16 USD"
    assert [e.status_label for e in page.ledger] == ["Done", "Done", "Done"]
    assert [e.label for e in page.ledger] == ["Charge", "Hold released",
                                              "Pre-authorization hold"]


def test_usage_not_due_yet_says_when_it_is_billed(active, clock):
    from core.billing import billing_page

    token, _ = active
    ready(token)
    view = payg(token, 2)
    running = payg(token, 1, release=False)
    texts = {u.resource_id: u.text for u in billing_page(token).pending_usage}
    due = view.released_at + H48
    assert texts[view.id].endswith(f"0.16 USD, billed {due:%Y-%m-%d %H:%M} UTC")
    assert texts[running.id].endswith("0.08 USD so far")


def test_declined_charges_read_as_failed_and_the_total_counts_bills(active, clock):
    from core.billing import billing_page
    from core.billing_run import run_billing

    token, _ = active
    ready(token, LATER_DECLINED_CARD)
    view = payg(token, 1)
    clock.set_now(view.released_at + H48)
    run_billing()
    page = billing_page(token)
    assert page.outstanding_line == "Outstanding: 0.08 USD (1 bill)"
    assert page.outstanding[0].status_label == "Outstanding"
    declined = [e for e in page.ledger if e.kind == "charge_failed"]
    assert declined and declined[0].status_label == "Failed"
