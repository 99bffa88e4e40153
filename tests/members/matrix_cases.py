"""The members routes and pages in the permission matrix (tests/test_permission_matrix.py)."""

from __future__ import annotations

from storeops.members import services
from tests.members.builders import ACTOR, a_template

_M = "/members/{store}/members"

MEMBERS_API_CASES = {
    ("GET", "/members/{store_id}/members"): (_M + "?tier=silver&q=mx&referred=no", None),
    ("POST", "/members/{store_id}/members"): (_M, {"customer_ref": "mx-new", "invite_code": "{mb_code}"}),
    ("GET", "/members/{store_id}/members/{member_id}"): (_M + "/{mb_member}", None),
    ("PATCH", "/members/{store_id}/members/{member_id}"): (_M + "/{mb_member}", {"city": "上海"}),
    ("GET", "/members/{store_id}/members/{member_id}/ledger"): (_M + "/{mb_member}/ledger?kind=adjust", None),
    ("GET", "/members/{store_id}/members/{member_id}/invitees"): (_M + "/{mb_member}/invitees", None),
    ("POST", "/members/{store_id}/members/{member_id}/referrer"): (
        _M + "/{mb_unreferred}/referrer",
        {"invite_code": "{mb_code}"},
    ),
    ("POST", "/members/{store_id}/members/{member_id}/points/adjust"): (
        _M + "/{mb_member}/points/adjust",
        {"points": 10, "reason": "补偿"},
    ),
    ("POST", "/members/{store_id}/members/{member_id}/points/redeem"): (
        _M + "/{mb_member}/points/redeem",
        {"reward_id": "{mb_reward}"},
    ),
    ("POST", "/members/{store_id}/members/{member_id}/points/redeem-goods"): (
        _M + "/{mb_member}/points/redeem-goods",
        {
            "reward_id": "{mb_goods_reward}",
            "channel_id": "{channel}",
            "address": {
                "receiver": "张三",
                "phone": "13812345678",
                "province": "上海",
                "address": "世纪大道1号",
            },
        },
    ),
    ("GET", "/members/{store_id}/rewards"): ("/members/{store}/rewards?kind=goods", None),
    ("POST", "/members/{store_id}/rewards/goods"): (
        "/members/{store}/rewards/goods",
        {"sku_code": "OK-M", "points_price": 120},
    ),
    ("POST", "/members/{store_id}/rewards"): (
        "/members/{store}/rewards",
        {"coupon_template_id": "{mb_template2}"},
    ),
    ("POST", "/members/{store_id}/rewards/{reward_id}/active"): (
        "/members/{store}/rewards/{mb_reward}/active",
        {"active": False},
    ),
    ("GET", "/members/{store_id}/referrals"): ("/members/{store}/referrals", None),
    ("POST", "/members/{store_id}/sync"): ("/members/{store}/sync", {}),
    ("POST", "/members/{store_id}/tier-coupons"): ("/members/{store}/tier-coupons", {}),
    ("GET", "/members/{store_id}/birthday-gifts"): ("/members/{store}/birthday-gifts?year=2026&q=mx", None),
    ("POST", "/members/{store_id}/birthday-gifts"): ("/members/{store}/birthday-gifts", {}),
}

MEMBERS_CONSOLE_CASES = {
    "console:members_list": ("GET", "/members/?tier=silver&referred=no&q=mx&birth_month=3", None),
    "console:member_detail": ("GET", "/members/{mb_member}/?kind=adjust", None),
    "console:member_adjust": ("POST", "/members/{mb_member}/adjust/", {"points": "5", "reason": "补偿"}),
    "console:member_profile": (
        "POST",
        "/members/{mb_member}/profile/",
        {"gender": "female", "birth_year": "1990", "birthday": "03-15", "city": "杭州"},
    ),
    "console:member_reward_coupon_create": (
        "POST",
        "/members/rewards/coupon/",
        {"coupon_template_id": "{mb_template2}"},
    ),
    "console:member_reward_active": ("POST", "/members/rewards/{mb_reward}/active/", {"active": "0"}),
    "console:member_reward_goods_create": (
        "POST",
        "/members/rewards/goods/",
        {"sku_code": "OK-M", "points_price": "120"},
    ),
}


def members_world(store):
    """A member with 1,000 points (its invite code invites others), a member without an
    inviter, a ¥5 reward in the catalogue, a second no-threshold template not offered yet,
    and SKU OK-S (in stock in the inventory world) offered for 100 points."""
    member = services.member_join(actor=ACTOR, store=store, customer_ref="mx-1")
    services.points_adjust(actor=ACTOR, member=member, points=1000, reason="开卡礼", unlimited=True)
    unreferred = services.member_join(actor=ACTOR, store=store, customer_ref="mx-2")
    template = a_template(store, rule="manual", amount="5", name="积分抵5元", per_user=100)
    reward = services.reward_create(actor=ACTOR, store=store, coupon_template_id=template.pk)
    other = a_template(store, rule="manual", amount="10", name="积分抵10元", per_user=100)
    goods = services.reward_create_goods(actor=ACTOR, store=store, sku_code="OK-S", points_price=100)
    return {
        "mb_member": member.pk,
        "mb_code": member.invite_code,
        "mb_unreferred": unreferred.pk,
        "mb_reward": reward.pk,
        "mb_template2": other.pk,
        "mb_goods_reward": goods.pk,
    }
