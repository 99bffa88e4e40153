"""Pure KPI arithmetic (TEAM-01): ratios, change against the previous period, and whether a
value meets its target. No Django: tested on its own."""

from __future__ import annotations

import enum
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


class Better(enum.StrEnum):
    HIGHER = "higher"  # the target is a floor
    LOWER = "lower"  # the target is a ceiling


def ratio(part: int | float | Decimal, whole: int | float | Decimal) -> Decimal | None:
    """``part / whole`` to 4 places, or None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(str(part)) / Decimal(str(whole))).quantize(Decimal("0.0001"))


def growth(current: Decimal | float | None, previous: Decimal | float | None) -> Decimal | None:
    """Relative change from ``previous`` to ``current`` (None when there is no base)."""
    if current is None or previous is None or not previous:
        return None
    return ratio(Decimal(str(current)) - Decimal(str(previous)), Decimal(str(previous)))


def meets(value: Decimal | float | None, target: Decimal | float, better: Better) -> bool | None:
    """Whether ``value`` meets ``target`` (None: no value to judge)."""
    if value is None:
        return None
    v, t = Decimal(str(value)), Decimal(str(target))
    return v >= t if better is Better.HIGHER else v <= t


@dataclass(frozen=True, slots=True)
class Kpi:
    role: str  # operations / tech / customer_service
    code: str  # stable: gmv, new_customer_share, …
    value: Decimal | None
    previous: Decimal | None  # the same measure over the period before
    target: Decimal | None  # None: shown, not judged
    better: Better
    unit: str  # "cny", "ratio", "minutes", "count"

    @property
    def ok(self) -> bool | None:
        return None if self.target is None else meets(self.value, self.target, self.better)

    @property
    def change(self) -> Decimal | None:
        return growth(self.value, self.previous)


# --- DATA-03: sudden drops and abnormal volumes ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Anomaly:
    kind: str  # "drop" or "spike"
    current: int
    baseline: float  # the median of the same window on the days before


def volume_anomaly(
    current: int,
    history: Sequence[int],
    *,
    drop_ratio: Decimal,
    spike_ratio: Decimal,
    min_baseline: int,
) -> Anomaly | None:
    """A drop when ``current`` falls below ``baseline × drop_ratio``, a spike when it exceeds
    ``baseline × spike_ratio``; the baseline is the median of ``history`` (the same window on
    earlier days). Too little history, or a baseline under ``min_baseline``, says nothing
    (small numbers swing by chance) — except a spike from nothing to ``min_baseline × spike``."""
    if len(history) < 3:
        return None
    baseline = float(statistics.median(history))
    if baseline >= min_baseline and current < baseline * float(drop_ratio):
        return Anomaly("drop", current, baseline)
    if current >= max(baseline, min_baseline) * float(spike_ratio):
        return Anomaly("spike", current, baseline)
    return None


# --- DATA-02: payment conversion against the benchmark -----------------------------------------


def conversion_shortfall(
    *, visitors: int, buyers: int, benchmark: Decimal, alert_ratio: Decimal, min_visitors: int
) -> Decimal | None:
    """The payment conversion (buyers ÷ visitors) when it is more than ``alert_ratio`` below
    ``benchmark``; None when it is not, or with fewer than ``min_visitors`` visitors."""
    if visitors < min_visitors:
        return None
    conversion = ratio(buyers, visitors)
    assert conversion is not None
    return conversion if conversion < benchmark * (1 - alert_ratio) else None
