"""The six billing bugs left open by issue 14, each with the test that showed it:

1. an erasure refused at its locked re-check left a live account without its payment methods
   (the tokens were revoked before the re-check);
2. a declined renewal, retried, did not suspend the subscription;
3. a bill without a payment method was retried and reported on every run, and a run's
   retries read every outstanding bill, declined ones too, then the ledger;
4. on SQLite two runs could both report the same crash-left bill;
5. completing a deletion read every live account to ask whether an address was used;
6. released, billed resources said "… USD so far".
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest

from tests.conftest import START
from tests.core.test_billing_runs import statements
from tests.core.test_documents import stepped_up
from tests.core.test_products import (  # noqa: F401 (long_sessions is an autouse fixture)
    GOOD_CARD,
    LATER_DECLINED_CARD,
    account_of,
    activate,
    long_sessions,
    ready,
)

H48 = timedelta(hours=48)
LEASE_OVER = timedelta(hours=1)


def payg(token: str, hours: float):
    from core import clock
    from core.products import place_order, release_resource

    view = place_order(token, "ecs", "us-west-1", "payg")
    clock.advance(timedelta(hours=hours))
    return release_resource(token, view.id)


def live_methods(account_id: int) -> int:
    from core.models import PaymentMethod

    return PaymentMethod.select().where(PaymentMethod.account == account_id,
                                        PaymentMethod.removed_at.is_null()).count()


@pytest.fixture
def buyer(active):
    token, _ = active
    ready(token)
    return token


# --- 1. the erasure's locked re-check comes before anything is revoked ----------------------------

def test_an_erasure_refused_at_its_locked_recheck_keeps_the_payment_methods(buyer, clock,
                                                                             monkeypatch):
    """A bill arrives between the erasure's first check and its locked one (another machine's
    run issued it): the erasure is refused and the account keeps its card, live at the
    gateway too."""
    from core import deletion
    from core.deletion import DeletionBlocked, erase_account
    from core.gateway import payment_gateway
    from core.models import Bill, PaymentMethod

    account_id = account_of(buyer).id
    (card,) = PaymentMethod.select().where(PaymentMethod.account == account_id)
    real_lock = deletion._lock_resources

    def a_bill_arrives(locked_account: int) -> None:
        Bill.create(account=locked_account, kind="usage", description="usage billed meanwhile",
                    amount_cents=99, issued_at=clock.now(), status="outstanding")
        real_lock(locked_account)

    monkeypatch.setattr(deletion, "_lock_resources", a_bill_arrives)
    with pytest.raises(DeletionBlocked) as refused:
        erase_account(account_id)
    assert [b.kind for b in refused.value.blockers] == ["outstanding_bill"]
    assert live_methods(account_id) == 1
    assert PaymentMethod.get_by_id(card.id).gateway_token == card.gateway_token
    (token_row,) = payment_gateway()._rows("SELECT revoked_at FROM tokens WHERE token = ?",
                                           (card.gateway_token,))
    assert token_row["revoked_at"] is None
    from core.models import TokenRevocation

    assert TokenRevocation.select().count() == 0  # nothing written down to revoke either


def test_tokens_an_erasure_could_not_revoke_are_revoked_by_reconciliation(buyer, monkeypatch):
    """The gateway is down when the erasure commits: the account is erased all the same, its
    token written down, and reconciliation revokes it once the gateway answers."""
    from core.deletion import erase_account
    from core.gateway import payment_gateway
    from core.gateway.base import GatewayDecline
    from core.models import Account, PaymentMethod, TokenRevocation
    from core.reconciliation import reconcile

    account_id = account_of(buyer).id
    (card,) = PaymentMethod.select().where(PaymentMethod.account == account_id)
    gateway = payment_gateway()
    real_revoke = type(gateway).revoke

    def unreachable(self, token):
        raise GatewayDecline("The payment gateway could not be reached.", "unavailable",
                             retryable=True)

    monkeypatch.setattr(type(gateway), "revoke", unreachable)
    report = erase_account(account_id)
    assert report.revocations_left == 1 and report.methods_revoked == 1
    assert Account.get_by_id(account_id).status == "deleted"
    assert [r.gateway_token for r in TokenRevocation.select()] == [card.gateway_token]
    monkeypatch.setattr(type(gateway), "revoke", real_revoke)
    fixes = reconcile(older_than=timedelta(0))
    assert "token_revoked" in [f.kind for f in fixes.fixes]
    assert TokenRevocation.select().count() == 0
    (token_row,) = gateway._rows("SELECT revoked_at FROM tokens WHERE token = ?",
                                 (card.gateway_token,))
    assert token_row["revoked_at"] is not None


# --- 2. a declined renewal suspends, whoever retried it -----------------------------------------

def _renewal_left_uncharged(token: str, clock, monkeypatch):
    """A subscription whose renewal was issued by a run that stopped before charging it (a
    crash), while the default card is one that declines."""
    from core import billing
    from core.billing_run import run_billing
    from core.models import Bill
    from core.payments import list_payment_methods, save_card, set_default_method
    from core.products import place_order

    view = place_order(token, "ecs", "us-west-1", "subscription", 1, auto_renew=True)
    save_card(token, LATER_DECLINED_CARD, "12/30", "123", "Alice Tan")
    bad = next(m for m in list_payment_methods(token) if m.last4 == "0341")
    set_default_method(token, bad.id)
    clock.set_now(view.period_end)

    def crash(bill):
        raise KeyboardInterrupt("the run was killed before charging")

    with monkeypatch.context() as patch:
        patch.setattr(billing, "_charge_issued", crash)
        with pytest.raises(KeyboardInterrupt):
            run_billing()
    renewal = Bill.get(Bill.kind == "renewal")
    assert renewal.status == "outstanding"
    return view, renewal


def test_a_renewal_a_run_retries_and_is_declined_suspends_the_subscription(active, clock,
                                                                           monkeypatch):
    from core.billing_run import run_billing
    from core.products import get_resource

    token, _ = active
    ready(token)
    view, renewal = _renewal_left_uncharged(token, clock, monkeypatch)
    assert get_resource(token, view.id).state == "running"  # not charged yet
    clock.advance(LEASE_OVER)
    (event,) = run_billing().events
    assert (event.kind, event.bill_id, event.charged) == ("charge_retry", renewal.id, False)
    assert "suspended until paid" in event.text
    assert get_resource(token, view.id).state == "suspended"


def test_a_renewal_the_person_pays_with_a_declining_card_suspends_it(active, clock, monkeypatch):
    from core.billing import PaymentFailed
    from core.billing_run import pay_outstanding
    from core.products import get_resource

    token, _ = active
    ready(token)
    view, _ = _renewal_left_uncharged(token, clock, monkeypatch)
    with pytest.raises(PaymentFailed):
        pay_outstanding(token)
    assert get_resource(token, view.id).state == "suspended"


def test_a_renewal_declined_at_issue_and_again_when_paid_stays_suspended(active, clock):
    """What happened before, and still does: declined when issued, suspended; declined again
    when the person pays, still suspended; expired at the end of the period it was for."""
    from core.billing import PaymentFailed
    from core.billing_run import pay_outstanding, run_billing
    from core.payments import list_payment_methods, save_card, set_default_method
    from core.products import get_resource, place_order

    token, _ = active
    ready(token)
    view = place_order(token, "ecs", "us-west-1", "subscription", 1, auto_renew=True)
    save_card(token, LATER_DECLINED_CARD, "12/30", "123", "Alice Tan")
    set_default_method(token, next(m for m in list_payment_methods(token)
                                   if m.last4 == "0341").id)
    clock.set_now(view.period_end)
    assert [e.charged for e in run_billing().events] == [False]
    assert get_resource(token, view.id).state == "suspended"
    with pytest.raises(PaymentFailed):
        pay_outstanding(token)
    assert get_resource(token, view.id).state == "suspended"
    clock.advance(timedelta(days=40))
    assert [e.kind for e in run_billing().events] == ["expiry"]
    assert get_resource(token, view.id).state == "expired"


# --- 3. declined and method-less bills wait for the person; retries read only what is due ----

def test_a_bill_without_a_payment_method_is_reported_once(active, clock):
    from core.billing_run import pay_outstanding, run_billing
    from core.models import Bill
    from core.payments import list_payment_methods, remove_method, save_card
    from tests.conftest import STRONG_PASSWORD

    token, _ = active
    ready(token)
    view = payg(token, 2)
    (card,) = list_payment_methods(token)
    remove_method(token, card.id, STRONG_PASSWORD)  # nothing runs and nothing is unpaid yet
    clock.set_now(view.released_at + H48)
    (event,) = run_billing().events
    assert event.kind == "bill" and event.charged is False
    assert "no payment method" in event.text
    for _ in range(3):
        clock.advance(timedelta(hours=2))
        assert run_billing().events == ()  # not retried, not reported again
    assert Bill.get_by_id(event.bill_id).status == "outstanding"
    save_card(stepped_up(token), GOOD_CARD, "12/30", "123", "Alice Tan")
    assert [b.id for b in pay_outstanding(token).paid] == [event.bill_id]


def test_a_runs_retries_read_only_the_bills_due_through_their_index(active, clock):
    """Declined bills (many) and a bill a crash left uncharged: the run's retry query finds
    only the latter, reads the bills through the partial index of bills due, and never asks
    the ledger."""
    from core.billing import bills_due_for_a_retry
    from core.billing_run import run_billing
    from core.models import Bill
    from tests.core.test_billing_runs import table_scans

    token, _ = active
    ready(token, LATER_DECLINED_CARD)
    for hours in (1, 2, 3, 4):
        payg(token, hours)
    clock.advance(H48)
    assert [e.charged for e in run_billing().events] == [False] * 4
    crashed = Bill.create(account=account_of(token).id, kind="usage", description="cut short",
                          amount_cents=7, issued_at=clock.now(), status="outstanding")
    clock.advance(timedelta(minutes=1))
    with statements() as seen:
        due = bills_due_for_a_retry(clock.now())
    assert due == [crashed.id]
    sql = [(q, p) for q, p in seen if q.lstrip().upper().startswith("SELECT")
           and "pg_" not in q]
    assert len(sql) == 1 and "ledger_entry" not in sql[0][0]
    assert table_scans(*sql[0]) == []
    plan = _plan(*sql[0])
    assert "bill_charge_due" in plan, plan


def _plan(sql: str, params: tuple) -> str:
    from core.db import database, is_sqlite

    if is_sqlite():
        return "\n".join(row[3] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql,
                                                                params))
    database.execute_sql("SET enable_seqscan = off")
    try:
        return "\n".join(row[0] for row in database.execute_sql("EXPLAIN " + sql, params))
    finally:
        database.execute_sql("SET enable_seqscan = on")


# --- 4. two runs, one crash-left bill: one charges it and one reports it ----------------------

def test_two_runs_at_once_report_a_crash_left_bill_once(buyer, clock, monkeypatch):
    """While one run is charging a bill a crash left uncharged (its call at the gateway), a
    second run starts on another connection: it leaves the bill alone, on SQLite too."""
    from core.billing_run import run_billing
    from core.db import database
    from core.gateway import payment_gateway
    from core.models import Bill, LedgerEntry

    bill = Bill.create(account=account_of(buyer).id, kind="usage", description="cut short",
                       amount_cents=42, issued_at=START, status="outstanding")
    clock.advance(timedelta(minutes=1))
    gateway = payment_gateway()
    real_charge = type(gateway).charge
    second: list = []
    started: list[bool] = []

    def second_run() -> None:
        try:
            second.append(run_billing())
        finally:
            database.close()

    def charge_while_another_run_starts(self, *args, **kwargs):
        if not started:
            started.append(True)
            other = threading.Thread(target=second_run)
            other.start()
            other.join(60)
        return real_charge(self, *args, **kwargs)

    monkeypatch.setattr(type(gateway), "charge", charge_while_another_run_starts)
    first = run_billing()
    assert [e.bill_id for e in first.events if e.kind == "charge_retry"] == [bill.id]
    assert [e.bill_id for e in second[0].events if e.kind == "charge_retry"] == []
    assert Bill.get_by_id(bill.id).status == "paid"
    assert LedgerEntry.select().where(LedgerEntry.bill == bill.id).count() == 1


# --- 5. completing a deletion reads through indexes -------------------------------------------

SCAN_OF_A_BIG_TABLE = re.compile(r"Seq Scan on (account|billing_address|code)\b")
EVERY_LIVE_ACCOUNT = re.compile(r"\baccount_status\b")  # the index of accounts by status


def test_completing_a_deletion_asks_about_addresses_through_indexes(active, clock):
    """Whether the account's email, contact email and phone numbers are used by another live
    account is read through indexes (migration 7), not by reading every live account: no
    query reads a table through, nor the live accounts through their status index."""
    from core.deletion import collect_traces
    from core.models import Account, BillingAddress

    token, email = active
    account = account_of(token)
    BillingAddress.create(account=account.id, account_type="corporate", company_name="Tan Pte",
                          contact_name="Alice Tan", contact_phone="+6581234567",
                          contact_email="Billing@Example.com", country="SG", city="Singapore",
                          street="1 Raffles Place", postal_code="048616", created_at=START,
                          updated_at=START)
    Account.update(phone="+6591234567").where(Account.id == account.id).execute()
    others = [account_of(activate(f"other{n}@example.com")).id for n in range(3)]
    # Another live account's contact uses our phone: that one is asked about by id.
    BillingAddress.create(account=others[0], account_type="corporate", company_name="Other",
                          contact_name="Bo", contact_phone="+6591234567",
                          contact_email="bo@example.com", country="SG", city="Singapore",
                          street="2 Raffles Place", postal_code="048616", created_at=START,
                          updated_at=START)
    with statements() as seen:
        traces = collect_traces(Account.get_by_id(account.id))
    assert traces.phones == {"6581234567"}  # ours alone; the shared one stays
    assert "billing@example.com" in traces.emails
    reads = [(q, p) for q, p in seen if q.lstrip().upper().startswith("SELECT")]
    assert len(reads) > 4
    scans = {q: found for q, p in reads if (found := _scans(q, p))}
    assert scans == {}


def _scans(sql: str, params: tuple) -> list[str]:
    from core.db import is_sqlite

    plan = _plan(sql, params).splitlines()
    if is_sqlite():
        return [line for line in plan if (line.startswith("SCAN ")
                                          and not line.startswith("SCAN CONSTANT ROW"))
                or EVERY_LIVE_ACCOUNT.search(line)]
    return [line for line in plan if SCAN_OF_A_BIG_TABLE.search(line)
            or EVERY_LIVE_ACCOUNT.search(line)]


def test_the_indexes_come_with_migration_7(db):
    names = {index.name for table in ("account", "billing_address", "bill")
             for index in db.get_indexes(table)}
    assert {"account_phone", "billing_address_contact_phone",
            "billing_address_contact_email_lower", "bill_charge_due"} <= names


# --- 6. released and billed usage says it is billed -----------------------------------------------

def test_released_billed_usage_says_billed_not_so_far(buyer, clock):
    from core.billing import billing_page
    from core.billing_run import run_billing
    from core.products import list_resources, products_page

    view = payg(buyer, 2)
    assert view.cost_text == "0.16 USD, billed 2026-12-03 12:00 UTC"
    clock.set_now(view.released_at + H48)
    run_billing()
    (resource,) = list_resources(buyer)
    assert resource.cost_text == "billed 0.16 USD"
    assert "so far" not in resource.period_or_cost_text
    assert all("so far" not in r.cost_text for r in products_page(buyer).resources)
    assert billing_page(buyer).pending_usage == ()
