"""The search for the best combination: branch and bound over item options (PROMO-03).

See :mod:`.optimiser` for the stacking model and :mod:`.bounds` for the bounds. Each leaf
(one item option per line) enumerates the store choice per exclusive group, largest store
reduction first, and scores coupons directly. Everything is in minor units (``int``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from .bounds import Bounds, exclusive_groups
from .combination import OrderResult, apply_coupons, apportion_units, plan_key, price_order
from .mechanics import reduction_units
from .problem import Problem


@dataclass(frozen=True, slots=True)
class Plan:
    choice: tuple[int, ...]  # option index per line
    store_selection: tuple[int, ...]
    coupon_selection: tuple[int, ...]
    result: OrderResult


class _Search:
    """Branch and bound over item options; exact store/coupon choice at each leaf."""

    def __init__(self, problem: Problem) -> None:
        self.p = problem
        self.bounds = bounds = Bounds(problem)
        n = len(problem.lines)
        self.store_groups = exclusive_groups(
            [o.exclusive_group for o in problem.store_offers], range(len(problem.store_offers))
        )
        self.gift_thresholds = [term.gift_threshold for term in problem.store_terms]
        self.reducers = [
            (term.tiers, term.repeat, term.cap, term.rate_off) if term.gift_threshold is None else None
            for term in problem.store_terms
        ]
        # (coupon idx, threshold, amount, its lines or None when it covers every line)
        self.singles = [
            (
                c,
                problem.coupon_terms[c].threshold,
                problem.coupon_terms[c].amount,
                None if len(problem.coupon_scopes[c]) == n else problem.coupon_scopes[c],
            )
            for c in bounds.single_coupons
        ]
        self.best_key: tuple[int, int, int] | None = None
        self.best_payable: int | None = None  # ``best_key[0]``, the bounds' ceiling
        self.best: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None = None

    def _store_choices(self, spend: Sequence[int]) -> tuple[list[list[int]], list[int]]:
        """Per exclusive group: the offers reaching a threshold, and -1 for "none".

        Unreached offers price like "none" and are skipped; "none" is skipped beside a
        reached gift, which prices the same and adds a gift. ``raw`` is each 满减's reduction
        on its in-scope item spend, before the cap at what its lines still cost.
        """
        per_group: list[list[int]] = []
        gift_thresholds = self.gift_thresholds
        reducers = self.reducers
        raw = [0] * len(reducers)
        for group in self.store_groups:
            reached: list[int] = []
            has_gift = False
            for s in group:
                reducer = reducers[s]
                if reducer is None:
                    threshold = gift_thresholds[s]
                    assert threshold is not None
                    if spend[s] >= threshold:
                        reached.append(s)
                        has_gift = True
                else:
                    tiers, repeat, cap, rate_off = reducer
                    value = reduction_units(
                        tiers, repeat=repeat, cap=cap, spend_units=spend[s], rate_off=rate_off
                    )
                    raw[s] = value
                    if value > 0:
                        reached.append(s)
            if not has_gift:
                reached.append(-1)
            per_group.append(reached)
        return per_group, raw

    def _after_store(
        self, item_units: Sequence[int], selection: Sequence[int], raw: Sequence[int]
    ) -> tuple[list[int], int]:
        """The line amounts after the store offers ``selection`` (ascending), and its gifts.

        :func:`.combination.apply_store` without the record: every gift in ``selection``
        is reached and every 满减 takes ``min(raw, what its lines still cost)``.
        """
        remaining = list(item_units)
        scopes = self.p.store_scopes
        gifts = 0
        for s in selection:
            if self.reducers[s] is None:
                gifts += 1
                continue
            scope = scopes[s]
            weights = [remaining[i] for i in scope]
            left = sum(weights)
            amount = raw[s] if raw[s] < left else left
            if amount <= 0:
                continue
            for i, share in zip(scope, apportion_units(amount, weights), strict=True):
                remaining[i] -= share
        return remaining, gifts

    def _evaluate_leaf(self, item_units: list[int], spend: Sequence[int], choice: tuple[int, ...]) -> None:
        """Score every store choice and coupon use for these item prices.

        ``spend`` holds each scope's item spend (:attr:`Bounds.scopes`). Combinations are
        tried largest store reduction first (ties in ``itertools.product`` order); the bound
        is non-decreasing in the store reduction and the ceiling only falls, so once one
        combination is pruned every later one is too.
        """
        per_group, raw = self._store_choices(spend)
        # (raw store reduction, offers chosen) per combination, built group by group in
        # ``itertools.product`` order ("none" adds nothing)
        combos: list[tuple[int, tuple[int, ...]]] = [(0, ())]
        for group in per_group:
            combos = [
                (reduction + raw[s], (*chosen, s)) if s >= 0 else (reduction, chosen)
                for reduction, chosen in combos
                for s in group
            ]
        order = sorted(range(len(combos)), key=lambda n: -combos[n][0])  # stable: ties keep order
        subtotal = sum(item_units)
        bounds = self.bounds
        for n in order:
            reduction, chosen = combos[n]
            # store + coupon reductions are at most this (raw >= the clamped store reduction)
            ceiling = self.best_payable
            if ceiling is not None and subtotal - bounds.coupons(reduction, spend, ceiling) > ceiling:
                break
            selection = tuple(sorted(chosen))
            after_store, n_gifts = self._after_store(item_units, selection, raw)
            total = sum(after_store)
            self._consider(plan_key(total, n_gifts, 0), choice, selection, ())
            for c, threshold, amount, scope in self.singles:
                if scope is None:
                    basis = total
                else:
                    basis = 0
                    for i in scope:
                        basis += after_store[i]
                if basis < threshold:
                    continue
                value = min(amount, basis)
                if value > 0:
                    self._consider(plan_key(total - value, n_gifts, 1), choice, selection, (c,))
            if bounds.stack_groups:
                self._stacked(after_store, total, n_gifts, choice, selection)

    def _stacked(
        self,
        after_store: list[int],
        total: int,
        n_gifts: int,
        choice: tuple[int, ...],
        selection: tuple[int, ...],
    ) -> None:
        """Every combination of stackable coupons (one per exclusive group) on ``after_store``.

        A combination takes off at most the sum of ``min(amount, basis)``; one that cannot
        reach the best payable is skipped unpriced. When every chosen coupon covers every
        line, each takes ``min(amount, basis, what is left)`` and no shares are needed.
        """
        p = self.p
        n = len(after_store)
        per_group: list[list[int]] = []
        value: dict[int, int] = {}  # coupon -> min(amount, basis) for the usable ones
        for group in self.bounds.stack_groups:
            usable = []
            for c in group:
                scope = p.coupon_scopes[c]
                basis = total if len(scope) == n else sum(after_store[i] for i in scope)
                term = p.coupon_terms[c]
                if basis >= term.threshold:
                    usable.append(c)
                    value[c] = min(term.amount, basis)
            per_group.append([*usable, -1])
        for combo in itertools.product(*per_group):
            coupons = tuple(sorted(c for c in combo if c >= 0))
            if not coupons:
                continue
            ceiling = self.best_payable
            if ceiling is not None and total - sum(value[c] for c in coupons) > ceiling:
                continue
            if all(len(p.coupon_scopes[c]) == n for c in coupons):
                left = total
                for c in coupons:
                    amount = min(value[c], left)
                    if amount <= 0:
                        break
                    left -= amount
                else:
                    self._consider(plan_key(left, n_gifts, len(coupons)), choice, selection, coupons)
                continue
            priced = apply_coupons(p, after_store, coupons)
            assert priced is not None
            final, applied = priced
            if all(amount > 0 for _, amount, _ in applied):
                self._consider(plan_key(sum(final), n_gifts, len(coupons)), choice, selection, coupons)

    def _consider(
        self,
        key: tuple[int, int, int],
        choice: tuple[int, ...],
        selection: tuple[int, ...],
        coupons: tuple[int, ...],
    ) -> None:
        if self.best_key is None or key < self.best_key:
            self.best_key = key
            self.best_payable = key[0]
            self.best = (choice, selection, coupons)

    def _free_lines(self) -> list[int]:
        """Lines whose item choice some threshold can see, widest price spread first."""
        p = self.p
        scopes_of_line = self.bounds.scopes_of_line
        return sorted(
            (i for i in range(len(p.lines)) if len(p.options[i]) > 1 and scopes_of_line[i]),
            key=lambda i: (-(p.options[i][-1].units - p.options[i][0].units), i),
        )

    def _finish(self) -> Plan:
        p = self.p
        assert self.best is not None
        best_choice, selection, coupons = self.best
        item_units = [p.options[i][best_choice[i]].units for i in range(len(p.lines))]
        result = price_order(p, item_units, selection, coupons)
        assert result is not None
        return Plan(best_choice, selection, coupons, result)

    def run(self) -> Plan:
        p = self.p
        bounds = self.bounds
        free = self._free_lines()
        lowest = [options[0].units for options in p.options]
        hi = list(lowest)
        for i in free:
            hi[i] = p.options[i][-1].units
        spend_min = [sum(lowest[i] for i in scope) for scope in bounds.scopes]
        # first leaf: every line at its cheapest option (the greedy answer) as the incumbent
        self._evaluate_leaf(lowest, spend_min, (0,) * len(lowest))
        if free:
            self._branch(free, lowest, hi, spend_min)
        return self._finish()

    def _branch(self, free: list[int], lowest: list[int], hi: list[int], spend_min: list[int]) -> None:
        """Depth-first over the free lines' options, cheapest first, with both bounds.

        ``hi`` starts with every free line at its dearest option: a line not yet assigned
        counts at its dearest in the scope spends, which keeps ``bounds.reduction`` an
        upper bound for every completion of the node.
        """
        bounds = self.bounds
        scopes_of_line = bounds.scopes_of_line
        choice = [0] * len(lowest)
        n_free = len(free)
        prices = [[option.units for option in self.p.options[i]] for i in free]  # ascending
        rest_min = [0] * (n_free + 1)  # the cheapest the free lines from k on can cost
        for k in range(n_free - 1, -1, -1):
            rest_min[k] = rest_min[k + 1] + lowest[free[k]]
        spend_hi = [sum(hi[i] for i in scope) for scope in bounds.scopes]
        spend = list(spend_hi)  # each scope's spend with the lines as in ``hi``
        cheapest = sum(lowest)
        points = bounds.breakpoints(spend_min, spend_hi)
        budget = [0, -1]  # [budget, payable it was computed for]

        def dfs(k: int, assigned: int, raised: int) -> None:
            line = free[k]
            previous = hi[line]
            base = lowest[line]
            line_scopes = scopes_of_line[line]
            rest = rest_min[k + 1]
            last = k + 1 == n_free
            for index, units in enumerate(prices[k]):
                ceiling = self.best_payable
                assert ceiling is not None
                if budget[1] != ceiling:
                    budget[0] = bounds.raise_budget(ceiling, cheapest, spend_min, spend_hi, points)
                    budget[1] = ceiling
                step = units - base
                if raised + step > budget[0]:
                    break  # options are ascending: every later one raises more
                delta = units - hi[line]
                if delta:
                    for s in line_scopes:
                        spend[s] += delta
                    hi[line] = units
                choice[line] = index
                if assigned + units + rest - bounds.reduction(spend, ceiling) > ceiling:
                    continue
                if not last:
                    dfs(k + 1, assigned + units, raised + step)
                elif any(choice):  # the all-cheapest leaf was evaluated first
                    # the leaf's own bound is the one just checked: evaluate it directly
                    self._evaluate_leaf(hi, spend, tuple(choice))
            delta = previous - hi[line]
            if delta:
                for s in line_scopes:
                    spend[s] += delta
                hi[line] = previous
            choice[line] = 0

        dfs(0, cheapest - rest_min[0], 0)


def optimise(problem: Problem) -> Plan:
    """The customer's best valid combination (see :mod:`.optimiser`)."""
    return _Search(problem).run()
