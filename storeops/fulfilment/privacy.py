"""DATA-09: parcels keep a copy of the street address (the phone only masked). A customer's
deletion request clears the street of the parcels carrying their orders; province, city,
tracking and costs stay for the carrier statistics (LOG-03)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet

from storeops.fulfilment.models import Shipment
from storeops.stores.models import Store


def _shipments(store: Store, order_numbers: Sequence[str]) -> QuerySet[Shipment]:
    return Shipment.objects.filter(store=store, orders__order_number__in=list(order_numbers)).distinct()


def personal_data(store: Store, order_numbers: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    return {
        "shipments": [
            {
                "orders": s.order_ref,
                "carrier": s.carrier.code,
                "tracking_no": s.tracking_no,
                "province": s.province,
                "city": s.city,
                "district": s.district,
                "address": s.address,
                "phone": s.phone_masked,
            }
            for s in _shipments(store, order_numbers).select_related("carrier").order_by("pk")
        ]
    }


def erase(store: Store, order_numbers: Sequence[str]) -> dict[str, int]:
    ids = list(_shipments(store, order_numbers).values_list("pk", flat=True))
    return {"shipments": Shipment.objects.filter(pk__in=ids).update(district="", address="", phone_masked="")}
