"""Do the store's money figures reconcile? One store with discounts, a partial refund, a
cancellation after payment, a mismatched payment handed back, an imported marketplace order
and orders on both sides of local midnight; every reader (DATA-01 daily GMV, TEAM-01 GMV,
DATA-06 report, DATA-08 revenue, ORD-07 invoice amount, the daily sales table) is compared
with the truth computed from the order rows.

Conventions (docs/operations.md): GMV is what was paid for the orders paid in the period,
later refunds and cancellations included; DATA-08 revenue ("销售额") is paid less refunded;
days are the store's local days (Asia/Shanghai), not UTC days."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from storeops.accounts.roles import Role
from storeops.analytics import reports, selectors
from storeops.catalog.models import SalesDaily
from storeops.orders import imports, invoices
from storeops.orders import selectors as order_selectors
from storeops.orders import services as svc
from storeops.orders.models import Order, PaymentRefund
from storeops.orders.payments import TestGateway
from tests.aftersales.builders import a_discount
from tests.orders import import_files as f
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db

D = dt.date(2026, 6, 10)
NEXT = D + dt.timedelta(days=1)


def _local(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute, second)))


def _sold(world: World, qty: int, customer: str, at: dt.datetime) -> Order:
    order = world.place(qty, customer=customer, now=at)
    world.pay(order, now=at)
    return order


@pytest.fixture
def books(store, channel):
    """Orders paid on local day D (some on the previous UTC day) and one just after it."""
    world = World(store, channel, stock_sh=50, stock_gz=50)
    a_discount(store)  # 满100减10: 3 × 100 → 290.00 (96.67 + 96.67 + 96.66), 1 × 100 → 90.00
    early = _sold(world, 3, "early", _local(D, 0, 30))  # 2026-06-09 16:30 UTC
    _sold(world, 1, "late", _local(D, 23, 30))
    _sold(world, 1, "after", _local(NEXT, 0, 10))  # 2026-06-10 16:10 UTC: the next local day
    cancelled = _sold(world, 2, "cancel", _local(D, 12))  # 190.00, cancelled before shipping
    svc.order_cancel(actor=ACTOR, order=cancelled, reason="顾客取消", now=_local(D, 13))
    svc.order_refund(actor=ACTOR, order=early, units={early.lines.get().pk: 1}, reason="少发一件")
    # a payment of the wrong amount is handed back; the order is then paid properly
    mismatched = world.place(1, customer="mismatch", now=_local(D, 9))
    payment = svc.payment_start(actor=ACTOR, order=mismatched, now=_local(D, 9))
    body, headers = TestGateway().callback(
        reference=payment.reference, amount=Decimal("1.00"), outcome="succeeded"
    )
    handed = svc.payment_callback(provider="test", body=body, headers=headers, now=_local(D, 9, 1))
    assert handed.result == "amount_mismatch"
    world.pay(mismatched, now=_local(D, 9, 5))
    # a Tmall order paid on the platform at 00:06 local time
    row = ["T1", "buyer_x", "李四", "13900001111", "浙江省 杭州市 西湖区 文三路1号", "x", "P1-S", "2", "",
           "150.00", "", "2026-06-10 00:05:00", "2026-06-10 00:06:00", ""]  # fmt: skip
    report = imports.orders_import(
        actor=ACTOR,
        store=store,
        channel=channel,
        source=io.BytesIO(f.csv_bytes(f.TMALL_HEADER, [row])),
        filename="tmall.csv",
    )
    assert report.ok, report.errors
    return world, early


def _truth(store, day: dt.date) -> tuple[Decimal, Decimal, set[str]]:
    """GMV (paid, later refunds included), net (paid less refunded) and buyers of the orders
    whose payment falls on the local ``day``, from the order rows."""
    gmv, net, buyers = Decimal(0), Decimal(0), set()
    for order in Order.objects.filter(store=store, paid_at__isnull=False):
        if timezone.localtime(order.paid_at).date() == day:
            gmv += order.paid_amount
            net += order.paid_amount - order.refunded_amount
            buyers.add(order.customer_ref)
    return gmv, net, buyers


def test_data_01_team_01_data_06_data_08_ord_07_agree_on_one_local_day(store, books):
    _world, early = books
    gmv, net, buyers = _truth(store, D)
    # 150 (import) + 290 (early) + 90 (late) + 190 (cancelled) + 90 (mismatch, paid again)
    assert (gmv, net, len(buyers)) == (Decimal("810.00"), Decimal("523.33"), 5)
    until = _local(NEXT, 0)
    # DATA-01: the local day, not the UTC day (early was paid on 2026-06-09 UTC)
    day = order_selectors.daily_sales(store, start=D, end=D)[D]
    assert (day.gmv, day.buyers, day.paid) == (gmv, len(buyers), 5)
    metrics = selectors.daily_metrics(store=store, days=1, end=D).days[0]
    assert metrics.aov == (gmv / len(buyers)).quantize(Decimal("0.01")) == Decimal("162.00")
    # TEAM-01 over the same day
    team = selectors.team_kpis(store=store, until=until, days=1)
    assert next(k for k in team.kpis if k.code == "gmv").value == gmv
    # DATA-06: the daily report of D
    rows = {
        r["code"]: r["value"]
        for s in reports.report_build(store=store, kind="daily", start=D, end=NEXT)["sections"]
        for r in s["rows"]
    }
    assert (rows["gmv"], rows["orders"], rows["buyers"], rows["aov"]) == ("810.00", "5", "5", "162.00")
    # DATA-08: revenue is what was kept; the cancelled order counts nothing
    total = selectors.profitability(store=store, until=until, days=1).total
    assert (total.revenue, total.units) == (net, 2 + 2 + 1 + 1)
    # the money handed back for the mismatched payment is a refund record, not the order's
    handed_back = PaymentRefund.objects.get(order__customer_ref="mismatch")
    assert handed_back.amount == Decimal("1.00")
    assert Order.objects.get(customer_ref="mismatch").refunded_amount == 0
    # ORD-07: the invoice of the partly refunded order states what was kept
    early.refresh_from_db()
    assert invoices.net_paid(early) == Decimal("193.33")
    # the daily sales table holds what was paid that day (gross, like the channels' statistics)
    sales = SalesDaily.objects.filter(store=store, day=D)
    assert sum(r.revenue for r in sales) == gmv


def test_team_01_and_data_08_default_period_is_whole_local_days_like_data_01(store, channel):
    world = World(store, channel, stock_sh=50, stock_gz=0)
    today = timezone.localdate()
    first = today - dt.timedelta(days=7)
    _sold(world, 1, "first", _local(first, 0, 0, 30))  # the first minute of the 7 days
    _sold(world, 2, "today", _local(today, 0, 0, 30))  # today: not one of the 7 whole days
    team = selectors.team_kpis(store=store, days=7)
    assert (team.since, team.until) == (_local(first, 0), _local(today, 0))
    days = order_selectors.daily_sales(store, start=first, end=today - dt.timedelta(days=1))
    gmv = next(k for k in team.kpis if k.code == "gmv").value
    assert gmv == sum(d.gmv for d in days.values()) == Decimal("100.00")
    report = selectors.profitability(store=store, days=7)
    assert (report.first_day, report.last_day) == (first, today - dt.timedelta(days=1))
    assert report.total.revenue == Decimal("100.00")


def test_data_08_page_and_excel_name_the_local_days_of_the_period(store, channel, make_user):
    world = World(store, channel, stock_sh=50, stock_gz=0)
    today = timezone.localdate()
    _sold(world, 1, "c1", _local(today - dt.timedelta(days=1), 12))
    client = Client()
    client.force_login(make_user(Role.FINANCE))
    period = f"{today - dt.timedelta(days=7):%Y-%m-%d} – {today - dt.timedelta(days=1):%Y-%m-%d}"
    assert period in client.get("/profitability/?days=7").content.decode()
    sheet = load_workbook(io.BytesIO(client.get("/profitability/?days=7&format=xlsx").content)).active
    assert sheet["B1"].value == period


def test_data_01_data_06_aov_is_labelled_per_buyer_not_per_order(store, books):
    # AOV is GMV ÷ buyers (the spec's decomposition GMV = UV × CR × AOV), which is not the
    # average of the orders when a buyer pays twice: the label says which it is
    from django.utils import translation

    from storeops.analytics.models import OperationsReport

    data = reports.report_build(store=store, kind="daily", start=D, end=NEXT)
    report = OperationsReport(store=store, kind="daily", period_start=D, period_end=NEXT, data=data)
    for language, label in (("zh-hans", "客单价（GMV÷买家）"), ("en", "AOV (GMV ÷ buyers)")):
        with translation.override(language):
            rows = {r["code"]: r["label"] for s in reports.report_rows(report) for r in s["rows"]}
            assert rows["aov"] == label
