"""F17 Invoices and credit notes: one invoice per successful charge (card, PayPal, Paytm), one
credit note per refund, naming the invoice it corrects.

Numbering
- One sequence per account, shared by invoices and credit notes (1, 2, 3 …): a number is never
  skipped or reused. The number is taken in the very transaction in which the charge's (or
  refund's) ledger entry becomes `done` (`issue_for_entry`, called by core.payments and
  core.reconciliation), by raising the account's `DocumentCounter` row in SQL
  (`last_number = last_number + 1`). So a rollback gives the number back with the entry, and
  a number exists exactly when its entry is done.
- Those transactions are core.db's `transaction()`: one writer at a time on SQLite (BEGIN
  IMMEDIATE) and on PostgreSQL (its advisory write lock), so two billing runs on two machines
  take turns at the counter; the row's own lock and the unique (account, number) index would
  refuse a duplicate even without that.
- Issuing is idempotent per ledger entry (one document per entry, a unique column): two
  sessions finishing the same charge (the same idempotency key) issue one invoice.

What an invoice keeps: the amount, the description of what was paid (the bill's or the
order's), the method as it was shown then ("Visa •••• 4242"), and a snapshot of the billing
address at issue (Individual: the full name; Corporate: the company's name; then the address
lines and the country), so a later change of address does not rewrite an issued document.
Erasing an account (F10) blanks an individual's name and address on its documents and keeps
the country; a company's name and address are business records and stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peewee import JOIN

from core import clock
from core.i18n import phrase
from core.models import DocumentCounter, Invoice, LedgerEntry, PaymentMethod
from core.money import format_usd

KINDS = {"charge": "invoice", "refund": "credit_note"}
KEY_PREFIXES = {"invoice": "invoice", "credit_note": "credit"}


@dataclass(frozen=True)
class InvoiceView:
    id: int
    account_id: int
    number: int
    kind: str  # invoice | credit_note
    amount_cents: int
    currency: str
    description: str
    method: str | None
    issued_at: datetime
    bill_id: int | None
    corrects_number: int | None  # credit notes: the invoice they correct
    bill_to_type: str | None
    bill_to_name: str | None
    bill_to_address: tuple[str, ...]
    bill_to_country: str | None
    gateway_ref: str | None = None  # the charge or refund at the gateway

    @property
    def key(self) -> str:
        """`invoice-3`, `credit-4` (the Billing section's row keys)."""
        return f"{KEY_PREFIXES[self.kind]}-{self.number}"

    @property
    def title(self) -> str:
        if self.kind == "credit_note":
            return phrase("Credit note {number}", number=self.number)
        return phrase("Invoice {number}", number=self.number)

    @property
    def amount_text(self) -> str:
        return format_usd(self.amount_cents)

    @property
    def bill_to(self) -> tuple[str, ...]:
        """The billing address as printed: the name, the address lines (the country is the
        last of them)."""
        return tuple(line for line in (self.bill_to_name, *self.bill_to_address) if line)


def _next_number(account_id: int) -> int:
    """The account's next document number (inside the issuing transaction)."""
    raised = DocumentCounter.update(last_number=DocumentCounter.last_number + 1).where(
        DocumentCounter.account == account_id).execute()
    if raised == 0:
        DocumentCounter.create(account=account_id, last_number=1)
        return 1
    return DocumentCounter.get_by_id(account_id).last_number


def _address_snapshot(account_id: int) -> dict:
    from core.billing_address import address_of

    address = address_of(account_id)
    if address is None:
        return {}
    corporate = address.account_type == "corporate"
    place = " ".join(part for part in (address.postal_code, address.city) if part)
    region = address.region_name if address.region else None
    lines = [address.street, address.street_2, place, region, address.country_name]
    return {"bill_to_type": address.account_type,
            "bill_to_name": (address.company_name if corporate else address.full_name) or None,
            "bill_to_address": "\n".join(line for line in lines if line),
            "bill_to_country": address.country}


def _refunded_invoice(refund: LedgerEntry) -> Invoice | None:
    """The invoice of the charge a refund returns (the refund names the gateway's charge)."""
    if not refund.gateway_ref:
        return None
    charge = (LedgerEntry.select(LedgerEntry.id)
              .where(LedgerEntry.account == refund.account_id, LedgerEntry.kind == "charge",
                     LedgerEntry.gateway_ref == refund.gateway_ref).first())
    if charge is None:
        return None
    return Invoice.get_or_none(Invoice.ledger_entry == charge.id)


def issue_for_entry(entry_id: int, at: datetime | None = None) -> InvoiceView | None:
    """The invoice (a done charge) or credit note (a done refund) of a ledger entry, issued
    now with the account's next number unless it exists. Call it inside the transaction that
    marks the entry done. Other entries (holds, releases, declines) get none."""
    entry = LedgerEntry.get_by_id(entry_id)
    kind = KINDS.get(entry.kind)
    if kind is None or entry.status != "done":
        return None
    existing = Invoice.get_or_none(Invoice.ledger_entry == entry.id)
    if existing is not None:
        return invoice_view(existing)
    corrects = _refunded_invoice(entry) if kind == "credit_note" else None
    method = None
    if entry.payment_method_id is not None:
        row = PaymentMethod.get_or_none(PaymentMethod.id == entry.payment_method_id)
        method = row.display if row is not None else None
    row = Invoice.create(
        account=entry.account_id, number=_next_number(entry.account_id), kind=kind,
        ledger_entry=entry.id, bill=entry.bill_id,
        corrects=corrects.id if corrects is not None else None,
        amount_cents=entry.amount_cents, currency=entry.currency,
        description=entry.description[:200], method=method, issued_at=at or clock.now(),
        **_address_snapshot(entry.account_id))
    return invoice_view(row)


def bill_invoice(entry_id: int, bill_id: int) -> None:
    """The bill a charge paid, once it exists (an order is charged before its bill is made):
    the invoice names it too. Inside the order's transaction."""
    Invoice.update(bill=bill_id).where(Invoice.ledger_entry == entry_id,
                                       Invoice.bill.is_null()).execute()


def issue_missing(account_id: int | None = None) -> int:
    """Issue the documents of done charges and refunds that have none, oldest first, dated
    when the money moved (migration 7: the charges made before invoices existed). Returns
    how many were issued. Inside a transaction."""
    query = (LedgerEntry.select(LedgerEntry.id, LedgerEntry.created_at)
             .join(Invoice, join_type=JOIN.LEFT_OUTER, on=(Invoice.ledger_entry == LedgerEntry.id))
             .where(LedgerEntry.kind.in_(tuple(KINDS)), LedgerEntry.status == "done",
                    Invoice.id.is_null())
             .order_by(LedgerEntry.id))
    if account_id is not None:
        query = query.where(LedgerEntry.account == account_id)
    issued = 0
    for entry_id, created_at in list(query.tuples()):
        issued += issue_for_entry(entry_id, created_at) is not None
    return issued


def invoice_view(row: Invoice, corrects_number: int | None = None) -> InvoiceView:
    if corrects_number is None and row.corrects_id is not None:
        corrected = Invoice.get_or_none(Invoice.id == row.corrects_id)
        corrects_number = corrected.number if corrected is not None else None
    ref = LedgerEntry.select(LedgerEntry.gateway_ref).where(
        LedgerEntry.id == row.ledger_entry_id).scalar()
    return InvoiceView(
        row.id, row.account_id, row.number, row.kind, row.amount_cents, row.currency,
        row.description, row.method, row.issued_at, row.bill_id, corrects_number,
        row.bill_to_type, row.bill_to_name,
        tuple(line for line in (row.bill_to_address or "").split("\n") if line),
        row.bill_to_country, ref)


def invoices_of_account(account_id: int) -> tuple[InvoiceView, ...]:
    """Every invoice and credit note of the account, by number (two queries)."""
    rows = list(Invoice.select().where(Invoice.account == account_id).order_by(Invoice.number))
    numbers = {row.id: row.number for row in rows}
    refs = dict(LedgerEntry.select(LedgerEntry.id, LedgerEntry.gateway_ref)
                .where(LedgerEntry.account == account_id,
                       LedgerEntry.kind.in_(tuple(KINDS))).tuples())
    return tuple(InvoiceView(
        row.id, row.account_id, row.number, row.kind, row.amount_cents, row.currency,
        row.description, row.method, row.issued_at, row.bill_id,
        numbers.get(row.corrects_id) if row.corrects_id else None, row.bill_to_type,
        row.bill_to_name, tuple(x for x in (row.bill_to_address or "").split("\n") if x),
        row.bill_to_country, refs.get(row.ledger_entry_id)) for row in rows)


def invoice_by_number(account_id: int, kind: str, number: int) -> InvoiceView | None:
    row = Invoice.get_or_none(Invoice.account == account_id, Invoice.kind == kind,
                              Invoice.number == number)
    return invoice_view(row) if row is not None else None


def forget_personal_data(account_id: int) -> int:
    """F10: an individual's name and address leave the account's documents (the country
    stays: it decides the taxes of the amounts kept). Inside the erasure's transaction."""
    return Invoice.update(bill_to_name=None, bill_to_address=None).where(
        Invoice.account == account_id,
        (Invoice.bill_to_type != "corporate") | Invoice.bill_to_type.is_null()).execute()
