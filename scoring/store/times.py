"""The committee's clock: its time zone (``SHINSA_TZ``), times shown as HH:MM there, how long a login lasts, and
review deadlines as days.
"""

from __future__ import annotations

import os
from datetime import date, datetime

from ..errors import InputError, Problem
from ..io.clock import local_tz
from .schema import as_utc

def local_time(value: datetime | None, fmt: str = "%H:%M") -> str:
    """HH:MM (or ``fmt``) in the committee's time zone (SHINSA_TZ, default Asia/Tokyo)."""
    if value is None:
        return "--:--"
    return as_utc(value).astimezone(local_tz()).strftime(fmt)


def session_hours() -> float:
    """How long a login lasts without logging in again (``SHINSA_SESSION_HOURS``, default 12: a working day)."""
    return float(os.environ.get("SHINSA_SESSION_HOURS") or 12)


def parse_deadline(value: date | str | None, field: str = "deadline") -> date | None:
    """A review deadline (評価締切) as a day: a ``date``, ``YYYY-MM-DD``, or None (no deadline)."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise InputError([Problem("(round)", None, field, f"{value!r} is not a date (YYYY-MM-DD)")]) from None
    if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
        raise InputError([Problem("(round)", None, field, "must be a date (YYYY-MM-DD)")])
    return value

