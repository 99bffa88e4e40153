"""A small shop for recommendation tests: coffee machines and beans, yoga mats and wear, make-up
and make-up remover, all live on the channel with stock; paid orders through the services."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from storeops.core.context import Actor
from storeops.inventory import services as inv
from storeops.orders import services as svc
from storeops.orders.payments import TestGateway
from storeops.promotions.services import CartItem, Shopper
from tests.catalog.db_builders import a_dress_category, a_live_product
from tests.orders.builders import ADDRESS

ACTOR = Actor.system("cli")

# product code: (category code, category name, core word, price)
CATALOGUE = {
    "M1": ("coffee-machine", "咖啡机", "咖啡机", "899.00"),
    "M2": ("coffee-machine", "咖啡机", "咖啡机", "699.00"),
    "B1": ("coffee-beans", "咖啡豆", "咖啡豆", "89.00"),
    "Y1": ("yoga-mat", "瑜伽垫", "瑜伽垫", "199.00"),
    "W1": ("yoga-wear", "瑜伽服", "瑜伽服", "159.00"),
    "L1": ("lipstick", "口红", "口红", "120.00"),
    "R1": ("remover", "卸妆水", "卸妆水", "45.00"),
}


class Shop:
    def __init__(self, store, channel, *, stock: int = 50):
        self.store, self.channel = store, channel
        categories = {}
        self.products = {}
        for code, (cat_code, cat_name, core, price) in CATALOGUE.items():
            if cat_code not in categories:
                categories[cat_code] = a_dress_category(
                    store,
                    code=cat_code,
                    name=cat_name,
                    required_qualifications=[],
                    attribute_words=["温和"],
                    scene_words=["日常"],
                )
            cost = str(round(float(price) * 0.3, 2))
            self.products[code] = a_live_product(
                store,
                categories[cat_code],
                channel,
                code,
                core_word=core,
                title=f"2025新款{core}温和日常家用正品旗舰店官方授权品质保证包邮送礼佳品",
                skus=[
                    {"code": f"{code}-S", "price": price, "cost": cost, "attributes": {"尺码": "S"}},
                    {"code": f"{code}-M", "price": price, "cost": cost, "attributes": {"尺码": "M"}},
                ],
            )
        self.warehouse = inv.warehouse_create(
            actor=ACTOR, store=store, code="sh", name="上海仓", region="上海"
        )
        for product in self.products.values():
            for sku in product.skus.all():
                inv.stock_receive(
                    actor=ACTOR, sku=sku, warehouse=self.warehouse, quantity=stock, reason="采购入库"
                )

    def pk(self, code: str) -> int:
        return self.products[code].pk

    def paid(self, customer: str, *codes: str, at: dt.datetime | None = None):
        """One paid order of one unit of each product's S size."""
        at = at or timezone.now() - dt.timedelta(days=1)
        order, _ = svc.order_place(
            actor=ACTOR,
            store=self.store,
            channel=self.channel,
            customer=Shopper(customer_ref=customer),
            lines=[CartItem(f"{code}-S", 1) for code in codes],
            address=ADDRESS,
            now=at,
        )
        payment = svc.payment_start(actor=ACTOR, order=order, now=at)
        body, headers = TestGateway().callback(
            reference=payment.reference, amount=payment.amount, outcome="succeeded"
        )
        svc.payment_callback(provider="test", body=body, headers=headers, now=at)
        order.refresh_from_db()
        return order

    def history(self) -> None:
        """Coffee machine M1 with beans in three orders, M2 with beans in one; yoga mat with
        wear twice; lipstick with remover twice; M1 and M2 bought by the same two customers."""
        self.paid("c1", "M1", "B1")
        self.paid("c2", "M1", "B1")
        self.paid("c3", "M1", "B1")
        self.paid("c4", "M2", "B1")
        self.paid("c5", "Y1", "W1")
        self.paid("c6", "Y1", "W1")
        self.paid("c7", "L1", "R1")
        self.paid("c8", "L1", "R1")
        self.paid("c1", "M2")
        self.paid("c2", "M2")
