"""How the console shows amounts, ROI, references and codes: one money format (¥2,100.00)
everywhere, ROI as a percentage, readable labels (and links) instead of raw keys, and the
English wording a reader meets on the way."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.console.templatetags.console_tags import money
from storeops.core.money import Money
from storeops.inventory import services as inv
from storeops.inventory.models import MoveKind, Zone
from storeops.outreach import services as outreach
from tests.behaviour.builders import journey, post
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 2, tzinfo=dt.UTC)


def _client(make_user, role, **kwargs) -> Client:
    client = Client()
    client.force_login(make_user(role, **kwargs))
    return client


def _paid_order(store, channel, price="1050.00", qty=2):
    world = World(store, channel, price=price)
    order = world.place(qty)
    world.pay(order)
    return world, order


# ---- the money filter ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("2100"), "¥2,100.00"),
        (Decimal("2103.4"), "¥2,103.40"),
        (Decimal("-1234.565"), "-¥1,234.57"),
        (Decimal("-0.001"), "¥0.00"),
        (0, "¥0.00"),
        ("6331.1", "¥6,331.10"),
        (Money("1234.5"), "¥1,234.50"),
        (Money("12.5", "USD"), "12.50 USD"),
        (None, ""),
        ("", ""),
    ],
)
def test_money_filter_writes_yuan_with_thousands_separators(value, shown):
    assert money(value) == shown


# ---- pages ---------------------------------------------------------------------------------


def test_traffic_sources_show_spend_as_money_and_roi_as_a_percentage(store, make_user):
    post(store, journey("v0", START, ["home", "product", "cart", "pay"], source="live", amount="20.00"))
    client = _client(make_user, Role.MARKETING)
    client.post("/behaviour/sources/cost/", {"source": "live", "day": "2026-03-02", "amount": "2100.00"})
    page = client.get("/behaviour/sources/?since=2026-03-02&until=2026-03-02").content.decode()
    assert "¥2,100.00" in page  # the spend, in the row and in the list of entered costs
    assert "¥2100.00" not in page
    assert "-99%" in page  # ROI (20 − 2100) ÷ 2100, as the profitability page shows it
    assert "-0.99" not in page
    assert "ROI 200%" in page  # the playbook's minimum ROI (2) in the same form


def test_order_page_formats_amounts_and_names_the_payment_provider(store, channel, make_user):
    _world, order = _paid_order(store, channel)
    page = _client(make_user, Role.CUSTOMER_SERVICE).get(f"/orders/{order.pk}/").content.decode()
    assert "¥2,100.00" in page  # payable, paid, the line and the payment
    assert ">2100.00<" not in page
    assert "<td>测试支付</td>" in page  # was the provider key "test"
    assert "<td>test</td>" not in page
    en = _client(make_user, Role.CUSTOMER_SERVICE, username="cs_en", language="en")
    page = en.get(f"/orders/{order.pk}/").content.decode()
    assert "<td>Test gateway</td>" in page
    assert ">Actions</h2>" in page  # the heading over the order's action forms


def test_order_list_formats_amounts(store, channel, make_user):
    _paid_order(store, channel)
    page = _client(make_user, Role.OPERATIONS).get("/orders/").content.decode()
    assert "¥2,100.00" in page
    assert ">2100.00<" not in page


def test_ledger_references_read_as_order_and_after_sales_with_links(store, channel, make_user):
    world, order = _paid_order(store, channel, price="100.00", qty=1)
    inv.stock_receive(
        actor=ACTOR,
        sku=world.sku_s,
        warehouse=world.sh,
        quantity=1,
        reason="售后退货入质检区",
        reference="aftersale:AS2606010001",
        zone=Zone.QC,
        kind=MoveKind.RETURN,
    )
    page = _client(make_user, Role.WAREHOUSE).get("/inventory/ledger/").content.decode()
    assert f'<a href="/orders/{order.pk}/">订单 {order.number}</a>' in page
    assert '<a href="/aftersales/cases/AS2606010001/">售后 AS2606010001</a>' in page
    assert f"order:{order.number}" not in page
    assert "aftersale:AS" not in page


def test_behaviour_imports_show_the_format_label(store, make_user):
    run = post(store, journey("v", START, ["home"]), batch_id="shop-42")
    client = _client(make_user, Role.ANALYST)
    for path in ("/behaviour/imports/", f"/behaviour/imports/{run.pk}/"):
        page = client.get(path).content.decode()
        assert "API（JSON）" in page
        assert "<td>api</td>" not in page


def test_price_suggester_explains_itself_before_a_sku_is_entered(store, make_user):
    page = _client(make_user, Role.FINANCE).get("/pricing/suggester/").content.decode()
    assert "data-empty-state" in page
    assert "输入一个 SKU 编码" in page
    assert 'size="52"' in page  # wide enough for its placeholder
    en = _client(make_user, Role.OPERATIONS, username="ops_en", language="en")
    assert "Enter a SKU code" in en.get("/pricing/suggester/").content.decode()


def test_team_kpis_column_counts_tickets(store, make_user):
    page = _client(make_user, Role.OWNER, username="owner_en", language="en").get("/team-kpis/")
    assert '<th class="num">Tickets</th>' in page.content.decode()


def test_outreach_campaign_template_line_has_a_space_before_the_dash(store, make_user):
    template = outreach.template_create(
        actor=ACTOR, store=store, code="day", name="会员日提醒", channel="sms", body="{store}会员日"
    )
    campaign = outreach.campaign_create(
        actor=ACTOR, store=store, name="会员日", template=template, audience_kind="list", customer_refs=["c1"]
    )
    client = _client(make_user, Role.OWNER, username="owner_en2", language="en")
    page = client.get(f"/outreach/{campaign.pk}/").content.decode()
    assert "(SMS) — " in page
    assert ")—" not in page
