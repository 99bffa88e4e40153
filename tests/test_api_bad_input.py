"""Bad input found by fuzzing the whole API (schemathesis over the OpenAPI schema, every route,
an owner's token): each was a 500; each is now a 4xx in the error shape and nothing is saved."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.catalog.models import Product
from storeops.marketing import services as marketing
from storeops.marketing.models import AdPlan
from storeops.stores import services as st
from storeops.stores.models import Qualification
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product
from tests.fulfilment.builders import a_carrier, a_shipment
from tests.marketing.builders import an_ad_plan
from tests.orders.builders import World

pytestmark = pytest.mark.django_db


def _client(make_user, role: Role) -> Client:
    client = Client()
    client.force_login(make_user(role))
    return client


def _json(client: Client, method: str, url: str, body: object):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def test_store_02_patching_a_qualification_text_to_null_is_a_422_and_changes_nothing(store, make_user):
    q = st.qualification_create(
        actor=ACTOR,
        store=store,
        kind="business_license",
        title="营业执照",
        issuer="市监局",
        valid_from=timezone.localdate(),
        scope="服装",
    )
    client = _client(make_user, Role.OWNER)
    response = _json(client, "patch", f"/api/v1/stores/{store.pk}/qualifications/{q.pk}", {"scope": None})
    assert response.status_code == 422, response.content
    assert "scope" in response.json()["fields"]
    assert Qualification.objects.get(pk=q.pk).scope == "服装"


@pytest.mark.parametrize("amount", ["1E+30", "-1E+30", "99999999999999999999999999999"])
def test_price_02_an_amount_too_large_to_round_is_a_422_not_a_500(store, make_user, amount):
    sku = a_product(store, a_dress_category(store, required_qualifications=[]), "P1").skus.first()
    before = sku.cost
    client = _client(make_user, Role.OWNER)
    response = _json(client, "put", f"/api/v1/pricing/{store.pk}/skus/{sku.pk}/cost", {"product": amount})
    assert response.status_code == 422, response.content
    assert "product" in response.json()["fields"]
    sku.refresh_from_db()
    assert sku.cost == before


@pytest.mark.parametrize(
    ("field", "value"), [("latitude", "1E+30"), ("latitude", "91"), ("longitude", "-181")]
)
def test_ord_01_coordinates_out_of_range_are_a_422_and_the_address_is_unchanged(
    store, channel, make_user, field, value
):
    order = World(store, channel).place(1)
    address = {
        "receiver": "李四",
        "phone": "13900000000",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "address": "文三路 1 号",
        field: value,
    }
    client = _client(make_user, Role.OWNER)
    response = _json(client, "post", f"/api/v1/orders/{store.pk}/orders/{order.number}/address", address)
    assert response.status_code == 422, response.content
    assert f"address.{field}" in response.json()["fields"]
    order.refresh_from_db()
    assert order.receiver != "李四"


def test_log_01_a_multipart_body_without_boundary_is_a_400(store, make_user):
    client = _client(make_user, Role.OWNER)
    response = client.post(
        f"/api/v1/fulfilment/{store.pk}/tracking/import",
        data=b"carrier=SF",
        content_type="multipart/form-data",  # no boundary
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_multipart"


@pytest.mark.parametrize(
    ("name", "data"),
    [("track.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x82"), ("track.xlsx", b"not a zip at all")],
)
def test_log_01_a_tracking_file_that_is_no_table_is_a_422_naming_the_file(
    store, channel, make_user, name, data
):
    a_carrier("SF")
    shipment = a_shipment(store, channel, "SF77")
    upload = io.BytesIO(data)
    upload.name = name
    response = _client(make_user, Role.WAREHOUSE).post(
        f"/api/v1/fulfilment/{store.pk}/tracking/import", {"carrier": "SF", "file": upload}
    )
    assert response.status_code == 422, response.content
    assert "file" in response.json()["fields"]
    shipment.refresh_from_db()
    assert shipment.status == "created"


def test_log_01_a_gbk_tracking_csv_from_excel_is_read(store, channel, make_user):
    a_carrier("SF")
    shipment = a_shipment(store, channel, "SF77")
    upload = io.BytesIO("运单号,时间,状态,地点,描述\nSF77,2026-03-02 18:00,已揽收,杭州,揽件\n".encode("gbk"))
    upload.name = "track.csv"
    response = _client(make_user, Role.WAREHOUSE).post(
        f"/api/v1/fulfilment/{store.pk}/tracking/import", {"carrier": "SF", "file": upload}
    )
    assert response.status_code == 200, response.content
    shipment.refresh_from_db()
    assert shipment.status == "picked_up"


@pytest.mark.parametrize(
    ("query", "field"), [("end=0068-09-19", "end"), ("start=1899-12-31&end=2000-01-05", "start")]
)
def test_cs_04_a_complaint_report_before_2000_is_a_422_naming_the_day(store, make_user, query, field):
    # before 1901 Asia/Shanghai is local mean time, +08:05:43: the answer's datetimes were a 500
    client = _client(make_user, Role.OWNER)
    response = client.get(f"/api/v1/service/{store.pk}/report?{query}")
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"]


def test_ads_03_a_bid_at_a_time_with_a_utc_offset_is_a_422(store, make_user):
    # the time was echoed in the answer: "JSON can't represent timezone-aware times", a 500
    plan = an_ad_plan(store)
    keyword = marketing.ad_keyword_set(actor=ACTOR, plan=plan, keyword="连衣裙", bid="2.00")
    client = _client(make_user, Role.OWNER)
    url = f"/api/v1/marketing/{store.pk}/ad-plans/{plan.pk}/keywords/{keyword.pk}/bid"
    response = client.get(url, {"at": "17:28:54.640-19:32"})
    assert response.status_code == 422, response.content
    assert response.json()["fields"] == {"at": "须为不带时区的时间（HH:MM，店铺当地时间）"}
    assert client.get(url, {"at": "17:28"}).status_code == 200


def test_ads_03_a_peak_hour_with_a_utc_offset_is_a_422_and_no_plan_is_saved(store, make_user):
    client = _client(make_user, Role.OWNER)
    body = {
        "name": "高峰计划",
        "purpose": "traffic",
        "match_type": "broad",
        "peak_start": "20:00+08:00",
        "peak_end": "22:00",
        "peak_uplift": "0.12",
    }
    response = _json(client, "post", f"/api/v1/marketing/{store.pk}/ad-plans", body)
    assert response.status_code == 422, response.content
    assert set(response.json()["fields"]) == {"peak_start"}
    assert not AdPlan.objects.filter(name="高峰计划").exists()


@pytest.mark.parametrize("field", ["is_key", "has_efficacy_claim", "description", "category_id"])
def test_list_01_patching_a_product_field_to_null_is_a_422_and_changes_nothing(store, make_user, field):
    # is_key / has_efficacy_claim / description null were a 500 (NOT NULL constraint failed)
    product = a_product(store, a_dress_category(store, required_qualifications=[]), "P1")
    before = Product.objects.filter(pk=product.pk).values().get()
    client = _client(make_user, Role.OWNER)
    response = _json(client, "patch", f"/api/v1/catalog/{store.pk}/products/{product.pk}", {field: None})
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"]
    assert Product.objects.filter(pk=product.pk).values().get() == before


def test_as_05_return_stats_from_before_2000_are_a_422_naming_the_day(store, make_user):
    # since=0002-01-25 answered "0002-01-25T00:00:00+08:05:43": not an RFC 3339 date-time
    client = _client(make_user, Role.OWNER)
    url = f"/api/v1/aftersales/{store.pk}/stats"
    response = client.get(url, {"since": "0002-01-25", "until": "1999-12-29"})
    assert response.status_code == 422, response.content
    assert response.json()["fields"] == {"since": "须不早于 2000-01-01", "until": "须不早于 2000-01-01"}
    assert client.get(url, {"since": "2000-01-01"}).status_code == 200


def test_ads_03_a_time_of_day_is_documented_without_a_utc_offset():
    # "format: time" is RFC 3339's full-time, with an offset: generated clients sent one (a 422)
    from storeops.config.api import api

    bid = "/api/v1/marketing/{store_id}/ad-plans/{plan_id}/keywords/{keyword_id}/bid"
    parameters = api.get_openapi_schema()["paths"][bid]["get"]["parameters"]
    at = next(p for p in parameters if p["name"] == "at")
    assert "format" not in at["schema"]
    assert at["schema"]["pattern"].startswith("^")
    # and so are the times in the answers: "00:00:00" is no RFC 3339 full-time either
    components = api.get_openapi_schema()["components"]["schemas"]
    assert "format" not in components["BidOut"]["properties"]["at"]


def test_ord_06_paying_a_storefront_order_with_the_marketplace_settlement_is_a_422(store, channel, make_user):
    from storeops.orders.models import Payment

    world = World(store, channel)
    order = world.place(1)
    client = _client(make_user, Role.OPERATIONS)
    url = f"/api/v1/orders/shop/{store.pk}/orders/{order.number}/pay?provider=marketplace"
    response = _json(client, "post", url, {})
    assert response.status_code == 422, response.content
    assert "provider" in response.json()["fields"]
    assert not Payment.objects.filter(order=order).exists()
