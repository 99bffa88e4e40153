"""Presale at the checkout (定金膨胀, SOP PROMO-01): the deposit is paid when the order is
placed, counts as k × deposit off the price, and the balance is paid in its window; a missed
balance closes the order (the deposit kept or partly refunded by the playbook), refunds of a
paid presale order come back from both payments. Before, the engine priced presales but the
checkout took the whole payable at once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from storeops.core.errors import Conflict, InvalidTransition, ValidationError
from storeops.inventory.models import Stock
from storeops.orders import services as svc
from storeops.orders.models import PaymentRefund
from storeops.promotions.services import CartItem, Shopper
from storeops.stores.services import playbook_update
from tests.orders.builders import ACTOR, ADDRESS, HOUR, T0, World, a_presale

pytestmark = pytest.mark.django_db

BALANCE_STARTS = T0 + 48 * HOUR
BALANCE_ENDS = T0 + 72 * HOUR
IN_WINDOW = BALANCE_STARTS + HOUR


@pytest.fixture
def world(store, channel):
    return World(store, channel)


@pytest.fixture
def presale(world):
    """P1-S (100.00) on presale: deposit 20 counts as 3 × 20 = 60 → 60.00 a unit, 20 now, 40 later."""
    return a_presale(world, balance_window=(BALANCE_STARTS, BALANCE_ENDS))


def _reserved(world):
    return sum(Stock.objects.filter(sku=world.sku_s).values_list("reserved", flat=True))


def _deposit_paid_order(world, qty=2, customer="c1"):
    order = world.place(qty, customer=customer)
    world.pay(order, now=T0 + HOUR)
    return order


def test_promo_01_presale_takes_the_deposit_first_and_the_balance_only_in_its_window(world, presale):
    order = world.place(2)
    assert (order.payable, order.deposit_amount) == (Decimal("120.00"), Decimal("40.00"))
    assert (order.balance_starts, order.balance_ends) == (BALANCE_STARTS, BALANCE_ENDS)
    deposit, *_ = world.pay(order, now=T0 + HOUR)
    assert (deposit.stage, deposit.amount) == ("deposit", Decimal("40.00"))
    assert (order.status, order.deposit_paid, order.paid_amount) == ("deposit_paid", Decimal("40.00"), 0)
    assert order.paid_at is None  # not paid: nothing to review or ship yet
    assert order.ship_by is None
    assert _reserved(world) == 2  # the goods stay reserved for the buyer
    assert svc.orders_review_pending(now=T0 + 2 * HOUR) == 0
    # the balance cannot be paid before its window opens
    with pytest.raises(Conflict) as caught:
        svc.payment_start(actor=ACTOR, order=order, now=T0 + 2 * HOUR)
    assert caught.value.code == "balance_not_open"
    balance, *_ = world.pay(order, now=IN_WINDOW)
    assert (balance.stage, balance.amount) == ("balance", Decimal("80.00"))
    assert balance.expires_at <= BALANCE_ENDS
    assert (order.status, order.paid_amount, order.paid_at) == ("paid", Decimal("120.00"), IN_WINDOW)
    assert order.ship_by == IN_WINDOW + 48 * HOUR  # ORD-03 runs from the balance
    kinds = list(order.events.order_by("id").values_list("kind", flat=True))
    assert kinds.index("deposit_paid") < kinds.index("paid")
    assert sorted(order.payments.filter(status="succeeded").values_list("stage", flat=True)) == [
        "balance",
        "deposit",
    ]
    # and then it is reviewed like any paid order
    assert svc.orders_review_pending(now=IN_WINDOW + HOUR) == 1


def test_promo_01_a_replayed_deposit_callback_changes_nothing(world, presale):
    order = world.place(1)
    _payment, body, headers, result = world.pay(order, now=T0 + HOUR)
    assert result.result == "applied"
    again = svc.payment_callback(provider="test", body=body, headers=headers, now=T0 + 2 * HOUR)
    assert again.result == "duplicate"
    order.refresh_from_db()
    assert (order.status, order.deposit_paid) == ("deposit_paid", Decimal("20.00"))
    assert order.payments.filter(status="succeeded").count() == 1


def test_promo_01_a_missed_balance_closes_the_order_keeps_the_deposit_and_frees_the_stock(world, presale):
    order = _deposit_paid_order(world)
    assert order.number not in svc.orders_close_unpaid(now=BALANCE_ENDS - dt.timedelta(seconds=1))
    assert order.number in svc.orders_close_unpaid(now=BALANCE_ENDS)
    order.refresh_from_db()
    assert (order.status, order.deposit_paid, order.paid_amount) == ("closed", Decimal("40.00"), 0)
    assert _reserved(world) == 0
    assert not PaymentRefund.objects.filter(order=order).exists()  # 定金不退 by default
    kept = order.events.get(kind="deposit_kept")
    assert Decimal(str(kept.data["amount"])) == Decimal("40.00")
    # the balance can no longer be paid
    with pytest.raises(InvalidTransition):
        svc.payment_start(actor=ACTOR, order=order, now=BALANCE_ENDS)


def test_promo_01_the_playbook_can_give_part_of_a_missed_balances_deposit_back(world, presale):
    playbook_update(actor=ACTOR, store=world.store, values={"presale_deposit_refund_ratio": "0.5"})
    order = _deposit_paid_order(world)
    svc.orders_close_unpaid(now=BALANCE_ENDS)
    order.refresh_from_db()
    refund = PaymentRefund.objects.get(order=order)
    assert (refund.amount, refund.payment.stage) == (Decimal("20.00"), "deposit")
    assert order.refunded_amount == 0  # the order was never paid: the deposit refund is not an order refund
    assert Decimal(str(order.events.get(kind="deposit_kept").data["amount"])) == Decimal("20.00")


def test_promo_01_customer_cancels_keep_the_deposit_store_cancels_give_it_back(world, presale):
    mine = _deposit_paid_order(world, customer="c1")
    mine = svc.order_cancel(actor=ACTOR, order=mine, reason="不想要了", by_customer=True, now=T0 + 2 * HOUR)
    assert mine.status == "cancelled"
    assert not PaymentRefund.objects.filter(order=mine).exists()
    theirs = _deposit_paid_order(world, customer="c2")
    theirs = svc.order_cancel(actor=ACTOR, order=theirs, reason="缺货无法发货", now=T0 + 2 * HOUR)
    assert PaymentRefund.objects.get(order=theirs).amount == Decimal("40.00")
    assert _reserved(world) == 0


def test_promo_04_refunds_of_a_paid_presale_come_from_the_balance_first_then_the_deposit(world, presale):
    order = _deposit_paid_order(world)  # 2 units: 40 deposit + 80 balance
    world.pay(order, now=IN_WINDOW)
    order = world.ship(order)  # all of it comes back: after the goods left (before: a cancellation)
    line = order.lines.get()
    # one unit (60.00) fits in the balance payment
    (first,) = svc.order_refund(actor=ACTOR, order=order, units={line.pk: 1}, reason="少发一件")
    assert (first.amount, first.payment.stage) == (Decimal("60.00"), "balance")
    # the other unit: 20.00 left on the balance payment, 40.00 from the deposit payment
    rest = svc.order_refund(actor=ACTOR, order=order, units={line.pk: 1}, reason="再退一件", reference="R-X")
    assert [(r.amount, r.payment.stage, r.reference) for r in rest] == [
        (Decimal("20.00"), "balance", "R-X"),
        (Decimal("40.00"), "deposit", "R-X-2"),
    ]
    # each record's detail adds up to its amount; the unit is counted once, on the balance part
    assert first.lines == [{"line": line.pk, "qty": 1, "amount": "60.00"}]
    assert [r.lines for r in rest] == [
        [{"line": line.pk, "qty": 1, "amount": "20.00"}],
        [{"line": line.pk, "qty": 0, "amount": "40.00"}],
    ]
    order.refresh_from_db()
    assert order.refunded_amount == order.paid_amount == Decimal("120.00")


def test_promo_04_a_split_presale_refunds_detail_adds_up_to_each_records_amount(world):
    """Before, both records of a refund split over the balance and the deposit payments
    carried the whole line detail: 120.00 of lines on a record of 80.00 and on one of 40.00."""
    a_presale(world, skus=[world.sku_s, world.sku_m], balance_window=(BALANCE_STARTS, BALANCE_ENDS))
    order = world.place(1, 1)  # P1-S and P1-M at 60.00: 40.00 deposit + 80.00 balance
    world.pay(order, now=T0 + HOUR)
    world.pay(order, now=IN_WINDOW)
    order = world.ship(order)  # a whole-order refund comes after shipping (before: a cancellation)
    s, m = order.lines.order_by("position")
    balance, deposit = svc.order_refund(actor=ACTOR, order=order, units={s.pk: 1, m.pk: 1}, reason="整单退")
    assert (balance.payment.stage, balance.amount, deposit.payment.stage, deposit.amount) == (
        "balance",
        Decimal("80.00"),
        "deposit",
        Decimal("40.00"),
    )
    assert balance.lines == [
        {"line": s.pk, "qty": 1, "amount": "60.00"},
        {"line": m.pk, "qty": 1, "amount": "20.00"},
    ]
    assert deposit.lines == [{"line": m.pk, "qty": 0, "amount": "40.00"}]
    records = PaymentRefund.objects.filter(order=order)
    for record in records:
        assert sum(Decimal(d["amount"]) for d in record.lines) == record.amount
    assert sum(d["qty"] for r in records for d in r.lines) == 2
    order.refresh_from_db()
    assert order.refunded_amount == sum(r.amount for r in records) == Decimal("120.00")
    assert [(line.refunded_qty, line.refunded_amount) for line in order.lines.order_by("position")] == [
        (1, Decimal("60.00")),
        (1, Decimal("60.00")),
    ]


def test_promo_01_a_balance_arriving_after_the_order_closed_is_handed_back(world, presale):
    order = _deposit_paid_order(world)
    balance = svc.payment_start(actor=ACTOR, order=order, now=BALANCE_ENDS - HOUR)
    svc.orders_close_unpaid(now=BALANCE_ENDS)
    from storeops.orders.payments import TestGateway

    body, headers = TestGateway().callback(
        reference=balance.reference, amount=balance.amount, outcome="succeeded"
    )
    result = svc.payment_callback(provider="test", body=body, headers=headers, now=BALANCE_ENDS + HOUR)
    assert result.result == "refunded_late"
    order.refresh_from_db()
    assert (order.status, order.paid_amount) == ("closed", 0)
    assert PaymentRefund.objects.get(payment=balance).amount == Decimal("80.00")


def test_promo_01_a_presale_is_ordered_on_its_own(world, presale):
    with pytest.raises(ValidationError) as caught:
        svc.order_place(
            actor=ACTOR,
            store=world.store,
            channel=world.channel,
            customer=Shopper(customer_ref="c1"),
            lines=[CartItem("P1-S", 1), CartItem("P1-M", 1)],
            address=ADDRESS,
            now=T0,
        )
    assert caught.value.code == "presale_mixed_cart"
    assert _reserved(world) == 0
    # outside the deposit window the product sells at its price, paid at once
    later = world.place(1, now=T0 + 25 * HOUR)
    assert (later.payable, later.deposit_amount) == (Decimal("100.00"), 0)


def test_promo_01_presale_customers_are_reminded_once_when_the_balance_window_opens(world, presale):
    order = _deposit_paid_order(world)
    assert svc.presale_balance_reminders(now=BALANCE_STARTS - HOUR) == 0
    assert svc.presale_balance_reminders(now=BALANCE_STARTS) == 1
    assert svc.presale_balance_reminders(now=IN_WINDOW) == 0  # once
    note = order.notifications.get()
    assert (note.purpose, note.channel) == ("presale_balance", "sms")
    assert order.number in note.text
    assert "80.00" in note.text  # the balance
    # a paid or closed order is not reminded
    world.pay(order, now=IN_WINDOW)
    other = _deposit_paid_order(world, customer="c2")
    svc.orders_close_unpaid(now=BALANCE_ENDS)
    assert svc.presale_balance_reminders(now=BALANCE_ENDS) == 0
    assert not other.notifications.exists()
