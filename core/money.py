"""Money is integer cents (USD) everywhere; this is the one place that formats it."""

from __future__ import annotations

CURRENCY = "USD"


def format_usd(cents: int) -> str:
    """`100` → `"1.00 USD"`, `-250` → `"-2.50 USD"`, `123456` → `"1234.56 USD"`."""
    return f"{decimal_text(cents)} {CURRENCY}"


def decimal_text(cents: int) -> str:
    """`1234` → `"12.34"`, `-5` → `"-0.05"`: the amount of a CSV or PDF cell, the currency in
    a column of its own. Exact: integer arithmetic, no float on the way."""
    if not isinstance(cents, int) or isinstance(cents, bool):
        raise TypeError(f"money is integer cents, not {type(cents).__name__}")
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"
