"""benchmarks/flash_checkout.py's arithmetic (PROMO-01 / INV-03): what it counts as the race
window, its refusals and their latency, and oversell. No database, no processes."""

from __future__ import annotations

import pytest

from benchmarks.flash_checkout import FLASH, LIST, REFUSED, oversold, percentile, round_figures


def test_percentile_is_nearest_rank():
    values = [float(n) for n in range(1, 21)]  # 1..20
    assert percentile(values, 50) == 10.0
    assert percentile(values, 95) == 19.0
    assert percentile(values, 100) == 20.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_the_window_ends_with_the_last_flash_or_refused_attempt_not_the_list_price_orders():
    records = [
        (FLASH, 10.0, 10.1),
        (FLASH, 10.05, 10.2),
        (REFUSED, 10.15, 10.175),
        (REFUSED, 10.2, 10.3),
        (LIST, 10.3, 10.9),  # after the sellout: not part of the race
        ("Conflict offer_limit_reached", 10.25, 10.4),
    ]
    figures = round_figures(records)
    assert (figures.flash, figures.refused, figures.listed) == (2, 2, 1)
    assert figures.attempts == 4
    assert dict(figures.errors) == {"Conflict offer_limit_reached": 1}
    assert figures.window_s == pytest.approx(0.4)  # 10.0 → the error's end at 10.4
    assert figures.refused_ms == pytest.approx([25.0, 100.0])


def test_a_round_without_attempts_has_no_window():
    figures = round_figures([])
    assert (figures.attempts, figures.window_s) == (0, 0.0)


def test_oversold_takes_the_worst_of_the_three_counts():
    assert oversold(50, stock_sold=50, uses=50, seen=50) == 0
    assert oversold(50, stock_sold=49, uses=49, seen=49) == 0
    assert oversold(50, stock_sold=50, uses=52, seen=51) == 2
