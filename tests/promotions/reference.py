"""A brute-force reference optimiser: every subset of every level, no pruning at all.

It restates the stacking rules independently of the engine's search and shares only the
single-offer arithmetic (``mechanics``) and the pricing of one combination
(``price_order``), which the hand-computed tables test on their own.

* item level: per line every subset of the applicable item offers of size <= 2 that is a
  valid line price (none; one offer; or one *limited* offer plus one unlimited fallback);
* store level: every subset of the available store offers with at most one per
  exclusive group;
* coupons: every subset of the usable coupons that is empty, a single coupon, or only
  stackable coupons with at most one per exclusive group.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from storeops.promotions.engine import CartLine, CustomerContext, HeldCoupon, Offer
from storeops.promotions.engine.mechanics import item_cap, offer_available
from storeops.promotions.engine.offers import CouponTerms
from storeops.promotions.engine.optimiser import (
    OrderResult,
    applicable_item_offers,
    build_problem,
    item_option,
    price_order,
)

T = TypeVar("T")


def subsets(items: Sequence[T], max_size: int | None = None) -> Iterable[tuple[T, ...]]:
    top = len(items) if max_size is None else min(max_size, len(items))
    for size in range(top + 1):
        yield from itertools.combinations(items, size)


def _one_per_group(offers: Sequence[Offer]) -> bool:
    groups = [o.exclusive_group for o in offers if o.exclusive_group is not None]
    return len(groups) == len(set(groups))


def _limited(offer: Offer, lines: Sequence[CartLine], index: int, customer: CustomerContext) -> bool:
    cap = item_cap(offer, index, lines, customer)
    return cap is not None and cap < lines[index].quantity


def _line_prices(
    lines: Sequence[CartLine], index: int, customer: CustomerContext, offers: Sequence[Offer]
) -> set[int]:
    applicable = applicable_item_offers(lines, index, customer, offers)
    prices: set[int] = set()
    for subset in subsets(applicable, 2):
        if len(subset) == 0:
            prices.add(item_option(lines, index, customer, None).units)
        elif len(subset) == 1:
            prices.add(item_option(lines, index, customer, subset[0]).units)
        else:
            limited = [o for o in subset if _limited(o, lines, index, customer)]
            if len(limited) == 1:
                fallback = next(o for o in subset if o is not limited[0])
                prices.add(item_option(lines, index, customer, limited[0], fallback).units)
    return prices


def brute_force_best(
    *,
    lines: Sequence[CartLine],
    customer: CustomerContext,
    offers: Sequence[Offer],
    coupons: Sequence[HeldCoupon],
    now: datetime,
) -> OrderResult:
    problem = build_problem(lines=lines, customer=customer, offers=offers, coupons=coupons, now=now)
    live_items = [o for o in offers if offer_available(o, customer, now)]
    per_line = [sorted(_line_prices(lines, i, customer, live_items)) for i in range(len(lines))]
    store_sets = [
        tuple(problem.store_offers.index(o) for o in subset)
        for subset in subsets(problem.store_offers)
        if _one_per_group(subset)
    ]
    coupon_sets = []
    for subset in subsets(problem.coupons):
        terms = [c.offer.mechanic for c in subset]
        stackable = all(isinstance(t, CouponTerms) and t.stackable for t in terms)
        if len(subset) <= 1 or (stackable and _one_per_group([c.offer for c in subset])):
            coupon_sets.append(tuple(problem.coupons.index(c) for c in subset))
    best: OrderResult | None = None
    for item_units in itertools.product(*per_line):
        for store in store_sets:
            for chosen in coupon_sets:
                result = price_order(problem, item_units, store, chosen)
                if result is not None and (best is None or result.key < best.key):
                    best = result
    assert best is not None  # no offers at all is always valid
    return best
