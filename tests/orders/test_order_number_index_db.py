"""An order is looked up by its number within a store, whatever its channel (the order detail
API, parcels' delivery detection, outreach conversions): an index on (store, number) serves it.
The unique (store, channel, number) index leads with the channel, so without it the database
read every order of the store for each look-up."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from storeops.orders.models import Order

pytestmark = pytest.mark.django_db


def test_ord_06_an_order_number_lookup_uses_the_store_number_index(store, channel):
    # a few hundred orders and fresh statistics: on an empty table every index costs the same
    # to the planner, and which one it picks is a coin toss (it picked created_at in one CI run)
    Order.objects.bulk_create(
        Order(
            store=store,
            channel=channel,
            number=f"2612061347{n:08d}",
            customer_ref=f"c{n % 50}",
            receiver="张三",
            phone="13800000000",
            province="浙江省",
            address="文三路1号",
            list_total=Decimal("10.00"),
            payable=Decimal("10.00"),
        )
        for n in range(500)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order" if connection.vendor == "postgresql" else "ANALYZE")
    plan = Order.objects.filter(store=store, number="261206134700000123").explain()
    assert "order_store_number" in plan, plan
