"""Logistics API: shipments, tracking import and the signed carrier webhook (LOG-01),
exceptions, carrier statistics and suggestion (LOG-03)."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.fulfilment.carriers import signature_for
from storeops.fulfilment.models import Shipment, TrackingEvent
from tests.fulfilment.builders import a_carrier, a_shipment, at, delivered, scan

pytestmark = pytest.mark.django_db


@pytest.fixture
def warehouse(api_as):
    return api_as(Role.WAREHOUSE)


def test_log_01_warehouse_creates_a_shipment_and_reads_it_back_with_its_events(store, channel, warehouse):
    a_carrier("SF")
    body = {
        "channel_id": channel.pk,
        "order_ref": "T-1001",
        "carrier": "sf",
        "tracking_no": "SF900",
        "warehouse_code": "HZ1",
        "lines": [{"sku_code": "A-1", "qty": 1}, {"sku_code": "B-2", "qty": 3}],
        "province": "江苏省",
        "city": "南京市",
        "phone": "139 0000 1234",
        "weight_kg": "1.500",
        "shipping_cost": "9.50",
    }
    created = warehouse.post(f"/fulfilment/{store.pk}/shipments", body)
    assert created.status_code == 201, created.content
    out = created.json()
    assert (out["carrier"], out["status"], out["phone_masked"], out["shipping_cost"]) == (
        "SF",
        "created",
        "139****1234",
        "9.50",
    )
    scan(Shipment.objects.get(pk=out["id"]), (1, "已揽收"), (5, "运输中"))
    detail = warehouse.get(f"/fulfilment/{store.pk}/shipments/{out['id']}").json()
    assert detail["status"] == "in_transit"
    assert [(e["code"], e["status"]) for e in detail["events"]] == [
        ("运输中", "in_transit"),
        ("已揽收", "picked_up"),
    ]
    assert [(line["sku_code"], line["qty"]) for line in detail["lines"]] == [("A-1", 1), ("B-2", 3)]


def test_log_01_shipment_create_with_a_duplicate_tracking_number_is_a_409(store, channel, warehouse):
    a_shipment(store, channel, "SF1")
    body = {
        "channel_id": channel.pk,
        "order_ref": "x",
        "carrier": "SF",
        "tracking_no": "SF1",
        "warehouse_code": "W",
        "lines": [{"sku_code": "A", "qty": 1}],
        "province": "浙江省",
    }
    response = warehouse.post(f"/fulfilment/{store.pk}/shipments", body)
    assert response.status_code == 409
    assert response.json()["fields"] == {"tracking_no": "已存在"}


def test_ord_05_a_merged_parcel_recorded_by_api_links_every_order_number_it_lists(store, channel, warehouse):
    # given a WMS that shipped five orders in one parcel
    a_carrier("SF")
    numbers = [f"2606011000{n:08d}" for n in range(5)]
    body = {
        "channel_id": channel.pk,
        "order_numbers": numbers,
        "carrier": "SF",
        "tracking_no": "SF5",
        "warehouse_code": "W",
        "lines": [{"sku_code": "A", "qty": 5}],
        "province": "浙江省",
    }
    # when it records the parcel with the order numbers and no order_ref
    created = warehouse.post(f"/fulfilment/{store.pk}/shipments", body)
    # then every number is linked; the display text keeps whole numbers and counts the rest
    assert created.status_code == 201, created.content
    assert created.json()["order_numbers"] == numbers
    assert created.json()["order_ref"] == ",".join(numbers[:3]) + ",…(+2)"
    found = warehouse.get(f"/fulfilment/{store.pk}/shipments", q=numbers[4]).json()["items"]
    assert [s["tracking_no"] for s in found] == ["SF5"]
    # and a number longer than an order number can be is refused, field by field
    too_long = warehouse.post(
        f"/fulfilment/{store.pk}/shipments", {**body, "tracking_no": "SF6", "order_numbers": ["9" * 65]}
    )
    assert too_long.status_code == 422
    assert too_long.json()["fields"] == {"order_ref": "最多 64 个字符"}


def test_log_01_shipment_list_filters_and_paginates(store, channel, api_as):
    for i in range(3):
        a_shipment(store, channel, f"SF{i}", created_at=at(i))
    zto = a_shipment(store, channel, "Z1", carrier=a_carrier("ZTO"), province="广东省", created_at=at(9))
    scan(zto, (10, "已揽收"))
    client = api_as(Role.FINANCE)
    page = client.get(f"/fulfilment/{store.pk}/shipments", page=2, page_size=2).json()
    assert (page["total"], [s["tracking_no"] for s in page["items"]]) == (4, ["SF1", "SF0"])
    by_status = client.get(f"/fulfilment/{store.pk}/shipments", status="picked_up").json()
    assert [s["tracking_no"] for s in by_status["items"]] == ["Z1"]
    by_carrier = client.get(f"/fulfilment/{store.pk}/shipments", carrier="sf", q="SF2").json()
    assert [s["tracking_no"] for s in by_carrier["items"]] == ["SF2"]
    by_province = client.get(f"/fulfilment/{store.pk}/shipments", province="广东省").json()
    assert by_province["total"] == 1


def test_log_01_tracking_file_upload_imports_events_and_reports_unknown_numbers(store, channel, make_user):
    shipment = a_shipment(store, channel, "SF77")
    csv_text = (
        "运单号,时间,状态,地点,描述\n"
        "SF77,2026-03-02 18:00,已揽收,杭州,揽件\n"
        "XX1,2026-03-02 18:00,已揽收,杭州,\n"
    )
    client = Client()
    client.force_login(make_user(Role.WAREHOUSE))
    upload = io.BytesIO(csv_text.encode("utf-8"))
    upload.name = "track.csv"
    response = client.post(
        f"/api/v1/fulfilment/{store.pk}/tracking/import", {"carrier": "SF", "file": upload}
    )
    assert response.status_code == 200, response.content
    assert {k: response.json()[k] for k in ("received", "stored", "unknown", "status_changes")} == {
        "received": 2,
        "stored": 1,
        "unknown": ["XX1"],
        "status_changes": 1,
    }
    shipment.refresh_from_db()
    assert shipment.status == "picked_up"


def _push(client: Client, code: str, payload: object, secret: str | None):
    body = json.dumps(payload).encode()
    headers = {} if secret is None else {"HTTP_X_STOREOPS_SIGNATURE": signature_for(secret, body)}
    return client.post(
        f"/api/v1/fulfilment/webhooks/{code}", data=body, content_type="application/json", **headers
    )


def test_log_01_signed_webhook_accepts_a_good_signature_and_stores_a_repeated_event_once(store, channel):
    # given a carrier with a secret and a parcel
    shipment = a_shipment(store, channel, "SF55", carrier=a_carrier("SF", secret="k-sf"))
    push = {
        "events": [
            {
                "tracking_no": "SF55",
                "time": "2026-03-02T10:00:00+08:00",
                "status": "已揽收",
                "location": "杭州",
            }
        ]
    }
    client = Client()
    # when the carrier pushes the same event twice with a valid signature
    first = _push(client, "SF", push, "k-sf")
    second = _push(client, "sf", push, "k-sf")
    # then it is accepted both times and stored once
    assert first.status_code == 200
    assert second.status_code == 200
    assert (first.json()["stored"], second.json()["stored"], second.json()["duplicates"]) == (1, 0, 1)
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 1


@pytest.mark.parametrize("secret", [None, "wrong-secret"], ids=["unsigned", "bad-signature"])
def test_log_01_signed_webhook_rejects_a_missing_or_bad_signature_with_401(store, channel, secret):
    shipment = a_shipment(store, channel, "SF56", carrier=a_carrier("SF", secret="k-sf"))
    push = {"tracking_no": "SF56", "time": "2026-03-02T10:00:00+08:00", "status": "已签收"}
    response = _push(Client(), "SF", push, secret)
    assert response.status_code == 401
    # the integrator learns what is wrong (not the generic "log in" message)
    assert response.json()["code"] == "invalid_signature"
    assert "HMAC-SHA256" in response.json()["message"]
    assert response.json()["fields"] == {"X-StoreOps-Signature": "缺少" if secret is None else "不匹配"}
    assert shipment.events.count() == 0


def test_log_01_webhook_for_an_unknown_carrier_is_404_naming_it(store, channel):
    response = _push(Client(), "NOPE", {}, "x")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_carrier"
    assert "NOPE" in response.json()["message"]


def test_log_01_exceptions_route_lists_the_parcels_to_follow_up(store, channel, api_as):
    a_shipment(store, channel, "OLD", created_at=at(-1000))
    rows = api_as(Role.WAREHOUSE).get(f"/fulfilment/{store.pk}/exceptions").json()
    assert [(r["tracking_no"], r["kind"], r["label"]) for r in rows] == [
        ("OLD", "pickup_timeout", "揽收超时")
    ]


def test_log_03_carrier_stats_and_suggestion_routes(store, channel, api_as):
    sf = a_carrier("SF")
    for i in range(3):
        delivered(
            store, channel, f"S{i}", carrier=sf, pickup_h=-50, deliver_h=-26, cost="20.00", created_at=at(-51)
        )
    client = api_as(Role.FINANCE)
    stats = client.get(f"/fulfilment/{store.pk}/carrier-stats", days=3650).json()
    assert [(s["carrier"], s["province"], s["delivered"], s["median_hours"]) for s in stats] == [
        ("SF", "浙江省", 3, "24.0")
    ]
    suggestion = client.get(f"/fulfilment/{store.pk}/carrier-suggestion", province="浙江省", days=3650).json()
    assert suggestion["best"] == "SF"
    assert suggestion["ranked"][0]["estimated_cost"] == "20.00"


def test_log_01_shipment_list_query_count_does_not_grow_with_the_page(
    store, channel, api_as, django_assert_num_queries
):
    for i in range(5):
        a_shipment(store, channel, f"Q{i}", created_at=at(i))
    client = api_as(Role.WAREHOUSE)
    client.get(f"/fulfilment/{store.pk}/shipments")  # warm the session and permission caches
    # when the list is read with 5 rows, then it costs the same as with 1 row
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as five:
        assert client.get(f"/fulfilment/{store.pk}/shipments").json()["total"] == 5
    with CaptureQueriesContext(connection) as one:
        assert client.get(f"/fulfilment/{store.pk}/shipments", page_size=1).json()["total"] == 5
    assert len(five.captured_queries) == len(one.captured_queries)


def test_log_03_console_carrier_page_shows_statistics_and_the_suggestion(store, channel, make_user):
    sf, zto = a_carrier("SF"), a_carrier("ZTO")
    for i in range(3):
        delivered(
            store, channel, f"S{i}", carrier=sf, pickup_h=-50, deliver_h=-26, cost="20.00", created_at=at(-51)
        )
        delivered(
            store,
            channel,
            f"Z{i}",
            carrier=zto,
            pickup_h=-80,
            deliver_h=-32,
            cost="10.00",
            created_at=at(-81),
        )
    client = Client()
    client.force_login(make_user(Role.FINANCE))
    html = client.get("/fulfilment/carriers/", {"days": "3650", "province": "浙江省"}).content.decode()
    assert "<strong>SF</strong>" in html  # SF first: 0.5*1 + 0.3*2 + 0.2 = 1.3 vs ZTO 1.5
    assert "1.300" in html
    assert "1.500" in html
    assert "24.0" in html
    assert "48.0" in html
