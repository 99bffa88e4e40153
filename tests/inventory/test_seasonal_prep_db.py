"""SOP INV-06: seasonal preparation — a product with a season (旺季) is held against the season's
expected demand from ``seasonal_prep_days`` (45) before the season starts, even when its current
average sales would not alert (learned from last year's same days × the trend with a year of
history, else the configured uplift); past promotions are taken out of the forecast history; the
reason shows in the INV-01 finding, the API and the console."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.catalog import services as cs
from storeops.catalog.models import SalesDaily
from storeops.inventory import forecast
from storeops.inventory import selectors as sel
from storeops.inventory import services as inv
from storeops.marketing.models import Campaign
from storeops.sop.models import Finding
from storeops.stores.selectors import playbook_get
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product

TODAY = dt.date(2026, 9, 20)  # 42 days before a November season; the prep window opens on 9-17


@pytest.fixture
def coat(store):
    return a_product(store, a_dress_category(store, required_qualifications=[]), "COAT")


def _winter_history(store, channel, product, today, *, off_last_year=2, off_this_year=3, peak=20):
    """Two years of daily sales: ``peak`` a day from November to February, else the off-season
    pace (lower last year: the shop grew)."""
    rows = []
    day = today - dt.timedelta(days=730)
    while day < today:
        if day.month in (11, 12, 1, 2):
            units = peak
        else:
            units = off_this_year if day >= today - dt.timedelta(days=200) else off_last_year
        rows.append(SalesDaily(store=store, product=product, channel=channel, day=day, units=units))
        day += dt.timedelta(days=1)
    SalesDaily.objects.bulk_create(rows)


def _stock(store, product, units):
    wh = inv.warehouse_create(actor=ACTOR, store=store, code="sh", name="上海仓")
    inv.stock_receive(
        actor=ACTOR, sku=product.skus.order_by("code").first(), warehouse=wh, quantity=units, reason="入库"
    )


def _season(product, start, end, uplift=None):
    changes = {"season_start_month": start, "season_end_month": end}
    if uplift is not None:
        changes["season_uplift"] = uplift
    cs.product_update(actor=ACTOR, product=product, **changes)


def _row(store, today):
    (row,) = sel.replenishment_suggestions(store=store, today=today, playbook=playbook_get(store=store))
    return row


def test_inv_06_winter_goods_alert_45_days_ahead_from_last_years_season_and_the_trend(store, channel, coat):
    # given two years of winter sales, 3 a day now (2 a year ago: trend 1.5), 100 units in stock
    _winter_history(store, channel, coat, TODAY)
    _stock(store, coat, 100)
    _season(coat, 11, 2)
    # when replenishment is computed 42 days before the season (inside the 45-day window)
    row = _row(store, TODAY)
    # then the average alone would not alert (100 > 3 × 3) but the season does: until the season
    # starts plus 3 safety days the demand is last year's (41 × 2 + 4 × 20) × 1.5 = 243 ≥ 100,
    # and the order covers until the season starts plus 7 + 3 days: (41 × 2 + 11 × 20) × 1.5 = 453
    assert row.avg_daily_sales == 3
    assert row.alert
    assert row.seasonal
    assert row.method == "seasonal"
    assert (row.season_start, row.season_end) == (dt.date(2026, 11, 1), dt.date(2027, 2, 28))
    assert (row.season_source, str(row.season_trend)) == ("last_year", "1.50")
    assert row.threshold == 243
    assert row.demand_over_horizon == 453
    assert row.suggested_quantity == 453 - 100


def test_inv_06_before_the_prep_window_the_season_does_not_count(store, channel, coat):
    # given the same product 52 days before its season (the window opens 45 days ahead)
    today = dt.date(2026, 9, 10)
    _winter_history(store, channel, coat, today)
    _stock(store, coat, 100)
    _season(coat, 11, 2)
    row = _row(store, today)
    assert not row.alert
    assert row.season_start is None
    assert row.suggested_quantity == 0


def test_inv_06_the_prep_days_come_from_the_playbook(store, channel, coat):
    from storeops.stores.services import playbook_update

    _winter_history(store, channel, coat, TODAY)
    _stock(store, coat, 100)
    _season(coat, 11, 2)
    playbook_update(actor=ACTOR, store=store, values={"seasonal_prep_days": 30})
    assert not _row(store, TODAY).alert  # 42 days ahead, outside a 30-day window


def test_inv_06_in_season_the_safety_line_is_the_seasons_demand(store, channel, coat):
    # given the season's third day with 50 units: the last 28 days averaged about 4 a day (INV-01
    # line about 12.6), but last year's same days sold 20 a day
    today = dt.date(2026, 11, 3)
    _winter_history(store, channel, coat, today)
    _stock(store, coat, 50)
    _season(coat, 11, 2)
    row = _row(store, today)

    def sold(first, last):
        days = SalesDaily.objects.filter(product=coat, day__gte=first, day__lte=last)
        return sum(days.values_list("units", flat=True))

    year = dt.timedelta(days=364)
    recent = sold(today - dt.timedelta(days=28), today - dt.timedelta(days=1))
    trend = recent / sold(today - year - dt.timedelta(days=28), today - year - dt.timedelta(days=1))
    # then the safety line is 3 days of last year's 20 × trend, the order 7 + 3 days of it
    assert row.avg_daily_sales == Fraction(recent, 28)
    assert row.alert
    assert row.seasonal
    assert row.threshold == Fraction(forecast.demand_over([20 * trend] * 3, 3))
    assert row.demand_over_horizon == Fraction(forecast.demand_over([20 * trend] * 10, 10))
    assert row.suggested_quantity == math.ceil(row.demand_over_horizon) - 50


def test_inv_06_without_a_year_of_history_the_configured_uplift_is_used(store, channel, coat):
    # given 60 days at 3 a day, a season from November with demand × 4, 100 units
    for n in range(60, 0, -1):
        SalesDaily.objects.create(
            store=store, product=coat, channel=channel, day=TODAY - dt.timedelta(days=n), units=3
        )
    _stock(store, coat, 100)
    _season(coat, 11, 2, uplift="4")
    row = _row(store, TODAY)
    # then until the season + 3 days: 42 × 3 + 3 × 12 = 162 ≥ 100 alerts; the order covers
    # 42 × 3 + 10 × 12 = 246
    assert (row.alert, row.method, row.season_source) == (True, "seasonal", "uplift")
    assert row.threshold == 162
    assert row.suggested_quantity == 246 - 100


def test_inv_06_no_year_of_history_and_no_uplift_leaves_the_average(store, channel, coat):
    for n in range(60, 0, -1):
        SalesDaily.objects.create(
            store=store, product=coat, channel=channel, day=TODAY - dt.timedelta(days=n), units=3
        )
    _stock(store, coat, 100)
    _season(coat, 11, 2)
    row = _row(store, TODAY)
    assert not row.alert
    assert row.season_source == ""


def test_inv_06_past_promotion_days_do_not_inflate_the_forecast_base(store, channel, coat, today):
    # given 12 weeks of a weekly pattern where one past big promotion week sold 3 × as much
    pattern = [3, 4, 5, 4, 6, 9, 8]
    promo_start, promo_end = today - dt.timedelta(days=21), today - dt.timedelta(days=15)
    clean, sold = [], []
    for n in range(84, 0, -1):
        day = today - dt.timedelta(days=n)
        units = pattern[day.weekday()]
        clean.append(units)
        units *= 3 if promo_start <= day <= promo_end else 1
        sold.append(units)
        SalesDaily.objects.create(store=store, product=coat, channel=channel, day=day, units=units)
    Campaign.objects.create(
        store=store,
        theme="双11",
        kind="big_promotion",
        status="ended",
        starts_on=promo_start,
        ends_on=promo_end,
    )
    _stock(store, coat, 10)
    # when the alert's quantity is forecast
    row = _row(store, today)
    # then the promotion week was deflated by its measured uplift (3): the forecast is the one of
    # the clean history, not of the inflated one
    assert row.method == "forecast"
    expected = Fraction(forecast.demand_over(forecast.forecast_sku(clean, 10).values, 10))
    inflated = Fraction(forecast.demand_over(forecast.forecast_sku(sold, 10).values, 10))
    assert row.demand_over_horizon == expected
    assert expected != inflated


def test_inv_06_history_uplift_measures_each_promotion_against_the_days_before():
    start = dt.date(2026, 1, 1)
    series = [2] * 28 + [8, 8] + [2] * 5
    promos = [
        (dt.date(2026, 1, 29), dt.date(2026, 1, 30), None),
        (dt.date(2026, 2, 2), dt.date(2026, 2, 2), {9}),
    ]
    factors = sel.history_uplift(
        series=series, start=start, product_id=1, promotions=promos, default_uplift=2.0
    )
    assert factors[28:30] == [4.0, 4.0]
    assert set(factors[:28] + factors[30:]) == {1.0}  # the other promotion was for another product
    # no baseline before it (first day of the history): the playbook's default uplift
    first = sel.history_uplift(
        series=[5, 1, 1], start=start, product_id=1, promotions=[(start, start, None)], default_uplift=2.0
    )
    assert first == [2.0, 1.0, 1.0]


def _next_season_months(today):
    start = (today.replace(day=1) + dt.timedelta(days=32)).month  # next month: < 32 days away
    return start, start % 12 + 1


def test_inv_06_the_finding_api_and_console_show_the_seasonal_reason(
    store, channel, coat, today, api_as, make_user
):
    from storeops.sop.services import checks_run

    # given 60 days at 3 a day, a season starting next month with demand × 5, 40 units
    for n in range(60, 0, -1):
        SalesDaily.objects.create(
            store=store, product=coat, channel=channel, day=today - dt.timedelta(days=n), units=3
        )
    _stock(store, coat, 40)
    start, end = _next_season_months(today)
    _season(coat, start, end, uplift="5")
    # when the INV-01 check runs
    checks_run(rule="INV-01", store=store, notify=False)
    # then the finding names the season and INV-06
    finding = Finding.objects.get(rule_id="INV-01")
    assert "旺季" in finding.title
    assert finding.detail["seasonal_rule"] == "INV-06"
    assert finding.detail["season_source"] == "uplift"
    assert finding.detail["seasonal_prep_days"] == 45
    assert dt.date.fromisoformat(finding.detail["season_start"]).month == start
    # and the API gives the season and its source
    api = api_as(Role.WAREHOUSE)
    item = api.get(f"/inventory/{store.pk}/replenishment", alerts_only="true").json()["items"][0]
    assert item["method"] == "seasonal"
    assert item["seasonal"] is True
    assert item["season_source"] == "uplift"
    assert dt.date.fromisoformat(item["season_start"]).month == start
    # and the console's replenishment page says so
    client = Client()
    client.force_login(make_user(Role.WAREHOUSE))
    html = client.get("/inventory/replenishment/").content.decode()
    assert "旺季备货" in html
    assert item["season_start"] in html


def test_inv_06_the_season_is_set_through_the_api_with_field_errors(store, coat, api_as):
    api = api_as(Role.OPERATIONS)
    url = f"/catalog/{store.pk}/products/{coat.pk}"
    # a month out of range, a start without an end, a zero uplift: 422 naming the field, nothing saved
    for body, field in (
        ({"season_start_month": 13, "season_end_month": 2}, "season_start_month"),
        ({"season_start_month": 11}, "season_end_month"),
        ({"season_start_month": 11, "season_end_month": 2, "season_uplift": "0"}, "season_uplift"),
    ):
        answer = api.patch(url, body)
        assert answer.status_code == 422, answer.content
        assert field in answer.json()["fields"]
    coat.refresh_from_db()
    assert coat.season_start_month is None
    # a valid season is saved, shown and logged
    answer = api.patch(url, {"season_start_month": 11, "season_end_month": 2, "season_uplift": "2.5"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["season_start_month"], body["season_end_month"], body["season_uplift"]) == (11, 2, "2.50")
    from storeops.audit.models import AuditEntry

    entry = AuditEntry.objects.filter(action="product.update").latest("id")
    assert entry.after["season_start_month"] == 11
    # and null clears it
    answer = api.patch(url, {"season_start_month": None, "season_end_month": None})
    assert answer.json()["season_start_month"] is None


def test_inv_06_the_console_sets_a_season_and_keeps_a_refused_form(store, coat, make_user):
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    url = "/inventory/replenishment/season/"
    bad = {"product_code": "COAT", "season_start_month": "11", "season_end_month": "2"}
    bad["season_uplift"] = "abc"
    response = client.post(url, bad)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'value="abc"' in html
    assert "旺季需求倍数须大于 0 且不超过 100" in html
    coat.refresh_from_db()
    assert coat.season_start_month is None
    unknown = client.post(url, {**bad, "product_code": "NOPE", "season_uplift": ""})
    assert unknown.status_code == 422
    assert "找不到该商品编码" in unknown.content.decode()
    response = client.post(url, {**bad, "season_uplift": "3"})
    assert response.status_code == 302
    coat.refresh_from_db()
    assert (coat.season_start_month, coat.season_end_month, str(coat.season_uplift)) == (11, 2, "3.00")


def test_inv_06_the_products_import_and_export_carry_the_season(store):
    import io

    from storeops.catalog.imports import catalog_import, export_rows, write_table

    a_dress_category(store, required_qualifications=[])
    header = ["商品编码", "类目编码", "核心词", "标题", "SKU编码", "售价"]
    header += ["旺季开始月份", "旺季结束月份", "旺季需求倍数"]
    rows = [
        ["W1", "dress", "羽绒服", "冬季加厚羽绒服", "W1-M", "599", "11", "2", "3"],
        ["W2", "dress", "羽绒服", "冬季轻薄羽绒服", "W2-M", "399", "11", "", ""],
    ]
    buffer = io.BytesIO()
    write_table(buffer, header, rows, xlsx=False)
    buffer.seek(0)
    buffer.name = "products.csv"
    report = catalog_import(actor=ACTOR, store=store, kind="products", source=buffer)
    # a start month without an end is refused with its line and column; nothing is imported
    assert not report.ok
    assert [(e.line, e.field) for e in report.errors] == [(3, "season_end_month")]
    buffer = io.BytesIO()
    write_table(buffer, header, rows[:1], xlsx=False)
    buffer.seek(0)
    buffer.name = "products.csv"
    report = catalog_import(actor=ACTOR, store=store, kind="products", source=buffer)
    assert report.ok
    head, data = export_rows(store=store, kind="products")
    (row,) = [dict(zip(head, r, strict=True)) for r in data]
    assert (row["season_start_month"], row["season_end_month"], row["season_uplift"]) == (11, 2, "3.00")
