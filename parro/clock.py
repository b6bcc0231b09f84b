"""The one clock of the application. Tests set it; nothing else asks the OS."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app


class _Frozen:
    """The moment tests froze the clock at; None while it runs (one per process)."""

    moment: datetime | None = None


_frozen = _Frozen()


def now() -> datetime:
    """The current moment, timezone-aware, in UTC."""
    frozen = _frozen.moment
    return frozen if frozen is not None else datetime.now(UTC)


def set_now(moment: datetime | None) -> None:
    """Freeze the clock at `moment` (aware), or let it run again with None."""
    if moment is not None and moment.tzinfo is None:
        raise ValueError("set_now needs an aware datetime")
    _frozen.moment = moment.astimezone(UTC) if moment else None


def school_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_now() -> datetime:
    """The current moment in the school's time zone."""
    return now().astimezone(school_tz())


def today():
    return local_now().date()
