"""SOP DATA-01: daily metrics per channel — UV, conversion (buyers ÷ UV), AOV (GMV ÷ buyers),
GMV shown as UV × CR × AOV, payment conversion (paid ÷ placed) — and the week's new-customer
share and repurchase rate against their targets, return rate and margins."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.analytics import selectors
from storeops.catalog.models import SalesDaily
from storeops.stores import services as st
from tests.orders.builders import World

pytestmark = pytest.mark.django_db


def _noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


@pytest.fixture
def shop(store, channel):
    world = World(store, channel, stock_sh=50, stock_gz=0)
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    for day, visitors in ((yesterday, 200), (today, 100)):
        SalesDaily.objects.create(
            store=store, product=world.sku_s.product, channel=channel, day=day, visitors=visitors
        )
    first = world.place(2, customer="c1", now=_noon(yesterday))  # 200.00, paid
    world.pay(first, now=_noon(yesterday))
    world.place(1, customer="c2", now=_noon(yesterday))  # never paid
    second = world.place(1, customer="c3", now=_noon(today) - dt.timedelta(hours=2))
    world.pay(second, now=_noon(today) - dt.timedelta(hours=2))
    return world, today, yesterday


def test_data_01_uv_conversion_aov_and_gmv_per_day(store, shop):
    _world, today, yesterday = shop
    metrics = selectors.daily_metrics(store=store, days=2, end=today)
    latest, before = metrics.days
    assert (latest.day, before.day) == (today, yesterday)
    assert (before.uv, before.buyers, before.gmv) == (200, 1, Decimal("200.00"))
    assert before.conversion == Decimal("0.005")
    assert before.aov == Decimal("200.00")
    assert (before.placed, before.paid, before.payment_conversion) == (2, 1, Decimal("0.5"))
    # GMV = UV × CR × AOV
    assert before.uv * before.conversion * before.aov == before.gmv
    assert (latest.uv, latest.buyers, latest.gmv, latest.payment_conversion) == (100, 1, Decimal("100.00"), 1)


def test_data_01_the_week_against_the_targets(store, shop, system):
    _world, today, _ = shop
    week = selectors.daily_metrics(store=store, days=7, end=today).week
    assert week.new_customer_share == Decimal("1")
    assert week.repurchase_rate == Decimal("0")
    assert week.target_repurchase_rate == Decimal("0.25")
    assert week.return_rate == Decimal("0")
    assert week.gross_margin == Decimal("0.4")  # price 100, purchase cost 60
    st.playbook_update(actor=system, store=store, values={"target_repurchase_rate": "0.1"})
    assert selectors.daily_metrics(store=store, days=7, end=today).week.target_repurchase_rate == Decimal(
        "0.1"
    )


def test_data_01_api_and_console(store, channel, shop, api_as, make_user):
    _world, today, _ = shop
    api = api_as(Role.ANALYST)
    body = api.get(f"/analytics/{store.pk}/daily-metrics", days=2, end=today.isoformat()).json()
    assert [d["gmv"] for d in body["days"]] == ["100.00", "200.00"]
    assert body["week"]["target_new_customer_share"] == "0.30"
    other = api.get(f"/analytics/{store.pk}/daily-metrics", days=2, channel_id=channel.pk).json()
    assert other["days"][1]["uv"] == 200
    assert api.get(f"/analytics/{store.pk}/daily-metrics", days=200).status_code == 422
    assert api.get(f"/analytics/{store.pk}/daily-metrics", channel_id=999999).status_code == 404
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    html = client.get(f"/daily-metrics/?days=7&channel={channel.pk}").content.decode()
    assert "GMV ¥100.00 = 访客 100 × 转化率 1.0% × 客单价 ¥100.00" in html
    assert "复购率" in html
