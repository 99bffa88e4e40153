"""Marketplace settlement reconciliation through the API (SOP ORD-06): finance uploads a
platform's settlement report, lists the reports by channel and reads the comparison (paged
items, commissions over the channel's rate, orders not settled); a bad file is a 422 naming its
lines and writes nothing; roles without the permission are refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from storeops.accounts.roles import Role
from storeops.orders.models import SettlementReport
from storeops.stores import services as store_services
from storeops.stores.services import playbook_update
from tests.orders.builders import ACTOR, T0, World
from tests.orders.test_settlements_db import _completed, _paid, csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel, stock_sh=20, stock_gz=20)


def _upload(api, store, channel, data, **fields):
    body = {"channel_id": channel.pk, "period_start": "2026-06-01", "period_end": "2026-06-30", **fields}
    body["file"] = SimpleUploadedFile("settle.csv", data)
    return api.client.post(f"/api/v1/orders/finance/{store.pk}/settlements", body, **api.headers)


def test_ord06_finance_uploads_a_settlement_and_reads_the_comparison(api_as, world, store, channel):
    short = _paid(world, "c1")
    matched = _paid(world, "c2")
    waiting = _completed(world, "c3", delivered=T0 + dt.timedelta(days=1))
    playbook_update(
        actor=ACTOR, store=store, channel=channel, values={"settlement_commission_rate_max": "0.05"}
    )
    finance = api_as(Role.FINANCE)
    data = csv(
        f"{short.number},交易,90.00,4.50,2026-06-03",
        f"{matched.number},交易,100.00,8.00,2026-06-03",
        "NOPE,交易,1.00,0.05,2026-06-04",
    )
    r = _upload(finance, store, channel, data)
    assert r.status_code == 201, r.content
    report = r.json()
    assert (
        report["lines_count"],
        report["gross_amount"],
        report["commission_total"],
        report["net_amount"],
    ) == (
        3,
        "191.00",
        "12.55",
        "178.45",
    )
    assert report["differences"] == 2
    r = finance.get(f"/orders/finance/{store.pk}/settlements/{report['id']}?page_size=1")
    assert r.status_code == 200, r.content
    detail = r.json()
    assert (detail["items_total"], detail["differences"], detail["counts"]) == (
        3,
        2,
        {"unknown": 1, "amount_differs": 1, "matched": 1},
    )
    assert [(i["order_number"], i["result"], i["result_label"]) for i in detail["items"]] == [
        ("NOPE", "unknown", "本渠道无此订单")
    ]
    r = finance.get(f"/orders/finance/{store.pk}/settlements/{report['id']}?page=2&page_size=1")
    second = r.json()["items"][0]
    assert (second["order_number"], second["result"], second["net"], second["store_amount"]) == (
        short.number,
        "amount_differs",
        "90.00",
        "100.00",
    )
    assert detail["commission_rate"] == "0.05"
    assert [(c["order_number"], c["expected_commission"]) for c in detail["commission_over"]] == [
        (matched.number, "5.00")
    ]
    assert (detail["wait_days"], detail["not_settled_total"]) == (15, 1)
    assert detail["not_settled"][0]["order_number"] == waiting.number
    r = finance.get(f"/orders/finance/{store.pk}/settlements/{report['id']}?page_size=501&page=0")
    assert r.status_code == 422
    assert set(r.json()["fields"]) == {"page", "page_size"}


def test_ord06_the_settlement_detail_pages_the_commissions_above_the_rate(api_as, world, store, channel):
    # given three lines charged 8 % (agreed 5 %): commission_over listed every one of them
    playbook_update(
        actor=ACTOR, store=store, channel=channel, values={"settlement_commission_rate_max": "0.05"}
    )
    finance = api_as(Role.FINANCE)
    data = csv(*(f"TM{n},交易,100.00,8.00,2026-06-03" for n in (1, 2, 3)))
    report = _upload(finance, store, channel, data).json()
    url = f"/orders/finance/{store.pk}/settlements/{report['id']}"

    # when
    first = finance.get(url, commission_page_size=2)
    second = finance.get(url, commission_page=2, commission_page_size=2)
    bad = finance.get(url, commission_page=0, commission_page_size=501, page_size=0)

    # then: by row, two a page, with the total; the items' own paging is untouched
    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["commission_over_total"], body["commission_page"], body["commission_page_size"]) == (3, 1, 2)
    assert [c["order_number"] for c in body["commission_over"]] == ["TM1", "TM2"]
    assert (body["items_total"], len(body["items"])) == (3, 3)
    page2 = second.json()
    assert [(c["row"], c["order_number"], c["expected_commission"]) for c in page2["commission_over"]] == [
        (4, "TM3", "5.00")
    ]
    assert page2["commission_page"] == 2
    assert bad.status_code == 422
    assert set(bad.json()["fields"]) == {"commission_page", "commission_page_size", "page_size"}


def test_ord06_the_settlement_detail_pages_the_orders_not_settled(api_as, world, store, channel):
    # given three completed orders no report names (the API listed the first 200 only)
    waiting = [
        _completed(world, f"w{n}", delivered=T0 + dt.timedelta(days=1, hours=n)).number for n in range(3)
    ]
    finance = api_as(Role.FINANCE)
    report = _upload(finance, store, channel, csv("OTHER,交易,1.00,,2026-06-03")).json()
    url = f"/orders/finance/{store.pk}/settlements/{report['id']}"

    # when
    first = finance.get(url, not_settled_page_size=2)
    second = finance.get(url, not_settled_page=2, not_settled_page_size=2)
    bad = finance.get(url, not_settled_page=0, not_settled_page_size=501)

    # then: oldest first, two a page, with the total
    body = first.json()
    assert (body["not_settled_total"], body["not_settled_page"], body["not_settled_page_size"]) == (3, 1, 2)
    assert [m["order_number"] for m in body["not_settled"]] == waiting[:2]
    assert [m["order_number"] for m in second.json()["not_settled"]] == waiting[2:]
    assert bad.status_code == 422
    assert set(bad.json()["fields"]) == {"not_settled_page", "not_settled_page_size"}


def test_ord06_settlement_list_is_paged_and_filtered_by_channel(api_as, world, store, channel):
    other = store_services.channel_create(actor=ACTOR, store=store, kind="jd", code="jd", name="京东店")
    finance = api_as(Role.FINANCE)
    assert _upload(finance, store, channel, csv("A,交易,1.00,,2026-06-03")).status_code == 201
    assert _upload(finance, store, other, csv("B,交易,1.00,,2026-06-03")).status_code == 201
    r = finance.get(f"/orders/finance/{store.pk}/settlements?page_size=1")
    body = r.json()
    assert (body["total"], body["page"], body["page_size"], len(body["items"])) == (2, 1, 1, 1)
    r = finance.get(f"/orders/finance/{store.pk}/settlements?channel_id={other.pk}")
    assert [i["channel_name"] for i in r.json()["items"]] == ["京东店"]


def test_ord06_a_bad_settlement_file_is_a_422_and_writes_nothing(api_as, world, store, channel):
    finance = api_as(Role.FINANCE)
    r = _upload(finance, store, channel, csv("A,交易,1.00,,", "B,交易,abc,,"))
    assert r.status_code == 422
    assert "第 3 行" in r.json()["fields"]["file"]
    r = _upload(finance, store, channel, csv("A,交易,1.00,,"), period_start="2026-07-01")
    assert r.status_code == 422
    assert "period_start" in r.json()["fields"]
    assert not SettlementReport.objects.exists()


def test_ord06_settlement_error_in_english(api_as, world, store, channel):
    finance = api_as(Role.FINANCE)
    body = {"channel_id": channel.pk, "file": SimpleUploadedFile("s.csv", csv("A,交易,abc,,"))}
    r = finance.client.post(
        f"/api/v1/orders/finance/{store.pk}/settlements", body, HTTP_ACCEPT_LANGUAGE="en", **finance.headers
    )
    assert r.status_code == 422
    assert "Line 2" in r.json()["fields"]["file"]


@pytest.mark.parametrize("role", [Role.CUSTOMER_SERVICE, Role.WAREHOUSE, Role.MARKETING, Role.OPERATIONS])
def test_ord06_only_finance_imports_settlements(api_as, world, store, channel, role):
    api = api_as(role)
    assert _upload(api, store, channel, csv("A,交易,1.00,,2026-06-03")).status_code == 403
    assert not SettlementReport.objects.exists()


@pytest.mark.parametrize("role", [Role.CUSTOMER_SERVICE, Role.WAREHOUSE])
def test_ord06_settlements_are_finance_data(api_as, world, store, channel, role):
    assert api_as(role).get(f"/orders/finance/{store.pk}/settlements").status_code == 403
