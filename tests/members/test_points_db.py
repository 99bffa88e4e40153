"""SOP MEM-02: growth value and points from paid orders (member day doubles the points),
reversal on refunds, an idempotent sync, redemption for coupons, manual adjustment; MEM-01
tiers recomputed from growth value and paid orders."""

from __future__ import annotations

from decimal import Decimal

import pytest

from storeops.core.errors import Conflict, PermissionDenied, ValidationError
from storeops.members import selectors, services
from storeops.members.models import LedgerEntry, Member
from storeops.promotions.models import IssuedCoupon
from storeops.stores import services as store_services
from tests.members.builders import ACTOR, MEMBER_DAY, PLAIN_DAY, a_member, a_template, paid_order, refund
from tests.orders.builders import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel, stock_sh=50, stock_gz=50)


def _sync(store):
    return services.points_sync(actor=ACTOR, store=store)


def _member(member):
    return Member.objects.get(pk=member.pk)


def test_mem_02_paid_order_earns_growth_value_and_points_at_the_playbook_rates(store, world):
    # given a member and an order of 2 × 100.00 paid on a plain day
    member = a_member(store, "c1")
    paid_order(world, "c1", qty=2)
    # when the sync runs
    result = _sync(store)
    # then 200 CNY earned 100 growth value per yuan and 1 point per yuan
    m = _member(member)
    assert (result.earned, m.growth_value, m.points_balance, m.paid_orders) == (1, 20_000, 200, 1)
    entry = LedgerEntry.objects.get(member=member)
    assert (entry.kind, entry.points, entry.growth, entry.multiplier, entry.amount) == (
        "earn",
        200,
        20_000,
        1,
        Decimal("200.00"),
    )


def test_mem_02_member_day_doubles_points_but_not_growth_value(store, world):
    # given an order paid on the 18th (the member day, local time)
    member = a_member(store, "c1")
    paid_order(world, "c1", qty=1, at=MEMBER_DAY)
    # when synced
    _sync(store)
    # then the points are doubled, the growth value is not
    m = _member(member)
    assert (m.points_balance, m.growth_value) == (200, 10_000)
    assert LedgerEntry.objects.get(member=member).multiplier == 2


def test_mem_02_member_day_and_multiplier_are_playbook_settings(store, world):
    # given the store moved its member day to the 10th with triple points
    store_services.playbook_update(
        actor=ACTOR, store=store, values={"member_day": 10, "member_day_points_multiplier": 3}
    )
    member = a_member(store, "c1")
    paid_order(world, "c1", qty=1, at=PLAIN_DAY)  # the 10th
    _sync(store)
    assert _member(member).points_balance == 300


def test_mem_02_rerunning_the_sync_never_credits_twice(store, world):
    member = a_member(store, "c1")
    paid_order(world, "c1", qty=1)
    first = _sync(store)
    second = _sync(store)
    assert (first.earned, second.earned) == (1, 0)
    assert _member(member).points_balance == 100
    assert LedgerEntry.objects.filter(member=member).count() == 1


def test_mem_02_orders_paid_before_joining_and_of_non_members_earn_nothing(store, world):
    paid_order(world, "late", qty=1)  # paid on June 10
    member = a_member(store, "late", joined=PLAIN_DAY.replace(day=11))
    paid_order(world, "stranger", qty=1)
    _sync(store)
    assert _member(member).points_balance == 0
    assert LedgerEntry.objects.count() == 0


def test_mem_02_partial_refunds_reverse_their_share_and_a_full_refund_reverses_all(store, world):
    # given a 3 × 100.00 order on the member day: 600 points, 30,000 growth
    member = a_member(store, "c1")
    order = paid_order(world, "c1", qty=3, at=MEMBER_DAY)
    _sync(store)
    # when one unit is refunded, then a third comes back
    refund(order, 1)
    _sync(store)
    m = _member(member)
    assert (m.points_balance, m.growth_value, m.paid_orders) == (400, 20_000, 1)
    # when the two other units are refunded, then everything the order earned is gone
    refund(order, 2)
    result = _sync(store)
    m = _member(member)
    assert (m.points_balance, m.growth_value, m.paid_orders) == (0, 0, 0)
    assert result.reversed == 1
    kinds = list(LedgerEntry.objects.filter(member=member).order_by("id").values_list("kind", "points"))
    assert kinds == [("earn", 600), ("reverse", -200), ("reverse", -400)]


def test_mem_02_reversal_beyond_the_balance_records_a_shortfall_and_never_goes_negative(store, world):
    # given a member who spent the points of an order that is then refunded
    member = a_member(store, "c1")
    order = paid_order(world, "c1", qty=1)
    _sync(store)
    services.points_adjust(actor=ACTOR, member=member, points=-80, reason="兑换礼品（线下）")
    refund(order, 1)
    # when synced
    _sync(store)
    # then only the 20 points left are taken; 80 are recorded as not recovered
    m = _member(member)
    assert m.points_balance == 0
    reverse = LedgerEntry.objects.get(member=member, kind="reverse")
    assert (reverse.points, reverse.shortfall) == (-20, 80)


def test_mem_01_tier_follows_growth_value_and_paid_orders_up_and_down(store, world):
    # given gold at 200 CNY and 2 orders (growth 20,000), diamond at 500 CNY and 3 orders
    store_services.playbook_update(
        actor=ACTOR,
        store=store,
        values={
            "tier_gold_growth": 20_000,
            "tier_gold_min_orders": 2,
            "tier_diamond_growth": 50_000,
            "tier_diamond_min_orders": 3,
        },
    )
    member = a_member(store, "c1")
    big = paid_order(world, "c1", qty=3)  # 300 CNY but one order: still silver
    _sync(store)
    assert _member(member).tier == "silver"
    paid_order(world, "c1", qty=1)  # 400 CNY in 2 orders: gold
    _sync(store)
    assert _member(member).tier == "gold"
    paid_order(world, "c1", qty=1)  # 500 CNY in 3 orders: diamond
    _sync(store)
    assert _member(member).tier == "diamond"
    assert selectors.member_tier(store, "c1") == "diamond"
    # when the big order is refunded in full: 200 CNY in 2 orders
    refund(big, 3)
    _sync(store)
    # then the member is downgraded to gold
    m = _member(member)
    assert (m.tier, m.growth_value, m.paid_orders) == ("gold", 20_000, 2)


def test_mem_01_threshold_change_retiers_existing_members(store, world):
    member = a_member(store, "c1")
    paid_order(world, "c1", qty=2)
    paid_order(world, "c1", qty=1)
    _sync(store)
    assert _member(member).tier == "silver"  # default gold needs 200,000 growth
    store_services.playbook_update(actor=ACTOR, store=store, values={"tier_gold_growth": 30_000})
    assert services.tiers_recompute(actor=ACTOR, store=store) == 1
    assert _member(member).tier == "gold"


def test_mem_01_member_tier_selector_is_none_for_a_non_member(store):
    a_member(store, "c1")
    assert selectors.member_tier(store, "c1") == "silver"
    assert selectors.member_tier(store, "nobody") is None


def test_mem_02_redeem_points_for_a_cash_offset_coupon_issued_by_promotions(store, world):
    # given 1,000 points and a ¥5 no-threshold coupon in the rewards catalogue (100 points = ¥1)
    member = a_member(store, "c1")
    services.points_adjust(actor=ACTOR, member=member, points=1000, reason="开卡礼", unlimited=True)
    template = a_template(store, rule="manual", amount="5", per_user=10)
    reward = services.reward_create(actor=ACTOR, store=store, coupon_template_id=template.pk)
    # when the member redeems it
    done = services.points_redeem(actor=ACTOR, member=member, reward_id=reward.pk)
    # then 500 points are gone and the coupon belongs to the member
    assert (done.points, done.amount, done.entry.points_after) == (500, Decimal("5.00"), 500)
    coupon = IssuedCoupon.objects.get(code=done.coupon_code)
    assert (coupon.customer_ref, coupon.template_id, coupon.status) == ("c1", template.pk, "issued")
    assert done.entry.coupon_code == coupon.code


def test_mem_02_redeem_without_enough_points_is_refused_and_issues_nothing(store):
    member = a_member(store, "c1")
    services.points_adjust(actor=ACTOR, member=member, points=499, reason="补偿", unlimited=True)
    template = a_template(store, rule="manual", amount="5", per_user=10)
    reward = services.reward_create(actor=ACTOR, store=store, coupon_template_id=template.pk)
    with pytest.raises(Conflict) as exc:
        services.points_redeem(actor=ACTOR, member=member, reward_id=reward.pk)
    assert exc.value.code == "points_insufficient"
    assert IssuedCoupon.objects.count() == 0
    assert _member(member).points_balance == 499


def test_mem_02_refused_coupon_takes_no_points(store):
    # given a reward whose template allows one copy per customer, already redeemed once
    member = a_member(store, "c1")
    services.points_adjust(actor=ACTOR, member=member, points=2000, reason="补偿", unlimited=True)
    template = a_template(store, rule="manual", amount="5", per_user=1)
    reward = services.reward_create(actor=ACTOR, store=store, coupon_template_id=template.pk)
    services.points_redeem(actor=ACTOR, member=member, reward_id=reward.pk)
    # when redeemed again, then the coupon is refused and the points stay
    with pytest.raises(Conflict):
        services.points_redeem(actor=ACTOR, member=member, reward_id=reward.pk)
    assert _member(member).points_balance == 1500


def test_mem_02_only_no_threshold_templates_can_be_rewards(store):
    from storeops.promotions import services as promo

    template = promo.coupon_template_create(
        actor=ACTOR, store=store, name="满100减10", kind="store_threshold", threshold="100", amount="10"
    )
    with pytest.raises(ValidationError) as exc:
        services.reward_create(actor=ACTOR, store=store, coupon_template_id=template.pk)
    assert "coupon_template_id" in exc.value.fields


def test_mem_02_adjust_needs_a_reason_and_stays_within_the_limit_without_the_permission(store):
    member = a_member(store, "c1")
    with pytest.raises(ValidationError) as exc:
        services.points_adjust(actor=ACTOR, member=member, points=10, reason=" ")
    assert "reason" in exc.value.fields
    with pytest.raises(PermissionDenied):
        services.points_adjust(actor=ACTOR, member=member, points=501, reason="补偿")
    with pytest.raises(PermissionDenied):
        services.points_adjust(actor=ACTOR, member=member, points=1, growth=100, reason="补偿")
    entry = services.points_adjust(actor=ACTOR, member=member, points=500, reason="补偿")
    assert entry.points_after == 500
    with pytest.raises(Conflict):
        services.points_adjust(actor=ACTOR, member=member, points=-501, reason="扣减", unlimited=True)


def test_mem_02_the_ledger_is_append_only(store):
    member = a_member(store, "c1")
    services.points_adjust(actor=ACTOR, member=member, points=5, reason="补偿")
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(member=member).update(points=500)
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(member=member).delete()


def test_mem_02_periodic_task_reverses_a_recent_refund_of_an_older_order(store, world):
    # given an order paid and credited long ago (the real "now" is far after PLAIN_DAY)
    from storeops.members import tasks

    member = a_member(store, "c1")
    order = paid_order(world, "c1", qty=2)
    _sync(store)
    # when one unit is refunded now and the 15-minute task runs over the last two days
    refund(order, 1)
    result = tasks.points_sync_recent.call_local()
    # then the refund's share comes back, and a second run changes nothing
    assert result["reversed"] == 1
    assert _member(member).points_balance == 100
    assert tasks.points_sync_recent.call_local()["reversed"] == 0


def test_mem_02_a_sync_with_nothing_new_locks_no_member(store, world, django_assert_max_num_queries):
    a_member(store, "c1")
    paid_order(world, "c1", qty=1)
    _sync(store)
    # members, playbooks, orders, refunds, ledger keys, pending referrals: no per-member work
    with django_assert_max_num_queries(12):
        result = _sync(store)
    assert (result.earned, result.reversed) == (0, 0)
