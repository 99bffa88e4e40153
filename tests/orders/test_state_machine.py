"""Random order lifecycles through the services, with the money and stock books checked after
every step (SOP ORD-06, ORD-02, PROMO-04, INV-03, AS-04).

A hypothesis state machine places orders (sometimes for more than is in stock), starts
payments, delivers signed gateway callbacks (success, failure, replays, a failure after a
success, money arriving after the order was closed), lets a fake clock run past the unpaid
timeout, cancels before and after payment, reviews, allocates, ships (merged parcels),
delivers, refunds random units of random lines (``order_refund``) and returns goods through
the after-sales services (request → approve → receive → QC pass/fail → refund, AS-04). It
also calls services in states that must refuse them and checks that a refusal changes nothing.

After every step:

* stock (INV-03): no balance negative or over-reserved; sellable ``on_hand`` = received −
  shipped + returns that passed QC, the QC and defective zones hold exactly the returned
  units; ``reserved`` = units of live allocations; the ledger explains every balance;
* money (ORD-06, PROMO-04): ``paid_amount`` is 0 or ``payable``; ``0 ≤ refunded ≤ paid``;
  the lines' refunds add up to the order's; every refund record is accounted for (line
  refunds = the order's refunded amount, automatic refunds = money that arrived for an order
  that could not take it); each line's refund is exactly what its refunded units were paid;
  an order is paid by at most one successful payment.

Each example runs inside a savepoint that is rolled back, so examples don't see each other.
The defects it found (and that are now fixed) are pinned by the regression tests at the end.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from storeops.aftersales import services as aftersales
from storeops.aftersales.models import AfterSaleLine
from storeops.core.errors import Conflict, InvalidTransition, ValidationError
from storeops.inventory.models import Stock, Zone
from storeops.inventory.selectors import ledger_mismatches
from storeops.inventory.services import InsufficientStock
from storeops.orders import rules
from storeops.orders import services as svc
from storeops.orders.models import Allocation, Order, OrderEvent, Payment, PaymentRefund
from storeops.orders.payments import TestGateway
from storeops.promotions import services as prs
from storeops.promotions.models import OfferUse
from tests.fulfilment.builders import a_carrier
from tests.orders.builders import ACTOR, T0, World
from tests.orders.machines import StoreMachine

pytestmark = pytest.mark.django_db

S = rules.Status
SHIPPED_STATES = {S.SHIPPED, S.DELIVERED, S.AFTER_SALE, S.COMPLETED, S.REFUNDED}
CUSTOMERS = ("c1", "c2")
# the back-office step that moves an order on (CREATED and DELIVERED are handled apart)
NEXT = {
    S.CREATED: "pay",
    S.PAID: "review",
    S.REVIEWED: "allocate",
    S.ALLOCATED: "ship",
    S.SHIPPED: "deliver",
    S.DELIVERED: "return_goods",
}


class OrderBooks(StoreMachine):
    orders = Bundle("orders")
    payments = Bundle("payments")
    callbacks = Bundle("callbacks")
    STORE = ("sm", "状态机店")
    STOCK = {"sh": 6, "gz": 4}  # little stock, so some orders ask for more; two warehouses, so some split

    def __init__(self) -> None:
        super().__init__()
        # a flash sale of 4 units, 2 per buyer (PROMO-01): its units are booked with the
        # orders and given back when they are cancelled or closed
        self.flash = prs.offer_create(
            actor=ACTOR,
            store=self.world.store,
            kind="flash_sale",
            params={"price": "80.00", "per_buyer_limit": 2},
            stock_cap=4,
            product_ids=[self.world.sku_s.product_id],
        )
        prs.offer_set_status(actor=ACTOR, offer=self.flash, status="active")
        a_carrier("SF")
        self.received: dict[tuple[int, int], int] = defaultdict(int)
        for wh in (self.world.sh, self.world.gz):
            for sku in (self.world.sku_s, self.world.sku_m):
                self.received[(sku.pk, wh.pk)] += self.STOCK[wh.code]
        self.tracking = 0

    # --- helpers ---------------------------------------------------------------------------------

    def _tick(self, seconds: int = 1) -> dt.datetime:
        self.now += dt.timedelta(seconds=seconds)
        return self.now

    def _snapshot(self, order: Order) -> tuple:
        order.refresh_from_db()
        lines = tuple(order.lines.values_list("refunded_qty", "refunded_amount").order_by("pk"))
        allocations = tuple(
            Allocation.objects.filter(line__order=order).values_list("released", "shipped").order_by("pk")
        )
        return (order.status, order.version, order.paid_amount, order.refunded_amount, lines, allocations)

    # --- placing and paying (ORD-06, ORD-02) -----------------------------------------------------

    @initialize(
        target=orders, first=st.tuples(st.integers(1, 3), st.integers(0, 2)), second=st.integers(1, 3)
    )
    def two_orders_to_start_with(self, first: tuple[int, int], second: int):
        """Every run starts with two orders, so the lifecycle rules have something to work on."""
        one = self.world.place(*first, customer="c1", now=self._tick())
        two = self.world.place(0, second, customer="c2", now=self._tick())
        return multiple(one.pk, two.pk)

    @rule(
        target=orders,
        qty_s=st.integers(0, 5),
        qty_m=st.integers(0, 5),
        customer=st.sampled_from(CUSTOMERS),
    )
    def place(self, qty_s: int, qty_m: int, customer: str):
        if qty_s + qty_m == 0:
            qty_s = 1
        fits = qty_s <= self._available(self.world.sku_s.pk) and qty_m <= self._available(self.world.sku_m.pk)
        count = Order.objects.count()
        try:
            order = self.world.place(qty_s, qty_m, customer=customer, now=self._tick())
        except InsufficientStock:
            event("place: refused, not enough stock")
            assert not fits, "refused although every SKU had enough stock across the warehouses"
            assert Order.objects.count() == count
            return multiple()
        assert fits, "placed although a SKU did not have enough stock"
        event("place: placed")
        assert order.status == S.CREATED
        assert order.payable == sum(order.lines.values_list("paid_total", flat=True))
        return order.pk

    @rule(target=payments, order_id=orders)
    def start_payment(self, order_id: int):
        order = Order.objects.get(pk=order_id)
        if order.status != S.CREATED:
            self._refused(order, lambda: svc.payment_start(actor=ACTOR, order=order, now=self.now))
            return multiple()
        payment = svc.payment_start(actor=ACTOR, order=order, now=self._tick())
        assert payment.amount == order.payable
        return payment.pk

    def _callback(self, payment_id: int, outcome: str):
        payment = Payment.objects.select_related("order").get(pk=payment_id)
        order = payment.order
        others_paid = order.payments.filter(status="succeeded").exclude(pk=payment.pk).exists()
        body, headers = TestGateway().callback(
            reference=payment.reference, amount=payment.amount, outcome=outcome
        )
        result = svc.payment_callback(provider="test", body=body, headers=headers, now=self._tick())
        if outcome == "failed":
            expected = "applied" if payment.status in ("pending", "timed_out") else "ignored"
        elif payment.status in ("succeeded", "returned"):
            expected = "duplicate"
        elif order.status == S.CREATED and not others_paid:
            expected = "applied"
        else:
            expected = "refunded_late"  # closed, cancelled or already paid: the money goes back
        assert result.result == expected, (result, payment.status, order.status)
        event(f"callback {outcome}: {expected}")
        return body, headers, result.result

    @rule(target=callbacks, payment_id=payments)
    def pay(self, payment_id: int):
        sent = self._callback(payment_id, "succeeded")
        return multiple() if sent is None else sent[:2]

    @rule(target=callbacks, payment_id=payments)
    def payment_fails(self, payment_id: int):
        sent = self._callback(payment_id, "failed")
        return multiple() if sent is None else sent[:2]

    @rule(callback=callbacks)
    def replay_callback(self, callback):
        body, headers = callback
        result = svc.payment_callback(provider="test", body=body, headers=headers, now=self._tick())
        assert result.result == "duplicate"

    @rule(minutes=st.integers(1, 40))
    def clock_runs(self, minutes: int):
        self._tick(minutes * 60)

    @rule()
    def expire_payments(self):
        svc.payments_expire(now=self.now)

    @rule()
    def close_unpaid(self):
        limit = self.now - dt.timedelta(minutes=self.playbook.unpaid_order_close_minutes)
        due = set(
            Order.objects.filter(store=self.world.store, status=S.CREATED, created_at__lte=limit).values_list(
                "number", flat=True
            )
        )
        closed = svc.orders_close_unpaid(now=self.now, store=self.world.store)
        assert set(closed) == due
        if closed:
            event("close unpaid: closed some")

    # --- cancelling (ORD-06) ----------------------------------------------------------------------

    def cancel(self, order_id: int):
        order = Order.objects.get(pk=order_id)
        if S(order.status) not in rules.RESERVED:
            self._refused(order, lambda: svc.order_cancel(actor=ACTOR, order=order, reason="顾客取消"))
            return
        paid = order.paid_amount
        order = svc.order_cancel(actor=ACTOR, order=order, reason="顾客取消", now=self._tick())
        assert order.status == S.CANCELLED
        assert order.refunded_amount == paid  # a paid order is refunded in full
        event(f"cancel: {'paid' if paid else 'unpaid'} order")

    # --- review, allocation, shipping, delivery (ORD-01, ORD-02, ORD-05) -------------------------

    @rule(order_id=orders, action=st.sampled_from(["review", "allocate", "ship", "deliver", "cancel"]))
    def back_office(self, order_id: int, action: str):
        """A back-office step (or a cancellation) on any order: done when the order is in the
        right state, refused (and nothing changes) otherwise."""
        getattr(self, action)(order_id)

    def review(self, order_id: int):
        order = Order.objects.get(pk=order_id)
        if order.status != S.PAID:
            self._refused(order, lambda: svc.order_auto_review(actor=ACTOR, order=order, now=self.now))
            return
        order = svc.order_auto_review(actor=ACTOR, order=order, now=self._tick())
        if order.status == S.ON_HOLD:
            order = svc.order_approve(actor=ACTOR, order=order, note="人工核实", now=self._tick())
        assert order.status == S.REVIEWED

    def allocate(self, order_id: int):
        order = Order.objects.get(pk=order_id)
        if order.status != S.REVIEWED:
            self._refused(order, lambda: svc.order_allocate(actor=ACTOR, order=order, now=self.now))
            return
        assert svc.order_allocate(actor=ACTOR, order=order, now=self._tick()).status == S.ALLOCATED

    def ship(self, order_id: int):
        order = Order.objects.get(pk=order_id)
        self.tracking += 1
        numbers = {wh.pk: f"SF{self.tracking}{wh.code}" for wh in (self.world.sh, self.world.gz)}
        if order.status != S.ALLOCATED:
            self._refused(
                order,
                lambda: svc.order_ship(
                    actor=ACTOR, order=order, carrier_code="SF", tracking_numbers=numbers, now=self.now
                ),
            )
            return
        group = set(
            Order.objects.filter(status=S.ALLOCATED, merge_key=order.merge_key).values_list("pk", flat=True)
        )
        shipped = svc.order_ship(
            actor=ACTOR, order=order, carrier_code="SF", tracking_numbers=numbers, now=self._tick()
        )
        assert {o.pk for o in shipped} == group  # ORD-05: the buyer's allocated orders ship together
        assert all(o.status == S.SHIPPED for o in shipped)
        event(f"ship: {len(shipped)} order(s) in one parcel group")

    def deliver(self, order_id: int):
        order = Order.objects.get(pk=order_id)
        if order.status != S.SHIPPED:
            self._refused(order, lambda: svc.order_deliver(actor=ACTOR, order=order, at=self.now))
            return
        assert svc.order_deliver(actor=ACTOR, order=order, at=self._tick()).status == S.DELIVERED
        event("deliver: delivered")

    # --- refunds (PROMO-04) -----------------------------------------------------------------------

    @rule(order_id=orders, pick=st.integers(0, 1), units=st.integers(1, 5))
    def refund(self, order_id: int, pick: int, units: int):
        order = Order.objects.get(pk=order_id)
        lines = list(order.lines.order_by("position"))
        line = lines[pick % len(lines)]
        left = line.quantity - line.refunded_qty
        if order.paid_amount == 0:
            self._refused(
                order,
                lambda: svc.order_refund(actor=ACTOR, order=order, units={line.pk: 1}, reason="退款"),
            )
            return
        if left == 0:
            self._refused(
                order,
                lambda: svc.order_refund(actor=ACTOR, order=order, units={line.pk: 1}, reason="退款"),
                ValidationError,
            )
            return
        units = min(units, left)
        expected = rules.refund_for_units(
            line.paid_total, line.quantity, already=line.refunded_qty, units=units
        )
        if self._whole_refund_refused(order, line, units, expected):
            return
        after_sale = S(order.status) in {S.SHIPPED, S.DELIVERED, S.COMPLETED}
        if after_sale:
            order = svc.order_after_sale_open(actor=ACTOR, order=order, note="退货退款")
        before = order.refunded_amount
        refunds = svc.order_refund(actor=ACTOR, order=order, units={line.pk: units}, reason="退货退款")
        event(f"refund: units of a {'shipped' if after_sale else 'not shipped'} order")
        order.refresh_from_db()
        assert order.refunded_amount - before == expected
        assert sum((r.amount for r in refunds), Decimal("0")) == expected
        if S(order.status) == S.AFTER_SALE:
            order = svc.order_after_sale_close(actor=ACTOR, order=order, now=self._tick())
            fully = order.refunded_amount == order.paid_amount
            # back to delivered, or still in transit when the parcel had not arrived yet
            assert order.status == (S.REFUNDED if fully else S.DELIVERED if order.delivered_at else S.SHIPPED)

    @rule(order_id=orders, pick=st.integers(0, 1), units=st.integers(1, 3), failed=st.integers(0, 3))
    def return_goods(self, order_id: int, pick: int, units: int, failed: int):
        """AS-04 through the after-sales services: request → approve → receive → QC → refund."""
        order = Order.objects.get(pk=order_id)
        lines = list(order.lines.order_by("position"))
        line = lines[pick % len(lines)]
        left = line.quantity - line.refunded_qty
        units = min(units, left) or 1
        returnable = order.status == S.DELIVERED and left > 0
        snapshot = self._snapshot(order)
        try:
            case = aftersales.case_request(
                actor=ACTOR,
                order=order,
                kind="return",
                reason="size",
                units={line.pk: units},
                now=self._tick(),
            )
        except (ValidationError, Conflict):
            assert not returnable, "a delivered order with units left refused a return"
            assert self._snapshot(order) == snapshot
            return
        assert returnable, f"a return was opened on a {order.status} order"
        event("return: refunded after QC")
        expected = rules.refund_for_units(
            line.paid_total, line.quantity, already=line.refunded_qty, units=units
        )
        before = order.refunded_amount
        case = aftersales.case_approve(actor=ACTOR, case=case, now=self._tick())
        case = aftersales.case_receive(actor=ACTOR, case=case, tracking_no="R1", now=self._tick())
        failed = min(failed, units)
        case = aftersales.case_inspect(
            actor=ACTOR, case=case, results={line.pk: (units - failed, failed)}, now=self._tick()
        )
        assert case.status == "refunded", case.status
        order.refresh_from_db()
        assert case.refunded_amount == expected
        assert order.refunded_amount - before == expected
        assert order.status == (S.REFUNDED if order.refunded_amount == order.paid_amount else S.DELIVERED)

    # --- moving orders along: the same steps, on an order that is in the right state -------------
    # (the rules above take any order, so most of their calls test refusals; these make sure
    # orders also get paid, shipped, delivered and returned)

    def _in(self, *statuses: S) -> list[int]:
        return list(
            Order.objects.filter(store=self.world.store, status__in=statuses)
            .order_by("pk")
            .values_list("pk", flat=True)
        )

    @precondition(lambda self: self._in(*NEXT))
    @rule(
        i=st.integers(0, 9),
        steps=st.integers(1, 6),
        pick=st.integers(0, 1),
        units=st.integers(1, 3),
        failed=st.integers(0, 3),
    )
    def advance(self, i: int, steps: int, pick: int, units: int, failed: int):
        """Move one order up to ``steps`` steps along the happy path: pay, review, allocate, ship,
        deliver, return some units."""
        candidates = self._in(*NEXT)
        order_id = candidates[i % len(candidates)]
        for _ in range(steps):
            status = S(Order.objects.get(pk=order_id).status)
            if status == S.CREATED:
                payment_id = self.start_payment(order_id)
                self._callback(payment_id, "succeeded")
            elif status == S.DELIVERED:
                self.return_goods(order_id, pick, units, failed)
                return
            elif status in NEXT:
                getattr(self, NEXT[status])(order_id)
            else:
                return

    @precondition(lambda self: self._in(S.PAID, S.REVIEWED, S.SHIPPED, S.DELIVERED))
    @rule(i=st.integers(0, 9), pick=st.integers(0, 1), units=st.integers(1, 5))
    def refund_a_paid_order(self, i: int, pick: int, units: int):
        candidates = self._in(S.PAID, S.REVIEWED, S.SHIPPED, S.DELIVERED)
        self.refund(candidates[i % len(candidates)], pick, units)

    # --- the books --------------------------------------------------------------------------------

    @invariant()
    def stock_books_balance(self):
        store = self.world.store
        live: dict[tuple[int, int], int] = defaultdict(int)
        expected: dict[tuple[int, int, str], int] = defaultdict(int)  # (sku, warehouse, zone) → on hand
        for (sku, wh), units in self.received.items():
            expected[(sku, wh, Zone.SELLABLE)] += units
        for a in Allocation.objects.filter(line__order__store=store).select_related("line"):
            if a.shipped:
                expected[(a.line.sku_id, a.warehouse_id, Zone.SELLABLE)] -= a.quantity
            elif not a.released:
                live[(a.line.sku_id, a.warehouse_id)] += a.quantity
        # returns: received into QC, then QC → sellable (passed) or → defective (failed)
        for line in AfterSaleLine.objects.filter(
            case__store=store, case__received_at__isnull=False
        ).select_related("case", "order_line"):
            key = (line.order_line.sku_id, line.case.return_warehouse_id)
            expected[(*key, Zone.QC)] += line.quantity - line.qc_passed - line.qc_failed
            expected[(*key, Zone.SELLABLE)] += line.qc_passed
            expected[(*key, Zone.DEFECTIVE)] += line.qc_failed
        for stock in Stock.objects.filter(warehouse__store=store):
            key = (stock.sku_id, stock.warehouse_id)
            assert stock.on_hand >= 0
            assert 0 <= stock.reserved <= stock.on_hand
            assert stock.on_hand == expected[(*key, stock.zone)], (key, stock.zone)
            assert stock.reserved == (live[key] if stock.zone == Zone.SELLABLE else 0), key
        assert ledger_mismatches(store=store) == []

    @invariant()
    def flash_sale_books_balance(self):
        """PROMO-01: the units sold at the flash price are the live uses, within the cap and
        each buyer's limit; an ended order's uses are released, a live order's are not."""
        uses = list(OfferUse.objects.filter(offer=self.flash).select_related())
        statuses = dict(Order.objects.filter(store=self.world.store).values_list("pk", "status"))
        live = [u for u in uses if u.released_at is None]
        self.flash.refresh_from_db()
        assert self.flash.stock_sold == sum(u.quantity for u in live) <= 4
        per_buyer: dict[str, int] = defaultdict(int)
        for use in live:
            per_buyer[use.customer_ref] += use.quantity
        assert all(units <= 2 for units in per_buyer.values()), per_buyer
        for use in uses:
            ended = statuses[use.order_id] in (S.CANCELLED, S.CLOSED)
            assert (use.released_at is not None) == ended, (use.order_number, statuses[use.order_id])

    @invariant()
    def money_books_balance(self):
        store = self.world.store
        zero = Decimal("0")
        for_lines: dict[int, Decimal] = defaultdict(lambda: zero)
        automatic: dict[int, Decimal] = defaultdict(lambda: zero)
        for order_id, detail, amount in PaymentRefund.objects.filter(order__store=store).values_list(
            "order_id", "lines", "amount"
        ):
            (for_lines if detail else automatic)[order_id] += amount
        received: dict[int, Decimal] = defaultdict(lambda: zero)
        for order_id, amount in Payment.objects.filter(
            order__store=store, status__in=("succeeded", "returned")
        ).values_list("order_id", "amount"):
            received[order_id] += amount
        paid_events: dict[int, int] = defaultdict(int)
        for order_id in OrderEvent.objects.filter(order__store=store, kind="paid").values_list(
            "order_id", flat=True
        ):
            paid_events[order_id] += 1
        live: dict[int, int] = defaultdict(int)
        out: dict[int, int] = defaultdict(int)
        for order_id, qty, released, shipped in Allocation.objects.filter(
            line__order__store=store
        ).values_list("line__order_id", "quantity", "released", "shipped"):
            if shipped:
                out[order_id] += qty
            elif not released:
                live[order_id] += qty
        for order in Order.objects.filter(store=store).prefetch_related("lines"):
            status = S(order.status)
            assert order.paid_amount in (zero, order.payable)
            assert 0 <= order.refunded_amount <= order.paid_amount
            lines = list(order.lines.all())
            assert sum((line.refunded_amount for line in lines), zero) == order.refunded_amount
            for line in lines:
                paid_units = rules.unit_amounts(line.paid_total, line.quantity)
                assert line.refunded_amount == sum(paid_units[: line.refunded_qty], zero)
            # every refund record is accounted for: line refunds are the order's refunded amount;
            # money in = money the order kept + money handed back automatically (late/duplicate)
            assert for_lines[order.pk] == order.refunded_amount
            assert received[order.pk] == order.paid_amount + automatic[order.pk]
            assert paid_events[order.pk] == (1 if order.paid_amount else 0)  # paid at most once
            # stock follows the status: reserved until shipped, released when cancelled or closed
            units = sum(line.quantity for line in lines)
            assert live[order.pk] == (units if status in rules.RESERVED else 0), (order.number, status)
            assert out[order.pk] == (units if status in SHIPPED_STATES else 0), (order.number, status)
            if status == S.CANCELLED:
                assert order.refunded_amount == order.paid_amount


def test_ord_06_ord_02_promo_04_inv_03_as_04_random_lifecycles_keep_money_and_stock_books_balanced():
    run_state_machine_as_test(
        OrderBooks,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


# --- defects the machine found, fixed; each pinned by a regression test ------------------------------


@pytest.fixture
def world(store, channel):
    a_carrier("SF")
    return World(store, channel)


def test_ord_06_late_success_of_an_earlier_payment_after_another_paid_is_refunded(world):
    order = world.place(1, now=T0)
    first = svc.payment_start(actor=ACTOR, order=order, now=T0)
    later = T0 + dt.timedelta(minutes=16)  # the first attempt expired: the customer starts another
    second = svc.payment_start(actor=ACTOR, order=order, now=later)
    assert first.pk != second.pk
    body, headers = TestGateway().callback(reference=second.reference, amount=second.amount)
    assert svc.payment_callback(provider="test", body=body, headers=headers, now=later).result == "applied"
    body, headers = TestGateway().callback(reference=first.reference, amount=first.amount)
    result = svc.payment_callback(provider="test", body=body, headers=headers, now=later)
    assert result.result == "refunded_late"
    assert PaymentRefund.objects.get(order=order).amount == first.amount
    first.refresh_from_db()
    assert first.status == "returned"  # collected and handed back; the order keeps one success
    assert order.payments.filter(status="succeeded").get() == second
    order.refresh_from_db()
    assert order.paid_amount == order.payable
    assert order.refunded_amount == 0


def _allocated(world, now=T0):
    order = world.place(1, now=now)
    world.pay(order, now=now)
    svc.order_auto_review(actor=ACTOR, order=order, now=now)
    order.refresh_from_db()
    return svc.order_allocate(actor=ACTOR, order=order, now=now)


def test_ord_05_shipping_an_order_that_is_not_allocated_never_ships_its_merge_mates(world):
    first = _allocated(world)
    [first] = svc.order_ship(actor=ACTOR, order=first, carrier_code="SF", tracking_numbers="SF1", now=T0)
    second = _allocated(world)
    assert second.merge_key == first.merge_key
    with pytest.raises(InvalidTransition):
        svc.order_ship(actor=ACTOR, order=first, carrier_code="SF", tracking_numbers="SF2", now=T0)
    second.refresh_from_db()
    assert second.status == S.ALLOCATED


def test_ord_05_shipping_an_order_twice_is_an_invalid_transition(world):
    order = _allocated(world)
    svc.order_ship(actor=ACTOR, order=order, carrier_code="SF", tracking_numbers="SF1", now=T0)
    numbers = {world.sh.pk: "SF2", world.gz.pk: "SF3"}  # (one number instead: a misleading 422)
    with pytest.raises(InvalidTransition):
        svc.order_ship(actor=ACTOR, order=order, carrier_code="SF", tracking_numbers=numbers, now=T0)


def test_ord_06_two_orders_placed_in_the_same_second_never_clash_on_the_number(world, monkeypatch):
    draws = iter([4242, 4242, 4243])  # the second order's first draw clashes; it draws again
    monkeypatch.setattr(svc.secrets, "randbelow", lambda _n: next(draws))
    first = world.place(1, now=T0, key="a")
    second = world.place(1, now=T0, key="b")
    assert first.number != second.number


def test_promo_04_the_refund_that_completes_a_partly_refunded_order_is_accepted(world):
    offer = prs.offer_create(
        actor=ACTOR,
        store=world.store,
        kind="tiered_reduction",
        title_zh="满200减7",
        params={"tiers": [{"threshold": "200", "amount": "7"}]},
    )
    prs.offer_set_status(actor=ACTOR, offer=offer, status="active")
    now = timezone.now()
    order = world.place(2, 1, now=now)  # 300.00 - 7.00: S lines paid 195.33, M 97.67
    world.pay(order, now=now)
    order = world.ship(order, now=now)  # returned goods: all of it comes back after shipping
    small, medium = order.lines.order_by("position")
    svc.order_refund(actor=ACTOR, order=order, units={small.pk: 2}, reason="退货")
    svc.order_refund(actor=ACTOR, order=order, units={medium.pk: 1}, reason="退货")
    order.refresh_from_db()
    assert order.refunded_amount == order.paid_amount == Decimal("293.00")


def test_ord_06_allocating_a_cancelled_order_is_an_invalid_transition(world):
    order = world.place(1, now=T0)
    svc.order_cancel(actor=ACTOR, order=order, reason="顾客取消", now=T0)
    with pytest.raises(InvalidTransition):
        svc.order_allocate(actor=ACTOR, order=order, now=T0)


def test_as_01_an_after_sale_case_opened_in_transit_closes_back_to_shipped_until_delivery(world):
    order = _allocated(world)
    [order] = svc.order_ship(actor=ACTOR, order=order, carrier_code="SF", tracking_numbers="SF1", now=T0)
    order = svc.order_after_sale_open(actor=ACTOR, order=order, note="催发票")
    # the parcel arrives while the case is open: delivery is recorded, the case stays open
    delivered = T0 + dt.timedelta(days=1)
    order = svc.order_deliver(actor=ACTOR, order=order, at=delivered)
    assert (order.status, order.delivered_at) == (S.AFTER_SALE, delivered)
    order = svc.order_after_sale_close(actor=ACTOR, order=order, now=delivered)
    assert order.status == S.DELIVERED

    # a case closed before the parcel arrives puts the order back in transit, not "delivered now"
    other = _allocated(world, now=T0 + dt.timedelta(hours=1))
    [other] = svc.order_ship(actor=ACTOR, order=other, carrier_code="SF", tracking_numbers="SF9", now=T0)
    other = svc.order_after_sale_open(actor=ACTOR, order=other)
    other = svc.order_after_sale_close(actor=ACTOR, order=other, now=delivered)
    assert (other.status, other.delivered_at) == (S.SHIPPED, None)
