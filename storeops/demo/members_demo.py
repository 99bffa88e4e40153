"""Demo members, through the members and promotions services only: the demo customers joined a
month ago (so their web-shop orders earn growth value and points on the first sync), a few new
customers invited by them (referrals waiting for a first order) who get the sign-up coupon,
tiers for a young shop (members in silver, gold and diamond), monthly tier coupon templates
issued for this month, birthdays in the coming weeks (two of them today, whose birthday gift
is given), a points reward, and an acquisition cost above the
referral coupon so the MEM-05 check has something to say."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from storeops.core.context import Actor
from storeops.members import services as members
from storeops.promotions import services as promotions
from storeops.stores import services as stores
from storeops.stores.models import Store

PROFILES = [("female", 1992, "杭州"), ("male", 1988, "上海"), ("female", 1999, "深圳"), ("", None, "")]


def load_members_demo(*, store: Store, now: dt.datetime, actor: Actor) -> None:
    joined = now - dt.timedelta(days=30)
    regulars = []
    today = timezone.localdate(now)
    for n in range(1, 25):
        gender, year, city = PROFILES[n % len(PROFILES)]
        # a birthday for most: two today, the others spread over the next three weeks
        birthday = today + dt.timedelta(days=max(0, n - 2) * 2) if n <= 12 else None
        regulars.append(
            members.member_join(
                actor=actor,
                store=store,
                customer_ref=f"demo-c{n:03d}",
                gender=gender,
                birth_year=year,
                city=city,
                birthday=birthday.strftime("%m-%d") if birthday else None,
                now=joined,
            )
        )
    promotions.coupon_template_create(
        actor=actor,
        store=store,
        name="新人券 10 元",
        kind="no_threshold",
        amount="10",
        issue_rule="new_user",
        valid_days=14,
    )
    for n, inviter in enumerate(regulars[:3], start=1):
        members.member_join(
            actor=actor,
            store=store,
            customer_ref=f"demo-new{n:02d}",
            invite_code=inviter.invite_code,
            now=now,
        )
    for tier, amount in (("silver", "5"), ("gold", "10"), ("diamond", "20")):
        promotions.coupon_template_create(
            actor=actor,
            store=store,
            name=f"会员月度券 {amount} 元",
            kind="no_threshold",
            amount=amount,
            issue_rule="monthly_tier",
            tier=tier,
            per_user_limit=120,
            valid_days=30,
        )
    for name, amount, tier in (("生日礼 20 元", "20", ""), ("钻石会员生日礼 50 元", "50", "diamond")):
        promotions.coupon_template_create(
            actor=actor,
            store=store,
            name=name,
            kind="no_threshold",
            amount=amount,
            issue_rule="birthday",
            tier=tier,
            per_user_limit=1,
            valid_days=30,
        )
    promotions.coupon_template_create(
        actor=actor,
        store=store,
        name="邀请有礼 20 元",
        kind="no_threshold",
        amount="20",
        issue_rule="referral",
        per_user_limit=50,
        valid_days=30,
    )
    offset = promotions.coupon_template_create(
        actor=actor, store=store, name="积分抵 5 元", kind="no_threshold", amount="5", per_user_limit=100
    )
    members.reward_create(actor=actor, store=store, coupon_template_id=offset.pk)
    # a young shop's tiers (the defaults suit a large one): gold from 300 yuan of growth and two
    # paid orders, diamond from 500 yuan and two, so the demo has members in every tier
    stores.playbook_update(
        actor=actor,
        store=store,
        values={
            "referral_acquisition_cost": "30",
            "tier_gold_growth": 30_000,
            "tier_gold_min_orders": 2,
            "tier_diamond_growth": 50_000,
            "tier_diamond_min_orders": 2,
        },
    )
    members.points_sync(actor=actor, store=store, now=now)
    members.points_adjust(
        actor=actor, member=regulars[0], points=300, reason="物流延误补偿", unlimited=True, now=now
    )
    members.tier_coupons_issue(actor=actor, store=store, now=now)
    members.birthday_gifts_issue(actor=actor, store=store, now=now)
