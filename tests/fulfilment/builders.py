"""Builders for logistics tests: carriers, shipments and tracking events at given times."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from storeops.core.context import Actor
from storeops.fulfilment import services
from storeops.fulfilment.carriers import TrackingEventDraft
from storeops.fulfilment.models import Carrier, Shipment
from storeops.fulfilment.rules import status_from_code

ACTOR = Actor.system("cli")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def a_carrier(code: str = "SF", secret: str = "s3cret") -> Carrier:
    existing = Carrier.objects.filter(code=code).first()
    return existing or services.carrier_create(actor=ACTOR, code=code, name=f"{code}快递", secret=secret)


def a_shipment(
    store,
    channel,
    tracking_no: str,
    *,
    carrier: Carrier | None = None,
    province: str = "浙江省",
    cost: str = "12.00",
    weight: str | None = None,
    created_at: dt.datetime = T0,
) -> Shipment:
    return services.shipment_create(
        actor=ACTOR,
        store=store,
        channel=channel,
        order_ref=f"O-{tracking_no}",
        carrier=carrier or a_carrier(),
        tracking_no=tracking_no,
        warehouse_code="WH1",
        lines=[("SKU-1", 2)],
        province=province,
        city="杭州市",
        phone="13812345678",
        weight_kg=Decimal(weight) if weight else None,
        shipping_cost=cost,
        created_at=created_at,
    )


def event(tracking_no: str, hours: float, code: str, location: str = "杭州") -> TrackingEventDraft:
    return TrackingEventDraft(
        tracking_no=tracking_no, time=at(hours), code=code, status=status_from_code(code), location=location
    )


def scan(shipment: Shipment, *events: tuple[float, str], source: str = "api") -> services.IngestResult:
    return services.tracking_events_ingest(
        actor=ACTOR,
        carrier=shipment.carrier,
        drafts=[event(shipment.tracking_no, h, code) for h, code in events],
        source=source,
    )


def delivered(
    store, channel, tracking_no: str, *, carrier: Carrier, pickup_h: float, deliver_h: float, **kw
) -> Shipment:
    shipment = a_shipment(store, channel, tracking_no, carrier=carrier, **kw)
    scan(shipment, (pickup_h, "已揽收"), (deliver_h, "已签收"))
    shipment.refresh_from_db()
    return shipment
