"""F8 Billing: the Billing page, bills, charging them, and the billing a run does.

Decisions
- Pay-As-You-Go usage is cut into *usage periods* that end at the start of each UTC calendar
  month and at release. A period's bill is issued by the first billing run at or after 48 hours
  past the period's end (`USAGE_BILL_DELAY`): a resource released at T is billed at T + 48 h,
  not at T + 48 h − 1 s. The amount is the difference of the rounded-up running totals
  (core.catalogue.usage_cost_cents), so bills add up to the resource's exact running cost.
  `Resource.billed_until` records how far usage is billed; a period of zero cents advances it
  without a bill.
- A bill is charged to the default method when issued. A failed charge leaves it `outstanding`;
  the person pays it with `core.billing_run.pay_outstanding`, with the default method or one
  they choose.
- Which bills a run charges is marked on the bill itself (`Bill.next_attempt_at`, migration
  7): set when it is issued, moved ahead by `CHARGE_LEASE` by the run that claims its charge
  (a conditional UPDATE: on SQLite too only one run wins it, so only one reports it), and
  cleared once it is paid, declined, or has no payment method to charge: those wait for the
  person, and no run reads them again. A run's retries read only the bills due, through a
  partial index, never the ledger; a bill whose charge a crash cut short is due again once
  its lease is over.
- Subscriptions at their period end: with auto-renewal on, a `renewal` bill for the next period
  is issued and charged and the period extended. A declined renewal leaves the bill outstanding
  and *suspends* the resource (state `suspended`), whenever it is declined: when issued, when a
  run retries it after a crash, when the person pays it with a card that declines; paying the
  bill before the new period ends resumes it, and a subscription still suspended at that end
  expires. With auto-renewal off the subscription expires: state `expired`, released at its
  period end.
- A run's cost follows what is due, not how many accounts there are: each part starts from
  its due items, read through indexes ("what is due" below): usage due and subscriptions at
  their period end through the partial indexes of migration 2, bills due for a retry through
  the partial index of migration 7, pending deletions through the status index of accounts.
- Idempotent and safe to run concurrently: every bill is issued in its own transaction that
  advances the resource (billed_until / period_end) with a conditional UPDATE that re-checks the
  value it read, so two runs cannot issue the same bill. On PostgreSQL that transaction claims
  the resource row FOR UPDATE SKIP LOCKED instead of taking core.db's global write lock, so two
  machines running billing at once split the due items; a bill being charged is claimed too
  (core.claims, and its lease on the bill). Charges use deterministic idempotency keys
  `bill-<id>-<attempt>` (attempt = 1 + earlier attempts in the ledger), so a retry after a
  crash reuses the key of the attempt that may have reached the gateway. A bill whose charge
  was never attempted (a crash between issuing and charging) is charged by the first run
  after its lease.
- Reading never bills: `billing_page` shows what is issued, and usage whose 48 hours are over
  but whose bill the billing run has not issued yet is shown as due ("billed by the next billing
  run"). Bills are issued only by the billing run (`core.billing_run.run_billing`: `cloudacct
  billing run`, by hand or from cron) and when Delete My Account settles an account first.
- This module never imports core.deletion: the billing run and paying, which may complete a
  pending deletion (F10), are core.billing_run, above both flows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from peewee import SQL

from core import clock
from core.catalogue import (
    PRODUCTS,
    add_months,
    months_between,
    period_label,
    subscription_price_cents,
    usage_cost_cents,
)
from core.claims import CLAIM_BILL, claim_row, claim_transaction, claimed
from core.db import database, is_sqlite, read_by, transaction
from core.errors import DomainError, Refused
from core.i18n import N_, money, phrase, plural_text
from core.migrations import BILL_CHARGE_DUE
from core.models import Account, Bill, LedgerEntry, PaymentMethod, Resource
from core.money import format_usd
from core.sessions import require_account
from core.wording import count, record_text, stored_text, verbatim

if TYPE_CHECKING:
    from core.documents import DocumentRow

USAGE_BILL_DELAY = timedelta(hours=48)
CHARGE_LEASE = timedelta(minutes=10)
"""How long a run's claim on a bill's charge keeps other runs off it: far longer than a gateway
call takes. A run that crashed mid-charge leaves the bill to the first run after it."""
_MAX_STEPS_PER_RESOURCE = 1000  # a safety net for a clock far in the future

# --- views ------------------------------------------------------------------------------------

LEDGER_LABELS = {
    "hold": N_("Pre-authorization hold"),
    "hold_release": N_("Hold released"),
    "charge": N_("Charge"),
    "charge_failed": N_("Charge declined"),
    "refund": N_("Refund"),
}
LEDGER_STATUS_LABELS = {"done": N_("Done"), "failed": N_("Failed"), "started": N_("In progress")}
BILL_STATUS_LABELS = {"outstanding": N_("Outstanding"), "paid": N_("Paid")}


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment is not None else ""


@dataclass(frozen=True)
class BillView:
    id: int
    kind: str  # usage | subscription | renewal
    description: str
    amount_cents: int
    status: str  # outstanding | paid
    issued_at: datetime
    paid_at: datetime | None
    period_start: datetime | None
    period_end: datetime | None
    resource_id: int | None

    @property
    def amount_text(self) -> str:
        return format_usd(self.amount_cents)

    @property
    def issued_text(self) -> str:
        return _when(self.issued_at)

    @property
    def status_label(self) -> str:
        """"Outstanding", or "Paid 2026-12-03"."""
        if self.status == "paid" and self.paid_at is not None:
            return phrase("Paid {day}", day=verbatim(f"{self.paid_at:%Y-%m-%d}"))
        return BILL_STATUS_LABELS.get(self.status, self.status.capitalize())


@dataclass(frozen=True)
class LedgerView:
    id: int
    kind: str  # hold | hold_release | charge | charge_failed | refund
    label: str
    amount_cents: int
    description: str
    status: str  # started | done | failed
    created_at: datetime
    bill_id: int | None
    method: str | None  # "Visa •••• 4242"

    @property
    def amount_text(self) -> str:
        return format_usd(self.amount_cents)

    @property
    def when_text(self) -> str:
        return _when(self.created_at)

    @property
    def status_label(self) -> str:
        """"Done", "Failed", "In progress"."""
        return LEDGER_STATUS_LABELS.get(self.status, self.status.capitalize())


@dataclass(frozen=True)
class PendingUsage:
    """Pay-As-You-Go usage not yet billed (F10 lets deletion wait for it)."""

    resource_id: int
    description: str
    start: datetime
    end: datetime  # released_at, or now for a resource still running
    amount_cents: int  # so far
    running: bool
    bill_due_at: datetime | None  # when the last of it is billed (None while running)
    due: bool = False  # its 48 hours are over: the next billing run issues its bill

    @property
    def amount_text(self) -> str:
        return format_usd(self.amount_cents)

    @property
    def text(self) -> str:
        """"ECS instance #3 usage in …: 0.16 USD so far" / ", billed 2026-12-03 12:00" /
        ", due: billed by the next billing run"."""
        what, amount = verbatim(self.description), verbatim(self.amount_text)
        if self.running:
            return phrase("{what}: {amount} so far", what=what, amount=amount)
        if self.due:
            return phrase("{what}: {amount}, due: billed by the next billing run", what=what,
                          amount=amount)
        if self.bill_due_at is not None:
            return phrase("{what}: {amount}, billed {moment} UTC", what=what, amount=amount,
                          moment=verbatim(_when(self.bill_due_at)))
        return phrase("{what}: {amount}", what=what, amount=amount)


@dataclass(frozen=True)
class BillingPage:
    """What the Billing section shows, read at one moment; reading it issues no bill."""

    at: datetime
    outstanding_cents: int
    outstanding: tuple[BillView, ...]  # newest first, as `paid`
    paid: tuple[BillView, ...]
    ledger: tuple[LedgerView, ...]  # holds and releases, charges, refunds; newest first
    pending_usage: tuple[PendingUsage, ...]
    documents: tuple[DocumentRow, ...] = ()  # statements, invoices, credit notes; newest first
    methods: tuple[tuple[int, str, bool], ...] = ()  # (id, display, is default) of the live
    #                                                 methods, to choose one to pay with

    @property
    def outstanding_text(self) -> str:
        return format_usd(self.outstanding_cents)

    @property
    def outstanding_line(self) -> str:
        """"Outstanding: 0.80 USD (1 bill)", or "Outstanding: 0.00 USD"."""
        amount = verbatim(self.outstanding_text)
        if self.outstanding:
            return phrase("Outstanding: {amount} ({bills})", amount=amount,
                          bills=count(len(self.outstanding), "bill"))
        return phrase("Outstanding: {amount}", amount=amount)

    @property
    def bills(self) -> tuple[BillView, ...]:
        """Every bill as the bills table lists them: outstanding first, then paid."""
        return (*self.outstanding, *self.paid)

    @property
    def usage_due(self) -> bool:
        """Some usage is due for billing: the billing run has not issued its bill yet."""
        return any(u.due for u in self.pending_usage)


def bill_view(row: Bill) -> BillView:
    return BillView(row.id, row.kind, record_text(row.description, row.description_text),
                    row.amount_cents, row.status,
                    row.issued_at, row.paid_at, row.period_start, row.period_end,
                    row.resource_id)


def _ledger_view(row: LedgerEntry, methods: dict[int, str]) -> LedgerView:
    return LedgerView(row.id, row.kind, LEDGER_LABELS.get(row.kind, row.kind), row.amount_cents,
                      record_text(row.description, row.description_text), row.status,
                      row.created_at, row.bill_id,
                      methods.get(row.payment_method_id) if row.payment_method_id else None)


def _bills(account_id: int) -> list[Bill]:
    return list(Bill.select().where(Bill.account == account_id)
                .order_by(Bill.issued_at.desc(), Bill.id.desc()))


def outstanding_bills(account_id: int) -> list[BillView]:
    """Unpaid bills, oldest first (F10: each one blocks deletion)."""
    rows = (Bill.select().where(Bill.account == account_id, Bill.status == "outstanding")
            .order_by(Bill.issued_at, Bill.id))
    return [bill_view(r) for r in rows]


def list_bills(token: str | None) -> list[BillView]:
    """Every bill of the account, outstanding and paid, newest first."""
    account = require_account(token)
    return [bill_view(r) for r in _bills(account.id)]


def _described(description: str) -> dict[str, str | None]:
    """A record's description fields: its English as issued, and the text it was made from."""
    return {"description": str(description)[:200], "description_text": stored_text(description)}


def _usage_description(row: Resource, start: datetime, end: datetime) -> str:
    """"ECS instance #3 usage in us-west-1, 2026-12-01 10:00 – 2026-12-01 20:00 UTC": a text
    (translated where the console shows pending usage); a bill stores it as English."""
    item = PRODUCTS.get(row.product)
    return phrase("{product} #{number} usage in {region}, {start} – {end} UTC",
                  product=item.name if item else verbatim(row.product), number=row.id,
                  region=verbatim(row.region), start=verbatim(f"{start:%Y-%m-%d %H:%M}"),
                  end=verbatim(f"{end:%Y-%m-%d %H:%M}"))


def _next_cut(moment: datetime) -> datetime:
    """The start of the UTC calendar month after `moment`."""
    return add_months(moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0), 1)


def pending_usage(account_id: int, at: datetime | None = None) -> list[PendingUsage]:
    """Pay-As-You-Go usage not yet billed, per resource."""
    at = at or clock.now()
    rows = Resource.select().where(Resource.account == account_id,
                                   Resource.billing_method == "payg")
    found: list[PendingUsage] = []
    for row in rows:
        start = row.billed_until or row.created_at
        running = row.released_at is None
        end = max(at, start) if running else row.released_at
        if not running and end <= start:
            continue
        amount = usage_cost_cents(row.hourly_cents, row.created_at, start, end)
        due_at = None if running else end + USAGE_BILL_DELAY
        # Running usage is due too once a month's cut is 48 hours behind (billed per month).
        due = (due_at is not None and due_at <= at) or \
            (running and _next_cut(start) + USAGE_BILL_DELAY <= at)
        found.append(PendingUsage(row.id, _usage_description(row, start, end), start, end,
                                  amount, running, due_at, due))
    return found


@dataclass(frozen=True)
class Owed:
    """What the account still has to pay: outstanding bills, and usage not billed yet."""

    outstanding_cents: int
    outstanding_bills: int
    unbilled_cents: int  # Pay-As-You-Go usage so far, not billed yet
    bills_due_by: datetime | None  # when the last released usage is billed

    @property
    def total_cents(self) -> int:
        return self.outstanding_cents + self.unbilled_cents


def owed(account_id: int, at: datetime | None = None) -> Owed:
    """What `account_id` owes at `at` (other flows' pages: the Overview)."""
    bills = outstanding_bills(account_id)
    usage = pending_usage(account_id, at)
    dues = [u.bill_due_at for u in usage if u.bill_due_at is not None]
    return Owed(sum(b.amount_cents for b in bills), len(bills),
                sum(u.amount_cents for u in usage), max(dues) if dues else None)


def billing_page(token: str | None) -> BillingPage:
    """The Billing section: outstanding and paid bills, the ledger, the usage not billed yet
    and the documents (F17), in one transaction. It only reads: a bill that is due is issued
    by the billing run."""
    from core.documents import document_rows

    account = require_account(token)
    at = clock.now()
    with transaction():
        bills = [bill_view(r) for r in _bills(account.id)]
        rows = list(PaymentMethod.select(PaymentMethod.id, PaymentMethod.display,
                                         PaymentMethod.is_default, PaymentMethod.removed_at)
                    .where(PaymentMethod.account == account.id)
                    .order_by(PaymentMethod.is_default.desc(), PaymentMethod.id.desc()))
        methods = {m.id: m.display for m in rows}
        live = tuple((m.id, m.display, bool(m.is_default)) for m in rows
                     if m.removed_at is None)
        ledger = tuple(_ledger_view(e, methods) for e in
                       LedgerEntry.select().where(LedgerEntry.account == account.id)
                       .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()))
        usage = tuple(pending_usage(account.id, at))
        documents = document_rows(account.id, at)
    outstanding = tuple(b for b in bills if b.status == "outstanding")
    return BillingPage(
        at=at, outstanding_cents=sum(b.amount_cents for b in outstanding),
        outstanding=outstanding, paid=tuple(b for b in bills if b.status == "paid"),
        ledger=ledger, pending_usage=usage, documents=documents, methods=live)


# --- charging a bill ----------------------------------------------------------------------------

def _charge_attempts(bill_id: int) -> list[LedgerEntry]:
    """The ledger entries of the bill's charge attempts (`bill-<id>-<n>`), oldest first, read
    through the ledger's index on the bill (a LIKE on the key would read the whole ledger)."""
    prefix = f"bill-{bill_id}-"
    rows = (LedgerEntry.select(LedgerEntry.idempotency_key, LedgerEntry.status)
            .where(LedgerEntry.bill == bill_id).order_by(LedgerEntry.id))
    return [row for row in rows if row.idempotency_key.startswith(prefix)]


def _attempt_key(bill_id: int) -> str:
    """The idempotency key of the next charge attempt of a bill: the key of an attempt that
    may have reached the gateway (`started`, a crash mid-call) or went through (`done`, a
    crash before the bill was marked paid) is reused, so it cannot charge twice; otherwise a
    new one (`bill-<id>-<n>`; a failed key cannot be reused)."""
    entries = _charge_attempts(bill_id)
    for entry in entries:
        if entry.status in ("started", "done"):
            return entry.idempotency_key
    return f"bill-{bill_id}-{len(entries) + 1}"


def _declined(bill: Bill) -> None:
    """A bill whose charge was declined (or found no payment method) waits for the person: no
    run charges it again. A declined renewal suspends its subscription, whoever tried."""
    with transaction():
        Bill.update(next_attempt_at=None).where(Bill.id == bill.id,
                                                Bill.status == "outstanding").execute()
        if bill.kind == "renewal" and bill.resource_id is not None:
            Resource.update(state="suspended").where(
                Resource.id == bill.resource_id, Resource.state == "running",
                Resource.period_end == bill.period_end).execute()


def charge_declined(bill_id: int) -> None:
    """A charge of the bill was declined elsewhere (reconciliation found the gateway's
    answer): the bill leaves the runs' retries, and a renewal suspends, as `_charge_bill`
    does."""
    _declined(Bill.get_by_id(bill_id))


def _charge_bill(bill_id: int, method_id: int | None = None) -> str | None:
    """Charge an outstanding bill to the default method (or `method_id`, the person's
    choice); None when paid, else the reason. A decline, or no method at all, takes the bill
    out of the runs' retries (`_declined`); any other failure (the database busy) leaves it
    due, for the run after the lease."""
    from core.payments import PaymentDeclined, charge_default_method

    bill = Bill.get_by_id(bill_id)
    if bill.status != "outstanding":
        return None
    try:
        charge_default_method(bill.account_id, bill.amount_cents,
                              record_text(bill.description, bill.description_text),
                              bill_id=bill.id, idempotency_key=_attempt_key(bill.id),
                              method_id=method_id)
    except PaymentDeclined as exc:  # the gateway's reason, or no payment method
        _declined(bill)
        return exc.message
    except DomainError as exc:  # storage busy …
        return exc.message
    at = clock.now()
    with transaction():
        Bill.update(status="paid", paid_at=at, next_attempt_at=None).where(
            Bill.id == bill.id, Bill.status == "outstanding").execute()
        if bill.kind == "renewal" and bill.resource_id is not None:
            # Paying a declined renewal resumes the subscription for the period it paid for.
            Resource.update(state="running").where(
                Resource.id == bill.resource_id, Resource.state == "suspended",
                Resource.period_end == bill.period_end, Resource.period_end > at).execute()
    return None


@dataclass(frozen=True)
class PaymentResult:
    paid: tuple[BillView, ...]

    @property
    def total_cents(self) -> int:
        return sum(b.amount_cents for b in self.paid)

    @property
    def text(self) -> str:
        """"Paid 2 bills: 1.20 USD.", or "Nothing was outstanding."."""
        if not self.paid:
            return N_("Nothing was outstanding.")
        return phrase("Paid {bills}: {amount}.", bills=count(len(self.paid), "bill"),
                      amount=money(self.total_cents))


class PaymentFailed(Refused):
    """Paying outstanding bills stopped at a declined charge (`.reason`; `.paid` went through)."""

    def __init__(self, reason: str, paid: tuple[BillView, ...], still_outstanding: int) -> None:
        self.reason = reason
        self.paid = paid
        self.still_outstanding_cents = still_outstanding
        # The gateway's reason, a whole sentence of its own (its message id ends with ".").
        sentence = reason if reason.endswith(".") else reason.rstrip(".") + "."
        amount = money(still_outstanding)
        if paid:
            message = phrase("The payment did not go through: {reason} {paid} {amount} is "
                             "still outstanding.", reason=sentence, amount=amount,
                             paid=plural_text("{n} bill was paid first.",
                                              "{n} bills were paid first.", n=len(paid)))
        else:
            message = phrase("The payment did not go through: {reason} {amount} is still "
                             "outstanding.", reason=sentence, amount=amount)
        super().__init__(message)


def charge_outstanding(account_id: int, method_id: int | None = None) -> PaymentResult:
    """Charge every outstanding bill of the account, oldest first, to its default method or to
    `method_id` (one of its live methods: NotFound otherwise, before anything is charged). A
    decline stops there with PaymentFailed (the bill stays outstanding; those paid before stay
    paid). The person's **Pay outstanding bills** is core.billing_run.pay_outstanding, which
    also completes a pending deletion the payment settles."""
    if method_id is not None:
        from core.payments import own_method_view

        method_id = own_method_view(account_id, method_id).id
    paid: list[BillView] = []
    for bill in outstanding_bills(account_id):
        reason = _charge_bill(bill.id, method_id)
        if reason is not None:
            remaining = sum(b.amount_cents for b in outstanding_bills(account_id))
            raise PaymentFailed(reason, tuple(paid), remaining)
        paid.append(bill_view(Bill.get_by_id(bill.id)))
    return PaymentResult(tuple(paid))


# --- the billing run's billing ------------------------------------------------------------------

@dataclass(frozen=True)
class RunEvent:
    """One thing a billing run did (core.billing_run.BillingRunReport lists them)."""

    kind: str  # bill | renewal | suspension | expiry | charge_retry | deletion | deletion_waiting
    text: str
    account_id: int | None = None
    resource_id: int | None = None
    bill_id: int | None = None
    amount_cents: int = 0
    charged: bool | None = None  # for bills: paid at issue, or left outstanding


def _email(account_id: int) -> str:
    account = read_by(Account, "id", account_id)
    return account.email if account is not None else f"account {account_id}"


def _charge_and_describe(bill: Bill) -> tuple[bool, str]:
    reason = _charge_bill(bill.id)
    if reason is None:
        return True, "paid"
    outcome = f"outstanding (charge failed: {reason})"
    if bill.kind == "renewal" and bill.resource_id is not None and Resource.select().where(
            Resource.id == bill.resource_id, Resource.state == "suspended").exists():
        outcome += "; suspended until paid"
    return False, outcome


# --- what is due ---------------------------------------------------------------------------------
# Every part of a run starts from what is due, read through an index, never from the account
# or resource table as a whole: a run with nothing due costs the same at a thousand accounts as
# at a million. Usage and subscriptions are read through the partial indexes of migration 2,
# whose predicates the queries repeat as SQL text, word for word: SQLite uses a partial index
# only when the query repeats its WHERE terms, constants included (a bound parameter does not
# count as the constant). Bills due for a retry are read through the partial index of the
# bills marked due (migration 7).

USAGE_UNBILLED = ("billing_method = 'payg' AND (released_at IS NULL OR billed_until IS NULL "
                  "OR billed_until < released_at)")
USAGE_RELEASED_UNBILLED = ("billing_method = 'payg' AND released_at IS NOT NULL "
                           "AND (billed_until IS NULL OR billed_until < released_at)")
SUBSCRIPTION = "billing_method = 'subscription'"


def _month_start(moment: datetime) -> datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@contextmanager
def _through_indexes() -> Iterator[None]:
    """Read what is due through its index, whatever the planner estimates. PostgreSQL keeps no
    statistics of what a partial index holds: it estimates the rows due from the whole table
    (every resource billed up to some date before the month's cut, every release before
    yesterday), and with a big enough estimate would read the resource table through. Within
    this block it may not (SET LOCAL: this read transaction only). SQLite has no statistics
    (nothing runs ANALYZE) and picks these indexes by their shape."""
    if is_sqlite():
        yield
        return
    with database.atomic():
        database.execute_sql("SET LOCAL enable_seqscan = off")
        yield


def _of_live_accounts(rows: list[tuple[int, int]]) -> list[int]:
    """The ids of the due resources `rows` (resource id, account id), in order, whose account
    is not deleted. Each account is looked up by primary key rather than joined: with a join,
    PostgreSQL's estimate of the rows due could make it hash the whole account table."""
    live: dict[int, bool] = {}
    found: list[int] = []
    for resource_id, account_id in rows:
        if account_id not in live:
            live[account_id] = Account.select().where(
                Account.id == account_id, Account.status != "deleted").exists()
        if live[account_id]:
            found.append(resource_id)
    return found


def resources_with_usage_due(at: datetime, account_id: int | None = None) -> list[int]:
    """Pay-As-You-Go resources with a usage period due for billing at `at`, by id.

    A period ends at the next month's start or at the release, and is due 48 hours after its
    end. So usage billed up to `billed_until` has a period due when the month after it began
    48 hours ago (`billed_until` < the start of the month of `at` − 48 h), or when the
    resource was released 48 hours ago and is not billed up to its release."""
    edge = at - USAGE_BILL_DELAY
    columns = (Resource.id, Resource.account)
    queries = (
        Resource.select(*columns).where(SQL(USAGE_UNBILLED),
                                        Resource.billed_until < _month_start(edge)),
        Resource.select(*columns).where(SQL(USAGE_UNBILLED), Resource.billed_until.is_null()),
        Resource.select(*columns).where(SQL(USAGE_RELEASED_UNBILLED),
                                        Resource.released_at <= edge),
    )
    found: dict[int, int] = {}
    with _through_indexes():
        for query in queries:
            if account_id is not None:
                query = query.where(Resource.account == account_id)
            found.update(query.tuples())
        return _of_live_accounts(sorted(found.items()))


def subscriptions_due(at: datetime, account_id: int | None = None) -> list[int]:
    """Subscriptions (running or suspended) whose period has ended by `at`: to renew or
    expire, soonest ended first."""
    query = (Resource.select(Resource.id, Resource.account)
             .where(SQL(SUBSCRIPTION), Resource.state.in_(("running", "suspended")),
                    Resource.period_end <= at)
             .order_by(Resource.period_end, Resource.id))
    if account_id is not None:
        query = query.where(Resource.account == account_id)
    with _through_indexes():
        return _of_live_accounts(list(query.tuples()))


def bills_due_for_a_retry(at: datetime, account_id: int | None = None) -> list[int]:
    """Outstanding bills a run charges at `at`: issued and never charged, or whose charge a
    crash cut short (its claim's lease is over). Read through the partial index of the bills
    marked due (migration 7), never the ledger: declined bills and bills without a payment
    method are not marked, and cost a run nothing. (`_claim_charge` checks that each is still
    outstanding.)"""
    query = (Bill.select(Bill.id).where(SQL(BILL_CHARGE_DUE), Bill.next_attempt_at <= at)
             .order_by(Bill.next_attempt_at, Bill.id))
    if account_id is not None:
        query = query.where(Bill.account == account_id)
    with _through_indexes():
        return [bill_id for (bill_id,) in query.tuples()]


def _claim_charge(bill_id: int, at: datetime) -> bool:
    """Take the bill's charge for this run: its mark moves past `at` by the lease, in one
    conditional UPDATE, so of two runs (SQLite or PostgreSQL) exactly one wins it."""
    with transaction():
        if Bill.update(next_attempt_at=at + CHARGE_LEASE, attempts=Bill.attempts + 1).where(
                Bill.id == bill_id, Bill.status == "outstanding",
                Bill.next_attempt_at <= at).execute() == 1:
            return True
        # A mark left on a bill no longer outstanding (one created paid) goes, so no run
        # reads it again.
        Bill.update(next_attempt_at=None).where(Bill.id == bill_id,
                                                Bill.status != "outstanding").execute()
        return False


def _claimed_at_issue(at: datetime) -> dict:
    """A new bill's mark: claimed by the run issuing it (which charges it at once), due for
    any run once the lease is over, should this one stop before charging it."""
    return {"next_attempt_at": at + CHARGE_LEASE, "attempts": 1}


def _charge_issued(bill: Bill) -> tuple[bool | None, str]:
    """Charge a bill this run has just issued, unless another run already took it up (the
    retry of a run whose clock is later than this one's): that run charges it."""
    with claimed(CLAIM_BILL, bill.id) as ours:
        if not ours:
            return None, "outstanding (being charged by another billing run)"
        return _charge_and_describe(bill)


# --- the run's parts ---------------------------------------------------------------------------

def _bill_usage(row_id: int, at: datetime) -> list[RunEvent]:
    """Bill the resource's usage periods due at `at`, one transaction per period."""
    events: list[RunEvent] = []
    for _ in range(_MAX_STEPS_PER_RESOURCE):
        bill = None
        with claim_transaction():
            row = claim_row(Resource.select().where(Resource.id == row_id))
            if row is None:
                return events  # another run holds it, and bills it
            start = row.billed_until or row.created_at
            end = _next_cut(start)
            if row.released_at is not None:
                end = min(end, row.released_at)
            if end <= start or end + USAGE_BILL_DELAY > at:
                return events
            amount = usage_cost_cents(row.hourly_cents, row.created_at, start, end)
            same = (Resource.billed_until.is_null() if row.billed_until is None
                    else Resource.billed_until == row.billed_until)
            if Resource.update(billed_until=end).where(Resource.id == row.id, same).execute() != 1:
                continue  # another run billed it: read again
            if amount > 0:
                bill = Bill.create(account=row.account_id, resource=row.id, kind="usage",
                                   **_described(_usage_description(row, start, end)),
                                   amount_cents=amount, period_start=start, period_end=end,
                                   issued_at=at, status="outstanding", **_claimed_at_issue(at))
        if bill is None:
            continue
        charged, outcome = _charge_issued(bill)
        events.append(RunEvent(
            "bill", f"bill #{bill.id}  {_email(row.account_id)}  {bill.description}  "
                    f"{format_usd(amount)}  {outcome}",
            row.account_id, row.id, bill.id, amount, charged))
    return events


def _renew_or_expire(row_id: int, at: datetime) -> list[RunEvent]:
    """Renew (auto-renewal on) or expire a subscription whose period ended by `at`, period by
    period."""
    events: list[RunEvent] = []
    for _ in range(_MAX_STEPS_PER_RESOURCE):
        bill = None
        with claim_transaction():
            row = claim_row(Resource.select().where(Resource.id == row_id))
            if row is None or row.state not in ("running", "suspended") \
                    or row.period_end is None or row.period_end > at:
                return events
            item = PRODUCTS.get(row.product)
            name = phrase("{product} #{number} in {region}",
                          product=item.name if item else verbatim(row.product), number=row.id,
                          region=verbatim(row.region))
            if row.state == "suspended" or not row.auto_renew:
                expired = Resource.update(state="expired", released_at=row.period_end).where(
                    Resource.id == row.id, Resource.state == row.state,
                    Resource.period_end == row.period_end).execute() == 1
            else:
                expired = False
                months = row.period_months or 1
                new_end = add_months(row.created_at,
                                     months_between(row.created_at, row.period_end) + months)
                amount = subscription_price_cents(row.monthly_cents, months)
                description = phrase("{product}, renewal for {period}, {start} – {end}",
                                     product=name, period=period_label(months),
                                     start=verbatim(f"{row.period_end:%Y-%m-%d}"),
                                     end=verbatim(f"{new_end:%Y-%m-%d}"))
                if Resource.update(period_end=new_end).where(
                        Resource.id == row.id, Resource.state == "running",
                        Resource.auto_renew == True,  # noqa: E712 (SQL, not Python)
                        Resource.period_end == row.period_end).execute() != 1:
                    continue
                bill = Bill.create(account=row.account_id, resource=row.id, kind="renewal",
                                   **_described(description), amount_cents=amount,
                                   period_start=row.period_end, period_end=new_end,
                                   issued_at=at, status="outstanding", **_claimed_at_issue(at))
        who = _email(row.account_id)
        if expired:
            why = "renewal unpaid" if row.state == "suspended" else "auto-renewal off"
            events.append(RunEvent(
                "expiry", f"expiry  {who}  {name} expired and released at "
                          f"{row.period_end:%Y-%m-%d %H:%M} UTC ({why})",
                row.account_id, row.id))
        if bill is None:
            continue
        charged, outcome = _charge_issued(bill)  # a decline suspends it (`_declined`)
        events.append(RunEvent(
            "renewal", f"renewal #{bill.id}  {who}  {name} renewed until "
                       f"{new_end:%Y-%m-%d %H:%M} UTC  {format_usd(amount)}  {outcome}",
            row.account_id, row.id, bill.id, amount, charged))
    return events


def _retry_unattempted(at: datetime, account_id: int | None) -> list[RunEvent]:
    """Charge the bills due for a retry (`bills_due_for_a_retry`): a crash between issuing
    and charging, or during the charge. A bill another run is charging now is left to it: its
    session claim (PostgreSQL) or its lease on the bill (both engines) says so, and only the
    run that wins the bill's claim charges it and reports it."""
    events: list[RunEvent] = []
    for bill_id in bills_due_for_a_retry(at, account_id):
        with claimed(CLAIM_BILL, bill_id) as ours:
            if not ours or not _claim_charge(bill_id, at):
                continue
            bill = Bill.get_by_id(bill_id)  # again, now that it is ours
            if bill.status != "outstanding":
                continue
            charged, outcome = _charge_and_describe(bill)
        events.append(RunEvent(
            "charge_retry", f"charge  bill #{bill.id}  {_email(bill.account_id)}  "
                            f"{format_usd(bill.amount_cents)}  {outcome}",
            bill.account_id, bill.resource_id, bill.id, bill.amount_cents, charged))
    return events


def bill_due(at: datetime | None = None, *, account_id: int | None = None) -> list[RunEvent]:
    """The billing of a billing run: issue every bill due at `at` (default: now) and charge
    it, renew or expire subscriptions, charge bills left uncharged by a crash. Running it again
    issues nothing twice; two runs at once (two machines) split the work. `account_id` limits
    it to one account (Delete My Account settles the account first). The whole run, pending
    deletions included, is core.billing_run.run_billing."""
    at = at or clock.now()
    events: list[RunEvent] = []
    # Ids first: an open SELECT would hold its read snapshot into the write transactions.
    for row_id in resources_with_usage_due(at, account_id):
        events += _bill_usage(row_id, at)
    for row_id in subscriptions_due(at, account_id):
        events += _renew_or_expire(row_id, at)
    events += _retry_unattempted(at, account_id)
    return events


def unrecorded_order_charges() -> list[LedgerView]:
    """Successful order charges with no bill: the order could not be recorded after the
    payment (core.products); an operator refunds them."""
    rows = (LedgerEntry.select()
            .where(LedgerEntry.kind == "charge", LedgerEntry.bill.is_null(),
                   LedgerEntry.idempotency_key.startswith("order-"))
            .order_by(LedgerEntry.id))
    return [_ledger_view(r, {}) for r in rows]
