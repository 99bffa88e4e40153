"""SOP REC-01: the shop's browsing events (DATA-05) teach the "similar items" table too: two
products viewed by the same shoppers become neighbours without a single shared order."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from storeops.behaviour import services as behaviour
from storeops.core.context import Actor
from storeops.recommend import selectors, services
from storeops.stores import services as st
from tests.catalog.db_builders import a_dress_category, a_product

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("cli")


def test_rec_01_browsing_events_make_similar_items(store, system):
    category = a_dress_category(store, required_qualifications=[])
    one, two, other = (a_product(store, category, code) for code in ("A1", "A2", "B9"))
    at = (timezone.now() - dt.timedelta(days=1)).isoformat()
    events = [
        {"visitor_id": f"v{i}", "kind": kind, "page_type": "product", "item_id": code, "occurred_at": at}
        for i in range(4)
        for code, kind in (("A1", "page_view"), ("A2", "favourite"))
    ]
    events.append(
        {
            "visitor_id": "v9",
            "kind": "page_view",
            "page_type": "product",
            "item_id": "B9",
            "occurred_at": at,
        }
    )
    behaviour.events_post(actor=ACTOR, store=store, events=events)
    st.playbook_update(actor=system, store=store, values={"rec_min_support": 2})
    services.neighbours_rebuild(actor=ACTOR, store=store)
    similar = [
        n.neighbour_id for n in selectors.neighbours_of(store=store, product_id=one.pk, kind="similar")
    ]
    assert similar == [two.pk]
    assert not selectors.neighbours_of(store=store, product_id=other.pk)
