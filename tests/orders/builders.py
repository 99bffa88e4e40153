"""Builders for order tests: a store with two warehouses holding stock, a priced product,
an address, and helpers to place and pay orders through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from storeops.core.context import Actor
from storeops.inventory import services as inv
from storeops.orders import services as svc
from storeops.orders.payments import TestGateway
from storeops.promotions.services import CartItem, Shopper
from tests.catalog.db_builders import a_dress_category, a_product

ACTOR = Actor.system("cli")
T0 = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)

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
