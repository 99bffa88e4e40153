"""SOP INV-07 per SKU: units sold ÷ average on-hand units of each SKU, the product's sales split
over its SKUs (paid order lines, else ledger shipments, else evenly), slow SKUs of a product
that is not slow as a whole flagged for clearance without reporting any stock twice."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.catalog.models import SalesDaily
from storeops.inventory import rules
from storeops.inventory import selectors as sel
from storeops.inventory import services as inv
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores.selectors import playbook_get
from tests.catalog.db_builders import ACTOR, a_product
from tests.orders.builders import World


def _backdate_ledger(days: int, *, sku_id: int | None = None) -> None:
    with connection.cursor() as cur:  # the ledger refuses updates through the ORM on purpose
        sql = "UPDATE inventory_stockmove SET created_at = %s"
        params: list = [timezone.now() - dt.timedelta(days=days)]
        if sku_id is not None:
            sql += " WHERE stock_id IN (SELECT id FROM inventory_stock WHERE sku_id = %s)"
            params.append(sku_id)
        cur.execute(sql, params)


def _paid_yesterday(world: World, qty_s: int, qty_m: int) -> None:
    yesterday = timezone.now() - dt.timedelta(days=1)
    order = world.place(qty_s, qty_m, now=yesterday)
    world.pay(order, now=yesterday)


@pytest.fixture
def world(store, channel):
    """P1-S and P1-M, 20 on hand each (10 in each of two warehouses) for 200 days."""
    w = World(store, channel)
    _backdate_ledger(200)
    return w


def test_inv_07_sku_turnover_splits_the_product_sales_by_paid_order_lines(store, channel, world, today):
    # given 3 S + 1 M paid yesterday (the daily sales table counts 4) and 4 more units of the
    # product imported from the channel's statistics ten days ago: 8 units in the period
    _paid_yesterday(world, 3, 1)
    product = world.sku_s.product
    SalesDaily.objects.create(
        store=store, product=product, channel=channel, day=today - dt.timedelta(days=10), units=4
    )
    report = sel.turnover_report(store=store, today=today, playbook=playbook_get(store=store), skus=True)
    (p,) = report.products
    assert p.units_sold == 8
    rows = {r.sku_code: r for r in report.skus}
    # the 8 units go 3:1 like the order lines: S 6, M 2; each SKU had 20 on hand every day
    assert (rows["P1-S"].units_sold, rows["P1-M"].units_sold) == (6, 2)
    assert rows["P1-S"].average_inventory == rows["P1-M"].average_inventory == 20
    assert rows["P1-S"].turnover == Fraction(6, 20)
    assert rows["P1-M"].turnover == Fraction(2, 20)
    # days of cover now at the period's pace: 20 x 90 / 6 = 300 and 20 x 90 / 2 = 900
    assert (rows["P1-S"].days_of_cover, rows["P1-M"].days_of_cover) == (300, 900)
    # the product is slow as a whole (40 on hand, 8 sold: 450 days), and so are both SKUs
    assert (p.slow, rows["P1-S"].slow, rows["P1-M"].slow) == (True, True, True)
    assert (rows["P1-S"].product_slow, rows["P1-M"].product_slow) == (True, True)
    # the product report alone does not compute them
    plain = sel.turnover_report(store=store, today=today, playbook=playbook_get(store=store))
    assert plain.skus == []


def test_inv_07_sku_units_fall_back_to_shipments_then_evenly():
    # no paid order lines: the ledger's shipments decide
    assert sel.sku_units_sold(
        product_units=10, sku_ids=[1, 2, 3], paid={}, shipped={1: 1, 2: 4}, stocked={1, 2, 3}
    ) == {1: 2, 2: 8, 3: 0}
    # neither: evenly over the SKUs that had stock in the period
    assert sel.sku_units_sold(product_units=7, sku_ids=[1, 2, 3], paid={}, shipped={}, stocked={2, 3}) == {
        1: 0,
        2: 4,
        3: 3,
    }
    # paid order lines win over shipments
    assert sel.sku_units_sold(
        product_units=4, sku_ids=[1, 2], paid={2: 1}, shipped={1: 9}, stocked={1, 2}
    ) == {1: 0, 2: 4}


def test_inv_07_split_units_is_largest_remainder_and_sums_exactly():
    assert rules.split_units(10, [1, 1, 1]) == [4, 3, 3]
    assert rules.split_units(5, [0, 0]) == [3, 2]
    assert rules.split_units(0, [2, 5]) == [0, 0]
    assert rules.split_units(7, [1, 2, 4]) == [1, 2, 4]
    assert sum(rules.split_units(101, [3, 7, 11, 13])) == 101
    with pytest.raises(ValueError, match="no weights"):
        rules.split_units(1, [])


def test_inv_07_slow_sku_of_a_selling_product_gets_its_own_finding(store, channel, world, today):
    # given S selling 3 a day (imported) plus 2 on a paid order, and M not selling at all
    _paid_yesterday(world, 2, 0)
    product = world.sku_s.product
    for day in range(2, 91):
        SalesDaily.objects.create(
            store=store, product=product, channel=channel, day=today - dt.timedelta(days=day), units=3
        )
    report = sel.turnover_report(store=store, today=today, playbook=playbook_get(store=store), skus=True)
    (p,) = report.products
    assert not p.slow  # 40 on hand, 269 sold in 90 days
    rows = {r.sku_code: r for r in report.skus}
    assert (rows["P1-S"].units_sold, rows["P1-S"].slow) == (269, False)
    assert (rows["P1-M"].units_sold, rows["P1-M"].slow, rows["P1-M"].product_slow) == (0, True, False)
    # then the check reports the slow SKU (and not the product)
    checks_run(rule="INV-07", store=store, notify=False)
    (finding,) = Finding.objects.filter(rule_id="INV-07")
    assert finding.subject_key == f"sku:{world.sku_m.pk}"
    assert finding.detail["level"] == "sku"
    assert finding.detail["on_hand"] == 20


def test_inv_07_slow_product_is_reported_once_not_per_sku(store, world, today):
    # nothing sold at all: the product is slow, and so are its two SKUs
    checks_run(rule="INV-07", store=store, notify=False)
    (finding,) = Finding.objects.filter(rule_id="INV-07")
    assert finding.subject_key == f"product:{world.sku_s.product_id}"


def test_inv_07_sku_first_stocked_within_the_period_is_not_judged(store, channel, world, today):
    _paid_yesterday(world, 2, 0)
    for day in range(2, 91):
        SalesDaily.objects.create(
            store=store,
            product=world.sku_s.product,
            channel=channel,
            day=today - dt.timedelta(days=day),
            units=3,
        )
    _backdate_ledger(10, sku_id=world.sku_m.pk)  # M came in ten days ago
    report = sel.turnover_report(store=store, today=today, playbook=playbook_get(store=store), skus=True)
    m = next(r for r in report.skus if r.sku_code == "P1-M")
    assert (m.new, m.slow) == (True, False)
    checks_run(rule="INV-07", store=store, notify=False)
    assert not Finding.objects.filter(rule_id="INV-07").exists()


def test_inv_07_sku_turnover_reads_a_bounded_number_of_queries(store, channel, world, today):
    playbook = playbook_get(store=store)
    _paid_yesterday(world, 1, 1)
    with CaptureQueriesContext(connection) as one:
        sel.turnover_report(store=store, today=today, playbook=playbook, skus=True)
    # four more products with stock and sales
    cat = world.sku_s.product.category
    for n in range(4):
        product = a_product(store, cat, f"X{n}")
        for sku in product.skus.all():
            inv.stock_receive(actor=ACTOR, sku=sku, warehouse=world.sh, quantity=5, reason="采购入库")
        SalesDaily.objects.create(
            store=store, product=product, channel=channel, day=today - dt.timedelta(days=3), units=2
        )
    _backdate_ledger(200)
    with CaptureQueriesContext(connection) as five:
        report = sel.turnover_report(store=store, today=today, playbook=playbook, skus=True)
    assert len(report.skus) == 10
    assert len(five.captured_queries) == len(one.captured_queries)


def test_inv_07_sku_turnover_api_and_console_tab(store, channel, world, today, api_as, make_user):
    _paid_yesterday(world, 2, 0)
    for day in range(2, 91):
        SalesDaily.objects.create(
            store=store,
            product=world.sku_s.product,
            channel=channel,
            day=today - dt.timedelta(days=day),
            units=3,
        )
    data = api_as(Role.WAREHOUSE).get(f"/inventory/{store.pk}/turnover/skus", slow_only="true")
    assert data.status_code == 200
    (row,) = data.json()["skus"]
    assert (row["sku_code"], row["units_sold"], row["on_hand"], row["slow"]) == ("P1-M", 0, 20, True)
    assert row["attributes"] == {"尺码": "M"}
    every = api_as(Role.WAREHOUSE).get(f"/inventory/{store.pk}/turnover/skus").json()["skus"]
    s = next(r for r in every if r["sku_code"] == "P1-S")
    assert (s["units_sold"], s["average_inventory"], s["turnover"]) == (269, "20.000", "13.450")
    client = Client()
    client.force_login(make_user(Role.WAREHOUSE))
    body = client.get("/inventory/turnover/?level=sku").content.decode()
    assert "<strong>按 SKU</strong>" in body
    assert '<td>P1-M <span class="muted">尺码:M</span></td>' in body
    assert "<td>滞销，建议清仓</td>" in body
    # the product view stays the default, with a link to the SKU view
    body = client.get("/inventory/turnover/").content.decode()
    assert '<a href="?level=sku">按 SKU</a>' in body
    assert '<span class="muted">尺码:M</span>' not in body
