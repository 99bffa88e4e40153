"""An order is looked up by its number within a store, whatever its channel (the order detail
API, parcels' delivery detection, outreach conversions): an index on (store, number) serves it.
The unique (store, channel, number) index leads with the channel, so without it the database
read every order of the store for each look-up."""

from __future__ import annotations

import pytest
from django.db import connection

from storeops.orders.models import Order

pytestmark = pytest.mark.django_db


def test_ord_06_an_order_number_lookup_uses_the_store_number_index(store):
    if connection.vendor == "postgresql":  # an empty table: ask which index, not whether to scan
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
    plan = Order.objects.filter(store=store, number="261206134728669112").explain()
    assert "order_store_number" in plan, plan
