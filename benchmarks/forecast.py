"""Demand-forecast accuracy (SOP INV-06) against seasonal naive, measured in the same run.

Data:

* **real** — Online Retail II 2009-2010 (UCI, CC BY 4.0; ``/work/shared/data``): daily
  units per StockCode. Only positive quantities with a positive price; cancellations
  (invoices starting with ``C``) and non-product codes (POST, DOT, M, BANK CHARGES, gift
  vouchers, …: anything that is not five digits plus an optional letter suffix) dropped.
  The calendar is every day from the first to the last invoice day, zeros included — the
  shop is closed on Saturdays and over Christmas, and those days stay in the series as
  zeros (the seasonal-naive reference gets the same calendar). Our method is told the
  store calendar (closed Saturdays); the full run also shows it without (``ours_no_calendar``).
  Series: the top N products by units plus a seeded sample of slow sellers (products
  selling on at most 30% of days).
* **demo** — seeded synthetic series with weekly seasonality, noise, a few slow sellers
  and planned promotions (uplift known in advance, as planned promotions are; our method
  is told, seasonal naive cannot use it).

Rolling-origin backtest, horizons 14 and 28 days (3 origins each, ``horizon`` days apart,
the last ending on the last day of data). Metrics: WAPE (pooled) and MASE (scaled by the
in-sample seasonal-naive MAE from each product's first sale, season 7; mean over series and
origins, median printed too). Target: ours below seasonal naive on both.

    python benchmarks/forecast.py [--quick] [--top N] [--slow N] [--seed S]

Ends with: RESULT wape=<ours, real, h=14> wape_naive=<seasonal naive> mase=<ours> ...
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storeops.inventory.forecast import (
    BacktestResult,
    FloatArray,
    backtest,
    classify_demand,
    forecast_demand,
    seasonal_naive,
)

DATA = Path("/work/shared/data/online_retail_ii_2009_2010.csv.gz")
PRODUCT_CODE = r"^\d{5}[A-Za-z]{0,2}$"


def load_daily(path: Path) -> pd.DataFrame:
    """Daily units, one column per StockCode, one row per calendar day (zeros filled)."""
    frame = pd.read_csv(
        path,
        usecols=["Invoice", "StockCode", "Quantity", "InvoiceDate", "Price"],
        dtype={"Invoice": str, "StockCode": str},
    )
    frame = frame[
        ~frame["Invoice"].str.startswith("C")
        & (frame["Quantity"] > 0)
        & (frame["Price"] > 0)
        & frame["StockCode"].str.match(PRODUCT_CODE)
    ]
    frame["day"] = pd.to_datetime(frame["InvoiceDate"]).dt.normalize()
    frame["StockCode"] = frame["StockCode"].str.upper()
    daily = frame.groupby(["day", "StockCode"])["Quantity"].sum().unstack(fill_value=0)
    calendar = pd.date_range(daily.index.min(), daily.index.max(), freq="D")
    return daily.reindex(calendar, fill_value=0).astype(float)


def real_series(
    daily: pd.DataFrame, top: int, slow: int, seed: int
) -> tuple[list[FloatArray], list[FloatArray]]:
    totals = daily.sum().sort_values(ascending=False, kind="stable")
    top_codes = list(totals.index[:top])
    selling_share = (daily > 0).mean()
    slow_pool = sorted(c for c in daily.columns if c not in set(top_codes) and 0 < selling_share[c] <= 0.30)
    rng = np.random.default_rng(seed)
    slow_codes = list(rng.choice(slow_pool, size=min(slow, len(slow_pool)), replace=False))
    as_arrays = [daily[c].to_numpy(dtype=np.float64) for c in top_codes]
    return as_arrays, [daily[c].to_numpy(dtype=np.float64) for c in slow_codes]


def demo_series(count: int, days: int, seed: int) -> tuple[list[FloatArray], list[FloatArray]]:
    """Seeded series with weekly seasonality, a trend, noise, and promotions (uplift)."""
    rng = np.random.default_rng(seed)
    series, uplifts = [], []
    for i in range(count):
        level = rng.uniform(0.3, 40)
        weekly = 1 + rng.uniform(0.1, 0.6) * np.sin(2 * np.pi * (np.arange(7) + rng.integers(7)) / 7)
        trend = 1 + rng.uniform(-0.3, 0.5) * np.arange(days) / days
        uplift = np.ones(days)
        for _ in range(3):  # three planned promotions, one of them likely in the test window
            start = int(rng.integers(days // 3, days - 5))
            uplift[start : start + int(rng.integers(2, 6))] *= rng.uniform(1.5, 3.5)
        if i % 4 == 0:  # make the last window contain a promotion for a quarter of series
            uplift[days - 10 : days - 6] *= 2.5
        mean = level * np.resize(weekly, days) * trend * uplift
        series.append(rng.poisson(mean).astype(np.float64))
        uplifts.append(uplift)
    return series, uplifts


def ours(history: FloatArray, horizon: int, *, closed: tuple[int, ...] | None = None) -> FloatArray:
    return forecast_demand(history, horizon, closed=closed)


def ours_with_promotions(history: FloatArray, horizon: int, *, uplift: FloatArray) -> FloatArray:
    n = history.size
    return forecast_demand(history, horizon, history_uplift=uplift[:n], uplift=uplift[n : n + horizon])


def naive(history: FloatArray, horizon: int) -> FloatArray:
    return seasonal_naive(history, horizon, season=7)


def run_set(
    name: str,
    series: Sequence[FloatArray],
    horizon: int,
    methods: dict[str, object],
) -> dict[str, BacktestResult]:
    results: dict[str, BacktestResult] = {}
    for label, method in methods.items():
        started = time.perf_counter()
        result = backtest(series, horizon, method, origins=3)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
        results[label] = result
        print(
            f"  {name:<10} h={horizon:<3} {label:<14} WAPE={result.wape:.4f}  MASE={result.mase:.4f}"
            f" (median {result.mase_median:.4f})"
            f"  ({result.forecasts} forecasts, {seconds:.1f} s)"
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer series, h=14 only, no breakdowns")
    parser.add_argument("--top", type=int, default=None)
    parser.add_argument("--slow", type=int, default=None)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    top = args.top if args.top is not None else (40 if args.quick else 200)
    slow = args.slow if args.slow is not None else (20 if args.quick else 100)
    demo_count = 20 if args.quick else 60
    horizons = (14,) if args.quick else (14, 28)

    started = time.perf_counter()
    daily = load_daily(DATA)
    top_series, slow_series = real_series(daily, top, slow, args.seed)
    print(
        f"real: {daily.shape[1]} products x {daily.shape[0]} days "
        f"({daily.index[0].date()} .. {daily.index[-1].date()}), "
        f"loaded in {time.perf_counter() - started:.1f} s; "
        f"using top {len(top_series)} + {len(slow_series)} slow sellers"
    )
    classes: dict[str, int] = {}
    for s in top_series + slow_series:
        key = classify_demand(s).demand_class.value
        classes[key] = classes.get(key, 0) + 1
    print(f"demand classes (whole calendar, Saturdays included): {classes}")
    demo, demo_uplift = demo_series(demo_count, 365, args.seed)
    # the store calendar: closed on Saturdays (index 0 is the first day of data)
    saturdays = tuple(sorted({i % 7 for i, day in enumerate(daily.index) if day.weekday() == 5}))
    ours_real = functools.partial(ours, closed=saturdays)
    print(f"shop closed on weekday position(s) {saturdays} (Saturdays) — given to our method as its calendar")

    summary: dict[tuple[str, int], dict[str, BacktestResult]] = {}
    for horizon in horizons:
        real = top_series + slow_series
        real_methods: dict[str, object] = {"ours": ours_real, "seasonal_naive": naive}
        if not args.quick:  # the breakdowns re-run the forecasts; --quick skips them
            real_methods["ours_no_calendar"] = ours
        summary["real", horizon] = run_set("real", real, horizon, real_methods)
        if not args.quick:
            run_set("real-top", top_series, horizon, {"ours": ours_real, "seasonal_naive": naive})
            run_set("real-slow", slow_series, horizon, {"ours": ours_real, "seasonal_naive": naive})
        with_promotions = [functools.partial(ours_with_promotions, uplift=u) for u in demo_uplift]
        demo_methods: dict[str, object] = {"ours": with_promotions, "seasonal_naive": naive}
        if not args.quick:
            demo_methods["ours_no_promo"] = ours
        summary["demo", horizon] = run_set("demo", demo, horizon, demo_methods)

    main_result = summary["real", 14]
    demo_result = summary["demo", 14]
    extra = ""
    if ("real", 28) in summary:
        r28 = summary["real", 28]
        extra = (
            f" wape_h28={r28['ours'].wape:.4f} wape_naive_h28={r28['seasonal_naive'].wape:.4f}"
            f" mase_h28={r28['ours'].mase:.4f}"
        )
    print(f"total {time.perf_counter() - started:.1f} s")
    print(
        f"RESULT wape={main_result['ours'].wape:.4f} wape_naive={main_result['seasonal_naive'].wape:.4f}"
        f" mase={main_result['ours'].mase:.4f} mase_naive={main_result['seasonal_naive'].mase:.4f}"
        f" demo_wape={demo_result['ours'].wape:.4f} demo_wape_naive={demo_result['seasonal_naive'].wape:.4f}"
        f" series={len(top_series) + len(slow_series)} horizon=14{extra}"
    )


if __name__ == "__main__":
    main()
