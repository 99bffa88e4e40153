"""DATA-09: behaviour events are tied to a person through the customer number (and a visitor id
that may identify a device). A copy counts the customer's events per kind; deletion unlinks
them: the customer number is cleared and the visitor id replaced by a random one, so the funnel,
UV and traffic-source figures keep their counts but no event leads back to the customer."""

from __future__ import annotations

import secrets
from typing import Any

from django.db.models import Count

from storeops.behaviour.models import Event
from storeops.stores.models import Store


def personal_data(store: Store, customer_ref: str) -> dict[str, list[dict[str, Any]]]:
    events = Event.objects.filter(store=store, customer_ref=customer_ref)
    counts = events.values("kind").annotate(n=Count("pk")).order_by("kind")
    return {"behaviour_events": [{"kind": row["kind"], "events": row["n"]} for row in counts]}


def erase(store: Store, customer_ref: str) -> dict[str, int]:
    events = Event.objects.filter(store=store, customer_ref=customer_ref)
    return {"behaviour_events": events.update(customer_ref="", visitor_id=f"erased-{secrets.token_hex(8)}")}
