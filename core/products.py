"""F7 Products and the purchase gate: orders, resources, release and auto-renewal.

Decisions
- The gate: an active account, a billing address, a payment method; a region of mainland China
  also needs approved real-name registration. A refusal (`PurchaseRefused`) names every missing
  step, and `.missing` holds them as `MissingStep(key, text)`.
- Subscription: paid up front with the default method. The charge goes first, under a fresh
  idempotency key `order-<random>`; only when it succeeds are the resource and its (paid) bill
  recorded, in one transaction, and the ledger entry of the charge linked to the bill. A decline
  creates nothing (the payments module records the failed attempt in the ledger). Should the
  recording fail after a successful charge, the charge stays in the ledger (kind `charge`, no
  bill, key `order-…`) where `core.billing.unrecorded_order_charges()` finds it for a refund.
  The period ends N calendar months after purchase (the 31st becomes the month's last day).
  A subscription cannot be released before its period ends; with auto-renewal off it expires
  (and is released) at the period's end.
- Pay-As-You-Go: runs from the order, accrues its hourly price per second of use, rounded up to
  the whole cent over the usage so far (`usage_cost_cents`), and can be released at any time.
  Its usage is billed by core.billing (48 hours after each usage period ends).
- Resource states: `running`, `suspended` (a subscription whose renewal charge was declined,
  until the renewal bill is paid), `expired` (a subscription that ended: released at its period
  end) and `released` (Pay-As-You-Go released by the person).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from core import catalogue, clock
from core.billing import USAGE_BILL_DELAY
from core.catalogue import (
    BILLING_METHODS,
    PRODUCTS,
    REGIONS,
    Product,
    Region,
    add_months,
    default_region,
    months_between,  # noqa: F401 (named here too: callers know it from this module)
    subscription_price_cents,
    usage_cost_cents,
)
from core.db import transaction
from core.errors import NotFound, Refused, StorageError
from core.forms import FormCheck
from core.i18n import N_, money, phrase
from core.models import Account, Bill, BillingAddress, LedgerEntry, PaymentMethod, Resource
from core.sessions import require_account
from core.validation import parse_object_id
from core.wording import listed, stored_text, verbatim

# --- the purchase gate ----------------------------------------------------------------------

@dataclass(frozen=True)
class MissingStep:
    key: str  # verify | billing-address | payment-method | real-name
    text: str


class PurchaseRefused(Refused):
    """Buying is refused until every missing step is done (`.missing`)."""

    def __init__(self, where: Region, missing: list[MissingStep]) -> None:
        self.region = where.id
        self.missing = tuple(missing)
        super().__init__(phrase("Before you can buy in {region}: {steps}.",
                                region=verbatim(where.id),
                                steps=listed([step.text for step in missing])))


def _steps_everywhere(account: Account) -> list[MissingStep]:
    """The steps every region needs: an active account, a billing address, a payment method."""
    steps: list[MissingStep] = []
    if account.status != "active":
        steps.append(MissingStep("verify", N_("verify your account")))
    if not BillingAddress.select().where(BillingAddress.account == account.id).exists():
        steps.append(MissingStep("billing-address", N_("add a billing address")))
    if not PaymentMethod.select().where(PaymentMethod.account == account.id,
                                        PaymentMethod.removed_at.is_null()).exists():
        steps.append(MissingStep("payment-method", N_("add a payment method")))
    return steps


def _real_name_step(account: Account) -> MissingStep | None:
    """The step a mainland China region needs too: approved real-name registration."""
    from core.real_name import registration_status

    status = registration_status(account.id)
    if status == "approved":
        return None
    text = {
        "pending": N_("real-name registration required (yours is waiting for review)"),
        "rejected": N_("real-name registration required (yours was rejected: correct it "
                       "and submit again)"),
    }.get(status, N_("real-name registration required"))
    return MissingStep("real-name", text)


def _gate(account: Account, where: Region) -> list[MissingStep]:
    steps = _steps_everywhere(account)
    if where.mainland_china:
        step = _real_name_step(account)
        if step is not None:
            steps.append(step)
    return steps


def _refuse_if_deleting(account: Account) -> None:
    if account.status == "deletion_pending":
        raise Refused("This account is being deleted: nothing new can be bought.")


def purchase_gate(token: str | None, region: str | None) -> list[MissingStep]:
    """Every step still missing before the account can buy in `region` (empty: may buy)."""
    account = require_account(token)
    return _gate(account, catalogue.region(region))


# --- resources ------------------------------------------------------------------------------

STATE_LABELS = {"running": N_("Running"), "suspended": N_("Suspended"),
                "expired": N_("Expired"), "released": N_("Released")}


@dataclass(frozen=True)
class ResourceView:
    id: int
    product: str
    product_name: str
    region: str
    region_name: str
    billing_method: str  # subscription | payg
    billing_method_name: str
    state: str  # running | suspended | expired | released
    period_months: int | None
    auto_renew: bool
    created_at: datetime
    period_end: datetime | None  # Subscription
    released_at: datetime | None
    hourly_cents: int
    monthly_cents: int
    running_cost_cents: int | None  # Pay-As-You-Go: accrued since it started
    unbilled_cents: int | None  # Pay-As-You-Go: accrued and not yet billed

    @property
    def can_release(self) -> bool:
        return self.billing_method == "payg" and self.state == "running"

    @property
    def can_set_auto_renew(self) -> bool:
        return self.billing_method == "subscription" and self.state in ("running", "suspended")

    @property
    def state_label(self) -> str:
        """"Running", "Suspended", "Expired", "Released"."""
        return STATE_LABELS.get(self.state, self.state.capitalize())

    @property
    def renewal_label(self) -> str:
        """Auto-renewal as the resources table shows it: "On", "Off", or "—" (Pay-As-You-Go)."""
        if self.billing_method != "subscription":
            return "—"
        return N_("On") if self.auto_renew else N_("Off")

    @property
    def cost_text(self) -> str:
        """"Ends 2027-01-01 00:00 UTC" (Subscription); "1.23 USD so far" while Pay-As-You-Go
        runs; once released, "billed 1.23 USD" or what is still to bill and when."""
        if self.billing_method == "subscription":
            if self.period_end is None:
                return ""
            moment = verbatim(f"{self.period_end:%Y-%m-%d %H:%M} UTC")
            if self.state == "expired":
                return phrase("Ended {moment}", moment=moment)
            return phrase("Ends {moment}", moment=moment)
        total = money(self.running_cost_cents or 0)
        if self.released_at is None:
            return phrase("{amount} so far", amount=total)
        if self.unbilled_cents:
            due = self.released_at + USAGE_BILL_DELAY
            return phrase("{amount}, billed {moment}", amount=total,
                          moment=verbatim(f"{due:%Y-%m-%d %H:%M} UTC"))
        return phrase("billed {amount}", amount=total)

    @property
    def period_or_cost_text(self) -> str:
        """The resources table's "Period end / cost": the end date of a subscription, the cost
        of Pay-As-You-Go."""
        if self.billing_method == "subscription" and self.period_end is not None:
            day = verbatim(f"{self.period_end:%Y-%m-%d}")
            if self.state == "expired":
                return phrase("Ended {moment}", moment=day)
            return phrase("Ends {moment}", moment=day)
        return self.cost_text


def resource_view(row: Resource, at: datetime | None = None) -> ResourceView:
    at = at or clock.now()
    running_cost = unbilled = None
    if row.billing_method == "payg":
        end = row.released_at if row.released_at is not None else max(at, row.created_at)
        running_cost = usage_cost_cents(row.hourly_cents, row.created_at, row.created_at, end)
        billed = row.billed_until or row.created_at
        unbilled = usage_cost_cents(row.hourly_cents, row.created_at, billed, max(end, billed))
    item = PRODUCTS.get(row.product)
    where = REGIONS.get(row.region)
    return ResourceView(
        id=row.id, product=row.product, product_name=item.name if item else row.product,
        region=row.region, region_name=where.name if where else row.region,
        billing_method=row.billing_method,
        billing_method_name=BILLING_METHODS.get(row.billing_method, row.billing_method),
        state=row.state, period_months=row.period_months, auto_renew=bool(row.auto_renew),
        created_at=row.created_at, period_end=row.period_end, released_at=row.released_at,
        hourly_cents=row.hourly_cents, monthly_cents=row.monthly_cents,
        running_cost_cents=running_cost, unbilled_cents=unbilled,
    )


def _own_resource(account_id: int, resource_id: int | str | None) -> Resource:
    row = Resource.get_or_none(Resource.id == parse_object_id(resource_id),
                               Resource.account == account_id)
    if row is None:
        raise NotFound("There is no such resource in this account.")
    return row


def _resources(account_id: int, at: datetime) -> list[ResourceView]:
    rows = (Resource.select().where(Resource.account == account_id)
            .order_by(Resource.created_at.desc(), Resource.id.desc()))
    return [resource_view(r, at) for r in rows]


def list_resources(token: str | None) -> list[ResourceView]:
    """Every resource of the account, newest first."""
    account = require_account(token)
    return _resources(account.id, clock.now())


# --- the Products section's page ----------------------------------------------------------

@dataclass(frozen=True)
class ProductsPage:
    """What the Products section and its order form show, read at one moment."""

    products: tuple[Product, ...]
    regions: tuple[Region, ...]
    billing_methods: tuple[tuple[str, str], ...]  # (id, label): subscription, payg
    periods: tuple[int, ...]  # months a subscription may run (catalogue.SUBSCRIPTION_PERIODS)
    default_region: str  # where the order form starts, by the account's country
    resources: tuple[ResourceView, ...]  # newest first
    missing_steps: tuple[MissingStep, ...]  # before buying anywhere (empty: may buy)
    real_name_step: MissingStep | None  # also missing before buying in mainland China
    deletion_pending: bool  # nothing new can be bought

    def missing_for(self, region_id: str) -> tuple[MissingStep, ...]:
        """Every step missing before buying in `region_id` (the purchase gate's answer)."""
        where = REGIONS.get(region_id)
        if where is not None and where.mainland_china and self.real_name_step is not None:
            return (*self.missing_steps, self.real_name_step)
        return self.missing_steps


def products_page(token: str | None) -> ProductsPage:
    """The catalogue, the account's resources and what it still needs before buying, in one
    transaction."""
    account = require_account(token)
    at = clock.now()
    with transaction():
        account = Account.get_by_id(account.id)
        resources = tuple(_resources(account.id, at))
        missing = tuple(_steps_everywhere(account))
        real_name = _real_name_step(account)
    return ProductsPage(
        products=tuple(catalogue.list_products()), regions=tuple(catalogue.list_regions()),
        billing_methods=tuple(BILLING_METHODS.items()),
        periods=catalogue.SUBSCRIPTION_PERIODS, default_region=default_region(account.country),
        resources=resources, missing_steps=missing, real_name_step=real_name,
        deletion_pending=account.status == "deletion_pending")


def get_resource(token: str | None, resource_id: int | str) -> ResourceView:
    account = require_account(token)
    return resource_view(_own_resource(account.id, resource_id))


@dataclass(frozen=True)
class Order:
    """An order form's choices, checked."""

    product: Product
    region: Region
    billing_method: str  # subscription | payg
    period_months: int | None  # Subscription only


def check_order(product: str | None, region: str | None, billing_method: str | None,
                period_months: int | str | None = None) -> Order:
    """Every choice of the order form checked at once: FormErrors by field (`product`,
    `purchase-region`, `billing-method`, `period`); the period only for a subscription."""
    form = FormCheck()
    item = form.check(catalogue.product, product)
    where = form.check(catalogue.region, region)
    method = form.check(catalogue.billing_method, billing_method)
    months = form.check(catalogue.period, period_months) if method == "subscription" else None
    form.raise_errors()
    assert item is not None and where is not None and method is not None
    return Order(item, where, method, months)


def place_order(token: str | None, product: str | None, region: str | None,
                billing_method: str | None, period_months: int | str | None = None,
                auto_renew: bool = False) -> ResourceView:
    """Buy a product (F7). FormErrors names every bad choice (`check_order`); then a missing
    step raises PurchaseRefused naming every one; a declined subscription charge raises
    core.payments.PaymentDeclined and creates nothing."""
    account = require_account(token)
    order = check_order(product, region, billing_method, period_months)
    item, where, method, months = (order.product, order.region, order.billing_method,
                                   order.period_months)
    _refuse_if_deleting(account)
    missing = _gate(account, where)
    if missing:
        raise PurchaseRefused(where, missing)
    if method == "payg":
        at = clock.now()
        with transaction():
            row = Resource.create(account=account.id, product=item.id, region=where.id,
                                  billing_method="payg", state="running",
                                  hourly_cents=item.hourly_cents, monthly_cents=item.monthly_cents,
                                  created_at=at, billed_until=at)
        return resource_view(row, at)
    return _buy_subscription(account, item.id, where, months or 1, bool(auto_renew))


def _buy_subscription(account: Account, product_id: str, where: Region, months: int,
                      auto_renew: bool) -> ResourceView:
    from core.invoices import bill_invoice
    from core.payments import charge_default_method

    item = PRODUCTS[product_id]
    price = subscription_price_cents(item.monthly_cents, months)
    key = f"order-{secrets.token_hex(12)}"
    description = phrase("{product} in {region}, {months}-month subscription",
                         product=item.name, region=verbatim(where.id), months=months)
    at = clock.now()
    charge = charge_default_method(account.id, price, description, idempotency_key=key)
    end = add_months(at, months)
    try:
        with transaction():
            row = Resource.create(account=account.id, product=item.id, region=where.id,
                                  billing_method="subscription", period_months=months,
                                  auto_renew=auto_renew, state="running",
                                  hourly_cents=item.hourly_cents, monthly_cents=item.monthly_cents,
                                  created_at=at, period_end=end)
            bill = Bill.create(account=account.id, resource=row.id, kind="subscription",
                               description=str(description)[:200],
                               description_text=stored_text(description),
                               amount_cents=price, period_start=at,
                               period_end=end, issued_at=at, status="paid", paid_at=at,
                               next_attempt_at=None)
            LedgerEntry.update(bill=bill.id).where(LedgerEntry.id == charge.id).execute()
            bill_invoice(charge.id, bill.id)  # the charge's invoice, issued with it, names it
    except StorageError as exc:
        raise StorageError(
            phrase("Your payment of {amount} went through, but the order could not be "
                   "recorded. It will be refunded; reference {reference}.",
                   amount=money(price), reference=verbatim(key))) from exc
    return resource_view(row, at)


def release_resource(token: str | None, resource_id: int | str) -> ResourceView:
    """Release a running Pay-As-You-Go resource now; its usage is billed 48 hours later.
    A subscription cannot be released: it expires at its period's end with auto-renewal off."""
    account = require_account(token)
    at = clock.now()
    with transaction():
        row = _own_resource(account.id, resource_id)
        if row.billing_method != "payg":
            raise Refused(
                phrase("A subscription cannot be released before its period ends "
                       "({moment}). Turn auto-renewal off and it will expire then.",
                       moment=verbatim(f"{row.period_end:%Y-%m-%d %H:%M} UTC")))
        if row.state != "running":
            raise Refused("This resource is already released.")
        Resource.update(state="released", released_at=at).where(
            Resource.id == row.id, Resource.state == "running").execute()
        row = Resource.get_by_id(row.id)
    return resource_view(row, at)


def set_auto_renew(token: str | None, resource_id: int | str, on: bool) -> ResourceView:
    """Turn a subscription's auto-renewal on or off."""
    account = require_account(token)
    with transaction():
        row = _own_resource(account.id, resource_id)
        if row.billing_method != "subscription":
            raise Refused("Auto-renewal is for subscriptions; Pay-As-You-Go runs until released.")
        if row.state not in ("running", "suspended"):
            raise Refused("This subscription has ended.")
        Resource.update(auto_renew=bool(on)).where(Resource.id == row.id).execute()
        row = Resource.get_by_id(row.id)
    return resource_view(row)
