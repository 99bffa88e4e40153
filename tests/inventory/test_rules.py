"""Inventory rules: INV-01 safety stock and reorder, INV-02 promotion cover, INV-04 ABC,
INV-05 cycle counts, INV-07 turnover and slow movers."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storeops.core.money import Money
from storeops.inventory.rules import (
    AbcClass,
    AbcPolicy,
    ReplenishmentPolicy,
    SlowMoverPolicy,
    abc_classify,
    average_daily_sales,
    average_inventory,
    count_variance,
    days_of_inventory,
    next_review_date,
    promotion_cover_ok,
    reorder_quantity,
    reorder_target,
    replenishment_advice,
    review_cycle_days,
    safety_stock_alert,
    slow_mover,
    turnover,
)

POLICY = ReplenishmentPolicy()


# --- INV-01 ---------------------------------------------------------------------------------


def test_inv_01_average_daily_sales_uses_only_the_last_window_of_days():
    # given 2 old days of big sales, then 4 days selling 1, 2, 3, 6
    history = [100, 100, 1, 2, 3, 6]

    # when
    average = average_daily_sales(history, window_days=4)

    # then
    assert average == Decimal(3)


def test_inv_01_average_of_a_product_younger_than_the_window_is_over_the_days_it_has():
    assert average_daily_sales([2, 4, 0], window_days=28) == Decimal(2)


def test_inv_01_average_of_no_history_is_zero():
    assert average_daily_sales([], window_days=28) == Decimal(0)


@pytest.mark.parametrize(
    ("available", "alert"),
    [(29, True), (30, True), (31, False)],
)
def test_inv_01_alert_when_available_is_at_or_below_three_days_of_average_sales(available, alert):
    # given 10 units a day and the default 3 safety days (threshold 30)
    # when
    status = safety_stock_alert(available, Decimal(10), POLICY)

    # then
    assert status.alert is alert
    assert status.threshold == Decimal(30)
    assert status.days_of_cover == Fraction(available, 10)


def test_inv_01_safety_days_come_from_the_policy():
    # given a store that keeps 5 days of safety stock
    policy = ReplenishmentPolicy(safety_stock_days=5)

    # when 40 units are left at 10 a day
    status = safety_stock_alert(40, 10, policy)

    # then 40 <= 50
    assert status.alert is True
    assert status.threshold == Decimal(50)


def test_inv_01_sku_that_does_not_sell_never_alerts_even_when_empty():
    status = safety_stock_alert(0, 0, POLICY)
    assert status.alert is False
    assert status.days_of_cover is None


def test_inv_01_fractional_average_threshold_compares_exactly():
    # given 7 units sold over 3 days: 7/3 a day, threshold exactly 7
    average = average_daily_sales([3, 2, 2], window_days=3)

    # then 7 available alerts and 8 does not
    assert safety_stock_alert(7, average, POLICY).alert is True
    assert safety_stock_alert(8, average, POLICY).alert is False


def test_inv_01_reorder_covers_lead_time_plus_safety_days_minus_stock_and_open_orders():
    # given 10 a day, lead time 7 + safety 3 = 100 units needed, 20 available, 15 on order
    # when
    quantity = reorder_quantity(available=20, on_order=15, avg_daily_sales=10, policy=POLICY)

    # then
    assert quantity == 65


def test_inv_01_reorder_rounds_up_to_whole_case_packs():
    # given a need of 65 units in cases of 12
    quantity = reorder_quantity(available=20, on_order=15, avg_daily_sales=10, policy=POLICY, case_pack=12)

    # then 6 cases
    assert quantity == 72


def test_inv_01_reorder_is_at_least_the_minimum_order_quantity_in_whole_cases():
    # given a need of 5 units, MOQ 50, cases of 12
    quantity = reorder_quantity(
        available=95, on_order=0, avg_daily_sales=10, policy=POLICY, moq=50, case_pack=12
    )

    # then 50 rounded up to 60
    assert quantity == 60


def test_inv_01_no_reorder_when_stock_and_open_orders_already_cover():
    assert reorder_quantity(available=60, on_order=40, avg_daily_sales=10, policy=POLICY, moq=50) == 0


def test_inv_01_forecast_replaces_average_demand_over_the_lead_time():
    # given the forecast expects 140 units over the 7-day lead time (a promotion), avg 10
    target = reorder_target(10, POLICY, lead_time_forecast=140)
    quantity = reorder_quantity(
        available=0, on_order=0, avg_daily_sales=10, policy=POLICY, lead_time_forecast=140
    )

    # then 140 + 3 safety days x 10
    assert target == Decimal(170)
    assert quantity == 170


def test_inv_01_fractional_need_is_rounded_up_to_a_whole_unit():
    # 7/3 a day x 10 days = 23.33 -> 24
    assert reorder_quantity(available=0, on_order=0, avg_daily_sales=Decimal(7) / 3, policy=POLICY) == 24


def test_inv_01_alert_comes_with_a_suggested_order_quantity():
    # given 25 left at 10 a day (threshold 30), 10 on order, cases of 6
    advice = replenishment_advice(available=25, on_order=10, avg_daily_sales=10, policy=POLICY, case_pack=6)

    # then need 100 - 35 = 65 -> 66
    assert advice.alert is True
    assert advice.suggested_quantity == 66


def test_inv_01_no_alert_suggests_nothing_even_below_the_reorder_target():
    advice = replenishment_advice(available=31, on_order=0, avg_daily_sales=10, policy=POLICY)
    assert advice.alert is False
    assert advice.suggested_quantity == 0


def test_inv_01_negative_stock_or_bad_case_pack_is_refused():
    with pytest.raises(ValueError, match="available"):
        reorder_quantity(available=-1, on_order=0, avg_daily_sales=1, policy=POLICY)
    with pytest.raises(ValueError, match="case_pack"):
        reorder_quantity(available=0, on_order=0, avg_daily_sales=1, policy=POLICY, case_pack=0)
    with pytest.raises(TypeError):
        safety_stock_alert(1, 0.5, POLICY)  # type: ignore[arg-type]


@given(
    available=st.integers(0, 10_000),
    on_order=st.integers(0, 10_000),
    avg=st.decimals(min_value=0, max_value=1_000, places=2),
    case_pack=st.integers(1, 48),
    moq=st.integers(0, 500),
    safety=st.integers(0, 30),
    lead=st.integers(0, 60),
)
def test_inv_01_reorder_quantity_is_never_negative_whole_cases_and_covers_the_target(
    available, on_order, avg, case_pack, moq, safety, lead
):
    # given
    policy = ReplenishmentPolicy(safety_stock_days=safety, replenishment_lead_time_days=lead)

    # when
    quantity = reorder_quantity(
        available=available,
        on_order=on_order,
        avg_daily_sales=avg,
        policy=policy,
        case_pack=case_pack,
        moq=moq,
    )

    # then
    target = reorder_target(avg, policy)
    assert quantity >= 0
    assert quantity % case_pack == 0
    if quantity > 0:
        assert quantity >= moq
        assert available + on_order + quantity >= target
        # and it is the smallest such order: one case less would not do
        assert quantity - case_pack < max(math.ceil(target) - available - on_order, moq)
    else:
        assert available + on_order >= math.ceil(target)


@given(available=st.integers(0, 1_000), avg=st.decimals(min_value=0, max_value=100, places=3))
def test_inv_01_an_alerting_sku_always_gets_a_positive_reorder_when_lead_time_is_positive(available, avg):
    status = safety_stock_alert(available, avg, POLICY)
    if status.alert and available < avg * (POLICY.safety_stock_days + POLICY.replenishment_lead_time_days):
        assert reorder_quantity(available=available, on_order=0, avg_daily_sales=avg, policy=POLICY) > 0


# --- INV-02 ---------------------------------------------------------------------------------


def test_inv_02_stock_covering_fifteen_days_of_uplifted_demand_is_ok():
    # given 10 a day, uplift 3x: 30 a day x 15 days = 450
    cover = promotion_cover_ok(450, 10, 3)

    # then
    assert cover.ok is True
    assert cover.required == 450
    assert cover.shortfall == 0
    assert cover.days_covered == Decimal(15)


def test_inv_02_stock_short_of_the_cover_reports_the_shortfall():
    cover = promotion_cover_ok(400, 10, Decimal("2.5"))
    # 25 a day x 15 days = 375 -> ok; at 3x it would be short
    assert cover.ok is True
    short = promotion_cover_ok(400, 10, 3)
    assert short.ok is False
    assert short.required == 450
    assert short.shortfall == 50
    assert short.days_covered == Fraction(40, 3)


def test_inv_02_cover_days_come_from_the_playbook():
    cover = promotion_cover_ok(200, 10, 1, days=21)
    assert (cover.required, cover.shortfall) == (210, 10)


def test_inv_02_fractional_demand_rounds_the_requirement_up():
    # 1.1 a day x 1.5 x 15 = 24.75 -> 25
    cover = promotion_cover_ok(24, Decimal("1.1"), Decimal("1.5"))
    assert (cover.required, cover.shortfall, cover.ok) == (25, 1, False)


# --- INV-04 ---------------------------------------------------------------------------------


def test_inv_04_abc_splits_by_cumulative_sales_value_eighty_fifteen_five():
    # given sales values summing to 100
    values = {"a1": 50, "a2": 30, "b1": 10, "b2": 5, "c1": 3, "c2": 2}

    # when
    classes = abc_classify(values)

    # then A reaches 80%, B the next 15%
    assert classes == {
        "a1": AbcClass.A,
        "a2": AbcClass.A,
        "b1": AbcClass.B,
        "b2": AbcClass.B,
        "c1": AbcClass.C,
        "c2": AbcClass.C,
    }


def test_inv_04_the_item_that_crosses_the_a_share_is_still_a():
    # 70 before it < 80, so the 20 crossing into 90% is A
    classes = abc_classify({"x": 70, "y": 20, "z": 10})
    assert classes == {"x": AbcClass.A, "y": AbcClass.A, "z": AbcClass.B}


def test_inv_04_ties_are_broken_by_sku_code_whatever_the_input_order():
    # given four equal sellers: 25% each
    forward = abc_classify({"d": 1, "c": 1, "b": 1, "a": 1})
    backward = abc_classify({"a": 1, "b": 1, "c": 1, "d": 1})

    # then a, b, c hold 75% < 80%, so d is A too; with five, a..d hold 80% and e is B
    assert forward == backward == {"a": AbcClass.A, "b": AbcClass.A, "c": AbcClass.A, "d": AbcClass.A}
    five = abc_classify({"e": 1, "d": 1, "c": 1, "b": 1, "a": 1})
    assert five == {"a": AbcClass.A, "b": AbcClass.A, "c": AbcClass.A, "d": AbcClass.A, "e": AbcClass.B}


def test_inv_04_skus_without_sales_are_c_and_no_sales_at_all_is_all_c():
    assert abc_classify({"x": 10, "y": 0}) == {"x": AbcClass.A, "y": AbcClass.C}
    assert abc_classify({"x": 0, "y": 0}) == {"x": AbcClass.C, "y": AbcClass.C}


def test_inv_04_shares_come_from_the_playbook():
    values = {"a1": 50, "a2": 30, "b1": 10, "b2": 5, "c1": 3, "c2": 2}
    classes = abc_classify(values, a_share=Decimal("0.5"), b_share=Decimal("0.3"))
    assert [classes[s] for s in ("a1", "a2", "b1", "b2")] == [AbcClass.A, AbcClass.B, AbcClass.C, AbcClass.C]


def test_inv_04_shares_that_leave_nothing_for_c_are_refused():
    with pytest.raises(ValueError, match="a_share"):
        abc_classify({"x": 1}, a_share=Decimal("0.9"), b_share=Decimal("0.1"))
    with pytest.raises(ValueError, match="a_share"):
        AbcPolicy(a_share=Decimal("0.9"), b_share=Decimal("0.1"))


def test_inv_04_each_class_has_its_own_review_cycle():
    policy = AbcPolicy()
    assert [review_cycle_days(c, policy) for c in AbcClass] == [7, 30, 90]
    assert next_review_date(date(2026, 1, 1), AbcClass.B, policy) == date(2026, 1, 31)


sales_values = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=3), st.integers(0, 10_000), min_size=1, max_size=30
)
shares = st.decimals(min_value=Decimal("0.05"), max_value=Decimal("0.9"), places=2)

_RANK = {AbcClass.A: 0, AbcClass.B: 1, AbcClass.C: 2}


@given(values=sales_values)
def test_inv_04_every_a_item_sells_at_least_as_much_as_every_b_item_and_b_more_than_c(values):
    classes = abc_classify(values)
    for sku, cls in classes.items():
        for other, other_cls in classes.items():
            if _RANK[cls] < _RANK[other_cls]:
                assert values[sku] >= values[other]


@given(values=sales_values)
def test_inv_04_class_a_is_the_smallest_top_group_reaching_the_a_share(values):
    classes = abc_classify(values)
    total = sum(values.values())
    a_values = sorted((values[s] for s, c in classes.items() if c is AbcClass.A), reverse=True)
    if total == 0:
        assert not a_values
        return
    assert sum(a_values) >= Decimal("0.80") * total
    assert sum(a_values[:-1]) < Decimal("0.80") * total


@given(
    values=sales_values, low=shares, high=shares, b_share=st.decimals(min_value=0, max_value="0.09", places=2)
)
def test_inv_04_raising_the_a_share_never_demotes_an_item(values, low, high, b_share):
    low, high = min(low, high), max(low, high)
    before = abc_classify(values, a_share=low, b_share=b_share)
    after = abc_classify(values, a_share=high, b_share=b_share)
    for sku in values:
        if before[sku] is AbcClass.A:
            assert after[sku] is AbcClass.A


@given(values=sales_values, data=st.data())
def test_inv_04_classification_does_not_depend_on_input_order(values, data):
    shuffled = dict(data.draw(st.permutations(list(values.items()))))
    assert abc_classify(shuffled) == abc_classify(values)


# --- INV-07 ---------------------------------------------------------------------------------


def test_inv_07_turnover_is_sales_over_average_inventory_and_days_of_inventory_follow():
    # given sales at cost 12,000 over a 360-day year, stock 3,000 at the start and 1,000 at the end
    stock = average_inventory([3000, 1000])

    # then
    assert stock == Decimal(2000)
    assert turnover(12000, stock) == Decimal(6)
    assert days_of_inventory(12000, stock, period_days=360) == Decimal(60)


def test_inv_07_turnover_without_inventory_and_days_without_sales_are_undefined():
    assert turnover(100, 0) is None
    assert days_of_inventory(0, 50, period_days=30) is None


@pytest.mark.parametrize(
    ("on_hand", "sold", "slow", "cover"),
    [
        (90, 30, False, Decimal(90)),  # 90 days of cover at 1/day: not more than 90
        (91, 30, True, Decimal(91)),
        (5, 0, True, None),  # stock that did not sell at all
        (0, 0, False, None),  # nothing on hand, nothing to clear
    ],
)
def test_inv_07_slow_mover_when_stock_lasts_more_than_ninety_days_at_the_current_pace(
    on_hand, sold, slow, cover
):
    status = slow_mover(on_hand=on_hand, units_sold=sold, period_days=30, policy=SlowMoverPolicy())
    assert status.slow is slow
    assert status.days_of_cover == cover


# --- INV-05 ---------------------------------------------------------------------------------


def test_inv_05_count_variance_values_each_difference_at_cost_and_lists_adjustments():
    # given the book and a count of three SKUs (one not counted, one found unbooked)
    expected = {"A": 10, "B": 5, "C": 7, "D": 3}
    counted = {"A": 8, "B": 5, "C": 9, "E": 1}
    cost = {"A": Money("12.50"), "B": Money("3"), "C": Money("0.99"), "E": Money("100")}

    # when
    report = count_variance(expected, counted, cost)

    # then
    assert [(ln.sku, ln.expected, ln.counted, ln.variance, ln.variance_value) for ln in report.lines] == [
        ("A", 10, 8, -2, Money("-25.00")),
        ("B", 5, 5, 0, Money("0")),
        ("C", 7, 9, 2, Money("1.98")),
        ("E", 0, 1, 1, Money("100")),
    ]
    assert [ln.sku for ln in report.adjustments] == ["A", "C", "E"]
    assert report.not_counted == ("D",)
    assert report.net_value == Money("76.98")
    assert report.absolute_value == Money("126.98")
    assert report.accuracy == Decimal("0.25")


def test_inv_05_a_counted_sku_without_cost_is_an_error():
    with pytest.raises(KeyError, match="X"):
        count_variance({"X": 1}, {"X": 2}, {})


@given(
    book=st.dictionaries(st.sampled_from("ABCDEF"), st.integers(0, 100)),
    count=st.dictionaries(st.sampled_from("ABCDEF"), st.integers(0, 100)),
)
def test_inv_05_applying_the_adjustments_makes_the_book_equal_the_count(book, count):
    report = count_variance(book, count, dict.fromkeys("ABCDEF", Money("2")))
    adjusted = dict(book)
    for line in report.adjustments:
        adjusted[line.sku] = adjusted.get(line.sku, 0) + line.variance
    for sku, physical in count.items():
        assert adjusted.get(sku, 0) == physical
    assert report.net_value == Money(2 * (sum(count.values()) - sum(book.get(s, 0) for s in count)))
