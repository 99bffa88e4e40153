"""SOP INV-05 pure rules: the count sheet life cycle and the posting delta."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storeops.inventory.rules import CountState, count_posting_delta, count_transition_allowed

units = st.integers(min_value=0, max_value=10**6)


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        ("draft", "counting", True),
        ("draft", "cancelled", True),
        ("counting", "posted", True),
        ("counting", "cancelled", True),
        ("draft", "posted", False),
        ("posted", "posted", False),
        ("posted", "cancelled", False),
        ("cancelled", "counting", False),
    ],
)
def test_inv_05_count_sheet_transitions(source, target, allowed):
    assert count_transition_allowed(source, target) is allowed


@given(st.sampled_from(list(CountState)))
def test_inv_05_nothing_leaves_a_posted_or_cancelled_sheet(target):
    assert not count_transition_allowed("posted", target)
    assert not count_transition_allowed("cancelled", target)


@given(expected=units, counted=units)
def test_inv_05_unmoved_book_posts_the_variance_and_lands_on_the_count(expected, counted):
    delta = count_posting_delta(expected=expected, counted=counted, on_hand_now=expected)
    assert delta == counted - expected
    assert expected + delta == counted


@given(
    expected=units,
    counted=units,
    moved=st.integers(min_value=1, max_value=1000),
    sign=st.sampled_from([1, -1]),
)
def test_inv_05_moved_book_is_never_guessed(expected, counted, moved, sign):
    now = expected + sign * moved
    if now < 0:
        now = expected + moved
    assert count_posting_delta(expected=expected, counted=counted, on_hand_now=now) is None


def test_inv_05_posting_delta_refuses_negative_or_fractional_units():
    with pytest.raises(ValueError, match="cannot be negative"):
        count_posting_delta(expected=1, counted=-1, on_hand_now=1)
    with pytest.raises(TypeError):
        count_posting_delta(expected=1, counted=True, on_hand_now=1)  # type: ignore[arg-type]


# SOP: INV-06 — the forecast over lead time + safety days replaces the average-based target
@given(
    avg=st.integers(min_value=0, max_value=1000),
    forecast=st.integers(min_value=0, max_value=10**5),
    available=st.integers(min_value=0, max_value=10**5),
)
def test_inv_06_horizon_forecast_sets_the_order_up_to_level(avg, forecast, available):
    from storeops.inventory.rules import ReplenishmentPolicy, reorder_quantity, reorder_target

    policy = ReplenishmentPolicy()
    assert reorder_target(avg, policy, horizon_forecast=forecast) == forecast
    qty = reorder_quantity(
        available=available, on_order=0, avg_daily_sales=avg, policy=policy, horizon_forecast=forecast
    )
    assert qty == max(0, forecast - available)


def test_inv_06_lead_time_and_horizon_forecasts_are_exclusive():
    from storeops.inventory.rules import ReplenishmentPolicy, reorder_target

    with pytest.raises(ValueError, match="not both"):
        reorder_target(1, ReplenishmentPolicy(), lead_time_forecast=5, horizon_forecast=10)
