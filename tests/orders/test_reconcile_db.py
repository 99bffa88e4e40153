"""Payment reconciliation (支付对账, SOP ORD-06: payment callbacks applied exactly once — and
checked against what the provider says it collected): statements imported in the WeChat Pay,
Alipay and generic formats, compared with our payments and refunds, a payment whose
callback was lost applied from the statement, the daily ledger and the ORD-06 check."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from openpyxl import Workbook

from storeops.audit.models import AuditEntry
from storeops.core.errors import Conflict, NotFound, ValidationError
from storeops.orders import reconcile as rc
from storeops.orders import services as svc
from storeops.orders.models import (
    PaymentCallback,
    PaymentRefund,
    PaymentStatement,
    PaymentStatementLine,
    PaymentStatus,
)
from storeops.orders.payments import TestGateway
from storeops.sop.models import Finding
from storeops.sop.registry import get_check
from storeops.sop.services import check_run
from storeops.stores.services import playbook_update
from tests.orders.builders import ACTOR, T0, World

pytestmark = pytest.mark.django_db

DAY = timezone.localdate(T0)  # 2026-06-01 (T0 is 18:00 in Shanghai)
HOUR = dt.timedelta(hours=1)

WECHAT_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
    "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
    "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)


def wechat_bill(
    rows: list[tuple[str, str, str, str, str, str]], *, when: str = "2026-06-01 18:00:00"
) -> bytes:
    """A WeChat Pay trade bill (ALL): rows of (status, 商户订单号, amount, 商户退款单号,
    refund amount, fee); every value backtick-prefixed, totals after the detail."""
    lines = [WECHAT_HEADER]
    for status, ref, amount, refund_ref, refund_amount, fee in rows:
        refund_id = f"5030{refund_ref}" if refund_ref else ""
        values = [when, "wx1", "1900000001", "", "", f"42000{ref}", ref, "oUser", "NATIVE", status,
                  "CMB_CREDIT", "CNY", amount, "0.00", refund_id, refund_ref, refund_amount or "0.00",
                  "0.00", "ORIGINAL" if refund_ref else "", "SUCCESS" if refund_ref else "", "商品", "",
                  fee, "0.60%", amount, refund_amount or "0.00", ""]  # fmt: skip
        lines.append(",".join(f"`{v}" for v in values))
    lines.append(
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
    )
    lines.append(f"`{len(rows)},`0,`0,`0,`0,`0,`0")
    return "\n".join(lines).encode()


@pytest.fixture
def world(store, channel):
    return World(store, channel, stock_sh=50, stock_gz=50)


def _paid(world, customer="c1", qty=1, now=T0):
    order = world.place(qty, customer=customer, now=now)
    payment, *_ = world.pay(order, now=now)
    payment.refresh_from_db()
    return order, payment


def _import(store, data, *, fmt="wechatpay", day=DAY, name="bill.csv"):
    return rc.statement_import(
        store=store,
        provider="test",
        file_name=name,
        data=data,
        file_format=fmt,
        statement_date=day,
        actor=ACTOR,
    )


def run_check(rule, *, store, now):
    result = check_run(check=get_check(rule), store=store, now=now, notify=False)
    assert result.error == "", result.error
    return result


def _results(statement):
    return {(i.kind, i.reference): i.result for i in rc.reconcile(statement).items}


def test_ord06_a_statement_that_agrees_matches_line_by_line(world, store):
    _o1, p1 = _paid(world, "c1")
    _o2, p2 = _paid(world, "c2", qty=2)
    data = wechat_bill(
        [
            ("SUCCESS", p1.reference, "100.00", "", "", "0.60"),
            ("SUCCESS", p2.reference, "200.00", "", "", "1.20"),
            ("REVOKED", "P-NEVER-PAID", "50.00", "", "", "0.00"),  # no money moved: skipped
        ]
    )
    statement = _import(store, data)
    assert (statement.payments_count, statement.payments_amount) == (2, Decimal("300.00"))
    assert statement.fees == Decimal("1.80")
    assert statement.net == Decimal("298.20")
    assert _results(statement) == {("payment", p1.reference): "matched", ("payment", p2.reference): "matched"}
    assert AuditEntry.objects.filter(action="payment_statement.import").count() == 1


def test_ord06_each_kind_of_difference(world, store):
    _o1, p1 = _paid(world, "c1")
    _o2, p2 = _paid(world, "c2")
    _o3, p3 = _paid(world, "c3")  # settled that day, missing from the statement
    lost = world.place(1, customer="c4", now=T0)
    p4 = svc.payment_start(actor=ACTOR, order=lost, now=T0)  # the callback never arrived
    data = wechat_bill(
        [
            ("SUCCESS", p1.reference, "100.00", "", "", "0.60"),
            ("SUCCESS", p2.reference, "99.00", "", "", "0.60"),  # another amount
            ("SUCCESS", p4.reference, "100.00", "", "", "0.60"),
            ("SUCCESS", "P-NOT-OURS", "10.00", "", "", "0.06"),
        ]
    )
    result = rc.reconcile(_import(store, data))
    assert _results(result.statement) == {
        ("payment", p1.reference): "matched",
        ("payment", p2.reference): rc.Mismatch.AMOUNT_DIFFERS,
        ("payment", p3.reference): rc.Mismatch.NOT_IN_STATEMENT,
        ("payment", p4.reference): rc.Mismatch.NOT_IN_STORE,
        ("payment", "P-NOT-OURS"): rc.Mismatch.UNKNOWN,
    }
    assert len(result.differences) == 4
    # differences first: what the provider collected that we do not show leads
    assert result.items[0].reference == p4.reference
    assert result.items[0].can_apply
    assert [i.can_apply for i in result.items].count(True) == 1


def test_ord06_a_payment_on_another_days_statement_is_not_a_difference(world, store):
    _o, p = _paid(world, "c1", now=T0.replace(hour=15, minute=59))  # 23:59 in Shanghai
    _import(store, wechat_bill([]), day=DAY)  # the provider put it on the next day
    next_day = _import(
        store,
        wechat_bill([("SUCCESS", p.reference, "100.00", "", "", "0.60")]),
        day=DAY + dt.timedelta(days=1),
    )
    today = PaymentStatement.objects.get(statement_date=DAY)
    assert _results(today) == {("payment", p.reference): rc.Mismatch.OTHER_DAY}
    assert rc.reconcile(today).differences == []
    assert _results(next_day) == {("payment", p.reference): rc.Mismatch.OTHER_DAY}


def test_ord06_refunds_are_matched_by_refund_reference(world, store):
    order, p = _paid(world, "c1", qty=2)
    svc.order_cancel(actor=ACTOR, order=order, reason="顾客不要了", now=T0 + HOUR)
    refund = PaymentRefund.objects.get(order=order)
    PaymentRefund.objects.filter(pk=refund.pk).update(created_at=T0 + HOUR)  # refunded that evening
    data = wechat_bill(
        [
            ("SUCCESS", p.reference, "200.00", "", "", "1.20"),
            ("REFUND", p.reference, "200.00", refund.reference, "200.00", "-1.20"),
            ("REFUND", p.reference, "200.00", "R-UNKNOWN", "5.00", "0.00"),
        ]
    )
    statement = _import(store, data)
    assert (statement.refunds_count, statement.refunds_amount) == (2, Decimal("205.00"))
    assert statement.fees == Decimal("0.00")  # the fee handed back with the refund
    assert _results(statement) == {
        ("payment", p.reference): "matched",
        ("refund", refund.reference): "matched",
        ("refund", "R-UNKNOWN"): rc.Mismatch.UNKNOWN,
    }
    # a refund we made that day, not on the statement
    _import(store, wechat_bill([("SUCCESS", p.reference, "200.00", "", "", "1.20")]))
    statement = PaymentStatement.objects.get(statement_date=DAY)
    assert _results(statement)[("refund", refund.reference)] == rc.Mismatch.NOT_IN_STATEMENT


def test_ord06_apply_a_lost_callback_from_the_statement_pays_the_order_once(world, store):
    order = world.place(1, customer="c1", now=T0)
    payment = svc.payment_start(actor=ACTOR, order=order, now=T0)
    statement = _import(
        store,
        wechat_bill([("SUCCESS", payment.reference, "100.00", "", "", "0.60")], when="2026-06-01 18:07:00"),
    )
    assert statement.differences == 1  # compared at import: what the ledger lists
    assert rc.statement_apply(statement=statement, reference=payment.reference, actor=ACTOR) == "applied"
    statement.refresh_from_db()
    assert statement.differences == 0
    assert statement.compared_at is not None
    assert rc.ledger(store=store, start=DAY, end=DAY)[0].differences == 0
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == "paid"
    assert order.paid_amount == Decimal("100.00")
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.provider_txn_id == f"42000{payment.reference}"
    record = PaymentCallback.objects.get(payment=payment)
    assert record.payload["source"] == "statement"
    assert record.result == "applied"
    # dated when the provider collected it (the statement's time), not when finance applied it:
    # the ledger and the statement agree on its day, the ship-by promise counts from then
    collected = T0 + dt.timedelta(minutes=7)
    assert (payment.settled_at, order.paid_at) == (collected, collected)
    assert order.ship_by == collected + dt.timedelta(hours=48)
    assert _results(statement) == {("payment", payment.reference): "matched"}
    assert rc.reconcile(statement).differences == []
    day = rc.ledger(store=store, start=DAY, end=DAY)[0]
    assert (day.payments_count, day.payments_amount) == (1, Decimal("100.00"))
    with pytest.raises(Conflict) as exc:
        rc.statement_apply(statement=statement, reference=payment.reference, actor=ACTOR)
    assert exc.value.code == "already_collected"
    assert AuditEntry.objects.filter(action="payment_statement.apply").count() == 1


def test_ord06_applying_money_for_a_closed_order_hands_it_back(world, store):
    order = world.place(1, customer="c1", now=T0)
    payment = svc.payment_start(actor=ACTOR, order=order, now=T0)
    svc.orders_close_unpaid(now=T0 + 2 * HOUR)
    order.refresh_from_db()
    assert order.status == "closed"
    statement = _import(store, wechat_bill([("SUCCESS", payment.reference, "100.00", "", "", "0.60")]))
    assert (
        rc.statement_apply(statement=statement, reference=payment.reference, actor=ACTOR) == "refunded_late"
    )
    order.refresh_from_db()
    assert order.status == "closed"
    assert order.paid_amount == 0
    back = PaymentRefund.objects.get(payment=payment)
    assert back.amount == Decimal("100.00")


def test_ord06_apply_refuses_what_cannot_be_applied(world, store):
    _o, paid = _paid(world, "c1")
    statement = _import(
        store,
        wechat_bill(
            [("SUCCESS", paid.reference, "100.00", "", "", "0.60"), ("SUCCESS", "P-X", "1.00", "", "", "0")]
        ),
    )
    with pytest.raises(Conflict):
        rc.statement_apply(statement=statement, reference="P-X", actor=ACTOR)  # not our payment
    with pytest.raises(NotFound):
        rc.statement_apply(statement=statement, reference="P-NOT-ON-IT", actor=ACTOR)
    with pytest.raises(Conflict):
        rc.statement_apply(statement=statement, reference=paid.reference, actor=ACTOR)


def test_ord06_alipay_detail_gbk_with_comments_and_signed_amounts(world, store):
    order, p = _paid(world, "c1")
    svc.order_cancel(actor=ACTOR, order=order, reason="缺货", now=T0 + HOUR)
    refund = PaymentRefund.objects.get(order=order)
    text = "\n".join(
        [
            "#支付宝业务明细查询",
            "#账号：[20880000000000000156]",
            "#起始日期：[2026年06月01日 00:00:00]   终止日期：[2026年06月02日 00:00:00]",
            "#-----------------------------------------业务明细列表----------------------------------------",
            "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
            "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,"
            "券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注",
            f"2026060122001,{p.reference},交易,连衣裙,2026-06-01 18:00:00,2026-06-01 18:00:05,,,,,"
            "buyer@example.com,100.00,100.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,-0.60,0.00,",
            f"2026060122001,{p.reference},退款,连衣裙,2026-06-01 19:00:00,2026-06-01 19:00:05,,,,,"
            f"buyer@example.com,-100.00,-100.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,{refund.reference},0.60,0.00,",
            "#-----------------------------------------业务明细列表结束------------------------------------",
            "#交易合计：1笔，商家实收：100.00元，商家优惠：0.00元",
            "#导出时间：[2026年06月02日 09:00:00]",
        ]
    )
    statement = _import(store, text.encode("gb18030"), fmt="alipay", day=None)
    assert statement.statement_date == DAY  # from the rows
    assert (statement.payments_amount, statement.refunds_amount, statement.fees) == (
        Decimal("100.00"),
        Decimal("100.00"),
        Decimal("0.00"),
    )
    lines = {ln.kind: ln for ln in statement.lines.all()}
    assert lines["refund"].reference == refund.reference
    assert lines["refund"].payment_reference == p.reference
    assert _results(statement)[("payment", p.reference)] == "matched"


def test_ord06_generic_xlsx_statement(world, store):
    _o, p = _paid(world, "c1")
    book = Workbook()
    sheet = book.active
    sheet.append(["单号", "类型", "金额", "手续费", "时间"])
    sheet.append([p.reference, "收款", 100, 0.6, "2026-06-01 18:00:00"])
    buffer = io.BytesIO()
    book.save(buffer)
    statement = _import(store, buffer.getvalue(), fmt="generic", name="test-2026-06-01.xlsx")
    assert statement.fees == Decimal("0.60")
    assert _results(statement) == {("payment", p.reference): "matched"}


@pytest.mark.parametrize(
    ("data", "code", "says"),
    [
        (b"a,b,c\n1,2,3\n", "statement_header_missing", "商户订单号"),
        (
            wechat_bill([("SUCCESS", "P1", "abc", "", "", "0")]),
            "statement_rows_invalid",
            "第 2 行 应结订单金额",
        ),
        (wechat_bill([("WHATEVER", "P1", "1.00", "", "", "0")]), "statement_rows_invalid", "交易状态"),
        (wechat_bill([("SUCCESS", "P1", "1.001", "", "", "0")]), "statement_rows_invalid", "两位小数"),
        (b"\xff\xfe\x00garbage", "validation_error", "编码"),
    ],
)
def test_ord06_a_bad_file_is_refused_and_nothing_is_written(world, store, data, code, says):
    _paid(world, "c1")
    with pytest.raises(ValidationError) as exc:
        _import(store, data)
    assert exc.value.code == code
    assert says in str(exc.value.message) + str(exc.value.fields)
    assert not PaymentStatement.objects.exists()
    assert not PaymentStatementLine.objects.exists()


def test_ord06_duplicate_rows_and_unknown_provider_are_refused(world, store):
    _o, p = _paid(world, "c1")
    row = ("SUCCESS", p.reference, "100.00", "", "", "0.60")
    with pytest.raises(ValidationError) as exc:
        _import(store, wechat_bill([row, row]))
    assert "重复" in exc.value.fields["file"]
    with pytest.raises(ValidationError) as exc:
        rc.statement_import(
            store=store, provider="paypal", file_name="x.csv", data=wechat_bill([row]),
            file_format="wechatpay", statement_date=DAY, actor=ACTOR,
        )  # fmt: skip
    assert "provider" in exc.value.fields


def test_ord06_totals_too_large_for_the_books_are_refused(world, store):
    big = [("SUCCESS", f"P{n}", "900000000000.00", "", "", "0") for n in range(2)]
    with pytest.raises(ValidationError) as exc:
        _import(store, wechat_bill(big))
    assert "file" in exc.value.fields
    assert not PaymentStatement.objects.exists()


def test_ord06_importing_the_day_again_replaces_it(world, store):
    _o, p = _paid(world, "c1")
    first = _import(store, wechat_bill([("SUCCESS", p.reference, "99.00", "", "", "0.60")]))
    second = _import(
        store, wechat_bill([("SUCCESS", p.reference, "100.00", "", "", "0.60")]), name="corrected.csv"
    )
    assert PaymentStatement.objects.get().pk == second.pk != first.pk
    assert PaymentStatementLine.objects.count() == 1
    assert rc.reconcile(second).differences == []
    replaced = AuditEntry.objects.filter(action="payment_statement.import").order_by("at").last()
    assert replaced.before["file_name"] == "bill.csv"


def test_ord06_check_raises_a_finding_per_difference_and_resolves_it(world, store):
    order = world.place(1, customer="c1", now=T0)
    payment = svc.payment_start(actor=ACTOR, order=order, now=T0)
    statement = _import(store, wechat_bill([("SUCCESS", payment.reference, "100.00", "", "", "0.60")]))
    run_check("ORD-06", store=store, now=T0 + 24 * HOUR)
    finding = Finding.objects.get(rule_id="ORD-06")
    assert finding.severity == "critical"
    assert finding.status == "open"
    assert payment.reference in finding.title
    assert "本系统未记录" in finding.title
    assert finding.owner_role == "finance"
    rc.statement_apply(statement=statement, reference=payment.reference, actor=ACTOR)
    run_check("ORD-06", store=store, now=T0 + 25 * HOUR)
    finding.refresh_from_db()
    assert finding.status == "resolved"


def test_ord06_check_looks_back_the_playbook_days(world, store):
    lost = world.place(1, customer="c1", now=T0)
    payment = svc.payment_start(actor=ACTOR, order=lost, now=T0)
    _import(store, wechat_bill([("SUCCESS", payment.reference, "100.00", "", "", "0.60")]))
    playbook_update(actor=ACTOR, store=store, values={"reconcile_lookback_days": 3})
    run_check("ORD-06", store=store, now=T0 + dt.timedelta(days=5))
    assert not Finding.objects.filter(rule_id="ORD-06").exists()
    run_check("ORD-06", store=store, now=T0 + dt.timedelta(days=2))
    assert Finding.objects.filter(rule_id="ORD-06").count() == 1


def test_ord06_ledger_sums_each_day_and_the_statement_beside_it(world, store):
    _o1, p1 = _paid(world, "c1")
    order2, _p2 = _paid(world, "c2", qty=2)
    _o3, _p3 = _paid(world, "c3", now=T0 + 24 * HOUR)
    svc.order_cancel(actor=ACTOR, order=order2, reason="缺货", now=T0 + HOUR)
    PaymentRefund.objects.update(created_at=T0 + HOUR)
    _import(store, wechat_bill([("SUCCESS", p1.reference, "100.00", "", "", "0.60")]))
    rows = rc.ledger(store=store, start=DAY, end=DAY + dt.timedelta(days=1))
    assert [(r.day, r.payments_count, r.payments_amount, r.refunds_amount, r.net) for r in rows] == [
        (DAY + dt.timedelta(days=1), 1, Decimal("100.00"), Decimal(0), Decimal("100.00")),
        (DAY, 2, Decimal("300.00"), Decimal("200.00"), Decimal("100.00")),
    ]
    first_day = rows[1]
    assert first_day.statement is not None
    assert first_day.differences == 2
    assert rc.totals(rows)["net"] == Decimal("200.00")
    assert rc.ledger(store=store, start=DAY, end=DAY, provider="marketplace") == []


def test_ord06_a_day_with_collections_and_no_statement_is_raised_after_the_due_days(world, store):
    _paid(world, "c1")  # collected on DAY; no statement imported
    run_check("ORD-06", store=store, now=T0 + 24 * HOUR)  # DAY + 1: not due yet (2 days)
    assert not Finding.objects.filter(rule_id="ORD-06").exists()
    run_check("ORD-06", store=store, now=T0 + 48 * HOUR)
    finding = Finding.objects.get(rule_id="ORD-06")
    assert finding.subject_key == f"statement-missing:test:{DAY.isoformat()}"
    assert "尚未导入" in finding.title
    assert "测试支付" in finding.title  # the provider's label, in each reader's language
    with translation.override("en"):
        assert "Test gateway" in finding.display_title
    assert finding.severity == "warning"
    _import(store, wechat_bill([]), day=DAY + dt.timedelta(days=5))  # another day's: still missing
    _o, p = _paid(world, "c2", now=T0 - 5 * 24 * HOUR)  # an older day, outside a 3-day lookback
    playbook_update(actor=ACTOR, store=store, values={"reconcile_lookback_days": 3})
    run_check("ORD-06", store=store, now=T0 + 49 * HOUR)
    assert Finding.objects.filter(rule_id="ORD-06", status="open").count() == 1
    statement = _import(store, wechat_bill([("SUCCESS", p.reference, "100.00", "", "", "0.60")]), day=DAY)
    run_check("ORD-06", store=store, now=T0 + 50 * HOUR)
    finding.refresh_from_db()
    assert finding.status == "resolved"  # the statement came in (its own differences aside)
    assert statement.differences is not None


def test_ord06_no_reminder_when_the_due_days_are_zero(world, store):
    _paid(world, "c1")
    playbook_update(actor=ACTOR, store=store, values={"reconcile_statement_due_days": 0})
    run_check("ORD-06", store=store, now=T0 + 10 * 24 * HOUR)
    assert not Finding.objects.filter(rule_id="ORD-06").exists()


def test_ord06_a_collection_of_another_amount_handed_back_matches_what_was_collected(world, store):
    order = world.place(1, customer="c1", now=T0)
    payment = svc.payment_start(actor=ACTOR, order=order, now=T0)
    body, headers = TestGateway().callback(reference=payment.reference, amount=Decimal("90.00"))
    svc.payment_callback(provider="test", body=body, headers=headers, now=T0)  # refunded at once
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    back = PaymentRefund.objects.get(payment=payment)
    PaymentRefund.objects.filter(pk=back.pk).update(created_at=T0)
    statement = _import(
        store,
        wechat_bill(
            [
                ("SUCCESS", payment.reference, "90.00", "", "", "0.54"),
                ("REFUND", payment.reference, "90.00", back.reference, "90.00", "-0.54"),
            ]
        ),
    )
    assert _results(statement) == {
        ("payment", payment.reference): "matched",
        ("refund", back.reference): "matched",
    }
    row = rc.ledger(store=store, start=DAY, end=DAY)[0]
    assert (row.payments_amount, row.refunds_amount, row.net) == (
        Decimal("90.00"),
        Decimal("90.00"),
        Decimal(0),
    )


def test_ord06_fees_above_the_agreed_rate_are_raised_once_per_statement(world, store):
    _o1, fair = _paid(world, "c1")  # 100.00 at 0.6 %: 0.60
    _o2, rounded = _paid(world, "c2")  # 0.61: a cent of rounding is not a difference
    _o3, dear = _paid(world, "c3", qty=2)  # 200.00 charged 1 %: 2.00 instead of 1.20
    statement = _import(
        store,
        wechat_bill(
            [
                ("SUCCESS", fair.reference, "100.00", "", "", "0.60"),
                ("SUCCESS", rounded.reference, "100.00", "", "", "0.61"),
                ("SUCCESS", dear.reference, "200.00", "", "", "2.00"),
            ]
        ),
    )
    over = rc.fees_over_rate(statement, rate=Decimal("0.006"))
    assert [(f.reference, f.amount, f.fee, f.expected, f.over) for f in over] == [
        (dear.reference, Decimal("200.00"), Decimal("2.00"), Decimal("1.20"), Decimal("0.80"))
    ]
    assert rc.fees_over_rate(statement, rate=Decimal(0)) == []
    run_check("ORD-06", store=store, now=T0 + 24 * HOUR)
    finding = Finding.objects.get(rule_id="ORD-06")  # the lines themselves all match
    assert finding.subject_key == f"statement-fees:test:{DAY.isoformat()}"
    assert finding.severity == "warning"
    assert finding.owner_role == "finance"
    assert "1 笔手续费高于约定费率" in finding.title
    assert "0.80" in finding.title
    assert finding.detail["references"] == [dear.reference]
    # the store's contract is 1 %: nothing is over it any more, the finding resolves itself
    playbook_update(actor=ACTOR, store=store, values={"reconcile_fee_rate_max": "0.01"})
    run_check("ORD-06", store=store, now=T0 + 25 * HOUR)
    finding.refresh_from_db()
    assert finding.status == "resolved"


def test_ord06_each_provider_can_have_its_own_agreed_fee_rate(world, store):
    _o, dear = _paid(world, "c3", qty=2)  # 200.00 charged 1 %: above the store's 0.6 %
    _import(store, wechat_bill([("SUCCESS", dear.reference, "200.00", "", "", "2.00")]))
    # another provider's contract changes nothing for this one
    playbook_update(actor=ACTOR, store=store, values={"reconcile_fee_rates": "alipay=0.01"})
    run_check("ORD-06", store=store, now=T0 + 24 * HOUR)
    finding = Finding.objects.get(rule_id="ORD-06")
    assert finding.detail["rate"] == "0.006"
    # the test gateway's own contract is 1 %: nothing is over it, the finding resolves itself
    playbook_update(actor=ACTOR, store=store, values={"reconcile_fee_rates": "alipay=0.01，test：0.01"})
    run_check("ORD-06", store=store, now=T0 + 25 * HOUR)
    finding.refresh_from_db()
    assert finding.status == "resolved"


@pytest.mark.parametrize("text", ["test", "test=abc", "test=0.2", "=0.006", "test=-0.01", "test=NaN"])
def test_ord06_a_fee_rate_list_that_is_not_provider_equals_rate_is_refused(store, text):
    from storeops.core.errors import ValidationError

    with pytest.raises(ValidationError) as caught:
        playbook_update(actor=ACTOR, store=store, values={"reconcile_fee_rates": text})
    assert "reconcile_fee_rates" in caught.value.fields
    assert "provider=rate" in caught.value.fields["reconcile_fee_rates"]
