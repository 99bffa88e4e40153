"""Orders through the services: placement, payment, review, allocation, shipping, delivery,
cancellation and refunds (ORD-01…07 where they touch the lifecycle)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from storeops.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationError
from storeops.inventory.models import Stock, Zone
from storeops.inventory.services import InsufficientStock
from storeops.orders import services as svc
from storeops.orders.models import (
    AccountFreeze,
    Order,
    OrderEvent,
    Payment,
    PaymentCallback,
    PaymentRefund,
)
from storeops.orders.payments import TestGateway, sign
from tests.fulfilment.builders import a_carrier
from tests.orders.builders import ACTOR, ADDRESS, T0, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _stock(world, wh, sku):
    return Stock.objects.get(warehouse=wh, sku=sku, zone=Zone.SELLABLE)


def test_ord_02_placing_reserves_stock_in_the_nearest_warehouse_that_can_fill(world):
    order = world.place(2)
    assert order.status == "created"
    assert order.payable == Decimal("200.00")
    # Hangzhou is nearer Shanghai than Guangzhou
    assert _stock(world, world.sh, world.sku_s).reserved == 2
    assert _stock(world, world.gz, world.sku_s).reserved == 0
    assert [a.warehouse.code for a in order.lines.get().allocations.all()] == ["sh"]


def test_ord_02_splits_only_when_no_single_warehouse_can_fill(store, channel):
    world = World(store, channel, stock_sh=3, stock_gz=3)
    order = world.place(5)
    reserved = {a.warehouse.code: a.quantity for a in order.lines.get().allocations.all()}
    assert reserved == {"sh": 3, "gz": 2} or reserved == {"sh": 2, "gz": 3}
    assert sum(reserved.values()) == 5


def test_inv_03_placing_more_than_the_store_holds_is_refused_and_writes_nothing(world):
    with pytest.raises(InsufficientStock):
        world.place(21)
    assert not Order.objects.exists()
    assert _stock(world, world.sh, world.sku_s).reserved == 0


def test_ord_06_same_idempotency_key_returns_the_same_order(world):
    first = world.place(1, key="k-1")
    again = world.place(1, key="k-1")
    assert again.pk == first.pk
    assert Order.objects.count() == 1
    assert _stock(world, world.sh, world.sku_s).reserved == 1


def test_ord_06_reusing_a_key_for_a_different_cart_is_a_conflict(world):
    world.place(1, key="k-1")
    with pytest.raises(Conflict):
        world.place(2, key="k-1")


def test_ord_06_missing_address_fields_are_a_validation_error(world):
    bad = svc.AddressIn(receiver="", phone="", province="", address="")
    with pytest.raises(ValidationError) as err:
        world.place(1, address=bad)
    assert {"address.receiver", "address.phone", "address.province", "address.address"} <= set(
        err.value.fields
    )


def test_ord_06_callback_replayed_three_times_pays_exactly_once(world):
    order = world.place(1)
    _payment, body, headers, result = world.pay(order)
    assert result.result == "applied"
    assert order.status in ("reviewed", "paid")
    for _ in range(3):
        again = svc.payment_callback(provider="test", body=body, headers=headers)
        assert again.result == "duplicate"
    order.refresh_from_db()
    assert order.paid_amount == order.payable
    assert order.events.filter(kind="paid").count() == 1
    assert PaymentCallback.objects.filter(valid_signature=True).count() == 1


def test_ord_06_a_late_callback_is_dated_when_the_gateway_collected_the_money(world):
    """A callback retried for hours (or a statement line applied days later) says when the
    provider took the money: the payment, the order's paid time, its ship-by promise and the
    day's sales are dated by that, kept between the payment's creation and the arrival."""
    collected, arrived = T0 + dt.timedelta(minutes=5), T0 + dt.timedelta(hours=3)
    cases = {
        "late": (collected, collected),
        "from the future": (arrived + dt.timedelta(days=1), arrived),
        "before the payment existed": (T0 - dt.timedelta(days=1), T0),
    }
    for customer, (said, dated) in cases.items():
        order = world.place(1, customer=customer, now=T0)
        payment = svc.payment_start(actor=ACTOR, order=order, now=T0)
        body, headers = TestGateway().callback(
            reference=payment.reference, amount=payment.amount, collected_at=said
        )
        result = svc.payment_callback(provider="test", body=body, headers=headers, now=arrived)
        assert result.result == "applied"
        order.refresh_from_db()
        payment.refresh_from_db()
        assert (payment.settled_at, order.paid_at, order.events.get(kind="paid").created_at) == (
            dated,
            dated,
            dated,
        ), customer
        assert order.ship_by == dated + dt.timedelta(hours=48)
        assert PaymentCallback.objects.get(payment=payment).received_at == arrived


def test_ord_06_a_callback_with_a_time_without_zone_is_refused(world):
    order = world.place(1)
    payment = svc.payment_start(actor=ACTOR, order=order, now=T0)
    body, _ = TestGateway().callback(reference=payment.reference, amount=payment.amount)
    naive = body.replace(b'"amount"', b'"collected_at": "2026-06-01T18:05:00", "amount"')
    headers = {"X-Storeops-Signature": sign(TestGateway().secret, naive)}
    with pytest.raises(PermissionDenied):  # the API answers 422 invalid_callback
        svc.payment_callback(provider="test", body=naive, headers=headers)
    order.refresh_from_db()
    assert order.status == "created"


def test_ord_06_a_second_success_event_for_the_same_payment_changes_nothing(world):
    order = world.place(1)
    payment, *_ = world.pay(order)
    body, headers = TestGateway().callback(
        reference=payment.reference, amount=payment.amount, event_id="other"
    )
    assert svc.payment_callback(provider="test", body=body, headers=headers).result == "duplicate"
    assert not PaymentRefund.objects.exists()


def test_ord_06_bad_signature_is_rejected_and_recorded(world):
    order = world.place(1)
    payment = svc.payment_start(actor=ACTOR, order=order, now=T0)
    body, _ = TestGateway().callback(reference=payment.reference, amount=payment.amount)
    with pytest.raises(PermissionDenied):
        svc.payment_callback(provider="test", body=body, headers={"X-Storeops-Signature": "0" * 64})
    order.refresh_from_db()
    assert order.status == "created"
    assert PaymentCallback.objects.get().result == "rejected"


def test_ord_06_failure_after_success_is_ignored_out_of_order(world):
    order = world.place(1)
    payment, *_ = world.pay(order)
    body, headers = TestGateway().callback(
        reference=payment.reference, amount=payment.amount, outcome="failed"
    )
    assert svc.payment_callback(provider="test", body=body, headers=headers).result == "ignored"
    payment.refresh_from_db()
    assert payment.status == "succeeded"


def test_ord_06_a_failed_payment_can_be_retried(world):
    order = world.place(1)
    world.pay(order, outcome="failed")
    assert order.status == "created"
    world.pay(order)
    assert order.paid_amount == order.payable
    assert Payment.objects.filter(order=order, status="succeeded").count() == 1


def test_ord_06_amount_mismatch_does_not_pay_and_hands_the_money_back_once(world):
    order = world.place(1)
    payment = svc.payment_start(actor=ACTOR, order=order, now=T0)
    body, headers = TestGateway().callback(reference=payment.reference, amount=Decimal("1.00"))
    assert svc.payment_callback(provider="test", body=body, headers=headers).result == "amount_mismatch"
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == "created"
    assert order.paid_amount == 0
    assert order.refunded_amount == 0
    assert payment.status == "failed"
    assert "1.00" in payment.failure_reason
    # what the provider collected went back, recorded for finance
    assert list(PaymentRefund.objects.filter(payment=payment).values_list("amount", flat=True)) == [
        Decimal("1.00")
    ]
    # the provider sends the same collection again under another event id: nothing more leaves
    body, headers = TestGateway().callback(reference=payment.reference, amount=Decimal("1.00"))
    assert svc.payment_callback(provider="test", body=body, headers=headers).result == "duplicate"
    assert PaymentRefund.objects.filter(payment=payment).count() == 1
    # the order can still be paid in full
    world.pay(order)
    assert order.status == "paid"
    assert order.paid_amount == order.payable


def test_ord_06_a_callback_whose_handling_failed_is_applied_when_redelivered(world, monkeypatch):
    order = world.place(1)
    payment = svc.payment_start(actor=ACTOR, order=order, now=T0)
    body, headers = TestGateway().callback(reference=payment.reference, amount=payment.amount)

    def broken(*args, **kwargs):
        raise Conflict("database hiccup")

    monkeypatch.setattr(svc, "_mark_paid", broken)
    with pytest.raises(Conflict):
        svc.payment_callback(provider="test", body=body, headers=headers)
    monkeypatch.undo()
    order.refresh_from_db()
    assert order.status == "created"
    # the provider retries the very same event: it is applied, not dismissed as a duplicate
    assert svc.payment_callback(provider="test", body=body, headers=headers).result == "applied"
    assert svc.payment_callback(provider="test", body=body, headers=headers).result == "duplicate"
    order.refresh_from_db()
    assert order.status == "paid"
    assert PaymentCallback.objects.get(event_id__startswith="ev_").result == "applied"


def test_ord_06_an_over_refund_never_reaches_the_provider(world, monkeypatch):
    order = world.place(1)
    world.pay(order)
    payment = order.payments.get(status="succeeded")
    asked = []
    monkeypatch.setattr(TestGateway, "refund", lambda self, **kw: asked.append(kw))
    order.refunded_amount = order.paid_amount  # as another refund left it
    with pytest.raises(Conflict):
        svc._refund_payment(
            payment, order, amount=Decimal("0.01"), reason="x", lines=[], actor=ACTOR, count_on_order=True
        )
    assert asked == []


def test_ord_06_unpaid_orders_close_after_the_timeout_and_release_stock(world):
    order = world.place(2)
    assert svc.orders_close_unpaid(now=T0 + dt.timedelta(minutes=29)) == []
    assert svc.orders_close_unpaid(now=T0 + dt.timedelta(minutes=31)) == [order.number]
    order.refresh_from_db()
    assert order.status == "closed"
    assert _stock(world, world.sh, world.sku_s).reserved == 0


def test_ord_06_money_arriving_after_close_is_refunded_automatically(world):
    order = world.place(1)
    payment = svc.payment_start(actor=ACTOR, order=order, now=T0)
    svc.orders_close_unpaid(now=T0 + dt.timedelta(minutes=31))
    body, headers = TestGateway().callback(reference=payment.reference, amount=payment.amount)
    result = svc.payment_callback(provider="test", body=body, headers=headers)
    assert result.result == "refunded_late"
    order.refresh_from_db()
    assert order.status == "closed"
    assert order.paid_amount == 0
    assert PaymentRefund.objects.get().amount == payment.amount


def test_ord_01_clean_paid_order_is_reviewed_automatically(world):
    order = world.place(1)
    world.pay(order)
    svc.order_auto_review(actor=ACTOR, order=order, now=T0)
    order.refresh_from_db()
    assert order.status == "reviewed"
    assert order.fraud_score is not None


def test_ord_01_bad_phone_goes_to_manual_queue_and_ord_04_customer_is_notified(world):
    bad = svc.AddressIn(
        receiver="李四", phone="12345", province="浙江省", city="杭州市", address="文三路100号"
    )
    order = world.place(1, address=bad)
    world.pay(order)
    order = svc.order_auto_review(actor=ACTOR, order=order, now=T0)
    assert order.status == "on_hold"
    assert order.hold_reasons == ["bad_address"]
    note = order.notifications.get()
    assert note.purpose == "exception:bad_address"
    assert order.number in note.text
    # fixed with the customer, then passed by hand
    order = svc.order_update_address(actor=ACTOR, order=order, address=ADDRESS)
    order = svc.order_approve(actor=ACTOR, order=order, note="已电话核实")
    assert order.status == "reviewed"


def test_ord_04_corrected_address_replaces_every_delivery_field_and_its_coordinates(world):
    # given an order placed with a map point for its (wrong) street
    pinned = dataclasses.replace(ADDRESS, latitude=Decimal("30.274084"), longitude=Decimal("120.155070"))
    order = world.place(1, address=pinned)
    assert (order.latitude, order.longitude) == (Decimal("30.274084"), Decimal("120.155070"))
    # when customer service corrects the address (a new district and street, no map point)
    fixed = dataclasses.replace(ADDRESS, district=" 余杭区 ", address="文一西路969号 ", receiver="李四")
    order = svc.order_update_address(actor=ACTOR, order=order, address=fixed)
    # then every field is the new one, trimmed, and the old street's coordinates are gone
    assert (order.receiver, order.district, order.address) == ("李四", "余杭区", "文一西路969号")
    assert (order.latitude, order.longitude) == (None, None)
    assert OrderEvent.objects.filter(order=order, kind="address_changed").count() == 1


def test_ord_03_ship_by_is_paid_at_plus_the_channel_promise(world):
    order = world.place(1)
    world.pay(order)
    assert order.ship_by == T0 + dt.timedelta(hours=48)


def test_ord_02_full_path_ship_and_deliver_moves_stock_out_through_the_ledger(world):
    a_carrier("SF")
    order = world.place(2)
    world.pay(order)
    svc.order_auto_review(actor=ACTOR, order=order, now=T0)
    order.refresh_from_db()
    order = svc.order_allocate(actor=ACTOR, order=order, now=T0)
    [order] = svc.order_ship(actor=ACTOR, order=order, carrier_code="SF", tracking_numbers="SF100", now=T0)
    stock = _stock(world, world.sh, world.sku_s)
    assert (stock.on_hand, stock.reserved) == (8, 0)
    order = svc.order_deliver(actor=ACTOR, order=order, at=T0 + dt.timedelta(days=2))
    assert order.status == "delivered"
    kinds = list(OrderEvent.objects.filter(order=order).values_list("kind", flat=True))
    assert kinds[:1] == ["placed"]
    assert kinds[-1] == "delivered"


def test_ord_05_orders_of_the_same_buyer_and_address_ship_as_one_parcel(world):
    a_carrier("SF")
    orders = []
    for _ in range(2):
        o = world.place(1)
        world.pay(o)
        svc.order_auto_review(actor=ACTOR, order=o, now=T0)
        o.refresh_from_db()
        orders.append(svc.order_allocate(actor=ACTOR, order=o))
    assert orders[0].merge_key == orders[1].merge_key
    shipped = svc.order_ship(actor=ACTOR, order=orders[0], carrier_code="SF", tracking_numbers="SF200")
    assert {o.number for o in shipped} == {o.number for o in orders}
    from storeops.fulfilment.models import Shipment

    assert Shipment.objects.count() == 1


def test_ord_06_invalid_transition_is_a_clear_error(world):
    order = world.place(1)
    with pytest.raises(InvalidTransition):
        svc.order_allocate(actor=ACTOR, order=order)


def test_promo_04_partial_refunds_return_exactly_what_was_paid(world):
    order = world.place(3)
    world.pay(order)
    order = world.ship(order)  # returned goods: all of it comes back after shipping
    line = order.lines.get()
    (first,) = svc.order_refund(actor=ACTOR, order=order, units={line.pk: 1}, reason="质量问题")
    (second,) = svc.order_refund(actor=ACTOR, order=order, units={line.pk: 2}, reason="质量问题")
    order.refresh_from_db()
    assert first.amount + second.amount == order.paid_amount == order.refunded_amount
    with pytest.raises(ValidationError):
        svc.order_refund(actor=ACTOR, order=order, units={line.pk: 1}, reason="再退")


def test_promo_04_a_refund_of_all_of_an_unshipped_order_is_refused_it_is_cancelled_instead(world):
    """Refunded in full before shipping through ``order_refund``, a paid order stayed ``paid``
    with its stock reserved, and could still be reviewed and shipped. All of it coming back
    before the goods left is a cancellation (stock, coupons, offer uses back): refused, naming
    it; a part (e.g. one unit out of stock) is still a refund."""
    order = world.place(2)
    world.pay(order)
    line = order.lines.get()

    with pytest.raises(InvalidTransition) as refused:
        svc.order_refund(actor=ACTOR, order=order, units={line.pk: 2}, reason="缺货")
    assert refused.value.code == "cancel_instead"
    assert "取消订单" in str(refused.value.message)
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("paid", Decimal("0.00"))
    assert not PaymentRefund.objects.filter(order=order).exists()

    # one unit is a refund; the last one would take what is left: refused too
    (part,) = svc.order_refund(actor=ACTOR, order=order, units={line.pk: 1}, reason="缺一件")
    with pytest.raises(InvalidTransition) as refused:
        svc.order_refund(actor=ACTOR, order=order, units={line.pk: 1}, reason="再退一件")
    assert refused.value.code == "cancel_instead"
    order.refresh_from_db()
    assert order.refunded_amount == part.amount

    # the cancellation returns the rest and the stock, and the order cannot ship any more
    order = svc.order_cancel(actor=ACTOR, order=order, reason="缺货取消")
    assert (order.status, order.refunded_amount) == ("cancelled", order.paid_amount)
    assert _stock(world, world.sh, world.sku_s).reserved == 0
    with pytest.raises(InvalidTransition):
        svc.order_auto_review(actor=ACTOR, order=order, now=T0)


def test_ord_06_cancel_after_payment_refunds_in_full_and_releases_stock(world):
    order = world.place(2)
    world.pay(order)
    order = svc.order_cancel(actor=ACTOR, order=order, reason="顾客不想要了")
    assert order.status == "cancelled"
    assert order.refunded_amount == order.paid_amount
    assert _stock(world, world.sh, world.sku_s).reserved == 0


def test_promo_02_a_paid_order_cancelled_before_shipping_gives_its_coupon_back(world):
    from storeops.promotions import services as prs
    from storeops.promotions.models import IssuedCoupon

    template = prs.coupon_template_create(
        actor=ACTOR, store=world.store, name="满100减10", kind="store_threshold", threshold="100", amount="10"
    )
    coupon = prs.coupon_issue(actor=ACTOR, template=template, customer_ref="c1", now=T0)
    order = world.place(2, coupons=[coupon.code])
    assert order.payable == Decimal("190.00")
    world.pay(order)
    assert IssuedCoupon.objects.get(code=coupon.code).status == "redeemed"
    svc.order_cancel(actor=ACTOR, order=order, reason="顾客不想要了", now=T0 + dt.timedelta(minutes=5))
    back = IssuedCoupon.objects.get(code=coupon.code)
    assert (back.status, back.order_ref) == ("issued", "")  # the order never left: usable again


# --- RISK-01: order brushing ------------------------------------------------------------------------


def _paid_and_reviewed(world, *, customer, address=None, now=T0):
    order = world.place(1, customer=customer, now=now, **({"address": address} if address else {}))
    world.pay(order, now=now)
    return svc.order_auto_review(actor=ACTOR, order=order, now=now)


def test_risk_01_many_accounts_ordering_to_one_address_are_held_for_review(world):
    # given four accounts already ordered to the same address today (the playbook's limit is 5)
    for n in range(1, 5):
        order = _paid_and_reviewed(world, customer=f"acct-{n}", now=T0 + dt.timedelta(hours=n))
        assert order.status == "reviewed"
    # when a fifth account orders to it within the window
    fifth = _paid_and_reviewed(world, customer="acct-5", now=T0 + dt.timedelta(hours=6))
    # then its order waits for a person, with the pattern named
    assert fifth.status == "on_hold"
    assert fifth.hold_reasons == ["fraud"]
    assert "brushing.accounts_same_address=5" in fifth.events.get(kind="held").note
    # a fourth account to another address and phone is not affected
    other = svc.AddressIn(
        receiver="王五", phone="13900001111", province="广东省", city="广州市", address="天河路1号"
    )
    assert _paid_and_reviewed(world, customer="acct-4", address=other).status == "reviewed"


def test_risk_01_the_window_and_limits_are_playbook_settings(world, store, system):
    from storeops.stores.services import playbook_update

    playbook_update(actor=system, store=store, values={"brushing_accounts_per_address": 4})
    for n in range(1, 4):
        assert (
            _paid_and_reviewed(world, customer=f"a{n}", now=T0 + dt.timedelta(hours=n)).status == "reviewed"
        )
    # the same address a day and a half later is outside the 24 h window
    later = T0 + dt.timedelta(hours=40)
    playbook_update(actor=system, store=store, values={"brushing_accounts_per_address": 2})
    assert _paid_and_reviewed(world, customer="a9", now=later).status == "reviewed"
    # one account ordering again and again within the window
    playbook_update(
        actor=system,
        store=store,
        values={"brushing_orders_per_account": 3, "brushing_accounts_per_address": 50},
    )
    _paid_and_reviewed(world, customer="a9", now=later + dt.timedelta(minutes=5))
    third = _paid_and_reviewed(world, customer="a9", now=later + dt.timedelta(minutes=10))
    assert third.status == "on_hold"
    assert "brushing.orders_same_account=3" in third.events.get(kind="held").note


def test_risk_01_brushing_rules_are_pure():
    from storeops.orders import rules

    signals = rules.BrushingSignals(accounts_same_destination=3, orders_same_account=1)
    assert rules.brushing_details(
        signals, accounts_limit=3, orders_limit=10, ip_limit=20, device_limit=3
    ) == ["brushing.accounts_same_address=3"]
    assert (
        rules.brushing_details(signals, accounts_limit=4, orders_limit=10, ip_limit=20, device_limit=3) == []
    )
    held = rules.review_decision(
        address=rules.Address("张三", "13812345678", "浙江省", "杭州市", "", "文三路100号"),
        stock_ok=True,
        fraud_score=0,
        fraud_hold_score=70,
        brushing=["brushing.orders_same_account=12"],
    )
    assert not held.passed
    assert held.reasons == (rules.HoldReason.FRAUD,)


def test_risk_01_confirmed_brushing_cancels_refunds_and_freezes_the_account(world):
    order = _paid_and_reviewed(world, customer="ring-1")
    before = _stock(world, world.sh, world.sku_s).reserved
    # when a reviewer confirms the order is brushing
    cancelled = svc.order_confirm_brushing(actor=ACTOR, order=order, note="同地址 6 个账号")
    # then the order is cancelled and refunded in full, its stock goes back
    assert cancelled.status == "cancelled"
    assert cancelled.refunded_amount == cancelled.paid_amount > 0
    assert _stock(world, world.sh, world.sku_s).reserved == before - 1
    # and the account is frozen: the storefront refuses it, writing nothing
    freeze = AccountFreeze.objects.get(customer_ref="ring-1", lifted_at__isnull=True)
    assert freeze.order_id == order.pk
    assert freeze.reason == "同地址 6 个账号"
    count = Order.objects.count()
    with pytest.raises(Conflict) as refused:
        world.place(1, customer="ring-1")
    assert refused.value.code == "account_frozen"
    assert Order.objects.count() == count
    assert world.place(1, customer="someone-else").status == "created"
    # lifting the freeze lets the account order again; lifting twice is refused
    svc.account_unfreeze(actor=ACTOR, freeze=freeze, note="申诉成功，误判")
    assert world.place(1, customer="ring-1").status == "created"
    with pytest.raises(Conflict):
        svc.account_unfreeze(actor=ACTOR, freeze=freeze, note="again")


def test_risk_01_orders_of_a_frozen_account_are_held_and_confirming_needs_a_reason(world, store):
    order = world.place(1, customer="ring-2")
    world.pay(order)
    # frozen meanwhile (e.g. another of its orders was confirmed, or by hand)
    svc.account_freeze(actor=ACTOR, store=store, customer_ref="ring-2", reason="同设备多账号")
    with pytest.raises(Conflict):  # one active freeze per account
        svc.account_freeze(actor=ACTOR, store=store, customer_ref="ring-2", reason="again")
    held = svc.order_auto_review(actor=ACTOR, order=order, now=T0)
    assert held.status == "on_hold"
    assert held.hold_reasons == ["fraud"]
    assert "account_frozen" in held.events.get(kind="held").note
    with pytest.raises(ValidationError) as missing:
        svc.order_confirm_brushing(actor=ACTOR, order=held, note="  ")
    assert "note" in missing.value.fields
    held.refresh_from_db()
    assert held.status == "on_hold"  # nothing changed
    # confirming on an already frozen account cancels the order and keeps the one freeze
    svc.order_confirm_brushing(actor=ACTOR, order=held, note="同设备")
    assert AccountFreeze.objects.filter(customer_ref="ring-2").count() == 1
