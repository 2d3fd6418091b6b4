"""The catalogue (F7): products, regions, billing methods, subscription periods and prices.

Prices are integer USD cents and the same in every region. Subscription prices are per month;
12 months cost 10 months' price (two months free); 1, 3 and 6 months have no discount.
Pay-As-You-Go accrues the hourly price per second of use (`usage_cost_cents`). Everything here
is data and arithmetic, no database: the order form's live price and the billing run's amounts
come from the same functions.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime

from core.errors import ValidationError
from core.i18n import N_, money, phrase
from core.wording import count, verbatim


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    description: str
    hourly_cents: int  # Pay-As-You-Go, per hour
    monthly_cents: int  # Subscription, per month


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    mainland_china: bool  # needs approved real-name registration (F6)

    @property
    def label(self) -> str:
        return phrase("{name} ({id})", name=self.name, id=verbatim(self.id))


PRODUCTS: dict[str, Product] = {p.id: p for p in (
    Product("ecs", N_("ECS instance"), N_("Elastic Compute Service: 2 vCPU, 4 GiB"), 8, 4000),
    Product("oss", N_("OSS bucket"), N_("Object Storage Service: 100 GB standard storage"), 2,
            900),
    Product("rds", N_("ApsaraDB RDS"), N_("Relational database: MySQL, 2 cores, 4 GiB"), 15,
            7500),
)}

REGIONS: dict[str, Region] = {r.id: r for r in (
    Region("cn-hangzhou", N_("China (Hangzhou)"), True),
    Region("cn-shanghai", N_("China (Shanghai)"), True),
    Region("cn-beijing", N_("China (Beijing)"), True),
    Region("cn-shenzhen", N_("China (Shenzhen)"), True),
    Region("ap-southeast-1", N_("Singapore"), False),
    Region("us-west-1", N_("US (Silicon Valley)"), False),
    Region("eu-central-1", N_("Germany (Frankfurt)"), False),
    Region("ap-south-1", N_("India (Mumbai)"), False),
)}

BILLING_METHODS: dict[str, str] = {"subscription": N_("Subscription"),
                                   "payg": N_("Pay-As-You-Go")}
SUBSCRIPTION_PERIODS: tuple[int, ...] = (1, 3, 6, 12)  # months
PERIODS = SUBSCRIPTION_PERIODS
_MONTHS_CHARGED = {1: 1, 3: 3, 6: 6, 12: 10}  # 12 months: two months free

# The region an order form starts at: the nearest region outside mainland China (which needs
# real-name registration), or cn-hangzhou for an account of mainland China itself.
def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


_SOUTH_AND_CENTRAL_ASIA = _codes("IN PK BD LK NP BT MV AF KZ UZ TM KG TJ")
_AMERICAS = _codes(
    "US CA MX GT BZ SV HN NI CR PA CU DO HT JM TT BB BS AG DM GD KN LC VC PR VI VG AI MS KY "
    "TC BM AW CW SX BQ GL PM MF BL GP MQ UM CO VE EC PE BO BR PY UY AR CL GY SR GF FK GS")
_EUROPE_AFRICA_MIDDLE_EAST = _codes(
    # Europe
    "AD AL AT AX BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI "
    "LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA "
    # the Middle East and the Caucasus
    "AE BH IL IQ IR JO KW LB OM PS QA SA SY TR YE AM AZ GE "
    # Africa
    "DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG "
    "MW ML MR MU YT MA MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD TZ TG TN UG EH ZM ZW")


def list_products() -> list[Product]:
    return list(PRODUCTS.values())


def list_regions() -> list[Region]:
    return list(REGIONS.values())


def product(product_id: str | None, field: str = "product") -> Product:
    found = PRODUCTS.get((product_id or "").strip())
    if found is None:
        raise ValidationError("Choose a product.", field)
    return found


def region(region_id: str | None, field: str = "purchase-region") -> Region:
    found = REGIONS.get((region_id or "").strip())
    if found is None:
        raise ValidationError("Choose a region.", field)
    return found


def billing_method(value: str | None, field: str = "billing-method") -> str:
    method = (value or "").strip()
    if method not in BILLING_METHODS:
        raise ValidationError("Choose Subscription or Pay-As-You-Go.", field)
    return method


def period(value: int | str | None, field: str = "period") -> int:
    """1, 3, 6 or 12 (a Select may hand over the text "3")."""
    try:
        months = int(str(value).strip()) if value is not None and not isinstance(value, bool) \
            else 0
    except ValueError:
        months = 0
    if months not in SUBSCRIPTION_PERIODS:
        *most, last = (str(m) for m in SUBSCRIPTION_PERIODS)
        raise ValidationError(
            phrase("Choose a subscription period of {some} or {last} months.",
                   some=verbatim(", ".join(most)), last=last), field)
    return months


def default_region(country: str | None) -> str:
    """The region an order form starts at for an account of `country` (alpha-2): the nearest
    region outside mainland China, or cn-hangzhou for a mainland China account."""
    code = (country or "").strip().upper()
    if code == "CN":
        return "cn-hangzhou"
    if code in _SOUTH_AND_CENTRAL_ASIA:
        return "ap-south-1"
    if code in _AMERICAS:
        return "us-west-1"
    if code in _EUROPE_AFRICA_MIDDLE_EAST:
        return "eu-central-1"
    return "ap-southeast-1"  # East and South-East Asia, Oceania (and anything unknown)


def subscription_price_cents(monthly_cents: int, months: int) -> int:
    """The up-front price of `months` at `monthly_cents` a month (12 months: 10 paid)."""
    return monthly_cents * _MONTHS_CHARGED[months]


def free_months(months: int) -> int:
    """How many of `months` are free (12 months: two)."""
    return months - _MONTHS_CHARGED.get(months, months)


def period_label(months: int) -> str:
    """"1 month", "3 months"."""
    return count(months, "month")


def price_text(product_id: str | None, method: str | None, months: int | str | None) -> str:
    """The order's price as chosen so far, in words (the order form shows it live)."""
    item = PRODUCTS.get(str(product_id or ""))
    if item is None:
        return N_("Choose a product to see its price.")
    if method == "payg":
        return phrase("{product}: {price} per hour while it runs, billed 48 hours after use.",
                      product=item.name, price=money(item.hourly_cents))
    if method != "subscription":
        return phrase("{product}: choose Subscription or Pay-As-You-Go.", product=item.name)
    try:
        chosen = period(months)
    except ValidationError:
        return phrase("{product}: {price} per month. Choose a period.", product=item.name,
                      price=money(item.monthly_cents))
    free = free_months(chosen)
    total = money(subscription_price_cents(item.monthly_cents, chosen))
    if free:
        return phrase("{product}: {period} for {price} ({free} free), paid now with your "
                      "default payment method.", product=item.name, period=period_label(chosen),
                      price=total, free=count(free, "month"))
    return phrase("{product}: {period} for {price}, paid now with your default payment "
                  "method.", product=item.name, period=period_label(chosen), price=total)


# --- time and money of a subscription and of Pay-As-You-Go use -----------------------------

def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months later (clamped to the month's last day)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def months_between(start: datetime, end: datetime) -> int:
    """Whole calendar months from `start` to an `end` made by `add_months(start, n)`."""
    return (end.year - start.year) * 12 + (end.month - start.month)


def _whole_seconds(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()))


def usage_cost_cents(hourly_cents: int, anchor: datetime, start: datetime,
                     end: datetime) -> int:
    """Pay-As-You-Go cost of [start, end) for a resource that started at `anchor`.

    Use is charged per second; the total from `anchor` is rounded up to the whole cent, and a
    period costs the difference of the totals at its ends, so however usage is cut into bills
    they add up to exactly the rounded total."""

    def total(until: datetime) -> int:
        return -(-hourly_cents * _whole_seconds(anchor, until) // 3600)

    return max(0, total(end) - total(start))
