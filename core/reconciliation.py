"""Reconciliation (issue 7): finish, from the gateway's own records, whatever a crash left
half-done between our ledger and the payment gateway.

Every money-moving call writes its ledger entry (`started`, with its idempotency key) BEFORE
the gateway is called, and marks it `done`/`failed` after. A crash (SIGKILL, power loss) in
between leaves a `started` entry; a crash between placing a card's pre-authorization hold and
releasing it leaves a hold at the gateway. `reconcile()` puts both right:

1. `hold` entries left `started`: the gateway's record of the key decides — held → `done` (the
   hold itself is released in step 3), declined → `failed` with its reason, never seen →
   `failed` (nothing was held).
2. `hold_release` entries left `started`: seen by the gateway → `done`; not seen → the void is
   sent now with the same key (the entry names its authorization), then `done`.
3. Every authorization the gateway still holds (`open_authorizations()`) is voided, and the
   release recorded (`hold_release`, key `recon-release-<authorization>`, written before the
   call), whether or not our ledger knew the hold; a hold whose account is unknown is voided
   without a ledger entry (and reported).
4. `charge` entries left `started`: succeeded at the gateway → `done`, and its bill is marked
   paid by billing's own rule (core.billing: a renewal that was suspended resumes); declined →
   `charge_failed` with the reason; never seen → an order's charge is `charge_failed` (nothing
   was charged) while a bill's charge is sent again under the same key, as billing's retry
   rule says (a bill whose charge never finished is charged by the next run).
5. `refund` entries left `started` are sent again under their key.
6. Order charges that went through but whose order was never recorded (a crash between the
   charge and the order's transaction; `core.billing.unrecorded_order_charges`) are refunded
   in full (key `refund-<order key>`), so a purchase is all or nothing.
7. Gateway tokens an erasure wrote down and could not revoke then (the gateway unreachable,
   or a crash after the erasure's commit: core.payments.queue_revocations) are revoked.

A charge or refund that becomes `done` here gets its invoice or credit note in the same
transaction (core.invoices), as when its own flow finishes it.

Entries younger than `older_than` (default two minutes) are left alone: they may belong to a
flow still running in another session. Running it again changes nothing (every step is keyed:
a second run finds nothing to do, and two runs at once cannot record a release or a refund
twice). It runs in the background when the console starts and first in `cloudacct billing run`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from peewee import IntegrityError

from core import clock
from core.db import transaction
from core.errors import DomainError
from core.gateway import payment_gateway
from core.gateway.base import GatewayDecline, GatewayRecord
from core.i18n import N_, phrase
from core.models import Bill, LedgerEntry, PaymentMethod
from core.money import format_usd
from core.wording import count, record_text, stored_text, verbatim

logger = logging.getLogger("cloudacct.reconciliation")

STALE_AFTER = timedelta(minutes=2)
NOT_SENT = "Interrupted before reaching the payment gateway: nothing was charged."
NOT_HELD = "Interrupted before reaching the payment gateway: nothing was held."
HOLD_PREFIX = "Pre-authorization hold on "


@dataclass(frozen=True)
class Fix:
    kind: str  # hold_recorded | hold_failed | hold_released | release_recorded | charge_recorded
    #            | charge_failed | bill_charged | refund | orphan_hold_voided | token_revoked
    #            | error
    text: str
    entry_id: int | None = None


@dataclass(frozen=True)
class ReconciliationReport:
    at: datetime
    fixes: tuple[Fix, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> bool:
        return any(f.kind != "error" for f in self.fixes)

    @property
    def errors(self) -> tuple[Fix, ...]:
        return tuple(f for f in self.fixes if f.kind == "error")

    def count(self, kind: str) -> int:
        return sum(1 for f in self.fixes if f.kind == kind)

    def lines(self) -> list[str]:
        return [f.text for f in self.fixes]

    @property
    def summary(self) -> str:
        if not self.fixes:
            return "Reconciliation: nothing to fix."
        holds = self.count("hold_released") + self.count("orphan_hold_voided")
        return (f"Reconciliation: {count(holds, 'hold')} released, "
                f"{count(self.count('charge_recorded'), 'charge')} recorded, "
                f"{count(self.count('charge_failed'), 'interrupted charge')} marked failed, "
                f"{count(self.count('refund'), 'unrecorded order')} refunded, "
                f"{count(len(self.errors), 'error')}.")


def _set(entry_id: int, **changes) -> int:
    """Finish a `started` entry; a charge or refund that becomes `done` gets its invoice or
    credit note in the same transaction (core.invoices), as when its own flow finishes it."""
    from core.invoices import issue_for_entry

    with transaction():
        changed = LedgerEntry.update(**changes).where(LedgerEntry.id == entry_id,
                                                      LedgerEntry.status == "started").execute()
        if changed and changes.get("status") == "done":
            issue_for_entry(entry_id)
        return changed


def _stale(cutoff: datetime):
    return LedgerEntry.select().where(LedgerEntry.status == "started",
                                      LedgerEntry.created_at <= cutoff).order_by(LedgerEntry.id)


def _reason(record: GatewayRecord) -> str:
    return str(record.extra.get("reason") or "Declined by the payment gateway.")[:200]


# --- holds ------------------------------------------------------------------------------------

def _resolve_started_holds(cutoff: datetime, fixes: list[Fix]) -> None:
    gateway = payment_gateway()
    for entry in list(_stale(cutoff).where(LedgerEntry.kind == "hold")):
        record = gateway.lookup(entry.idempotency_key)
        if record is None:
            if _set(entry.id, status="failed", failure_reason=NOT_HELD):
                fixes.append(Fix("hold_failed", f"hold {entry.idempotency_key}: never reached "
                                                "the gateway, marked failed", entry.id))
        elif record.state == "declined":
            if _set(entry.id, status="failed", failure_reason=_reason(record)):
                fixes.append(Fix("hold_failed", f"hold {entry.idempotency_key}: declined at "
                                                "the gateway, marked failed", entry.id))
        elif _set(entry.id, status="done", gateway_ref=record.extra.get("object_id")):
            fixes.append(Fix("hold_recorded", f"hold {entry.idempotency_key}: placed at the "
                                              f"gateway ({record.state}), recorded", entry.id))


def _resolve_started_releases(cutoff: datetime, fixes: list[Fix]) -> None:
    gateway = payment_gateway()
    for entry in list(_stale(cutoff).where(LedgerEntry.kind == "hold_release")):
        record = gateway.lookup(entry.idempotency_key)
        if record is None and entry.gateway_ref:
            try:
                gateway.void(entry.gateway_ref, idempotency_key=entry.idempotency_key)
            except GatewayDecline as exc:
                _set(entry.id, status="failed", failure_reason=exc.reason[:200])
                continue
            record = gateway.lookup(entry.idempotency_key)
        if record is None:
            # It never reached the gateway and names no authorization (an entry written before
            # releases did): whatever it was for is still held and step 3 releases it.
            _set(entry.id, status="failed", failure_reason=NOT_HELD)
            continue
        if record.state == "declined":
            _set(entry.id, status="failed", failure_reason=_reason(record))
        elif _set(entry.id, status="done", gateway_ref=record.token):
            fixes.append(Fix("release_recorded", f"release {entry.idempotency_key}: done at the "
                                                 "gateway, recorded", entry.id))


def _created(record: GatewayRecord) -> datetime | None:
    text = record.extra.get("created_at")
    try:
        return clock.parse_instant(text) if text else None
    except ValueError:
        return None


def _release_open_holds(cutoff: datetime, fixes: list[Fix]) -> None:
    gateway = payment_gateway()
    for auth in gateway.open_authorizations():
        auth_id = auth.extra.get("object_id")
        if not auth_id:
            continue
        # Read after listing: a hold's `started` entry is committed before the gateway call.
        hold = LedgerEntry.get_or_none(LedgerEntry.idempotency_key == auth.idempotency_key)
        account_id = hold.account_id if hold is not None else None
        if account_id is None:
            method = PaymentMethod.get_or_none(PaymentMethod.gateway_token == auth.token)
            account_id = method.account_id if method is not None else None
        created = hold.created_at if hold is not None else _created(auth)
        if created is not None and created > cutoff:
            continue  # a card being saved right now: its own flow releases it
        key = f"recon-release-{auth_id}"[:64]
        if account_id is None:
            try:
                gateway.void(auth_id, idempotency_key=key)
            except GatewayDecline as exc:
                fixes.append(Fix("error", f"hold {auth_id}: void failed: {exc.reason}"))
                continue
            fixes.append(Fix("orphan_hold_voided", f"hold {auth_id} of an unknown account "
                                                   f"({format_usd(auth.amount_cents)}): voided"))
            continue
        display = (hold.description.removeprefix(HOLD_PREFIX) if hold is not None
                   else N_("a saved card"))
        release = LedgerEntry.get_or_none(LedgerEntry.idempotency_key == key)
        released = phrase("Hold released on {card}",
                          card=verbatim(display) if hold is not None else display)
        if release is None:
            try:
                with transaction():
                    release = LedgerEntry.create(
                        account=account_id, payment_method=hold.payment_method_id if hold else None,
                        kind="hold_release", amount_cents=auth.amount_cents, currency="USD",
                        description=str(released)[:200],
                        description_text=stored_text(released), idempotency_key=key,
                        gateway_ref=auth_id, status="started", created_at=clock.now())
            except IntegrityError:
                continue  # another reconciliation is releasing it
        elif release.status != "started":
            continue
        try:
            gateway.void(auth_id, idempotency_key=key)
        except GatewayDecline as exc:
            _set(release.id, status="failed", failure_reason=exc.reason[:200])
            fixes.append(Fix("error", f"hold {auth_id}: void failed: {exc.reason}", release.id))
            continue
        _set(release.id, status="done")
        fixes.append(Fix("hold_released", f"hold {auth_id} on {display} "
                                          f"({format_usd(auth.amount_cents)}) left by an "
                                          "interruption: released", release.id))


# --- charges and refunds ----------------------------------------------------------------------

def _charge_bill(bill_id: int) -> str | None:
    from core.billing import _charge_bill as charge_bill

    return charge_bill(bill_id)


def _resolve_started_charges(cutoff: datetime, fixes: list[Fix]) -> None:
    gateway = payment_gateway()
    for entry in list(_stale(cutoff).where(LedgerEntry.kind == "charge")):
        record = gateway.lookup(entry.idempotency_key)
        bill = Bill.get_or_none(Bill.id == entry.bill_id) if entry.bill_id else None
        label = f"charge {entry.idempotency_key} ({format_usd(entry.amount_cents)})"
        if record is not None and record.state == "declined":
            if _set(entry.id, status="failed", kind="charge_failed",
                    failure_reason=_reason(record)):
                fixes.append(Fix("charge_failed", f"{label}: declined at the gateway, recorded",
                                 entry.id))
                if bill is not None and bill.status == "outstanding":
                    from core.billing import charge_declined

                    charge_declined(bill.id)  # as billing does: the person pays it
            continue
        if record is not None:
            if _set(entry.id, status="done", gateway_ref=record.extra.get("object_id")):
                fixes.append(Fix("charge_recorded", f"{label}: went through at the gateway, "
                                                    "recorded", entry.id))
            if bill is not None and bill.status == "outstanding":
                _charge_bill(bill.id)  # the key is done now: marks the bill paid, charges nothing
            continue
        if bill is not None and bill.status == "outstanding":
            # Never sent: billing's rule is to charge an unfinished bill again, with this key.
            reason = _charge_bill(bill.id)
            after = LedgerEntry.get_by_id(entry.id)
            if after.status == "started":  # e.g. the bill's key moved on; nothing was sent
                _set(entry.id, status="failed", kind="charge_failed", failure_reason=NOT_SENT)
            fixes.append(Fix("bill_charged" if reason is None else "charge_failed",
                             f"{label}: never reached the gateway; bill #{bill.id} charged "
                             f"again: {'paid' if reason is None else reason}", entry.id))
            continue
        if _set(entry.id, status="failed", kind="charge_failed", failure_reason=NOT_SENT):
            fixes.append(Fix("charge_failed", f"{label}: never reached the gateway, nothing "
                                              "charged; marked failed", entry.id))


def _send_refund(entry: LedgerEntry, fixes: list[Fix], text: str) -> None:
    try:
        refund = payment_gateway().refund(entry.gateway_ref, entry.amount_cents,
                                          idempotency_key=entry.idempotency_key)
    except GatewayDecline as exc:
        _set(entry.id, status="failed", failure_reason=exc.reason[:200])
        fixes.append(Fix("error", f"{text}: refund failed: {exc.reason}", entry.id))
        return
    if _set(entry.id, status="done", description=f"{entry.description} ({refund.id})"[:200]):
        fixes.append(Fix("refund", text, entry.id))


def _resolve_started_refunds(cutoff: datetime, fixes: list[Fix]) -> None:
    for entry in list(_stale(cutoff).where(LedgerEntry.kind == "refund")):
        if not entry.gateway_ref:
            _set(entry.id, status="failed", failure_reason=NOT_SENT)
            continue
        _send_refund(entry, fixes, f"refund {entry.idempotency_key} "
                                   f"({format_usd(entry.amount_cents)}): finished")


def _refund_description(charge: LedgerEntry) -> dict[str, str | None]:
    text = phrase("Refund: the order could not be recorded ({order})",
                  order=record_text(charge.description, charge.description_text))
    return {"description": str(text)[:200], "description_text": stored_text(text)}


def _refund_unrecorded_orders(cutoff: datetime, fixes: list[Fix]) -> None:
    orders = (LedgerEntry.select()
              .where(LedgerEntry.kind == "charge", LedgerEntry.status == "done",
                     LedgerEntry.bill.is_null(), LedgerEntry.idempotency_key.startswith("order-"),
                     LedgerEntry.created_at <= cutoff)
              .order_by(LedgerEntry.id))
    for charge in list(orders):
        key = f"refund-{charge.idempotency_key}"[:64]
        if LedgerEntry.select().where(LedgerEntry.idempotency_key == key).exists():
            continue  # refunded (or being refunded: step 5 finishes it)
        try:
            with transaction():
                if Bill.select().join(LedgerEntry, on=(LedgerEntry.bill == Bill.id)).where(
                        LedgerEntry.id == charge.id).exists():
                    continue  # recorded after all
                entry = LedgerEntry.create(
                    account=charge.account_id, payment_method=charge.payment_method_id,
                    kind="refund", amount_cents=charge.amount_cents, currency=charge.currency,
                    **_refund_description(charge),
                    gateway_ref=charge.gateway_ref, idempotency_key=key, status="started",
                    created_at=clock.now())
        except IntegrityError:
            continue
        _send_refund(entry, fixes, f"order {charge.idempotency_key} "
                                   f"({format_usd(charge.amount_cents)}) charged but never "
                                   "recorded: refunded")


def _revoke_left_tokens(cutoff: datetime, fixes: list[Fix]) -> None:
    from core.payments import revoke_queued

    done = revoke_queued(queued_before=cutoff)
    if done.revoked:
        fixes.append(Fix("token_revoked", f"{count(done.revoked, 'payment token')} of deleted "
                                          "accounts revoked at the gateway"))
    if done.left:
        fixes.append(Fix("error", f"{count(done.left, 'payment token')} of deleted accounts "
                                  "could not be revoked yet: the gateway refused"))


# --- the whole pass ---------------------------------------------------------------------------

_STEPS = (_resolve_started_holds, _resolve_started_releases, _release_open_holds,
          _resolve_started_charges, _resolve_started_refunds, _refund_unrecorded_orders,
          _revoke_left_tokens)


def reconcile(at: datetime | None = None, *,
              older_than: timedelta = STALE_AFTER) -> ReconciliationReport:
    """Finish every money movement an interruption left half-done (see the module's doc).
    Entries newer than `at - older_than` are left to the flow that is still running them.
    A step that fails (the gateway or the database unavailable) is reported and the others
    still run; running it again later finishes the job."""
    at = at or clock.now()
    cutoff = at - older_than
    fixes: list[Fix] = []
    for step in _STEPS:
        try:
            step(cutoff, fixes)
        except (DomainError, GatewayDecline) as exc:
            message = getattr(exc, "message", None) or getattr(exc, "reason", str(exc))
            fixes.append(Fix("error", f"{step.__name__.strip('_')}: {message}"))
    for fix in fixes:
        (logger.warning if fix.kind == "error" else logger.info)("reconcile: %s", fix.text)
    return ReconciliationReport(at, tuple(fixes))
