"""SOP INV-01 (ORM side): safety-stock alerts and suggested order quantities from the stock
balances and the daily sales statistics, through the registered check and the API."""

from __future__ import annotations

import datetime as dt

import pytest

from storeops.catalog.models import SalesDaily
from storeops.inventory import selectors as sel
from storeops.inventory import services as inv
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores.selectors import playbook_get
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product


@pytest.fixture
def product(store):
    return a_product(store, a_dress_category(store, required_qualifications=[]), "P1")


def _sold_daily(store, channel, product, today, units, days=28):
    for n in range(1, days + 1):
        SalesDaily.objects.create(
            store=store, product=product, channel=channel, day=today - dt.timedelta(days=n), units=units
        )


def _stock(store, product, on_hand, reserved=0):
    wh = inv.warehouse_create(actor=ACTOR, store=store, code="sh", name="上海仓")
    sku_s, sku_m = product.skus.order_by("code")[:2]
    inv.stock_receive(actor=ACTOR, sku=sku_m, warehouse=wh, quantity=on_hand - 5, reason="采购入库")
    inv.stock_receive(actor=ACTOR, sku=sku_s, warehouse=wh, quantity=5, reason="采购入库")
    if reserved:
        inv.stock_reserve(actor=ACTOR, sku=sku_m, warehouse=wh, quantity=reserved, reference="SO-1")


def test_inv_01_available_at_three_days_of_sales_raises_an_alert_with_the_order_quantity(
    store, channel, product, today
):
    # given 5 units a day over the last 28 days and 20 on hand of which 5 reserved (15 available)
    _sold_daily(store, channel, product, today, units=5)
    _stock(store, product, on_hand=20, reserved=5)
    # when the INV-01 check runs
    checks_run(rule="INV-01", store=store, notify=False)
    # then it alerts: 15 ≤ 5 × 3, and suggests ceil(5 × (7 + 3)) − 15 = 35 units
    finding = Finding.objects.get(rule_id="INV-01")
    assert finding.subject_key == f"product:{product.pk}"
    assert finding.detail["available"] == 15
    assert finding.detail["suggested_quantity"] == 35


def test_inv_01_one_unit_above_the_safety_line_does_not_alert_and_the_finding_resolves(
    store, channel, product, today
):
    # given 16 available against 5 a day
    _sold_daily(store, channel, product, today, units=5)
    _stock(store, product, on_hand=21, reserved=5)
    # then no alert
    rows = sel.replenishment_suggestions(store=store, today=today, playbook=playbook_get(store=store))
    assert [(r.available, r.alert, r.suggested_quantity) for r in rows] == [(16, False, 0)]
    checks_run(rule="INV-01", store=store, notify=False)
    assert Finding.objects.filter(rule_id="INV-01").count() == 0


def test_inv_01_the_playbook_safety_days_drive_the_threshold(store, channel, product, today, system):
    from storeops.stores import services as st

    # given 16 available against 5 a day, and the safety days raised to 4
    _sold_daily(store, channel, product, today, units=5)
    _stock(store, product, on_hand=21, reserved=5)
    st.playbook_update(actor=system, store=store, values={"safety_stock_days": 4})
    # then 16 ≤ 20 alerts, and the order covers 7 + 4 days: 55 − 16 = 39
    rows = sel.replenishment_suggestions(store=store, today=today, playbook=playbook_get(store=store))
    assert [(r.alert, r.suggested_quantity) for r in rows] == [(True, 39)]


def test_inv_03_api_reservation_beyond_available_is_a_409_with_a_stable_code(store, product, api_as):
    from storeops.accounts.roles import Role

    # given 3 units in a warehouse
    wh = inv.warehouse_create(actor=ACTOR, store=store, code="sh", name="上海仓")
    sku = product.skus.order_by("code").first()
    inv.stock_receive(actor=ACTOR, sku=sku, warehouse=wh, quantity=3, reason="采购入库")
    client = api_as(Role.WAREHOUSE)
    body = {"kind": "reservation", "sku_id": sku.pk, "warehouse_id": wh.pk, "reference": "SO-1"}
    # when a warehouse user reserves 3, then 1 more
    ok = client.post(f"/inventory/{store.pk}/stock/moves", {**body, "quantity": 3})
    refused = client.post(f"/inventory/{store.pk}/stock/moves", {**body, "quantity": 1, "reference": "SO-2"})
    # then the first succeeds with its balances and the second is a conflict
    assert ok.status_code == 201
    assert (ok.json()["on_hand_after"], ok.json()["reserved_after"]) == (3, 3)
    assert refused.status_code == 409
    assert refused.json()["code"] == "insufficient_stock"
    stock = client.get(f"/inventory/{store.pk}/stock").json()
    assert [(s["sku_code"], s["available"]) for s in stock["items"]] == [(sku.code, 0)]


def test_inv_01_api_suggestions_are_paged_with_the_alerts_filter(store, channel, product, today, api_as):
    from storeops.accounts.roles import Role

    # one row per product with stock or sales: it answered every product of the catalogue at once
    _sold_daily(store, channel, product, today, units=5)
    _stock(store, product, on_hand=15)  # 15 ≤ 5 × 3: an alert
    other = a_product(store, product.category, "P2")
    wh = sel.warehouse_list(store=store).get(code="sh")
    for sku in other.skus.all():
        inv.stock_receive(actor=ACTOR, sku=sku, warehouse=wh, quantity=50, reason="采购入库")
    client = api_as(Role.WAREHOUSE)
    url = f"/inventory/{store.pk}/replenishment"
    first = client.get(url, page_size=1).json()
    assert (first["total"], first["page"], first["page_size"]) == (2, 1, 1)
    assert [r["product_code"] for r in first["items"]] == ["P1"]
    second = client.get(url, page_size=1, page=2).json()
    assert [r["product_code"] for r in second["items"]] == ["P2"]
    alerts = client.get(url, alerts_only="true").json()
    assert alerts["total"] == 1
    assert alerts["items"][0]["alert"] is True
    assert client.get(url, page_size=201).status_code == 422
