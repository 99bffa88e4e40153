"""SOP DATA-01: daily metrics per channel — UV, PV, conversion (buyers ÷ UV), AOV (GMV ÷
buyers), GMV shown as UV × CR × AOV, payment conversion (paid ÷ placed) — and the week's
new-customer share and repurchase rate against their targets, return rate and margins.

UV and PV come from the behaviour events (distinct visitors, page views) for a channel's day
that has page views; otherwise UV is the channels' statistics (visitors summed over products)
and there is no PV, and the day says which it used."""

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
from tests.behaviour.builders import ev, post
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


# --- UV and PV from the behaviour events ----------------------------------------------------------------


def _views(visitor, at, pages, **extra):
    return [
        ev(visitor, "page_view", at + dt.timedelta(minutes=i), page, **extra) for i, page in enumerate(pages)
    ]


def test_data_01_one_visitor_viewing_three_products_is_one_uv_and_three_pv(store, channel, shop):
    _world, today, yesterday = shop
    post(
        store,
        _views("v1", _noon(yesterday), ["product", "product", "product"], item_id="i1"),
        channel=channel,
    )
    latest, before = selectors.daily_metrics(store=store, days=2, end=today).days
    assert (before.uv, before.pv, before.uv_source) == (1, 3, "behaviour")
    assert before.uv_source_label == "行为数据去重访客"
    # conversion is buyers ÷ the UV shown: 1 buyer ÷ 1 visitor (the statistics said 200)
    assert before.conversion == Decimal("1")
    assert before.uv * before.conversion * before.aov == before.gmv
    # today has no events: the channels' statistics, labelled, and no PV
    assert (latest.uv, latest.pv, latest.uv_source) == (100, None, "sales_daily")
    assert latest.uv_source_label == "按商品访客合计"
    assert latest.conversion == Decimal("0.01")


def test_data_01_uv_counts_distinct_visitors_of_page_views_per_local_day(store, channel, shop):
    _world, today, yesterday = shop
    midnight = timezone.make_aware(dt.datetime.combine(today, dt.time()))
    events = [
        *_views("v1", _noon(yesterday), ["home", "product", "product", "cart"]),
        *_views("v2", _noon(yesterday), ["product"]),
        ev("v2", "add_to_cart", _noon(yesterday) + dt.timedelta(minutes=5), "product"),  # not a view
        ev("v3", "pay", _noon(yesterday), "pay"),  # paid without a page view: not a visitor
        *_views("v1", midnight - dt.timedelta(minutes=10), ["product"]),  # 23:50: still yesterday
        *_views("v4", midnight + dt.timedelta(minutes=10), ["home", "search"]),  # 00:10 today
    ]
    post(store, events, channel=channel)
    latest, before = selectors.daily_metrics(store=store, days=2, end=today).days
    assert (before.uv, before.pv) == (2, 6)
    assert (latest.uv, latest.pv, latest.uv_source) == (1, 2, "behaviour")
    assert latest.conversion == Decimal("1")  # c3 paid today; v4 the only visitor


def test_data_01_store_days_with_and_without_behaviour_events_per_channel(store, channel, shop, system):
    world, today, yesterday = shop
    jd = st.channel_create(actor=system, store=store, kind="jd", code="jd", name="京东自营")
    SalesDaily.objects.create(
        store=store, product=world.sku_s.product, channel=jd, day=yesterday, visitors=30
    )
    post(store, _views("v1", _noon(yesterday), ["product", "product"]), channel=channel)
    _latest, before = selectors.daily_metrics(store=store, days=2, end=today).days
    # tmall from its events (1 visitor), JD from its statistics (30): no store PV
    assert (before.uv, before.pv, before.uv_source) == (31, None, "mixed")
    assert before.uv_source_label == "部分渠道行为数据、部分按商品访客合计"
    _l, tmall = selectors.daily_metrics(store=store, days=2, end=today, channel_id=channel.pk).days
    assert (tmall.uv, tmall.pv, tmall.uv_source) == (1, 2, "behaviour")
    _l, jd_day = selectors.daily_metrics(store=store, days=2, end=today, channel_id=jd.pk).days
    assert (jd_day.uv, jd_day.pv, jd_day.uv_source) == (30, None, "sales_daily")
    post(store, _views("v1", _noon(yesterday), ["home"]), channel=jd)  # JD's own visitor ids
    _l, both = selectors.daily_metrics(store=store, days=2, end=today).days
    assert (both.uv, both.pv, both.uv_source) == (2, 3, "behaviour")


def test_data_01_traffic_is_two_grouped_queries_for_any_range(
    store, channel, shop, django_assert_num_queries
):
    _world, today, yesterday = shop
    start = today - dt.timedelta(days=91)
    for n in range(5):
        day = start + dt.timedelta(days=n * 20)
        post(store, _views(f"v{n}", _noon(day), ["home", "product"]), channel=channel)
    with django_assert_num_queries(2):
        traffic = selectors.daily_traffic(store=store, start=start, end=today)
    assert traffic[start] == selectors.DayTraffic(uv=1, pv=2, source="behaviour")
    assert traffic[yesterday] == selectors.DayTraffic(uv=200, pv=None, source="sales_daily")


def test_data_01_api_and_console_name_the_uv_source(store, channel, shop, api_as, make_user):
    _world, today, yesterday = shop
    post(store, _views("v1", _noon(yesterday), ["product", "product", "product"]), channel=channel)
    body = (
        api_as(Role.ANALYST).get(f"/analytics/{store.pk}/daily-metrics", days=2, end=today.isoformat()).json()
    )
    latest, before = body["days"]
    assert {k: before[k] for k in ("uv", "pv", "uv_source", "conversion")} == {
        "uv": 1,
        "pv": 3,
        "uv_source": "behaviour",
        "conversion": "1.0000",
    }
    assert before["uv_source_label"] == "行为数据去重访客"
    assert (latest["uv"], latest["pv"], latest["uv_source"]) == (100, None, "sales_daily")
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    html = client.get("/daily-metrics/?days=7").content.decode()
    assert "浏览量（PV）" in html
    assert "访客数口径：按商品访客合计" in html  # the decomposition is today's: statistics
    assert '<td class="num">1</td><td class="num">3</td><td class="muted">行为数据去重访客</td>' in html
    assert '<td class="num">100</td><td class="num">-</td><td class="muted">按商品访客合计</td>' in html
