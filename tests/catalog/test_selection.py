"""Product selection (SOP SEL-01, SEL-03) and the supplier scorecard (SEL-02)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storeops.catalog.rules import (
    Reason,
    SelectionPolicy,
    Severity,
    SupplierComponents,
    SupplierPolicy,
    SupplierStats,
    SupplierWeights,
    category_is_candidate,
    competition_ratio,
    key_product_needs_more_suppliers,
    meets_selection_margin,
    rank_suppliers,
    score_supplier,
)
from storeops.core.money import CurrencyMismatchError, Money

SELECTION = SelectionPolicy()
SUPPLIERS = SupplierPolicy()


def a_supplier(**changes: object) -> SupplierStats:
    stats = SupplierStats(
        supplier_id="S1",
        orders=100,
        stock_out_events=2,
        deliveries=40,
        on_time_deliveries=38,
        qc_samples=500,
        qc_passed=495,
        payment_term_days=30,
        iso9001=True,
        small_batch_customisation=False,
    )
    return replace(stats, **changes)


def test_sel_01_fast_growing_category_with_low_competition_is_a_candidate():
    # given growth 31%, 400 listings for a search popularity of 1000 (ratio 0.4)
    # when / then
    assert category_is_candidate(Decimal("0.31"), 400, 1000, SELECTION) is True


@pytest.mark.parametrize(
    ("growth", "listings", "popularity"),
    [
        ("0.30", 400, 1000),  # growth must be strictly above 30%
        ("0.50", 500, 1000),  # competition ratio must be strictly below 0.5
        ("0.50", 10, 0),  # nobody searches: no demand
    ],
)
def test_sel_01_category_at_or_past_a_threshold_is_not_a_candidate(growth, listings, popularity):
    # when / then
    assert category_is_candidate(Decimal(growth), listings, popularity, SELECTION) is False


def test_sel_01_thresholds_follow_the_policy():
    # given
    policy = replace(SELECTION, min_category_growth_30d=Decimal("0.10"), max_competition_ratio=Decimal("1"))

    # when / then
    assert category_is_candidate(Decimal("0.11"), 900, 1000, policy) is True
    assert competition_ratio(900, 1000) == Decimal("0.9")


def test_sel_03_margin_of_exactly_30_percent_meets_the_selection_minimum():
    # given price 100.00, full cost 70.00 (30%) and 70.01 (29.99%)
    # when / then
    assert meets_selection_margin(Money("100.00"), Money("70.00"), SELECTION) is True
    assert meets_selection_margin(Money("100.00"), Money("70.01"), SELECTION) is False
    assert meets_selection_margin(Money("0"), Money("0"), SELECTION) is False


def test_sel_03_prices_in_different_currencies_cannot_be_compared():
    # when / then
    with pytest.raises(CurrencyMismatchError):
        meets_selection_margin(Money("100", "USD"), Money("70"), SELECTION)


def test_sel_02_score_is_the_weighted_mean_of_the_components():
    # given stock-out 2% (0.6), QC 99% (0.5), on time 95%, 30-day terms (0.5), ISO 9001, no small batches
    stats = a_supplier()

    # when
    result = score_supplier(stats, SUPPLIERS)

    # then 25*0.6 + 25*0.5 + 20*0.95 + 10*0.5 + 10*1 + 10*0 = 61.5
    assert result.components == SupplierComponents(
        stock_out=Decimal("0.6"),
        qc=Decimal("0.5"),
        on_time=Decimal("0.95"),
        payment_terms=Decimal("0.5"),
        iso9001=Decimal(1),
        small_batch=Decimal(0),
    )
    assert result.score == Decimal("61.50")
    assert result.reasons == ()


def test_sel_02_a_flawless_supplier_scores_100():
    # given
    stats = a_supplier(
        stock_out_events=0,
        on_time_deliveries=40,
        qc_passed=500,
        payment_term_days=90,
        small_batch_customisation=True,
    )

    # when / then
    assert score_supplier(stats, SUPPLIERS).score == Decimal("100.00")


def test_sel_02_stock_out_rate_of_5_percent_and_qc_pass_under_98_percent_are_breaches():
    # given
    stats = a_supplier(stock_out_events=5, qc_samples=100, qc_passed=97)

    # when
    result = score_supplier(stats, SUPPLIERS)

    # then
    assert result.reasons == (
        Reason(
            "SEL-02",
            "stock_out_rate_too_high",
            "supplier",
            "缺货率5%，应低于5%",
            "Stock-out rate 5%, must stay under 5%",
        ),
        Reason(
            "SEL-02",
            "qc_pass_rate_too_low",
            "supplier",
            "质检抽检合格率97%，低于98%",
            "QC pass rate 97%, under 98%",
        ),
    )
    assert (result.components.stock_out, result.components.qc) == (Decimal(0), Decimal(0))


def test_sel_02_just_inside_the_thresholds_is_no_breach():
    # given stock-out 4.99%, QC pass exactly 98%
    stats = a_supplier(orders=10_000, stock_out_events=499, qc_samples=100, qc_passed=98)

    # when / then
    assert score_supplier(stats, SUPPLIERS).reasons == ()


def test_sel_02_criteria_without_history_score_zero_and_warn():
    # given a new supplier
    stats = a_supplier(
        orders=0, stock_out_events=0, deliveries=0, on_time_deliveries=0, qc_samples=0, qc_passed=0
    )

    # when
    result = score_supplier(stats, SUPPLIERS)

    # then 10*0.5 + 10*1 = 15
    assert result.score == Decimal("15.00")
    assert [(r.code, r.field, r.severity) for r in result.reasons] == [
        ("insufficient_history", "orders", Severity.WARN),
        ("insufficient_history", "qc_samples", Severity.WARN),
        ("insufficient_history", "deliveries", Severity.WARN),
    ]


def test_sel_02_weights_follow_the_policy():
    # given a store that only weighs on-time delivery
    zero = Decimal(0)
    weights = SupplierWeights(zero, zero, Decimal(1), zero, zero, zero)

    # when
    result = score_supplier(a_supplier(), replace(SUPPLIERS, weights=weights))

    # then
    assert result.score == Decimal("95.00")


def test_sel_02_ranking_puts_the_best_score_first_and_breaks_ties_by_id():
    # given
    good = a_supplier(supplier_id="B", stock_out_events=0)
    twin = a_supplier(supplier_id="A", stock_out_events=0)
    poor = a_supplier(supplier_id="C", stock_out_events=9)

    # when
    ranking = rank_suppliers([poor, good, twin], SUPPLIERS)

    # then
    assert [(s.supplier_id, s.score) for s in ranking] == [
        ("A", Decimal("71.50")),
        ("B", Decimal("71.50")),
        ("C", Decimal("46.50")),
    ]


def test_sel_02_key_product_needs_at_least_two_suppliers():
    # when / then
    assert key_product_needs_more_suppliers(1, SUPPLIERS) is True
    assert key_product_needs_more_suppliers(2, SUPPLIERS) is False
    assert key_product_needs_more_suppliers(2, replace(SUPPLIERS, min_suppliers_for_key_product=3)) is True


def test_sel_02_inconsistent_stats_are_refused():
    # when / then
    with pytest.raises(ValueError, match="inconsistent"):
        a_supplier(on_time_deliveries=41)


@given(
    orders=st.integers(0, 1000),
    stock_outs=st.integers(0, 1000),
    deliveries=st.integers(0, 1000),
    on_time=st.integers(0, 1000),
    samples=st.integers(0, 1000),
    passed=st.integers(0, 1000),
    terms=st.integers(0, 365),
    iso=st.booleans(),
    small=st.booleans(),
)
def test_sel_02_score_always_lies_between_0_and_100(
    orders, stock_outs, deliveries, on_time, samples, passed, terms, iso, small
):
    # given
    stats = SupplierStats(
        "S", orders, min(stock_outs, orders), deliveries, min(on_time, deliveries),
        samples, min(passed, samples), terms, iso, small,
    )  # fmt: skip

    # when
    result = score_supplier(stats, SUPPLIERS)

    # then
    assert Decimal(0) <= result.score <= Decimal(100)
    components = result.components
    parts = (components.stock_out, components.qc, components.on_time, components.payment_terms)
    assert all(Decimal(0) <= part <= Decimal(1) for part in parts)
