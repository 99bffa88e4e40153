"""Marketplace settlement reconciliation on the console (SOP ORD-06): finance uploads a
platform's settlement report, sees the difference, the commissions over the channel's rate and
the orders not settled; a refused upload keeps the channel and period chosen (422); the pages
read in Chinese and English; the finding links to the report; other roles cannot import."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from storeops.accounts.roles import Role
from storeops.console.subjects import subject_link
from storeops.orders.models import SettlementReport
from storeops.stores.services import playbook_update
from tests.orders.builders import ACTOR, T0, World
from tests.orders.test_settlements_db import _completed, _paid, csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _client(make_user, role, **kwargs):
    client = Client()
    client.force_login(make_user(role, **kwargs))
    return client


def _upload(client, channel, data, *, follow=False, **fields):
    body = {"channel_id": channel.pk, "period_start": "2026-06-01", "period_end": "2026-06-30", **fields}
    body["file"] = SimpleUploadedFile("tmall-202606.csv", data)
    return client.post("/finance/settlements/upload/", body, follow=follow)


def test_ord06_finance_uploads_a_settlement_and_sees_its_differences(world, store, channel, make_user):
    short = _paid(world, "c1")
    matched = _paid(world, "c2")
    waiting = _completed(world, "c3", delivered=T0 + dt.timedelta(days=1))
    playbook_update(
        actor=ACTOR, store=store, channel=channel, values={"settlement_commission_rate_max": "0.05"}
    )
    finance = _client(make_user, Role.FINANCE)
    r = _upload(
        finance,
        channel,
        csv(f"{short.number},交易,90.00,4.50,2026-06-03", f"{matched.number},交易,100.00,8.00,2026-06-03"),
    )
    report = SettlementReport.objects.get()
    assert r.status_code == 302
    assert r["Location"] == f"/finance/settlements/{report.pk}/"
    page = finance.get(r["Location"]).content.decode()
    assert "金额不符" in page
    assert short.number in page
    assert "¥177.50" in page  # net: 190.00 − 12.50 commission
    assert matched.number in page  # listed under the commission over the rate
    assert "佣金高于约定费率 5%：1 笔" in page
    assert "已完成未结算的订单：1 笔" in page
    assert waiting.number in page
    everything = finance.get(f"/finance/settlements/{report.pk}/?show=all").content.decode()
    assert "一致" in everything
    listing = finance.get(f"/finance/settlements/?channel={channel.pk}").content.decode()
    assert "2026-06-01 – 2026-06-30" in listing
    assert "tmall-202606.csv" in listing
    assert 'href="/finance/settlements/"' in finance.get("/finance/payments/").content.decode()  # in the nav


def test_ord06_a_refused_settlement_upload_keeps_the_channel_and_period(world, store, channel, make_user):
    finance = _client(make_user, Role.FINANCE)
    for data in (None, csv("A,交易,abc,,")):
        body = {"channel_id": str(channel.pk), "period_start": "2026-06-01", "period_end": "2026-06-30"}
        if data is not None:
            body["file"] = SimpleUploadedFile("bad.csv", data)
        r = finance.post("/finance/settlements/upload/", body)
        assert r.status_code == 422
        html = r.content.decode()
        assert f'<option value="{channel.pk}" selected>' in html
        assert 'name="period_start" value="2026-06-01"' in html
        assert 'name="period_end" value="2026-06-30"' in html
        assert list(r.context["messages"])
    assert "第 2 行 结算金额" in str(next(iter(r.context["messages"])))
    assert not SettlementReport.objects.exists()


def test_ord06_settlement_pages_read_in_english(world, store, channel, make_user):
    short = _paid(world, "c1")
    english = _client(make_user, Role.FINANCE, username="fin_en", language="en")
    r = _upload(
        english, channel, csv(f"{short.number},交易,90.00,4.50,2026-06-03", "NOPE,交易,1.00,,"), follow=True
    )
    page = r.content.decode()
    notes = [str(m) for m in r.context["messages"]]
    assert notes == [f"Settlement report of {channel.name} 2026-06-01~2026-06-30 imported: 2 lines"]
    assert "Amount mismatch" in page
    assert "No such order in this channel" in page
    assert "金额不符" not in page
    listing = english.get("/finance/settlements/").content.decode()
    assert "Marketplace settlement reconciliation" in listing
    assert "平台结算对账" not in listing


def test_ord06_settlement_finding_links_to_the_report(world, store, channel, make_user):
    report_id = 7
    assert (
        subject_link("orders.settlementreport", "7", {"settlement": report_id}) == "/finance/settlements/7/"
    )
    service = make_user(Role.CUSTOMER_SERVICE)
    assert subject_link("orders.settlementreport", "7", {"settlement": report_id}, user=service) is None


@pytest.mark.parametrize("role", [Role.CUSTOMER_SERVICE, Role.WAREHOUSE, Role.OPERATIONS])
def test_ord06_only_finance_imports_settlements_on_the_console(world, store, channel, make_user, role):
    r = _upload(_client(make_user, role), channel, csv("A,交易,1.00,,2026-06-03"))
    assert r.status_code == 403
    assert not SettlementReport.objects.exists()


def test_ord06_commissions_over_the_rate_are_paged_under_their_own_pager(world, store, channel, make_user):
    playbook_update(
        actor=ACTOR, store=store, channel=channel, values={"settlement_commission_rate_max": "0.05"}
    )
    rows = [f"X{n:03d},交易,100.00,9.00,2026-06-03" for n in range(101)]
    finance = _client(make_user, Role.FINANCE)
    assert _upload(finance, channel, csv(*rows)).status_code == 302
    report = SettlementReport.objects.get()
    first = finance.get(f"/finance/settlements/{report.pk}/").content.decode()
    assert "佣金高于约定费率 5%：101 笔" in first
    over = first.split("佣金高于约定费率 5%")[1]  # the commission table, below the orders
    assert 'cpage=2">' in over
    assert ">X099</td>" in over
    assert ">X100</td>" not in over
    second = (
        finance.get(f"/finance/settlements/{report.pk}/?cpage=2")
        .content.decode()
        .split("佣金高于约定费率 5%")[1]
    )
    assert ">X100</td>" in second
    assert ">X099</td>" not in second
