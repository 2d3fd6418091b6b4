"""The catalogue (F7): products, regions, billing methods and subscription periods.

Prices are integer USD cents and the same in every region. Subscription prices are per month;
12 months cost 10 months' price (two months free); 1, 3 and 6 months have no discount.
Pay-As-You-Go accrues the hourly price per second of use (see core.products.usage_cost_cents).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ValidationError


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
        return f"{self.name} ({self.id})"


PRODUCTS: dict[str, Product] = {p.id: p for p in (
    Product("ecs", "ECS instance", "Elastic Compute Service: 2 vCPU, 4 GiB", 8, 4000),
    Product("oss", "OSS bucket", "Object Storage Service: 100 GB standard storage", 2, 900),
    Product("rds", "ApsaraDB RDS", "Relational database: MySQL, 2 cores, 4 GiB", 15, 7500),
)}

REGIONS: dict[str, Region] = {r.id: r for r in (
    Region("cn-hangzhou", "China (Hangzhou)", True),
    Region("cn-shanghai", "China (Shanghai)", True),
    Region("cn-beijing", "China (Beijing)", True),
    Region("cn-shenzhen", "China (Shenzhen)", True),
    Region("ap-southeast-1", "Singapore", False),
    Region("us-west-1", "US (Silicon Valley)", False),
    Region("eu-central-1", "Germany (Frankfurt)", False),
    Region("ap-south-1", "India (Mumbai)", False),
)}

BILLING_METHODS: dict[str, str] = {"subscription": "Subscription", "payg": "Pay-As-You-Go"}
PERIODS: tuple[int, ...] = (1, 3, 6, 12)
_MONTHS_CHARGED = {1: 1, 3: 3, 6: 6, 12: 10}  # 12 months: two months free


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
    if months not in PERIODS:
        raise ValidationError("Choose a subscription period of 1, 3, 6 or 12 months.", field)
    return months


def subscription_price_cents(monthly_cents: int, months: int) -> int:
    """The up-front price of `months` at `monthly_cents` a month (12 months: 10 paid)."""
    return monthly_cents * _MONTHS_CHARGED[months]
