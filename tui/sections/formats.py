"""Money and moments as the sections and modals show them, in the console's language (F18).

English keeps the console's own forms exactly (`12.34 USD`, `2026-12-01 10:05`, `2026-12-01`),
which tests and snapshots assert; other languages take Babel's (core.i18n).
"""

from __future__ import annotations

from datetime import datetime

from core.i18n import (
    current_language,
    format_amount,
    format_day,
    format_moment,
    format_short_moment,
)


def amount(cents: int, currency: str = "USD") -> str:
    """`12.34 USD` in English, `US$12.34` in Chinese."""
    return format_amount(cents, currency, current_language())


def moment(value: datetime, *, utc: bool = True) -> str:
    """A UTC moment to the minute: `2026-12-01 10:05 UTC` (without ` UTC` if `utc` is False)."""
    return format_moment(value, current_language(), utc=utc)


def day(value: datetime) -> str:
    """A date: `2026-12-01` in English, `2026年12月1日` in Chinese."""
    return format_day(value, current_language())


def short_moment(value: datetime) -> str:
    """Month, day and time without the year (the latest few log-ons): `12-01 10:05`."""
    return format_short_moment(value, current_language())


def label_row(label: str, value: str, width: int) -> str:
    """`label` padded to `width` terminal columns (a Chinese character takes two), then
    `value`."""
    from rich.cells import cell_len

    return f"{label}{' ' * max(1, width - cell_len(label))}{value}"
