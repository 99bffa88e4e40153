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


# --- DATA-08: profitability ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProductProfit:
    """One product's sales over a period against what its units cost: the purchase cost
    (gross) and the full PRICE-02 cost — purchase, operations, logistics, tax (net)."""

    product_id: int
    code: str
    title: str
    units: int
    revenue: Decimal
    purchase_cost: Decimal
    full_cost: Decimal

    @property
    def gross_profit(self) -> Decimal:
        return self.revenue - self.purchase_cost

    @property
    def net_profit(self) -> Decimal:
        return self.revenue - self.full_cost

    @property
    def gross_margin(self) -> Decimal | None:
        return ratio(self.gross_profit, self.revenue)

    @property
    def net_margin(self) -> Decimal | None:
        return ratio(self.net_profit, self.revenue)

    @property
    def roi(self) -> Decimal | None:
        """(sales − cost) ÷ cost."""
        return ratio(self.net_profit, self.full_cost)

    def low_profit(self, min_net_margin: Decimal) -> bool:
        """Sold something and kept less than ``min_net_margin`` of it (a loss included); a
        product that sold nothing is not judged (LIST-07 watches slow movers)."""
        margin = self.net_margin
        return self.units > 0 and (margin is None or margin < min_net_margin)


# --- DATA-07: A/B tests ---------------------------------------------------------------------------


def assign_bucket(experiment_key: str, customer_ref: str, buckets: int = 100) -> int:
    """A customer's stable bucket in ``0 … buckets−1`` for one experiment: a hash, so the same
    customer always sees the same variant and the split is uniform across customers."""
    import hashlib

    digest = hashlib.sha256(f"{experiment_key}:{customer_ref}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % buckets


@dataclass(frozen=True, slots=True)
class AbResult:
    control_rate: Decimal | None
    variant_rate: Decimal | None
    lift: Decimal | None  # (variant − control) ÷ control
    p_value: float | None  # two-sided two-proportion z-test
    decision: str  # adopt / reject / continue


def ab_evaluate(
    *,
    control: tuple[int, int],
    variant: tuple[int, int],
    alpha: Decimal,
    min_lift: Decimal,
) -> AbResult:
    """``control`` and ``variant`` are (visitors, conversions). Adopt the variant when the
    difference is significant at ``alpha`` and the conversion lift is at least ``min_lift``;
    reject it when it is significantly worse, or significantly different but short of the lift
    worth a change; otherwise keep the test running."""
    import math

    (n1, x1), (n2, x2) = control, variant
    if min(n1, n2) <= 0 or not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        return AbResult(ratio(x1, n1), ratio(x2, n2), None, None, "continue")
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p_value = 1.0 if spread == 0 else math.erfc(abs(p2 - p1) / spread / math.sqrt(2))
    lift = ratio(Decimal(x2 * n1 - x1 * n2), Decimal(x1 * n2)) if x1 else None
    significant = p_value < float(alpha)
    if significant and lift is not None and lift >= min_lift:
        decision = "adopt"
    elif significant:
        decision = "reject"
    else:
        decision = "continue"
    return AbResult(ratio(x1, n1), ratio(x2, n2), lift, p_value, decision)
