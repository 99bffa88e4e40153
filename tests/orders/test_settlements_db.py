"""Marketplace settlement reconciliation (平台结算对账, SOP ORD-06 for marketplace channels): a
platform's settlement report of a period imported through column aliases, compared per order
number with the channel's orders (unknown, amount differs, matched), completed orders on no
report after the channel's wait days, commissions above the channel's agreed rate, and the
ORD-06 findings raised and resolved."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from storeops.audit.models import AuditEntry
from storeops.core.errors import ValidationError
from storeops.orders import services as svc
from storeops.orders import settlements as st
from storeops.orders.models import SettlementLine, SettlementReport
from storeops.sop.models import Finding
from storeops.stores import services as store_services
from storeops.stores.services import playbook_update
from tests.orders.builders import ACTOR, T0, World, ship
from tests.orders.test_reconcile_db import run_check

pytestmark = pytest.mark.django_db

JUNE = (dt.date(2026, 6, 1), dt.date(2026, 6, 30))
HEADER = "订单编号,业务类型,结算金额,技术服务费,结算时间"


@pytest.fixture
def world(store, channel):
    return World(store, channel, stock_sh=50, stock_gz=50)


def _paid(world, customer="c1", qty=1):
    order = world.place(qty, customer=customer, now=T0)
    world.pay(order, now=T0)
    order.refresh_from_db()
    return order


def _completed(world, customer, *, delivered: dt.datetime, qty=1):
    """An order shipped, delivered at ``delivered`` and completed when its return window (7 days)
    passed: ``completed_at`` is set by ``orders_complete`` as for an imported marketplace order."""
    order = _paid(world, customer, qty)
    ship(order, now=T0)
    svc.order_deliver(actor=ACTOR, order=order, at=delivered)
    svc.orders_complete(now=delivered + dt.timedelta(days=8))
    order.refresh_from_db()
    assert order.status == "completed"
    return order


def csv(*rows: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *rows]).encode()


def _import(store, channel, data, *, period=JUNE, name="settle.csv"):
    start, end = period if period else (None, None)
    return st.settlement_import(
        store=store,
        channel_id=channel.pk,
        file_name=name,
        data=data,
        period_start=start,
        period_end=end,
        actor=ACTOR,
    )


def _results(report):
    return {i.order_number: i.result for i in st.reconcile(report).items}


def test_ord06_settlement_columns_are_found_by_their_aliases_and_refunds_by_type_or_sign():
    data = csv(
        "T1,交易收入,100.00,-5.00,2026-06-03 10:00:00",
        "T2,售后退款,30.00,1.50,2026-06-04 11:00:00",
        "T3,,-20.00,,2026-06-05",
        header="主订单编号,收支类型,货款金额（元）,平台佣金(元),入账时间",
    )
    rows = st.parse_settlement(data, file_name="jd.csv")
    assert [(r.order_number, r.kind, r.amount, r.commission) for r in rows] == [
        ("T1", "settle", Decimal("100.00"), Decimal("5.00")),
        ("T2", "refund", Decimal("30.00"), Decimal("1.50")),
        ("T3", "refund", Decimal("20.00"), Decimal("0")),
    ]
    assert [r.row for r in rows] == [2, 3, 4]
    assert st.settlement_period(rows, None, None) == (dt.date(2026, 6, 3), dt.date(2026, 6, 5))


def test_ord06_settlement_xlsx_with_a_title_line_above_the_header():
    book = Workbook()
    sheet = book.active
    sheet.append(["天猫 结算明细 2026-06"])
    sheet.append(["子订单编号", "类型", "实收金额", "扣点", "账务时间"])
    sheet.append(["A1", "结算", 88.5, 4.43, "2026-06-09 12:00:00"])
    buffer = io.BytesIO()
    book.save(buffer)
    rows = st.parse_settlement(buffer.getvalue(), file_name="tm.xlsx")
    assert [(r.row, r.order_number, r.kind, r.amount, r.commission) for r in rows] == [
        (3, "A1", "settle", Decimal("88.50"), Decimal("4.43"))
    ]


def test_ord06_bad_settlement_rows_are_listed_by_line_and_nothing_is_written(world, store, channel):
    data = csv(
        "T1,交易,100.00,5.00,2026-06-03",
        ",交易,1.00,,",
        "T3,交易,abc,,",
        "T4,交易,0,,",
        "T5,交易,1.00,,0001-01-01",
    )
    with pytest.raises(ValidationError) as exc:
        _import(store, channel, data)
    text = exc.value.fields["file"]
    assert "第 3 行 订单号：必填" in text
    assert "第 4 行 结算金额：不是有效的金额：abc" in text
    assert "第 5 行 结算金额：金额不能为 0" in text
    assert "第 6 行 结算时间：时间不在 2000–2100 年之间：0001-01-01" in text
    assert exc.value.code == "settlement_rows_invalid"
    assert not SettlementReport.objects.exists()
    assert not SettlementLine.objects.exists()


@pytest.mark.parametrize(
    ("period", "field"),
    [
        ((dt.date(2026, 6, 30), dt.date(2026, 6, 1)), "period_start"),
        ((dt.date(2026, 3, 1), dt.date(2026, 6, 30)), "period_start"),
        ((dt.date(1999, 12, 1), dt.date(2000, 1, 5)), "period_start"),
        ((dt.date(9999, 12, 1), dt.date(9999, 12, 31)), "period_end"),  # would overflow the day's end
    ],
)
def test_ord06_settlement_period_is_validated(world, store, channel, period, field):
    with pytest.raises(ValidationError) as exc:
        _import(store, channel, csv("T1,交易,100.00,5.00,2026-06-03"), period=period)
    assert field in exc.value.fields
    assert not SettlementReport.objects.exists()


def test_ord06_settlement_without_period_or_times_is_refused_and_own_web_has_none(world, store, channel):
    with pytest.raises(ValidationError) as exc:
        _import(store, channel, csv("T1,交易,100.00,5.00,"), period=None)
    assert set(exc.value.fields) == {"period_start", "period_end"}
    web = store_services.channel_create(actor=ACTOR, store=store, kind="own_web", code="web", name="官网")
    with pytest.raises(ValidationError) as exc:
        _import(store, web, csv("T1,交易,100.00,5.00,2026-06-03"))
    assert "channel_id" in exc.value.fields


def test_ord06_settlement_period_defaults_to_the_settlement_days(world, store, channel):
    report = _import(
        store,
        channel,
        csv("T1,交易,100.00,5.00,2026-06-03 10:00", "T2,交易,50.00,2.00,2026-06-07"),
        period=None,
    )
    assert (report.period_start, report.period_end) == (dt.date(2026, 6, 3), dt.date(2026, 6, 7))
    assert (report.gross_amount, report.commission_total, report.net_amount) == (
        Decimal("150.00"),
        Decimal("7.00"),
        Decimal("143.00"),
    )


def test_ord06_settlement_each_kind_of_mismatch(world, store, channel):
    matched = _paid(world, "c1")
    short = _paid(world, "c2")
    refunded = _paid(world, "c3", qty=2)
    ship(refunded, now=T0)
    refunded.refresh_from_db()
    line = refunded.lines.get()
    svc.order_refund(actor=ACTOR, order=refunded, units={line.pk: 1}, reason="退一件")
    refunded.refresh_from_db()
    assert refunded.paid_amount - refunded.refunded_amount == Decimal("100.00")
    data = csv(
        f"{matched.number},交易,100.00,5.00,2026-06-03",
        f"{short.number},交易,90.00,4.50,2026-06-03",
        f"{refunded.number},交易,200.00,10.00,2026-06-03",
        f"{refunded.number},售后退款,100.00,5.00,2026-06-04",
        "NOPE-1,交易,10.00,0.50,2026-06-04",
    )
    report = _import(store, channel, data)
    result = st.reconcile(report)
    assert _results(report) == {
        matched.number: "matched",
        short.number: "amount_differs",
        refunded.number: "matched",
        "NOPE-1": "unknown",
    }
    assert [i.order_number for i in result.differences] == ["NOPE-1", short.number]
    item = next(i for i in result.items if i.order_number == short.number)
    assert (item.net, item.store_amount) == (Decimal("90.00"), Decimal("100.00"))
    both = next(i for i in result.items if i.order_number == refunded.number)
    assert (both.settled, both.refunded, both.commission, both.rows) == (
        Decimal("200.00"),
        Decimal("100.00"),
        Decimal("5.00"),
        [4, 5],
    )
    report.refresh_from_db()
    assert report.differences == 2
    assert report.compared_at is not None


def test_ord06_a_refund_taken_back_in_the_next_period_matches_once_both_reports_are_in(world, store, channel):
    # given: an order of 200.00 settled in June, one unit refunded after, taken back in July
    order = _paid(world, "c1", qty=2)
    ship(order, now=T0)
    order.refresh_from_db()
    svc.order_refund(actor=ACTOR, order=order, units={order.lines.get().pk: 1}, reason="退一件")
    june = _import(store, channel, csv(f"{order.number},交易,200.00,10.00,2026-06-03"))
    # the refund not yet taken back: June alone differs
    assert _results(june) == {order.number: "amount_differs"}

    # when
    july = _import(
        store,
        channel,
        csv(f"{order.number},售后退款,100.00,5.00,2026-07-02"),
        period=(dt.date(2026, 7, 1), dt.date(2026, 7, 31)),
    )

    # then: both reports see the order's whole settlement
    assert _results(july) == {order.number: "matched"}
    assert _results(june) == {order.number: "matched"}
    (item,) = st.reconcile(july).items
    assert (item.net, item.elsewhere, item.store_amount) == (
        Decimal("-100.00"),
        Decimal("200.00"),
        Decimal("100.00"),
    )


def test_ord06_an_order_settled_on_two_reports_differs_on_both(world, store, channel):
    order = _paid(world, "c1")
    row = f"{order.number},交易,100.00,5.00,2026-06-03"
    first = _import(store, channel, csv(row), period=(dt.date(2026, 6, 1), dt.date(2026, 6, 15)))
    second = _import(store, channel, csv(row), period=(dt.date(2026, 6, 1), dt.date(2026, 6, 30)))
    assert _results(first) == {order.number: "amount_differs"}
    assert _results(second) == {order.number: "amount_differs"}


def test_ord06_settlement_orders_of_another_channel_are_unknown(world, store, channel):
    order = _paid(world, "c1")
    other = store_services.channel_create(actor=ACTOR, store=store, kind="jd", code="jd", name="京东店")
    report = _import(store, other, csv(f"{order.number},交易,100.00,5.00,2026-06-03"))
    assert _results(report) == {order.number: "unknown"}


def test_ord06_not_settled_after_the_channels_wait_days(world, store, channel):
    early = _completed(world, "c1", delivered=T0 + dt.timedelta(days=1))  # completed 06-10
    late = _completed(world, "c2", delivered=T0 + dt.timedelta(days=12))  # completed 06-21
    settled = _completed(world, "c3", delivered=T0 + dt.timedelta(days=1))
    _paid(world, "c4")  # paid, not completed: the platform has not settled it yet
    report = _import(store, channel, csv(f"{settled.number},交易,100.00,5.00,2026-06-12"))
    missing = st.report_not_settled(report)  # default: 15 days before 06-30 → completed before 06-16
    assert [m.number for m in missing] == [early.number]
    assert missing[0].amount == Decimal("100.00")
    playbook_update(actor=ACTOR, store=store, channel=channel, values={"settlement_wait_days": 5})
    assert [m.number for m in st.report_not_settled(report)] == [early.number, late.number]
    # an order settled on a later report of the channel is not missing any more
    _import(
        store,
        channel,
        csv(f"{early.number},交易,100.00,5.00,2026-07-02"),
        period=(dt.date(2026, 7, 1), dt.date(2026, 7, 31)),
    )
    assert [m.number for m in st.report_not_settled(report)] == [late.number]


def test_ord06_orders_completed_before_the_first_period_are_not_asked_for(world, store, channel):
    old = _completed(world, "c1", delivered=T0 + dt.timedelta(days=1))  # completed 06-10
    report = _import(
        store, channel, csv("X,交易,1.00,,2026-07-02"), period=(dt.date(2026, 7, 1), dt.date(2026, 7, 31))
    )
    assert st.report_not_settled(report) == []
    assert old.completed_at is not None


def test_ord06_commission_above_the_channels_agreed_rate(world, store, channel):
    data = csv(
        "T1,交易,100.00,5.00,2026-06-03",
        "T2,交易,100.00,5.01,2026-06-03",  # within a cent of rounding
        "T3,交易,100.00,8.00,2026-06-03",
        "T4,售后退款,100.00,9.00,2026-06-04",  # a refund's commission is handed back: not checked
    )
    report = _import(store, channel, data)
    assert st.commission_rate(report) == 0
    assert st.commission_over(report, rate=st.commission_rate(report)) == []
    other = store_services.channel_create(actor=ACTOR, store=store, kind="jd", code="jd", name="京东店")
    playbook_update(
        actor=ACTOR, store=store, channel=channel, values={"settlement_commission_rate_max": "0.05"}
    )
    rate = st.commission_rate(report)
    assert rate == Decimal("0.05")
    over = st.commission_over(report, rate=rate)
    assert [(o.order_number, o.expected, o.over) for o in over] == [("T3", Decimal("5.00"), Decimal("3.00"))]
    jd = _import(store, other, data)
    assert st.commission_rate(jd) == 0  # the override is the channel's own


def test_ord06_importing_the_same_period_again_replaces_the_report(world, store, channel):
    first = _import(store, channel, csv("T1,交易,100.00,5.00,2026-06-03"), name="a.csv")
    second = _import(
        store, channel, csv("T1,交易,100.00,5.00,2026-06-03", "T2,交易,1.00,,2026-06-04"), name="b.csv"
    )
    assert SettlementReport.objects.count() == 1
    assert not SettlementReport.objects.filter(pk=first.pk).exists()
    assert second.lines.count() == 2
    assert SettlementLine.objects.count() == 2
    entry = AuditEntry.objects.filter(action="settlement_report.import").order_by("at").last()
    assert entry.before["file_name"] == "a.csv"
    # a file refused on the second import leaves the first one as it was
    with pytest.raises(ValidationError):
        _import(store, channel, csv("T9,交易,x,,2026-06-03"), name="c.csv")
    assert SettlementReport.objects.get().file_name == "b.csv"


def test_ord06_check_raises_settlement_findings_and_resolves_them(world, store, channel):
    short = _paid(world, "c1")
    early = _completed(world, "c2", delivered=T0 + dt.timedelta(days=1))
    report = _import(store, channel, csv(f"{short.number},交易,90.00,4.50,2026-06-03"))
    now = dt.datetime(2026, 7, 2, 2, 0, tzinfo=dt.UTC)
    run_check("ORD-06", store=store, now=now)
    differs = Finding.objects.get(subject_key=f"settlement:{channel.code}:2026-06-01~2026-06-30")
    assert differs.status == "open"
    assert differs.severity == "warning"
    assert differs.owner_role == "finance"
    assert differs.title == f"{channel.name} 2026-06-01~2026-06-30 平台结算单：1 笔差异，0 笔佣金高于约定费率"
    missing = Finding.objects.get(subject_key=f"settlement-missing:{channel.code}")
    assert missing.detail["orders"] == [early.number]
    # a corrected report settles both orders right: both findings resolve
    _import(
        store,
        channel,
        csv(f"{short.number},交易,100.00,5.00,2026-06-03", f"{early.number},交易,100.00,5.00,2026-06-12"),
    )
    run_check("ORD-06", store=store, now=now + dt.timedelta(hours=1))
    differs.refresh_from_db()
    missing.refresh_from_db()
    assert (differs.status, missing.status) == ("resolved", "resolved")
    assert report.pk != SettlementReport.objects.get().pk


def test_ord06_check_raises_commission_over_the_channel_rate(world, store, channel):
    order = _paid(world, "c1")
    _import(store, channel, csv(f"{order.number},交易,100.00,8.00,2026-06-03"))
    now = dt.datetime(2026, 7, 2, 2, 0, tzinfo=dt.UTC)
    run_check("ORD-06", store=store, now=now)
    assert not Finding.objects.filter(subject_key__startswith="settlement:").exists()
    playbook_update(
        actor=ACTOR, store=store, channel=channel, values={"settlement_commission_rate_max": "0.05"}
    )
    run_check("ORD-06", store=store, now=now)
    finding = Finding.objects.get(subject_key__startswith="settlement:")
    assert finding.detail["commission_over"] == 1
    assert "1 笔佣金高于约定费率" in finding.title
