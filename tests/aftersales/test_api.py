"""The after-sales API: storefront requests, the back-office flow, errors and statistics."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from storeops.accounts.roles import Role
from storeops.aftersales.models import AfterSale
from storeops.orders import services as order_services
from storeops.orders.models import Order
from tests.aftersales.builders import a_discount, shipped_order
from tests.orders.builders import ACTOR, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(store, channel):
    return World(store, channel)


@pytest.fixture
def order(world):
    """Delivered just now (the API acts at the real clock), 3 units at 290.00 after discount."""
    a_discount(world.store)
    shipped = shipped_order(world, 3)
    return order_services.order_deliver(actor=ACTOR, order=shipped, at=timezone.now() - dt.timedelta(hours=1))


def _body(order, qty=1, **extra):
    return {
        "order_number": order.number,
        "kind": "return",
        "reason": "no_reason",
        "lines": [{"line_id": order.lines.get().pk, "quantity": qty}],
        **extra,
    }


def test_as_01_policy_is_published_from_the_playbook(api_as, store, system):
    from storeops.stores.services import playbook_update

    playbook_update(actor=system, store=store, values={"return_window_days": 10})
    response = api_as(Role.ANALYST).get(f"/aftersales/{store.pk}/policy")
    assert response.status_code == 200
    body = response.json()
    assert body["return_window_days"] == 10
    assert "10 天" in body["zh"]
    assert "10 days" in body["en"]


def test_as_04_full_return_flow_through_the_api(api_as, store, order, world):
    cs = api_as(Role.CUSTOMER_SERVICE)
    wh = api_as(Role.WAREHOUSE)
    created = cs.post(f"/aftersales/{store.pk}/cases", _body(order, images=["https://img.example/1.jpg"]))
    assert created.status_code == 201, created.content
    case = created.json()
    assert (case["status"], case["refund_amount"], case["kind_label"]) == ("requested", "96.67", "退货退款")
    number = case["number"]
    base = f"/aftersales/{store.pk}/cases/{number}"
    # the warehouse cannot approve, customer service can
    assert wh.post(f"{base}/approve", {}).status_code == 403
    approved = cs.post(f"{base}/approve", {"note": "同意"}).json()
    assert approved["status"] == "approved"
    assert approved["return_address"]["warehouse"] == "上海仓"
    assert wh.post(f"{base}/receive", {"tracking_no": "SFR1"}).json()["status"] == "received"
    line_id = order.lines.get().pk
    inspected = wh.post(f"{base}/inspect", {"results": [{"line_id": line_id, "passed": 1, "failed": 0}]})
    assert inspected.status_code == 200, inspected.content
    body = inspected.json()
    assert (body["status"], body["refunded_amount"]) == ("refunded", "96.67")
    assert [e["kind"] for e in body["events"]][:2] == ["requested", "approved"]
    assert Order.objects.get(pk=order.pk).refunded_amount == Decimal("96.67")


def test_as_03_storefront_refund_only_under_50_comes_back_refunded(api_as, store, channel):
    world = World(store, channel, price="20.00")
    shipped = shipped_order(world, 1)
    order_services.order_deliver(actor=ACTOR, order=shipped, at=timezone.now())
    shop = api_as(Role.OPERATIONS)  # the storefront token is an operations token
    body = {**_body(shipped), "kind": "refund_only", "reason": "damaged", "customer": shipped.customer_ref}
    response = shop.post(f"/aftersales/shop/{store.pk}/cases", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["status"], data["refunded_amount"]) == ("refunded", "20.00")
    assert "priority" not in data  # internal fields stay internal
    again = shop.get(f"/aftersales/shop/{store.pk}/cases/{data['number']}", customer=shipped.customer_ref)
    assert again.status_code == 200
    assert shop.get(f"/aftersales/shop/{store.pk}/cases/{data['number']}", customer="x").status_code == 404


def test_as_01_storefront_customer_cancels_their_request(api_as, store, order):
    shop = api_as(Role.OPERATIONS)
    created = shop.post(
        f"/aftersales/shop/{store.pk}/cases", {**_body(order), "customer": order.customer_ref}
    )
    number = created.json()["number"]
    wrong = shop.post(f"/aftersales/shop/{store.pk}/cases/{number}/cancel", {"customer": "other"})
    assert wrong.status_code == 404
    ok = shop.post(f"/aftersales/shop/{store.pk}/cases/{number}/cancel", {"customer": order.customer_ref})
    assert ok.json()["status"] == "cancelled"
    assert Order.objects.get(pk=order.pk).status == "delivered"


def test_as_01_bad_requests_are_4xx_with_field_messages_and_write_nothing(api_as, store, order):
    cs = api_as(Role.CUSTOMER_SERVICE)
    too_many = cs.post(f"/aftersales/{store.pk}/cases", _body(order, qty=4))
    assert too_many.status_code == 422
    assert too_many.json()["fields"] == {f"lines.{order.lines.get().pk}": "最多可申请 3 件"}
    unknown = cs.post(f"/aftersales/{store.pk}/cases", {**_body(order), "order_number": "NOPE"})
    assert unknown.status_code == 404
    assert "NOPE" in unknown.json()["message"]
    bad_kind = cs.post(f"/aftersales/{store.pk}/cases", {**_body(order), "kind": "swap"})
    assert bad_kind.status_code == 422
    assert "kind" in bad_kind.json()["fields"]
    missing = cs.post(f"/aftersales/{store.pk}/cases", {"order_number": order.number})
    assert missing.status_code == 422
    dup = {**_body(order), "lines": [{"line_id": order.lines.get().pk, "quantity": 1}] * 2}
    assert cs.post(f"/aftersales/{store.pk}/cases", dup).status_code == 422
    assert not AfterSale.objects.exists()
    assert Order.objects.get(pk=order.pk).status == "delivered"


def test_as_04_invalid_steps_are_conflicts(api_as, store, order):
    cs = api_as(Role.CUSTOMER_SERVICE)
    number = cs.post(f"/aftersales/{store.pk}/cases", _body(order)).json()["number"]
    base = f"/aftersales/{store.pk}/cases/{number}"
    received = cs.post(f"{base}/receive", {})
    assert received.status_code == 409
    assert cs.post(f"{base}/refund", {}).status_code == 409
    reject = cs.post(f"{base}/reject", {"reason": ""})
    assert reject.status_code == 422
    assert reject.json()["fields"] == {"reason": "必填"}
    assert cs.get(f"/aftersales/{store.pk}/cases/AS-NOPE").status_code == 404


def test_as_03_queue_lists_new_customers_first_with_filters_and_pages(api_as, store, world):
    a_carrier_orders = []
    for customer in ("old", "old", "new"):
        shipped = shipped_order(world, 1, customer=customer)
        a_carrier_orders.append(order_services.order_deliver(actor=ACTOR, order=shipped, at=timezone.now()))
    cs = api_as(Role.CUSTOMER_SERVICE)
    for o in a_carrier_orders[1:]:
        assert cs.post(f"/aftersales/{store.pk}/cases", _body(o)).status_code == 201
    page = cs.get(f"/aftersales/{store.pk}/cases", status="open", page_size=1).json()
    assert page["total"] == 2
    assert [c["customer_ref"] for c in page["items"]] == ["new"]
    assert cs.get(f"/aftersales/{store.pk}/cases", status="nope").status_code == 422
    assert cs.get(f"/aftersales/{store.pk}/cases", kind="exchange").json()["total"] == 0


def test_as_05_stats_report_return_rate_and_reasons(api_as, store, order):
    cs = api_as(Role.CUSTOMER_SERVICE)
    cs.post(f"/aftersales/{store.pk}/cases", _body(order, qty=1, reason="quality"))
    # the builders' orders were paid on 2026-06-01
    response = api_as(Role.ANALYST).get(
        f"/aftersales/{store.pk}/stats", since="2026-05-01", until="2026-06-30"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["sold"], body["returned"], body["rate"]) == (3, 1, "0.3333")
    assert body["products"][0]["code"] == "P1"
    assert body["reasons"] == [
        {"reason": "quality", "label": "质量问题", "cases": 1, "units": 1, "share": "1.0000"}
    ]


def test_as_05_stats_page_the_products(api_as, store, world):
    # every product sold in the period was one row of a single response
    from storeops.inventory import services as stock_services
    from storeops.orders.services import CartItem, Shopper
    from tests.catalog.db_builders import a_product
    from tests.orders.builders import ADDRESS

    for code in ("P2", "P3"):
        sku = a_product(store, world.sku_s.product.category, code).skus.get(code=f"{code}-S")
        stock_services.stock_receive(actor=ACTOR, sku=sku, warehouse=world.sh, quantity=5, reason="采购入库")
    for code, qty in (("P1", 3), ("P2", 2), ("P3", 1)):  # nothing returned: most sold first
        placed, _ = order_services.order_place(
            actor=ACTOR,
            store=store,
            channel=world.channel,
            customer=Shopper(customer_ref="c1"),
            lines=[CartItem(f"{code}-S", qty)],
            address=ADDRESS,
        )
        world.pay(placed)
    analyst = api_as(Role.ANALYST)
    url = f"/aftersales/{store.pk}/stats"

    first = analyst.get(url, page_size=2).json()
    second = analyst.get(url, page=2, page_size=2).json()
    bad = analyst.get(url, page=0, page_size=201)

    assert [p["code"] for p in first["products"]] == ["P1", "P2"]
    assert (first["products_total"], first["page"], first["page_size"], first["sold"]) == (3, 1, 2, 6)
    assert [(p["code"], p["sold"]) for p in second["products"]] == [("P3", 1)]
    assert second["sold"] == 6  # the totals count every product, not the page
    assert [c["sold"] for c in second["categories"]] == [6]
    assert bad.status_code == 422
    assert bad.json()["fields"] == {"page": "须为不小于 1 的整数", "page_size": "须为 1–200 的整数"}


def test_as_03_queue_endpoint_reads_a_fixed_number_of_queries(
    api_as, store, world, django_assert_max_num_queries
):
    cs = api_as(Role.CUSTOMER_SERVICE)
    orders = [shipped_order(world, 1, customer=f"q{i}") for i in range(4)]
    for shipped in orders:
        delivered = order_services.order_deliver(actor=ACTOR, order=shipped, at=timezone.now())
        assert cs.post(f"/aftersales/{store.pk}/cases", _body(delivered)).status_code == 201
    cs.get(f"/aftersales/{store.pk}/cases")  # warm the session and permission caches
    with django_assert_max_num_queries(8):
        page = cs.get(f"/aftersales/{store.pk}/cases")
    assert page.json()["total"] == 4


def test_as_01_storefront_retry_with_the_same_idempotency_key_returns_the_same_case(api_as, store, order):
    shop = api_as(Role.OPERATIONS)
    body = {**_body(order), "customer": order.customer_ref, "idempotency_key": "rma-1"}
    first = shop.post(f"/aftersales/shop/{store.pk}/cases", body)
    again = shop.post(f"/aftersales/shop/{store.pk}/cases", body)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["number"] == again.json()["number"]
    assert AfterSale.objects.count() == 1


def test_as_01_an_order_number_two_channels_share_needs_the_channel(api_as, store, order, world):
    from storeops.stores import services as store_services

    # given a marketplace order whose platform number happens to equal the web-shop order's
    jd = store_services.channel_create(actor=ACTOR, store=store, kind="jd", code="jd-x", name="京东")
    world.channel = jd
    other = world.place(1, key="jd-1")
    Order.objects.filter(pk=other.pk).update(number=order.number)  # as an import would store it
    cs = api_as(Role.CUSTOMER_SERVICE)
    # when a case names only the number, it is refused with a message, nothing written
    refused = cs.post(f"/aftersales/{store.pk}/cases", _body(order))
    assert refused.status_code == 422
    assert "channel_id" in refused.json()["fields"]
    assert not AfterSale.objects.exists()
    # with the channel it attaches to the right order
    created = cs.post(f"/aftersales/{store.pk}/cases", _body(order, channel_id=order.channel_id))
    assert created.status_code == 201, created.content
    assert AfterSale.objects.get().order_id == order.pk


def test_as_01_a_new_case_shows_its_money_with_two_decimals(api_as, store, order):
    # the 201 said "refunded_amount": "0" where every later answer says "0.00"
    shop = api_as(Role.OPERATIONS)
    created = shop.post(
        f"/aftersales/shop/{store.pk}/cases", {**_body(order), "customer": order.customer_ref}
    )
    assert created.status_code == 201, created.content
    assert created.json()["refunded_amount"] == "0.00"
    back_office = api_as(Role.CUSTOMER_SERVICE).post(f"/aftersales/{store.pk}/cases", _body(order, qty=1))
    assert back_office.status_code == 201, back_office.content
    assert back_office.json()["refunded_amount"] == "0.00"
