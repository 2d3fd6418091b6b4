"""F8 Billing: billing runs, bills, paying what is outstanding.

Decisions
- Pay-As-You-Go usage is cut into *usage periods* that end at the start of each UTC calendar
  month and at release. A period's bill is issued by the first billing run at or after 48 hours
  past the period's end (`USAGE_BILL_DELAY`): a resource released at T is billed at T + 48 h,
  not at T + 48 h − 1 s. The amount is the difference of the rounded-up running totals
  (core.products.usage_cost_cents), so bills add up to the resource's exact running cost.
  `Resource.billed_until` records how far usage is billed; a period of zero cents advances it
  without a bill.
- A bill is charged to the default method when issued. A failed charge leaves it `outstanding`;
  the person pays it with `pay_outstanding`.
- Subscriptions at their period end: with auto-renewal on, a `renewal` bill for the next period
  is issued and charged and the period extended. A declined renewal leaves the bill outstanding
  and *suspends* the resource (state `suspended`); paying the bill before the new period ends
  resumes it, and a subscription still suspended at that end expires. With auto-renewal off the
  subscription expires: state `expired`, released at its period end.
- A run's cost follows what is due, not how many accounts there are: each part starts from
  its due items, read through indexes ("what is due" below): usage due and subscriptions at
  their period end through the partial indexes of migration 2, bills due for a retry and
  pending deletions through the status indexes of bills and accounts.
- Idempotent and safe to run concurrently: every bill is issued in its own transaction that
  advances the resource (billed_until / period_end) with a conditional UPDATE that re-checks the
  value it read, so two runs cannot issue the same bill. On PostgreSQL that transaction claims
  the resource row FOR UPDATE SKIP LOCKED instead of taking core.db's global write lock, so two
  machines running billing at once split the due items; a bill being charged and a pending
  deletion being completed are claimed too ("claiming what is due" below). Charges use
  deterministic idempotency keys `bill-<id>-<attempt>` (attempt = 1 + earlier attempts in the
  ledger), so a retry after a crash reuses the key of the attempt that may have reached the
  gateway. A bill whose charge was never attempted (a crash between issuing and charging) is
  charged by the next run.
- `complete_pending_deletions()` is the hook the deletion flow (F10) fills in; a run calls it
  last.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from peewee import SQL, ModelSelect, OperationalError

from core import clock, notices
from core.catalogue import PRODUCTS, subscription_price_cents
from core.db import database, is_sqlite, storage_message, transaction
from core.errors import DomainError, Refused, StorageError
from core.models import Account, Bill, LedgerEntry, PaymentMethod, Resource
from core.money import format_usd
from core.products import add_months, months_between, usage_cost_cents
from core.sessions import require_account

USAGE_BILL_DELAY = timedelta(hours=48)
_MAX_STEPS_PER_RESOURCE = 1000  # a safety net for a clock far in the future

# --- views ------------------------------------------------------------------------------------

LEDGER_LABELS = {
    "hold": "Pre-authorization hold",
    "hold_release": "Hold released",
    "charge": "Charge",
    "charge_failed": "Charge declined",
    "refund": "Refund",
}


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


@dataclass(frozen=True)
class LedgerView:
    id: int
    kind: str  # hold | hold_release | charge | charge_failed | refund
    label: str
    amount_cents: int
    description: str
    status: str
    created_at: datetime
    bill_id: int | None
    method: str | None  # "Visa •••• 4242"

    @property
    def amount_text(self) -> str:
        return format_usd(self.amount_cents)


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


@dataclass(frozen=True)
class BillingSummary:
    outstanding_cents: int
    outstanding: tuple[BillView, ...]
    paid: tuple[BillView, ...]
    ledger: tuple[LedgerView, ...]  # holds and releases, charges, refunds; newest first
    pending_usage: tuple[PendingUsage, ...]

    @property
    def outstanding_text(self) -> str:
        return format_usd(self.outstanding_cents)


def bill_view(row: Bill) -> BillView:
    return BillView(row.id, row.kind, row.description, row.amount_cents, row.status,
                    row.issued_at, row.paid_at, row.period_start, row.period_end,
                    row.resource_id)


def _ledger_view(row: LedgerEntry, methods: dict[int, str]) -> LedgerView:
    return LedgerView(row.id, row.kind, LEDGER_LABELS.get(row.kind, row.kind), row.amount_cents,
                      row.description, row.status, row.created_at, row.bill_id,
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


def _usage_description(row: Resource, start: datetime, end: datetime) -> str:
    item = PRODUCTS.get(row.product)
    name = item.name if item else row.product
    return (f"{name} #{row.id} usage in {row.region}, "
            f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC")


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
        found.append(PendingUsage(row.id, _usage_description(row, start, end), start, end,
                                  amount, running,
                                  None if running else end + USAGE_BILL_DELAY))
    return found


def billing_summary(token: str | None) -> BillingSummary:
    """What the billing screen shows: outstanding and paid bills, and the ledger."""
    account = require_account(token)
    bills = [bill_view(r) for r in _bills(account.id)]
    outstanding = tuple(b for b in bills if b.status == "outstanding")
    methods = {m.id: m.display for m in
               PaymentMethod.select().where(PaymentMethod.account == account.id)}
    ledger = (LedgerEntry.select().where(LedgerEntry.account == account.id)
              .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()))
    return BillingSummary(
        outstanding_cents=sum(b.amount_cents for b in outstanding),
        outstanding=outstanding,
        paid=tuple(b for b in bills if b.status == "paid"),
        ledger=tuple(_ledger_view(e, methods) for e in ledger),
        pending_usage=tuple(pending_usage(account.id)),
    )


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


def _charge_declined_before(bill_id: int) -> bool:
    return any(entry.status == "failed" for entry in _charge_attempts(bill_id))


def _charge_bill(bill_id: int) -> str | None:
    """Charge an outstanding bill to the default method; None when paid, else the reason."""
    from core.payments import charge_default_method

    bill = Bill.get_by_id(bill_id)
    if bill.status != "outstanding":
        return None
    try:
        charge_default_method(bill.account_id, bill.amount_cents, bill.description,
                              bill_id=bill.id, idempotency_key=_attempt_key(bill.id))
    except DomainError as exc:  # PaymentDeclined, no payment method, storage busy …
        return exc.message
    at = clock.now()
    with transaction():
        Bill.update(status="paid", paid_at=at).where(
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


class PaymentFailed(Refused):
    """Paying outstanding bills stopped at a declined charge (`.reason`; `.paid` went through)."""

    def __init__(self, reason: str, paid: tuple[BillView, ...], still_outstanding: int) -> None:
        self.reason = reason
        self.paid = paid
        self.still_outstanding_cents = still_outstanding
        text = reason.rstrip(".")
        message = f"The payment did not go through: {text}."
        if paid:
            message += f" {len(paid)} bill(s) were paid first."
        message += f" {format_usd(still_outstanding)} is still outstanding."
        super().__init__(message)


def pay_outstanding(token: str | None) -> PaymentResult:
    """Pay every outstanding bill, oldest first, with the default method. A decline stops
    there with PaymentFailed (the bill stays outstanding; those paid before stay paid)."""
    account = require_account(token)
    paid: list[BillView] = []
    for bill in outstanding_bills(account.id):
        reason = _charge_bill(bill.id)
        if reason is not None:
            remaining = sum(b.amount_cents for b in outstanding_bills(account.id))
            raise PaymentFailed(reason, tuple(paid), remaining)
        paid.append(bill_view(Bill.get_by_id(bill.id)))
    if paid and account.status == "deletion_pending":
        # The last bill paid may be all a pending deletion was waiting for (F10).
        from core.deletion import complete_pending_deletions

        complete_pending_deletions(account_id=account.id)
    return PaymentResult(tuple(paid))


# --- the billing run ------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunEvent:
    kind: str  # bill | renewal | suspension | expiry | charge_retry | deletion | deletion_waiting
    text: str
    account_id: int | None = None
    resource_id: int | None = None
    bill_id: int | None = None
    amount_cents: int = 0
    charged: bool | None = None  # for bills: paid at issue, or left outstanding


@dataclass(frozen=True)
class BillingRunReport:
    at: datetime
    events: tuple[RunEvent, ...] = field(default_factory=tuple)

    def _count(self, kind: str) -> int:
        return sum(1 for e in self.events if e.kind == kind)

    @property
    def bills_issued(self) -> int:
        return sum(1 for e in self.events if e.kind in ("bill", "renewal") and e.bill_id)

    @property
    def billed_cents(self) -> int:
        return sum(e.amount_cents for e in self.events
                   if e.kind in ("bill", "renewal") and e.bill_id)

    @property
    def outstanding(self) -> int:
        return sum(1 for e in self.events
                   if e.kind in ("bill", "renewal", "charge_retry") and e.charged is False)

    def lines(self) -> list[str]:
        return [e.text for e in self.events]

    @property
    def summary(self) -> str:
        return (f"Billing run at {clock.iso(self.at)}: {self.bills_issued} bill(s) issued "
                f"({format_usd(self.billed_cents)}), {self.outstanding} left outstanding; "
                f"{self._count('renewal')} renewal(s), {self._count('expiry')} expiry(ies), "
                f"{self._count('deletion')} deletion(s) completed.")


def _email(account_id: int) -> str:
    account = Account.get_or_none(Account.id == account_id)
    return account.email if account is not None else f"account {account_id}"


def _charge_and_describe(bill: Bill) -> tuple[bool, str]:
    reason = _charge_bill(bill.id)
    if reason is None:
        return True, "paid"
    return False, f"outstanding (charge failed: {reason})"


# --- what is due ---------------------------------------------------------------------------------
# Every part of a run starts from what is due, read through an index, never from the account
# or resource table as a whole: a run with nothing due costs the same at a thousand accounts as
# at a million. Usage and subscriptions are read through the partial indexes of migration 2,
# whose predicates the queries repeat as SQL text, word for word: SQLite uses a partial index
# only when the query repeats its WHERE terms, constants included (a bound parameter does not
# count as the constant). Bills due for a retry are read through the index on bill.status.

USAGE_UNBILLED = ("billing_method = 'payg' AND (released_at IS NULL OR billed_until IS NULL "
                  "OR billed_until < released_at)")
USAGE_RELEASED_UNBILLED = ("billing_method = 'payg' AND released_at IS NOT NULL "
                           "AND (billed_until IS NULL OR billed_until < released_at)")
SUBSCRIPTION = "billing_method = 'subscription'"
_CHUNK = 500  # ids per IN (...) list


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
    """Outstanding bills issued before `at` whose charge never finished: no attempt, or one
    cut short by a crash. A declined bill is not retried: the person pays it. (Every
    outstanding bill is read, the declined ones too: what tells them apart is in the ledger,
    read through its index on the bill.)"""
    query = Bill.select(Bill.id).where(Bill.status == "outstanding", Bill.issued_at < at)
    if account_id is not None:
        query = query.where(Bill.account == account_id)
    with _through_indexes():
        outstanding = [bill_id for (bill_id,) in query.order_by(Bill.id).tuples()]
        declined: set[int] = set()
        for first in range(0, len(outstanding), _CHUNK):
            chunk = outstanding[first:first + _CHUNK]
            declined.update(bill_id for (bill_id,) in LedgerEntry.select(LedgerEntry.bill).where(
                LedgerEntry.bill.in_(chunk), LedgerEntry.status == "failed").tuples())
    return [bill_id for bill_id in outstanding if bill_id not in declined]


# --- claiming what is due (two machines may run billing at once) -------------------------------
# Issuing is claimed with a row lock: on PostgreSQL the resource row is locked FOR UPDATE SKIP
# LOCKED in a transaction that does not take core.db's global write lock, so two runs split the
# due items instead of queueing behind each other (and behind people's own writes); a row
# another run holds is skipped, as that run bills it. On SQLite the transaction is BEGIN
# IMMEDIATE, one writer at a time. Either way the UPDATE that advances the resource re-checks
# what was read, so an item is billed once even without the lock.
#
# Charging spans transactions and a gateway call, so a row lock cannot cover it: a bill being
# charged (and a pending deletion being completed) is claimed with a session advisory lock
# tried without waiting, pg_try_advisory_lock(class, id), which a crashed run's dropped
# connection lets go. Two int4 keys: a key space apart from core.db's single bigint keys.

CLAIM_BILL = 0x63610001  # a bill being charged by a run
CLAIM_DELETION = 0x63610002  # a pending deletion being completed by a run


@contextmanager
def _claim_transaction() -> Iterator[None]:
    """The transaction in which a run claims one due item and issues what it owes."""
    if is_sqlite():
        with transaction():
            yield
        return
    try:
        with database.atomic():
            yield
    except OperationalError as exc:
        raise StorageError(storage_message(exc)) from exc


def _claim(query: ModelSelect) -> Resource | None:
    """The row of `query`, locked until the claim transaction ends; None when it is gone or
    (PostgreSQL) another run holds it."""
    if not is_sqlite():
        query = query.for_update(skip_locked=True)
    return query.first()


@contextmanager
def claimed(kind: int, item_id: int) -> Iterator[bool]:
    """Whether this process may work on the item now, for the length of the block. False on
    PostgreSQL when another run is working on it at this moment; always True on SQLite, where
    the conditional writes and the idempotency keys make a second worker harmless."""
    if is_sqlite():
        yield True
        return
    ours = bool(database.execute_sql("SELECT pg_try_advisory_lock(%s, %s)",
                                     (kind, item_id)).fetchone()[0])
    try:
        yield ours
    finally:
        if ours:
            database.execute_sql("SELECT pg_advisory_unlock(%s, %s)", (kind, item_id))


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
        with _claim_transaction():
            row = _claim(Resource.select().where(Resource.id == row_id))
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
                                   description=_usage_description(row, start, end),
                                   amount_cents=amount, period_start=start, period_end=end,
                                   issued_at=at, status="outstanding")
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
        with _claim_transaction():
            row = _claim(Resource.select().where(Resource.id == row_id))
            if row is None or row.state not in ("running", "suspended") \
                    or row.period_end is None or row.period_end > at:
                return events
            item = PRODUCTS.get(row.product)
            name = f"{item.name if item else row.product} #{row.id} in {row.region}"
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
                description = (f"{name}, renewal for {months} month(s), "
                               f"{row.period_end:%Y-%m-%d} – {new_end:%Y-%m-%d}")
                if Resource.update(period_end=new_end).where(
                        Resource.id == row.id, Resource.state == "running",
                        Resource.auto_renew == True,  # noqa: E712 (SQL, not Python)
                        Resource.period_end == row.period_end).execute() != 1:
                    continue
                bill = Bill.create(account=row.account_id, resource=row.id, kind="renewal",
                                   description=description, amount_cents=amount,
                                   period_start=row.period_end, period_end=new_end,
                                   issued_at=at, status="outstanding")
        who = _email(row.account_id)
        if expired:
            why = "renewal unpaid" if row.state == "suspended" else "auto-renewal off"
            events.append(RunEvent(
                "expiry", f"expiry  {who}  {name} expired and released at "
                          f"{row.period_end:%Y-%m-%d %H:%M} UTC ({why})",
                row.account_id, row.id))
        if bill is None:
            continue
        charged, outcome = _charge_issued(bill)
        if charged is False:
            with transaction():
                Resource.update(state="suspended").where(
                    Resource.id == row.id, Resource.state == "running",
                    Resource.period_end == new_end).execute()
            outcome += "; suspended until paid"
        events.append(RunEvent(
            "renewal", f"renewal #{bill.id}  {who}  {name} renewed until "
                       f"{new_end:%Y-%m-%d %H:%M} UTC  {format_usd(amount)}  {outcome}",
            row.account_id, row.id, bill.id, amount, charged))
    return events


def _retry_unattempted(at: datetime, account_id: int | None) -> list[RunEvent]:
    """Charge the bills due for a retry (`bills_due_for_a_retry`): a crash between issuing
    and charging, or during the charge. A bill another run is charging now is left to it."""
    events: list[RunEvent] = []
    for bill_id in bills_due_for_a_retry(at, account_id):
        with claimed(CLAIM_BILL, bill_id) as ours:
            if not ours:
                continue
            bill = Bill.get_by_id(bill_id)  # again, now that it is ours
            if bill.status != "outstanding" or _charge_declined_before(bill.id):
                continue
            charged, outcome = _charge_and_describe(bill)
        events.append(RunEvent(
            "charge_retry", f"charge  bill #{bill.id}  {_email(bill.account_id)}  "
                            f"{format_usd(bill.amount_cents)}  {outcome}",
            bill.account_id, bill.resource_id, bill.id, bill.amount_cents, charged))
    return events


def complete_pending_deletions(at: datetime | None = None) -> list[RunEvent]:
    """Delete the accounts in `deletion_pending` whose last usage is billed and whose bills are
    all paid (F10, core.deletion): a `deletion` event for each one erased, a
    `deletion_waiting` event for each one still waiting (and for what)."""
    from core.deletion import complete_pending_deletions as complete

    return complete(at or clock.now())


def run_billing(at: datetime | None = None, *, account_id: int | None = None) -> BillingRunReport:
    """Issue every bill due at `at` (default: now) and charge it, renew or expire subscriptions,
    charge bills left uncharged by a crash, then complete pending deletions. Running it again
    issues nothing twice; two runs at once (two machines) split the work. `account_id` limits
    it to one account (e.g. when its console opens)."""
    at = at or clock.now()
    events: list[RunEvent] = []
    # Ids first: an open SELECT would hold its read snapshot into the write transactions.
    for row_id in resources_with_usage_due(at, account_id):
        events += _bill_usage(row_id, at)
    for row_id in subscriptions_due(at, account_id):
        events += _renew_or_expire(row_id, at)
    events += _retry_unattempted(at, account_id)
    if account_id is None:
        events += complete_pending_deletions(at)
    notices.notify_billing_run(events, at, account_id=account_id)  # F15, after the commits
    return BillingRunReport(at, tuple(events))


def unrecorded_order_charges() -> list[LedgerView]:
    """Successful order charges with no bill: the order could not be recorded after the
    payment (core.products); an operator refunds them."""
    rows = (LedgerEntry.select()
            .where(LedgerEntry.kind == "charge", LedgerEntry.bill.is_null(),
                   LedgerEntry.idempotency_key.startswith("order-"))
            .order_by(LedgerEntry.id))
    return [_ledger_view(r, {}) for r in rows]
