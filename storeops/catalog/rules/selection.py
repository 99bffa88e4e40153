"""Product selection (SOP SEL-01, SEL-03) and the supplier scorecard (SEL-02).

Supplier score: each criterion becomes a component in [0, 1], and the score is the
weighted mean of the components x 100 (two decimals, half-up):

* stock-out: the unused share of the allowed stock-out rate, ``1 - rate / max_rate``
  (0% -> 1, at or past the limit -> 0);
* QC: the unused share of the allowed defect rate, ``1 - (1 - pass) / (1 - min_pass)``
  (100% pass -> 1, at or under the minimum -> 0);
* on time: on-time deliveries / deliveries;
* payment terms: ``days / payment_term_full_score_days``, capped at 1 (longer is better);
* ISO 9001 and small-batch customisation: 1 or 0.

A criterion without history (no orders, deliveries or QC samples) scores 0 and adds a
warning, so a supplier is not ranked up for what nobody has measured.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from storeops.catalog.rules.reasons import Reason, Severity
from storeops.core.money import CurrencyMismatchError, Money

_ZERO, _ONE = Decimal(0), Decimal(1)


@dataclass(frozen=True, slots=True)
class SelectionPolicy:
    """Playbook settings for SEL-01 and SEL-03 (ratios as decimals)."""

    min_category_growth_30d: Decimal = Decimal("0.30")
    max_competition_ratio: Decimal = Decimal("0.5")
    min_gross_margin: Decimal = Decimal("0.30")


def competition_ratio(listings: int, search_popularity: int) -> Decimal | None:
    """SEL-01: online listings / search popularity; ``None`` when nobody searches."""
    if listings < 0 or search_popularity < 0:
        raise ValueError("listings and search popularity cannot be negative")
    if search_popularity == 0:
        return None
    return Decimal(listings) / search_popularity


def category_is_candidate(
    growth_30d: Decimal, listings: int, search_popularity: int, policy: SelectionPolicy
) -> bool:
    """SEL-01: growing fast enough (strictly above the minimum) with little enough
    competition (strictly below the maximum ratio). No searches means no demand: not one."""
    ratio = competition_ratio(listings, search_popularity)
    if ratio is None:
        return False
    return growth_30d > policy.min_category_growth_30d and ratio < policy.max_competition_ratio


def meets_selection_margin(price: Money, full_cost: Money, policy: SelectionPolicy) -> bool:
    """SEL-03: gross margin ``(price - cost) / price`` at least the minimum."""
    if price.currency != full_cost.currency:
        raise CurrencyMismatchError(f"{price.currency} vs {full_cost.currency}")
    if price.amount <= 0:
        return False
    return (price.amount - full_cost.amount) >= policy.min_gross_margin * price.amount


@dataclass(frozen=True, slots=True)
class SupplierWeights:
    """Relative weights of the scorecard criteria (need not sum to 1)."""

    stock_out: Decimal = Decimal("0.25")
    qc: Decimal = Decimal("0.25")
    on_time: Decimal = Decimal("0.20")
    payment_terms: Decimal = Decimal("0.10")
    iso9001: Decimal = Decimal("0.10")
    small_batch: Decimal = Decimal("0.10")

    def __post_init__(self) -> None:
        values = (self.stock_out, self.qc, self.on_time, self.payment_terms, self.iso9001, self.small_batch)
        if any(value < 0 for value in values) or sum(values) <= 0:
            raise ValueError("weights must be non-negative with a positive sum")


@dataclass(frozen=True, slots=True)
class SupplierPolicy:
    """Playbook settings for SEL-02."""

    max_stock_out_rate: Decimal = Decimal("0.05")  # a rate at or above this is a breach
    min_qc_pass_rate: Decimal = Decimal("0.98")  # a rate below this is a breach
    payment_term_full_score_days: int = 60
    min_suppliers_for_key_product: int = 2
    weights: SupplierWeights = field(default_factory=SupplierWeights)

    def __post_init__(self) -> None:
        if not _ZERO < self.max_stock_out_rate <= 1 or not _ZERO <= self.min_qc_pass_rate < 1:
            raise ValueError("need 0 < max_stock_out_rate <= 1 and 0 <= min_qc_pass_rate < 1")
        if self.payment_term_full_score_days <= 0:
            raise ValueError("payment_term_full_score_days must be positive")


@dataclass(frozen=True, slots=True)
class SupplierStats:
    """A supplier's history over the review period."""

    supplier_id: str
    orders: int
    stock_out_events: int  # orders the supplier could not fill from stock
    deliveries: int
    on_time_deliveries: int
    qc_samples: int
    qc_passed: int
    payment_term_days: int
    iso9001: bool
    small_batch_customisation: bool

    def __post_init__(self) -> None:
        pairs = (
            (self.stock_out_events, self.orders),
            (self.on_time_deliveries, self.deliveries),
            (self.qc_passed, self.qc_samples),
        )
        if any(part < 0 or part > whole for part, whole in pairs) or self.payment_term_days < 0:
            raise ValueError(f"inconsistent supplier stats for {self.supplier_id}")


@dataclass(frozen=True, slots=True)
class SupplierComponents:
    """Each criterion's score in [0, 1]."""

    stock_out: Decimal
    qc: Decimal
    on_time: Decimal
    payment_terms: Decimal
    iso9001: Decimal
    small_batch: Decimal


@dataclass(frozen=True, slots=True)
class SupplierScore:
    supplier_id: str
    score: Decimal  # 0-100, two decimals
    components: SupplierComponents
    reasons: tuple[Reason, ...]


def score_supplier(stats: SupplierStats, policy: SupplierPolicy) -> SupplierScore:
    """SEL-02: the weighted score and the threshold breaches of one supplier."""
    reasons: list[Reason] = []
    stock_out = qc = on_time = _ZERO
    if stats.orders:
        rate = Decimal(stats.stock_out_events) / stats.orders
        stock_out = max(_ZERO, _ONE - rate / policy.max_stock_out_rate)
        if rate >= policy.max_stock_out_rate:
            reasons.append(
                _breach(
                    "stock_out_rate_too_high",
                    f"缺货率{_pct(rate)}%，应低于{_pct(policy.max_stock_out_rate)}%",
                    f"Stock-out rate {_pct(rate)}%, must stay under {_pct(policy.max_stock_out_rate)}%",
                )
            )
    else:
        reasons.append(_no_history("orders", "无订单记录，缺货率未知", "No orders: stock-out rate unknown"))
    if stats.qc_samples:
        pass_rate = Decimal(stats.qc_passed) / stats.qc_samples
        qc = max(_ZERO, _ONE - (_ONE - pass_rate) / (_ONE - policy.min_qc_pass_rate))
        if pass_rate < policy.min_qc_pass_rate:
            reasons.append(
                _breach(
                    "qc_pass_rate_too_low",
                    f"质检抽检合格率{_pct(pass_rate)}%，低于{_pct(policy.min_qc_pass_rate)}%",
                    f"QC pass rate {_pct(pass_rate)}%, under {_pct(policy.min_qc_pass_rate)}%",
                )
            )
    else:
        reasons.append(_no_history("qc_samples", "无质检抽检记录", "No QC samples"))
    if stats.deliveries:
        on_time = Decimal(stats.on_time_deliveries) / stats.deliveries
    else:
        reasons.append(
            _no_history("deliveries", "无交货记录，准时率未知", "No deliveries: on-time rate unknown")
        )
    components = SupplierComponents(
        stock_out=stock_out,
        qc=qc,
        on_time=on_time,
        payment_terms=min(_ONE, Decimal(stats.payment_term_days) / policy.payment_term_full_score_days),
        iso9001=_ONE if stats.iso9001 else _ZERO,
        small_batch=_ONE if stats.small_batch_customisation else _ZERO,
    )
    w = policy.weights
    weighted = (
        w.stock_out * components.stock_out
        + w.qc * components.qc
        + w.on_time * components.on_time
        + w.payment_terms * components.payment_terms
        + w.iso9001 * components.iso9001
        + w.small_batch * components.small_batch
    )
    total_weight = w.stock_out + w.qc + w.on_time + w.payment_terms + w.iso9001 + w.small_batch
    score = (weighted * 100 / total_weight).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return SupplierScore(stats.supplier_id, score, components, tuple(reasons))


def rank_suppliers(stats: Iterable[SupplierStats], policy: SupplierPolicy) -> list[SupplierScore]:
    """Scores best first; ties keep the order of ``supplier_id``."""
    scores = [score_supplier(one, policy) for one in stats]
    return sorted(scores, key=lambda s: (-s.score, s.supplier_id))


def key_product_needs_more_suppliers(supplier_count: int, policy: SupplierPolicy) -> bool:
    """SEL-02: a key product should have at least ``min_suppliers_for_key_product``."""
    return supplier_count < policy.min_suppliers_for_key_product


def _breach(code: str, message_zh: str, message_en: str) -> Reason:
    return Reason("SEL-02", code, "supplier", message_zh, message_en)


def _no_history(field_name: str, message_zh: str, message_en: str) -> Reason:
    return Reason(
        "SEL-02", "insufficient_history", field_name, message_zh, message_en, severity=Severity.WARN
    )


def _pct(ratio: Decimal) -> str:
    """A ratio as a percentage with up to two decimals: ``0.0512`` -> ``"5.12"``."""
    value = (ratio * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
    return f"{value:f}"
