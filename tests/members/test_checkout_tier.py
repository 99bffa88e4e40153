"""SOP MEM-01/MEM-02: a member's tier (kept by StoreOps from their growth value) prices the
storefront checkout, whatever tier the caller sends; a non-member keeps the caller's tier."""

from __future__ import annotations

import pytest

from storeops.accounts.roles import Role
from storeops.core.context import Actor
from storeops.members import services as members
from tests.orders.builders import World

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("cli")


def _quote(api, world, ref, tier=None):
    customer = {"ref": ref} if tier is None else {"ref": ref, "tier": tier}
    body = {"channel_id": world.channel.pk, "customer": customer, "lines": [{"sku": "P1-S", "quantity": 1}]}
    response = api.post(f"/orders/shop/{world.store.pk}/quote", body)
    assert response.status_code == 200, response.content
    return response.json()["quote"]["payable"]


def test_mem_02_a_members_own_tier_prices_the_checkout(store, channel, api_as):
    world = World(store, channel, stock_sh=5)
    shop = api_as(Role.OPERATIONS)
    assert _quote(shop, world, "guest") == "100.00"
    assert _quote(shop, world, "guest", tier="diamond") == "88.00"  # not a member: the caller's tier
    members.member_join(actor=ACTOR, store=store, customer_ref="m1")  # joins as silver (9.5折)
    assert _quote(shop, world, "m1") == "95.00"
    assert _quote(shop, world, "m1", tier="diamond") == "95.00"  # a member cannot claim a higher tier
