"""SOP MEM-02 invariants: the points balance never goes negative and is always the sum of the
ledger (hypothesis over random operation sequences), reversals of partial refunds add up to
the earning, and concurrent redemptions never overdraw (real threads)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storeops.core.errors import Conflict, PermissionDenied, ValidationError
from storeops.members import rules, services
from storeops.members.models import LedgerEntry, Member
from storeops.promotions.models import IssuedCoupon
from tests.concurrency import at_once
from tests.members.builders import ACTOR, a_member, a_template

operations = st.lists(
    st.one_of(
        st.tuples(st.just("adjust"), st.integers(-3000, 3000), st.integers(-20_000, 20_000)),
        st.tuples(st.just("redeem"), st.just(0), st.just(0)),
    ),
    min_size=1,
    max_size=12,
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_mem_02_balance_is_never_negative_and_always_the_sum_of_the_ledger(store, ops):
    with transaction.atomic():
        # given a member and a ¥5 reward (500 points)
        member = a_member(store, "h1")
        template = a_template(store, rule="manual", amount="5", per_user=1000)
        reward = services.reward_create(actor=ACTOR, store=store, coupon_template_id=template.pk)
        # when any sequence of adjustments and redemptions runs (refusals allowed)
        for kind, points, growth in ops:
            try:
                if kind == "adjust":
                    services.points_adjust(
                        actor=ACTOR,
                        member=member,
                        points=points,
                        growth=growth,
                        reason="测试",
                        unlimited=True,
                    )
                else:
                    services.points_redeem(actor=ACTOR, member=member, reward_id=reward.pk)
            except (Conflict, PermissionDenied, ValidationError):  # refused: nothing may change
                pass
            # then after every step the stored balances equal the ledger's sums, never below zero
            m = Member.objects.get(pk=member.pk)
            sums = LedgerEntry.objects.filter(member=member).aggregate(p=Sum("points"), g=Sum("growth"))
            assert m.points_balance == (sums["p"] or 0) >= 0
            assert m.growth_value == (sums["g"] or 0) >= 0
            last = LedgerEntry.objects.filter(member=member).order_by("-id").first()
            if last is not None:
                assert (last.points_after, last.growth_after) == (m.points_balance, m.growth_value)
        redeemed = LedgerEntry.objects.filter(member=member, kind="redeem").count()
        assert IssuedCoupon.objects.filter(customer_ref="h1").count() == redeemed
        transaction.set_rollback(True)


@given(
    earned=st.integers(0, 10**7),
    paid_cents=st.integers(1, 10**8),
    cuts=st.lists(st.integers(1, 10**6), min_size=1, max_size=8),
)
def test_mem_02_reversals_of_any_partial_refunds_add_up_to_the_earning(earned, paid_cents, cuts):
    # given an order paid in full and refunded in random parts until nothing is left
    paid = Decimal(paid_cents) / 100
    total = sum(cuts)
    parts = [Decimal(paid_cents * c // total) / 100 for c in cuts]
    parts[-1] = paid - sum(parts[:-1])
    refunded = Decimal(0)
    taken = []
    for part in parts:
        taken.append(rules.reversal(earned=earned, paid=paid, refunded_before=refunded, refunded_now=part))
        refunded += part
    # then every reversal is within the earning and together they are exactly the earning
    assert all(t >= 0 for t in taken)
    assert sum(taken) == earned


@given(cost=st.integers(0, 10**7), returns=st.lists(st.integers(1, 50), min_size=1, max_size=8))
def test_mem_02_points_given_back_for_goods_returned_in_any_parts_add_up_to_the_cost(cost, returns):
    # given goods of `sum(returns)` units taken for `cost` points, given back a few at a time
    units, back, given = sum(returns), 0, []
    for part in returns:
        before = rules.points_given_back(cost=cost, units=units, back=back)
        back += part
        given.append(rules.points_given_back(cost=cost, units=units, back=back) - before)
    # then no step gives back a negative amount, and all units back give back exactly the cost
    assert all(g >= 0 for g in given)
    assert sum(given) == cost


def test_mem_02_points_given_back_refuses_impossible_counts():
    for bad in (
        {"cost": 10, "units": 0, "back": 0},
        {"cost": 10, "units": 2, "back": 3},
        {"cost": -1, "units": 1, "back": 1},
    ):
        with pytest.raises(ValueError, match="need cost"):
            rules.points_given_back(**bad)


def test_mem_02_earning_rounds_down_to_whole_units():
    gain = rules.earning(paid=Decimal("99.99"), growth_per_yuan=100, points_per_yuan=1, multiplier=2)
    assert (gain.growth, gain.points) == (9999, 198)


def test_mem_02_offset_points_round_up():
    assert rules.offset_points(amount=Decimal("5.00"), points_per_yuan=100) == 500
    assert rules.offset_points(amount=Decimal("0.015"), points_per_yuan=100) == 2


def test_mem_01_tier_needs_both_growth_value_and_orders():
    policy = rules.TierPolicy(gold_growth=100, diamond_growth=500, gold_min_orders=2, diamond_min_orders=5)
    assert rules.tier_for(growth=1000, paid_orders=1, policy=policy) == "silver"
    assert rules.tier_for(growth=100, paid_orders=2, policy=policy) == "gold"
    assert rules.tier_for(growth=499, paid_orders=9, policy=policy) == "gold"
    assert rules.tier_for(growth=500, paid_orders=5, policy=policy) == "diamond"


THREADS = 8


@pytest.mark.django_db(transaction=True)
def test_mem_02_concurrent_redemptions_never_overdraw(store):
    # given 1,000 points and a ¥5 reward (500 points): the balance covers two redemptions
    member = a_member(store, "t1")
    services.points_adjust(actor=ACTOR, member=member, points=1000, reason="测试", unlimited=True)
    template = a_template(store, rule="manual", amount="5", per_user=100)
    reward = services.reward_create(actor=ACTOR, store=store, coupon_template_id=template.pk)
    # when eight redemptions run at the same moment
    outcome = at_once(
        lambda: services.points_redeem(actor=ACTOR, member=member, reward_id=reward.pk), THREADS
    )
    # then exactly two succeed, the others are refused, and no coupon is left without points
    assert outcome.others(Conflict) == []
    assert len(outcome.results) == 2
    assert {r.code for r in outcome.raised(Conflict)} == {"points_insufficient"}
    assert Member.objects.get(pk=member.pk).points_balance == 0
    assert IssuedCoupon.objects.filter(customer_ref="t1").count() == 2
