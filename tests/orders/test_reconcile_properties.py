"""Properties of payment reconciliation (SOP ORD-06), with hypothesis: any statement of
collections and refunds survives the WeChat Pay bill format exactly (amounts to the cent, signs,
fees), and reconciling a statement built from our own records, then disturbed at random,
reports exactly the disturbed lines as differences and every other one as matched."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storeops.orders import reconcile as rc
from storeops.orders import services as svc
from storeops.orders.models import PaymentRefund
from tests.orders.builders import ACTOR, T0, World
from tests.orders.test_reconcile_db import DAY, wechat_bill

cents = st.integers(min_value=1, max_value=10_000_000).map(lambda c: Decimal(c) / 100)
fees = st.integers(min_value=0, max_value=100_000).map(lambda c: Decimal(c) / 100)
refs = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=6, max_size=32)
rows = st.lists(
    st.tuples(st.sampled_from(["SUCCESS", "REFUND"]), refs, cents, refs, cents, fees),
    max_size=30,
    unique_by=lambda r: (r[0], r[1] if r[0] == "SUCCESS" else r[3]),
)


@given(rows)
@settings(max_examples=200, deadline=None)
def test_ord06_wechat_bill_parses_back_to_what_was_written(data):
    bill = [
        (status, ref, str(amount), refund_ref if status == "REFUND" else "",
         str(refund_amount) if status == "REFUND" else "", str(-fee if status == "REFUND" else fee))
        for status, ref, amount, refund_ref, refund_amount, fee in data
    ]  # fmt: skip
    parsed = rc.parse_statement(wechat_bill(bill), file_name="bill.csv", file_format="wechatpay")
    assert len(parsed) == len(data)
    for row, (status, ref, amount, refund_ref, refund_amount, fee) in zip(parsed, data, strict=True):
        if status == "SUCCESS":
            assert (row.kind, row.reference, row.amount, row.fee) == ("payment", ref, amount, fee)
        else:
            assert (row.kind, row.reference, row.payment_reference) == ("refund", refund_ref, ref)
            assert (row.amount, row.fee) == (refund_amount, -fee)
    # the statement's net is the money the provider settles: collected − refunded − fees
    net = sum((r.amount if r.kind == "payment" else -r.amount) - r.fee for r in parsed)
    assert net == sum(
        (a if s == "SUCCESS" else -ra) - (f if s == "SUCCESS" else -f) for s, _r, a, _rr, ra, f in data
    )


DISTURB = st.sampled_from(["keep", "keep", "drop", "amount", "unknown"])


@pytest.mark.django_db
@given(plan=st.lists(st.tuples(DISTURB, st.booleans()), min_size=1, max_size=6))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_ord06_exactly_the_disturbed_lines_are_differences(store, channel, plan):
    point = transaction.savepoint()  # each example starts from the empty store
    try:
        _disturbed(store, channel, plan)
    finally:
        transaction.savepoint_rollback(point)


def _disturbed(store, channel, plan):
    world = World(store, channel, stock_sh=50, stock_gz=50)
    expected: dict[tuple[str, str], str] = {}
    bill = []
    for n, (how, refunded) in enumerate(plan):
        order = world.place(1, customer=f"c{n}", now=T0)
        payment, *_ = world.pay(order, now=T0)
        line = ("SUCCESS", payment.reference, str(payment.amount), "", "", "0.60")
        if refunded:
            svc.order_cancel(actor=ACTOR, order=order, reason="缺货", now=T0)
            refund = PaymentRefund.objects.get(order=order)
            PaymentRefund.objects.filter(pk=refund.pk).update(created_at=T0 + dt.timedelta(minutes=n))
            bill.append(
                ("REFUND", payment.reference, "100.00", refund.reference, str(refund.amount), "-0.60")
            )
            expected[("refund", refund.reference)] = "matched"
        if how == "keep":
            bill.append(line)
            expected[("payment", payment.reference)] = "matched"
        elif how == "drop":
            expected[("payment", payment.reference)] = rc.Mismatch.NOT_IN_STATEMENT
        elif how == "amount":
            bill.append(("SUCCESS", payment.reference, str(payment.amount + Decimal("0.01")), "", "", "0.60"))
            expected[("payment", payment.reference)] = rc.Mismatch.AMOUNT_DIFFERS
        else:  # a reference the provider made up, and ours missing
            bill.append(("SUCCESS", f"X{payment.reference}", str(payment.amount), "", "", "0.60"))
            expected[("payment", f"X{payment.reference}")] = rc.Mismatch.UNKNOWN
            expected[("payment", payment.reference)] = rc.Mismatch.NOT_IN_STATEMENT
    statement = rc.statement_import(
        store=store, provider="test", file_name="b.csv", data=wechat_bill(bill), file_format="wechatpay",
        statement_date=DAY, actor=ACTOR,
    )  # fmt: skip
    result = rc.reconcile(statement)
    assert {(i.kind, i.reference): i.result for i in result.items} == expected
    assert len(result.differences) == sum(1 for v in expected.values() if v != "matched")
