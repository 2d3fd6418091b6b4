"""Money and moments as the sections and modals show them, in the console's language (F18).

English keeps the console's own forms exactly (`12.34 USD`, `2026-12-01 10:05`, `2026-12-01`),
which tests and snapshots assert; other languages take Babel's (core.i18n).
"""

from __future__ import annotations

from datetime import datetime

from core.i18n import DEFAULT_LANGUAGE, babel_locale, current_language, format_amount


def amount(cents: int, currency: str = "USD") -> str:
    """`12.34 USD` in English, `US$12.34` in Chinese."""
    return format_amount(cents, currency, current_language())


def moment(value: datetime, *, utc: bool = True) -> str:
    """A UTC moment to the minute: `2026-12-01 10:05 UTC` (without ` UTC` if `utc` is False)."""
    if current_language() == DEFAULT_LANGUAGE:
        text = f"{value:%Y-%m-%d %H:%M}"
    else:
        from babel.dates import format_date, format_time

        locale = babel_locale(current_language())
        text = (f"{format_date(value, 'medium', locale=locale)} "
                f"{format_time(value, 'HH:mm', locale=locale)}")
    return f"{text} UTC" if utc else text


def day(value: datetime) -> str:
    """A date: `2026-12-01` in English, `2026年12月1日` in Chinese."""
    if current_language() == DEFAULT_LANGUAGE:
        return f"{value:%Y-%m-%d}"
    from babel.dates import format_date

    return format_date(value, "medium", locale=babel_locale(current_language()))


def short_moment(value: datetime) -> str:
    """Month, day and time without the year (the latest few log-ons): `12-01 10:05`."""
    if current_language() == DEFAULT_LANGUAGE:
        return f"{value:%m-%d %H:%M}"
    from babel.dates import format_skeleton, format_time

    locale = babel_locale(current_language())
    return (f"{format_skeleton('MMMd', value, locale=locale)} "
            f"{format_time(value, 'HH:mm', locale=locale)}")


def label_row(label: str, value: str, width: int) -> str:
    """`label` padded to `width` terminal columns (a Chinese character takes two), then
    `value`."""
    from rich.cells import cell_len

    return f"{label}{' ' * max(1, width - cell_len(label))}{value}"
