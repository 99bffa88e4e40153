"""Product lifecycle (SOP LIST-07) and the conversion flag (LIST-08)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from storeops.catalog.rules import (
    LifecyclePolicy,
    LifecycleStage,
    conversion_below_category,
    days_of_cover,
    lifecycle_stage,
    slow_mover_reasons,
)

TODAY = date(2026, 3, 15)
POLICY = LifecyclePolicy()


def listed_days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


@pytest.mark.parametrize(
    ("age", "stage"),
    [
        (0, LifecycleStage.LAUNCH),
        (30, LifecycleStage.LAUNCH),
        (31, LifecycleStage.STABLE),
        (90, LifecycleStage.STABLE),
        (91, LifecycleStage.MATURE),
    ],
)
def test_list_07_stage_follows_age_with_launch_to_30_and_stable_to_90_days(age, stage):
    # given steady sales
    listed_on = listed_days_ago(age)

    # when
    result = lifecycle_stage(listed_on, TODAY, recent_units=100, previous_units=100, policy=POLICY)

    # then
    assert result is stage


def test_list_07_old_product_whose_sales_fell_by_the_decline_ratio_is_in_decline():
    # given sales fell from 100 to 80 (exactly 20%) and to 81
    listed_on = listed_days_ago(200)

    # when
    fell_20 = lifecycle_stage(listed_on, TODAY, recent_units=80, previous_units=100, policy=POLICY)
    fell_19 = lifecycle_stage(listed_on, TODAY, recent_units=81, previous_units=100, policy=POLICY)

    # then
    assert fell_20 is LifecycleStage.DECLINE
    assert fell_19 is LifecycleStage.MATURE


def test_list_07_falling_sales_do_not_make_a_stable_product_decline():
    # given a 60-day-old product whose sales halved
    # when
    stage = lifecycle_stage(listed_days_ago(60), TODAY, recent_units=10, previous_units=20, policy=POLICY)

    # then
    assert stage is LifecycleStage.STABLE


def test_list_07_old_product_without_previous_sales_is_mature():
    # when
    stage = lifecycle_stage(listed_days_ago(120), TODAY, recent_units=0, previous_units=0, policy=POLICY)

    # then
    assert stage is LifecycleStage.MATURE


def test_list_07_stage_windows_follow_the_policy():
    # given a store with a 14-day launch and a 60-day stable stage
    policy = replace(POLICY, launch_days=14, stable_days=60)

    # when
    stages = [
        lifecycle_stage(listed_days_ago(age), TODAY, recent_units=5, previous_units=5, policy=policy)
        for age in (14, 15, 60, 61)
    ]

    # then
    assert stages == [
        LifecycleStage.LAUNCH,
        LifecycleStage.STABLE,
        LifecycleStage.STABLE,
        LifecycleStage.MATURE,
    ]


def test_list_07_listing_date_in_the_future_is_an_error():
    # when / then
    with pytest.raises(ValueError, match="after today"):
        lifecycle_stage(TODAY + timedelta(days=1), TODAY, recent_units=0, previous_units=0, policy=POLICY)


def test_list_07_product_selling_under_the_minimum_is_a_slow_mover():
    # given 2 units sold in 30 days, 10 in stock (cover 150 days)
    # when
    reasons = slow_mover_reasons(
        listed_on=listed_days_ago(100), today=TODAY, units_sold_in_window=2, stock_on_hand=10, policy=POLICY
    )

    # then
    assert [(r.rule, r.code) for r in reasons] == [
        ("LIST-07", "slow_mover_low_sales"),
        ("LIST-07", "slow_mover_high_cover"),
    ]
    assert reasons[0].message_zh == "近30天仅售2件，低于3件，建议清仓"
    assert reasons[1].message_zh == "库存10件按近30天销速可售150天，超过90天，建议清仓"


def test_list_07_product_with_more_than_90_days_of_cover_is_a_slow_mover():
    # given 30 sold in 30 days (1 a day) and 91 in stock, or 90 in stock
    # when
    over = slow_mover_reasons(
        listed_on=listed_days_ago(100), today=TODAY, units_sold_in_window=30, stock_on_hand=91, policy=POLICY
    )
    at_limit = slow_mover_reasons(
        listed_on=listed_days_ago(100), today=TODAY, units_sold_in_window=30, stock_on_hand=90, policy=POLICY
    )

    # then
    assert [r.code for r in over] == ["slow_mover_high_cover"]
    assert at_limit == ()


def test_list_07_products_in_launch_or_without_stock_are_not_slow_movers():
    # when
    launching = slow_mover_reasons(
        listed_on=listed_days_ago(30), today=TODAY, units_sold_in_window=0, stock_on_hand=500, policy=POLICY
    )
    sold_out = slow_mover_reasons(
        listed_on=listed_days_ago(300), today=TODAY, units_sold_in_window=0, stock_on_hand=0, policy=POLICY
    )

    # then
    assert launching == ()
    assert sold_out == ()


def test_list_07_nothing_sold_means_no_days_of_cover():
    # when / then
    assert days_of_cover(10, 0, 30) is None
    assert days_of_cover(45, 30, 30) == Decimal(45)


def test_list_08_conversion_below_the_category_average_is_flagged():
    # given 1% against a category average of 3%
    # when / then
    assert conversion_below_category(Decimal("0.01"), Decimal("0.03"), POLICY) is True
    assert conversion_below_category(Decimal("0.03"), Decimal("0.03"), POLICY) is False


def test_list_08_too_few_visitors_never_flag():
    # when / then
    assert conversion_below_category(Decimal("0.01"), Decimal("0.03"), POLICY, visitors=99) is False
    assert conversion_below_category(Decimal("0.01"), Decimal("0.03"), POLICY, visitors=100) is True


def test_list_08_flag_ratio_follows_the_policy():
    # given a store that flags only below half the category average
    policy = replace(POLICY, conversion_flag_ratio=Decimal("0.5"))

    # when / then
    assert conversion_below_category(Decimal("0.02"), Decimal("0.03"), policy) is False
    assert conversion_below_category(Decimal("0.0149"), Decimal("0.03"), policy) is True
