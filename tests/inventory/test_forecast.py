"""Demand forecast (SOP INV-06): methods, classification, promotions, seasonal prep, backtest."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storeops.inventory.forecast import (
    DemandClass,
    ForecastPolicy,
    Method,
    PlannedPromotion,
    backtest,
    classify_demand,
    closed_phases,
    croston_sba,
    demand_over,
    forecast_demand,
    forecast_sku,
    prep_date,
    promotion_uplift,
    seasonal_naive,
    tsb,
)

WEEK = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 0.0]  # closed on the 7th day


def test_inv_06_winter_goods_are_prepared_45_days_before_the_season():
    assert prep_date(date(2026, 11, 1)) == date(2026, 9, 17)
    assert prep_date(date(2026, 11, 1), seasonal_prep_days=30) == date(2026, 10, 2)


def test_inv_06_seasonal_naive_repeats_the_last_week():
    # given ten days 1..10
    forecast = seasonal_naive(range(1, 11), 10, season=7)  # type: ignore[arg-type]

    # then the last seven days, again and again
    assert forecast.tolist() == [4, 5, 6, 7, 8, 9, 10, 4, 5, 6]


def test_inv_06_seasonal_naive_of_a_short_history_repeats_the_last_value():
    assert seasonal_naive([3, 5], 3).tolist() == [5, 5, 5]
    assert seasonal_naive([], 2).tolist() == [0, 0]


def test_inv_06_croston_sba_smooths_size_and_interval_at_demand_days_and_corrects_the_bias():
    # given demand 3 on day 3 and 6 two days later, alpha 0.5
    # size 3 -> 4.5, interval 3 -> 2.5, rate (1 - 0.25) x 4.5 / 2.5
    forecast = croston_sba([0, 0, 3, 0, 6], 3, alpha=0.5)
    assert forecast == pytest.approx([1.35, 1.35, 1.35], abs=1e-12)


def test_inv_06_tsb_smooths_the_demand_probability_every_day():
    # given p0 = 0.5, size 2; p: 0.25, 0.625, 0.3125, 0.65625
    forecast = tsb([0, 2, 0, 2], 2, alpha=0.5, beta=0.5)
    assert forecast == pytest.approx([1.3125, 1.3125], abs=1e-12)


def test_inv_06_tsb_decays_after_a_product_stops_selling_while_croston_does_not():
    history = [5.0] * 20 + [0.0] * 40
    assert tsb(history, 1)[0] < 0.1
    assert croston_sba(history, 1)[0] == pytest.approx(0.95 * 5.0)


def test_inv_06_no_demand_forecasts_zero_for_every_method():
    assert croston_sba([0, 0, 0], 2).tolist() == [0, 0]
    assert tsb([0, 0, 0], 2).tolist() == [0, 0]
    result = forecast_sku([0.0] * 30, 3)
    assert result.method is Method.ZERO
    assert result.values.tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    ("history", "cls", "adi", "cv2"),
    [
        ([4, 4, 4, 4], DemandClass.SMOOTH, 1.0, 0.0),
        ([1, 10, 1, 10], DemandClass.ERRATIC, 1.0, (4.5 / 5.5) ** 2),
        ([0, 0, 5, 0, 0, 5], DemandClass.INTERMITTENT, 3.0, 0.0),
        ([0, 10, 0, 1], DemandClass.LUMPY, 2.0, (4.5 / 5.5) ** 2),
        ([0, 0], DemandClass.NONE, float("inf"), 0.0),
    ],
)
def test_inv_06_demand_is_classified_by_adi_and_cv2(history, cls, adi, cv2):
    profile = classify_demand(history)
    assert profile.demand_class is cls
    assert profile.adi == adi
    assert profile.cv2 == pytest.approx(cv2)


def test_inv_06_a_weekday_without_sales_for_eight_weeks_is_a_closed_day():
    history = WEEK * 8
    assert closed_phases(history) == (6,)
    assert closed_phases(WEEK * 7) == ()  # not enough weeks to tell


def test_inv_06_a_slow_sellers_empty_weekdays_are_chance_not_a_closed_shop():
    # given a seller that sold on only two days of eight weeks
    history = [0.0] * 56
    history[10], history[40] = 3.0, 1.0

    # then no weekday is taken for closed
    assert closed_phases(history) == ()


def test_inv_06_the_store_calendar_closes_days_for_every_seller():
    # given a slow seller and a shop closed on weekday position 2
    history = ([0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0]) * 10

    # when
    result = forecast_sku(history, 7, closed=[2])

    # then (the first forecast day is index 100, position 100 % 7 = 2)
    assert result.closed_phases == (2,)
    assert result.values[0] == 0.0
    assert np.all(result.values[1:] > 0)
    with pytest.raises(ValueError, match="every day"):
        forecast_sku(history, 7, closed=range(7))


def test_inv_06_regular_weekly_seller_is_forecast_by_ets_with_its_weekly_pattern():
    # given twenty weeks of the same week, closed on day 7
    history = WEEK * 20

    # when
    result = forecast_sku(history, 14)

    # then
    assert result.method is Method.ETS
    assert result.closed_phases == (6,)
    assert result.values == pytest.approx(WEEK * 2, rel=0.02, abs=0.01)
    assert result.values[6] == 0.0
    assert result.values[13] == 0.0


def test_inv_06_the_forecast_continues_the_weekday_calendar_of_the_history():
    # given history ending on the 3rd day of its week
    history = (WEEK * 20)[:-4]

    # when
    values = forecast_demand(history, 7)

    # then it resumes at day 4
    assert values == pytest.approx(WEEK[3:] + WEEK[:3], rel=0.02, abs=0.01)


def test_inv_06_slow_seller_is_forecast_by_tsb_by_default_and_croston_on_request():
    history = ([0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0]) * 10
    assert forecast_sku(history, 5).method is Method.TSB
    croston = forecast_sku(history, 5, policy=ForecastPolicy(intermittent_method=Method.CROSTON_SBA))
    assert croston.method is Method.CROSTON_SBA
    assert croston.profile.demand_class is DemandClass.INTERMITTENT


def test_inv_06_planned_promotion_multiplies_the_forecast_on_its_days():
    # given a steady seller of 10 a day and a 3-day promotion at 2.5x on days 2-4
    uplift = promotion_uplift(
        date(2026, 6, 1), 7, [PlannedPromotion(start=date(2026, 6, 2), end=date(2026, 6, 4), uplift=2.5)]
    )

    # when
    values = forecast_demand([10.0] * 60, 7, uplift=uplift)

    # then
    assert uplift.tolist() == [1, 2.5, 2.5, 2.5, 1, 1, 1]
    assert values.tolist() == [10, 25, 25, 25, 10, 10, 10]


def test_inv_06_overlapping_promotions_multiply_and_ones_outside_the_horizon_are_ignored():
    promotions = [
        PlannedPromotion(start=date(2026, 5, 30), end=date(2026, 6, 2), uplift=2),
        PlannedPromotion(start=date(2026, 6, 2), end=date(2026, 6, 3), uplift=1.5),
        PlannedPromotion(start=date(2026, 7, 1), end=date(2026, 7, 3), uplift=9),
    ]
    assert promotion_uplift(date(2026, 6, 1), 4, promotions).tolist() == [2, 3, 1.5, 1]


def test_inv_06_past_promotions_are_deflated_so_they_do_not_raise_the_level():
    # given 10 a day, but 30 a day during a past 3x promotion
    history = [10.0] * 50
    past = [1.0] * 50
    for day in (40, 41, 42):
        history[day], past[day] = 30.0, 3.0

    # when / then the forecast stays at 10
    assert forecast_demand(history, 3, history_uplift=past).tolist() == [10, 10, 10]


def test_inv_06_mismatched_uplift_lengths_are_refused():
    with pytest.raises(ValueError, match="uplift"):
        forecast_demand([1.0] * 10, 3, uplift=[1.0, 1.0])
    with pytest.raises(ValueError, match="history_uplift"):
        forecast_demand([1.0] * 10, 3, history_uplift=[1.0])


def test_inv_06_lead_time_demand_is_the_forecast_sum_as_a_decimal_for_the_reorder_rule():
    forecast = np.array([1.236, 2.0, 3.001, 100.0])
    assert demand_over(forecast, 3) == Decimal("6.24")
    assert demand_over(forecast, 0) == Decimal("0.00")
    with pytest.raises(ValueError, match="shorter"):
        demand_over(forecast, 5)


def test_inv_06_backtest_scores_seasonal_naive_on_a_trend_exactly():
    # given 0..27: the seasonal-naive error is 7 every day, in and out of sample
    series = [np.arange(28, dtype=np.float64)]

    # when
    result = backtest(series, 7, seasonal_naive, origins=1)

    # then
    assert result.forecasts == 1
    assert result.wape == pytest.approx(49 / 168)
    assert result.mase == pytest.approx(1.0)


def test_inv_06_backtest_gives_each_origin_only_the_history_before_it():
    seen: list[int] = []

    def method(history: np.ndarray, horizon: int) -> np.ndarray:
        seen.append(history.size)
        return np.zeros(horizon)

    result = backtest([np.ones(100)], 14, method, origins=3)
    assert seen == [58, 72, 86]
    assert result.wape == 1.0


def _weekly_series(seed: int, count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        profile = rng.uniform(5, 30) * (1 + 0.5 * np.sin(2 * np.pi * np.arange(7) / 7))
        out.append(rng.poisson(np.resize(profile, 182)).astype(np.float64))
    return out


def test_inv_06_forecast_beats_seasonal_naive_on_noisy_weekly_sellers():
    # given seeded weekly-seasonal Poisson sellers
    series = _weekly_series(7, 8)

    # when
    ours = backtest(series, 14, forecast_demand, origins=2)
    naive = backtest(series, 14, seasonal_naive, origins=2)

    # then
    assert ours.wape < 0.85 * naive.wape
    assert ours.mase < 0.85 * naive.mase


@settings(max_examples=25, deadline=None)
@given(
    history=st.lists(st.integers(0, 200), min_size=0, max_size=120),
    horizon=st.integers(0, 30),
    factor=st.sampled_from([0.0, 0.5, 2.0, 3.0]),
)
def test_inv_06_forecast_is_finite_non_negative_and_scales_with_a_flat_uplift(history, horizon, factor):
    base = forecast_demand(history, horizon)
    lifted = forecast_demand(history, horizon, uplift=np.full(horizon, factor))
    assert base.shape == (horizon,)
    assert np.all(np.isfinite(base))
    assert np.all(base >= 0)
    assert lifted == pytest.approx(base * factor)


# --- yearly season (INV-06) -------------------------------------------------------------------


def test_inv_06_season_window_is_the_current_or_next_season_and_wraps_the_year():
    from storeops.inventory.forecast import season_window

    # before, inside (both years of a wrapping season) and after a November–February season
    assert season_window(date(2026, 9, 20), 11, 2) == (date(2026, 11, 1), date(2027, 2, 28))
    assert season_window(date(2026, 12, 10), 11, 2) == (date(2026, 11, 1), date(2027, 2, 28))
    assert season_window(date(2027, 1, 15), 11, 2) == (date(2026, 11, 1), date(2027, 2, 28))
    assert season_window(date(2027, 3, 1), 11, 2) == (date(2027, 11, 1), date(2028, 2, 29))
    # a season inside one year; the day after it ends the next one starts counting
    assert season_window(date(2026, 6, 30), 6, 6) == (date(2026, 6, 1), date(2026, 6, 30))
    assert season_window(date(2026, 7, 1), 6, 6) == (date(2027, 6, 1), date(2027, 6, 30))
    with pytest.raises(ValueError, match=r"1\.\.12"):
        season_window(date(2026, 1, 1), 0, 2)


def test_inv_06_seasonal_demand_learns_last_years_days_times_the_trend():
    from storeops.inventory.forecast import SEASON_LAST_YEAR, YEAR_DAYS, seasonal_demand

    # a year and 4 weeks of history: 2 a day a year ago, 10 a day in last year's window, 3 now
    history = [2.0] * (YEAR_DAYS + 28)
    history[28 : 28 + 5] = [10.0] * 5  # last year's days 0..4 from "today"
    history[-28:] = [3.0] * 28
    out = seasonal_demand(
        history,
        5,
        first_day=date(2026, 9, 20),
        season_start=date(2026, 11, 1),
        season_end=date(2027, 2, 28),
        base_rate=3.0,
        uplift=None,
    )
    assert out is not None
    assert out.source == SEASON_LAST_YEAR
    assert out.trend == 1.5
    assert list(out.values) == [15.0] * 5


def test_inv_06_seasonal_demand_bounds_the_trend_and_falls_back_to_the_uplift():
    from storeops.inventory.forecast import SEASON_UPLIFT, YEAR_DAYS, seasonal_demand

    kwargs = {
        "first_day": date(2026, 10, 30),
        "season_start": date(2026, 11, 1),
        "season_end": date(2027, 2, 28),
        "base_rate": 2.0,
    }
    history = [1.0] * (YEAR_DAYS + 28)
    history[-28:] = [50.0] * 28  # fifty times last year's pace: bounded at 2
    learned = seasonal_demand(history, 3, uplift=None, **kwargs)
    assert learned is not None
    assert learned.trend == 2.0
    # less than a year: the configured uplift on the season's days only (10-30, 10-31 are before)
    short = seasonal_demand([2.0] * 100, 4, uplift=3.0, **kwargs)
    assert short is not None
    assert short.source == SEASON_UPLIFT
    assert list(short.values) == [2.0, 2.0, 6.0, 6.0]
    # nothing to learn from and no uplift: no seasonal demand
    assert seasonal_demand([2.0] * 100, 4, uplift=None, **kwargs) is None
    assert seasonal_demand([0.0] * (YEAR_DAYS + 5), 4, uplift=None, **kwargs) is None
