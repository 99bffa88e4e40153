"""Demo campaign, through the marketing services only: the year-end big promotion (年终大促) of
the own web shop, in its preheat since yesterday with its burst in three days. It was written
by operations, approved by the three different people PROMO-05 asks for (operations lead,
marketing, finance) and activated; it runs the store's 满减 offer and 满100减10 coupon, plans
stock for three SKUs and is counted hour by hour from the web shop's orders (PROMO-06). It was
written only this week, so PROMO-05 warns that it was planned less than 45 days ahead, and
INV-02 compares its stock plan with the uplifted demand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.utils import timezone

from storeops.core.context import Actor
from storeops.marketing import services as marketing
from storeops.promotions import selectors as promotion_selectors
from storeops.stores.models import Channel, Store

if TYPE_CHECKING:
    from storeops.catalog.models import Product

STOCK_PLAN = (("HOME-001", 120), ("YOGA-001", 80), ("HOME-002", 60))


def _user(username: str) -> Actor:
    return Actor(user=get_user_model().objects.get(username=username), via="cli")


def load_marketing_demo(
    *, store: Store, channels: Mapping[str, Channel], products: Mapping[str, Product], now: dt.datetime
) -> None:
    today = timezone.localdate(now)
    skus = _plan_skus(products)
    campaign = marketing.campaign_create(
        actor=_user("demo_operations"),
        store=store,
        theme="年终大促",
        kind="big_promotion",
        channel=channels["web"],
        starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=5),
        mechanics="全场满200减30、满300减50；满100减10优惠券；会员等级价照常。",
        target_gmv=Decimal("60000"),
        target_new_users=80,
        phases=[
            {
                "kind": "preheat",
                "starts_on": today - dt.timedelta(days=1),
                "ends_on": today + dt.timedelta(days=2),
            },
            {
                "kind": "burst",
                "starts_on": today + dt.timedelta(days=3),
                "ends_on": today + dt.timedelta(days=4),
            },
            {
                "kind": "return",
                "starts_on": today + dt.timedelta(days=5),
                "ends_on": today + dt.timedelta(days=5),
            },
        ],
        budget=[
            {"kind": "discount", "planned": "6000", "note": "满减与优惠券让利"},
            {"kind": "ads", "planned": "3000", "note": "搜索与信息流"},
            {"kind": "kol", "planned": "2000", "note": "两位家居类达人"},
        ],
        stock=[{"sku_code": code, "planned_qty": qty} for code, qty in skus],
        offer_ids=[o.pk for o in promotion_selectors.offer_list(store=store, kind="tiered_reduction")],
        coupon_template_ids=[
            t.pk for t in promotion_selectors.coupon_template_list(store=store).filter(name="满100减10")
        ],
    )
    marketing.campaign_submit(actor=_user("demo_operations"), campaign=campaign, comment="请审批年终大促方案")
    for username, comment in (
        ("demo_owner", "同意，注意爆发日客服排班"),
        ("demo_marketing", "达人排期已确认"),
        ("demo_finance", "预算在本季度额度内"),
    ):
        campaign = marketing.campaign_decide(
            actor=_user(username), campaign=campaign, approve=True, comment=comment
        )
    campaign = marketing.campaign_activate(actor=_user("demo_operations"), campaign=campaign)
    # PROMO-06: the hours since the campaign started, counted from the web shop's orders
    marketing.campaign_metrics_count(actor=Actor.system("cli"), campaign=campaign, now=now)


def _plan_skus(products: Mapping[str, Product]) -> Sequence[tuple[str, int]]:
    """The first active SKU of each planned product that is live in the demo catalogue."""
    rows = []
    for code, qty in STOCK_PLAN:
        product = products.get(code)
        if product is not None:
            product.refresh_from_db(fields=["status"])  # the listing audit moved it on since
        live = product is not None and product.status == "live"
        sku = product.skus.filter(is_active=True).order_by("code").first() if live else None
        if sku is not None:
            rows.append((sku.code, qty))
    return rows
