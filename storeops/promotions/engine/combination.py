"""Pricing one combination (item prices, store offers, coupons) in minor units (PROMO-03/04).

Store reductions apply in offer-id order, each capped at what its lines still cost and
apportioned over them by largest remainder; coupons then apply on the amounts after store
level. Shared by the search (:mod:`.search`) and the tests' brute-force reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .mechanics import reduction_units
from .problem import Problem, StoreTerm


@dataclass(frozen=True, slots=True)
class OrderResult:
    """The priced order for given item prices, store offers and coupons (minor units)."""

    item_units: tuple[int, ...]
    final_units: tuple[int, ...]
    store_applied: tuple[tuple[int, int, tuple[int, ...]], ...]  # (store idx, amount, shares)
    gifts: tuple[int, ...]  # store idx of granted gifts
    after_store_units: tuple[int, ...]
    coupon_applied: tuple[tuple[int, int, tuple[int, ...]], ...]  # (coupon idx, amount, shares)

    @property
    def payable(self) -> int:
        return sum(self.final_units)

    @property
    def key(self) -> tuple[int, int, int]:
        return plan_key(self.payable, len(self.gifts), len(self.coupon_applied))


def plan_key(payable: int, gifts: int, coupons: int) -> tuple[int, int, int]:
    """The order in which combinations are preferred: lower is better."""
    return (payable, -gifts, coupons)


# --- apportionment in minor units ----------------------------------------------------------


def apportion_units(total: int, weights: Sequence[int]) -> list[int]:
    """Largest remainder, ties to the earlier line: the int twin of ``core.money.apportion``."""
    n = len(weights)
    weight_sum = sum(weights)
    if weight_sum == 0:
        base, extra = divmod(total, n)
        return [base + (1 if i < extra else 0) for i in range(n)]
    shares: list[int] = []
    remainders: list[int] = []
    for weight in weights:
        share, remainder = divmod(total * weight, weight_sum)
        shares.append(share)
        remainders.append(remainder)
    leftover = total - sum(shares)
    if leftover:
        # largest remainder first; the sort is stable, so ties go to the earlier line
        for i in sorted(range(n), key=remainders.__getitem__, reverse=True)[:leftover]:
            shares[i] += 1
    return shares


def store_reduction(term: StoreTerm, spend: int) -> int:
    if term.gift_threshold is not None:
        return 0
    return reduction_units(
        term.tiers, repeat=term.repeat, cap=term.cap, spend_units=spend, rate_off=term.rate_off
    )


def apply_store(
    problem: Problem, item_units: Sequence[int], selection: Sequence[int]
) -> tuple[list[int], list[tuple[int, int, tuple[int, ...]]], list[int]]:
    remaining = list(item_units)
    applied: list[tuple[int, int, tuple[int, ...]]] = []
    gifts: list[int] = []
    for s in selection:
        term = problem.store_terms[s]
        scope = problem.store_scopes[s]
        spend = 0
        for i in scope:
            spend += item_units[i]
        if term.gift_threshold is not None:
            if spend >= term.gift_threshold:
                gifts.append(s)
            continue
        weights = [remaining[i] for i in scope]
        amount = min(store_reduction(term, spend), sum(weights))
        if amount <= 0:
            continue
        shares = apportion_units(amount, weights)
        for i, share in zip(scope, shares, strict=True):
            remaining[i] -= share
        applied.append((s, amount, tuple(shares)))
    return remaining, applied, gifts


def apply_coupons(
    problem: Problem, after_store: Sequence[int], selection: Sequence[int]
) -> tuple[list[int], list[tuple[int, int, tuple[int, ...]]]] | None:
    remaining = list(after_store)
    applied: list[tuple[int, int, tuple[int, ...]]] = []
    for c in selection:
        term = problem.coupon_terms[c]
        scope = problem.coupon_scopes[c]
        basis = sum(after_store[i] for i in scope)
        if basis < term.threshold:
            return None  # the coupon's threshold is not met: not a valid combination
        weights = [remaining[i] for i in scope]
        amount = min(term.amount, basis, sum(weights))
        shares = apportion_units(amount, weights) if amount else [0] * len(scope)
        for i, share in zip(scope, shares, strict=True):
            remaining[i] -= share
        applied.append((c, amount, tuple(shares)))
    return remaining, applied


def price_order(
    problem: Problem,
    item_units: Sequence[int],
    store_selection: Sequence[int],
    coupon_selection: Sequence[int],
) -> OrderResult | None:
    """Price one combination; ``None`` when a chosen coupon's threshold is not reached.

    Stacking validity (exclusive groups, one coupon) is the caller's business: the optimiser
    only builds valid combinations, and the tests' brute force filters them on its own.
    """
    after_store, store_applied, gifts = apply_store(problem, item_units, sorted(store_selection))
    priced = apply_coupons(problem, after_store, sorted(coupon_selection))
    if priced is None:
        return None
    final, coupon_applied = priced
    return OrderResult(
        item_units=tuple(item_units),
        final_units=tuple(final),
        store_applied=tuple(store_applied),
        gifts=tuple(gifts),
        after_store_units=tuple(after_store),
        coupon_applied=tuple(coupon_applied),
    )
