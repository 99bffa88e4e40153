"""Builders for after-sales tests: delivered orders (through the orders services), with an
optional store-wide discount so unit prices are not round."""

from __future__ import annotations

import datetime as dt

from storeops.orders import services as order_services
from storeops.orders.models import Order
from tests.fulfilment.builders import a_carrier
from tests.orders.builders import ACTOR, T0, World

DELIVERED = T0 + dt.timedelta(days=1)
ASKED = T0 + dt.timedelta(days=2)


def a_discount(store, amount: str = "10", threshold: str = "100"):
    """满 threshold 减 amount, store-wide: 3 units at 100.00 pay 290.00 (96.67 + 96.67 + 96.66)."""
    from storeops.promotions import services as prs

    offer = prs.offer_create(
        actor=ACTOR,
        store=store,
        kind="tiered_reduction",
        params={"tiers": [{"threshold": threshold, "amount": amount}]},
    )
    prs.offer_set_status(actor=ACTOR, offer=offer, status="active")
    return offer


def shipped_order(world: World, qty_s: int = 3, qty_m: int = 0, *, customer: str = "c1", big_promo=False):
    a_carrier("SF")
    order = world.place(qty_s, qty_m, customer=customer)
    if big_promo:
        Order.objects.filter(pk=order.pk).update(is_big_promo=True)
        order.refresh_from_db()
    world.pay(order)
    order_services.order_auto_review(actor=ACTOR, order=order, now=T0)
    order.refresh_from_db()
    order = order_services.order_allocate(actor=ACTOR, order=order, now=T0)
    [order] = order_services.order_ship(
        actor=ACTOR, order=order, carrier_code="SF", tracking_numbers=f"SF{order.pk:06d}", now=T0
    )
    return order


def delivered_order(world: World, qty_s: int = 3, qty_m: int = 0, *, customer: str = "c1", big_promo=False):
    order = shipped_order(world, qty_s, qty_m, customer=customer, big_promo=big_promo)
    return order_services.order_deliver(actor=ACTOR, order=order, at=DELIVERED)
