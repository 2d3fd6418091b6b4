"""The billing run, and paying what is outstanding: the two ways a charge settles an account,
and so the two places where a pending deletion (F10) is completed.

Why a module of its own: a billing run bills (core.billing) and then completes the pending
deletions it may have settled (core.deletion), and paying the last bill of an account whose
deletion is pending deletes it at once. Deletion in turn needs billing: its blockers are
billing's outstanding bills and unbilled usage, and Delete My Account first has billing settle
the account (`core.billing.bill_due`). Were the run in core.billing, billing and deletion would
import each other. So the order is one way: this module → core.deletion → core.billing, and
core.billing knows nothing of deletion. (A hook that deletion registers in billing would also
break the circle, but only once something has imported deletion: `cloudacct billing run` would
then depend on an import elsewhere to complete deletions. Here the run reads top to bottom.)

- `run_billing(at)` is `cloudacct billing run` (CONTRACT): every bill due now (or at
  `CLOUDACCT_NOW`) issued and charged, subscriptions renewed or expired, bills left uncharged by
  a crash charged, then the pending deletions completed. Idempotent; two runs at once split the
  work (core.claims).
- `pay_outstanding(token, method_id=None)` is the Billing section's **Pay outstanding bills**,
  with the default method or the one the person chose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core import clock, notices
from core.billing import PaymentResult, RunEvent, bill_due, charge_outstanding
from core.deletion import complete_pending_deletions
from core.money import format_usd
from core.sessions import require_account
from core.wording import count


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
        return (f"Billing run at {clock.iso(self.at)}: {count(self.bills_issued, 'bill')} "
                f"issued ({format_usd(self.billed_cents)}), {self.outstanding} left "
                f"outstanding; {count(self._count('renewal'), 'renewal')}, "
                f"{count(self._count('expiry'), 'expiry', 'expiries')}, "
                f"{count(self._count('deletion'), 'deletion')} completed.")


def run_billing(at: datetime | None = None, *, account_id: int | None = None) -> BillingRunReport:
    """Issue every bill due at `at` (default: now) and charge it, renew or expire subscriptions,
    charge bills left uncharged by a crash, then complete pending deletions. `account_id`
    limits the billing to one account and completes no deletion."""
    at = at or clock.now()
    events = bill_due(at, account_id=account_id)
    if account_id is None:
        events += complete_pending_deletions(at)
    notices.notify_billing_run(events, at, account_id=account_id)  # F15, after the commits
    return BillingRunReport(at, tuple(events))


def pay_outstanding(token: str | None, method_id: int | str | None = None) -> PaymentResult:
    """**Pay outstanding bills** (F8, F17): every outstanding bill, oldest first, with the
    default method or the live method `method_id` the person chose (NotFound, field
    `payment`, when it is not one of theirs; nothing is charged then); a decline stops there
    with core.billing.PaymentFailed. When the account's deletion is pending, the last bill
    paid may be all it was waiting for: it is completed at once."""
    account = require_account(token)
    result = charge_outstanding(account.id, method_id)
    if result.paid and account.status == "deletion_pending":
        complete_pending_deletions(account_id=account.id)
    return result
