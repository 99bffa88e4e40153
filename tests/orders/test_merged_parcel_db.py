"""Merged parcels (ORD-05) link every order they carry (``fulfilment.ShipmentOrder``).

A parcel used to name its orders only in ``Shipment.order_ref``: the numbers joined with "," and
cut to 64 characters, so from the 4th merged order on the numbers were lost (or cut in the
middle). Those orders were never delivered by the tracking sync, and their order pages showed
no parcel."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.fulfilment.carriers import signature_for
from storeops.fulfilment.models import Shipment, ShipmentOrder
from storeops.orders import services as svc
from storeops.orders.models import Order
from tests.fulfilment.builders import a_carrier
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db

MERGED = 5


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _allocated(world, customer: str) -> Order:
    at = timezone.now()
    order = world.place(1, customer=customer, now=at)
    world.pay(order, now=at)
    svc.order_auto_review(actor=ACTOR, order=order)
    order.refresh_from_db()
    return svc.order_allocate(actor=ACTOR, order=order)


def _client(make_user, role) -> Client:
    client = Client()
    client.force_login(make_user(role))
    return client


def _push_delivered(tracking_no: str, secret: str) -> None:
    """The carrier's signed webhook: picked up, then signed for."""
    now = timezone.now()
    body = json.dumps(
        {
            "events": [
                {"tracking_no": tracking_no, "time": now.isoformat(), "status": "已揽收", "location": "上海"},
                {"tracking_no": tracking_no, "time": now.isoformat(), "status": "已签收", "location": "杭州"},
            ]
        }
    ).encode()
    response = Client().post(
        "/api/v1/fulfilment/webhooks/SF",
        data=body,
        content_type="application/json",
        HTTP_X_STOREOPS_SIGNATURE=signature_for(secret, body),
    )
    assert response.status_code == 200, response.content
    assert response.json()["status_changes"] >= 1


def test_ord_05_merged_parcel_of_five_orders_delivers_all_five_and_every_order_page_shows_it(
    world, make_user, api_as
):
    # given five allocated orders of one buyer to one address, merged into one parcel
    a_carrier("SF", secret="k-sf")
    orders = [_allocated(world, "same-buyer") for _ in range(MERGED)]
    assert len({o.merge_key for o in orders}) == 1
    numbers = [o.number for o in orders]
    assert len(",".join(numbers)) > 64  # the old order_ref could not hold them all

    # when the warehouse ships it from the console with one tracking number
    response = _client(make_user, Role.WAREHOUSE).post(
        f"/orders/{orders[0].pk}/ship/", {"carrier": "SF", "tracking_no": "SF5MERGED"}, follow=True
    )
    assert response.status_code == 200
    parcel = Shipment.objects.get()
    assert parcel.tracking_no == "SF5MERGED"
    links = ShipmentOrder.objects.filter(shipment=parcel).values_list("order_number", flat=True)
    assert list(links) == numbers
    assert len(parcel.order_ref) <= 64

    # and the carrier reports it signed for, and the minute sweep syncs deliveries
    _push_delivered("SF5MERGED", "k-sf")
    parcel.refresh_from_db()
    assert parcel.status == "delivered"
    assert svc.orders_sync_deliveries() == MERGED

    # then all five orders are delivered (the 4th and 5th stayed "shipped")
    assert (
        list(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True))
        == ["delivered"] * MERGED
    )
    # and every order's console page shows the parcel with all the orders it carries
    console = _client(make_user, Role.CUSTOMER_SERVICE)
    api = api_as(Role.CUSTOMER_SERVICE)
    for order in orders:
        page = console.get(f"/orders/{order.pk}/").content.decode()
        assert "SF5MERGED" in page, order.number
        assert all(n in page for n in numbers), order.number
        # and the API's order detail lists it too
        detail = api.get(f"/orders/{world.store.pk}/orders/{order.number}")
        assert detail.status_code == 200, detail.content
        [shipment] = detail.json()["shipments"]
        assert (shipment["tracking_no"], shipment["carrier"], shipment["status"]) == (
            "SF5MERGED",
            "SF",
            "delivered",
        )
        assert shipment["order_numbers"] == numbers
    # and the logistics list finds the parcel by the number of its last merged order
    found = api_as(Role.WAREHOUSE).get(f"/fulfilment/{world.store.pk}/shipments", q=numbers[-1])
    assert found.status_code == 200, found.content
    assert [s["tracking_no"] for s in found.json()["items"]] == ["SF5MERGED"]
    assert found.json()["items"][0]["order_numbers"] == numbers


def test_ord_05_an_unmerged_order_page_shows_no_merged_parcel(world, make_user, api_as):
    a_carrier("SF")
    merged = [_allocated(world, "same-buyer") for _ in range(MERGED)]
    svc.order_ship(actor=ACTOR, order=merged[0], carrier_code="SF", tracking_numbers="SF5MERGED")
    alone = _allocated(world, "someone-else")
    svc.order_ship(actor=ACTOR, order=alone, carrier_code="SF", tracking_numbers="SF1ALONE")

    detail = api_as(Role.CUSTOMER_SERVICE).get(f"/orders/{world.store.pk}/orders/{alone.number}").json()
    assert [(s["tracking_no"], s["order_numbers"]) for s in detail["shipments"]] == [
        ("SF1ALONE", [alone.number])
    ]
    page = _client(make_user, Role.CUSTOMER_SERVICE).get(f"/orders/{alone.pk}/").content.decode()
    assert "SF1ALONE" in page
    assert "SF5MERGED" not in page


def test_ord_05_a_parcel_delivers_only_its_own_channels_order_of_that_number(world, store, make_user, api_as):
    """Order numbers are unique per channel only: a Tmall and a JD export can both hold order
    1001. The delivery sync, the review invitation (CS-04) and the order page matched parcels
    by number alone, so the Tmall parcel delivered the JD order too and showed on its page."""
    from storeops.service import services as service_services
    from storeops.stores import services as store_services

    a_carrier("SF", secret="k-sf")
    jd = store_services.channel_create(actor=ACTOR, store=store, kind="jd", code="jd", name="京东自营")
    tmall_order = _allocated(world, "buyer-tmall")
    world.channel = jd
    jd_order = _allocated(world, "buyer-jd")
    Order.objects.filter(pk__in=[tmall_order.pk, jd_order.pk]).update(number="1001")
    tmall_order.refresh_from_db()
    jd_order.refresh_from_db()
    svc.order_ship(actor=ACTOR, order=jd_order, carrier_code="SF", tracking_numbers="SFJD")
    svc.order_ship(actor=ACTOR, order=tmall_order, carrier_code="SF", tracking_numbers="SFTMALL")

    # when only the Tmall parcel is signed for
    _push_delivered("SFTMALL", "k-sf")
    assert svc.orders_sync_deliveries() == 1

    # then only the Tmall order is delivered; the JD order of the same number is still on its way
    tmall_order.refresh_from_db()
    jd_order.refresh_from_db()
    assert (tmall_order.status, jd_order.status) == ("delivered", "shipped")

    # and each order's page lists its own parcel only; the API asks which channel's 1001 is meant
    owner = api_as(Role.OWNER)
    ambiguous = owner.get(f"/api/v1/orders/{store.pk}/orders/1001")
    assert ambiguous.status_code == 422, ambiguous.content
    assert "channel_id" in ambiguous.json()["fields"]
    for order, tracking in ((tmall_order, "SFTMALL"), (jd_order, "SFJD")):
        detail = owner.get(f"/api/v1/orders/{store.pk}/orders/1001", channel_id=order.channel_id)
        assert detail.status_code == 200, detail.content
        assert detail.json()["channel_id"] == order.channel_id
        assert [p["tracking_no"] for p in detail.json()["shipments"]] == [tracking]

    # and the review invitation goes to the Tmall buyer's order only (CS-04, once the wait passed)
    later = timezone.now() + dt.timedelta(days=30)
    service_services.review_invitations_send(actor=ACTOR, now=later)
    from storeops.service.models import ReviewInvitation

    assert list(ReviewInvitation.objects.values_list("channel_id", "order_ref")) == [
        (world.channel.pk * 0 + tmall_order.channel_id, "1001")
    ]
