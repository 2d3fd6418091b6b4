"""F8 Billing: usage billed 48 hours after it ends, renewals and expiries, idempotent and
concurrent runs, declined charges, paying outstanding bills, `cloudacct billing run`."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from tests.conftest import START, stepped_up
from tests.core.conftest import rows
from tests.core.test_products import (
    GOOD_CARD,
    LATER_DECLINED_CARD,
    account_of,
    activate,
    ready,
)

H48 = timedelta(hours=48)
SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def long_sessions(cloudacct_home, monkeypatch):
    """These tests move the clock by days and months: sessions must outlive that."""
    from core.config import reset_settings

    monkeypatch.setenv("CLOUDACCT_SESSION_IDLE_MINUTES", str(10 * 366 * 24 * 60))
    monkeypatch.setenv("CLOUDACCT_SESSION_ABSOLUTE_HOURS", str(10 * 366 * 24))
    reset_settings()


@pytest.fixture
def buyer(active):
    token, _ = active
    ready(token)
    return token


@pytest.fixture
def poor_buyer(active):
    """A card that saves, but every later charge is declined."""
    token, _ = active
    ready(token, LATER_DECLINED_CARD)
    return token


def payg(token, hours: float, product: str = "ecs"):
    """A Pay-As-You-Go resource run for `hours` from now, then released; returns its view."""
    from core import clock
    from core.products import place_order, release_resource

    view = place_order(token, product, "us-west-1", "payg")
    clock.advance(timedelta(hours=hours))
    return release_resource(token, view.id)


# --- money --------------------------------------------------------------------------------------

@pytest.mark.parametrize("cents,text", [(0, "0.00 USD"), (1, "0.01 USD"), (100, "1.00 USD"),
                                        (123456, "1234.56 USD"), (-250, "-2.50 USD")])
def test_format_usd(cents, text):
    from core.money import format_usd

    assert format_usd(cents) == text


def test_format_usd_refuses_floats():
    from core.money import format_usd

    with pytest.raises(TypeError):
        format_usd(1.5)


# --- Pay-As-You-Go usage ------------------------------------------------------------------------

def test_usage_is_billed_exactly_48_hours_after_release(buyer, clock):
    from core.billing import list_bills
    from core.billing_run import run_billing
    from core.models import Bill, LedgerEntry, Resource

    view = payg(buyer, 2)  # ECS 8 cents an hour → 16 cents
    released = view.released_at
    clock.set_now(released + H48 - SECOND)
    assert run_billing().events == ()
    assert rows(Bill) == 0
    clock.set_now(released + H48)
    report = run_billing()
    (bill,) = Bill.select()
    assert (bill.kind, bill.amount_cents, bill.status) == ("usage", 16, "paid")
    assert (bill.period_start, bill.period_end) == (START, released)
    assert bill.issued_at == released + H48 and bill.paid_at == released + H48
    assert report.bills_issued == 1 and report.billed_cents == 16 and report.outstanding == 0
    assert "0.16 USD" in report.lines()[0] and "paid" in report.lines()[0]
    charge = LedgerEntry.get(LedgerEntry.kind == "charge")
    assert charge.bill_id == bill.id and charge.amount_cents == 16
    assert Resource.get_by_id(view.id).billed_until == released
    assert [b.id for b in list_bills(buyer)] == [bill.id]


def test_billing_twice_bills_once(buyer, clock):
    from core.billing_run import run_billing
    from core.models import Bill, LedgerEntry

    view = payg(buyer, 3)
    clock.set_now(view.released_at + H48)
    first = run_billing()
    second = run_billing()
    clock.advance(timedelta(days=40))
    third = run_billing()
    assert first.bills_issued == 1 and second.events == () and third.events == ()
    assert rows(Bill) == 1
    assert LedgerEntry.select().where(LedgerEntry.kind == "charge").count() == 1


def test_concurrent_runs_do_not_double_bill(buyer, clock):
    from core.billing_run import run_billing
    from core.db import database
    from core.models import Bill, LedgerEntry

    for hours in (1, 2, 3):
        payg(buyer, hours)
    clock.advance(H48)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait()
            run_billing()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            database.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert rows(Bill) == 3
    assert LedgerEntry.select().where(LedgerEntry.kind == "charge").count() == 3
    assert all(b.status == "paid" for b in Bill.select())


def test_running_usage_is_billed_per_calendar_month(buyer, clock):
    from core.billing import pending_usage
    from core.billing_run import run_billing
    from core.models import Bill
    from core.products import get_resource, place_order, release_resource

    view = place_order(buyer, "ecs", "us-west-1", "payg")  # 2026-12-01 10:00
    month_end = datetime(2027, 1, 1)
    clock.set_now(month_end + H48 - SECOND)
    assert run_billing().events == ()
    (pending,) = pending_usage(account_of(buyer).id)
    assert pending.running and pending.bill_due_at is None
    clock.set_now(month_end + H48)
    run_billing()
    (december,) = Bill.select()
    seconds = int((month_end - START).total_seconds())
    assert december.period_start == START and december.period_end == month_end
    assert december.amount_cents == -(-8 * seconds // 3600)
    # release mid-January; the rest is billed 48 hours after the release
    released = release_resource(buyer, view.id).released_at
    assert run_billing().events == ()
    clock.set_now(released + H48)
    run_billing()
    january = Bill.select().order_by(Bill.id.desc()).first()
    assert (january.period_start, january.period_end) == (month_end, released)
    total = sum(b.amount_cents for b in Bill.select())
    assert total == get_resource(buyer, view.id).running_cost_cents
    assert get_resource(buyer, view.id).unbilled_cents == 0
    assert pending_usage(account_of(buyer).id) == []


def test_released_within_the_second_creates_no_bill(buyer, clock):
    from core.billing_run import run_billing
    from core.models import Bill, Resource
    from core.products import place_order, release_resource

    view = place_order(buyer, "oss", "us-west-1", "payg")
    release_resource(buyer, view.id)  # zero seconds of use
    clock.advance(H48)
    run_billing()
    assert rows(Bill) == 0
    assert Resource.get_by_id(view.id).billed_until == START


def test_pending_usage_for_deletion(buyer, clock):
    from core.billing import pending_usage

    view = payg(buyer, 1)
    (item,) = pending_usage(account_of(buyer).id)
    assert (item.resource_id, item.amount_cents, item.running) == (view.id, 8, False)
    assert item.bill_due_at == view.released_at + H48


# --- declined charges, paying outstanding bills -------------------------------------------------

def test_declined_usage_bill_stays_outstanding_and_is_paid_later(poor_buyer, clock):
    from core.billing import BillingPage, PaymentFailed, billing_page
    from core.billing_run import pay_outstanding, run_billing
    from core.models import Bill, LedgerEntry
    from core.payments import list_payment_methods, save_card, set_default_method

    view = payg(poor_buyer, 1)
    clock.set_now(view.released_at + H48)
    report = run_billing()
    (bill,) = Bill.select()
    assert bill.status == "outstanding" and report.outstanding == 1
    assert "outstanding (charge failed:" in report.lines()[0]
    assert LedgerEntry.get(LedgerEntry.kind == "charge_failed").bill_id == bill.id
    # a later run does not charge a declined bill again (the person pays it)
    clock.advance(timedelta(hours=1))
    assert run_billing().events == ()
    summary: BillingPage = billing_page(poor_buyer)
    assert summary.outstanding_cents == 8 and summary.outstanding_text == "0.08 USD"
    assert [b.id for b in summary.outstanding] == [bill.id] and summary.paid == ()
    kinds = {entry.kind for entry in summary.ledger}
    assert {"hold", "hold_release", "charge_failed"} <= kinds
    with pytest.raises(PaymentFailed) as info:
        pay_outstanding(poor_buyer)
    assert info.value.reason and "0.08 USD is still outstanding" in info.value.message
    assert Bill.get_by_id(bill.id).status == "outstanding"
    # a working card as the default pays it
    save_card(stepped_up(poor_buyer), GOOD_CARD, "12/30", "123", "Alice Tan")
    good = next(m for m in list_payment_methods(poor_buyer) if m.last4 == "4242")
    set_default_method(poor_buyer, good.id)
    result = pay_outstanding(poor_buyer)
    assert [b.id for b in result.paid] == [bill.id] and result.total_cents == 8
    assert Bill.get_by_id(bill.id).status == "paid"
    assert billing_page(poor_buyer).outstanding_cents == 0
    assert pay_outstanding(poor_buyer).paid == ()  # nothing left: nothing charged
    keys = [e.idempotency_key for e in LedgerEntry.select().where(LedgerEntry.bill == bill.id)
            .order_by(LedgerEntry.id)]
    assert keys == [f"bill-{bill.id}-1", f"bill-{bill.id}-2", f"bill-{bill.id}-3"]


def test_a_bill_left_uncharged_by_a_crash_is_charged_by_the_next_run(buyer, clock):
    from core.billing_run import run_billing
    from core.models import Bill

    account_id = account_of(buyer).id
    bill = Bill.create(account=account_id, kind="usage", description="crash test",
                       amount_cents=42, issued_at=START, status="outstanding")
    clock.advance(timedelta(minutes=1))
    report = run_billing()
    assert [e.kind for e in report.events] == ["charge_retry"]
    assert Bill.get_by_id(bill.id).status == "paid"
    assert run_billing().events == ()


def test_other_accounts_bills_are_not_shown(buyer, clock):
    from core.billing import billing_page, list_bills
    from core.billing_run import run_billing

    view = payg(buyer, 1)
    clock.set_now(view.released_at + H48)
    run_billing()
    other = activate("bob@example.com")
    assert list_bills(other) == []
    summary = billing_page(other)
    assert summary.outstanding_cents == 0 and summary.paid == () and summary.ledger == ()


# --- subscriptions ------------------------------------------------------------------------------

def test_subscription_renews_at_period_end(buyer, clock):
    from core.billing_run import run_billing
    from core.models import Bill, Resource
    from core.products import place_order

    view = place_order(buyer, "ecs", "us-west-1", "subscription", 1, auto_renew=True)
    end = view.period_end
    clock.set_now(end - SECOND)
    assert run_billing().events == ()
    clock.set_now(end)
    report = run_billing()
    assert [e.kind for e in report.events] == ["renewal"]
    renewal = Bill.get(Bill.kind == "renewal")
    assert (renewal.status, renewal.amount_cents) == ("paid", 4000)
    assert (renewal.period_start, renewal.period_end) == (end, datetime(2027, 2, 1, 10))
    row = Resource.get_by_id(view.id)
    assert row.state == "running" and row.period_end == datetime(2027, 2, 1, 10)
    assert run_billing().events == ()  # idempotent
    assert Bill.select().where(Bill.kind == "renewal").count() == 1


def test_missed_periods_are_renewed_one_by_one(buyer, clock):
    from core.billing_run import run_billing
    from core.models import Bill, Resource
    from core.products import place_order

    view = place_order(buyer, "oss", "us-west-1", "subscription", 1, auto_renew=True)
    clock.set_now(datetime(2027, 3, 15))
    report = run_billing()
    assert [e.kind for e in report.events] == ["renewal"] * 3
    assert Resource.get_by_id(view.id).period_end == datetime(2027, 4, 1, 10)
    assert Bill.select().where(Bill.kind == "renewal").count() == 3


def test_subscription_without_auto_renew_expires_and_is_released(buyer, clock):
    from core.billing_run import run_billing
    from core.models import Bill
    from core.products import get_resource, place_order, set_auto_renew

    view = place_order(buyer, "rds", "us-west-1", "subscription", 3, auto_renew=True)
    set_auto_renew(buyer, view.id, False)
    clock.set_now(view.period_end - SECOND)
    run_billing()
    assert get_resource(buyer, view.id).state == "running"
    clock.set_now(view.period_end + timedelta(hours=5))
    report = run_billing()
    assert [e.kind for e in report.events] == ["expiry"]
    assert "expired and released" in report.lines()[0]
    after = get_resource(buyer, view.id)
    assert after.state == "expired" and after.released_at == view.period_end
    assert not after.can_set_auto_renew and after.cost_text.startswith("Ended")
    assert rows(Bill) == 1  # only the purchase
    assert run_billing().events == ()


def test_declined_renewal_suspends_until_paid(active, clock):
    from core.billing_run import pay_outstanding, run_billing
    from core.models import Bill
    from core.payments import list_payment_methods, save_card, set_default_method
    from core.products import get_resource, place_order

    token, _ = active
    ready(token)
    view = place_order(token, "ecs", "us-west-1", "subscription", 1, auto_renew=True)
    # the good card stays, but the default becomes one whose charges are declined
    save_card(token, LATER_DECLINED_CARD, "12/30", "123", "Alice Tan")
    bad = next(m for m in list_payment_methods(token) if m.last4 == "0341")
    set_default_method(token, bad.id)
    clock.set_now(view.period_end)
    report = run_billing()
    (event,) = report.events
    assert event.kind == "renewal" and event.charged is False
    assert "suspended until paid" in event.text
    renewal = Bill.get(Bill.kind == "renewal")
    assert renewal.status == "outstanding"
    assert get_resource(token, view.id).state == "suspended"
    good = next(m for m in list_payment_methods(token) if m.last4 == "4242")
    set_default_method(token, good.id)
    clock.advance(timedelta(days=2))
    pay_outstanding(token)
    assert Bill.get_by_id(renewal.id).status == "paid"
    assert get_resource(token, view.id).state == "running"


def test_unpaid_suspended_subscription_expires_at_the_next_end(poor_buyer, clock):
    from core.billing_run import run_billing
    from core.models import Bill, LedgerEntry, Resource

    # bought while a good card was the default, then only the declining card remains default
    from core.payments import list_payment_methods, save_card, set_default_method
    from core.products import place_order

    save_card(poor_buyer, GOOD_CARD, "12/30", "123", "Alice Tan")
    good = next(m for m in list_payment_methods(poor_buyer) if m.last4 == "4242")
    bad = next(m for m in list_payment_methods(poor_buyer) if m.last4 == "0341")
    set_default_method(poor_buyer, good.id)
    view = place_order(poor_buyer, "ecs", "us-west-1", "subscription", 1, auto_renew=True)
    set_default_method(poor_buyer, bad.id)
    clock.set_now(datetime(2027, 2, 1, 10))  # two period ends at once
    report = run_billing()
    assert [e.kind for e in report.events] == ["renewal", "expiry"]
    row = Resource.get_by_id(view.id)
    assert row.state == "expired" and row.released_at == datetime(2027, 2, 1, 10)
    assert Bill.get(Bill.kind == "renewal").status == "outstanding"
    assert LedgerEntry.select().where(LedgerEntry.kind == "charge_failed").count() == 1


# --- the command line ---------------------------------------------------------------------------

def test_billing_run_cli(buyer, clock, capsys, monkeypatch):
    from core.models import Bill
    from tui.cli import main

    view = payg(buyer, 2)
    # the command runs at CLOUDACCT_NOW (the test clock's override is lifted)
    clock.set_now(None)
    monkeypatch.setenv("CLOUDACCT_NOW", "2026-12-03T11:59:59Z")
    assert main(["billing", "run"]) == 0
    out = capsys.readouterr().out
    assert "0 bills issued" in out and rows(Bill) == 0
    monkeypatch.setenv("CLOUDACCT_NOW", "2026-12-03T12:00:00Z")
    assert view.released_at + H48 == datetime(2026, 12, 3, 12)
    assert main(["billing", "run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("bill #") and "alice@example.com" in out[0]
    assert "0.16 USD" in out[0]
    assert out[-1].startswith("Billing run at 2026-12-03T12:00:00Z: 1 bill issued")
    assert main(["billing", "run"]) == 0
    assert "0 bills issued" in capsys.readouterr().out
    assert rows(Bill) == 1


def test_billing_cli_bad_usage(db):
    from tui.cli import main

    assert main(["billing"]) == 2
    with pytest.raises(SystemExit) as info:
        main(["billing", "walk"])
    assert info.value.code == 2


def test_the_run_completes_pending_deletions_through_deletion_itself(db):
    """core.billing no longer reaches into deletion: the run (core.billing_run) calls it."""
    import core.billing
    from core.billing_run import run_billing

    assert not hasattr(core.billing, "complete_pending_deletions")
    assert not hasattr(core.billing, "run_billing")
    assert run_billing().events == ()  # no account is deletion pending
