"""The checkout hot path (ORD-06) after the query cuts: the payment is started in the placing
transaction, locked rows are kept current in memory instead of being read again, allocations
are split in memory, the playbook is read once per request (never kept across requests), and
on PostgreSQL the stock row is found in the reservation's own statement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.forms.models import model_to_dict

from storeops.core.errors import ValidationError
from storeops.inventory import services as inv
from storeops.inventory.models import Stock, StockMove
from storeops.orders import services as svc
from storeops.orders.models import Allocation, Order, OrderEvent, OrderLine, Payment, PaymentStatus
from storeops.orders.payments import TestGateway
from storeops.promotions.services import CartItem, Shopper
from storeops.stores import services as store_services
from tests.orders.builders import ACTOR, ADDRESS, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel, stock_sh=5, stock_gz=5)


def _checkout(world, *, key: str | None = "k1", provider: str = "test", qty: int = 2):
    return svc.checkout_place(
        provider=provider,
        actor=ACTOR,
        store=world.store,
        channel=world.channel,
        customer=Shopper(customer_ref="c1"),
        lines=[CartItem("P1-S", qty)],
        address=ADDRESS,
        idempotency_key=key,
    )


def test_checkout_starts_the_payment_with_the_order_and_a_replay_returns_the_open_one(world):
    order, created, payment = _checkout(world)
    assert created
    assert payment is not None
    assert payment.order_id == order.pk
    assert payment.status == PaymentStatus.PENDING
    kinds = list(OrderEvent.objects.filter(order=order).order_by("id").values_list("kind", flat=True))
    assert kinds == ["placed", "payment_started"]
    again, created_again, payment_again = _checkout(world)
    assert (again.pk, created_again) == (order.pk, False)
    assert payment_again is not None
    assert payment_again.pk == payment.pk
    assert Payment.objects.filter(order=order).count() == 1


def test_checkout_with_an_unknown_provider_writes_nothing(world):
    with pytest.raises(ValidationError):
        _checkout(world, provider="bitcoin")
    assert not Order.objects.exists()
    assert not Stock.objects.filter(reserved__gt=0).exists()


def test_the_payment_window_follows_the_playbook_of_each_request(world):
    store_services.playbook_update(actor=ACTOR, store=world.store, values={"payment_pending_minutes": 20})
    _order, _created, first = _checkout(world, key="a")
    assert first is not None
    assert first.expires_at - first.created_at == dt.timedelta(minutes=20)
    store_services.playbook_update(actor=ACTOR, store=world.store, values={"payment_pending_minutes": 45})
    _order, _created, second = _checkout(world, key="b", qty=1)
    assert second is not None
    assert second.expires_at - second.created_at == dt.timedelta(minutes=45)


def test_paid_order_in_memory_equals_the_row(world):
    _order, _created, payment = _checkout(world)
    assert payment is not None
    body, headers = TestGateway().callback(reference=payment.reference, amount=payment.amount)
    result = svc.payment_callback(provider="test", body=body, headers=headers)
    assert (result.result, result.order_status) == ("applied", "paid")
    # the same transition on a locked instance, kept current in memory, matches a fresh read
    other, _created, _payment = _checkout(world, key="k2", qty=1)
    now = other.created_at
    with transaction.atomic():
        locked = svc._locked(other)
        svc._mark_paid(locked, actor=ACTOR, now=now, payment=None, locked=True)
    fresh = Order.objects.get(pk=other.pk)
    assert model_to_dict(locked) == model_to_dict(fresh)
    assert (locked.version, locked.updated_at) == (fresh.version, fresh.updated_at)


def test_allocation_parts_fill_lines_in_position_order_across_legs(world):
    lines = [
        OrderLine(pk=11, position=2, sku_id=world.sku_s.pk, quantity=1),
        OrderLine(pk=10, position=1, sku_id=world.sku_s.pk, quantity=4),
    ]
    taken: dict[int, int] = {}
    first = svc._allocation_parts(lines, world.sh, 3, taken)
    second = svc._allocation_parts(lines, world.gz, 2, taken)
    got = [(a.line.pk, a.warehouse.pk, a.quantity) for a in first + second]
    assert got == [(10, world.sh.pk, 3), (10, world.gz.pk, 1), (11, world.gz.pk, 1)]


def test_split_order_allocations_match_the_reserved_units(world):
    order, _created, _payment = _checkout(world, qty=7)  # 5 in one warehouse + 2 in the other
    allocations = Allocation.objects.filter(line__order=order)
    assert sum(a.quantity for a in allocations) == 7
    assert len({a.warehouse_id for a in allocations}) == 2
    assert sum(Stock.objects.values_list("reserved", flat=True)) == 7


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one-statement reservation: PostgreSQL")
def test_reserve_by_sku_and_warehouse_in_one_statement(world, store, system):
    move = inv.stock_reserve(actor=ACTOR, sku=world.sku_s, warehouse=world.sh, quantity=2, reference="r")
    stock = Stock.objects.get(sku=world.sku_s, warehouse=world.sh, zone="sellable")
    assert (move.stock_id, move.reserved_after, move.on_hand_after) == (stock.pk, 2, 5)
    assert StockMove.objects.filter(pk=move.id, stock=stock, kind="reservation", quantity=2).exists()
    with pytest.raises(inv.InsufficientStock) as short:
        inv.stock_reserve(actor=ACTOR, sku=world.sku_s, warehouse=world.sh, quantity=4, reference="r")
    assert "预占" in str(short.value)
    empty = inv.warehouse_create(actor=system, store=store, code="bj", name="北京仓", region="北京")
    with pytest.raises(inv.InsufficientStock) as missing:
        inv.stock_reserve(actor=ACTOR, sku=world.sku_s, warehouse=empty, quantity=1, reference="r")
    assert "没有此 SKU" in str(missing.value)
    assert Stock.objects.get(pk=stock.pk).reserved == 2
