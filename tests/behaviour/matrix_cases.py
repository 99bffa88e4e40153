"""The behaviour routes and pages in the permission matrix (tests/test_permission_matrix.py)."""

from __future__ import annotations

import datetime as dt

from storeops.behaviour import services
from tests.behaviour.builders import ACTOR, journey

_B = "/behaviour/{store}"
_Q = "?since=2026-01-01&until=2026-01-07&channel_id={channel}"

BEHAVIOUR_API_CASES = {
    ("POST", "/behaviour/{store_id}/events"): (
        _B + "/events",
        {
            "channel_id": "{channel}",
            "events": [
                {
                    "visitor_id": "m1",
                    "kind": "page_view",
                    "page_type": "home",
                    "occurred_at": "2026-01-02T10:00:00+08:00",
                }
            ],
        },
    ),
    ("GET", "/behaviour/{store_id}/imports"): (_B + "/imports?status=imported&kind=api", None),
    ("GET", "/behaviour/{store_id}/imports/{import_id}"): (_B + "/imports/{bh_import}", None),
    ("GET", "/behaviour/{store_id}/funnel"): (_B + "/funnel" + _Q, None),
    ("GET", "/behaviour/{store_id}/paths"): (_B + "/paths" + _Q + "&top=5", None),
    ("GET", "/behaviour/{store_id}/sources"): (_B + "/sources" + _Q, None),
    ("GET", "/behaviour/{store_id}/source-costs"): (_B + "/source-costs?since=2026-01-01", None),
    ("PUT", "/behaviour/{store_id}/source-costs"): (
        _B + "/source-costs",
        {"source": "live", "day": "2026-01-03", "amount": "120.00", "note": "直播间坑位费"},
    ),
}

BEHAVIOUR_CONSOLE_CASES = {
    "console:behaviour_funnel": (
        "GET",
        "/behaviour/?since=2026-01-01&until=2026-01-07&channel={channel}",
        None,
    ),
    "console:behaviour_paths": ("GET", "/behaviour/paths/?since=2026-01-01&until=2026-01-07", None),
    "console:behaviour_sources": ("GET", "/behaviour/sources/?since=2026-01-01&until=2026-01-07", None),
    "console:behaviour_source_cost": (
        "POST",
        "/behaviour/sources/cost/",
        {"source": "social", "day": "2026-01-03", "amount": "50", "note": "种草"},
    ),
    "console:behaviour_imports": ("GET", "/behaviour/imports/?status=imported", None),
    "console:behaviour_import_detail": ("GET", "/behaviour/imports/{bh_import}/", None),
}


def behaviour_world(store, channel):
    """Two shoppers' sessions on the channel in the first week of 2026 (one pays), posted as
    one API batch, and a recorded source cost."""
    start = dt.datetime(2026, 1, 2, 10, tzinfo=dt.UTC)
    events = journey(
        "w1", start, ["home", "category", "product", "cart", "pay"], source="search", amount="99.00"
    )
    events += journey("w2", start, ["home", "product"], source="social")
    run = services.events_post(actor=ACTOR, store=store, channel=channel, events=events, batch_id="matrix")
    services.source_cost_set(actor=ACTOR, store=store, source="social", day=dt.date(2026, 1, 2), amount="30")
    return {"bh_import": run.pk}
