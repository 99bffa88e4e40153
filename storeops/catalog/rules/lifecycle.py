"""Product lifecycle (SOP LIST-07) and the conversion flag (LIST-08).

Stages by age since listing: launch (day 0 to ``launch_days``), stable (to
``stable_days``), then mature — or decline when the latest sales window fell by at least
``decline_drop_ratio`` against the window before it.

Slow movers (flagged for clearance) are products past launch with stock on hand that sold
fewer than ``slow_mover_min_units`` in the last window, or whose stock would last more
than ``slow_mover_max_cover_days`` at the window's sales pace.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from storeops.catalog.rules.reasons import Reason, Severity


class LifecycleStage(enum.StrEnum):
    LAUNCH = "launch"
    STABLE = "stable"
    MATURE = "mature"
    DECLINE = "decline"


@dataclass(frozen=True, slots=True)
class LifecyclePolicy:
    """Playbook settings for LIST-07 / LIST-08 (ratios as decimals)."""

    launch_days: int = 30
    stable_days: int = 90
    decline_drop_ratio: Decimal = Decimal("0.20")
    slow_mover_window_days: int = 30
    slow_mover_min_units: int = 3
    slow_mover_max_cover_days: int = 90
    # LIST-08: flag when conversion < category average x this ratio (1 = simply below it),
    # once the product has had at least ``conversion_min_visitors`` visitors.
    conversion_flag_ratio: Decimal = Decimal("1")
    conversion_min_visitors: int = 100

    def __post_init__(self) -> None:
        if not 0 <= self.launch_days < self.stable_days:
            raise ValueError("need 0 <= launch_days < stable_days")
        if self.slow_mover_window_days <= 0:
            raise ValueError("slow_mover_window_days must be positive")
        if not Decimal(0) < self.decline_drop_ratio <= 1:
            raise ValueError("decline_drop_ratio must be in (0, 1]")


def product_age_days(listed_on: date, today: date) -> int:
    """Whole days since listing; the listing day is day 0."""
    age = (today - listed_on).days
    if age < 0:
        raise ValueError("listed_on is after today")
    return age


def lifecycle_stage(
    listed_on: date,
    today: date,
    *,
    recent_units: int,
    previous_units: int,
    policy: LifecyclePolicy,
) -> LifecycleStage:
    """LIST-07: the stage of a product listed on ``listed_on``.

    ``recent_units`` / ``previous_units`` are units sold in the latest sales window and in
    the equally long window before it; they only matter once the product is past
    ``stable_days``. With no previous sales there is no drop to measure: mature.
    """
    age = product_age_days(listed_on, today)
    if age <= policy.launch_days:
        return LifecycleStage.LAUNCH
    if age <= policy.stable_days:
        return LifecycleStage.STABLE
    if recent_units < 0 or previous_units < 0:
        raise ValueError("unit counts cannot be negative")
    if previous_units > 0 and recent_units <= previous_units * (1 - policy.decline_drop_ratio):
        return LifecycleStage.DECLINE
    return LifecycleStage.MATURE


def days_of_cover(stock_on_hand: int, units_sold: int, window_days: int) -> Decimal | None:
    """How many days ``stock_on_hand`` lasts at the window's pace; ``None`` if nothing sold."""
    if units_sold <= 0:
        return None
    return Decimal(stock_on_hand) * window_days / units_sold


def slow_mover_reasons(
    *,
    listed_on: date,
    today: date,
    units_sold_in_window: int,
    stock_on_hand: int,
    policy: LifecyclePolicy,
) -> tuple[Reason, ...]:
    """LIST-07: why the product is a slow mover to clear; empty when it is not one."""
    if units_sold_in_window < 0:
        raise ValueError("units sold cannot be negative")
    if product_age_days(listed_on, today) <= policy.launch_days or stock_on_hand <= 0:
        return ()
    window = policy.slow_mover_window_days
    reasons: list[Reason] = []
    if units_sold_in_window < policy.slow_mover_min_units:
        reasons.append(
            Reason(
                "LIST-07",
                "slow_mover_low_sales",
                "sales",
                f"近{window}天仅售{units_sold_in_window}件，低于{policy.slow_mover_min_units}件，建议清仓",
                f"Sold {units_sold_in_window} in the last {window} days, under "
                f"{policy.slow_mover_min_units}; consider clearance",
                severity=Severity.WARN,
            )
        )
    cover = days_of_cover(stock_on_hand, units_sold_in_window, window)
    if cover is not None and cover > policy.slow_mover_max_cover_days:
        shown = cover.quantize(Decimal(1))
        reasons.append(
            Reason(
                "LIST-07",
                "slow_mover_high_cover",
                "stock",
                f"库存{stock_on_hand}件按近{window}天销速可售{shown}天，超过"
                f"{policy.slow_mover_max_cover_days}天，建议清仓",
                f"Stock of {stock_on_hand} covers {shown} days at the last {window} days' pace, "
                f"over {policy.slow_mover_max_cover_days}; consider clearance",
                severity=Severity.WARN,
            )
        )
    return tuple(reasons)


def conversion_below_category(
    product_cr: Decimal,
    category_avg_cr: Decimal,
    policy: LifecyclePolicy,
    *,
    visitors: int | None = None,
) -> bool:
    """LIST-08: flag for main-image/detail-page work when the product converts below its
    category (e.g. 1% against 3%). With ``visitors`` given, too little traffic to judge
    (under ``conversion_min_visitors``) never flags."""
    if visitors is not None and visitors < policy.conversion_min_visitors:
        return False
    return product_cr < category_avg_cr * policy.conversion_flag_ratio
