"""The order sweeps (unpaid close, auto-review, delivery sync, completion) reach every order
that is due, however many there are: nothing stops at a fixed row count. Each test shrinks the
batch size to 2 and puts more than 2 orders that are *not* due where a capped read would look
first."""

from __future__ import annotations

import datetime as dt

import pytest

from storeops.core.errors import Conflict
from storeops.fulfilment.models import Shipment
from storeops.orders import services as svc
from storeops.orders.models import Order
from storeops.stores import services as store_services
from storeops.stores.services import playbook_update
from tests.aftersales.builders import delivered_order, shipped_order
from tests.orders.builders import T0, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel, system, monkeypatch):
    monkeypatch.setattr(svc, "BATCH_SIZE", 2)
    # many test customers share one address: not order brushing here
    playbook_update(actor=system, store=store, values={"brushing_accounts_per_address": 50})
    return World(store, channel)


def _status(*orders: Order) -> list[str]:
    return [Order.objects.get(pk=o.pk).status for o in orders]


def test_ord_06_each_channel_closes_unpaid_orders_on_its_own_timeout_whatever_waits_before_them(
    world, store, channel, system
):
    """A long-timeout channel's pending orders (oldest first) never keep a short-timeout
    channel's overdue orders open."""
    playbook_update(actor=system, store=store, channel=channel, values={"unpaid_order_close_minutes": 1440})
    waiting = [world.place(1, customer=f"long{n}", now=T0) for n in range(3)]
    world.channel = store_services.channel_create(
        actor=system, store=store, kind="pinduoduo", code="pdd", name="拼多多店"
    )
    overdue = [world.place(1, customer=f"short{n}", now=T0 + dt.timedelta(minutes=10)) for n in range(3)]

    closed = svc.orders_close_unpaid(now=T0 + dt.timedelta(minutes=60))

    assert sorted(closed) == sorted(o.number for o in overdue)
    assert _status(*overdue) == ["closed"] * 3
    assert _status(*waiting) == ["created"] * 3


def test_ord_01_review_sweep_reaches_every_paid_order_past_ones_whose_review_keeps_failing(
    world, monkeypatch
):
    failing = [world.place(1, customer=f"f{n}") for n in range(3)]
    fine = [world.place(1, customer=f"ok{n}") for n in range(2)]
    for order in failing + fine:
        world.pay(order)
    stuck = {o.pk for o in failing}
    review = svc.order_auto_review

    def flaky(*, actor, order, now=None):
        if order.pk in stuck:
            raise Conflict("the order changed meanwhile")
        return review(actor=actor, order=order, now=now)

    monkeypatch.setattr(svc, "order_auto_review", flaky)

    assert svc.orders_review_pending(now=T0) == 2
    assert _status(*fine) == ["reviewed"] * 2
    assert _status(*failing) == ["paid"] * 3


def test_ord_05_delivery_sync_reaches_signed_parcels_behind_parcels_lost_in_transit(world):
    """Parcels lost in 'shipped' (the oldest) never keep newer signed-for orders from delivery."""
    lost = [shipped_order(world, 1, customer=f"lost{n}") for n in range(3)]
    Order.objects.filter(pk__in=[o.pk for o in lost]).update(shipped_at=T0 - dt.timedelta(days=30))
    signed = [shipped_order(world, 1, customer=f"signed{n}") for n in range(2)]
    at = T0 + dt.timedelta(days=2)
    Shipment.objects.filter(order_ref__in=[o.number for o in signed]).update(delivered_at=at)

    assert svc.orders_sync_deliveries(now=at) == 2
    assert _status(*signed) == ["delivered"] * 2
    assert _status(*lost) == ["shipped"] * 3


def test_as_01_every_order_past_its_channels_return_window_completes_in_one_run(world, store, system):
    """Orders still inside the window (read first by a capped, unordered query: the newest) do
    not hide the older ones; a channel with a longer window keeps its orders open longer."""
    now = T0 + dt.timedelta(days=30)
    due = [delivered_order(world, 1, customer=f"old{n}") for n in range(2)]
    Order.objects.filter(pk__in=[o.pk for o in due]).update(delivered_at=now - dt.timedelta(days=8))
    recent = [delivered_order(world, 1, customer=f"new{n}") for n in range(3)]
    Order.objects.filter(pk__in=[o.pk for o in recent]).update(delivered_at=now - dt.timedelta(days=2))
    world.channel = store_services.channel_create(
        actor=system, store=store, kind="jd", code="jd", name="京东店"
    )
    playbook_update(actor=system, store=store, channel=world.channel, values={"return_window_days": 15})
    longer = delivered_order(world, 1, customer="jd")
    Order.objects.filter(pk=longer.pk).update(delivered_at=now - dt.timedelta(days=8))

    assert svc.orders_complete(now=now) == 2
    assert _status(*due) == ["completed"] * 2
    assert _status(*recent, longer) == ["delivered"] * 4


def test_batches_walk_every_row_once_even_when_the_sweep_changes_them(world):
    """The keyset read behind the sweeps: every row exactly once, in key order, although each
    batch's rows leave the filter while the walk goes on."""
    from storeops.core.queries import batches

    orders = [world.place(1, customer=f"c{n}") for n in range(5)]
    seen = []
    for batch in batches(Order.objects.filter(status="created"), size=2, key=("created_at", "pk")):
        seen.extend(o.pk for o in batch)
        Order.objects.filter(pk__in=[o.pk for o in batch]).update(status="closed")
    assert seen == [o.pk for o in orders]
