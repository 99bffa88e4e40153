"""Stores rules without the ORM: the months of a launch plan after go-live and how an actual
compares with its target (STORE-07)."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months; the 31st becomes the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def launch_months(went_live_on: dt.date, months: int) -> list[tuple[int, dt.date, dt.date]]:
    """Month N after go-live as ``(N, first day, first day of the next)``: month 1 starts on the
    go-live day, each ends (exclusive) where the next starts."""
    return [(n, add_months(went_live_on, n - 1), add_months(went_live_on, n)) for n in range(1, months + 1)]


def attainment(actual: Decimal | None, target: Decimal) -> Decimal | None:
    """Actual ÷ target (1 = on target), to 4 places; None without an actual or for a zero target."""
    if actual is None or target <= 0:
        return None
    return (actual / target).quantize(Decimal("0.0001"))


def target_missed(actual: Decimal, target: Decimal, miss_ratio: Decimal) -> bool:
    """Below target by more than ``miss_ratio`` of it (0.10: under 90 % of the target)."""
    return actual < target * (1 - miss_ratio)
