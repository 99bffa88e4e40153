"""Demand forecast per SKU (SOP INV-06): seasonality, planned promotions, intermittent demand.

Pure numpy/statsmodels; no Django. Inputs are daily demand series, oldest first, one entry
per calendar day (zeros included); outputs are numpy arrays of expected units per future
day.

How a SKU is forecast (:func:`forecast_demand`):

1. Past promotion days are deflated (``history_uplift``: the multiplier that was in force
   each day), so a past sale does not look like a new level.
2. **Closed days.** Weekdays the shop is closed (``closed``, from the store calendar; or,
   when not given, a weekday on which a regular seller — one selling on at least half of
   its other days — never sold in the last ``closed_detect_weeks`` weeks) are not missing
   demand. They are taken out
   of the series, forecast as 0, and the seasonal period becomes the number of open days
   per week (6 for a shop closed on Saturdays) — so the calendar stays honest.
3. **Classification** (Syntetos–Boylan): ADI, the mean interval between demand days, and
   CV², the squared coefficient of variation of the non-zero demand sizes. ADI ≥ 1.32
   means intermittent (or lumpy when CV² ≥ 0.49 too).
4. **Regular sellers** (smooth/erratic): Holt-Winters exponential smoothing
   (``statsmodels`` ``ExponentialSmoothing``), additive weekly seasonality when the
   history holds at least ``min_seasons_for_seasonal`` weeks, fitted on ``log1p`` of the
   demand so a few bulk orders do not drag the level (the forecast is then close to a
   median, which is what WAPE rewards). Too short a history: simple exponential smoothing.
5. **Slow sellers** (intermittent/lumpy): Croston with the Syntetos–Boylan bias
   approximation (SBA), or TSB, implemented here in numpy.
6. Planned promotions multiply the forecast on their days (``uplift``), see
   :func:`promotion_uplift`.

:func:`seasonal_naive` is the reference every method must beat; :func:`backtest` measures
WAPE and MASE with rolling origins.
"""

from __future__ import annotations

import enum
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
ArrayLike = Sequence[float] | Sequence[int] | npt.NDArray[np.float64] | npt.NDArray[np.int64]
ForecastMethod = Callable[[FloatArray, int], FloatArray]

# Syntetos-Boylan-Croston cut-offs (Syntetos, Boylan & Croston 2005); fixed by the method.
ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49


class DemandClass(enum.StrEnum):
    SMOOTH = "smooth"
    ERRATIC = "erratic"
    INTERMITTENT = "intermittent"
    LUMPY = "lumpy"
    NONE = "none"  # no demand in the history at all


class Method(enum.StrEnum):
    ETS = "ets"
    CROSTON_SBA = "croston_sba"
    TSB = "tsb"
    ZERO = "zero"


@dataclass(frozen=True, slots=True)
class ForecastPolicy:
    """Tuning of the INV-06 forecast. ``season`` is the calendar week (7 days)."""

    season: int = 7
    min_seasons_for_seasonal: int = 3  # weeks of history before fitting weekly seasonality
    closed_detect_weeks: int = 8  # a weekday with no sales for this many weeks is closed
    fit_window_days: int = 364  # fit on at most the last year
    classify_window_days: int = 112  # the demand pattern is judged on the last 16 weeks
    log_transform: bool = True
    intermittent_method: Method = Method.TSB  # decays when a product stops selling; Croston does not
    croston_alpha: float = 0.1
    tsb_alpha: float = 0.1
    tsb_beta: float = 0.1

    def __post_init__(self) -> None:
        if self.season < 1:
            raise ValueError("season must be positive")
        if self.intermittent_method not in (Method.CROSTON_SBA, Method.TSB):
            raise ValueError("intermittent_method must be croston_sba or tsb")
        for name in ("croston_alpha", "tsb_alpha", "tsb_beta"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in (0, 1]")


def _as_array(values: ArrayLike, name: str = "history") -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite")
    return array


def _check_horizon(horizon: int) -> None:
    if horizon < 0:
        raise ValueError("horizon cannot be negative")


# --- seasonal prep (INV-06) ------------------------------------------------------------------


def prep_date(season_start: date, seasonal_prep_days: int = 45) -> date:
    """INV-06: the day seasonal goods must be ready by (e.g. winter goods 45 days ahead)."""
    if seasonal_prep_days < 0:
        raise ValueError("seasonal_prep_days cannot be negative")
    return season_start - timedelta(days=seasonal_prep_days)


# --- yearly season (INV-06) ------------------------------------------------------------------

YEAR_DAYS = 364  # 52 weeks: last year's same window starts on the same weekday
SEASON_TREND_DAYS = 28  # this year's pace against last year's, over the last 4 weeks
SEASON_TREND_BOUNDS = (0.5, 2.0)  # a year-on-year trend outside this is more likely noise


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def season_window(today: date, start_month: int, end_month: int) -> tuple[date, date]:
    """INV-06: the season (first day of ``start_month`` to the last day of ``end_month``,
    wrapping the year when ``end_month < start_month``) that contains ``today``, else the next
    one."""
    for month in (start_month, end_month):
        if not 1 <= month <= 12:
            raise ValueError("season months must be 1..12")
    for year in (today.year - 1, today.year, today.year + 1):
        start = date(year, start_month, 1)
        end = _month_end(year if end_month >= start_month else year + 1, end_month)
        if today <= end:
            return start, end
    raise AssertionError("unreachable: next year's season ends after today")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class SeasonalDemand:
    values: FloatArray  # expected units per day from the first future day
    source: str  # SEASON_LAST_YEAR or SEASON_UPLIFT
    trend: float  # this year's pace against last year's (1.0 for the configured uplift)


SEASON_LAST_YEAR = "last_year"
SEASON_UPLIFT = "uplift"


def seasonal_demand(
    history: ArrayLike,
    days: int,
    *,
    first_day: date,
    season_start: date,
    season_end: date,
    base_rate: float,
    uplift: float | None,
) -> SeasonalDemand | None:
    """INV-06: expected units per day for ``days`` days from ``first_day`` for a product with a
    yearly season.

    ``history`` is the product's daily demand up to the day before ``first_day`` (oldest first,
    from its first sale, past promotions already deflated). With at least a year
    (:data:`YEAR_DAYS`) of it, the demand is **learned**: last year's same days (52 weeks
    back, so weekdays line up) scaled by the trend — the last :data:`SEASON_TREND_DAYS` days
    against the same days a year before, bounded by :data:`SEASON_TREND_BOUNDS`. Otherwise, or
    when last year's window sold nothing, the **configured** ``uplift`` multiplies ``base_rate``
    (the usual daily pace) on the season's days. ``None`` when neither is available.
    """
    y = np.clip(_as_array(history), 0, None)
    _check_horizon(days)
    n = y.size
    if n >= YEAR_DAYS and days <= YEAR_DAYS:
        last_year = y[n - YEAR_DAYS : n - YEAR_DAYS + days]
        if last_year.sum() > 0:
            trend = 1.0
            if n >= YEAR_DAYS + SEASON_TREND_DAYS:
                recent = float(y[n - SEASON_TREND_DAYS :].sum())
                before = float(y[n - YEAR_DAYS - SEASON_TREND_DAYS : n - YEAR_DAYS].sum())
                if before > 0:
                    trend = min(max(recent / before, SEASON_TREND_BOUNDS[0]), SEASON_TREND_BOUNDS[1])
            return SeasonalDemand(values=last_year * trend, source=SEASON_LAST_YEAR, trend=trend)
    if uplift is None or not math.isfinite(uplift) or uplift <= 0:
        return None
    in_season = np.array(
        [season_start <= first_day + timedelta(days=h) <= season_end for h in range(days)], dtype=bool
    )
    values = np.where(in_season, base_rate * uplift, base_rate).astype(np.float64)
    return SeasonalDemand(values=values, source=SEASON_UPLIFT, trend=1.0)


# --- planned promotions --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedPromotion:
    """A promotion from ``start`` to ``end`` (inclusive) expected to multiply demand."""

    start: date
    end: date
    uplift: float  # 2.0 = twice the usual demand

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("a promotion cannot end before it starts")
        if not (math.isfinite(self.uplift) and self.uplift >= 0):
            raise ValueError("uplift must be a finite non-negative multiplier")


def promotion_uplift(first_day: date, days: int, promotions: Sequence[PlannedPromotion]) -> FloatArray:
    """Daily demand multipliers for ``days`` days from ``first_day``.

    Overlapping promotions multiply (a coupon during a sale adds to the sale's uplift).
    """
    _check_horizon(days)
    factors = np.ones(days, dtype=np.float64)
    for promotion in promotions:
        lo = max(0, (promotion.start - first_day).days)
        hi = min(days, (promotion.end - first_day).days + 1)
        if lo < hi:
            factors[lo:hi] *= promotion.uplift
    return factors


# --- classification --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemandProfile:
    demand_class: DemandClass
    adi: float  # mean interval between demand days (inf with no demand)
    cv2: float  # squared coefficient of variation of non-zero sizes (0 with < 2 of them)
    zero_share: float


def classify_demand(history: ArrayLike) -> DemandProfile:
    """Syntetos–Boylan classification of a demand series (open days only)."""
    y = _as_array(history)
    if y.size == 0:
        return DemandProfile(DemandClass.NONE, math.inf, 0.0, 1.0)
    nonzero = y[y > 0]
    zero_share = float(1 - nonzero.size / y.size)
    if nonzero.size == 0:
        return DemandProfile(DemandClass.NONE, math.inf, 0.0, zero_share)
    adi = y.size / nonzero.size
    cv2 = float((nonzero.std() / nonzero.mean()) ** 2) if nonzero.size > 1 else 0.0
    if adi < ADI_CUTOFF:
        cls = DemandClass.SMOOTH if cv2 < CV2_CUTOFF else DemandClass.ERRATIC
    else:
        cls = DemandClass.INTERMITTENT if cv2 < CV2_CUTOFF else DemandClass.LUMPY
    return DemandProfile(cls, float(adi), cv2, zero_share)


# --- methods ---------------------------------------------------------------------------------


def seasonal_naive(history: ArrayLike, horizon: int, season: int = 7) -> FloatArray:
    """Repeat the last ``season`` days (the reference forecast). Shorter history: last value."""
    y = _as_array(history)
    _check_horizon(horizon)
    if y.size == 0:
        return np.zeros(horizon, dtype=np.float64)
    if y.size < season:
        return np.full(horizon, y[-1], dtype=np.float64)
    last = y[-season:]
    return np.asarray(np.resize(last, horizon), dtype=np.float64)


def croston_sba(history: ArrayLike, horizon: int, alpha: float = 0.1) -> FloatArray:
    """Croston's method with the Syntetos–Boylan bias correction ``(1 - alpha/2)``.

    Demand size ``z`` and interval ``p`` are smoothed at demand days only; the flat
    forecast per day is ``(1 - alpha/2) * z / p``. Initialised with the first demand and
    the position of the first demand (interval from the series start).
    """
    y = _as_array(history)
    _check_horizon(horizon)
    demand_days = np.flatnonzero(y > 0)
    if demand_days.size == 0:
        return np.zeros(horizon, dtype=np.float64)
    first = int(demand_days[0])
    size = float(y[first])
    interval = float(first + 1)
    since = 0
    for value in y[first + 1 :]:
        since += 1
        if value > 0:
            size += alpha * (float(value) - size)
            interval += alpha * (since - interval)
            since = 0
    rate = (1 - alpha / 2) * size / interval
    return np.full(horizon, rate, dtype=np.float64)


def tsb(history: ArrayLike, horizon: int, alpha: float = 0.1, beta: float = 0.1) -> FloatArray:
    """Teunter–Syntetos–Babai: smooth the demand probability every day (``beta``) and the
    size on demand days (``alpha``); forecast ``probability * size``. Unlike Croston it
    decays towards zero when a product stops selling."""
    y = _as_array(history)
    _check_horizon(horizon)
    demand_days = np.flatnonzero(y > 0)
    if demand_days.size == 0:
        return np.zeros(horizon, dtype=np.float64)
    probability = demand_days.size / y.size
    size = float(y[demand_days[0]])
    for value in y:
        occurred = value > 0
        probability += beta * (float(occurred) - probability)
        if occurred:
            size += alpha * (float(value) - size)
    return np.full(horizon, probability * size, dtype=np.float64)


def ets_forecast(
    history: ArrayLike, horizon: int, season: int = 7, *, log_transform: bool = True
) -> FloatArray:
    """Holt-Winters exponential smoothing: level + additive seasonality of ``season`` when
    the history holds at least 3 seasons, else simple exponential smoothing. Negative
    forecasts are clipped at 0."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing  # type: ignore[import-untyped,unused-ignore]

    y = _as_array(history)
    _check_horizon(horizon)
    if horizon == 0:
        return np.zeros(0, dtype=np.float64)
    if y.size == 0:
        return np.zeros(horizon, dtype=np.float64)
    if y.size < 4 or np.all(y == y[0]):
        return np.full(horizon, max(0.0, float(y.mean())), dtype=np.float64)
    data = np.log1p(np.clip(y, 0, None)) if log_transform else y
    seasonal = "add" if season > 1 and y.size >= 3 * season else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ExponentialSmoothing(
            data,
            trend=None,
            seasonal=seasonal,
            seasonal_periods=season if seasonal else None,
            initialization_method="estimated",
        )
        fitted = model.fit(use_brute=False)  # same accuracy here, a third faster
        raw = np.asarray(fitted.forecast(horizon), dtype=np.float64)
    if not np.all(np.isfinite(raw)):
        raw = np.full(horizon, float(data[-season:].mean()), dtype=np.float64)
    result = np.expm1(raw) if log_transform else raw
    return np.asarray(np.clip(result, 0, None), dtype=np.float64)


# --- the per-SKU forecast ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Forecast:
    values: FloatArray  # expected units per future day
    method: Method
    profile: DemandProfile
    closed_phases: tuple[int, ...]  # weekday positions (index mod season) found closed


def closed_phases(history: ArrayLike, season: int = 7, weeks: int = 8) -> tuple[int, ...]:
    """Positions ``i mod season`` that had no demand in the last ``weeks`` full seasons.

    Only a regular seller tells: the series must have sold on at least half of the days of
    the remaining positions (a slow seller's empty weekdays are chance, not a closed shop).
    Needs at least ``weeks`` seasons of history, else nothing is closed. Never declares
    every day closed.
    """
    y = _as_array(history)
    span = season * weeks
    if season <= 1 or y.size < span or not np.any(y[-span:] > 0):
        return ()
    start = y.size - span
    phases = np.arange(start, y.size) % season
    window = y[start:]
    closed = tuple(int(k) for k in range(season) if not np.any(window[phases == k] > 0))
    if len(closed) == season:
        return ()
    open_days = window[~np.isin(phases, closed)]
    return closed if np.count_nonzero(open_days) * 2 >= open_days.size else ()


def forecast_sku(
    history: ArrayLike,
    horizon: int,
    *,
    policy: ForecastPolicy | None = None,
    uplift: ArrayLike | None = None,
    history_uplift: ArrayLike | None = None,
    closed: Sequence[int] | None = None,
) -> Forecast:
    """INV-06: the forecast of one SKU with the method chosen for its demand pattern.

    ``uplift`` (length ``horizon``) multiplies future days with planned promotions;
    ``history_uplift`` (length of ``history``) is the multiplier that was in force on each
    past day, used to deflate past promotions before fitting. Index ``i`` of ``history`` is
    weekday phase ``i mod season``; the forecast continues that calendar. ``closed`` lists
    the phases the shop is closed (its calendar); ``None`` detects them from the series.
    """
    pol = policy or ForecastPolicy()
    y = np.clip(_as_array(history), 0, None)
    _check_horizon(horizon)
    if history_uplift is not None:
        past = _as_array(history_uplift, "history_uplift")
        if past.shape != y.shape or np.any(past <= 0):
            raise ValueError("history_uplift must be positive and as long as history")
        y = y / past
    future = np.ones(horizon, dtype=np.float64)
    if uplift is not None:
        future = _as_array(uplift, "uplift")
        if future.shape != (horizon,) or np.any(future < 0):
            raise ValueError("uplift must be non-negative and as long as the horizon")
    offset = max(0, y.size - pol.fit_window_days)
    offset -= offset % pol.season  # keep the weekday phase of the window aligned
    y = y[offset:]
    if closed is None:
        closed_set = closed_phases(y, pol.season, pol.closed_detect_weeks)
    else:
        closed_set = tuple(sorted({int(k) % pol.season for k in closed}))
        if len(closed_set) == pol.season:
            raise ValueError("a shop cannot be closed every day of the week")
    closed = closed_set
    open_hist = np.array([i % pol.season not in closed for i in range(y.size)], dtype=bool)
    n = y.size + offset
    open_future = np.array([(n + h) % pol.season not in closed for h in range(horizon)], dtype=bool)
    open_y = y[open_hist]
    recent_open = open_hist[-pol.classify_window_days :]
    profile = classify_demand(y[-pol.classify_window_days :][recent_open])
    open_horizon = int(open_future.sum())
    if profile.demand_class is DemandClass.NONE:
        method, open_values = Method.ZERO, np.zeros(open_horizon, dtype=np.float64)
    elif profile.demand_class in (DemandClass.SMOOTH, DemandClass.ERRATIC):
        period = pol.season - len(closed)
        season = period if open_y.size >= pol.min_seasons_for_seasonal * period else 1
        method = Method.ETS
        open_values = ets_forecast(open_y, open_horizon, season, log_transform=pol.log_transform)
    elif pol.intermittent_method is Method.TSB:
        method, open_values = Method.TSB, tsb(open_y, open_horizon, pol.tsb_alpha, pol.tsb_beta)
    else:
        method, open_values = Method.CROSTON_SBA, croston_sba(open_y, open_horizon, pol.croston_alpha)
    values = np.zeros(horizon, dtype=np.float64)
    values[open_future] = open_values
    return Forecast(values=values * future, method=method, profile=profile, closed_phases=closed)


def forecast_demand(
    history: ArrayLike,
    horizon: int,
    *,
    policy: ForecastPolicy | None = None,
    uplift: ArrayLike | None = None,
    history_uplift: ArrayLike | None = None,
    closed: Sequence[int] | None = None,
) -> FloatArray:
    """INV-06: expected units per day for the next ``horizon`` days (see :func:`forecast_sku`)."""
    return forecast_sku(
        history, horizon, policy=policy, uplift=uplift, history_uplift=history_uplift, closed=closed
    ).values


def demand_over(values: ArrayLike, days: int) -> Decimal:
    """Units expected over the first ``days`` days of a forecast, as a Decimal rounded
    half-up to 0.01 — the ``lead_time_forecast`` that :func:`~storeops.inventory.rules.reorder_quantity`
    takes (rules refuse floats)."""
    if days < 0:
        raise ValueError("days cannot be negative")
    forecast = _as_array(values, "forecast")
    if days > forecast.size:
        raise ValueError("the forecast is shorter than the days asked for")
    total = float(forecast[:days].sum())
    return Decimal(repr(total)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- backtest --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BacktestResult:
    wape: float  # sum |error| / sum actual, pooled over series and origins
    mase: float  # mean over (series, origin) of MAE / in-sample seasonal-naive MAE
    mase_median: float  # the median of the same ratios (robust to a few tiny scales)
    forecasts: int  # (series, origin) pairs forecast
    mase_pairs: int  # pairs with a non-zero MASE scale (the others are left out of MASE)


def backtest(
    series_list: Sequence[ArrayLike],
    horizon: int,
    method: ForecastMethod | Sequence[ForecastMethod],
    *,
    origins: int = 3,
    season: int = 7,
    step: int | None = None,
) -> BacktestResult:
    """Rolling-origin evaluation: for each series, forecast ``horizon`` days from
    ``origins`` cut points ``step`` days apart (default ``horizon``), the last one ending
    with the series. ``method(history, horizon)`` sees only the history before each cut.
    ``method`` may be a list (one per series) when a method needs per-series knowledge such
    as its planned promotions.

    WAPE pools absolute errors and actuals over everything. MASE divides each pair's MAE by
    the in-sample seasonal-naive MAE of the same history (Hyndman & Koehler 2006), so the
    seasonal-naive forecast itself scores about 1. The scale is taken from the product's
    first sale on (leading zeros before a launch are not in-sample errors); pairs whose
    scale is zero or whose life is shorter than a season are left out of MASE only.
    """
    if horizon <= 0 or origins <= 0:
        raise ValueError("horizon and origins must be positive")
    gap = horizon if step is None else step
    methods = [method] * len(series_list) if callable(method) else list(method)
    if len(methods) != len(series_list):
        raise ValueError("need one method per series")
    abs_error = 0.0
    actual_total = 0.0
    scaled: list[float] = []
    pairs = 0
    for series, forecast_method in zip(series_list, methods, strict=True):
        y = _as_array(series, "series")
        for k in range(origins):
            cut = y.size - horizon - gap * (origins - 1 - k)
            if cut <= season:
                continue
            train, test = y[:cut], y[cut : cut + horizon]
            predicted = np.asarray(forecast_method(train, horizon), dtype=np.float64)
            if predicted.shape != test.shape:
                raise ValueError("method returned the wrong number of days")
            errors = np.abs(test - predicted)
            abs_error += float(errors.sum())
            actual_total += float(np.abs(test).sum())
            pairs += 1
            life = train[int(np.argmax(train > 0)) :] if np.any(train > 0) else train
            if life.size <= season:
                continue
            scale = float(np.mean(np.abs(life[season:] - life[:-season])))
            if scale > 0:
                scaled.append(float(errors.mean()) / scale)
    wape = abs_error / actual_total if actual_total > 0 else math.nan
    mase = float(np.mean(scaled)) if scaled else math.nan
    median = float(np.median(scaled)) if scaled else math.nan
    return BacktestResult(wape=wape, mase=mase, mase_median=median, forecasts=pairs, mase_pairs=len(scaled))
