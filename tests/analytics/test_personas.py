"""SOP MEM-07: personas per customer and per segment — purchase frequency, AOV, preferred
categories, price sensitivity (discount depth, share of spend on discounted orders), region as
province and city only (DATA-09 / RISK-05: no names, phones or streets); demographics are not
held, and the persona says so."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st_

from storeops.accounts.roles import Role
from storeops.analytics import rules, segments, services
from storeops.orders import services as order_services
from storeops.promotions import services as promotions
from tests.orders.builders import ACTOR, World

SINCE, UNTIL = dt.date(2026, 1, 1), dt.date(2026, 12, 31)


def _facts(orders, paid, listed, discounted, first=dt.date(2026, 10, 2), customers=1):
    return rules.PersonaFacts(
        customers=customers,
        orders=orders,
        paid=Decimal(paid),
        list_total=Decimal(listed),
        discounted_paid=Decimal(discounted),
        first_paid=first,
        last_paid=dt.date(2026, 12, 1),
    )


def test_mem_07_frequency_aov_and_price_sensitivity():
    # 6 orders over the 90 days since the first one: 2 a month
    p = rules.persona(
        _facts(6, "600", "800", "450"), since=SINCE, until=UNTIL, sensitive_share=Decimal("0.5")
    )
    assert p.orders_per_month == Decimal("2.00")
    assert p.aov == Decimal("100.00")
    assert p.discount_depth == Decimal("0.25")  # 1 − 600 ÷ 800
    assert p.discounted_share == Decimal("0.75")
    assert p.price_sensitive is True
    calm = rules.persona(
        _facts(1, "100", "100", "0"), since=SINCE, until=UNTIL, sensitive_share=Decimal("0.5")
    )
    assert (calm.discount_depth, calm.discounted_share, calm.price_sensitive) == (0, 0, False)
    # a newcomer's two orders in one week are not eight a month: at least 30 days are counted
    week = rules.persona(
        _facts(2, "200", "200", "0", first=dt.date(2026, 12, 24)),
        since=SINCE,
        until=UNTIL,
        sensitive_share=Decimal("0.5"),
    )
    assert week.orders_per_month == Decimal("2.00")
    assert rules.persona(
        _facts(0, "0", "0", "0"), since=SINCE, until=UNTIL, sensitive_share=Decimal("0.5")
    ) == (rules.Persona(None, None, None, None, None))


def test_mem_07_top_shares_rank_and_share_the_spend():
    shares = rules.top_shares({"连衣裙": Decimal(300), "半身裙": Decimal(100), "T恤": Decimal(0)}, 3)
    assert shares == [("连衣裙", Decimal("0.75")), ("半身裙", Decimal("0.25"))]
    assert rules.top_shares({}, 3) == []


@given(
    st_.integers(min_value=1, max_value=50),
    st_.decimals(min_value=1, max_value=10**6, places=2),
    st_.decimals(min_value=0, max_value=1, places=2),
    st_.decimals(min_value=0, max_value=1, places=2),
)
def test_mem_07_discount_figures_stay_between_0_and_1(orders, listed, paid_share, discounted_share):
    paid = (listed * paid_share).quantize(Decimal("0.01"))
    discounted = (paid * discounted_share).quantize(Decimal("0.01"))
    p = rules.persona(
        _facts(orders, paid, listed, discounted), since=SINCE, until=UNTIL, sensitive_share=Decimal("0.5")
    )
    assert p.discount_depth is not None
    assert 0 <= p.discount_depth <= 1
    assert p.discounted_share is None or 0 <= p.discounted_share <= 1


# --- on real orders -------------------------------------------------------------------------------------


@pytest.fixture
def shop(store, channel):
    """loyal: 3 orders at full price; deal: 2 orders under a 10 % store-wide offer."""
    world = World(store, channel, stock_sh=30, stock_gz=0)
    today = timezone.localdate()

    def buy(customer, days_before, qty=1):
        when = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days_before), dt.time(12)))
        order = world.place(qty, customer=customer, now=when)
        world.pay(order, now=when)
        return order

    for days in (61, 31, 1):
        buy("loyal", days)
    offer = promotions.offer_create(actor=ACTOR, store=store, kind="percentage", params={"rate": "0.9"})
    promotions.offer_set_status(actor=ACTOR, offer=offer, status="active")
    buy("deal", 20, qty=2)
    buy("deal", 10, qty=2)
    promotions.offer_set_status(actor=ACTOR, offer=offer, status="paused")
    services.segments_snapshot(actor=ACTOR, store=store, day=today)
    return world


def test_mem_07_customer_persona_from_orders(store, shop):
    loyal = segments.customer_persona(store=store, customer_ref="loyal")
    assert (loyal.orders, loyal.paid, loyal.aov) == (3, Decimal("300.00"), Decimal("100.00"))
    assert loyal.orders_per_month == Decimal("1.45")  # 3 orders × 30 ÷ 62 days (to the end of today)
    assert (loyal.discount_depth, loyal.price_sensitive) == (Decimal(0), False)
    assert loyal.categories == [("连衣裙", Decimal("1.0000"))]
    assert loyal.regions == [("浙江省 杭州市", Decimal("1.0000"))]
    assert loyal.demographics_available is False
    deal = segments.customer_persona(store=store, customer_ref="deal")
    assert (deal.paid, deal.aov) == (Decimal("360.00"), Decimal("180.00"))
    assert deal.discount_depth == Decimal("0.1")
    assert (deal.discounted_share, deal.price_sensitive) == (Decimal("1"), True)
    assert deal.segment == "new"
    with pytest.raises(Exception, match="没有已付款订单"):
        segments.customer_persona(store=store, customer_ref="nobody")


def test_mem_07_refunds_reduce_the_spend(store, shop):
    order = shop.place(1, customer="refunder")
    shop.pay(order)
    order = shop.ship(order)  # returned in full (before shipping it would be a cancellation)
    order_services.order_refund(actor=ACTOR, order=order, units={order.lines.get().pk: 1}, reason="退货")
    persona = segments.customer_persona(store=store, customer_ref="refunder")
    assert (persona.orders, persona.paid) == (0, Decimal("0.00"))


def test_mem_07_segment_personas(store, shop):
    by_segment = {p.subject: p for p in segments.segment_personas(store=store)}
    assert set(by_segment) == {"new", "active", "high_value", "sleeping"}
    # deal's first order is 20 days old: new (though the top spender); loyal is active
    new = by_segment["new"]
    assert (new.customers, new.orders, new.price_sensitive) == (1, 2, True)
    assert by_segment["active"].customers == 1
    assert by_segment["sleeping"].customers == 0
    assert by_segment["sleeping"].aov is None


def test_mem_07_api_and_console_show_no_personal_data(store, shop, api_as, make_user):
    api = api_as(Role.MARKETING)
    one = api.get(f"/analytics/{store.pk}/personas/loyal")
    assert one.status_code == 200
    body = one.json()
    assert body["aov"] == "100.00"
    assert body["regions"] == [{"name": "浙江省 杭州市", "share": "1.0000"}]
    assert body["demographics_available"] is False
    all_segments = api.get(f"/analytics/{store.pk}/personas").json()
    assert [p["subject"] for p in all_segments] == ["new", "active", "high_value", "sleeping"]
    assert api.get(f"/analytics/{store.pk}/personas/nobody").status_code == 404
    text = json.dumps([body, all_segments], ensure_ascii=False)
    for secret in ("张三", "13812345678", "文三路", "西湖区"):
        assert secret not in text
    client = Client()
    client.force_login(make_user(Role.CUSTOMER_SERVICE))  # dedicated service for high-value customers
    html = client.get("/personas/?customer=deal").content.decode()
    assert "价格敏感" in html
    assert "浙江省 杭州市" in html
    assert "13812345678" not in html
    assert "文三路" not in html
    assert api_as(Role.WAREHOUSE).get(f"/analytics/{store.pk}/personas").status_code == 403
