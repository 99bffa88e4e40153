"""SOP MEM-01 priority shipping ("diamond within 24 h"): an order records its buyer's member
tier when placed (storefront: the checkout's tier; marketplace imports: StoreOps' members), and
a diamond order's ship-by deadline is the playbook's ``diamond_ship_hours`` when that is sooner
than the channel's promise — at payment, or from a group-buy's formation. ORD-03, the order
list (filter, sort, badge) and the CSV follow it."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.members import selectors as member_selectors
from storeops.members import services as members
from storeops.members.models import Member
from storeops.orders import imports
from storeops.orders import services as svc
from storeops.orders.groups import GroupRequest
from storeops.orders.models import Order
from storeops.promotions import services as prs
from storeops.promotions.services import CartItem, Shopper
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.orders import import_files as f
from tests.orders.builders import ACTOR, ADDRESS, T0, World

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _place(world, customer="c1", *, tier=None, now=T0, group=None):
    order, _ = svc.order_place(
        actor=ACTOR,
        store=world.store,
        channel=world.channel,
        customer=Shopper(customer_ref=customer, tier=tier),
        lines=[CartItem("P1-S", 1)],
        address=ADDRESS,
        group=group,
        now=now,
    )
    return order


def _paid(world, customer="c1", *, tier=None, at=T0):
    order = _place(world, customer, tier=tier, now=at)
    world.pay(order, now=at)
    order.refresh_from_db()
    return order


def _member(store, ref, tier):
    members.member_join(actor=ACTOR, store=store, customer_ref=ref)
    Member.objects.filter(store=store, customer_ref=ref).update(tier=tier)


def _promise(world, system, hours):
    st.playbook_update(
        actor=system, store=world.store, channel=world.channel, values={"ship_promise_hours": hours}
    )


# --- the deadline at payment ---------------------------------------------------------------------


def test_mem_01_a_diamond_members_order_ships_within_diamond_ship_hours_when_sooner(world):
    # the channel promises 48 h (default), diamond members 24 h
    diamond = _paid(world, "vip", tier="diamond")
    silver = _paid(world, "plain", tier="silver")
    guest = _paid(world, "guest")
    assert (diamond.member_tier, silver.member_tier, guest.member_tier) == ("diamond", "silver", "")
    assert diamond.ship_by == T0 + 24 * HOUR
    assert silver.ship_by == T0 + 48 * HOUR
    assert guest.ship_by == T0 + 48 * HOUR


def test_mem_01_the_channels_promise_stays_when_it_is_sooner_than_the_diamond_one(world, system):
    _promise(world, system, 12)
    assert _paid(world, "vip", tier="diamond").ship_by == T0 + 12 * HOUR
    assert _paid(world, "plain", tier="silver").ship_by == T0 + 12 * HOUR


def test_mem_01_diamond_ship_hours_is_a_playbook_setting(world, system):
    st.playbook_update(actor=system, store=world.store, values={"diamond_ship_hours": 36})
    assert _paid(world, "vip", tier="diamond").ship_by == T0 + 36 * HOUR
    st.playbook_update(
        actor=system, store=world.store, channel=world.channel, values={"diamond_ship_hours": 6}
    )
    assert _paid(world, "vip2", tier="diamond").ship_by == T0 + 6 * HOUR
    assert _paid(world, "plain", tier="gold").ship_by == T0 + 48 * HOUR


def test_mem_01_an_unknown_tier_is_not_recorded_and_gets_no_priority(world):
    order = _paid(world, "odd", tier="platinum")
    assert (order.member_tier, order.ship_by) == ("", T0 + 48 * HOUR)


def test_mem_01_paying_reads_the_tier_recorded_on_the_order_not_the_members_table(world):
    # the tier is a snapshot: a member row changed after the order was placed does not move it,
    # and the payment (issue 6's measured path) runs no query on the members table
    _member(world.store, "vip", "diamond")
    order = _place(world, "vip", tier="diamond")
    Member.objects.filter(customer_ref="vip").update(tier="silver")
    with CaptureQueriesContext(connection) as queries:
        world.pay(order, now=T0)
    assert not [q["sql"] for q in queries.captured_queries if "members_member" in q["sql"]]
    order.refresh_from_db()
    assert (order.member_tier, order.ship_by) == ("diamond", T0 + 24 * HOUR)


def test_mem_01_the_storefront_api_records_a_members_own_tier(world, api_as):
    _member(world.store, "vip", "diamond")
    shop = api_as(Role.OPERATIONS)
    body = {
        "channel_id": world.channel.pk,
        "customer": {"ref": "vip"},
        "lines": [{"sku": "P1-S", "quantity": 1}],
        "address": {
            "receiver": "张三",
            "phone": "13812345678",
            "province": "浙江省",
            "city": "杭州市",
            "address": "文三路100号",
        },
    }
    response = shop.post(f"/orders/shop/{world.store.pk}/orders", body)
    assert response.status_code == 201, response.content
    assert response.json()["order"]["member_tier"] == "diamond"
    order = Order.objects.get(number=response.json()["order"]["number"])
    world.pay(order, now=order.created_at)
    assert order.ship_by == order.paid_at + 24 * HOUR


# --- group buying ----------------------------------------------------------------------------------


def test_mem_01_a_diamond_order_in_a_formed_group_gets_the_shorter_deadline_from_formation(world):
    offer = prs.offer_create(
        actor=ACTOR,
        store=world.store,
        kind="group_buy",
        params={"price": "70.00", "group_size": 2, "time_limit_hours": 24},
        product_ids=[world.sku_s.product_id],
    )
    offer = prs.offer_set_status(actor=ACTOR, offer=offer, status="active")
    leader = _place(world, "vip", tier="diamond", group=GroupRequest(offer_id=offer.pk))
    world.pay(leader, now=T0 + HOUR)
    assert leader.ship_by is None  # waits for the group
    friend = _place(
        world, "friend", tier="gold", group=GroupRequest(code=leader.group.code), now=T0 + 2 * HOUR
    )
    world.pay(friend, now=T0 + 3 * HOUR)  # the group forms
    leader.refresh_from_db()
    assert leader.ship_by == T0 + 3 * HOUR + 24 * HOUR
    assert friend.ship_by == T0 + 3 * HOUR + 48 * HOUR
    # the diamond member paying last forms the group too: same rule
    again = _place(world, "friend2", group=GroupRequest(offer_id=offer.pk), now=T0 + 4 * HOUR)
    world.pay(again, now=T0 + 4 * HOUR)
    vip2 = _place(world, "vip2", tier="diamond", group=GroupRequest(code=again.group.code), now=T0 + 5 * HOUR)
    world.pay(vip2, now=T0 + 5 * HOUR)
    again.refresh_from_db()
    assert (vip2.ship_by, again.ship_by) == (T0 + 5 * HOUR + 24 * HOUR, T0 + 5 * HOUR + 48 * HOUR)


# --- marketplace imports ---------------------------------------------------------------------------


def test_mem_01_an_imported_order_records_the_buyers_tier_in_storeops_members(world):
    # buyer_a is a diamond member, buyer_b a gold one (f.tmall_rows: T1001 buyer_a, T1002 buyer_b)
    _member(world.store, "buyer_a", "diamond")
    _member(world.store, "buyer_b", "gold")
    report = imports.orders_import(
        actor=ACTOR,
        store=world.store,
        channel=world.channel,
        source=io.BytesIO(f.csv_bytes(f.TMALL_HEADER, f.tmall_rows())),
        filename="tmall.csv",
    )
    assert report.orders_created == 2, report.errors
    diamond = Order.objects.get(number="T1001")
    gold = Order.objects.get(number="T1002")
    assert (diamond.member_tier, gold.member_tier) == ("diamond", "gold")
    assert diamond.ship_by == diamond.paid_at + 24 * HOUR
    assert gold.ship_by == gold.paid_at + 48 * HOUR


def test_mem_01_member_tiers_reads_a_files_buyers_in_one_query(world, django_assert_num_queries):
    _member(world.store, "a", "diamond")
    _member(world.store, "b", "silver")
    with django_assert_num_queries(1):
        tiers = member_selectors.member_tiers(world.store, ["a", "b", "nobody", "a", ""])
    assert tiers == {"a": "diamond", "b": "silver"}


def test_mem_01_an_import_reads_the_members_once_per_file(world, monkeypatch):
    calls = []
    real = member_selectors.member_tiers

    def counting(store, refs):
        refs = list(refs)
        calls.append(refs)
        return real(store, refs)

    monkeypatch.setattr(member_selectors, "member_tiers", counting)
    monkeypatch.setattr(imports, "IMPORT_BATCH_ORDERS", 1)  # two batches
    imports.orders_import(
        actor=ACTOR,
        store=world.store,
        channel=world.channel,
        source=io.BytesIO(f.csv_bytes(f.TMALL_HEADER, f.tmall_rows())),
        filename="tmall.csv",
    )
    assert calls == [["buyer_a", "buyer_b"]]


# --- ORD-03 --------------------------------------------------------------------------------------


def _open_ord_03():
    return list(Finding.objects.filter(rule_id="ORD-03", status="open").order_by("pk"))


def test_mem_01_ord_03_warns_about_a_diamond_order_earlier_and_says_it_is_a_priority_order(world):
    diamond = _paid(world, "vip", tier="diamond")  # ship by T0 + 24 h (warning 6 h before)
    normal = _paid(world, "plain", tier="silver")  # ship by T0 + 48 h
    checks_run(rule="ORD-03", store=world.store, now=T0 + 17 * HOUR, notify=False)
    assert _open_ord_03() == []
    checks_run(rule="ORD-03", store=world.store, now=T0 + 19 * HOUR, notify=False)
    [warning] = _open_ord_03()
    assert warning.subject_id == diamond.number
    assert warning.severity == "warning"
    assert warning.detail["priority"] == "diamond"
    assert "钻石会员优先发货" in warning.title
    checks_run(rule="ORD-03", store=world.store, now=T0 + 43 * HOUR, notify=False)
    critical, later = _open_ord_03()
    assert (critical.subject_id, critical.severity) == (diamond.number, "critical")
    assert "钻石会员优先发货" in critical.title
    assert (later.subject_id, later.severity) == (normal.number, "warning")
    assert "priority" not in later.detail
    assert "钻石" not in later.title


# --- list, API, console --------------------------------------------------------------------------


def _three(world):
    """A silver order paid first (deadline T0+48 h), a diamond one (T0+1 h+24 h), an unpaid one."""
    silver = _paid(world, "plain", tier="silver", at=T0)
    diamond = _paid(world, "vip", tier="diamond", at=T0 + HOUR)
    unpaid = _place(world, "later", now=T0 + 2 * HOUR)
    return silver, diamond, unpaid


def test_mem_01_api_order_list_filters_by_member_tier_and_sorts_by_ship_by(world, api_as):
    silver, diamond, unpaid = _three(world)
    api = api_as(Role.WAREHOUSE)
    path = f"/orders/{world.store.pk}/orders"
    newest = api.get(path)
    assert newest.status_code == 200, newest.content
    assert [o["number"] for o in newest.json()["items"]] == [unpaid.number, diamond.number, silver.number]
    by_deadline = api.get(path, sort="ship_by")
    assert [o["number"] for o in by_deadline.json()["items"]] == [
        diamond.number,
        silver.number,
        unpaid.number,
    ]
    only_diamond = api.get(path, member_tier="diamond")
    assert [(o["number"], o["member_tier"]) for o in only_diamond.json()["items"]] == [
        (diamond.number, "diamond")
    ]


@pytest.mark.parametrize(("param", "value"), [("member_tier", "platinum"), ("sort", "-ship_by")])
def test_mem_01_api_order_list_refuses_an_unknown_tier_or_sort_with_a_422(world, api_as, param, value):
    response = api_as(Role.WAREHOUSE).get(f"/orders/{world.store.pk}/orders", **{param: value})
    assert response.status_code == 422
    assert list(response.json()["fields"]) == [param]


def _client(make_user, role):
    client = Client()
    client.force_login(make_user(role))
    return client


def test_mem_01_console_list_badges_diamond_orders_filters_and_sorts_them(world, make_user):
    # the diamond order was placed first but must ship first (24 h against the channel's 48 h)
    now = timezone.now()
    diamond = _paid(world, "vip", tier="diamond", at=now - HOUR)
    silver = _paid(world, "plain", tier="silver", at=now)
    client = _client(make_user, Role.WAREHOUSE)
    page = client.get("/orders/")
    html = page.content.decode()
    assert html.count("钻石优先") == 1
    assert "全部会员等级" in html
    assert [r["o"].number for r in page.context["rows"]] == [silver.number, diamond.number]
    filtered = client.get("/orders/?member_tier=diamond")
    assert [r["o"].number for r in filtered.context["rows"]] == [diamond.number]
    sorted_page = client.get("/orders/?sort=ship_by")
    assert [r["o"].number for r in sorted_page.context["rows"]] == [diamond.number, silver.number]
    bad = client.get("/orders/?member_tier=platinum")
    assert bad.context["rows"] == []
    assert "未知的会员等级" in " ".join(str(m) for m in bad.context["messages"])
    # the ship-risk page (ORD-03) marks it too once it is near its deadline
    Order.objects.filter(pk=diamond.pk).update(ship_by=now + HOUR)
    assert "钻石优先" in client.get("/orders/ship-risk/").content.decode()
    detail = client.get(f"/orders/{diamond.pk}/").content.decode()
    assert 'id="order-priority"' in detail
    assert 'id="order-priority"' not in client.get(f"/orders/{silver.pk}/").content.decode()


def test_mem_01_csv_export_has_a_member_tier_column(world, make_user):
    _paid(world, "vip", tier="diamond", at=timezone.now())
    response = _client(make_user, Role.FINANCE).get("/orders/?format=csv")
    rows = list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    column = rows[0].index("会员等级")
    assert rows[1][column] == "钻石卡"
