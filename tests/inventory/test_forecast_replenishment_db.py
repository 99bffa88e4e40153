"""SOP INV-06: the demand forecast drives replenishment — an INV-01 alert's quantity covers the
forecast demand over lead time + safety days when there is enough history (planned big
promotions included), else the average; the method used is shown in the API and console."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.catalog.models import SalesDaily
from storeops.inventory import forecast
from storeops.inventory import selectors as sel
from storeops.inventory import services as inv
from storeops.marketing import services as mkt
from storeops.stores.selectors import playbook_get
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product

PATTERN = [3, 4, 5, 4, 6, 9, 8]  # a weekly shape, 39 a week


@pytest.fixture
def product(store):
    return a_product(store, a_dress_category(store, required_qualifications=[]), "P1")


def _history(store, channel, product, today, days):
    series = []
    for n in range(days, 0, -1):
        day = today - dt.timedelta(days=n)
        units = PATTERN[day.weekday()]
        SalesDaily.objects.create(store=store, product=product, channel=channel, day=day, units=units)
        series.append(units)
    return series


def _low_stock(store, product, units=10):
    wh = inv.warehouse_create(actor=ACTOR, store=store, code="sh", name="上海仓")
    inv.stock_receive(
        actor=ACTOR, sku=product.skus.order_by("code").first(), warehouse=wh, quantity=units, reason="入库"
    )


def test_inv_06_alert_quantity_covers_the_forecast_demand_with_enough_history(store, channel, product, today):
    # given 12 weeks of weekly-seasonal sales and 10 units left
    series = _history(store, channel, product, today, 84)
    _low_stock(store, product)
    # when the suggestions are computed
    (row,) = sel.replenishment_suggestions(store=store, today=today, playbook=playbook_get(store=store))
    # then the forecast over lead time 7 + safety 3 days sets the quantity
    expected = forecast.forecast_sku(series, 10)
    demand = Fraction(forecast.demand_over(expected.values, 10))
    assert row.alert
    assert (row.method, row.forecast_method) == ("forecast", str(expected.method))
    assert row.demand_over_horizon == demand
    assert row.suggested_quantity == math.ceil(demand) - 10


def test_inv_06_too_little_history_falls_back_to_the_average(store, channel, product, today):
    # given only 4 weeks of history (the playbook wants 56 days)
    _history(store, channel, product, today, 28)
    _low_stock(store, product)
    (row,) = sel.replenishment_suggestions(store=store, today=today, playbook=playbook_get(store=store))
    # then the average (39/7 a day) x 10 days is used
    assert row.method == "average"
    assert row.demand_over_horizon == Fraction(39, 7) * 10
    assert row.suggested_quantity == math.ceil(Fraction(390, 7)) - 10


def test_inv_06_the_min_history_comes_from_the_playbook(store, channel, product, today):
    from storeops.stores.services import playbook_update

    _history(store, channel, product, today, 28)
    _low_stock(store, product)
    playbook_update(actor=ACTOR, store=store, values={"forecast_min_history_days": 28})
    (row,) = sel.replenishment_suggestions(store=store, today=today, playbook=playbook_get(store=store))
    assert row.method == "forecast"


def test_inv_06_a_planned_big_promotion_in_the_lead_time_raises_the_quantity(store, channel, product, today):
    _history(store, channel, product, today, 84)
    _low_stock(store, product)
    playbook = playbook_get(store=store)
    (before,) = sel.replenishment_suggestions(store=store, today=today, playbook=playbook)
    # when a big promotion (default uplift 2.0) covers days 2..4 of the horizon
    mkt.campaign_create(
        actor=ACTOR,
        store=store,
        theme="618",
        kind="big_promotion",
        starts_on=today + dt.timedelta(days=2),
        ends_on=today + dt.timedelta(days=4),
    )
    (after,) = sel.replenishment_suggestions(store=store, today=today, playbook=playbook)
    # then those three days count twice
    days = forecast.forecast_sku(
        _series_from_db(store, product, today), 10, uplift=[1, 1, 2, 2, 2, 1, 1, 1, 1, 1]
    )
    assert after.demand_over_horizon == Fraction(forecast.demand_over(days.values, 10))
    assert after.suggested_quantity > before.suggested_quantity


def test_inv_02_a_planned_big_promotion_with_its_own_uplift_multiplies_the_forecast_by_it(
    store, channel, product, today
):
    _history(store, channel, product, today, 84)
    _low_stock(store, product)
    mkt.campaign_create(
        actor=ACTOR,
        store=store,
        theme="618",
        kind="big_promotion",
        starts_on=today + dt.timedelta(days=2),
        ends_on=today + dt.timedelta(days=4),
        expected_uplift="4",
    )
    (row,) = sel.replenishment_suggestions(store=store, today=today, playbook=playbook_get(store=store))
    # the campaign's 4x, not the playbook's 2x, on the promotion's three days
    days = forecast.forecast_sku(
        _series_from_db(store, product, today), 10, uplift=[1, 1, 4, 4, 4, 1, 1, 1, 1, 1]
    )
    assert row.demand_over_horizon == Fraction(forecast.demand_over(days.values, 10))


def _series_from_db(store, product, today):
    rows = SalesDaily.objects.filter(product=product).order_by("day").values_list("units", flat=True)
    return list(rows)


def test_inv_06_api_and_console_show_the_method(store, channel, product, today, api_as, make_user):
    _history(store, channel, product, today, 84)
    _low_stock(store, product)
    answer = api_as(Role.WAREHOUSE).get(f"/inventory/{store.pk}/replenishment", alerts_only="true").json()
    assert answer["total"] == 1
    data = answer["items"]
    assert data[0]["method"] == "forecast"
    assert data[0]["forecast_method"] in ("ets", "tsb", "croston_sba", "zero")
    assert data[0]["demand_over_horizon"] is not None
    client = Client()
    client.force_login(make_user(Role.WAREHOUSE))
    page = client.get("/inventory/replenishment/")
    assert page.status_code == 200
    assert "需求预测" in page.content.decode()
