"""The committee's time zone (``SHINSA_TZ``, default Asia/Tokyo): the one the UI shows times in, and the one files
written for the committee (the chair's workbook's 作成日時) are dated in. ``scoring.store.times`` re-exports it."""

from __future__ import annotations

import os
from datetime import timezone, tzinfo
from zoneinfo import ZoneInfo

_LOCAL_TZ: tzinfo | None = None


def local_tz() -> tzinfo:
    """The committee's time zone (SHINSA_TZ, default Asia/Tokyo), read once."""
    global _LOCAL_TZ
    if _LOCAL_TZ is None:
        try:
            _LOCAL_TZ = ZoneInfo(os.environ.get("SHINSA_TZ") or "Asia/Tokyo")
        except Exception:  # pragma: no cover - no tz database
            _LOCAL_TZ = timezone.utc
    return _LOCAL_TZ
