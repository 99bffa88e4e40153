"""STORE-07 pure rules: the months after go-live and a target's shortfall."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from storeops.stores import rules


def test_store_07_months_after_go_live_end_where_the_next_starts_the_31st_clamped():
    assert rules.launch_months(dt.date(2026, 1, 31), 3) == [
        (1, dt.date(2026, 1, 31), dt.date(2026, 2, 28)),
        (2, dt.date(2026, 2, 28), dt.date(2026, 3, 31)),
        (3, dt.date(2026, 3, 31), dt.date(2026, 4, 30)),
    ]
    assert rules.add_months(dt.date(2026, 11, 15), 3) == dt.date(2027, 2, 15)


def test_store_07_a_target_is_missed_only_below_it_by_more_than_the_ratio():
    ratio = Decimal("0.10")
    assert not rules.target_missed(Decimal("90"), Decimal("100"), ratio)  # exactly 10 % under
    assert rules.target_missed(Decimal("89.99"), Decimal("100"), ratio)
    assert not rules.target_missed(Decimal("0"), Decimal("0"), ratio)
    assert rules.attainment(Decimal("30"), Decimal("100")) == Decimal("0.3")
    assert rules.attainment(Decimal("30"), Decimal("0")) is None
    assert rules.attainment(None, Decimal("100")) is None
