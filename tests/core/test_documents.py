"""F17 statements and the Billing section's documents: a month's arithmetic to the cent, the
CSV read back with the csv module, the PDF read back with pypdf's text extraction, the export
into the exports folder (0600), the documents on the Billing page, paying with a chosen method,
and the Overview's account id, amount owed and card expiry."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import STRONG_PASSWORD
from tests.core.test_products import (  # noqa: F401 (long_sessions is an autouse fixture)
    GOOD_CARD,
    LATER_DECLINED_CARD,
    account_of,
    activate,
    long_sessions,
)

ROOT = Path(__file__).resolve().parents[2]
H48 = timedelta(hours=48)
DEC, JAN = "2026-12", "2027-01"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def stepped_up(token: str) -> str:
    """The session stepped up for a sensitive action called long after its log-on, where core
    asks for that (F13's step-up, from the account-protection work); nothing where it does
    not. Returns the token."""
    try:
        from core.step_up import step_up
    except ImportError:
        return token
    step_up(token, STRONG_PASSWORD)
    return token


def cents(text: str) -> int:
    """'12.34' → 1234, '-0.05' → -5: a CSV amount read back exactly (no float)."""
    match = re.fullmatch(r"(-?)(\d+)\.(\d{2})", text)
    assert match, text
    sign, whole, part = match.groups()
    return (-1 if sign else 1) * (int(whole) * 100 + int(part))


def pdf_text(path_or_bytes) -> str:
    from pypdf import PdfReader

    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    return "\n".join(page.extract_text() for page in PdfReader(source).pages)


def add_address(account_id: int, full_name: str = "Мария Tan") -> None:
    from core import clock
    from core.models import BillingAddress

    BillingAddress.create(account=account_id, account_type="individual", full_name=full_name,
                          country="SG", city="Singapore", street="1 Raffles Place",
                          street_2="#20-01", postal_code="048616", created_at=clock.now(),
                          updated_at=clock.now())


@pytest.fixture
def december(active, clock):
    """A December with every kind of entry, and a January that settles it:
    - Dec 1: two cards saved (holds and releases), a subscription bought (40.00, paid);
    - Dec 3: usage of 0.40 billed and paid;
    - Dec 5: usage of 1.00 billed, its charge declined (the default card declines);
    - Jan 1: the renewal (40.00) declined, then both bills paid with the good card, chosen.
    Returns (token, good method id)."""
    from core.billing_run import pay_outstanding, run_billing
    from core.payments import list_payment_methods, save_card, set_default_method
    from core.products import place_order, release_resource

    token, _ = active
    add_address(account_of(token).id)
    save_card(token, GOOD_CARD, "12/30", "123", "Mei Tan")
    save_card(token, LATER_DECLINED_CARD, "12/30", "123", "Mei Tan")
    place_order(token, "ecs", "us-west-1", "subscription", 1, auto_renew=True)
    first = place_order(token, "ecs", "us-west-1", "payg")
    clock.advance(timedelta(hours=5))
    release_resource(token, first.id)
    second = place_order(token, "oss", "us-west-1", "payg")
    clock.advance(timedelta(hours=50))
    run_billing()
    methods = {m.last4: m.id for m in list_payment_methods(token)}
    set_default_method(token, methods["0341"])
    release_resource(token, second.id)
    clock.advance(timedelta(hours=49))
    run_billing()
    clock.set_now(datetime(2027, 1, 1, 10))
    run_billing()
    pay_outstanding(token, methods["4242"])
    clock.set_now(datetime(2027, 1, 5, 10))
    return token, methods["4242"]


# --- the arithmetic ------------------------------------------------------------------------------

def test_a_months_statement_adds_up_to_the_cent(december):
    from core.billing import billing_page
    from core.statements import statement, statements_of

    token, _ = december
    assert [s.month for s in statements_of(token)] == [JAN, DEC]
    dec = statement(token, DEC)
    assert dec.title == "Statement for December 2026" and dec.final
    assert (dec.opening_owed_cents, dec.closing_owed_cents) == (0, 100)
    t = dec.totals
    assert (t.bills, t.billed_cents, t.payments, t.paid_cents) == (3, 4140, 2, 4040)
    assert (t.declined, t.declined_cents) == (1, 100)
    assert (t.held_cents, t.released_cents, t.refunded_cents) == (200, 200, 0)
    assert dec.balances
    kinds = [line.kind for line in dec.lines]
    assert kinds.count("bill") == 3 and kinds.count("payment") == 2
    assert {"hold", "hold_release", "charge_declined"} <= set(kinds)
    assert sum(line.owed_change_cents for line in dec.lines) == 100
    assert [x.owed_after_cents for x in dec.lines][-1] == 100
    # a bill comes before the payment made at the same instant: never owed below zero
    assert min(x.owed_after_cents for x in dec.lines) >= 0
    jan = statement(token, JAN)
    assert jan.title == "Statement for January 2027 (to date)" and not jan.final
    assert jan.opening_owed_cents == dec.closing_owed_cents == 100
    assert (jan.totals.billed_cents, jan.totals.paid_cents) == (4000, 4100)
    assert jan.closing_owed_cents == billing_page(token).outstanding_cents == 0
    payments = [x for x in jan.lines if x.kind == "payment"]
    assert [x.method for x in payments] == ["Visa •••• 4242"] * 2


def test_only_months_with_activity_have_a_statement(december):
    from core.errors import NotFound, ValidationError
    from core.statements import statement

    token, _ = december
    with pytest.raises(NotFound):
        statement(token, "2026-11")
    for bad in ("2026-13", "12-2026", "2026-1", "", "2026-12'; --"):
        with pytest.raises(ValidationError):
            statement(token, bad)


def test_another_accounts_statements_are_not_reachable(december):
    from core.documents import billing_documents, export_document
    from core.errors import NotFound
    from core.statements import statements_of

    other = activate("bob@example.com")
    assert statements_of(other) == () and billing_documents(other) == ()
    for key in ("statement-2026-12", "invoice-1"):
        with pytest.raises(NotFound):
            export_document(other, key)


# --- the Billing section's documents ---------------------------------------------------------

def test_the_billing_page_lists_statements_invoices_and_credit_notes(december):
    from core.billing import billing_page
    from core.documents import billing_documents

    token, _ = december
    rows = billing_page(token).documents
    assert rows == billing_documents(token)
    keys = [row.key for row in rows]
    assert keys == ["statement-2027-01", "invoice-4", "invoice-3", "statement-2026-12",
                    "invoice-2", "invoice-1"]
    by_key = {row.key: row for row in rows}
    assert by_key["invoice-4"].amount_text == "40.00 USD"
    assert "Visa •••• 4242" in by_key["invoice-4"].detail
    assert by_key["statement-2026-12"].title == "Statement for December 2026"
    assert by_key["statement-2026-12"].date_text == "2026-12-31"  # its last day
    assert by_key["statement-2027-01"].date_text == "2027-01-05"  # to date
    assert "1.00 USD at the end" in by_key["statement-2026-12"].detail


def test_every_document_is_published_in_statements_for_sftp(december, cloudacct_home):
    """F16: the statements/ folder SFTP serves holds every document (the server publishes
    them when a session first looks there)."""
    from core.documents import billing_documents, publish_documents

    token, _ = december
    account_id = account_of(token).id
    written = publish_documents(account_id)
    folder = cloudacct_home / "files" / str(account_id) / "statements"
    assert {p.parent for p in written} == {folder}
    keys = [row.key for row in billing_documents(token)]
    names = {p.name for p in folder.iterdir()}
    for key in keys:
        kind, _, rest = key.partition("-")
        assert f"cloudacct-{kind}-{account_id}-{rest}.pdf" in names
    assert any(name.endswith(".csv") for name in names)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())


def test_export_writes_pdf_and_csv_0600_into_the_exports_folder(december, cloudacct_home):
    from core.documents import export_document

    token, _ = december
    account_id = account_of(token).id
    paths = export_document(token, "statement-2026-12")
    assert [p.name for p in paths] == [f"cloudacct-statement-{account_id}-2026-12.pdf",
                                       f"cloudacct-statement-{account_id}-2026-12.csv"]
    (invoice,) = export_document(token, "invoice-3")
    assert invoice.name == f"cloudacct-invoice-{account_id}-3.pdf"
    exports = cloudacct_home / "files" / str(account_id) / "exports"  # its own file space
    for path in (*paths, invoice):
        assert path.parent == exports
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(exports.stat().st_mode) == 0o700
    assert paths[0].read_bytes().startswith(b"%PDF-")
    again = export_document(token, "statement-2026-12")  # replaced, not duplicated
    assert again == paths and not [p for p in paths[0].parent.iterdir()
                                   if p.name.endswith(".tmp")]


def test_export_refuses_a_key_it_does_not_know(december):
    from core.documents import export_document
    from core.errors import NotFound, ValidationError

    token, _ = december
    for key in ("invoice-99", "credit-1", "statement-2026-10"):
        with pytest.raises(NotFound):
            export_document(token, key)
    for key in ("invoice-0", "invoice--1", "../../etc/passwd", "statement-", None, "bill-1"):
        with pytest.raises(ValidationError):
            export_document(token, key)


# --- the CSV -------------------------------------------------------------------------------------

def test_the_csv_reads_back_with_the_csv_module(december):
    from core.documents import CSV_COLUMNS, export_document
    from core.statements import statement

    token, _ = december
    dec = statement(token, DEC)
    _, csv_path = export_document(token, "statement-2026-12")
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with its mark, for spreadsheets
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert rows[0]["type"] == "opening_owed" and rows[-1]["type"] == "closing_owed"
    entries = rows[1:-1]
    assert len(entries) == len(dec.lines)
    assert [r["type"] for r in entries] == [x.kind for x in dec.lines]
    assert {r["currency"] for r in rows} == {"USD"}
    for row in rows:
        datetime.fromisoformat(row["date"].replace("Z", "+00:00"))  # ISO 8601, UTC
        assert row["date"].endswith("Z")
        cents(row["amount"])
    opening, closing = cents(rows[0]["amount"]), cents(rows[-1]["amount"])
    assert (opening, closing) == (0, 100)
    assert sum(cents(r["owed_change"]) for r in entries) == closing - opening
    billed = sum(cents(r["amount"]) for r in entries if r["type"] == "bill")
    paid = sum(cents(r["amount"]) for r in entries if r["type"] == "payment")
    assert opening + billed - paid == closing
    assert cents(entries[-1]["owed_after"]) == closing
    declined = next(r for r in entries if r["type"] == "charge_declined")
    assert declined["status"].startswith("Failed:") and declined["method"] == "Visa •••• 0341"


def test_csv_text_cells_never_run_as_formulas():
    from core.documents import _cell

    assert _cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert _cell("+1") == "'+1" and _cell("@SUM(A1)") == "'@SUM(A1)"
    assert _cell("ECS instance #3") == "ECS instance #3"


# --- the PDF -------------------------------------------------------------------------------------

def test_the_pdf_reads_back_with_the_account_period_and_totals(december):
    from pypdf import PdfReader

    from core.documents import export_document

    token, _ = december
    account_id = account_of(token).id
    pdf_path, _ = export_document(token, "statement-2026-12")
    reader = PdfReader(pdf_path)
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    text = pdf_text(pdf_path)
    for expected in ("Statement for December 2026", f"Account ID {account_id}",
                     "2026-12-01 to 2026-12-31", "Opening amount owed 0.00 USD",
                     "Bills issued (3) 41.40 USD", "Payments (2) 40.40 USD",
                     "Closing amount owed 1.00 USD", "1 Raffles Place", "048616 Singapore",
                     "Charge declined", "Pre-authorization hold"):
        assert expected in " ".join(text.split()), expected
    if DEJAVU.exists():
        assert "Мария Tan" in text  # Cyrillic through the embedded Unicode font


def test_the_pdf_is_readable_at_a4_nothing_smaller_than_9_points(december):
    from pypdf import PdfReader

    from core.documents import export_document

    token, _ = december
    pdf_path, _ = export_document(token, "statement-2026-12")
    sizes: set[float] = set()

    def visit(text, cm, tm, font, size):
        if text.strip():
            sizes.add(round(size * abs(tm[3]) * abs(cm[3]), 2))  # Tf × the text's scale

    for page in PdfReader(pdf_path).pages:
        page.extract_text(visitor_text=visit)
    assert sizes and min(sizes) >= 9, sizes


def test_what_no_font_can_draw_is_printed_as_a_question_mark(active, monkeypatch):
    """Without any TrueType font the built-in Latin-1 font is used: Cyrillic and kana become
    '?', visibly, and the figures still read back."""
    from core import pdf
    from core.statements import Statement, StatementTotals

    statement = Statement(7, DEC, datetime(2026, 12, 1), datetime(2027, 1, 1),
                          datetime(2027, 1, 2), ("Мария ねこ", "1 Raffles Place"), 0, (), 0,
                          StatementTotals())
    with monkeypatch.context() as patch:
        patch.setattr(pdf, "TEXT_FONTS", ())
        text = pdf_text(pdf.statement_pdf(statement, "Alibaba Cloud"))
    assert "????? ??" in text and "Closing amount owed" in text and "Account ID 7" in text
    # with the system's font, kana only where a fallback font (CJK) is found
    text = pdf_text(pdf.statement_pdf(statement, "Alibaba Cloud"))
    if DEJAVU.exists():
        assert "Мария" in text
    cjk = any(Path(path).exists() for path, _ in pdf.FALLBACK_FONTS)
    assert ("ねこ" in text) if cjk else ("??" in text)


def test_pdf_is_imported_only_when_a_document_is_made():
    code = ("import json, sys\nimport core.billing, core.billing_run, core.documents, "
            "core.statements, core.invoices, core.accounts, core.payments\n"
            "print(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not [m for m in done.stdout.split('"') if m.startswith(("fpdf", "core.pdf"))]


# --- paying with a chosen method -----------------------------------------------------------------

def test_pay_outstanding_with_a_chosen_method_keeps_the_default(active, clock):
    from core.billing_run import pay_outstanding, run_billing
    from core.errors import NotFound
    from core.models import LedgerEntry
    from core.payments import list_payment_methods, save_card
    from core.products import place_order, release_resource

    token, _ = active
    add_address(account_of(token).id)
    save_card(token, LATER_DECLINED_CARD, "12/30", "123", "Mei Tan")  # the default
    save_card(token, GOOD_CARD, "12/30", "123", "Mei Tan")
    view = place_order(token, "ecs", "us-west-1", "payg")
    clock.advance(timedelta(hours=3))
    release_resource(token, view.id)
    clock.advance(H48)
    assert [e.charged for e in run_billing().events] == [False]
    methods = {m.last4: m for m in list_payment_methods(token)}
    other = activate("bob@example.com")
    add_address(account_of(other).id)
    save_card(other, "5555 5555 5555 4444", "12/30", "123", "Bob")
    (bobs,) = list_payment_methods(other)
    with pytest.raises(NotFound):
        pay_outstanding(token, bobs.id)  # not theirs: nothing charged
    with pytest.raises(NotFound):
        pay_outstanding(token, "not a number")
    assert LedgerEntry.select().where(LedgerEntry.kind == "charge").count() == 0
    result = pay_outstanding(token, methods["4242"].id)
    assert result.total_cents == 24
    (charge,) = LedgerEntry.select().where(LedgerEntry.kind == "charge")
    assert charge.payment_method_id == methods["4242"].id
    assert [m.last4 for m in list_payment_methods(token) if m.is_default] == ["0341"]


# --- the Overview --------------------------------------------------------------------------------

def test_the_overview_shows_the_account_id_what_is_owed_and_a_card_expiring_soon(active, clock):
    from core.accounts import overview_page
    from core.payments import save_card

    token, _ = active
    account_id = account_of(token).id
    add_address(account_id)
    save_card(token, GOOD_CARD, "12/26", "123", "Mei Tan")  # valid through 2026-12-31
    clock.set_now(datetime(2026, 12, 5))  # 27 days before its end
    page = overview_page(token)
    assert page.account.id == page.account_id == account_id
    assert page.owed_text == "0.00 USD"
    assert page.default_method_expires_soon and page.default_method_expiry == "12/26"
    assert page.expiry_notice == "Your default card Visa •••• 4242 expires 12/26."
    clock.set_now(datetime(2026, 11, 1))  # 61 days before the card's end: no notice
    assert overview_page(token).expiry_notice is None


# --- deletion takes the documents with it --------------------------------------------------------

def test_deleting_the_account_removes_its_exported_documents(december, cloudacct_home, clock):
    from core.deletion import request_deletion
    from core.documents import export_document
    from core.products import list_resources, set_auto_renew

    token, _ = december
    mine = export_document(token, "statement-2026-12") + export_document(token, "invoice-1")
    bob = activate("bob@example.com")
    add_address(account_of(bob).id)
    from core.payments import save_card
    from core.products import place_order

    save_card(bob, GOOD_CARD, "12/30", "123", "Bob")
    place_order(bob, "ecs", "us-west-1", "subscription", 1)
    (bobs,) = export_document(bob, "invoice-1")
    for resource in list_resources(token):
        if resource.can_set_auto_renew:
            set_auto_renew(token, resource.id, False)
    clock.set_now(datetime(2027, 2, 2))
    assert request_deletion(token, STRONG_PASSWORD, True).deleted
    assert not any(p.exists() for p in mine)
    assert bobs.exists()
    assert os.listdir(bobs.parent) == [bobs.name]
    assert not any(p.parent.parent.name == bobs.parent.parent.name for p in mine)
