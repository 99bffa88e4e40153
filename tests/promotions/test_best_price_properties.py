"""Correctness evidence for the optimiser (SOP PROMO-03/04): brute force and properties."""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from storeops.core.money import Money, apportion
from storeops.promotions.engine import quote_best_price
from storeops.promotions.engine.optimiser import apportion_units, build_problem, optimise

from .builders import coupon
from .random_carts import Case, random_case
from .reference import brute_force_best

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def _quote(case: Case, coupons=None):  # type: ignore[no-untyped-def]
    return quote_best_price(
        lines=case.lines,
        customer=case.customer,
        offers=case.offers,
        coupons=case.coupons if coupons is None else coupons,
        now=case.now,
    )


def test_promo_03_engine_matches_brute_force_on_3000_random_small_carts() -> None:
    # given 3,000 seeded random carts with offers and coupons near their thresholds
    rng = random.Random(20260618)
    mismatches = []
    for n in range(3000):
        case = random_case(rng)
        # when the engine and the exhaustive reference both pick the best combination
        problem = build_problem(
            lines=case.lines, customer=case.customer, offers=case.offers, coupons=case.coupons, now=case.now
        )
        engine = optimise(problem).result
        reference = brute_force_best(
            lines=case.lines, customer=case.customer, offers=case.offers, coupons=case.coupons, now=case.now
        )
        if engine.key != reference.key:
            mismatches.append((n, engine.key, reference.key))
    # then they agree on payable, gifts and coupons used, every time
    assert mismatches == []


@settings(max_examples=300, deadline=None)
@given(seed=SEEDS)
def test_promo_03_engine_matches_brute_force_on_larger_carts(seed: int) -> None:
    # given a random cart of up to 4 lines, 4 item offers, 4 store offers and 4 coupons
    case = random_case(random.Random(seed), max_lines=4, max_item=4, max_store=4, max_coupons=4)
    # when both optimisers run
    problem = build_problem(
        lines=case.lines, customer=case.customer, offers=case.offers, coupons=case.coupons, now=case.now
    )
    engine = optimise(problem).result
    reference = brute_force_best(
        lines=case.lines, customer=case.customer, offers=case.offers, coupons=case.coupons, now=case.now
    )
    # then the engine's answer is as good as the exhaustive one
    assert engine.key == reference.key


@settings(max_examples=300, deadline=None)
@given(seed=SEEDS, threshold=st.integers(0, 500), amount=st.integers(1, 100), stackable=st.booleans())
def test_promo_03_adding_a_coupon_never_raises_the_best_price(
    seed: int, threshold: int, amount: int, stackable: bool
) -> None:
    # given a random cart and one more coupon in the wallet
    case = random_case(random.Random(seed))
    extra = coupon("EXTRA", threshold, amount, stackable=stackable)
    # when quoted with and without it
    before = _quote(case)
    after = _quote(case, coupons=(*case.coupons, extra))
    # then the best price does not go up
    assert after.payable <= before.payable


@settings(max_examples=300, deadline=None)
@given(seed=SEEDS)
def test_promo_04_lines_sum_to_payable_and_full_refund_returns_exactly_what_was_paid(seed: int) -> None:
    # given any random cart
    case = random_case(random.Random(seed))
    # when quoted
    quote = _quote(case)
    # then no line is negative, lines add up to the payable, and refunding every unit of every
    # line, one unit at a time, returns exactly the payable
    assert all(line.final_total.amount >= 0 for line in quote.lines)
    assert sum((line.final_total.amount for line in quote.lines), Decimal(0)) == quote.payable.amount
    refunded = Decimal(0)
    for line in quote.lines:
        for done in range(line.quantity):
            refunded += quote.refund_for(line.index, 1, already_refunded=done).amount
    assert refunded == quote.payable.amount
    assert quote.payable.amount >= 0
    assert quote.payable <= quote.list_total
    assert quote.deposit_total + quote.balance_total == quote.payable


@settings(max_examples=200, deadline=None)
@given(seed=SEEDS)
def test_promo_04_each_line_discount_breakdown_adds_up(seed: int) -> None:
    # given any random cart
    quote = _quote(random_case(random.Random(seed)))
    # then per line: list - item savings = item total, item - store - coupon = final, and
    # every applied offer's amount equals the sum of its line adjustments
    per_offer: dict[str, Decimal] = {}
    for line in quote.lines:
        item_savings = sum((a.amount.amount for a in line.adjustments if a.level == "item"), Decimal(0))
        assert line.list_total.amount - item_savings == line.item_total.amount
        assert line.item_total - line.store_discount - line.coupon_discount == line.final_total
        for adjustment in line.adjustments:
            per_offer[adjustment.offer_id] = (
                per_offer.get(adjustment.offer_id, Decimal(0)) + adjustment.amount.amount
            )
    assert {a.offer_id: a.amount.amount for a in quote.applied if a.amount.amount} == per_offer


@settings(max_examples=100, deadline=None)
@given(seed=SEEDS)
def test_promo_03_quote_is_deterministic(seed: int) -> None:
    # given the same inputs twice, the second time with offers and coupons reversed
    case = random_case(random.Random(seed))
    # when quoted
    first = _quote(case)
    again = quote_best_price(
        lines=case.lines,
        customer=case.customer,
        offers=tuple(reversed(case.offers)),
        coupons=tuple(reversed(case.coupons)),
        now=case.now,
    )
    # then the quotes are equal
    assert first == again


@given(
    total=st.integers(0, 10**7),
    weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=12),
)
def test_promo_04_integer_apportionment_matches_core_money_apportion(total: int, weights: list[int]) -> None:
    # given a total and line weights in cents
    # when split by the engine's int apportionment and by core.money.apportion
    ours = apportion_units(total, weights)
    core = apportion(Money(Decimal(total) / 100), [Money(Decimal(w) / 100) for w in weights])
    # then the shares are the same and sum exactly to the total
    assert [Decimal(u) / 100 for u in ours] == [m.amount for m in core]
    assert sum(ours) == total
