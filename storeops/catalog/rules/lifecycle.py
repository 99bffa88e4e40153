"""Product lifecycle (SOP LIST-07) and the conversion flag (LIST-08).

Stages by age since listing: launch (day 0 to ``launch_days``), stable (to
``stable_days``), then mature — or decline when the latest sales window fell by at least
``decline_drop_ratio`` against the window before it.

Slow movers (flagged for clearance) are products past launch with stock on hand that sold
fewer than ``slow_mover_min_units`` in the last window, or whose stock would last more
than ``slow_mover_max_cover_days`` at the window's sales pace.

Launch-stage tracking: each day's clicks, add-to-cart, visitors, buyers, units and revenue
(:class:`LaunchFigures`), the channels' statistics first and the store's own behaviour events
where the statistics have nothing (:func:`merge_launch_figures`); a launch product with
traffic but no add-to-cart after ``launch_tracking_min_days`` is flagged
(:func:`launch_without_add_to_cart`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
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


# ---- launch-stage tracking (LIST-07) ------------------------------------------------------------


def _ratio(part: int, whole: int) -> Decimal | None:
    """``part / whole`` to 4 places, or None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


@dataclass(frozen=True, slots=True)
class LaunchFigures:
    """One product's tracking figures of a day (or summed over days or channels). ``counted``:
    some figure came from the store's own behaviour events, not from the statistics."""

    clicks: int = 0  # page views of the product (浏览量)
    add_to_cart: int = 0  # shoppers adding it to their cart (加购人数)
    visitors: int = 0
    buyers: int = 0
    units: int = 0
    revenue: Decimal = Decimal(0)
    counted: bool = False

    @property
    def conversion(self) -> Decimal | None:
        """Buyers ÷ visitors (4 places); None without visitors."""
        return _ratio(self.buyers, self.visitors)

    @property
    def cart_rate(self) -> Decimal | None:
        """Add-to-cart ÷ visitors (4 places); None without visitors."""
        return _ratio(self.add_to_cart, self.visitors)

    def __add__(self, other: LaunchFigures) -> LaunchFigures:
        return LaunchFigures(
            clicks=self.clicks + other.clicks,
            add_to_cart=self.add_to_cart + other.add_to_cart,
            visitors=self.visitors + other.visitors,
            buyers=self.buyers + other.buyers,
            units=self.units + other.units,
            revenue=self.revenue + other.revenue,
            counted=self.counted or other.counted,
        )


def merge_launch_figures(stats: LaunchFigures | None, events: LaunchFigures | None) -> LaunchFigures:
    """One product's day on one channel: the statistics' figures (imported or fed by orders)
    win; a figure the statistics leave at 0 is taken from the events. Visitors and buyers go
    together (both from the statistics when they have visitors, else both from the events),
    so a day's conversion never divides one source by the other. Units and revenue come
    from the statistics only (paid orders feed them)."""
    stats = stats or LaunchFigures()
    if events is None:
        return replace(stats, counted=False)
    clicks = stats.clicks or events.clicks
    add_to_cart = stats.add_to_cart or events.add_to_cart
    visitors, buyers = (stats.visitors, stats.buyers) if stats.visitors else (events.visitors, events.buyers)
    counted = (
        (not stats.clicks and events.clicks > 0)
        or (not stats.add_to_cart and events.add_to_cart > 0)
        or (not stats.visitors and (events.visitors > 0 or events.buyers > 0))
    )
    return LaunchFigures(
        clicks=clicks,
        add_to_cart=add_to_cart,
        visitors=visitors,
        buyers=buyers,
        units=stats.units,
        revenue=stats.revenue,
        counted=counted,
    )


def launch_without_add_to_cart(
    age_days: int, total: LaunchFigures, *, min_days: int, policy: LifecyclePolicy
) -> bool:
    """LIST-07: a launch product (age within ``launch_days``) listed at least ``min_days``
    ago that shoppers viewed (clicks or visitors) but nobody added to their cart. A product
    without any traffic figure is not judged: there is nothing to read yet."""
    if not min_days <= age_days <= policy.launch_days:
        return False
    return total.add_to_cart == 0 and (total.clicks > 0 or total.visitors > 0)
