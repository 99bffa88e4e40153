"""SOP LIST-07 launch stage: each new product's daily clicks, add-to-cart and conversion since
listing — imported with the sales stats, else counted from the store's behaviour events — the
新品追踪 page and API, and the finding for a launch product nobody adds to a cart."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.behaviour import services as behaviour_services
from storeops.catalog.imports import catalog_import, write_table
from storeops.catalog.models import Product, SalesDaily
from storeops.catalog.rules import (
    LaunchFigures,
    LifecyclePolicy,
    launch_without_add_to_cart,
    merge_launch_figures,
)
from storeops.catalog.selectors import launch_tracking
from storeops.core.errors import ValidationError
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.catalog.db_builders import ACTOR, a_business_license, a_dress_category, a_live_product

# ---- pure rules ---------------------------------------------------------------------------------


def test_list_07_launch_figures_the_statistics_win_and_the_events_fill_their_zeros():
    # given a day whose statistics have visitors and add-to-cart but no clicks, and the events
    stats = LaunchFigures(clicks=0, add_to_cart=5, visitors=100, buyers=4, units=6, revenue=Decimal("594"))
    events = LaunchFigures(clicks=180, add_to_cart=9, visitors=90, buyers=7)

    # when
    merged = merge_launch_figures(stats, events)

    # then the clicks come from the events, everything else from the statistics
    assert merged == LaunchFigures(
        clicks=180, add_to_cart=5, visitors=100, buyers=4, units=6, revenue=Decimal("594"), counted=True
    )
    assert merged.conversion == Decimal("0.0400")
    assert merged.cart_rate == Decimal("0.0500")


def test_list_07_launch_figures_visitors_and_buyers_come_from_one_source():
    # given statistics without visitors (orders fed units only) and events with viewers and payers
    stats = LaunchFigures(units=2, revenue=Decimal("398"))
    events = LaunchFigures(clicks=30, add_to_cart=3, visitors=20, buyers=2)

    # when
    merged = merge_launch_figures(stats, events)
    alone = merge_launch_figures(None, events)
    no_events = merge_launch_figures(LaunchFigures(visitors=50, buyers=1), None)

    # then
    assert (merged.visitors, merged.buyers, merged.units, merged.counted) == (20, 2, 2, True)
    assert (alone.clicks, alone.add_to_cart, alone.revenue) == (30, 3, Decimal(0))
    assert no_events.counted is False
    assert no_events.conversion == Decimal("0.0200")
    assert LaunchFigures().conversion is None
    assert LaunchFigures().cart_rate is None


def test_list_07_launch_figures_sum_over_days():
    total = LaunchFigures(clicks=1, add_to_cart=1, visitors=2, buyers=1, units=1, revenue=Decimal("9.9"))
    total += LaunchFigures(clicks=3, visitors=2, counted=True)
    assert total == LaunchFigures(4, 1, 4, 1, 1, Decimal("9.9"), True)


@pytest.mark.parametrize(
    ("age", "figures", "flagged"),
    [
        (7, LaunchFigures(clicks=50), True),
        (7, LaunchFigures(visitors=40), True),
        (6, LaunchFigures(clicks=50), False),  # too early to judge
        (31, LaunchFigures(clicks=50), False),  # past launch
        (7, LaunchFigures(clicks=50, add_to_cart=1), False),
        (7, LaunchFigures(), False),  # no traffic figures: nothing to read
    ],
)
def test_list_07_launch_product_viewed_but_never_added_to_cart_after_min_days(age, figures, flagged):
    assert launch_without_add_to_cart(age, figures, min_days=7, policy=LifecyclePolicy()) is flagged


# ---- database ---------------------------------------------------------------------------------


@pytest.fixture
def dress(store, today):
    a_business_license(store, today)
    return a_dress_category(store)


def _listed(product: Product, days_ago: int, today: dt.date) -> Product:
    Product.objects.filter(pk=product.pk).update(listed_on=today - dt.timedelta(days=days_ago))
    product.refresh_from_db()
    return product


def _sales(product, channel, day, **figures):
    SalesDaily.objects.create(store=product.store, product=product, channel=channel, day=day, **figures)


def _sales_file(header: list[str], rows: list[list[str]]) -> io.BytesIO:
    buffer = io.BytesIO()
    write_table(buffer, header, rows, xlsx=False)
    buffer.seek(0)
    return buffer


def _events(store, channel, product, day: dt.date, *kinds: tuple[str, str]) -> None:
    """(visitor, kind) events on ``product`` at noon of ``day``, one minute apart."""
    noon = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
    behaviour_services.events_post(
        actor=ACTOR,
        store=store,
        channel=channel,
        events=[
            {
                "visitor_id": visitor,
                "kind": kind,
                "occurred_at": noon + dt.timedelta(minutes=i),
                "page_type": "product",
                "item_id": product.code,
                **({"amount": "199.00"} if kind == "pay" else {}),
            }
            for i, (visitor, kind) in enumerate(kinds)
        ],
    )


@pytest.mark.django_db
def test_list_07_sales_import_reads_the_click_and_add_to_cart_columns(store, dress, channel, today):
    # given a sales file with 浏览量 and both 加购人数 and 加购件数 (人数 is read)
    p = a_live_product(store, dress, channel, "P1")
    source = _sales_file(
        [
            "商品编码",
            "渠道编码",
            "日期",
            "访客数",
            "买家数",
            "浏览量",
            "加购件数",
            "加购人数",
            "销量",
            "销售额",
        ],
        [["P1", "tmall", today.isoformat(), "100", "3", "240", "14", "9", "3", "597.00"]],
    )

    # when
    report = catalog_import(actor=ACTOR, store=store, kind="sales", source=source, filename="s.csv")

    # then
    assert report.ok, report.errors
    assert list(SalesDaily.objects.filter(product=p).values_list("clicks", "add_to_cart", "visitors")) == [
        (240, 9, 100)
    ]


@pytest.mark.django_db
def test_list_07_sales_import_without_the_columns_keeps_the_days_clicks(store, dress, channel, today):
    # given a day imported with clicks and add-to-cart
    p = a_live_product(store, dress, channel, "P1")
    day = today.isoformat()
    catalog_import(
        actor=ACTOR,
        store=store,
        kind="sales",
        source=_sales_file(
            ["product_code", "channel_code", "day", "visitors", "clicks", "add_to_cart"],
            [["P1", "tmall", day, "100", "240", "9"]],
        ),
        filename="s.csv",
    )

    # when the day is corrected by a file without those columns
    catalog_import(
        actor=ACTOR,
        store=store,
        kind="sales",
        source=_sales_file(["商品编码", "渠道编码", "日期", "访客数"], [["P1", "tmall", day, "120"]]),
        filename="s.csv",
    )

    # then
    assert list(SalesDaily.objects.filter(product=p).values_list("visitors", "clicks", "add_to_cart")) == [
        (120, 240, 9)
    ]


@pytest.mark.django_db
def test_list_07_sales_import_refuses_negative_or_non_numeric_clicks(store, dress, channel, today):
    a_live_product(store, dress, channel, "P1")
    source = _sales_file(
        ["商品编码", "渠道编码", "日期", "点击量", "加购人数"],
        [["P1", "tmall", today.isoformat(), "-1", "2"], ["P1", "tmall", "2026-01-02", "5", "x"]],
    )

    report = catalog_import(actor=ACTOR, store=store, kind="sales", source=source, filename="s.csv")

    assert [(e.line, e.field) for e in report.errors] == [(2, "clicks"), (3, "add_to_cart")]
    assert not SalesDaily.objects.exists()


@pytest.mark.django_db
def test_list_07_launch_tracking_lists_launch_products_day_by_day_since_listing(store, dress, channel, today):
    # given a product listed 2 days ago with stats for its first two days, and one past launch
    new = _listed(a_live_product(store, dress, channel, "NEW"), 2, today)
    _listed(a_live_product(store, dress, channel, "OLD"), 31, today)
    first, second = today - dt.timedelta(days=2), today - dt.timedelta(days=1)
    _sales(
        new, channel, first, visitors=100, buyers=2, clicks=150, add_to_cart=10, units=2, revenue=Decimal(398)
    )
    _sales(
        new, channel, second, visitors=50, buyers=3, clicks=80, add_to_cart=5, units=4, revenue=Decimal(796)
    )

    # when
    tracking = launch_tracking(store=store, today=today)
    last_two = launch_tracking(store=store, today=today, days=2)

    # then only the launch product, every day since listing (today still empty), and the totals
    assert tracking.launch_days == 30
    [p] = tracking.products
    assert (p.code, p.listed_on, p.age_days) == ("NEW", first, 2)
    assert [(d.day, d.figures.clicks, d.figures.add_to_cart, d.figures.conversion) for d in p.days] == [
        (first, 150, 10, Decimal("0.0200")),
        (second, 80, 5, Decimal("0.0600")),
        (today, 0, 0, None),
    ]
    assert (p.total.clicks, p.total.add_to_cart, p.total.visitors, p.total.buyers) == (230, 15, 150, 5)
    assert (p.total.units, p.total.revenue) == (6, Decimal(1194))
    assert p.total.conversion == Decimal("0.0333")
    assert p.total.cart_rate == Decimal("0.1000")
    assert [d.day for d in last_two.products[0].days] == [second, today]
    assert last_two.products[0].total == p.total


@pytest.mark.django_db
def test_list_07_launch_tracking_counts_behaviour_events_where_the_stats_have_none(
    store, dress, channel, today
):
    # given a launch product: yesterday imported stats with visitors but no clicks; today only
    # the shop's own events (3 page views by 2 visitors, 1 adds to cart and pays)
    p = _listed(a_live_product(store, dress, channel, "NEW"), 1, today)
    yesterday = today - dt.timedelta(days=1)
    _sales(p, channel, yesterday, visitors=40, buyers=1, add_to_cart=4)
    _events(store, channel, p, yesterday, ("v9", "page_view"), ("v9", "add_to_cart"))
    _events(
        store,
        channel,
        p,
        today,
        ("v1", "page_view"),
        ("v1", "page_view"),
        ("v2", "page_view"),
        ("v1", "add_to_cart"),
        ("v1", "pay"),
    )

    # when
    [row] = launch_tracking(store=store, today=today).products

    # then yesterday keeps its statistics (the events fill only its clicks), today is counted
    day1, day2 = row.days
    assert (day1.figures.clicks, day1.figures.add_to_cart, day1.figures.visitors, day1.figures.buyers) == (
        1,
        4,
        40,
        1,
    )
    assert (day2.figures.clicks, day2.figures.add_to_cart, day2.figures.visitors, day2.figures.buyers) == (
        3,
        1,
        2,
        1,
    )
    assert day1.figures.counted
    assert day2.figures.counted
    assert day2.figures.conversion == Decimal("0.5000")


@pytest.mark.django_db
def test_list_07_launch_tracking_of_one_channel_uses_its_figures_and_launch_days(
    store, dress, channel, today
):
    # given a product live on tmall and one on jd, both listed 10 days ago; jd's launch stage is 7 days
    jd = st.channel_create(actor=ACTOR, store=store, kind="jd", code="jd", name="京东")
    on_tmall = _listed(a_live_product(store, dress, channel, "T"), 10, today)
    on_jd = _listed(a_live_product(store, dress, jd, "J"), 10, today)
    _sales(on_tmall, channel, today, visitors=10, clicks=20)
    _sales(on_jd, jd, today, visitors=30, clicks=60)
    st.playbook_update(actor=ACTOR, store=store, channel=jd, values={"launch_stage_days": 7})

    # when
    tmall = launch_tracking(store=store, channel=channel, today=today)
    jd_view = launch_tracking(store=store, channel=jd, today=today)

    # then
    assert [(p.code, p.total.clicks) for p in tmall.products] == [("T", 20)]
    assert (jd_view.launch_days, jd_view.products) == (7, [])


@pytest.mark.django_db
def test_list_07_launch_tracking_refuses_a_bad_number_of_days(store):
    with pytest.raises(ValidationError) as refused:
        launch_tracking(store=store, days=0)
    assert "days" in refused.value.fields


@pytest.mark.django_db
def test_list_07_launch_product_viewed_without_add_to_cart_is_flagged_after_the_playbook_days(
    store, dress, channel, today
):
    # given two products listed 5 days ago with 300 page views; only one had add-to-cart
    cold = _listed(a_live_product(store, dress, channel, "COLD"), 5, today)
    warm = _listed(a_live_product(store, dress, channel, "WARM"), 5, today)
    _sales(cold, channel, today, visitors=100, clicks=300)
    _sales(warm, channel, today, visitors=100, clicks=300, add_to_cart=6)
    checks_run(rule="LIST-07", store=store, notify=False)
    before = list(Finding.objects.filter(rule_id="LIST-07"))

    # when the playbook judges after 5 days instead of 7
    st.playbook_update(actor=ACTOR, store=store, values={"launch_tracking_min_days": 5})
    checks_run(rule="LIST-07", store=store, notify=False)

    # then
    assert before == []
    finding = Finding.objects.get(rule_id="LIST-07")
    assert finding.subject_key == f"product:{cold.pk}:launch_no_cart"
    assert finding.severity == "info"
    assert "COLD" in finding.title
    assert finding.detail["clicks"] == 300


# ---- API and console ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_07_launch_tracking_api_pages_the_launch_products_with_their_days(
    api_as, store, dress, channel, today
):
    # given three launch products
    for i, code in enumerate(("A", "B", "C")):
        p = _listed(a_live_product(store, dress, channel, code), i, today)
        _sales(
            p, channel, today, visitors=10, buyers=1, clicks=25, add_to_cart=2, units=1, revenue=Decimal(199)
        )
    api = api_as(Role.OPERATIONS)

    # when
    response = api.get(f"/catalog/{store.pk}/launch-tracking", page_size=2, days=1, channel_id=channel.pk)
    second = api.get(f"/catalog/{store.pk}/launch-tracking", page=2, page_size=2)

    # then newest listing first, one day each, the totals since listing
    body = response.json()
    assert response.status_code == 200, body
    assert (body["total"], body["launch_days"], body["today"]) == (3, 30, today.isoformat())
    assert [p["code"] for p in body["items"]] == ["A", "B"]
    b = body["items"][1]
    assert b["age_days"] == 1
    assert b["days"] == [
        {
            "day": today.isoformat(),
            "clicks": 25,
            "add_to_cart": 2,
            "visitors": 10,
            "buyers": 1,
            "conversion": "0.1000",
            "cart_rate": "0.2000",
            "units": 1,
            "revenue": "199.00",
            "counted": False,
        }
    ]
    assert b["total"]["clicks"] == 25
    assert [p["code"] for p in second.json()["items"]] == ["C"]


@pytest.mark.django_db
def test_list_07_launch_tracking_api_reads_a_page_in_a_constant_number_of_queries(
    api_as, store, dress, channel, today
):
    # given 2, then 6 launch products with a day of stats and events each
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = api_as(Role.OPERATIONS)

    def queries_for(codes: list[str]) -> int:
        for code in codes:
            p = _listed(a_live_product(store, dress, channel, code), 3, today)
            _sales(p, channel, today, visitors=10, clicks=20)
            _events(store, channel, p, today - dt.timedelta(days=1), ("v1", "page_view"))
        with CaptureQueriesContext(connection) as captured:
            response = api.get(f"/catalog/{store.pk}/launch-tracking", channel_id=channel.pk)
        assert response.status_code == 200
        assert response.json()["total"] == Product.objects.filter(store=store).count()
        return len(captured)

    # when
    few = queries_for(["A", "B"])
    more = queries_for(["C", "D", "E", "F"])

    # then
    assert few == more


@pytest.mark.django_db
def test_list_07_launch_tracking_api_refuses_bad_days_and_unknown_channels(api_as, store, channel):
    api = api_as(Role.OPERATIONS)

    bad_days = api.get(f"/catalog/{store.pk}/launch-tracking", days=400)
    unknown = api.get(f"/catalog/{store.pk}/launch-tracking", channel_id=99999)

    assert bad_days.status_code == 422
    assert "days" in bad_days.json()["fields"]
    assert unknown.status_code == 404


def _console(make_user, role: Role = Role.OPERATIONS) -> Client:
    client = Client()
    client.force_login(make_user(role))
    return client


@pytest.mark.django_db
def test_list_07_launch_tracking_console_page_shows_each_product_day_table(
    make_user, store, dress, channel, today
):
    # given a launch product with a day of figures
    p = _listed(a_live_product(store, dress, channel, "NEW-1"), 1, today)
    _sales(
        p, channel, today, visitors=200, buyers=4, clicks=321, add_to_cart=17, units=4, revenue=Decimal(796)
    )

    # when
    html = _console(make_user).get(f"/catalog/launch/?channel={channel.pk}&days=7").content.decode()

    # then the nav entry, the product's link and its figures and rates
    assert ">新品追踪</a>" in html
    assert f'href="/catalog/products/{p.pk}/">NEW-1</a>' in html
    assert '<td class="num">321</td>' in html
    assert '<td class="num">17</td>' in html
    assert '<td class="num">2.0%</td>' in html  # conversion 4 / 200
    assert '<td class="num">8.5%</td>' in html  # add-to-cart rate 17 / 200
    assert "<th>加购人数</th>" in html


@pytest.mark.django_db
def test_list_07_product_page_of_a_launch_product_links_to_its_tracking(
    make_user, store, dress, channel, today
):
    p = _listed(a_live_product(store, dress, channel, "NEW-1"), 3, today)
    old = _listed(a_live_product(store, dress, channel, "OLD-1"), 60, today)
    client = _console(make_user)

    launch_page = client.get(f"/catalog/products/{p.pk}/").content.decode()
    old_page = client.get(f"/catalog/products/{old.pk}/").content.decode()
    filtered = client.get(f"/catalog/launch/?product={p.pk}&days=0").content.decode()

    link = f'href="/catalog/launch/?product={p.pk}&amp;days=0">新品追踪</a>'
    assert link in launch_page
    assert "上架第 3 天" in launch_page
    assert "/catalog/launch/?product=" not in old_page
    assert f'href="/catalog/products/{p.pk}/">NEW-1</a>' in filtered
