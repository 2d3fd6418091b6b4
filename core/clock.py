"""The one clock every rule about time asks.

Real time, unless `CLOUDACCT_NOW` names an instant (the clock then stands still there), or a
test has set it with `set_now`/`advance`. Times are naive UTC datetimes throughout core.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

_override: datetime | None = None
_parsed_env: tuple[str, datetime] | None = None


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant (`2026-12-01T10:00:00Z`) as naive UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def now() -> datetime:
    global _parsed_env
    if _override is not None:
        return _override
    raw = os.environ.get("CLOUDACCT_NOW", "").strip()
    if raw:
        if _parsed_env is None or _parsed_env[0] != raw:
            _parsed_env = (raw, parse_instant(raw))
        return _parsed_env[1]
    return datetime.now(UTC).replace(tzinfo=None)


def set_now(value: datetime | None) -> None:
    """Stand the clock still at `value` (naive UTC); None returns to the environment/real time."""
    global _override
    if value is not None and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    _override = value


def advance(delta: timedelta) -> datetime:
    """Move a stood-still clock forward (tests)."""
    set_now(now() + delta)
    return now()


def iso(value: datetime) -> str:
    """A naive UTC datetime as ISO-8601 with a Z."""
    return value.replace(microsecond=0).isoformat() + "Z"
