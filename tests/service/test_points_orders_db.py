"""LOG-02 for goods taken with points (MEM-02): the parcel was delivered like any order's, so
its customer is invited to review it (and a photo review earns the reward as usual)."""

from __future__ import annotations

import datetime as dt

import pytest

from storeops.fulfilment.models import Shipment
from storeops.orders import services as order_services
from storeops.service import services
from storeops.service.models import ReviewInvitation
from tests.fulfilment.builders import a_carrier, scan
from tests.fulfilment.builders import at as f_at
from tests.members.builders import points_order
from tests.orders.builders import ACTOR, T0, World

pytestmark = pytest.mark.django_db


def test_log_02_a_delivered_points_order_is_invited_to_review(store, channel, settings):
    settings.STOREOPS_CUSTOMER_NOTIFIERS = ["tests.service.test_reviews_db.Recorder"]
    # given goods taken for points, shipped and signed for
    world = World(store, channel)
    a_carrier("SF")
    order = points_order(world, "c1", at=T0)
    order = order_services.order_auto_review(actor=ACTOR, order=order, now=T0)
    order = order_services.order_allocate(actor=ACTOR, order=order, now=T0)
    [order] = order_services.order_ship(
        actor=ACTOR, order=order, carrier_code="SF", tracking_numbers="SF000001", now=T0
    )
    parcel = Shipment.objects.get(order_ref=order.number)
    hours = (T0 - f_at(0)).total_seconds() / 3600
    scan(parcel, (hours + 1, "已揽收"), (hours + 2, "已签收"))
    # when the sweep runs a day later, then the customer is invited like any other
    result = services.review_invitations_send(actor=ACTOR, now=T0 + dt.timedelta(days=2), store=store)
    assert (result.sent, result.failed) == (1, 0)
    invitation = ReviewInvitation.objects.get()
    assert (invitation.order_ref, invitation.recipient) == (order.number, "13812345678")
