"""Builders for order tests: a store with two warehouses holding stock, a priced product,
an address, helpers to place and pay orders through the services, and a presale offer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from storeops.core.context import Actor
from storeops.inventory import services as inv
from storeops.orders import services as svc
from storeops.orders.payments import TestGateway
from storeops.promotions import services as prs
from storeops.promotions.models import Offer
from storeops.promotions.services import CartItem, Shopper
from tests.catalog.db_builders import a_dress_category, a_product

ACTOR = Actor.system("cli")
T0 = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)

ADDRESS = svc.AddressIn(
    receiver="张三",
    phone="13812345678",
    province="浙江省",
    city="杭州市",
    district="西湖区",
    address="文三路100号",
)


class World:
    """Two SKUs at 100.00 (P1-S, P1-M) in a Shanghai and a Guangzhou warehouse."""

    def __init__(self, store, channel, *, stock_sh: int = 10, stock_gz: int = 10, price: str = "100.00"):
        self.store, self.channel = store, channel
        product = a_product(store, a_dress_category(store, required_qualifications=[]), "P1", price=price)
        self.sku_s = product.skus.get(code="P1-S")
        self.sku_m = product.skus.get(code="P1-M")
        self.sh = inv.warehouse_create(
            actor=ACTOR,
            store=store,
            code="sh",
            name="上海仓",
            region="上海",
            latitude=Decimal("31.23"),
            longitude=Decimal("121.47"),
        )
        self.gz = inv.warehouse_create(
            actor=ACTOR,
            store=store,
            code="gz",
            name="广州仓",
            region="广东",
            latitude=Decimal("23.13"),
            longitude=Decimal("113.26"),
        )
        for wh, units in ((self.sh, stock_sh), (self.gz, stock_gz)):
            for sku in (self.sku_s, self.sku_m):
                if units:
                    inv.stock_receive(actor=ACTOR, sku=sku, warehouse=wh, quantity=units, reason="采购入库")

    def place(
        self,
        qty_s: int = 1,
        qty_m: int = 0,
        *,
        customer: str = "c1",
        key: str | None = None,
        address=ADDRESS,
        coupons=(),
        now=T0,
    ):
        lines = [CartItem("P1-S", qty_s)] if qty_s else []
        if qty_m:
            lines.append(CartItem("P1-M", qty_m))
        order, _ = svc.order_place(
            actor=ACTOR,
            store=self.store,
            channel=self.channel,
            customer=Shopper(customer_ref=customer),
            lines=lines,
            address=address,
            coupon_codes=list(coupons),
            idempotency_key=key,
            now=now,
        )
        return order

    def pay(self, order, *, now=None, outcome: str = "succeeded", event_id: str | None = None):
        """Pay through the test gateway's signed callback (also as ``World.pay(None, order)``)."""
        now = now or (order.created_at if order.created_at else T0)
        payment = svc.payment_start(actor=ACTOR, order=order, now=now)
        body, headers = TestGateway().callback(
            reference=payment.reference, amount=payment.amount, outcome=outcome, event_id=event_id
        )
        result = svc.payment_callback(provider="test", body=body, headers=headers, now=now)
        order.refresh_from_db()
        return payment, body, headers, result

    def ship(self, order, *, now=None):
        return ship(order, now=now)


def ship(order, *, now=None):
    """Review, allocate and ship a paid ``order`` with carrier SF (one parcel); returns it.
    A refund of all of an order is taken after the goods left: before, it is a cancellation."""
    from storeops.orders.models import Order
    from tests.fulfilment.builders import a_carrier

    a_carrier("SF")
    order = Order.objects.get(pk=order.pk)
    now = now or order.paid_at or T0
    order = svc.order_auto_review(actor=ACTOR, order=order, now=now)
    if order.status != "reviewed":
        order = svc.order_approve(actor=ACTOR, order=order, note="测试放行", now=now)
    order = svc.order_allocate(actor=ACTOR, order=order, now=now)
    shipped = svc.order_ship(
        actor=ACTOR, order=order, carrier_code="SF", tracking_numbers=f"SF{order.pk:06d}", now=now
    )
    return next(o for o in shipped if o.pk == order.pk)


def a_presale(
    world: World,
    *,
    skus=None,
    product_ids: list[int] | None = None,
    deposit: str = "20.00",
    multiplier: str = "3",
    max_deduction: str | None = None,
    deposit_window: tuple[dt.datetime, dt.datetime | None] = (T0 - HOUR, T0 + 24 * HOUR),
    balance_window: tuple[dt.datetime, dt.datetime] = (T0 + 48 * HOUR, T0 + 72 * HOUR),
) -> Offer:
    """An active presale (定金膨胀, PROMO-01) of the world's P1-S (or ``skus``, or the products
    ``product_ids``): by default a deposit of 20.00 that counts 3 times (a unit of 100.00 costs
    60.00: 20.00 now, 40.00 later), taken while ``deposit_window`` runs (the offer's time; no
    end with ``None``), the balance paid in ``balance_window``."""
    params = {
        "deposit": deposit,
        "multiplier": multiplier,
        "balance_starts": balance_window[0].isoformat(),
        "balance_ends": balance_window[1].isoformat(),
    }
    if max_deduction is not None:
        params["max_deduction"] = max_deduction
    scope = (
        {"product_ids": product_ids}
        if product_ids is not None
        else {"sku_ids": [sku.pk for sku in (skus or [world.sku_s])]}
    )
    offer = prs.offer_create(
        actor=ACTOR,
        store=world.store,
        kind="presale",
        params=params,
        starts_at=deposit_window[0],
        ends_at=deposit_window[1],
        **scope,
    )
    return prs.offer_set_status(actor=ACTOR, offer=offer, status="active")
