"""Pricing rules: full unit cost (SOP PRICE-02) and the price suggester (PRICE-01)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storeops.core.money import CurrencyMismatchError, Money
from storeops.pricing.rules import (
    PricingPolicy,
    SuggestionCode,
    full_unit_cost,
    gross_margin,
    suggest_price,
)

POLICY = PricingPolicy()


def test_price_02_full_unit_cost_adds_product_operations_logistics_and_tax_exactly():
    # when
    cost = full_unit_cost(
        product=Money("40.00"), operations=Money("5.50"), logistics=Money("8.25"), tax=Money("6.333")
    )

    # then
    assert cost == Money("60.083")


def test_price_02_negative_cost_components_are_refused():
    # when / then
    with pytest.raises(ValueError, match="negative"):
        full_unit_cost(product=Money("10"), operations=Money("-1"), logistics=Money("0"), tax=Money("0"))


def test_price_02_gross_margin_uses_the_full_cost():
    # when / then
    assert gross_margin(Money("100.00"), Money("65.00")) == Decimal("0.35")


def test_price_01_feasible_range_lies_5_to_10_percent_below_the_competitor_above_the_margin_floor():
    # given cost 65.00 (35% floor 100.00) and a competitor at 120.00 (band 108.00-114.00)
    # when
    result = suggest_price(Money("65.00"), Money("120.00"), POLICY)

    # then
    assert result.feasible is True
    assert result.code is SuggestionCode.WITHIN_COMPETITOR_BAND
    assert (result.min_price, result.max_price, result.suggested) == (
        Money("108.00"),
        Money("114.00"),
        Money("114.00"),
    )
    assert result.margin_floor == Money("100.00")
    assert result.message_zh == "可行售价108.00–114.00元（毛利率≥35%，低于竞品价5%–10%），建议114.00元"


def test_price_01_margin_floor_inside_the_band_raises_the_minimum():
    # given cost 70.00: floor 70 / 0.65 = 107.6923… -> 107.70; competitor 115.00: band 103.50-109.25
    # when
    result = suggest_price(Money("70.00"), Money("115.00"), POLICY)

    # then
    assert (result.min_price, result.max_price) == (Money("107.70"), Money("109.25"))
    assert gross_margin(Money("107.70"), Money("70.00")) >= Decimal("0.35")
    assert gross_margin(Money("107.69"), Money("70.00")) < Decimal("0.35")


def test_price_01_says_why_no_price_exists_when_the_margin_floor_is_above_the_band():
    # given cost 65.00 (floor 100.00) and a competitor at 100.00 (band 90.00-95.00)
    # when
    result = suggest_price(Money("65.00"), Money("100.00"), POLICY)

    # then
    assert result.feasible is False
    assert result.code is SuggestionCode.MARGIN_FLOOR_ABOVE_BAND
    assert (result.min_price, result.max_price, result.suggested) == (None, None, None)
    assert result.message_zh == "按35%毛利率，最低售价为100.00元，高于竞品价下浮5%后的95.00元"
    assert result.message_en == (
        "At a 35% gross margin the lowest price is 100.00 CNY, "
        "above 95.00 CNY, the competitor's price less 5%"
    )


def test_price_01_without_a_competitor_price_only_the_margin_floor_applies():
    # given cost 10.00: 10 / 0.65 = 15.3846… rounds up to 15.39
    # when
    result = suggest_price(Money("10.00"), None, POLICY)

    # then
    assert result.code is SuggestionCode.MARGIN_FLOOR_ONLY
    assert (result.min_price, result.max_price, result.suggested) == (Money("15.39"), None, Money("15.39"))
    assert result.message_zh == "无竞品价，按35%毛利率，最低售价为15.39元"


def test_price_01_band_without_a_whole_cent_price_is_explained():
    # given a competitor at 0.05: band 0.045-0.0475 holds no whole 分
    # when
    result = suggest_price(Money("0.01"), Money("0.05"), POLICY)

    # then
    assert result.code is SuggestionCode.BAND_HAS_NO_MINOR_UNIT
    assert result.feasible is False
    assert result.message_zh == "竞品价0.05元下浮5%–10%的区间内没有以分计的价格"


def test_price_01_percentages_follow_the_policy():
    # given 40% margin, 2-8% under the competitor
    policy = replace(
        POLICY,
        min_gross_margin=Decimal("0.40"),
        competitor_discount_min=Decimal("0.02"),
        competitor_discount_max=Decimal("0.08"),
    )

    # when
    result = suggest_price(Money("60.00"), Money("100.00"), policy)

    # then
    assert result.message_zh == "按40%毛利率，最低售价为100.00元，高于竞品价下浮2%后的98.00元"


def test_price_01_amounts_in_different_currencies_are_refused():
    # when / then
    with pytest.raises(CurrencyMismatchError):
        suggest_price(Money("10"), Money("20", "USD"), POLICY)


def test_price_01_policy_rejects_an_inverted_competitor_band():
    # when / then
    with pytest.raises(ValueError, match="competitor_discount"):
        PricingPolicy(competitor_discount_min=Decimal("0.2"), competitor_discount_max=Decimal("0.1"))


# --- properties ------------------------------------------------------------------------
# An independent integer oracle: cents and basis points only, no Fraction, no rounding.


def feasible_cents(price: int, cost: int, competitor: int | None, margin: int, dmin: int, dmax: int) -> bool:
    """Cost in 1/1000 yuan (sub-cent costs happen), prices in cents, ratios in basis points."""
    meets_margin = price > 0 and price * 10 * (10_000 - margin) >= cost * 10_000
    if competitor is None:
        return meets_margin
    in_band = competitor * (10_000 - dmax) <= price * 10_000 <= competitor * (10_000 - dmin)
    return meets_margin and in_band


def cents(money: Money) -> int:
    return int(money.amount * 100)


pricing_cases = st.tuples(
    st.integers(0, 500_000),  # cost in 1/1000 yuan: 0 to 500.000
    st.one_of(st.none(), st.integers(1, 100_000)),  # competitor in cents: 0.01 to 1000.00
    st.integers(0, 9_000),  # margin basis points
    st.integers(0, 3_000),  # smallest discount below the competitor
    st.integers(0, 3_000),  # extra width of the band
)


@given(pricing_cases)
def test_price_01_any_returned_price_meets_the_margin_and_the_competitor_band(case):
    # given
    cost, competitor, margin, dmin, width = case
    dmax = dmin + width
    policy = PricingPolicy(
        min_gross_margin=Decimal(margin) / 10_000,
        competitor_discount_min=Decimal(dmin) / 10_000,
        competitor_discount_max=Decimal(dmax) / 10_000,
    )
    competitor_money = None if competitor is None else Money(Decimal(competitor) / 100)

    # when
    result = suggest_price(Money(Decimal(cost) / 1000), competitor_money, policy)

    # then the returned bounds are feasible and tight (one cent outside is not)
    if result.feasible:
        assert result.min_price is not None
        assert result.suggested is not None
        low = cents(result.min_price)
        assert all(m.is_quantized() for m in (result.min_price, result.suggested))
        assert feasible_cents(low, cost, competitor, margin, dmin, dmax)
        assert feasible_cents(cents(result.suggested), cost, competitor, margin, dmin, dmax)
        assert not feasible_cents(low - 1, cost, competitor, margin, dmin, dmax)
        if competitor is None:
            assert result.max_price is None
        else:
            assert result.max_price is not None
            high = cents(result.max_price)
            assert low <= high
            assert feasible_cents(high, cost, competitor, margin, dmin, dmax)
            assert not feasible_cents(high + 1, cost, competitor, margin, dmin, dmax)
    else:
        # no cent price in (and around) the competitor band works
        assert competitor is not None
        lowest = competitor * (10_000 - dmax) // 10_000
        highest = -(-competitor * (10_000 - dmin) // 10_000)
        assert not any(
            feasible_cents(p, cost, competitor, margin, dmin, dmax)
            for p in range(max(1, lowest - 1), highest + 2)
        )


@given(pricing_cases)
def test_price_01_margin_floor_is_the_lowest_cent_price_meeting_the_margin(case):
    # given
    cost, _, margin, _, _ = case
    policy = PricingPolicy(min_gross_margin=Decimal(margin) / 10_000)

    # when
    floor = suggest_price(Money(Decimal(cost) / 1000), None, policy).margin_floor

    # then
    exact = Fraction(cost, 1000) / (1 - Fraction(margin, 10_000))
    assert Fraction(floor.amount) >= exact
    assert cents(floor) == 1 or Fraction(cents(floor) - 1, 100) < exact
