"""Who a campaign reaches, read from the apps that know: lifecycle segments (MEM-04, the
analytics app's latest daily snapshot) and favourites (DATA-05, the behaviour app's events)."""

from __future__ import annotations

import datetime as dt

from storeops.analytics import segments
from storeops.behaviour import selectors as behaviour
from storeops.core.errors import NotFound
from storeops.stores.models import Store

SEGMENT_CODES = tuple(code for code, _label in segments.SEGMENT_CHOICES)


def segment_choices() -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in segments.SEGMENT_CHOICES]


def segment_codes() -> set[str]:
    return set(SEGMENT_CODES)


def segment_customers(store: Store, code: str) -> list[str]:
    """The customers of the segment in the latest snapshot (none before the first snapshot)."""
    try:
        rows = segments.segment_customers(store=store, segment=code, sort="customer")
    except NotFound:
        return []
    return list(rows.values_list("customer_ref", flat=True))


def favourited_by(store: Store, *, product_id: int, until: dt.datetime) -> set[str]:
    """Customers (known customer refs only) who favourited the product before ``until``."""
    return behaviour.favourited_by(store=store, product_id=product_id, until=until)
