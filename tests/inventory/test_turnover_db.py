"""SOP INV-07: inventory turnover (sales ÷ average inventory) per product and per category,
rebuilt from the ledger, and slow movers flagged for clearance."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.catalog.models import SalesDaily
from storeops.inventory import selectors as sel
from storeops.inventory import services as inv
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores.selectors import playbook_get
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product


@pytest.fixture
def world(store, channel, today):
    cat = a_dress_category(store, required_qualifications=[])
    fast, slow = a_product(store, cat, "FAST"), a_product(store, cat, "SLOW")
    wh = inv.warehouse_create(actor=ACTOR, store=store, code="sh", name="上海仓")
    inv.stock_receive(
        actor=ACTOR, sku=fast.skus.get(code="FAST-S"), warehouse=wh, quantity=90, reason="采购入库"
    )
    inv.stock_receive(
        actor=ACTOR, sku=slow.skus.get(code="SLOW-S"), warehouse=wh, quantity=100, reason="采购入库"
    )
    for day in range(1, 91):
        SalesDaily.objects.create(
            store=store, product=fast, channel=channel, day=today - dt.timedelta(days=day), units=3
        )
    SalesDaily.objects.create(
        store=store, product=slow, channel=channel, day=today - dt.timedelta(days=5), units=9
    )
    return {"fast": fast, "slow": slow, "wh": wh}


def _backdate_ledger(days: int) -> None:
    from django.db import connection

    with connection.cursor() as cur:  # the ledger refuses updates through the ORM on purpose
        cur.execute(
            "UPDATE inventory_stockmove SET created_at = %s",
            [timezone.now() - dt.timedelta(days=days)],
        )


def test_inv_07_turnover_is_units_sold_over_average_on_hand(store, world, today):
    _backdate_ledger(200)
    report = sel.turnover_report(store=store, today=today, playbook=playbook_get(store=store))
    rows = {r.product_code: r for r in report.products}
    # FAST: 270 sold, 90 on hand every day of the period -> turnover 3
    assert rows["FAST"].units_sold == 270
    assert rows["FAST"].average_inventory == 90
    assert rows["FAST"].turnover == 3
    # SLOW: 9 sold over 90 days with 100 on hand: 1000 days of cover -> slow mover
    assert rows["SLOW"].turnover == Fraction(9, 100)
    assert rows["SLOW"].days_of_cover == 1000
    assert rows["SLOW"].slow is True
    assert rows["FAST"].slow is False
    # category at cost (60.00 a unit): (270 + 9) x 60 / (190 x 60)
    (category,) = report.categories
    assert category.turnover == Fraction(279, 190)


def test_inv_07_average_inventory_follows_the_ledger_through_the_period(store, world, today):
    # given FAST's 90 units received 200 days ago, then 45 adjusted away 30 days ago
    _backdate_ledger(200)
    move = inv.stock_adjust(
        actor=ACTOR,
        sku=world["fast"].skus.get(code="FAST-S"),
        warehouse=world["wh"],
        delta=-45,
        reason="报损",
    )
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "UPDATE inventory_stockmove SET created_at = %s WHERE id = %s",
            [timezone.now() - dt.timedelta(days=30), move.pk],
        )
    report = sel.turnover_report(store=store, today=today, playbook=playbook_get(store=store))
    fast = next(r for r in report.products if r.product_code == "FAST")
    # 60 days at 90 and 30 days at 45 (the adjustment's own day closes at 45): mean 75
    assert fast.average_inventory == Fraction(60 * 90 + 30 * 45, 90)
    assert fast.on_hand == 45


def test_inv_07_slow_mover_check_raises_a_clearance_finding(store, world, today):
    _backdate_ledger(200)
    checks_run(rule="INV-07", store=store, notify=False)
    finding = Finding.objects.get(rule_id="INV-07")
    assert finding.subject_key == f"product:{world['slow'].pk}"
    assert finding.detail["days_of_cover"] == 1000


def test_inv_07_slow_mover_threshold_comes_from_the_playbook(store, world, today):
    from storeops.stores.services import playbook_update

    _backdate_ledger(200)
    playbook_update(actor=ACTOR, store=store, values={"slow_mover_days_of_cover": 1500})
    checks_run(rule="INV-07", store=store, notify=False)
    assert not Finding.objects.filter(rule_id="INV-07").exists()


def test_inv_07_new_products_are_not_flagged(store, world, today):
    from storeops.catalog.models import Product

    _backdate_ledger(200)
    Product.objects.filter(pk=world["slow"].pk).update(listed_on=today - dt.timedelta(days=10))
    checks_run(rule="INV-07", store=store, notify=False)
    assert not Finding.objects.filter(rule_id="INV-07").exists()


def test_inv_07_api_and_console_show_both_tables(store, world, api_as, make_user):
    _backdate_ledger(200)
    data = api_as(Role.WAREHOUSE).get(f"/inventory/{store.pk}/turnover", slow_only="true")
    assert data.status_code == 200
    assert [p["product_code"] for p in data.json()["products"]] == ["SLOW"]
    assert data.json()["categories"][0]["turnover"] == "1.468"
    client = Client()
    client.force_login(make_user(Role.WAREHOUSE))
    page = client.get("/inventory/turnover/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "SLOW" in body
    assert "FAST" in body


def test_inv_07_a_ledger_younger_than_the_period_is_not_read_as_zero_stock_nor_judged_slow(
    store, world, today, make_user
):
    """A store goes live with an opening count 10 days ago; its sales history (imported from
    the channels) reaches back 90 days. Before the fix the 80 days before go-live counted as
    zero stock (average inventory understated, turnover overstated) and the next day's check
    flagged every product "sold nothing in the period" for clearance."""
    _backdate_ledger(10)
    playbook = playbook_get(store=store)
    report = sel.turnover_report(store=store, today=today, playbook=playbook)
    assert report.history_from == today - dt.timedelta(days=10)
    assert (report.start, report.period_days, report.slow_judged) == (
        today - dt.timedelta(days=10),
        10,
        False,
    )
    rows = {r.product_code: r for r in report.products}
    # FAST: 3 a day over the 10 days since go-live, 90 on hand every one of them
    assert (rows["FAST"].units_sold, rows["FAST"].average_inventory) == (30, 90)
    assert rows["FAST"].turnover == Fraction(1, 3)
    assert not any(r.slow for r in report.products)
    checks_run(rule="INV-07", store=store, notify=False)
    assert not Finding.objects.filter(rule_id="INV-07").exists()
    # the opening count today: nothing to show yet, and nothing judged
    _backdate_ledger(0)
    report = sel.turnover_report(store=store, today=today, playbook=playbook)
    assert (report.products, report.history_from, report.slow_judged) == ([], today, False)
    # the page says why
    client = Client()
    client.force_login(make_user(Role.WAREHOUSE))
    assert "库存流水从" in client.get("/inventory/turnover/").content.decode()
