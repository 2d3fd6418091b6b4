"""F17 Statements: one per calendar month (UTC) with activity, built from the bills and the
ledger as they are stored (a statement is read, never stored).

The amount owed
- The **amount owed** at an instant is the sum of the account's outstanding bills then: the
  bills issued by that instant, less the bills paid by then. A bill counts as paid from the
  moment of the successful charge that paid it (its `charge` ledger entry, `done`, naming the
  bill, which is paid). Every paid bill has exactly one such charge (core.billing's
  idempotency keys), so the closing amount of the current month is what the Billing section
  shows as outstanding, to the cent.
- So a statement's arithmetic is: **opening + bills issued − payments = closing**, exactly, in
  integer cents. Holds and their releases, declined charges, charges that paid no bill (an
  order that could not be recorded) and refunds are listed with their amounts but move no
  money owed: a hold only reserves, a declined charge moved nothing, and a refund returns a
  charge whose bill stays paid (its credit note corrects the invoice: core.invoices).
- Lines are ordered by time; at one instant a bill comes before the charge that pays it.
- A statement of the current month is *to date* (`final` is False). A past month's statement
  is final once none of its entries is in progress (a charge cut short by a crash becomes a
  payment or a decline when reconciliation finishes it, and the statement says so then).
- The billing address shown is the one on file when the statement is made (statements are
  not stored); invoices keep the address of their own time.

Money is integer cents throughout; `core.money.decimal_text` makes the decimal strings of the
CSV and PDF at the edge.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from peewee import JOIN

from core import clock
from core.catalogue import add_months
from core.db import transaction
from core.errors import NotFound, ValidationError
from core.i18n import N_, phrase
from core.models import Bill, Invoice, LedgerEntry, PaymentMethod
from core.money import format_usd
from core.sessions import require_account
from core.wording import joined, verbatim

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# Translators: the months' names, as in "Statement for May 2026".
MONTH_NAMES = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
               N_("July"), N_("August"), N_("September"), N_("October"), N_("November"),
               N_("December"))

# kind → what a line is called (the CSV's `type` column is the kind)
LINE_LABELS = {
    "bill": N_("Bill issued"),
    "payment": N_("Payment"),
    "charge": N_("Charge"),
    "charge_declined": N_("Charge declined"),
    "hold": N_("Pre-authorization hold"),
    "hold_release": N_("Hold released"),
    "refund": N_("Refund"),
}
ENTRY_STATUS = {"done": N_("Done"), "failed": N_("Failed"), "started": N_("In progress")}


@dataclass(frozen=True)
class StatementLine:
    at: datetime
    kind: str  # bill | payment | charge | charge_declined | hold | hold_release | refund
    description: str
    reference: str  # "Bill #3", "Bill #3 · Invoice 2", "Credit note 5 · corrects invoice 2"
    method: str  # "Visa •••• 4242", or "" (bills)
    status: str  # "Paid 2026-12-03", "Outstanding", "Done", "Failed: card declined", …
    amount_cents: int  # the entry's own amount
    owed_change_cents: int  # + a bill issued, − a payment, 0 for everything else
    owed_after_cents: int  # the amount owed after this line
    in_progress: bool = False

    @property
    def label(self) -> str:
        return LINE_LABELS.get(self.kind, self.kind)

    @property
    def amount_text(self) -> str:
        return format_usd(self.amount_cents)


@dataclass(frozen=True)
class StatementTotals:
    billed_cents: int = 0
    bills: int = 0
    paid_cents: int = 0
    payments: int = 0
    charged_cents: int = 0  # every successful charge: the payments and any that paid no bill
    refunded_cents: int = 0
    declined_cents: int = 0
    declined: int = 0
    held_cents: int = 0  # holds placed (each released at once when a card is saved)
    released_cents: int = 0


@dataclass(frozen=True)
class Statement:
    account_id: int
    month: str  # "2026-12"
    period_start: datetime  # the month's first instant (UTC)
    period_end: datetime  # the next month's first instant: the period is [start, end)
    made_at: datetime
    bill_to: tuple[str, ...]  # the billing address's lines (empty when there is none)
    opening_owed_cents: int
    lines: tuple[StatementLine, ...]
    closing_owed_cents: int
    totals: StatementTotals

    @property
    def key(self) -> str:
        return f"statement-{self.month}"

    @property
    def final(self) -> bool:
        """The month is over and none of its entries is in progress."""
        return self.made_at >= self.period_end and not any(x.in_progress for x in self.lines)

    @property
    def title(self) -> str:
        """"Statement for December 2026", "… (to date)" while the month runs."""
        year, month = self.month.split("-")
        text = phrase("Statement for {month} {year}", month=MONTH_NAMES[int(month) - 1],
                      year=verbatim(year))
        return text if self.made_at >= self.period_end else phrase("{title} (to date)",
                                                                   title=text)

    @property
    def covered_until(self) -> datetime:
        """The last instant the statement covers: the period's end, or now while it runs."""
        return min(self.period_end, self.made_at)

    @property
    def balances(self) -> bool:
        """opening + bills issued − payments = closing, to the cent."""
        t = self.totals
        return self.opening_owed_cents + t.billed_cents - t.paid_cents == self.closing_owed_cents


@dataclass(frozen=True)
class StatementSummary:
    """A month with activity, as the documents list shows it."""

    account_id: int
    month: str
    title: str
    covered_until: datetime
    opening_owed_cents: int
    closing_owed_cents: int
    billed_cents: int
    paid_cents: int
    lines: int

    @property
    def key(self) -> str:
        return f"statement-{self.month}"


# --- reading ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Activity:
    """What statements (and the documents list) are made of, read at one moment: plain
    values, no rows."""

    account_id: int
    at: datetime
    bills: tuple[tuple, ...]  # (id, description, amount, status, issued_at, paid_at)
    entries: tuple[tuple, ...]  # (id, kind, amount, description, status, failure, created_at,
    #                              bill id, method display, gateway ref)
    documents: tuple[tuple, ...]  # invoices and credit notes: (id, kind, number, corrects id,
    #                                amount, issued_at, description, method, bill id)
    document_of_entry: dict[int, tuple[str, int, int | None]]  # entry → (kind, number,
    #                                                             number corrected)


def read_activity(account_id: int, at: datetime | None = None) -> Activity:
    """The account's bills, ledger and documents: three queries (call it inside the caller's
    transaction, for one consistent moment)."""
    bills = tuple(Bill.select(Bill.id, Bill.description, Bill.amount_cents, Bill.status,
                              Bill.issued_at, Bill.paid_at)
                  .where(Bill.account == account_id).tuples())
    entries = tuple(LedgerEntry.select(
        LedgerEntry.id, LedgerEntry.kind, LedgerEntry.amount_cents, LedgerEntry.description,
        LedgerEntry.status, LedgerEntry.failure_reason, LedgerEntry.created_at,
        LedgerEntry.bill, PaymentMethod.display, LedgerEntry.gateway_ref)
        .join(PaymentMethod, join_type=JOIN.LEFT_OUTER,
              on=(LedgerEntry.payment_method == PaymentMethod.id))
        .where(LedgerEntry.account == account_id).tuples())
    rows = list(Invoice.select(Invoice.id, Invoice.kind, Invoice.number, Invoice.corrects,
                               Invoice.amount_cents, Invoice.issued_at, Invoice.description,
                               Invoice.method, Invoice.bill, Invoice.ledger_entry)
                .where(Invoice.account == account_id).order_by(Invoice.number).tuples())
    numbers = {row[0]: row[2] for row in rows}
    of_entry = {row[9]: (row[1], row[2], numbers.get(row[3]) if row[3] else None)
                for row in rows}
    return Activity(account_id, at or clock.now(), bills, entries,
                    tuple(row[:9] for row in rows), of_entry)


# --- building -----------------------------------------------------------------------------------

def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d}" if moment is not None else ""


def _document_ref(invoice: tuple[str, int, int | None] | None) -> str:
    if invoice is None:
        return ""
    kind, number, corrects = invoice
    if kind == "credit_note":
        if corrects:
            return phrase("Credit note {number} · corrects invoice {corrects}", number=number,
                          corrects=corrects)
        return phrase("Credit note {number}", number=number)
    return phrase("Invoice {number}", number=number)


def _join(*parts: str) -> str:
    return joined([p for p in parts if p], " · ")


@dataclass(frozen=True)
class _Fact:
    at: datetime
    rank: int  # 0 bills, 1 ledger entries: a bill before the charge that pays it
    id: int
    kind: str
    description: str
    reference: str
    method: str
    status: str
    amount: int
    owed_change: int
    done: bool = False  # a ledger entry that went through (a bill: always False)
    in_progress: bool = False


def _facts(activity: Activity) -> list[_Fact]:
    paid_bills = {row[0] for row in activity.bills if row[3] == "paid"}
    facts: list[_Fact] = []
    for bill_id, description, amount, status, issued_at, paid_at in activity.bills:
        state = (phrase("Paid {day}", day=verbatim(_when(paid_at))) if status == "paid"
                 else N_("Outstanding"))
        facts.append(_Fact(issued_at, 0, bill_id, "bill", description,
                           phrase("Bill #{id}", id=bill_id), "",
                           state, amount, amount))
    for (entry_id, kind, amount, description, status, failure, created_at, bill_id, method,
         _ref) in activity.entries:
        bill_ref = phrase("Bill #{id}", id=bill_id) if bill_id else ""
        document = _document_ref(activity.document_of_entry.get(entry_id))
        state = ENTRY_STATUS.get(status, status.capitalize())
        if status == "failed" and failure:
            state = phrase("Failed: {reason}", reason=failure)
        change = 0
        if kind == "charge" and status == "done" and bill_id in paid_bills:
            kind, change = "payment", -amount
        elif kind == "charge_failed":
            kind = "charge_declined"
        facts.append(_Fact(created_at, 1, entry_id, kind, description,
                           _join(bill_ref, document), method or "", state, amount, change,
                           status == "done", status == "started"))
    facts.sort(key=lambda f: (f.at, f.rank, f.id))
    return facts


def month_of(moment: datetime) -> str:
    return f"{moment:%Y-%m}"


def month_start(month: str) -> datetime:
    year, number = month.split("-")
    return datetime(int(year), int(number), 1)


_MOVEMENTS = {"hold": "held_cents", "hold_release": "released_cents", "refund": "refunded_cents"}


def _totals(facts: Iterable[_Fact]) -> StatementTotals:
    values = dict.fromkeys(StatementTotals.__dataclass_fields__, 0)
    for f in facts:
        if f.kind == "bill":
            values["billed_cents"] += f.amount
            values["bills"] += 1
        elif f.kind == "payment":
            values["paid_cents"] += f.amount
            values["payments"] += 1
        elif f.kind == "charge_declined":
            values["declined_cents"] += f.amount
            values["declined"] += 1
        elif f.done and f.kind in _MOVEMENTS:
            values[_MOVEMENTS[f.kind]] += f.amount
        if f.kind in ("payment", "charge") and f.done:
            values["charged_cents"] += f.amount
    return StatementTotals(**values)


def build_statements(activity: Activity, bill_to: tuple[str, ...] = ()) -> list[Statement]:
    """Every month's statement, oldest first. Each month opens with the amount the month
    before closed with (0 before the first); a month without activity has no statement."""
    months: dict[str, list[StatementLine]] = {}
    owed = 0
    opening: dict[str, int] = {}
    month_facts: dict[str, list[_Fact]] = {}
    for fact in _facts(activity):
        month = month_of(fact.at)
        if month not in months:
            months[month] = []
            month_facts[month] = []
            opening[month] = owed
        owed += fact.owed_change
        months[month].append(StatementLine(
            fact.at, fact.kind, fact.description, fact.reference, fact.method, fact.status,
            fact.amount, fact.owed_change, owed, fact.in_progress))
        month_facts[month].append(fact)
    found: list[Statement] = []
    for month, lines in months.items():
        start = month_start(month)
        closing = lines[-1].owed_after_cents
        statement = Statement(activity.account_id, month, start, add_months(start, 1),
                              activity.at, bill_to, opening[month], tuple(lines), closing,
                              _totals(month_facts[month]))
        if not statement.balances:  # pragma: no cover - holds by construction
            raise AssertionError(f"statement {month} does not balance")
        found.append(statement)
    return found


def summary_of(statement: Statement) -> StatementSummary:
    return StatementSummary(statement.account_id, statement.month, statement.title,
                            statement.covered_until, statement.opening_owed_cents,
                            statement.closing_owed_cents, statement.totals.billed_cents,
                            statement.totals.paid_cents, len(statement.lines))


def check_month(month: str | None) -> str:
    text = (month or "").strip()
    if not MONTH.match(text):
        raise ValidationError("A month is written YYYY-MM, e.g. 2026-12.", "document")
    return text


# --- the flow -----------------------------------------------------------------------------------

def statements_of(token: str | None) -> tuple[StatementSummary, ...]:
    """The account's months with activity, newest first (one transaction)."""
    account = require_account(token)
    with transaction():
        activity = read_activity(account.id)
    return tuple(summary_of(s) for s in reversed(build_statements(activity)))


def statement_of_account(account_id: int, month: str, at: datetime | None = None) -> Statement:
    """One month's statement of `account_id` (inside the caller's transaction, or alone)."""
    from core.billing_address import address_of

    wanted = check_month(month)
    activity = read_activity(account_id, at)
    address = address_of(account_id)
    bill_to = address.lines if address is not None else ()
    for found in build_statements(activity, bill_to):
        if found.month == wanted:
            return found
    raise NotFound(phrase("There is no statement for {month}: nothing happened on the account "
                          "that month.", month=verbatim(wanted)), "document")


def statement(token: str | None, month: str) -> Statement:
    """The statement of one month ("YYYY-MM"), in one transaction. NotFound for a month
    without activity; ValidationError for a month not written YYYY-MM."""
    account = require_account(token)
    check_month(month)
    with transaction():
        return statement_of_account(account.id, month)
