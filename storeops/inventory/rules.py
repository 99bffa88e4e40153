"""Inventory rules: safety stock and reorder quantity (SOP INV-01), promotion stock cover
(INV-02), ABC classification (INV-04), cycle-count variance (INV-05), turnover and slow
movers (INV-07).

Pure functions over plain numbers, :class:`~decimal.Decimal` and
:class:`~storeops.core.money.Money`; no Django. Every number the SOP names comes in through
a frozen policy object whose defaults are the spec's defaults; the services map the store's
playbook onto them. Quantities are whole units (``int``); rates such as average daily sales
and the thresholds and covers derived from them are exact :class:`~fractions.Fraction`
values (7 units over 3 days is 7/3 a day, and 3 safety days of it is exactly 7 — a Decimal
would say 6.999… and miss the alert). Inputs may be ``int``, ``Decimal`` or ``Fraction``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from storeops.core.money import Money, money_sum, to_decimal

Number = Decimal | int | Fraction


def _dec(value: Number, name: str) -> Fraction:
    """An exact non-negative rational; floats are refused (they lost the digits already)."""
    result = value if isinstance(value, Fraction) else Fraction(to_decimal(value))
    if result < 0:
        raise ValueError(f"{name} cannot be negative")
    return result


def _check_units(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number of units")
    if value < 0:
        raise ValueError(f"{name} cannot be negative")


# --- INV-01: average sales, safety stock, reorder quantity ---------------------------------


@dataclass(frozen=True, slots=True)
class ReplenishmentPolicy:
    """Playbook settings for INV-01 (days)."""

    safety_stock_days: int = 3
    sales_average_window_days: int = 28
    replenishment_lead_time_days: int = 7

    def __post_init__(self) -> None:
        if self.safety_stock_days < 0:
            raise ValueError("safety_stock_days cannot be negative")
        if self.sales_average_window_days <= 0:
            raise ValueError("sales_average_window_days must be positive")
        if self.replenishment_lead_time_days < 0:
            raise ValueError("replenishment_lead_time_days cannot be negative")


def average_daily_sales(daily_units: Sequence[int], *, window_days: int) -> Fraction:
    """INV-01: mean units sold per day over the last ``window_days`` days (exact).

    ``daily_units`` is one entry per calendar day, oldest first, including days without sales
    (zeros). A product with a shorter history than the window is averaged over the days it
    has (a product listed 7 days ago that sold 14 units sells 2 a day, not 0.5). No history
    means no sales: ``0``.
    """
    if window_days <= 0:
        raise ValueError("window_days must be positive")
    recent = list(daily_units)[-window_days:]
    for units in recent:
        _check_units(units, "daily units")
    if not recent:
        return Fraction(0)
    return Fraction(sum(recent)) / Fraction(len(recent))


@dataclass(frozen=True, slots=True)
class SafetyStockStatus:
    """Result of the INV-01 check for one SKU."""

    alert: bool
    available: int
    threshold: Fraction  # average daily sales x safety stock days
    days_of_cover: Fraction | None  # available / average daily sales; None when nothing sells


def safety_stock_alert(
    available: int, avg_daily_sales: Number, policy: ReplenishmentPolicy
) -> SafetyStockStatus:
    """INV-01: alert when ``available <= avg_daily_sales x safety_stock_days``.

    A SKU that does not sell (average 0) never alerts: there is no demand to protect, and an
    empty shelf with no sales is the lifecycle/slow-mover rules' business, not replenishment's.
    """
    _check_units(available, "available")
    avg = _dec(avg_daily_sales, "avg_daily_sales")
    threshold = avg * policy.safety_stock_days
    if avg == 0:
        return SafetyStockStatus(alert=False, available=available, threshold=threshold, days_of_cover=None)
    return SafetyStockStatus(
        alert=available <= threshold,
        available=available,
        threshold=threshold,
        days_of_cover=Fraction(available) / avg,
    )


def reorder_target(
    avg_daily_sales: Number,
    policy: ReplenishmentPolicy,
    *,
    lead_time_forecast: Number | None = None,
    horizon_forecast: Number | None = None,
) -> Fraction:
    """Units needed to cover the lead time plus the safety days (exact, before rounding).

    Demand over the lead time is ``avg x lead_time_days``, or ``lead_time_forecast`` (units
    expected over the lead time, from the INV-06 forecast) when given. The safety part is
    ``avg x safety_stock_days``. ``horizon_forecast`` (INV-06: units the forecast expects over
    the lead time *and* the safety days) replaces both parts.
    """
    if horizon_forecast is not None:
        if lead_time_forecast is not None:
            raise ValueError("give lead_time_forecast or horizon_forecast, not both")
        return _dec(horizon_forecast, "horizon_forecast")
    avg = _dec(avg_daily_sales, "avg_daily_sales")
    lead_demand = (
        avg * policy.replenishment_lead_time_days
        if lead_time_forecast is None
        else _dec(lead_time_forecast, "lead_time_forecast")
    )
    return lead_demand + avg * policy.safety_stock_days


def reorder_quantity(
    *,
    available: int,
    on_order: int,
    avg_daily_sales: Number,
    policy: ReplenishmentPolicy,
    case_pack: int = 1,
    moq: int = 0,
    lead_time_forecast: Number | None = None,
    horizon_forecast: Number | None = None,
) -> int:
    """INV-01: the suggested order quantity (0 when stock and open orders already cover).

    ``need = ceil(reorder_target) - available - on_order``; when positive the order is at
    least ``moq`` and rounded *up* to a whole number of case packs, so after it arrives the
    stock covers the lead time plus the safety days.
    """
    _check_units(available, "available")
    _check_units(on_order, "on_order")
    _check_units(moq, "moq")
    if isinstance(case_pack, bool) or not isinstance(case_pack, int) or case_pack <= 0:
        raise ValueError("case_pack must be a positive whole number")
    target = reorder_target(
        avg_daily_sales, policy, lead_time_forecast=lead_time_forecast, horizon_forecast=horizon_forecast
    )
    need = math.ceil(target) - available - on_order
    if need <= 0:
        return 0
    quantity = max(need, moq)
    return -(-quantity // case_pack) * case_pack


@dataclass(frozen=True, slots=True)
class ReplenishmentAdvice:
    """INV-01: the safety-stock check and, when it alerts, the suggested order quantity."""

    status: SafetyStockStatus
    suggested_quantity: int  # 0 when there is no alert

    @property
    def alert(self) -> bool:
        return self.status.alert


def replenishment_advice(
    *,
    available: int,
    on_order: int,
    avg_daily_sales: Number,
    policy: ReplenishmentPolicy,
    case_pack: int = 1,
    moq: int = 0,
    lead_time_forecast: Number | None = None,
) -> ReplenishmentAdvice:
    """INV-01: raise the replenishment alert with a suggested order quantity.

    The alert looks at ``available`` only (stock that can be sold today); the quantity
    takes open purchase orders into account, so an alert may suggest 0 when enough is
    already on its way.
    """
    status = safety_stock_alert(available, avg_daily_sales, policy)
    quantity = (
        reorder_quantity(
            available=available,
            on_order=on_order,
            avg_daily_sales=avg_daily_sales,
            policy=policy,
            case_pack=case_pack,
            moq=moq,
            lead_time_forecast=lead_time_forecast,
        )
        if status.alert
        else 0
    )
    return ReplenishmentAdvice(status=status, suggested_quantity=quantity)


# --- INV-02: stock cover before a big promotion --------------------------------------------


@dataclass(frozen=True, slots=True)
class PromotionCover:
    """INV-02: does stock cover the promotion's uplifted demand, and by how much not."""

    ok: bool
    required: int  # units: ceil(baseline x uplift x days)
    available: int
    shortfall: int  # units missing; 0 when ok
    days_covered: Fraction | None  # available / uplifted daily demand; None when no demand


def promotion_cover_ok(
    available: int, baseline_daily: Number, uplift: Number, *, days: int = 15
) -> PromotionCover:
    """INV-02: stock must cover ``days`` (default 15) of demand at ``baseline x uplift``.

    ``uplift`` is the expected demand multiplier during the promotion (``Decimal("2.5")``
    = two and a half times the usual daily sales).
    """
    _check_units(available, "available")
    if days <= 0:
        raise ValueError("days must be positive")
    baseline = _dec(baseline_daily, "baseline_daily")
    factor = _dec(uplift, "uplift")
    daily = baseline * factor
    required = math.ceil(daily * days)
    shortfall = max(0, required - available)
    return PromotionCover(
        ok=shortfall == 0,
        required=required,
        available=available,
        shortfall=shortfall,
        days_covered=None if daily == 0 else Fraction(available) / daily,
    )


# --- INV-04: ABC classification -------------------------------------------------------------


class AbcClass(enum.StrEnum):
    A = "A"
    B = "B"
    C = "C"


@dataclass(frozen=True, slots=True)
class AbcPolicy:
    """Playbook settings for INV-04: class shares of sales value and review cycles (days).

    The review cycles are our defaults (the SOP only says "different review cycles per
    class"): A weekly, B monthly, C quarterly.
    """

    a_share: Decimal = Decimal("0.80")
    b_share: Decimal = Decimal("0.15")
    review_days_a: int = 7
    review_days_b: int = 30
    review_days_c: int = 90

    def __post_init__(self) -> None:
        if not (Decimal(0) < self.a_share and Decimal(0) <= self.b_share and self.a_share + self.b_share < 1):
            raise ValueError("need 0 < a_share, 0 <= b_share and a_share + b_share < 1")
        if min(self.review_days_a, self.review_days_b, self.review_days_c) <= 0:
            raise ValueError("review cycles must be positive")


def abc_classify(
    values: Mapping[str, Number], *, a_share: Number = Decimal("0.80"), b_share: Number = Decimal("0.15")
) -> dict[str, AbcClass]:
    """INV-04: classify SKUs by their sales value.

    SKUs are ranked by value, highest first, ties by SKU code (so the result never depends
    on input order). A SKU is **A** while the value ranked before it is still below
    ``a_share`` of the total — class A is the smallest top group that reaches the share; the
    next ones are **B** until ``a_share + b_share`` is reached; the rest, and every SKU
    with no sales, are **C**. With no sales at all everything is C.
    """
    a = _dec(a_share, "a_share")
    b = _dec(b_share, "b_share")
    if a == 0 or a + b >= 1:
        raise ValueError("need 0 < a_share and a_share + b_share < 1")
    amounts = {sku: _dec(value, "sales value") for sku, value in values.items()}
    total = sum(amounts.values(), Fraction(0))
    ranked = sorted(amounts.items(), key=lambda item: (-item[1], item[0]))
    result: dict[str, AbcClass] = {}
    before = Fraction(0)
    for sku, value in ranked:
        if value == 0:
            result[sku] = AbcClass.C
        elif before < a * total:
            result[sku] = AbcClass.A
        elif before < (a + b) * total:
            result[sku] = AbcClass.B
        else:
            result[sku] = AbcClass.C
        before += value
    return result


def review_cycle_days(abc_class: AbcClass, policy: AbcPolicy) -> int:
    """INV-04: days between reviews (and cycle counts) for a class."""
    return {
        AbcClass.A: policy.review_days_a,
        AbcClass.B: policy.review_days_b,
        AbcClass.C: policy.review_days_c,
    }[abc_class]


def next_review_date(last_review: date, abc_class: AbcClass, policy: AbcPolicy) -> date:
    return last_review + timedelta(days=review_cycle_days(abc_class, policy))


# --- INV-07: turnover, days of inventory, slow movers --------------------------------------


def average_inventory(levels: Sequence[Number]) -> Fraction:
    """Mean of stock snapshots (e.g. opening and closing, or one per day)."""
    if not levels:
        raise ValueError("need at least one stock level")
    return sum((_dec(level, "stock level") for level in levels), Fraction(0)) / len(levels)


def turnover(sales: Number, average_inventory_value: Number) -> Fraction | None:
    """INV-07: inventory turnover = sales / average inventory (same unit: cost or units).

    ``None`` when the average inventory is zero (turnover is undefined, not infinite).
    """
    sold = _dec(sales, "sales")
    stock = _dec(average_inventory_value, "average_inventory")
    if stock == 0:
        return None
    return sold / stock


def days_of_inventory(sales: Number, average_inventory_value: Number, *, period_days: int) -> Fraction | None:
    """INV-07: days the average inventory lasts at the period's sales pace
    (``period_days / turnover``); ``None`` when nothing sold (it never runs out)."""
    if period_days <= 0:
        raise ValueError("period_days must be positive")
    sold = _dec(sales, "sales")
    stock = _dec(average_inventory_value, "average_inventory")
    if sold == 0:
        return None
    return stock * period_days / sold


@dataclass(frozen=True, slots=True)
class SlowMoverPolicy:
    """Playbook settings for INV-07 / LIST-07: slow when stock lasts longer than this."""

    max_days_of_cover: int = 90

    def __post_init__(self) -> None:
        if self.max_days_of_cover <= 0:
            raise ValueError("max_days_of_cover must be positive")


@dataclass(frozen=True, slots=True)
class SlowMoverStatus:
    slow: bool
    days_of_cover: Fraction | None  # None when nothing sold in the period


def slow_mover(
    *, on_hand: int, units_sold: int, period_days: int, policy: SlowMoverPolicy
) -> SlowMoverStatus:
    """INV-07: flag stock that would take more than ``max_days_of_cover`` days to sell at
    the period's pace (or that did not sell at all) for clearance. No stock, no flag."""
    _check_units(on_hand, "on_hand")
    _check_units(units_sold, "units_sold")
    if period_days <= 0:
        raise ValueError("period_days must be positive")
    if units_sold == 0:
        return SlowMoverStatus(slow=on_hand > 0, days_of_cover=None)
    cover = Fraction(on_hand) * period_days / units_sold
    return SlowMoverStatus(slow=cover > policy.max_days_of_cover, days_of_cover=cover)


def split_units(total: int, weights: Sequence[int]) -> list[int]:
    """INV-07: split ``total`` whole units over ``weights`` in proportion, summing exactly
    (largest remainder: every share rounded down, the units left over one each to the largest
    remainders, ties to the earlier weight). Zero total weight: evenly, earliest first."""
    _check_units(total, "total")
    if not weights:
        if total:
            raise ValueError("cannot split units over no weights")
        return []
    for weight in weights:
        _check_units(weight, "weight")
    weight_sum = sum(weights)
    n = len(weights)
    if weight_sum == 0:
        base, extra = divmod(total, n)
        return [base + (1 if i < extra else 0) for i in range(n)]
    exact = [Fraction(total * w, weight_sum) for w in weights]
    shares = [math.floor(e) for e in exact]
    for i in sorted(range(n), key=lambda i: (-(exact[i] - shares[i]), i))[: total - sum(shares)]:
        shares[i] += 1
    return shares


# --- INV-05: cycle count variance -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CountLine:
    sku: str
    expected: int  # book quantity
    counted: int  # physical count
    variance: int  # counted - expected (negative = shrinkage)
    variance_value: Money  # variance x unit cost (exact)

    @property
    def needs_adjustment(self) -> bool:
        return self.variance != 0


@dataclass(frozen=True, slots=True)
class CountVarianceReport:
    """INV-05: the variance of one cycle count, line by line, valued at cost."""

    lines: tuple[CountLine, ...]  # every counted SKU, by SKU code
    not_counted: tuple[str, ...]  # SKUs on the book list that were not counted
    net_value: Money  # sum of variance values (shrinkage is negative)
    absolute_value: Money  # sum of |variance value|

    @property
    def adjustments(self) -> tuple[CountLine, ...]:
        """The lines whose book quantity must be adjusted to the count."""
        return tuple(line for line in self.lines if line.needs_adjustment)

    @property
    def accuracy(self) -> Decimal | None:
        """Share of counted lines that matched the book (``None`` when nothing was counted)."""
        if not self.lines:
            return None
        matched = sum(1 for line in self.lines if not line.needs_adjustment)
        return Decimal(matched) / len(self.lines)


def count_variance(
    expected: Mapping[str, int],
    counted: Mapping[str, int],
    unit_cost: Mapping[str, Money],
    *,
    currency: str = "CNY",
) -> CountVarianceReport:
    """INV-05: compare a count with the book.

    A counted SKU missing from ``expected`` had a book quantity of 0 (found stock). A book
    SKU that was not counted is listed in ``not_counted`` — a partial (cycle) count says
    nothing about it, so it is not treated as zero. Every counted SKU needs a unit cost.
    """
    lines: list[CountLine] = []
    for sku in sorted(counted):
        book = expected.get(sku, 0)
        physical = counted[sku]
        _check_units(book, f"expected quantity of {sku}")
        _check_units(physical, f"counted quantity of {sku}")
        if sku not in unit_cost:
            raise KeyError(f"no unit cost for {sku}")
        cost = unit_cost[sku]
        if cost.currency != currency:
            raise ValueError(f"unit cost of {sku} is in {cost.currency}, report is in {currency}")
        variance = physical - book
        lines.append(
            CountLine(
                sku=sku, expected=book, counted=physical, variance=variance, variance_value=cost * variance
            )
        )
    not_counted = tuple(sorted(sku for sku in expected if sku not in counted))
    net = money_sum((line.variance_value for line in lines), currency)
    absolute = money_sum((Money(abs(line.variance_value.amount), currency) for line in lines), currency)
    return CountVarianceReport(
        lines=tuple(lines), not_counted=not_counted, net_value=net, absolute_value=absolute
    )


# --- INV-05: count sheet life cycle and posting ---------------------------------------------


class CountState(enum.StrEnum):
    DRAFT = "draft"
    COUNTING = "counting"
    POSTED = "posted"
    CANCELLED = "cancelled"


COUNT_TRANSITIONS: Mapping[CountState, frozenset[CountState]] = {
    CountState.DRAFT: frozenset({CountState.COUNTING, CountState.CANCELLED}),
    CountState.COUNTING: frozenset({CountState.POSTED, CountState.CANCELLED}),
    CountState.POSTED: frozenset(),
    CountState.CANCELLED: frozenset(),
}


def count_transition_allowed(source: str, target: str) -> bool:
    """INV-05: draft → counting → posted, and draft/counting → cancelled; nothing leaves
    posted or cancelled (posting twice is refused)."""
    return CountState(target) in COUNT_TRANSITIONS[CountState(source)]


def count_posting_delta(*, expected: int, counted: int, on_hand_now: int) -> int | None:
    """INV-05: the ledger adjustment that posts one counted line, or ``None`` when the book
    moved since the snapshot.

    The variance is measured against the snapshot taken when the sheet was created. If the
    on-hand balance still equals that snapshot, the adjustment is ``counted - expected``
    (which is also ``counted - on_hand_now``). If units came in or went out in the meantime
    we cannot tell whether the count saw them, so neither formula is safe: the line must be
    recounted (re-snapshotted) instead of guessed. Reservations do not change on-hand (the
    reserved units are still on the shelf), so they never block a posting.
    """
    _check_units(expected, "expected")
    _check_units(counted, "counted")
    _check_units(on_hand_now, "on_hand_now")
    if on_hand_now != expected:
        return None
    return counted - expected
