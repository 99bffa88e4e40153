"""Builders for member tests: members joined through the service, orders placed and paid
through the orders services (tests/orders/builders.World), refunds through order_refund."""

from __future__ import annotations

import datetime as dt

from storeops.core.context import Actor
from storeops.members import services
from storeops.orders import services as order_services
from storeops.orders.rules import PAID_NOT_SHIPPED
from storeops.promotions import services as promo
from tests.orders.builders import World, ship

ACTOR = Actor.system("cli")
# a plain day (not the 18th) and the member day of the same month, both in local time (UTC+8)
PLAIN_DAY = dt.datetime(2026, 6, 10, 2, 0, tzinfo=dt.UTC)
MEMBER_DAY = dt.datetime(2026, 6, 18, 2, 0, tzinfo=dt.UTC)
JOINED = dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.UTC)


def a_member(store, ref: str = "c1", *, invite_code: str = "", joined=JOINED, **profile):
    return services.member_join(
        actor=ACTOR, store=store, customer_ref=ref, invite_code=invite_code, now=joined, **profile
    )


def paid_order(world: World, customer: str, *, qty: int = 1, at=PLAIN_DAY):
    """An order of ``qty`` × 100.00 placed and paid at ``at``."""
    order = world.place(qty, customer=customer, now=at)
    world.pay(order, now=at)
    order.refresh_from_db()
    return order


def refund(order, units: int, *, reason: str = "质量问题"):
    """Refund ``units`` of the order's line as a return: the order is shipped first if it was
    not (a refund of all of an unshipped order is a cancellation, refused here)."""
    order.refresh_from_db()
    if order.status in PAID_NOT_SHIPPED:
        ship(order)
    line = order.lines.get()
    order_services.order_refund(actor=ACTOR, order=order, units={line.pk: units}, reason=reason)
    order.refresh_from_db()
    return order


def a_template(store, *, rule: str, amount: str = "10", tier: str = "", name: str = "", per_user: int = 1):
    return promo.coupon_template_create(
        actor=ACTOR,
        store=store,
        name=name or f"{rule} {amount}",
        kind="no_threshold",
        amount=amount,
        issue_rule=rule,
        tier=tier,
        per_user_limit=per_user,
    )


def points_order(world: World, customer: str = "c1", *, quantity: int = 1, at=PLAIN_DAY, points: int = 300):
    """A MEM-02 goods redemption: ``customer`` (joined, given points) takes ``quantity`` × P1-S
    (list price 100.00) for ``points`` each; returns the paid zero-payable order it placed."""
    from storeops.members.models import Member, PointsReward
    from storeops.orders.models import Order
    from tests.orders.builders import ADDRESS

    member = Member.objects.filter(store=world.store, customer_ref=customer).first() or a_member(
        world.store, customer
    )
    services.points_adjust(
        actor=ACTOR, member=member, points=points * quantity, reason="开卡礼", unlimited=True
    )
    reward = PointsReward.objects.filter(store=world.store, sku=world.sku_s, is_active=True).first()
    if reward is None:
        reward = services.reward_create_goods(
            actor=ACTOR, store=world.store, sku_id=world.sku_s.pk, points_price=points
        )
    done = services.points_redeem_goods(
        actor=ACTOR,
        member=member,
        reward_id=reward.pk,
        quantity=quantity,
        address=ADDRESS,
        channel=world.channel,
        now=at,
    )
    return Order.objects.get(number=done.order_number)
