"""The data migration that links existing parcels to their orders (fulfilment 0003), run with
Django's MigrationExecutor on parcels written as the code before it wrote them: a merged
parcel's numbers joined with "," and cut to 64 characters, no ``ShipmentOrder`` rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from storeops.fulfilment.models import Shipment, ShipmentOrder
from storeops.fulfilment.selectors import delivered_times
from storeops.orders import services as svc
from tests.fulfilment.builders import a_carrier, a_shipment
from tests.orders.builders import ACTOR, World

BEFORE = [("fulfilment", "0002_shipment_order")]
AFTER = [("fulfilment", "0003_shipment_order_backfill")]


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.fixture
def back_to_the_latest_schema():
    """Migrating back to 0002 unapplies every later fulfilment migration: put them all back
    after the test, or the worker's next tests meet a schema without their columns."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def _merged(world, customer: str, tracking_no: str, count: int) -> tuple[Shipment, list[str]]:
    orders = []
    for _ in range(count):
        order = world.place(1, customer=customer)
        world.pay(order)
        svc.order_auto_review(actor=ACTOR, order=order)
        order.refresh_from_db()
        orders.append(svc.order_allocate(actor=ACTOR, order=order))
    svc.order_ship(actor=ACTOR, order=orders[0], carrier_code="SF", tracking_numbers=tracking_no)
    return Shipment.objects.get(tracking_no=tracking_no), [o.number for o in orders]


def _as_written_before(shipment: Shipment, numbers: list[str]) -> None:
    """What order_ship stored before the link: the joined numbers cut to 64 characters."""
    ShipmentOrder.objects.filter(shipment=shipment).delete()
    Shipment.objects.filter(pk=shipment.pk).update(order_ref=",".join(numbers)[:64])


def _links(shipment: Shipment) -> list[str]:
    return list(ShipmentOrder.objects.filter(shipment=shipment).values_list("order_number", flat=True))


@pytest.mark.django_db(transaction=True)  # SQLite alters no schema inside a test's transaction
def test_ord_05_merged_parcel_migration_links_every_order_even_those_cut_from_order_ref(
    back_to_the_latest_schema, store, channel
):
    # given parcels as the old code left them
    world = World(store, channel, stock_sh=20)  # one warehouse ships every parcel
    a_carrier("SF")
    five, five_numbers = _merged(world, "buyer-5", "SF5", 5)
    _as_written_before(five, five_numbers)
    assert five_numbers[3] not in Shipment.objects.get(pk=five.pk).order_ref.split(",")  # cut
    # (a merged parcel whose orders cannot be found again: its cut last number is dropped)
    lost, lost_numbers = _merged(world, "buyer-4", "SF4", 4)
    _as_written_before(lost, lost_numbers)
    Shipment.objects.filter(pk=lost.pk).update(created_at=lost.created_at - dt.timedelta(days=1))
    two, two_numbers = _merged(world, "buyer-2", "SF2", 2)
    _as_written_before(two, two_numbers)
    manual = a_shipment(store, channel, "SFM")
    ShipmentOrder.objects.filter(shipment=manual).delete()
    Shipment.objects.filter(pk=manual.pk).update(order_ref="EXT-1, EXT-2")
    # (a parcel already linked is left as it is)
    linked = a_shipment(store, channel, "SFL")

    # when the migration runs (from the state before it)
    _migrate(BEFORE)
    _migrate(AFTER)

    # then every parcel is linked to each order it carries, the cut ones too
    assert _links(five) == five_numbers
    assert _links(lost) == lost_numbers[:3]
    assert _links(two) == two_numbers
    assert _links(manual) == ["EXT-1", "EXT-2"]
    assert _links(linked) == [f"O-{linked.tracking_no}"]

    # and running it again adds nothing
    _migrate(BEFORE)
    _migrate(AFTER)
    assert ShipmentOrder.objects.count() == 5 + 3 + 2 + 2 + 1
    # and the delivery sync now reaches the 4th and 5th orders of the merged parcel
    Shipment.objects.filter(pk=five.pk).update(delivered_at=five.created_at + dt.timedelta(days=1))
    asked = [(five.channel_id, n) for n in five_numbers]
    assert set(delivered_times(orders=asked)) == set(asked)
