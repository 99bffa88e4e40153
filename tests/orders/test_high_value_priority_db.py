"""SOP MEM-04, the high-value segment's playbook — priority shipping: an order records its
buyer's lifecycle segment when placed (the member row's ``segment``, which the daily snapshot
writes; read with the tier, no extra statement), and a high-value customer's order ships within
``segment_high_value_ship_hours`` when that is sooner than the channel's promise — at payment
(no query on the members table), or from a group-buy's formation. ORD-03, the API and the
console's badge follow it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.members import selectors as member_selectors
from storeops.members import services as members
from storeops.members.models import Member
from storeops.orders import services as svc
from storeops.orders.groups import GroupRequest
from storeops.orders.models import Order
from storeops.promotions import services as prs
from storeops.promotions.services import CartItem, Shopper
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.orders.builders import ACTOR, ADDRESS, T0, World

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _place(world, customer="c1", *, segment="", tier=None, now=T0, group=None):
    order, _ = svc.order_place(
        actor=ACTOR,
        store=world.store,
        channel=world.channel,
        customer=Shopper(customer_ref=customer, tier=tier),
        lines=[CartItem("P1-S", 1)],
        address=ADDRESS,
        group=group,
        now=now,
        customer_segment=segment,
    )
    return order


def _paid(world, customer="c1", *, segment="", tier=None, at=T0):
    order = _place(world, customer, segment=segment, tier=tier, now=at)
    world.pay(order, now=at)
    order.refresh_from_db()
    return order


def _member(store, ref, *, segment="", tier="silver"):
    members.member_join(actor=ACTOR, store=store, customer_ref=ref)
    Member.objects.filter(store=store, customer_ref=ref).update(segment=segment, tier=tier)


# --- the deadline at payment ---------------------------------------------------------------------


def test_mem_04_a_high_value_customers_order_ships_within_segment_high_value_ship_hours(world):
    # the channel promises 48 h (default), high-value customers 24 h (default)
    high = _paid(world, "big", segment="high_value")
    active = _paid(world, "act", segment="active")
    guest = _paid(world, "guest")
    assert (high.customer_segment, active.customer_segment, guest.customer_segment) == (
        "high_value",
        "active",
        "",
    )
    assert high.ship_by == T0 + 24 * HOUR
    assert active.ship_by == T0 + 48 * HOUR
    assert guest.ship_by == T0 + 48 * HOUR


def test_mem_04_high_value_ship_hours_is_a_playbook_setting_and_never_lengthens(world, system):
    st.playbook_update(actor=system, store=world.store, values={"segment_high_value_ship_hours": 12})
    assert _paid(world, "big", segment="high_value").ship_by == T0 + 12 * HOUR
    # a diamond member who is also high-value: the sooner of the two (diamond 24 h, high-value 12 h)
    assert _paid(world, "vip", segment="high_value", tier="diamond").ship_by == T0 + 12 * HOUR
    # the channel's promise stays when it is sooner
    st.playbook_update(
        actor=system, store=world.store, channel=world.channel, values={"ship_promise_hours": 6}
    )
    assert _paid(world, "big2", segment="high_value").ship_by == T0 + 6 * HOUR


def test_mem_04_an_unknown_segment_is_not_recorded_and_gets_no_priority(world):
    order = _paid(world, "odd", segment="whale")
    assert (order.customer_segment, order.ship_by) == ("", T0 + 48 * HOUR)


def test_mem_04_paying_reads_the_segment_recorded_on_the_order_not_the_members_table(world):
    _member(world.store, "big", segment="high_value")
    order = _place(world, "big", segment="high_value")
    Member.objects.filter(customer_ref="big").update(segment="sleeping")
    with CaptureQueriesContext(connection) as queries:
        world.pay(order, now=T0)
    assert not [q["sql"] for q in queries.captured_queries if "members_member" in q["sql"]]
    order.refresh_from_db()
    assert (order.customer_segment, order.ship_by) == ("high_value", T0 + 24 * HOUR)


def test_mem_04_member_standing_reads_tier_and_segment_in_one_query(world, django_assert_num_queries):
    _member(world.store, "big", segment="high_value", tier="gold")
    with django_assert_num_queries(1):
        assert member_selectors.member_standing(world.store, "big") == ("gold", "high_value")
    with django_assert_num_queries(1):
        assert member_selectors.member_standing(world.store, "nobody") is None


# --- the storefront ------------------------------------------------------------------------------

_BODY_ADDRESS = {
    "receiver": "张三",
    "phone": "13812345678",
    "province": "浙江省",
    "city": "杭州市",
    "address": "文三路100号",
}


def _shop_place(api, world, ref, key):
    body = {
        "channel_id": world.channel.pk,
        "customer": {"ref": ref},
        "lines": [{"sku": "P1-S", "quantity": 1}],
        "address": _BODY_ADDRESS,
    }
    with CaptureQueriesContext(connection) as queries:
        response = api.client.post(
            f"/api/v1/orders/shop/{world.store.pk}/orders",
            json.dumps(body),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=key,
        )
    assert response.status_code == 201, response.content
    return response.json()["order"], queries.captured_queries


def test_mem_04_the_storefront_records_the_members_segment_in_the_same_statements(world, api_as):
    # a high-value member, a plain member and a customer who is not a member
    _member(world.store, "big", segment="high_value")
    _member(world.store, "plain", segment="active")
    shop = api_as(Role.OPERATIONS)
    _shop_place(shop, world, "warm-up", "k0")  # the day's first order creates rows the others update
    big, big_sql = _shop_place(shop, world, "big", "k1")
    plain, plain_sql = _shop_place(shop, world, "plain", "k2")
    _guest, guest_sql = _shop_place(shop, world, "guest", "k3")
    assert (big["customer_segment"], plain["customer_segment"], _guest["customer_segment"]) == (
        "high_value",
        "active",
        "",
    )
    # the member row is read once, with the tier: no statement more than for anyone else
    assert sum('FROM "members_member"' in q["sql"] for q in big_sql) == 1
    assert len(big_sql) == len(plain_sql) == len(guest_sql)
    order = Order.objects.get(number=big["number"])
    world.pay(order, now=order.created_at)
    assert order.ship_by == order.paid_at + 24 * HOUR
    other = Order.objects.get(number=plain["number"])
    world.pay(other, now=other.created_at)
    assert other.ship_by == other.paid_at + 48 * HOUR


# --- group buying ----------------------------------------------------------------------------------


def test_mem_04_a_high_value_order_in_a_formed_group_gets_the_shorter_deadline_from_formation(world):
    offer = prs.offer_create(
        actor=ACTOR,
        store=world.store,
        kind="group_buy",
        params={"price": "70.00", "group_size": 2, "time_limit_hours": 24},
        product_ids=[world.sku_s.product_id],
    )
    offer = prs.offer_set_status(actor=ACTOR, offer=offer, status="active")
    leader = _place(world, "big", segment="high_value", group=GroupRequest(offer_id=offer.pk))
    world.pay(leader, now=T0 + HOUR)
    assert leader.ship_by is None  # waits for the group
    friend = _place(world, "friend", group=GroupRequest(code=leader.group.code), now=T0 + 2 * HOUR)
    world.pay(friend, now=T0 + 3 * HOUR)  # the group forms
    leader.refresh_from_db()
    friend.refresh_from_db()
    assert (leader.ship_by, friend.ship_by) == (T0 + 3 * HOUR + 24 * HOUR, T0 + 3 * HOUR + 48 * HOUR)


# --- ORD-03 --------------------------------------------------------------------------------------


def test_mem_04_ord_03_warns_about_a_high_value_order_and_says_it_is_a_priority_order(world):
    high = _paid(world, "big", segment="high_value")  # ship by T0 + 24 h (warning 6 h before)
    _paid(world, "plain", segment="active")  # ship by T0 + 48 h
    checks_run(rule="ORD-03", store=world.store, now=T0 + 19 * HOUR, notify=False)
    [warning] = Finding.objects.filter(rule_id="ORD-03", status="open")
    assert warning.subject_id == high.number
    assert warning.detail["priority"] == "high_value"
    assert "高价值客户优先发货" in warning.title


# --- console -------------------------------------------------------------------------------------


def test_mem_04_console_orders_badge_a_high_value_customers_order(world, make_user):
    now = timezone.now()
    high = _paid(world, "big", segment="high_value", at=now - HOUR)
    plain = _paid(world, "plain", segment="active", at=now)
    client = Client()
    client.force_login(make_user(Role.WAREHOUSE))
    html = client.get("/orders/").content.decode()
    assert html.count(">高价值优先</span>") == 1
    detail = client.get(f"/orders/{high.pk}/").content.decode()
    assert 'id="order-high-value"' in detail
    assert "下单时客户分层 高价值客户" in detail
    assert 'id="order-high-value"' not in client.get(f"/orders/{plain.pk}/").content.decode()
    Order.objects.filter(pk=high.pk).update(ship_by=now + HOUR)
    assert ">高价值优先</span>" in client.get("/orders/ship-risk/").content.decode()
