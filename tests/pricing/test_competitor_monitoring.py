"""PRICE-04 competitor monitoring: the competitors' promotions and new items (上新) — imported
with history, shown in the monitoring table (API and console) with filters, and a finding
when a competitor launches an item in a category the store sells."""

from __future__ import annotations

import datetime as dt
import importlib
import io
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.audit.models import AuditEntry
from storeops.catalog import services as cs
from storeops.catalog.imports import catalog_import
from storeops.catalog.models import Product, ProductStatus
from storeops.pricing import services as ps
from storeops.pricing.models import CompetitorPrice, CompetitorProduct
from storeops.pricing.selectors import competitor_monitor
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product

pytestmark = pytest.mark.django_db

HEADER = ["竞品店铺", "竞品名称", "竞品价格", "观察时间", "促销信息", "促销价", "类目编码", "对标商品编码"]


def _csv(rows: list[list[str]]) -> io.BytesIO:
    text = "\n".join(",".join(r) for r in [HEADER, *rows]) + "\n"
    return io.BytesIO(text.encode("utf-8-sig"))


def _day(days_ago: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=days_ago)).isoformat()


def _watch(store, competitor, name, *, days_ago=0, price="100.00", promotion="", promo=False, **kw):
    """A competitor item first seen ``days_ago`` with one observation then."""
    seen = timezone.now() - dt.timedelta(days=days_ago)
    cp = ps.competitor_product_create(
        actor=ACTOR, store=store, competitor=competitor, name=name, first_seen_at=seen, **kw
    )
    ps.competitor_price_record(
        actor=ACTOR,
        competitor_product=cp,
        price=price,
        observed_at=seen,
        promotion=promotion,
        is_promotional=promo,
    )
    return cp


@pytest.fixture
def dress(store):
    return a_dress_category(store)


@pytest.fixture
def sold_dress(store, dress):
    """连衣裙 is a category the store sells: one live product in it."""
    product = a_product(store, dress, complete=False)
    Product.objects.filter(pk=product.pk).update(status=ProductStatus.LIVE)
    return product


# ---- import ------------------------------------------------------------------------------------


def test_price_04_import_records_promotions_and_dates_new_items_from_their_history(store, dress):
    # given a file with Chinese headers: an item watched for 30 days, one first seen 3 days ago
    product = a_product(store, dress, complete=False)
    source = _csv(
        [
            ["A店", "老款碎花裙", "129.00", _day(30), "", "否", "dress", ""],
            ["A店", "老款碎花裙", "119.00", _day(0), "满300减30", "否", "", ""],
            ["A店", "新款雪纺裙", "99.00", _day(3), "限时8折", "是", "dress", product.code],
        ]
    )

    # when
    report = catalog_import(actor=ACTOR, store=store, kind="competitors", source=source, filename="c.csv")

    # then every row is an observation with its promotion; the old item is not new
    assert (report.ok, report.rows, report.imported) == (True, 3, 3)
    old = CompetitorProduct.objects.get(name="老款碎花裙")
    new = CompetitorProduct.objects.get(name="新款雪纺裙")
    assert timezone.localdate(old.first_seen_at) == timezone.localdate() - dt.timedelta(days=30)
    assert timezone.localdate(new.first_seen_at) == timezone.localdate() - dt.timedelta(days=3)
    assert (new.category_id, new.product_id, old.category_id) == (dress.pk, product.pk, dress.pk)
    latest = CompetitorPrice.objects.filter(competitor_product=new).get()
    assert (latest.promotion, latest.is_promotional, latest.source) == ("限时8折", True, "import")
    table = competitor_monitor(store_id=store.pk, now=timezone.now(), new_product_days=14)
    rows = {cp.name: cp for cp in table}
    assert (rows["老款碎花裙"].is_new, rows["新款雪纺裙"].is_new) == (False, True)
    old_row = rows["老款碎花裙"]
    assert (old_row.latest_promotion, old_row.latest_price) == ("满300减30", Decimal("119.00"))
    assert AuditEntry.objects.filter(action="pricing.import_competitors").count() == 1


def test_price_04_import_of_bad_rows_or_of_the_same_file_again_writes_nothing(store, dress):
    # given a first import
    good = [["B店", "裙", "88.00", _day(1), "", "", "", ""]]
    first = catalog_import(actor=ACTOR, store=store, kind="competitors", source=_csv(good), filename="c.csv")
    assert first.ok
    tomorrow = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    bad = [
        ["B店", "裙", "88.00", _day(1), "", "", "", ""],  # imported already
        ["C店", "裙", "0", _day(1), "", "", "", ""],
        ["C店", "包", "10.00", tomorrow, "", "", "", ""],
        ["C店", "鞋", "10.00", _day(1), "", "也许", "", ""],
        ["C店", "帽", "10.00", _day(1), "", "", "nope", ""],
        ["C店", "袜", "10.00", _day(1), "", "", "", ""],  # good, but not alone
    ]

    # when
    report = catalog_import(actor=ACTOR, store=store, kind="competitors", source=_csv(bad), filename="c.csv")

    # then each bad row says why, in Chinese, and nothing is written
    assert [(e.line, e.field) for e in report.errors] == [
        (2, "observed_at"),
        (3, "price"),
        (4, "observed_at"),
        (5, "is_promotional"),
        (6, "category_code"),
    ]
    assert str(report.errors[0]) == "第2行 observed_at: 该竞品在此时间的价格已导入"
    assert report.imported == 0
    assert (CompetitorProduct.objects.count(), CompetitorPrice.objects.count()) == (1, 1)


def test_price_04_an_earlier_observation_backdates_the_first_sighting(store):
    # given an item created today
    cp = ps.competitor_product_create(actor=ACTOR, store=store, competitor="A店", name="裙")
    assert cp.first_seen_at >= timezone.now() - dt.timedelta(minutes=1)

    # when an observation from 20 days ago is recorded
    ps.competitor_price_record(
        actor=ACTOR, competitor_product=cp, price="50.00", observed_at=timezone.now() - dt.timedelta(days=20)
    )

    # then it was first seen 20 days ago: not new
    cp.refresh_from_db()
    assert timezone.now() - cp.first_seen_at > dt.timedelta(days=19)
    row = competitor_monitor(store_id=store.pk, now=timezone.now(), new_product_days=14).get()
    assert row.is_new is False


def test_price_04_migration_backfills_first_seen_from_the_earliest_observation(store):
    # given an item whose first observation predates its creation, first_seen_at not set yet
    cp = ps.competitor_product_create(actor=ACTOR, store=store, competitor="A店", name="裙")
    earliest = timezone.now() - dt.timedelta(days=40)
    CompetitorPrice.objects.create(competitor_product=cp, price="10.00", observed_at=earliest)
    CompetitorProduct.objects.filter(pk=cp.pk).update(first_seen_at=timezone.now())

    # when
    migration = importlib.import_module("storeops.pricing.migrations.0002_competitor_promotions_new_products")
    migration.first_seen_backfill(django_apps, None)

    # then
    cp.refresh_from_db()
    assert cp.first_seen_at == earliest


# ---- the new-product window and the filters --------------------------------------------------


def test_price_04_the_new_product_window_is_the_playbook_setting(store, api_as):
    # given an item first seen 10 days ago
    _watch(store, "A店", "裙", days_ago=10)
    api = api_as(Role.OPERATIONS)

    # when / then: new under the default 14 days, not under 7
    assert api.get(f"/pricing/{store.pk}/competitors").json()["items"][0]["is_new"] is True
    st.playbook_update(actor=ACTOR, store=store, values={"competitor_new_product_days": 7})
    assert api.get(f"/pricing/{store.pk}/competitors").json()["items"][0]["is_new"] is False
    assert api.get(f"/pricing/{store.pk}/competitors", new_only="true").json()["total"] == 0


def test_price_04_monitoring_filters_new_on_promotion_competitor_category_and_keyword(store, dress):
    # given items across two competitors and two categories
    bags = cs.category_create(actor=ACTOR, store=store, code="bag", name="包袋")
    _watch(store, "A店", "新款碎花裙", days_ago=2, category=dress)
    _watch(store, "A店", "老款雪纺裙", days_ago=60, promotion="满300减30", category=dress)
    _watch(store, "B店", "新款托特包", days_ago=1, promo=True, category=bags)
    _watch(store, "B店", "老款斜挎包", days_ago=90)

    def names(**filters):
        qs = competitor_monitor(store_id=store.pk, now=timezone.now(), new_product_days=14, **filters)
        return [cp.name for cp in qs]

    # when / then
    assert names(new_only=True) == ["新款碎花裙", "新款托特包"]
    assert names(on_promotion=True) == ["老款雪纺裙", "新款托特包"]
    assert names(competitor="B店") == ["新款托特包", "老款斜挎包"]
    assert names(category_id=dress.pk) == ["新款碎花裙", "老款雪纺裙"]
    assert names(q="包袋") == ["新款托特包"]
    assert names(q="斜挎") == ["老款斜挎包"]
    assert names(new_only=True, on_promotion=True, competitor="B店") == ["新款托特包"]


def test_price_04_a_later_observation_without_promotion_ends_the_promotion(store):
    # given an item on promotion, then observed at its usual price
    cp = _watch(store, "A店", "裙", days_ago=3, promotion="限时8折", promo=True)
    ps.competitor_price_record(actor=ACTOR, competitor_product=cp, price="120.00")

    # when / then
    qs = competitor_monitor(store_id=store.pk, now=timezone.now(), new_product_days=14, on_promotion=True)
    assert list(qs) == []


# ---- API -----------------------------------------------------------------------------------------


def test_price_04_api_records_promotions_and_lists_new_items_with_filters_and_pages(store, dress, api_as):
    api = api_as(Role.OPERATIONS)
    # given an item created with its category and first-seen date, then observed on promotion
    first_seen = (timezone.now() - dt.timedelta(days=2)).isoformat()
    created = api.post(
        f"/pricing/{store.pk}/competitors",
        {"competitor": "A店", "name": "新款裙", "category_id": dress.pk, "first_seen_at": first_seen},
    )
    assert created.status_code == 201, created.content
    cp_id = created.json()["id"]
    observed = api.post(
        f"/pricing/{store.pk}/competitors/{cp_id}/prices",
        {"price": "89.00", "promotion": "限时8折", "is_promotional": True},
    )
    assert observed.status_code == 201, observed.content
    _watch(store, "A店", "老款裙", days_ago=40)
    _watch(store, "B店", "另一款", days_ago=1)

    # when
    body = api.get(
        f"/pricing/{store.pk}/competitors", new_only="true", on_promotion="true", competitor="A店", q="裙"
    ).json()

    # then
    assert body["total"] == 1
    item = body["items"][0]
    keys = ("name", "category_id", "is_new", "latest_price", "promotion", "is_promotional")
    assert {k: item[k] for k in keys} == {
        "name": "新款裙",
        "category_id": dress.pk,
        "is_new": True,
        "latest_price": "89.00",
        "promotion": "限时8折",
        "is_promotional": True,
    }
    assert item["observed_at"] is not None
    assert item["first_seen_at"].startswith(first_seen[:10])
    assert api.get(f"/pricing/{store.pk}/competitors", category_id=dress.pk).json()["total"] == 1
    paged = api.get(f"/pricing/{store.pk}/competitors", new_only="true", page_size=1, page=2).json()
    assert (paged["total"], [i["name"] for i in paged["items"]]) == (2, ["另一款"])  # by competitor, name


def test_price_04_api_bad_promotion_category_or_first_seen_is_a_4xx_and_writes_nothing(store, api_as):
    api = api_as(Role.OPERATIONS)
    other = st.store_create(actor=ACTOR, code="s2", name="别的店")
    foreign = cs.category_create(actor=ACTOR, store=other, code="x", name="别的类目")
    cp = ps.competitor_product_create(actor=ACTOR, store=store, competitor="A店", name="裙")

    too_long = api.post(
        f"/pricing/{store.pk}/competitors/{cp.pk}/prices", {"price": "10.00", "promotion": "满" * 201}
    )
    assert too_long.status_code == 422
    assert "promotion" in too_long.json()["fields"]
    foreign_category = api.post(
        f"/pricing/{store.pk}/competitors", {"competitor": "A店", "name": "包", "category_id": foreign.pk}
    )
    assert foreign_category.status_code == 404
    future = (timezone.now() + dt.timedelta(days=2)).isoformat()
    in_future = api.post(
        f"/pricing/{store.pk}/competitors", {"competitor": "A店", "name": "鞋", "first_seen_at": future}
    )
    assert in_future.status_code == 422
    assert "first_seen_at" in in_future.json()["fields"]
    assert (CompetitorProduct.objects.count(), CompetitorPrice.objects.count()) == (1, 0)


# ---- console -------------------------------------------------------------------------------------


def test_price_04_console_table_marks_new_items_and_promotions_and_filters(store, dress, make_user):
    # given a new item on a promotional price and an old one
    _watch(store, "A店", "新款碎花裙", days_ago=2, promotion="限时8折", promo=True, category=dress)
    _watch(store, "B店", "老款雪纺裙", days_ago=60, promotion="满300减30")
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))

    # when
    page = client.get("/pricing/competitors/").content.decode()
    new_only = client.get("/pricing/competitors/?new=1").content.decode()
    promo_b = client.get("/pricing/competitors/?promo=1&competitor=B%E5%BA%97").content.decode()

    # then
    assert '新款碎花裙 <span class="badge sev-info">上新</span>' in page
    assert '<td><span class="badge sev-warning">促销价</span> 限时8折</td>' in page
    assert "<td>满300减30</td>" in page
    assert "<td>连衣裙</td>" in page
    assert '<input type="checkbox" name="new" value="1" checked>' in new_only
    assert "老款雪纺裙" not in new_only
    assert '<option value="B店" selected>B店</option>' in promo_b
    assert "新款碎花裙" not in promo_b
    assert "<td>满300减30</td>" in promo_b


def test_price_04_console_pages_keep_the_filters(store, make_user):
    for i in range(26):
        _watch(store, "A店", f"新款{i:02d}", days_ago=1)
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))

    first = client.get("/pricing/competitors/?new=1").content.decode()

    assert '<a href="?new=1&page=2">' in first
    assert "新款25" in client.get("/pricing/competitors/?new=1&page=2").content.decode()


# ---- the finding ---------------------------------------------------------------------------------


def test_price_04_a_new_competitor_item_in_a_category_the_store_sells_raises_a_finding(
    store, dress, sold_dress
):
    # given new items in the sold category (own category / via the matched product), one in a
    # category the store does not sell, one without category, and an old one
    bags = cs.category_create(actor=ACTOR, store=store, code="bag", name="包袋")
    launched = _watch(store, "A店", "新款碎花裙", days_ago=2, category=dress, promotion="限时8折")
    matched = _watch(store, "B店", "同款裙", days_ago=1, product=sold_dress)
    _watch(store, "A店", "新款托特包", days_ago=1, category=bags)
    _watch(store, "A店", "新款帽子", days_ago=1)
    _watch(store, "C店", "老款裙", days_ago=30, category=dress)

    # when
    checks_run(rule="PRICE-04", store=store, notify=False)

    # then
    findings = {f.subject_key: f for f in Finding.objects.filter(rule_id="PRICE-04")}
    assert set(findings) == {f"competitor_new:{launched.pk}", f"competitor_new:{matched.pk}"}
    finding = findings[f"competitor_new:{launched.pk}"]
    assert finding.title == "竞品上新：A店「新款碎花裙」（类目：连衣裙）"
    assert (finding.severity, finding.detail["promotion"]) == ("info", "限时8折")


def test_price_04_the_new_item_finding_resolves_when_the_window_passes(store, dress, sold_dress):
    # given a finding for an item first seen 2 days ago
    cp = _watch(store, "A店", "新款碎花裙", days_ago=2, category=dress)
    checks_run(rule="PRICE-04", store=store, notify=False)
    assert Finding.objects.get(rule_id="PRICE-04").status != Finding.Status.RESOLVED

    # when the playbook's window shrinks to one day
    st.playbook_update(actor=ACTOR, store=store, values={"competitor_new_product_days": 1})
    checks_run(rule="PRICE-04", store=store, notify=False)

    # then
    assert Finding.objects.get(rule_id="PRICE-04", subject_key=f"competitor_new:{cp.pk}").status == (
        Finding.Status.RESOLVED
    )


def test_price_04_without_live_products_new_items_are_informational_only(store, dress):
    # given a new item in a category with no live product
    _watch(store, "A店", "新款碎花裙", days_ago=1, category=dress)

    # when
    checks_run(rule="PRICE-04", store=store, notify=False)

    # then
    assert not Finding.objects.filter(rule_id="PRICE-04").exists()
