"""Upper bounds on what store offers and coupons can take off, for pruning the search.

Every bound rests on one fact: 满减 and coupon values are non-decreasing in spend. With every
in-scope spend at most ``spend`` (indexed like :attr:`Bounds.scopes`: store offers first,
then coupons), no combination takes off more than :meth:`Bounds.reduction`. The terms are
flattened into tuples of ints once per quote so the bounds, evaluated at every search node,
do no attribute look-ups or ``Money`` arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence

from .problem import Problem

_MAX_REPEAT_POINTS = 64  # fewer points only loosen the raise budget, never break it

# (spend index, tiers, repeat, cap, rate_off) of one 满减 or 满X打Y折; 满赠 take nothing off
Reducer = tuple[int, tuple[tuple[int, int], ...], bool, int | None, tuple[int, int] | None]
# (spend index, threshold, amount, threshold - amount, coupon covers every line)
SingleCoupon = tuple[int, int, int, int, bool]
# (spend index, threshold, amount)
StackedCoupon = tuple[int, int, int]


def exclusive_groups(keys: Sequence[str | None], indexes: Sequence[int]) -> list[list[int]]:
    """``indexes`` grouped by exclusive group, in first-seen order; no group: a group of one."""
    grouped: dict[str, list[int]] = {}
    result: list[list[int]] = []
    for i in indexes:
        key = keys[i]
        if key is None:
            result.append([i])
        else:
            if key not in grouped:
                grouped[key] = []
                result.append(grouped[key])
            grouped[key].append(i)
    return result


class Bounds:
    """The reduction bounds of one problem; ``ceiling`` is the best payable found so far."""

    __slots__ = (
        "n_store",
        "p",
        "reducer_groups",
        "scopes",
        "scopes_of_line",
        "single_coupons",
        "single_terms",
        "stack_groups",
        "stack_terms",
    )

    def __init__(self, problem: Problem) -> None:
        self.p = problem
        n = len(problem.lines)
        self.n_store = offset = len(problem.store_terms)
        store_groups = exclusive_groups(
            [o.exclusive_group for o in problem.store_offers], range(len(problem.store_offers))
        )
        self.reducer_groups: list[list[Reducer]] = []
        for group in store_groups:
            reducers = [
                (s, term.tiers, term.repeat, term.cap, term.rate_off)
                for s in group
                if (term := problem.store_terms[s]).gift_threshold is None
            ]
            if reducers:
                self.reducer_groups.append(reducers)
        terms = problem.coupon_terms
        self.single_coupons = [c for c, t in enumerate(terms) if not t.stackable]
        self.single_terms: list[SingleCoupon] = [
            (
                offset + c,
                terms[c].threshold,
                terms[c].amount,
                terms[c].threshold - terms[c].amount,
                len(problem.coupon_scopes[c]) == n,
            )
            for c in self.single_coupons
        ]
        self.stack_groups = exclusive_groups(
            [t.group for t in terms], [c for c, t in enumerate(terms) if t.stackable]
        )
        self.stack_terms: list[list[StackedCoupon]] = [
            [(offset + c, terms[c].threshold, terms[c].amount) for c in group] for group in self.stack_groups
        ]
        # scopes seen by a threshold: index 0..S-1 store offers, S.. coupons
        self.scopes = list(problem.store_scopes) + list(problem.coupon_scopes)
        self.scopes_of_line: list[list[int]] = [[] for _ in range(n)]
        for k, scope in enumerate(self.scopes):
            for i in scope:
                self.scopes_of_line[i].append(k)

    def store(self, spend: Sequence[int]) -> int:
        """At most what the store level takes off (the best 满减 per exclusive group)."""
        total = 0
        for group in self.reducer_groups:
            best = 0
            for s, tiers, repeat, cap, rate_off in group:
                # :func:`.mechanics.reduction_units`, inlined: this runs at every search node
                x = spend[s]
                value = 0
                for threshold, amount in tiers:
                    if repeat:
                        value = max(value, x // threshold * amount)
                    elif x >= threshold:
                        if rate_off is not None:  # 满X打Y折: a share of the whole spend, half-up
                            amount = (2 * x * rate_off[0] + rate_off[1]) // (2 * rate_off[1])  # noqa: PLW2901
                        value = max(value, amount)
                if cap is not None:
                    value = min(value, cap)
                best = max(best, min(value, x))
            total += best
        return total

    def reduction(self, spend: Sequence[int], ceiling: int | None) -> int:
        """At most what store offers and coupons together take off, scope spends <= ``spend``."""
        return self.coupons(self.store(spend), spend, ceiling)

    def coupons(self, store: int, spend: Sequence[int], ceiling: int | None) -> int:
        """``store`` (a bound on store level) plus at most what coupons add on top.

        Non-decreasing in ``store`` and in every spend. A coupon used alone leaves at least
        ``threshold - amount`` to pay on its lines, so one whose ``threshold - amount``
        exceeds ``ceiling`` (the best payable found) cannot be in a better single-coupon plan
        (stacked coupons can go lower together, so they are not skipped). A store-wide
        coupon's basis is the total after store level, so with threshold ``T`` the store
        level can have taken at most ``total - T``: the pair takes at most
        ``min(store, total - T) + amount``. Other coupons add their amount.
        """
        best = store
        for index, threshold, amount, slack, whole in self.single_terms:
            if ceiling is not None and slack > ceiling:
                continue
            basis = spend[index]
            if basis >= threshold:
                value = amount if amount < basis else basis
                if whole:
                    room = basis - threshold
                    value += store if store < room else room
                else:
                    value += store
                best = max(best, value)
        stacked = 0
        for group in self.stack_terms:
            top = 0
            for index, threshold, amount in group:
                basis = spend[index]
                if basis >= threshold:
                    value = amount if amount < basis else basis
                    top = max(top, value)
            stacked += top
        stacked += store
        return stacked if stacked > best else best

    def breakpoints(self, spend_min: Sequence[int], spend_hi: Sequence[int]) -> list[int]:
        """Raises (over every line at its cheapest) at which some threshold can be crossed."""
        p = self.p
        points: set[int] = set()
        for s, term in enumerate(p.store_terms):
            low, high = spend_min[s], spend_hi[s]
            for threshold, _ in term.tiers:
                if term.repeat:
                    first = low // threshold + 1
                    last = min(high // threshold, first + _MAX_REPEAT_POINTS)
                    points.update(m * threshold - low for m in range(first, last + 1))
                elif low < threshold <= high:
                    points.add(threshold - low)
        offset = self.n_store
        for c, coupon in enumerate(p.coupon_terms):
            low, high = spend_min[offset + c], spend_hi[offset + c]
            if low < coupon.threshold <= high:
                points.add(coupon.threshold - low)
        return sorted(points)

    def raise_budget(
        self,
        best: int,
        cheapest: int,
        spend_min: Sequence[int],
        spend_hi: Sequence[int],
        points: Sequence[int],
    ) -> int:
        """The largest total raise over the cheapest options that could still beat ``best``.

        Raising the lines by ``d`` in total raises each scope's spend by at most ``d``, so
        every reduction is at most the bound at ``min(spend_min + d, spend_hi)``, which is
        non-decreasing in ``d``. On each interval between threshold points the bound is at
        most its value at the interval's right end (store level plus each usable coupon's
        amount); a raise ``d`` on that interval can only help if
        ``cheapest + d - bound <= best``.
        """
        top = max((h - m for h, m in zip(spend_hi, spend_min, strict=True)), default=0)
        ends = [d - 1 for d in points if 0 < d <= top] + [top]
        budget = -1
        start = 0
        for end in ends:
            if end >= start:
                bound = self.reduction(
                    [min(m + end, h) for m, h in zip(spend_min, spend_hi, strict=True)], best
                )
                reachable = min(end, best - cheapest + bound)
                if reachable >= start:
                    budget = max(budget, reachable)
            start = end + 1
        return budget
