"""The best combination for the customer under the stacking levels (SOP PROMO-03).

Stacking model
--------------
1. **Item level.** Item offers do not stack: each line is priced by at most one item offer
   (flash sale, group price, member-tier price, time slot, percentage, Nth item, presale,
   add-on). A *limited* offer (flash sale per-buyer limit / stock, add-on per anchor) prices
   only its cap of units; the line's other units may then take one unlimited item offer
   (the *fallback*) or the list price. Exclusive groups do not matter at this level: one
   price per line already excludes the rest.
2. **Store level.** 满减 and 满赠 compute on the post-item-level subtotal of their in-scope
   lines. At most one offer per ``exclusive_group``; offers without a group combine freely.
   Reductions are applied in offer-id order, each capped at what its lines still cost and
   apportioned to them (largest remainder), so no line goes below zero.
3. **Coupons.** A coupon's threshold is checked on its in-scope amount *after* store level.
   One coupon per order, except that ``stackable`` coupons combine (one per exclusive group).

The payable is the minimum over every valid combination. Choosing the lowest item price per
line is *not* always optimal: a 9.5折 member price can drop a line below a 满200 threshold,
and a store reduction can drop the amount below a coupon's threshold. So:

* per line the item options are generated once, deduplicated and sorted by price;
* a depth-first branch-and-bound walks only the lines some threshold can see, cheapest
  option first (the first leaf is the greedy all-lowest answer). Two bounds prune it, both
  from the monotonicity of 满减 and coupon values in spend: a *raise budget* (how much more
  than the all-cheapest item total can still pay off, from the thresholds reachable with
  that much more spend), and per node ``fixed + cheapest rest − upper bound of every
  reduction still reachable``. A store-wide coupon's bound accounts for its threshold
  being checked after store level, and a single coupon whose ``threshold − amount``
  exceeds the best payable found is never worth raising prices for;
* at each leaf the store choice is enumerated per exclusive group over the offers that
  actually reach a threshold (unreached offers and "none" beside a reached gift are
  dominated and skipped), combinations are tried largest store reduction first with the
  same bound, and coupons are scored directly (one coupon: one subtraction).

Ties are broken by: lower payable, then more gifts, then fewer coupons used (don't burn a
coupon that saves nothing), then the enumeration order, which is deterministic.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .mechanics import (
    coupon_available,
    item_cap,
    item_segment_units,
    line_in_scope,
    offer_available,
    reduction_units,
    tier_units,
    to_units,
)
from .offers import (
    CartLine,
    CouponTerms,
    CustomerContext,
    HeldCoupon,
    Level,
    Offer,
    ThresholdGift,
    TieredReduction,
)


@dataclass(frozen=True, slots=True)
class ItemOption:
    """One way to price a line at item level (minor units)."""

    units: int
    primary: Offer | None = None
    primary_quantity: int = 0
    primary_units: int = 0
    fallback: Offer | None = None  # prices the units beyond a limited primary offer
    fallback_units: int = 0


@dataclass(frozen=True, slots=True)
class _StoreTerm:
    tiers: tuple[tuple[int, int], ...]
    repeat: bool
    cap: int | None
    gift_threshold: int | None  # set for 满赠, which reduces nothing


@dataclass(frozen=True, slots=True)
class _CouponTerm:
    threshold: int
    amount: int
    stackable: bool
    group: str | None


@dataclass(frozen=True, slots=True)
class Problem:
    """Everything the optimiser needs, precomputed once per quote."""

    currency: str
    lines: tuple[CartLine, ...]
    list_units: tuple[int, ...]
    options: tuple[tuple[ItemOption, ...], ...]  # per line, ascending; one is the list price
    store_offers: tuple[Offer, ...]
    store_scopes: tuple[tuple[int, ...], ...]
    store_terms: tuple[_StoreTerm, ...]
    coupons: tuple[HeldCoupon, ...]
    coupon_scopes: tuple[tuple[int, ...], ...]
    coupon_terms: tuple[_CouponTerm, ...]


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


@dataclass(frozen=True, slots=True)
class Plan:
    choice: tuple[int, ...]  # option index per line
    store_selection: tuple[int, ...]
    coupon_selection: tuple[int, ...]
    result: OrderResult


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
        for i in sorted(range(n), key=lambda j: (-remainders[j], j))[:leftover]:
            shares[i] += 1
    return shares


# --- building the problem ----------------------------------------------------------------------


def _option(
    line: CartLine,
    customer: CustomerContext,
    list_units: int,
    *,
    primary: Offer,
    primary_quantity: int,
    fallback: Offer | None,
) -> ItemOption:
    primary_units = item_segment_units(primary, line, primary_quantity, customer)
    rest = line.quantity - primary_quantity
    if fallback is None:
        fallback_units = list_units // line.quantity * rest
    else:
        fallback_units = item_segment_units(fallback, line, rest, customer)
    return ItemOption(
        units=primary_units + fallback_units,
        primary=primary,
        primary_quantity=primary_quantity,
        primary_units=primary_units,
        fallback=fallback if rest else None,
        fallback_units=fallback_units,
    )


def item_option(
    lines: Sequence[CartLine],
    line_index: int,
    customer: CustomerContext,
    primary: Offer | None,
    fallback: Offer | None = None,
) -> ItemOption:
    """Price one line with ``primary`` (on up to its cap of units) and ``fallback`` for the rest."""
    line = lines[line_index]
    list_units = to_units(line.unit_price) * line.quantity
    if primary is None:
        return ItemOption(units=list_units)
    cap = item_cap(primary, line_index, lines, customer)
    quantity = line.quantity if cap is None else min(cap, line.quantity)
    return _option(line, customer, list_units, primary=primary, primary_quantity=quantity, fallback=fallback)


def applicable_item_offers(
    lines: Sequence[CartLine], line_index: int, customer: CustomerContext, offers: Sequence[Offer]
) -> list[Offer]:
    """Item offers (already available) covering the line with a non-zero cap."""
    line = lines[line_index]
    return [
        offer
        for offer in offers
        if offer.level is Level.ITEM
        and line_in_scope(offer.scope, line)
        and item_cap(offer, line_index, lines, customer) != 0
    ]


def _line_options(
    lines: Sequence[CartLine], line_index: int, customer: CustomerContext, offers: Sequence[Offer]
) -> tuple[ItemOption, ...]:
    line = lines[line_index]
    list_option = item_option(lines, line_index, customer, None)
    applicable = applicable_item_offers(lines, line_index, customer, offers)
    limited: list[Offer] = []
    unlimited: list[Offer] = []
    for offer in applicable:
        cap = item_cap(offer, line_index, lines, customer)
        (limited if cap is not None and cap < line.quantity else unlimited).append(offer)
    candidates = [item_option(lines, line_index, customer, offer) for offer in unlimited]
    candidates.extend(
        item_option(lines, line_index, customer, offer, fallback)
        for offer in limited
        for fallback in (None, *unlimited)
    )
    best_by_units: dict[int, ItemOption] = {}
    for option in candidates:
        if option.units >= list_option.units:
            continue
        seen = best_by_units.get(option.units)
        if seen is None or _option_rank(option) < _option_rank(seen):
            best_by_units[option.units] = option
    best_by_units.setdefault(list_option.units, list_option)
    return tuple(best_by_units[units] for units in sorted(best_by_units))


def _option_rank(option: ItemOption) -> tuple[int, str, str]:
    primary = option.primary
    assert primary is not None
    fallback_id = option.fallback.id if option.fallback is not None else ""
    return (-primary.priority, primary.id, fallback_id)


def build_problem(
    *,
    lines: Sequence[CartLine],
    customer: CustomerContext,
    offers: Sequence[Offer],
    coupons: Sequence[HeldCoupon],
    now: datetime,
) -> Problem:
    """Filter what is available now for this customer and precompute every line's options."""
    currencies = {line.unit_price.currency for line in lines}
    if len(currencies) > 1:
        raise ValueError("a cart is priced in one currency")
    currency = currencies.pop() if currencies else "CNY"
    for offer in offers:
        if offer.level is Level.COUPON:
            raise ValueError(f"coupon offer {offer.id} must be passed as a held coupon")
    live = sorted((o for o in offers if offer_available(o, customer, now)), key=lambda o: o.id)
    item_offers = [o for o in live if o.level is Level.ITEM]
    store_offers = tuple(o for o in live if o.level is Level.STORE)
    held: dict[str, HeldCoupon] = {}
    for coupon in sorted(coupons, key=lambda c: (c.offer.id, c.code)):
        # one copy of a coupon offer per order
        if coupon.offer.id not in held and coupon_available(coupon, customer, now):
            held[coupon.offer.id] = coupon
    usable = tuple(held.values())
    options = tuple(_line_options(lines, i, customer, item_offers) for i in range(len(lines)))

    def scope_of(offer: Offer) -> tuple[int, ...]:
        return tuple(i for i, line in enumerate(lines) if line_in_scope(offer.scope, line))

    store_terms = []
    for offer in store_offers:
        mechanic = offer.mechanic
        if isinstance(mechanic, TieredReduction):
            cap = None if mechanic.max_reduction is None else to_units(mechanic.max_reduction)
            store_terms.append(_StoreTerm(tier_units(mechanic), mechanic.repeat, cap, None))
        else:
            assert isinstance(mechanic, ThresholdGift)
            store_terms.append(_StoreTerm((), False, None, to_units(mechanic.threshold)))
    coupon_terms = []
    for coupon in usable:
        terms = coupon.offer.mechanic
        assert isinstance(terms, CouponTerms)
        coupon_terms.append(
            _CouponTerm(
                to_units(terms.threshold),
                to_units(terms.amount),
                terms.stackable,
                coupon.offer.exclusive_group,
            )
        )
    return Problem(
        currency=currency,
        lines=tuple(lines),
        list_units=tuple(to_units(line.unit_price) * line.quantity for line in lines),
        options=options,
        store_offers=store_offers,
        store_scopes=tuple(scope_of(o) for o in store_offers),
        store_terms=tuple(store_terms),
        coupons=usable,
        coupon_scopes=tuple(scope_of(c.offer) for c in usable),
        coupon_terms=tuple(coupon_terms),
    )


# --- pricing one combination -------------------------------------------------------------------


def _store_reduction(term: _StoreTerm, spend: int) -> int:
    if term.gift_threshold is not None:
        return 0
    return reduction_units(term.tiers, repeat=term.repeat, cap=term.cap, spend_units=spend)


def _apply_store(
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
        amount = min(_store_reduction(term, spend), sum(weights))
        if amount <= 0:
            continue
        shares = apportion_units(amount, weights)
        for i, share in zip(scope, shares, strict=True):
            remaining[i] -= share
        applied.append((s, amount, tuple(shares)))
    return remaining, applied, gifts


def _apply_coupons(
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
    after_store, store_applied, gifts = _apply_store(problem, item_units, sorted(store_selection))
    priced = _apply_coupons(problem, after_store, sorted(coupon_selection))
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


# --- the optimiser -----------------------------------------------------------------------------


def _groups(keys: Sequence[str | None], indexes: Sequence[int]) -> list[list[int]]:
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


_MAX_REPEAT_POINTS = 64  # fewer points only loosen the raise budget, never break it


class _Search:
    """Branch and bound over item options; exact store/coupon choice at each leaf."""

    def __init__(self, problem: Problem) -> None:
        self.p = problem
        n = len(problem.lines)
        self.store_groups = _groups(
            [o.exclusive_group for o in problem.store_offers], range(len(problem.store_offers))
        )
        coupon_groups = [t.group for t in problem.coupon_terms]
        self.single_coupons = [c for c, t in enumerate(problem.coupon_terms) if not t.stackable]
        self.stack_groups = _groups(
            coupon_groups, [c for c, t in enumerate(problem.coupon_terms) if t.stackable]
        )
        self.coupon_all_lines = [len(scope) == n for scope in problem.coupon_scopes]
        # scopes seen by a threshold: index 0..S-1 store offers, S.. coupons
        self.scopes = list(problem.store_scopes) + list(problem.coupon_scopes)
        self.scopes_of_line: list[list[int]] = [[] for _ in range(n)]
        for k, scope in enumerate(self.scopes):
            for i in scope:
                self.scopes_of_line[i].append(k)
        self.best_key: tuple[int, int, int] | None = None
        self.best: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None = None

    # upper bound of every reduction reachable when scope spends are at most ``spend``
    def _store_bound(self, spend: Sequence[int]) -> int:
        p = self.p
        store = 0
        for group in self.store_groups:
            best = 0
            for s in group:
                value = _store_reduction(p.store_terms[s], spend[s])
                best = max(best, value)
            store += best
        return store

    def _reduction_bound(self, spend: Sequence[int]) -> int:
        """At most what store offers and coupons together take off, scope spends <= ``spend``."""
        return self._coupon_bound(self._store_bound(spend), spend)

    def _coupon_bound(self, store: int, spend: Sequence[int], *, linear: bool = True) -> int:
        """``store`` (a bound on store level) plus at most what coupons add on top.

        A coupon used alone leaves at least ``threshold - amount`` to pay on its lines, so one
        whose ``threshold - amount`` exceeds the best payable found cannot be in a better
        single-coupon plan (stacked coupons can go lower together, so they are not skipped).
        A store-wide coupon's basis is the total after store level, so with threshold ``T``
        the store level can have taken at most ``total - T``: the pair takes at most
        ``min(store, total - T) + amount`` (``linear``). Other coupons add their amount.
        """
        p = self.p
        offset = len(p.store_terms)
        ceiling = self.best_key[0] if self.best_key is not None else None
        best = store
        for c in self.single_coupons:
            term = p.coupon_terms[c]
            basis = spend[offset + c]
            if ceiling is not None and term.threshold - term.amount > ceiling:
                continue
            if basis >= term.threshold:
                if linear and self.coupon_all_lines[c]:
                    best = max(best, min(store, basis - term.threshold) + min(term.amount, basis))
                else:
                    best = max(best, store + min(term.amount, basis))
        stacked = 0
        for group in self.stack_groups:
            top = 0
            for c in group:
                term = p.coupon_terms[c]
                basis = spend[offset + c]
                if basis >= term.threshold:
                    top = max(top, min(term.amount, basis))
            stacked += top
        return max(best, store + stacked)

    def _store_choices(self, item_units: Sequence[int]) -> tuple[list[list[int]], list[int]]:
        """Per exclusive group: the offers reaching a threshold, and -1 for "none".

        Unreached offers price like "none" and are skipped; "none" is skipped beside a
        reached gift, which prices the same and adds a gift.
        """
        p = self.p
        per_group: list[list[int]] = []
        raw = [0] * len(p.store_terms)
        for group in self.store_groups:
            reached: list[int] = []
            has_gift = False
            for s in group:
                term = p.store_terms[s]
                spend = 0
                for i in p.store_scopes[s]:
                    spend += item_units[i]
                if term.gift_threshold is not None:
                    if spend >= term.gift_threshold:
                        reached.append(s)
                        has_gift = True
                else:
                    raw[s] = _store_reduction(term, spend)
                    if raw[s] > 0:
                        reached.append(s)
            if not has_gift:
                reached.append(-1)
            per_group.append(reached)
        return per_group, raw

    def _evaluate_leaf(self, item_units: list[int], choice: tuple[int, ...]) -> None:
        p = self.p
        per_group, raw = self._store_choices(item_units)
        combos = sorted(
            (-sum(raw[s] for s in combo if s >= 0), n, combo)
            for n, combo in enumerate(itertools.product(*per_group))
        )
        subtotal = sum(item_units)
        spend = [0] * len(p.store_terms) + [sum(item_units[i] for i in scope) for scope in p.coupon_scopes]
        for minus_raw, _, combo in combos:
            # store + coupon reductions are at most this (raw >= the clamped store reduction)
            if (
                self.best_key is not None
                and subtotal - self._coupon_bound(-minus_raw, spend) > self.best_key[0]
            ):
                continue
            selection = tuple(sorted(s for s in combo if s >= 0))
            after_store, _, gifts = _apply_store(p, item_units, selection)
            total = sum(after_store)
            n_gifts = len(gifts)
            self._consider(plan_key(total, n_gifts, 0), choice, selection, ())
            for c in self.single_coupons:
                term = p.coupon_terms[c]
                if self.coupon_all_lines[c]:
                    basis = total
                else:
                    basis = 0
                    for i in p.coupon_scopes[c]:
                        basis += after_store[i]
                if basis < term.threshold:
                    continue
                value = min(term.amount, basis)
                if value > 0:
                    self._consider(plan_key(total - value, n_gifts, 1), choice, selection, (c,))
            if self.stack_groups:
                self._stacked(after_store, n_gifts, choice, selection)

    def _stacked(
        self, after_store: list[int], n_gifts: int, choice: tuple[int, ...], selection: tuple[int, ...]
    ) -> None:
        p = self.p
        per_group: list[list[int]] = []
        for group in self.stack_groups:
            usable = [
                c
                for c in group
                if sum(after_store[i] for i in p.coupon_scopes[c]) >= p.coupon_terms[c].threshold
            ]
            per_group.append([*usable, -1])
        for combo in itertools.product(*per_group):
            coupons = tuple(sorted(c for c in combo if c >= 0))
            if not coupons:
                continue
            priced = _apply_coupons(p, after_store, coupons)
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
            self.best = (choice, selection, coupons)

    def _breakpoints(self, spend_min: Sequence[int], spend_hi: Sequence[int]) -> list[int]:
        """Raises (over every line at its cheapest) at which some threshold can be crossed."""
        p = self.p
        points: set[int] = set()
        for s, term in enumerate(p.store_terms):
            low, high = spend_min[s], spend_hi[s]
            thresholds = [t for t, _ in term.tiers]
            for threshold in thresholds:
                if term.repeat:
                    first = low // threshold + 1
                    last = min(high // threshold, first + _MAX_REPEAT_POINTS)
                    points.update(m * threshold - low for m in range(first, last + 1))
                elif low < threshold <= high:
                    points.add(threshold - low)
        offset = len(p.store_terms)
        for c, coupon in enumerate(p.coupon_terms):
            low, high = spend_min[offset + c], spend_hi[offset + c]
            if low < coupon.threshold <= high:
                points.add(coupon.threshold - low)
        return sorted(points)

    def _raise_budget(
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
                bound = self._reduction_bound(
                    [min(m + end, h) for m, h in zip(spend_min, spend_hi, strict=True)]
                )
                reachable = min(end, best - cheapest + bound)
                if reachable >= start:
                    budget = max(budget, reachable)
            start = end + 1
        return budget

    def _free_lines(self) -> list[int]:
        """Lines whose item choice some threshold can see, widest price spread first."""
        p = self.p
        return sorted(
            (i for i in range(len(p.lines)) if len(p.options[i]) > 1 and self.scopes_of_line[i]),
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

    def _set_lines(self, lines: Sequence[int], option: int, hi: list[int], spend: list[int]) -> None:
        for line in lines:
            units = self.p.options[line][option].units
            delta = units - hi[line]
            for s in self.scopes_of_line[line]:
                spend[s] += delta
            hi[line] = units

    def run(self) -> Plan:
        p = self.p
        n = len(p.lines)
        choice = [0] * n
        free = self._free_lines()
        lowest = [p.options[i][0].units for i in range(n)]
        fixed_sum = sum(lowest[i] for i in range(n) if i not in free)
        hi = [p.options[i][-1].units if i in free else lowest[i] for i in range(n)]
        spend = [sum(hi[i] for i in scope) for scope in self.scopes]
        rest_min = [0] * (len(free) + 1)
        for k in range(len(free) - 1, -1, -1):
            rest_min[k] = rest_min[k + 1] + lowest[free[k]]

        spend_hi = list(spend)
        spend_min = [sum(lowest[i] for i in scope) for scope in self.scopes]
        cheapest = sum(lowest)
        points = self._breakpoints(spend_min, spend_hi)
        budget = [0, -1]  # [budget, payable it was computed for]

        def raise_budget() -> int:
            assert self.best_key is not None
            if budget[1] != self.best_key[0]:
                budget[0] = self._raise_budget(self.best_key[0], cheapest, spend_min, spend_hi, points)
                budget[1] = self.best_key[0]
            return budget[0]

        def dfs(k: int, assigned: int, raised: int) -> None:
            if k == len(free):
                if not any(choice):
                    return  # the greedy leaf, already evaluated first
                if self.best_key is not None and assigned - self._reduction_bound(spend) > self.best_key[0]:
                    return
                self._evaluate_leaf(hi, tuple(choice))
                return
            line = free[k]
            previous = hi[line]
            for index, option in enumerate(p.options[line]):
                step = option.units - lowest[line]
                if raised + step > raise_budget():
                    break  # options are ascending: every later one raises more
                delta = option.units - hi[line]
                if delta:
                    for s in self.scopes_of_line[line]:
                        spend[s] += delta
                    hi[line] = option.units
                choice[line] = index
                bound = assigned + option.units + rest_min[k + 1] - self._reduction_bound(spend)
                assert self.best_key is not None
                if bound > self.best_key[0]:
                    continue
                dfs(k + 1, assigned + option.units, raised + step)
            delta = previous - hi[line]
            if delta:
                for s in self.scopes_of_line[line]:
                    spend[s] += delta
                hi[line] = previous
            choice[line] = 0

        # first leaf: every line at its cheapest option (the greedy answer) as the incumbent
        self._set_lines(free, 0, hi, spend)
        self._evaluate_leaf(hi, tuple(choice))
        self._set_lines(free, -1, hi, spend)
        dfs(0, fixed_sum, 0)
        return self._finish()


def optimise(problem: Problem) -> Plan:
    """The customer's best valid combination (see the module docstring)."""
    return _Search(problem).run()
