"""F17 invoices and credit notes: one per successful charge and per refund, numbered in one
gap-free sequence per account (also under two billing runs in real processes, on SQLite and
on PostgreSQL), with the billing address of the time of issue; the PDF of each; what an
erasure leaves of them; migration 7 on a database made before it."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import pytest

from tests.conftest import START
from tests.core.test_documents import add_address, pdf_text, stepped_up
from tests.core.test_products import (  # noqa: F401 (long_sessions is an autouse fixture)
    GOOD_CARD,
    LATER_DECLINED_CARD,
    account_of,
    activate,
    long_sessions,
)

H48 = timedelta(hours=48)


def numbers(account_id: int) -> list[tuple[int, str]]:
    from core.models import Invoice

    return [(row.number, row.kind) for row in
            Invoice.select().where(Invoice.account == account_id).order_by(Invoice.number)]


def payg(token: str, hours: float):
    from core import clock
    from core.products import place_order, release_resource

    view = place_order(token, "ecs", "us-west-1", "payg")
    clock.advance(timedelta(hours=hours))
    return release_resource(token, view.id)


@pytest.fixture
def payer(active):
    from core.payments import save_card

    token, _ = active
    add_address(account_of(token).id, "Mei Tan")
    save_card(token, GOOD_CARD, "12/30", "123", "Mei Tan")
    return token


def test_each_successful_charge_has_an_invoice_and_a_decline_none(payer, clock):
    from core.billing_run import pay_outstanding, run_billing
    from core.invoices import invoices_of_account
    from core.models import LedgerEntry
    from core.payments import list_payment_methods, save_card, set_default_method
    from core.products import place_order

    account_id = account_of(payer).id
    place_order(payer, "ecs", "us-west-1", "subscription", 1)  # invoice 1
    payg(payer, 2)
    clock.advance(H48)
    run_billing()  # invoice 2
    save_card(stepped_up(payer), LATER_DECLINED_CARD, "12/30", "123", "Mei Tan")
    methods = {m.last4: m.id for m in list_payment_methods(payer)}
    set_default_method(payer, methods["0341"])
    payg(payer, 3)
    clock.advance(H48)
    assert [e.charged for e in run_billing().events] == [False]  # declined: no invoice
    pay_outstanding(payer, methods["4242"])  # invoice 3
    assert numbers(account_id) == [(1, "invoice"), (2, "invoice"), (3, "invoice")]
    done = LedgerEntry.select().where(LedgerEntry.kind == "charge",
                                      LedgerEntry.status == "done").count()
    assert done == 3
    views = invoices_of_account(account_id)
    assert [v.key for v in views] == ["invoice-1", "invoice-2", "invoice-3"]
    assert views[0].amount_text == "40.00 USD" and views[0].bill_id is not None
    assert views[0].description == "ECS instance in us-west-1, 1-month subscription"
    assert {v.method for v in views} == {"Visa •••• 4242"}
    assert views[2].bill_to == ("Mei Tan", "1 Raffles Place", "#20-01", "048616 Singapore",
                                "Singapore")


def test_the_address_on_an_invoice_is_the_one_of_its_time(payer, clock):
    from core.invoices import invoices_of_account
    from core.models import BillingAddress
    from core.products import place_order

    account_id = account_of(payer).id
    place_order(payer, "ecs", "us-west-1", "subscription", 1)
    BillingAddress.update(account_type="corporate", company_name="Tan Trading Pte Ltd",
                          contact_name="Mei Tan", contact_phone="+6581234567",
                          contact_email="billing@example.com", street="8 Marina View").where(
        BillingAddress.account == account_id).execute()
    place_order(payer, "oss", "us-west-1", "subscription", 1)
    first, second = invoices_of_account(account_id)
    assert first.bill_to[:2] == ("Mei Tan", "1 Raffles Place")  # as it was
    assert second.bill_to[:2] == ("Tan Trading Pte Ltd", "8 Marina View")  # the company's name
    assert second.bill_to_type == "corporate"


def test_a_refund_has_a_credit_note_that_names_the_invoice_it_corrects(payer, clock):
    """An order charged but never recorded is refunded by reconciliation: the charge has its
    invoice, the refund a credit note with the next number, correcting that invoice."""
    from core.documents import billing_documents, export_document
    from core.invoices import invoices_of_account
    from core.payments import charge_default_method
    from core.reconciliation import reconcile
    from core.statements import statement

    account_id = account_of(payer).id
    charge_default_method(account_id, 4000, "ECS instance in us-west-1, 1-month subscription",
                          idempotency_key=f"order-{secrets.token_hex(12)}")
    clock.advance(timedelta(minutes=5))
    assert reconcile().count("refund") == 1
    invoice, credit = invoices_of_account(account_id)
    assert (invoice.key, credit.key) == ("invoice-1", "credit-2")
    assert credit.kind == "credit_note" and credit.corrects_number == 1
    assert credit.amount_cents == 4000 and credit.title == "Credit note 2"
    rows = {row.key: row for row in billing_documents(payer)}
    assert rows["credit-2"].detail.startswith("Corrects invoice 1")
    (path,) = export_document(payer, "credit-2")
    assert path.name == f"cloudacct-credit-{account_id}-2.pdf"
    text = " ".join(pdf_text(path).split())
    assert "Credit note 2" in text and "Invoice 1" in text and "-40.00" in text
    assert "Total credited 40.00 USD" in text
    # the statement lists the charge and the refund; neither moves the amount owed
    month = statement(payer, "2026-12")
    assert month.totals.charged_cents == 4000 and month.totals.refunded_cents == 4000
    assert month.closing_owed_cents == 0 and month.totals.paid_cents == 0
    refund = next(line for line in month.lines if line.kind == "refund")
    assert refund.owed_change_cents == 0
    assert refund.reference == "Credit note 2 · corrects invoice 1"


def test_the_invoice_pdf_reads_back(payer):
    from core.documents import export_document
    from core.products import place_order

    account_id = account_of(payer).id
    place_order(payer, "ecs", "us-west-1", "subscription", 1)
    (path,) = export_document(payer, "invoice-1")
    text = " ".join(pdf_text(path).split())
    for expected in ("Invoice 1", f"Account ID {account_id}", "Mei Tan", "1 Raffles Place",
                     "ECS instance in us-west-1, 1-month subscription", "40.00",
                     "Total paid 40.00 USD", "Paid with Visa •••• 4242"):
        assert expected in text, expected


def test_one_invoice_for_a_charge_finished_twice(payer):
    """Two sessions following one idempotency key finish the same charge: one invoice."""
    from core.invoices import issue_for_entry
    from core.models import Invoice, LedgerEntry
    from core.payments import charge_default_method

    account_id = account_of(payer).id
    entry = charge_default_method(account_id, 123, "twice", idempotency_key="order-twice")
    again = charge_default_method(account_id, 123, "twice", idempotency_key="order-twice")
    assert again.id == entry.id
    assert issue_for_entry(entry.id).number == 1
    assert Invoice.select().count() == 1
    assert issue_for_entry(LedgerEntry.get(LedgerEntry.kind == "hold").id) is None


def test_a_rolled_back_charge_gives_its_number_back(payer, monkeypatch):
    """The number is taken in the transaction that marks the charge done: when that
    transaction fails, the number is not used up, and the next document takes it."""
    from core import invoices
    from core.errors import StorageError
    from core.models import DocumentCounter
    from core.payments import charge_default_method

    account_id = account_of(payer).id
    real = invoices.Invoice.create

    def fails(**values):
        raise StorageError("disk full")

    monkeypatch.setattr(invoices.Invoice, "create", fails)
    with pytest.raises(StorageError):
        charge_default_method(account_id, 100, "first", idempotency_key="order-first")
    assert DocumentCounter.get_or_none(DocumentCounter.account == account_id) is None
    monkeypatch.setattr(invoices.Invoice, "create", real)
    charge_default_method(account_id, 200, "second", idempotency_key="order-second")
    assert numbers(account_id) == [(1, "invoice")]


def test_an_erasure_blanks_an_individuals_name_and_address_on_invoices(payer, clock):
    from core.deletion import erase_account
    from core.invoices import invoices_of_account
    from core.products import place_order

    account_id = account_of(payer).id
    place_order(payer, "ecs", "us-west-1", "subscription", 1)
    clock.set_now(datetime(2027, 1, 2))
    erase_account(account_id)
    (invoice,) = invoices_of_account(account_id)
    assert invoice.bill_to_name is None and invoice.bill_to_address == ()
    assert invoice.bill_to_country == "SG" and invoice.amount_cents == 4000


# --- migration 7 on a database made before it ----------------------------------------------------

def test_migration_7_marks_bills_and_issues_the_invoices_of_earlier_charges(payer, clock, db):
    """A database at version 4: its bills get their retry mark as runs decided before (a
    declined bill waits for the person, one never charged is due), and every earlier charge
    its invoice, numbered in the order the money moved."""
    from core.billing import bills_due_for_a_retry
    from core.migrations import LATEST, migrate
    from core.models import Bill
    from core.payments import list_payment_methods, save_card, set_default_method
    from core.products import place_order

    account_id = account_of(payer).id
    place_order(payer, "ecs", "us-west-1", "subscription", 1)
    payg(payer, 2)
    clock.advance(H48)
    save_card(stepped_up(payer), LATER_DECLINED_CARD, "12/30", "123", "Mei Tan")
    set_default_method(payer, next(m.id for m in list_payment_methods(payer)
                                   if m.last4 == "0341"))
    from core.billing_run import run_billing

    run_billing()  # the usage bill: declined
    uncharged = Bill.create(account=account_id, kind="usage", description="never charged",
                            amount_cents=5, issued_at=START, status="outstanding")
    # back to version 4
    for index in ("bill_charge_due", "account_phone", "billing_address_contact_phone",
                  "billing_address_contact_email_lower"):
        db.execute_sql(f"DROP INDEX {index}")
    db.execute_sql("DROP TABLE invoice")
    db.execute_sql("DROP TABLE document_counter")
    db.execute_sql("DROP TABLE token_revocation")
    db.execute_sql("ALTER TABLE bill DROP COLUMN next_attempt_at")
    db.execute_sql("ALTER TABLE bill DROP COLUMN attempts")
    db.execute_sql("DELETE FROM schema_version WHERE version = 7")
    assert migrate(db) == LATEST  # 7 again, and every later one still in place
    assert numbers(account_id) == [(1, "invoice")]  # the subscription's charge
    assert bills_due_for_a_retry(clock.now()) == [uncharged.id]
    declined = Bill.get(Bill.kind == "usage", Bill.description != "never charged")
    assert declined.next_attempt_at is None and declined.status == "outstanding"
    assert migrate(db) == LATEST  # once: nothing runs again


# --- gap-free under two billing runs in real processes -------------------------------------------

@pytest.fixture
def shared_environment(cloudacct_home, monkeypatch):
    """What the children of tests.core.test_concurrency inherit."""
    from core.config import reset_settings
    from core.hashing import forget_secret_key

    monkeypatch.setenv("CLOUDACCT_SECRET_KEY", secrets.token_hex(32))
    reset_settings()
    forget_secret_key()


def test_invoice_numbers_stay_gap_free_under_two_billing_runs_at_once(shared_environment, db,
                                                                      clock):
    """Three accounts, each with many bills due at once, billed by two runs started together
    (two machines): every charge has one invoice, and each account's numbers are 1…n without
    a gap or a repeat (SQLite, and PostgreSQL with CLOUDACCT_TEST_POSTGRES_URL)."""
    from core.models import Invoice, LedgerEntry
    from core.products import place_order, release_resource
    from tests.core.test_concurrency import assert_only_domain_errors, buyer, run_children

    tokens = [buyer(f"numbers{i}@example.com") for i in range(3)]
    for token in tokens:
        place_order(token, "ecs", "us-west-1", "subscription", 1, auto_renew=True)
        views = [place_order(token, "ecs", "us-west-1", "payg") for _ in range(6)]
        clock.advance(timedelta(hours=1))
        for view in views:
            release_resource(token, view.id)
    results = run_children("billing", 2, {"now": START + timedelta(days=40)})
    assert assert_only_domain_errors(results) == []
    for token in tokens:
        account_id = account_of(token).id
        charges = LedgerEntry.select().where(LedgerEntry.account == account_id,
                                             LedgerEntry.kind == "charge",
                                             LedgerEntry.status == "done")
        documents = list(Invoice.select().where(Invoice.account == account_id))
        assert len(documents) == charges.count() == 1 + 6 + 1  # order, usage, renewal
        assert sorted(d.number for d in documents) == list(range(1, len(documents) + 1))
        assert {d.ledger_entry_id for d in documents} == {c.id for c in charges}


def test_the_data_export_holds_the_invoices(payer):
    """F9: everything stored about the account, so the invoices and their address snapshots."""
    import json

    from core.products import place_order
    from core.security import export_data

    place_order(payer, "ecs", "us-west-1", "subscription", 1)
    document = json.loads(export_data(payer).read_text(encoding="utf-8"))
    (invoice,) = document["invoices"]
    assert (invoice["number"], invoice["kind"], invoice["amount_cents"]) == (1, "invoice", 4000)
    assert invoice["bill_to_name"] == "Mei Tan"
