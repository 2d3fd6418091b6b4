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
- Idempotent and safe to run concurrently: every bill is issued in its own transaction that
  advances the resource (billed_until / period_end) with a conditional UPDATE that re-checks the
  value it read, so two runs cannot issue the same bill. Charges use deterministic idempotency
  keys `bill-<id>-<attempt>` (attempt = 1 + earlier attempts in the ledger), so a retry after a
  crash reuses the key of the attempt that may have reached the gateway. A bill whose charge was
  never attempted (a crash between issuing and charging) is charged by the next run.
- `complete_pending_deletions()` is the hook the deletion flow (F10) fills in; a run calls it
  last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core import clock
from core.catalogue import PRODUCTS, subscription_price_cents
from core.db import transaction
from core.errors import DomainError, Refused
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

def _attempt_key(bill_id: int) -> str:
    """The idempotency key of the next charge attempt of a bill: the key of an attempt that
    may have reached the gateway (`started`, a crash mid-call) or went through (`done`, a
    crash before the bill was marked paid) is reused, so it cannot charge twice; otherwise a
    new one (`bill-<id>-<n>`; a failed key cannot be reused)."""
    prefix = f"bill-{bill_id}-"
    entries = list(LedgerEntry.select(LedgerEntry.idempotency_key, LedgerEntry.status)
                   .where(LedgerEntry.idempotency_key.startswith(prefix))
                   .order_by(LedgerEntry.id))
    for entry in entries:
        if entry.status in ("started", "done"):
            return entry.idempotency_key
    return f"{prefix}{len(entries) + 1}"


def _charge_declined_before(bill_id: int) -> bool:
    return (LedgerEntry.select()
            .where(LedgerEntry.idempotency_key.startswith(f"bill-{bill_id}-"),
                   LedgerEntry.status == "failed").exists())


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


def _bill_usage(row_id: int, at: datetime) -> list[RunEvent]:
    events: list[RunEvent] = []
    for _ in range(_MAX_STEPS_PER_RESOURCE):
        row = Resource.get_by_id(row_id)
        start = row.billed_until or row.created_at
        end = _next_cut(start)
        if row.released_at is not None:
            end = min(end, row.released_at)
        if end <= start or end + USAGE_BILL_DELAY > at:
            return events
        amount = usage_cost_cents(row.hourly_cents, row.created_at, start, end)
        bill = None
        with transaction():
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
        charged, outcome = _charge_and_describe(bill)
        events.append(RunEvent(
            "bill", f"bill #{bill.id}  {_email(row.account_id)}  {bill.description}  "
                    f"{format_usd(amount)}  {outcome}",
            row.account_id, row.id, bill.id, amount, charged))
    return events


def _renew_or_expire(row_id: int, at: datetime) -> list[RunEvent]:
    events: list[RunEvent] = []
    for _ in range(_MAX_STEPS_PER_RESOURCE):
        row = Resource.get_by_id(row_id)
        if row.state not in ("running", "suspended") or row.period_end is None \
                or row.period_end > at:
            return events
        item = PRODUCTS.get(row.product)
        name = f"{item.name if item else row.product} #{row.id} in {row.region}"
        who = _email(row.account_id)
        if row.state == "suspended" or not row.auto_renew:
            with transaction():
                done = Resource.update(state="expired", released_at=row.period_end).where(
                    Resource.id == row.id, Resource.state == row.state,
                    Resource.period_end == row.period_end).execute()
            if done == 1:
                why = "renewal unpaid" if row.state == "suspended" else "auto-renewal off"
                events.append(RunEvent(
                    "expiry", f"expiry  {who}  {name} expired and released at "
                              f"{row.period_end:%Y-%m-%d %H:%M} UTC ({why})",
                    row.account_id, row.id))
            continue
        months = row.period_months or 1
        new_end = add_months(row.created_at,
                             months_between(row.created_at, row.period_end) + months)
        amount = subscription_price_cents(row.monthly_cents, months)
        description = (f"{name}, renewal for {months} month(s), "
                       f"{row.period_end:%Y-%m-%d} – {new_end:%Y-%m-%d}")
        bill = None
        with transaction():
            if Resource.update(period_end=new_end).where(
                    Resource.id == row.id, Resource.state == "running",
                    Resource.auto_renew == True,  # noqa: E712 (SQL, not Python)
                    Resource.period_end == row.period_end).execute() != 1:
                continue
            bill = Bill.create(account=row.account_id, resource=row.id, kind="renewal",
                               description=description, amount_cents=amount,
                               period_start=row.period_end, period_end=new_end,
                               issued_at=at, status="outstanding")
        charged, outcome = _charge_and_describe(bill)
        if not charged:
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
    """Outstanding bills issued before this run whose charge never finished (a crash between
    issuing and charging, or during the charge). A bill whose charge was declined is not
    retried: the person pays it (`pay_outstanding`)."""
    query = Bill.select().where(Bill.status == "outstanding", Bill.issued_at < at)
    if account_id is not None:
        query = query.where(Bill.account == account_id)
    events: list[RunEvent] = []
    for bill in list(query.order_by(Bill.id)):
        if _charge_declined_before(bill.id):
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
    issues nothing twice. `account_id` limits it to one account (e.g. when its console opens)."""
    at = at or clock.now()
    live = Account.select(Account.id).where(Account.status != "deleted")
    if account_id is not None:
        live = live.where(Account.id == account_id)
    events: list[RunEvent] = []
    usage = (Resource.select(Resource.id)
             .where(Resource.billing_method == "payg", Resource.account.in_(live),
                    Resource.released_at.is_null() | Resource.billed_until.is_null()
                    | (Resource.billed_until < Resource.released_at))
             .order_by(Resource.id))
    # Ids first: an open SELECT would hold its read snapshot into the write transactions.
    for row in list(usage):
        events += _bill_usage(row.id, at)
    subscriptions = (Resource.select(Resource.id)
                     .where(Resource.billing_method == "subscription",
                            Resource.state.in_(("running", "suspended")),
                            Resource.period_end <= at, Resource.account.in_(live))
                     .order_by(Resource.period_end, Resource.id))
    for row in list(subscriptions):
        events += _renew_or_expire(row.id, at)
    events += _retry_unattempted(at, account_id)
    if account_id is None:
        events += complete_pending_deletions(at)
    return BillingRunReport(at, tuple(events))


def unrecorded_order_charges() -> list[LedgerView]:
    """Successful order charges with no bill: the order could not be recorded after the
    payment (core.products); an operator refunds them."""
    rows = (LedgerEntry.select()
            .where(LedgerEntry.kind == "charge", LedgerEntry.bill.is_null(),
                   LedgerEntry.idempotency_key.startswith("order-"))
            .order_by(LedgerEntry.id))
    return [_ledger_view(r, {}) for r in rows]
