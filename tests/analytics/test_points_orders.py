"""Goods taken for points (MEM-02) are an order with nothing paid, not a sale: the sales
measures (DATA-01 AOV, buyers and payment conversion, TEAM-01 new-customer share and
repurchase rate, DATA-03 order volume) and the purchase history of MEM-04 segments and MEM-07
personas leave them out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from storeops.analytics import segments, selectors
from storeops.catalog.models import SalesDaily
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from tests.members.builders import points_order
from tests.orders.builders import World

pytestmark = pytest.mark.django_db


def _noon(day: dt.date, days_before: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day - dt.timedelta(days=days_before), dt.time(12)))


@pytest.fixture
def world(store, channel):
    return World(store, channel, stock_sh=100, stock_gz=0)


def _buy(world, customer, when, qty=1):
    order = world.place(qty, customer=customer, now=when)
    world.pay(order, now=when)
    return order


def test_data_01_goods_taken_for_points_are_no_paid_order_and_no_buyer(store, world):
    # given today 100 visitors, c1 buying one dress (100.00) and c2 taking one for points
    today = timezone.localdate()
    SalesDaily.objects.create(
        store=store, product=world.sku_s.product, channel=world.channel, day=today, visitors=100
    )
    _buy(world, "c1", _noon(today))
    points_order(world, "c2", at=_noon(today))
    # then the day has one buyer, AOV 100.00, one order placed and paid
    (day,) = selectors.daily_metrics(store=store, days=1, end=today).days
    assert (day.buyers, day.gmv, day.aov, day.conversion) == (
        1,
        Decimal("100.00"),
        Decimal("100.00"),
        Decimal("0.01"),
    )
    assert (day.placed, day.paid) == (1, 1)


def test_team_01_goods_taken_for_points_are_not_a_purchase(store, world):
    # given c1 took goods for points last month and buys once this week
    today = timezone.localdate()
    points_order(world, "c1", at=_noon(today, 30))
    points_order(world, "c1", at=_noon(today, 2))
    _buy(world, "c1", _noon(today, 1))
    # then this week c1 is a new buyer who bought once: no repurchase
    week = selectors.daily_metrics(store=store, days=7, end=today).week
    assert (week.new_customer_share, week.repurchase_rate) == (Decimal("1"), Decimal("0"))


def test_data_03_goods_taken_for_points_do_not_hide_an_order_drop(store, channel, world):
    # given six orders in the same 3-hour window on each of the 7 days before
    now = timezone.now()
    for day in range(1, 8):
        for n in range(6):
            world.place(1, customer=f"d{day}-{n}", now=now - dt.timedelta(days=day, minutes=20 + n))
    # when today one order is placed and five members take goods for points (no payment needed)
    world.place(1, customer="today", now=now - dt.timedelta(minutes=30))
    for n in range(5):
        points_order(world, f"m{n}", at=now - dt.timedelta(minutes=10 + n))
    # then the orders' drop is still seen
    checks_run(rule="DATA-03", store=store, now=now, notify=False)
    (finding,) = Finding.objects.filter(rule_id="DATA-03")
    assert finding.detail == {"measure": "orders", "kind": "drop", "current": 1, "baseline": 6.0}


def test_mem_07_goods_taken_for_points_are_no_discount_in_the_persona(store, world):
    # given c1 bought one dress at full price and took another for points
    today = timezone.localdate()
    _buy(world, "c1", _noon(today, 3))
    points_order(world, "c1", at=_noon(today, 2))
    # then the persona shows one order of 100.00 with no discount
    persona = segments.customer_persona(store=store, customer_ref="c1")
    assert (persona.orders, persona.paid, persona.aov) == (1, Decimal("100.00"), Decimal("100.00"))
    assert (persona.discount_depth, persona.price_sensitive) == (Decimal(0), False)


def test_mem_04_goods_taken_for_points_do_not_make_a_buyer_nor_wake_a_sleeper(store, world):
    # given "sleeper" bought 200 days ago and took goods for points yesterday, and "taker" only
    # ever took goods for points
    today = timezone.localdate()
    _buy(world, "sleeper", _noon(today, 200))
    points_order(world, "sleeper", at=_noon(today, 1))
    points_order(world, "taker", at=_noon(today, 1))
    # then the segments know one customer, still sleeping
    rows = {r.customer_ref: r for r in segments.segments_compute(store=store, day=today)}
    assert set(rows) == {"sleeper"}
    assert rows["sleeper"].segment == "sleeping"
