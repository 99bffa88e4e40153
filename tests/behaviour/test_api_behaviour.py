"""The behaviour API: posting event batches with a storefront token, the imports, and the
DATA-05 funnel/paths and DATA-04 source reports with their filters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.accounts.services import api_token_create
from storeops.behaviour import selectors
from storeops.core.context import Actor
from tests.behaviour.builders import journey, post
from tests.conftest import ApiClient

DAY = dt.date(2026, 3, 2)
START = dt.datetime(2026, 3, 2, 2, tzinfo=dt.UTC)  # 10:00 Beijing time


def _iso(events):
    return [{**e, "occurred_at": e["occurred_at"].isoformat()} for e in events]


@pytest.fixture
def token_for(owner):
    def make(role: Role) -> ApiClient:
        _token, raw = api_token_create(actor=Actor(user=owner), name=f"shop-{role.value}", role=role)
        return ApiClient(Client(), token=raw)

    return make


def test_data_05_storefront_token_posts_a_batch_and_it_is_sessionised(store, channel, token_for):
    # given the web shop's token (operations role has behaviour.ingest_event)
    shop = token_for(Role.OPERATIONS)
    events = journey(
        "v1", START, ["home", "category", "product", "cart", "pay"], source="search", amount="88.00"
    )
    # when it posts one batch
    response = shop.post(
        f"/behaviour/{store.pk}/events", {"channel_id": channel.pk, "batch_id": "b-1", "events": _iso(events)}
    )
    # then all five events are stored in one session, on the channel
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["status"], body["imported"], body["sessions"]) == ("api", "imported", 5, 1)
    assert body["channel_id"] == channel.pk
    funnel = shop.get(f"/behaviour/{store.pk}/funnel", since=DAY.isoformat(), until=DAY.isoformat())
    assert [s["visitors"] for s in funnel.json()["steps"]] == [1, 1, 1, 1, 1]
    # and a retry of the same batch id stores nothing twice
    again = shop.post(f"/behaviour/{store.pk}/events", {"batch_id": "b-1", "events": _iso(events)})
    assert again.status_code == 409
    assert again.json()["code"] == "already_imported"
    assert selectors.event_count(store=store) == 5


def test_data_05_a_token_without_the_ingest_permission_cannot_post(store, token_for):
    analyst = token_for(Role.ANALYST)
    events = _iso(journey("v1", START, ["home"]))
    assert analyst.post(f"/behaviour/{store.pk}/events", {"events": events}).status_code == 403
    assert analyst.get(f"/behaviour/{store.pk}/funnel").status_code == 200  # analysts read


def test_data_05_an_invalid_event_refuses_the_whole_batch(store, api_as):
    api = api_as(Role.OWNER)
    events = _iso(journey("v1", START, ["home", "product"]))
    events.append({"visitor_id": "", "kind": "jump", "occurred_at": START.isoformat()})
    response = api.post(f"/behaviour/{store.pk}/events", {"events": events})
    assert response.status_code == 422
    fields = response.json()["fields"]
    assert set(fields) == {"events[3].visitor_id", "events[3].kind"}
    assert selectors.event_count(store=store) == 0


def test_data_05_batches_are_size_limited(store, api_as):
    api = api_as(Role.OWNER)
    events = _iso(journey("v", START, ["product"])) * 1001
    response = api.post(f"/behaviour/{store.pk}/events", {"events": events})
    assert response.status_code == 422
    assert "1000" in response.json()["message"]
    assert api.post(f"/behaviour/{store.pk}/events", {"events": []}).status_code == 422


def test_data_05_funnel_paths_and_filters_by_channel_and_dates(store, channel, system, api_as):
    from storeops.stores import services as store_services

    other = store_services.channel_create(actor=system, store=store, kind="jd", code="jd", name="京东")
    # given on the channel: 4 visitors home → category → product, 2 of them cart, 1 pays; on
    # the other channel one visitor a day later
    for i in range(4):
        pages = ["home", "category", "product"] + (["cart"] if i < 2 else []) + (["pay"] if i == 0 else [])
        post(store, journey(f"v{i}", START + dt.timedelta(hours=i), pages, amount="10"), channel=channel)
    post(store, journey("x", START + dt.timedelta(days=1), ["home"]), channel=other)
    api = api_as(Role.ANALYST)
    # when the funnel of the channel on the day is read
    body = api.get(
        f"/behaviour/{store.pk}/funnel", since=DAY.isoformat(), until=DAY.isoformat(), channel_id=channel.pk
    ).json()
    # then
    assert body["period"] == {"since": "2026-03-02", "until": "2026-03-02"}
    steps = {s["code"]: s for s in body["steps"]}
    assert [s["visitors"] for s in body["steps"]] == [4, 4, 4, 2, 1]
    assert steps["cart"]["conversion"] == "0.5000"
    assert steps["cart"]["drop_off"] == 2
    assert steps["pay"]["label"] == "支付"
    assert (body["carted"], body["carted_paid"], body["payment_bounce"]) == (2, 1, "0.5000")
    assert body["add_to_cart_rate"] == "0.5000"
    # the whole store over both days has the fifth visitor, who only saw the home page
    both = api.get(f"/behaviour/{store.pk}/funnel", since=DAY.isoformat(), until="2026-03-03").json()
    assert [s["visitors"] for s in both["steps"]] == [5, 4, 4, 2, 1]
    # paths: the most common first, a single-page session is a bounce
    paths = api.get(f"/behaviour/{store.pk}/paths", since=DAY.isoformat(), until="2026-03-03", top=2).json()
    assert paths["sessions"] == 5
    assert (paths["single_page_sessions"], paths["bounce_rate"]) == (1, "0.2000")
    # (adding to cart happens on the product page: v1 to v3 share one page sequence)
    assert paths["paths"][0] == {"pages": ["home", "category", "product"], "sessions": 3, "share": "0.6000"}
    assert len(paths["paths"]) == 2
    dwell = {d["page_type"]: d for d in paths["dwell"]}
    assert dwell["home"]["average_seconds"] == "60.0"  # one minute to the next page
    # bad filters are 4xx
    assert api.get(f"/behaviour/{store.pk}/funnel", since="2026-03-05", until="2026-03-01").status_code == 422
    assert api.get(f"/behaviour/{store.pk}/funnel", channel_id=999999).status_code == 404


def test_data_05_imports_list_and_detail(store, api_as):
    post(store, journey("v1", START, ["home"]), batch_id="first")
    api = api_as(Role.ANALYST)
    page = api.get(f"/behaviour/{store.pk}/imports", kind="api").json()
    assert page["total"] == 1
    (item,) = page["items"]
    assert (item["file_name"], item["imported"]) == ("first", 1)
    detail = api.get(f"/behaviour/{store.pk}/imports/{item['id']}").json()
    assert detail["errors"] == []
    assert api.get(f"/behaviour/{store.pk}/imports", status="nope").status_code == 422


def test_data_04_sources_api_with_recorded_costs(store, api_as):
    # given 2 search visitors (one pays 300) and a live-room visitor paying 50 against a
    # 100 cost, recorded by marketing
    post(store, journey("s1", START, ["search", "product", "pay"], source="search", amount="300.00"))
    post(store, journey("s2", START, ["search"], source="search"))
    post(store, journey("l1", START, ["product", "pay"], source="live", amount="50.00"))
    marketing = api_as(Role.MARKETING)
    put = marketing.put(
        f"/behaviour/{store.pk}/source-costs", {"source": "live", "day": DAY.isoformat(), "amount": "100.00"}
    )
    assert put.status_code == 200, put.content
    # when the sources are read
    body = marketing.get(
        f"/behaviour/{store.pk}/sources", since=DAY.isoformat(), until=DAY.isoformat()
    ).json()
    rows = {r["source"]: r for r in body["sources"]}
    # then
    assert set(rows) == {"search", "live"}
    assert rows["search"]["conversion"] == "0.5000"
    assert (rows["search"]["revenue"], rows["search"]["spend"], rows["search"]["roi"]) == (
        "300.00",
        None,
        None,
    )
    assert (rows["live"]["revenue"], rows["live"]["spend"], rows["live"]["roi"]) == (
        "50.00",
        "100.00",
        "-0.5000",
    )
    assert rows["live"]["alerts"] == ["roi"]  # below the default minimum ROI of 2
    assert Decimal(body["min_roi"]) == 2
    # a cost is replaced, not added, and bad ones are refused
    marketing.put(
        f"/behaviour/{store.pk}/source-costs", {"source": "live", "day": DAY.isoformat(), "amount": "10"}
    )
    costs = marketing.get(f"/behaviour/{store.pk}/source-costs").json()
    assert [(c["source"], c["amount"]) for c in costs["items"]] == [("live", "10.00")]
    # (an unknown source is refused by the schema, which lists the sources)
    bad_source = marketing.put(
        f"/behaviour/{store.pk}/source-costs", {"source": "tv", "day": "2026-03-02", "amount": "1"}
    )
    assert bad_source.status_code == 422
    sources = "search / paid / recommendation / live / social / other"
    assert bad_source.json()["fields"] == {"source": f"只能是 {sources}"}
    bad_amount = marketing.put(
        f"/behaviour/{store.pk}/source-costs", {"source": "live", "day": "2026-03-02", "amount": "-1"}
    )
    assert bad_amount.status_code == 422
    assert set(bad_amount.json()["fields"]) == {"amount"}
    assert marketing.get(f"/behaviour/{store.pk}/source-costs").json()["total"] == 1
