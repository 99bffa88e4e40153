"""SOP INV-04: ABC classes recomputed from recent sales value, persisted per SKU with the next
count review by class; due reviews raise findings and hand the SKUs to a count sheet (INV-05)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.catalog.models import SalesDaily
from storeops.inventory import abc_classes, counts
from storeops.inventory import selectors as inv_selectors
from storeops.inventory import services as inv
from storeops.inventory.models import SkuAbcClass
from storeops.inventory.tasks import abc_recompute_all
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores.selectors import playbook_get
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product


@pytest.fixture
def products(store):
    cat = a_dress_category(store, required_qualifications=[])
    return {code: a_product(store, cat, code) for code in ("BIG", "MID", "LOW", "NONE")}


def _revenue(store, channel, product, today, amount, days_ago=10):
    SalesDaily.objects.create(
        store=store,
        product=product,
        channel=channel,
        day=today - dt.timedelta(days=days_ago),
        units=1,
        revenue=Decimal(amount),
    )


def _classes(store):
    return {r.sku.code: r.abc_class for r in SkuAbcClass.objects.filter(store=store).select_related("sku")}


@pytest.fixture
def sold(store, channel, products, today):
    # BIG 800, MID 150, LOW 50 of 1000 ten days ago; NONE nothing in the 90-day window
    _revenue(store, channel, products["BIG"], today, "800.00")
    _revenue(store, channel, products["MID"], today, "150.00")
    _revenue(store, channel, products["LOW"], today, "50.00")
    _revenue(store, channel, products["NONE"], today, "99999.00", days_ago=200)
    return products


def test_inv_04_recompute_classifies_each_sku_by_its_products_sales_value(store, sold, today):
    summary = abc_classes.abc_recompute(
        actor=ACTOR, store=store, playbook=playbook_get(store=store), today=today
    )
    classes = _classes(store)
    assert classes["BIG-S"] == classes["BIG-M"] == "A"
    assert classes["MID-S"] == "B"
    assert classes["LOW-S"] == "C"
    assert classes["NONE-S"] == "C"  # the old sale is outside the window
    assert summary == {"A": 2, "B": 2, "C": 4}
    big = SkuAbcClass.objects.get(sku__code="BIG-S")
    assert big.share == Decimal("0.800000")
    assert big.sales_value == Decimal("800.00")


def test_inv_04_next_review_follows_the_class_cycle_from_the_playbook(store, sold, today):
    abc_classes.abc_recompute(actor=ACTOR, store=store, playbook=playbook_get(store=store), today=today)
    due = {r.sku.code: r.next_review_on for r in SkuAbcClass.objects.select_related("sku")}
    assert due["BIG-S"] == today + dt.timedelta(days=7)
    assert due["MID-S"] == today + dt.timedelta(days=30)
    assert due["LOW-S"] == today + dt.timedelta(days=90)


def test_inv_04_shares_come_from_the_playbook(store, sold, today):
    from storeops.stores.services import playbook_update

    playbook_update(actor=ACTOR, store=store, values={"abc_a_share": "0.9", "abc_b_share": "0.09"})
    abc_classes.abc_recompute(actor=ACTOR, store=store, playbook=playbook_get(store=store), today=today)
    classes = _classes(store)
    assert (classes["BIG-S"], classes["MID-S"], classes["LOW-S"]) == ("A", "A", "B")


def test_inv_04_weekly_task_recomputes_every_store(store, sold):
    result = abc_recompute_all()
    assert result[store.pk]["A"] == 2
    assert SkuAbcClass.objects.filter(store=store).count() == 8


def test_inv_04_due_review_raises_a_finding_and_a_count_sheet_for_due_skus_resolves_it(store, sold, today):
    # given classes computed 8 days ago: class A (7-day cycle) is due today, B and C are not
    abc_classes.abc_recompute(
        actor=ACTOR, store=store, playbook=playbook_get(store=store), today=today - dt.timedelta(days=8)
    )
    checks_run(rule="INV-04", store=store, notify=False)
    open_findings = Finding.objects.filter(rule_id="INV-04", resolved_at__isnull=True)
    big_ids = set(sold["BIG"].skus.values_list("pk", flat=True))
    assert {int(f.subject_id) for f in open_findings} == big_ids
    # when a count sheet is created for the due SKUs (scope "due")
    wh = inv.warehouse_create(actor=ACTOR, store=store, code="sh", name="上海仓")
    sheet = counts.count_sheet_create(actor=ACTOR, store=store, warehouse=wh, scope="due")
    assert set(sheet.lines.values_list("sku_id", flat=True)) == big_ids
    # then the findings resolve (the SKUs are on an open sheet) ...
    checks_run(rule="INV-04", store=store, notify=False)
    assert not Finding.objects.filter(rule_id="INV-04", resolved_at__isnull=True).exists()
    # ... and posting the count moves the next review one A cycle on
    counts.count_sheet_start(actor=ACTOR, sheet=sheet)
    counts.count_sheet_enter(actor=ACTOR, sheet=sheet, counts=dict.fromkeys(big_ids, 0))
    counts.count_sheet_post(actor=ACTOR, sheet=sheet)
    row = SkuAbcClass.objects.get(sku__code="BIG-S")
    assert row.last_counted_on == today
    assert row.next_review_on == today + dt.timedelta(days=7)


def test_inv_04_count_sheet_by_abc_class(store, sold, today):
    abc_classes.abc_recompute(actor=ACTOR, store=store, playbook=playbook_get(store=store), today=today)
    wh = inv.warehouse_create(actor=ACTOR, store=store, code="sh", name="上海仓")
    sheet = counts.count_sheet_create(actor=ACTOR, store=store, warehouse=wh, scope="abc", abc_class="B")
    assert sorted(sheet.lines.values_list("sku__code", flat=True)) == ["MID-M", "MID-S"]


def test_inv_04_api_lists_and_recomputes(store, sold, api_as):
    api = api_as(Role.WAREHOUSE)
    recomputed = api.post(f"/inventory/{store.pk}/abc/recompute")
    assert recomputed.status_code == 200
    assert recomputed.json() == {"A": 2, "B": 2, "C": 4}
    listed = api.get(f"/inventory/{store.pk}/abc", abc_class="A")
    assert listed.status_code == 200
    assert sorted(i["sku_code"] for i in listed.json()["items"]) == ["BIG-M", "BIG-S"]
    assert api.get(f"/inventory/{store.pk}/abc", abc_class="D").status_code == 422


def test_inv_04_console_page_lists_classes_with_filters(store, sold, today, make_user):
    abc_classes.abc_recompute(actor=ACTOR, store=store, playbook=playbook_get(store=store), today=today)
    client = Client()
    client.force_login(make_user(Role.WAREHOUSE))
    page = client.get("/inventory/abc/?abc_class=B")
    assert page.status_code == 200
    body = page.content.decode()
    assert "MID-S" in body
    assert "BIG-S" not in body
    assert client.post("/inventory/abc/recompute/").status_code == 302


def test_inv_04_class_summary_counts_each_products_sales_once_to_the_cent(store, channel, products, today):
    # every SKU row carries its product's sales value: a class total summed over SKU rows
    # counted a two-SKU product twice (and SQLite sums came back as 1000.30000000000)
    for days_ago in (1, 2, 3):
        _revenue(store, channel, products["BIG"], today, "0.10", days_ago=days_ago)
    _revenue(store, channel, products["BIG"], today, "1000.00", days_ago=5)
    abc_classes.abc_recompute(actor=ACTOR, store=store, playbook=playbook_get(store=store), today=today)
    summary = inv_selectors.abc_class_summary(store=store, today=today)
    assert SkuAbcClass.objects.filter(sku__product=products["BIG"]).count() == 2
    assert str(summary["A"]["value"]) == "1000.30"
    assert summary["A"]["skus"] == 2
    total = sum(s["value"] for s in summary.values())
    assert total == sum(r.revenue for r in SalesDaily.objects.filter(store=store))
