"""Pricing rules: full unit cost (SOP PRICE-02) and the cost-plus price suggester (PRICE-01).

Pure functions over :class:`~storeops.core.money.Money`; no Django. The suggester's bounds
are computed with exact rational arithmetic (:class:`fractions.Fraction`) and rounded to the
currency's minor unit *inward*, so every price it returns truly satisfies the policy, and
when it says no price exists, no price in whole minor units (分) does.

A price ``p`` is feasible for a full unit cost ``c`` and a competitor price ``k`` when

* gross margin ``(p - c) / p >= min_gross_margin``  (equivalently ``p >= c / (1 - m)``), and
* ``k * (1 - competitor_discount_max) <= p <= k * (1 - competitor_discount_min)``.

Both constraints are monotone in ``p``, so the feasible prices form one interval.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from storeops.core.money import CurrencyMismatchError, Money, exponent, money_sum, to_decimal


@dataclass(frozen=True, slots=True)
class PricingPolicy:
    """Playbook settings for PRICE-01 (ratios, e.g. ``0.35`` = 35%)."""

    min_gross_margin: Decimal = Decimal("0.35")
    competitor_discount_min: Decimal = Decimal("0.05")  # at least 5% below the competitor
    competitor_discount_max: Decimal = Decimal("0.10")  # at most 10% below the competitor

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.min_gross_margin < 1:
            raise ValueError("min_gross_margin must be in [0, 1)")
        if not Decimal(0) <= self.competitor_discount_min <= self.competitor_discount_max < 1:
            raise ValueError("need 0 <= competitor_discount_min <= competitor_discount_max < 1")


class SuggestionCode(enum.StrEnum):
    """Stable English codes of a :class:`PriceSuggestion`."""

    WITHIN_COMPETITOR_BAND = "within_competitor_band"
    MARGIN_FLOOR_ONLY = "margin_floor_only"  # no competitor price: only the margin floor applies
    MARGIN_FLOOR_ABOVE_BAND = "margin_floor_above_band"
    BAND_HAS_NO_MINOR_UNIT = "band_has_no_minor_unit"  # the competitor band holds no whole 分


@dataclass(frozen=True, slots=True)
class PriceSuggestion:
    """The feasible price range (``None`` bounds when none exists) and why.

    ``max_price`` is ``None`` also when there is no competitor price (no upper bound).
    ``suggested`` is the highest feasible price (the best margin still at least
    ``competitor_discount_min`` below the competitor), or the margin floor when there is no
    competitor price.
    """

    feasible: bool
    code: SuggestionCode
    message_zh: str
    message_en: str
    margin_floor: Money  # the lowest whole-分 price meeting the margin
    min_price: Money | None
    max_price: Money | None
    suggested: Money | None
    competitor_band: tuple[Money, Money] | None  # (lowest, highest) whole-分 prices in the band


def full_unit_cost(*, product: Money, operations: Money, logistics: Money, tax: Money) -> Money:
    """PRICE-02: the full cost of one unit, exact (round for display with ``round_at``)."""
    parts = (product, operations, logistics, tax)
    if any(part.amount < 0 for part in parts):
        raise ValueError("cost components cannot be negative")
    return money_sum(parts, product.currency)


def gross_margin(price: Money, full_cost: Money) -> Decimal:
    """``(price - cost) / price``; ``price`` must be positive."""
    if price.currency != full_cost.currency:
        raise CurrencyMismatchError(f"{price.currency} vs {full_cost.currency}")
    if price.amount <= 0:
        raise ValueError("price must be positive")
    return (price.amount - full_cost.amount) / price.amount


def suggest_price(full_cost: Money, competitor_price: Money | None, policy: PricingPolicy) -> PriceSuggestion:
    """PRICE-01: the feasible price range for ``full_cost`` against ``competitor_price``."""
    currency = full_cost.currency
    if full_cost.amount < 0:
        raise ValueError("full cost cannot be negative")
    units_per_major = 10 ** exponent(currency)

    def money(units: int) -> Money:
        return Money(Decimal(units).scaleb(-exponent(currency)), currency)

    margin = Fraction(policy.min_gross_margin)
    floor_exact = Fraction(full_cost.amount) / (1 - margin) * units_per_major
    floor_units = max(1, math.ceil(floor_exact))  # a price is at least one minor unit
    floor = money(floor_units)
    margin_pct = _percent(policy.min_gross_margin)

    if competitor_price is None:
        return PriceSuggestion(
            feasible=True,
            code=SuggestionCode.MARGIN_FLOOR_ONLY,
            message_zh=f"无竞品价，按{margin_pct}%毛利率，最低售价为{_yuan(floor)}元",
            message_en=f"No competitor price; at a {margin_pct}% gross margin the lowest price is {floor}",
            margin_floor=floor,
            min_price=floor,
            max_price=None,
            suggested=floor,
            competitor_band=None,
        )

    if competitor_price.currency != currency:
        raise CurrencyMismatchError(f"{currency} vs {competitor_price.currency}")
    if competitor_price.amount <= 0:
        raise ValueError("competitor price must be positive")
    competitor = Fraction(competitor_price.amount) * units_per_major
    band_low = math.ceil(competitor * (1 - Fraction(policy.competitor_discount_max)))
    band_high = math.floor(competitor * (1 - Fraction(policy.competitor_discount_min)))
    min_pct = _percent(policy.competitor_discount_min)
    max_pct = _percent(policy.competitor_discount_max)

    if band_low > band_high:
        return PriceSuggestion(
            feasible=False,
            code=SuggestionCode.BAND_HAS_NO_MINOR_UNIT,
            message_zh=(
                f"竞品价{_yuan(competitor_price)}元下浮{min_pct}%–{max_pct}%的区间内没有以分计的价格"
            ),
            message_en=(
                f"No whole-cent price lies {min_pct}–{max_pct}% below the competitor's {competitor_price}"
            ),
            margin_floor=floor,
            min_price=None,
            max_price=None,
            suggested=None,
            competitor_band=None,
        )

    band = (money(band_low), money(band_high))
    low = max(floor_units, band_low)
    if low > band_high:
        return PriceSuggestion(
            feasible=False,
            code=SuggestionCode.MARGIN_FLOOR_ABOVE_BAND,
            message_zh=(
                f"按{margin_pct}%毛利率，最低售价为{_yuan(floor)}元，"
                f"高于竞品价下浮{min_pct}%后的{_yuan(band[1])}元"
            ),
            message_en=(
                f"At a {margin_pct}% gross margin the lowest price is {floor}, above {band[1]}, "
                f"the competitor's price less {min_pct}%"
            ),
            margin_floor=floor,
            min_price=None,
            max_price=None,
            suggested=None,
            competitor_band=band,
        )

    low_price, high_price = money(low), band[1]
    return PriceSuggestion(
        feasible=True,
        code=SuggestionCode.WITHIN_COMPETITOR_BAND,
        message_zh=(
            f"可行售价{_yuan(low_price)}–{_yuan(high_price)}元（毛利率≥{margin_pct}%，"
            f"低于竞品价{min_pct}%–{max_pct}%），建议{_yuan(high_price)}元"
        ),
        message_en=(
            f"Feasible prices {low_price} to {high_price} (gross margin >= {margin_pct}%, "
            f"{min_pct}–{max_pct}% below the competitor); suggested {high_price}"
        ),
        margin_floor=floor,
        min_price=low_price,
        max_price=high_price,
        suggested=high_price,
        competitor_band=band,
    )


def _percent(ratio: Decimal) -> str:
    """``Decimal("0.35")`` -> ``"35"``, ``Decimal("0.075")`` -> ``"7.5"``."""
    return f"{(to_decimal(ratio) * 100).normalize():f}"


def _yuan(value: Money) -> str:
    return f"{value.quantize().amount}"
