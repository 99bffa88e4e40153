"""The orders API as an integrator meets it: the storefront's answers, the development test
gateway, the import upload's field names and the list filters."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from storeops.accounts.roles import Role
from storeops.orders.models import OrderImport, PaymentCallback
from tests.orders import import_files as f
from tests.orders.builders import World

pytestmark = pytest.mark.django_db

_ADDRESS = {
    "receiver": "张三",
    "phone": "13812345678",
    "province": "浙江省",
    "city": "杭州市",
    "address": "文三路100号",
}


@pytest.fixture
def world(store, channel):
    return World(store, channel)


def _place(shop, world, key="web-1"):
    cart = {
        "channel_id": world.channel.pk,
        "customer": {"ref": "buyer-1"},
        "lines": [{"sku": "P1-S", "quantity": 1}],
    }
    return shop.post(
        f"/orders/shop/{world.store.pk}/orders", {**cart, "address": _ADDRESS, "idempotency_key": key}
    )


def test_ord_06_the_placed_order_shows_its_money_with_two_decimals_the_first_time_too(world, api_as):
    # given the web shop's token
    shop = api_as(Role.OPERATIONS)

    # when an order is placed, then the same key is sent again
    first = _place(shop, world)
    replay = _place(shop, world)

    # then both answers carry the same amounts, written alike (the first said "0")
    assert first.status_code == 201, first.content
    assert replay.status_code == 200
    for key in ("paid_amount", "refunded_amount", "discount_total"):
        assert first.json()["order"][key] == replay.json()["order"][key] == "0.00"


def test_ord_06_the_test_gateway_refuses_an_unknown_outcome_with_a_422_and_records_nothing(world, api_as):
    # given an order waiting for its payment
    shop = api_as(Role.OPERATIONS)
    reference = _place(shop, world).json()["payment"]["reference"]

    # when the test gateway is asked for an outcome it does not know
    response = shop.post(f"/orders/test-gateway/{reference}", {"outcome": "maybe"})

    # then it is bad input naming the field (it was a 403 "bad signature", and a rejected
    # callback was recorded)
    assert response.status_code == 422
    assert response.json()["fields"] == {"outcome": "只能是 succeeded / failed"}
    assert not PaymentCallback.objects.exists()


def test_the_import_upload_names_its_form_fields_as_sent(world, store, channel, api_as):
    # given an operations token and an upload without its channel
    client = api_as(Role.OPERATIONS)
    data = {"file": SimpleUploadedFile("tmall.csv", f.csv_bytes(f.TMALL_HEADER, f.tmall_rows()))}

    # when it is posted
    response = client.client.post(f"/api/v1/orders/imports/{store.pk}", data, **client.headers)

    # then the field is "channel_id" (not "form.channel_id")
    assert response.status_code == 422
    assert response.json()["fields"] == {"channel_id": "必填"}
    assert not OrderImport.objects.exists()


@pytest.mark.parametrize("path", ["/orders/imports/{store}", "/orders/invoices/{store}"])
def test_an_unknown_status_filter_is_a_422_listing_the_statuses(store, api_as, path):
    # a typo answered an empty list, as if there were no such rows
    response = api_as(Role.OPERATIONS).get(path.format(store=store.pk), status="issud")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["fields"]) == ["status"]
    assert body["fields"]["status"].startswith("只能是 ")
