"""The demo store's members (MEM-01/02/03/05): loaded through the services, the order sync
credited the demo customers, referrals wait for a first order, this month's tier coupons are
out, and the MEM-05 check flags the referral coupon below the acquisition cost."""

from __future__ import annotations

import pytest

from storeops.demo.loader import demo_load
from storeops.members.models import BirthdayGift, LedgerEntry, Member, TierCouponGrant
from storeops.promotions.models import IssuedCoupon
from storeops.sop.models import Finding
from storeops.sop.services import checks_run

pytestmark = pytest.mark.usefixtures("db")


def test_mem_02_the_demo_members_earned_points_from_their_orders_and_have_referrals():
    # given the demo store
    store, _created = demo_load()
    # then the demo customers are members credited for their paid orders
    assert Member.objects.filter(store=store).count() == 27
    earned = LedgerEntry.objects.filter(member__store=store, kind="earn")
    assert earned.exists()
    for member in Member.objects.filter(store=store, paid_orders__gt=0):
        assert member.points_balance >= 0
        assert member.growth_value > 0
    # three invited customers wait for their first order; this month's tier coupons are out
    assert (
        Member.objects.filter(store=store, referred_by__isnull=False, referral_rewarded_at=None).count() == 3
    )
    assert TierCouponGrant.objects.filter(member__store=store).count() >= 1
    # and the checks: the referral coupon (20) is below the acquisition cost (30), tier coupons are fine
    checks_run(rule="MEM-05", store=store, notify=False)
    checks_run(rule="MEM-03", store=store, notify=False)
    rules = set(Finding.objects.filter(store=store, status="open").values_list("rule_id", flat=True))
    assert "MEM-05" in rules
    assert "MEM-03" not in rules


def test_mem_01_the_demo_gives_todays_birthday_gifts_and_sign_up_coupons():
    store, _created = demo_load()
    gifts = BirthdayGift.objects.filter(member__store=store)
    assert gifts.count() == 2
    assert all(g.coupons >= 1 for g in gifts)
    assert Member.objects.filter(store=store, birth_month__isnull=False).count() == 12
    sign_up = IssuedCoupon.objects.filter(store=store, source="new_user")
    assert sorted(sign_up.values_list("customer_ref", flat=True)) == [
        "demo-new01",
        "demo-new02",
        "demo-new03",
    ]
    checks_run(rule="MEM-01", store=store, notify=False)
    assert not Finding.objects.filter(store=store, rule_id="MEM-01", status="open").exists()
