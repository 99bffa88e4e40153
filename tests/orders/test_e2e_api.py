"""End to end through the HTTP API only: browse → quote → order → pay (callback replayed 3×) →
review → allocate → ship → deliver → partial return → QC → refund, then every balance is
checked: money, stock and coupon (SOP ORD-06, ORD-01, ORD-02, PROMO-02, PROMO-04, AS-04,
INV-03).

Each caller has its own role: the own web shop calls with an operations API token, the
marketing set-up and the review with an operations session, the warehouse allocates, ships,
receives and inspects, customer service approves the return, and the payment provider calls
without any credentials but its signature. Nothing here depends on the database vendor: CI
runs it on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.accounts.services import api_token_create
from storeops.core.context import Actor
from storeops.orders import rules
from storeops.orders.models import Order, PaymentRefund
from storeops.orders.payments import SIGNATURE_HEADER
from tests.conftest import ApiClient
from tests.fulfilment.builders import a_carrier
from tests.orders.builders import World

pytestmark = pytest.mark.django_db

BUYER = "buyer-e2e"
ADDRESS = {
    "receiver": "王五",
    "phone": "13912345678",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "address": "文三路100号",
}


@pytest.fixture
def world(store, channel):
    a_carrier("SF")
    return World(store, channel, stock_sh=10, stock_gz=10, price="199.00")


@pytest.fixture
def shop(make_user):
    """The own web shop: an operations-role API token, created by the owner."""
    owner = make_user(Role.OWNER)
    _token, raw = api_token_create(actor=Actor(user=owner, via="cli"), name="web shop", role=Role.OPERATIONS)
    return ApiClient(Client(), raw)


def _ok(response, status=200):
    assert response.status_code == status, response.content.decode()
    return response.json()


def _stock(api, store_id):
    rows = _ok(api.get(f"/inventory/{store_id}/stock", page_size=200))["items"]
    return {(r["sku_code"], r["warehouse_code"], r["zone"]): (r["on_hand"], r["reserved"]) for r in rows}


def test_ord_06_promo_04_as_04_checkout_to_partial_return_through_the_api_balances_money_stock_and_coupon(
    world, shop, api_as
):
    store = world.store.pk
    ops, warehouse, service = api_as(Role.OPERATIONS), api_as(Role.WAREHOUSE), api_as(Role.CUSTOMER_SERVICE)
    stock_before = _stock(warehouse, store)

    # marketing set-up: a store-level 满300减25 for everyone, and a 满200减20 coupon for the buyer
    offer = _ok(
        ops.post(
            f"/promotions/{store}/offers",
            {
                "kind": "tiered_reduction",
                "title_zh": "满300减25",
                "params": {"tiers": [{"threshold": "300", "amount": "25"}]},
            },
        ),
        201,
    )
    assert (
        _ok(ops.patch(f"/promotions/{store}/offers/{offer['id']}", {"status": "active"}))["status"]
        == "active"
    )
    template = _ok(
        ops.post(
            f"/promotions/{store}/coupon-templates",
            {"name": "满200减20", "kind": "store_threshold", "threshold": "200", "amount": "20"},
        ),
        201,
    )
    issued = _ok(
        ops.post(f"/promotions/{store}/coupon-templates/{template['id']}/issue", {"customer_refs": [BUYER]})
    )
    [coupon] = issued["issued"]
    code = coupon["code"]

    # browse: the product list, then its detail with the SKUs
    products = _ok(shop.get(f"/catalog/{store}/products"))["items"]
    [product] = [p for p in products if p["code"] == "P1"]
    detail = _ok(shop.get(f"/catalog/{store}/products/{product['id']}"))
    sizes = {s["code"]: Decimal(s["price"]) for s in detail["skus"]}
    assert sizes == {"P1-S": Decimal("199.00"), "P1-M": Decimal("199.00")}

    # cart → quote: one S and two M, the offer and the coupon both apply
    cart = {
        "channel_id": world.channel.pk,
        "customer": {"ref": BUYER},
        "lines": [{"sku": "P1-S", "quantity": 1}, {"sku": "P1-M", "quantity": 2}],
        "coupon_codes": [code],
    }
    quote = _ok(shop.post(f"/orders/shop/{store}/quote", cart))["quote"]
    payable = Decimal(quote["payable"])
    assert payable == Decimal("597.00") - Decimal("25.00") - Decimal("20.00")

    # order: placed with an idempotency key, payment instructions in the answer
    placed = _ok(
        shop.post(f"/orders/shop/{store}/orders", {**cart, "address": ADDRESS, "idempotency_key": "e2e-1"}),
        201,
    )
    number, payment = placed["order"]["number"], placed["payment"]
    assert Decimal(placed["order"]["payable"]) == payable
    again = _ok(
        shop.post(f"/orders/shop/{store}/orders", {**cart, "address": ADDRESS, "idempotency_key": "e2e-1"})
    )
    assert again["replayed"] is True
    assert again["order"]["number"] == number

    # pay at the test gateway, then the provider replays its signed callback three times
    paid = _ok(shop.post(f"/orders/test-gateway/{payment['reference']}", {"outcome": "succeeded"}))
    assert paid["callback"]["result"] == "applied"
    provider = Client()  # no session, no token: only the signature
    for _ in range(3):
        replay = provider.post(
            "/api/v1/orders/payments/test/callback",
            paid["body"].encode(),
            content_type="application/json",
            **{f"HTTP_{SIGNATURE_HEADER.upper().replace('-', '_')}": paid["signature"]},
        )
        assert _ok(replay)["result"] == "duplicate"

    # back office: review (ORD-01), allocate (ORD-02), ship, deliver
    assert (
        _ok(ops.post(f"/orders/{store}/orders/{number}/review", {"action": "auto"}))["status"] == "reviewed"
    )
    assert _ok(warehouse.post(f"/orders/{store}/orders/{number}/allocate"))["status"] == "allocated"
    [shipped] = _ok(
        warehouse.post(f"/orders/{store}/orders/{number}/ship", {"carrier": "SF", "tracking_no": "SF1001"})
    )
    assert shipped["status"] == "shipped"
    assert _ok(warehouse.post(f"/orders/{store}/orders/{number}/deliver", {}))["status"] == "delivered"
    order = _ok(ops.get(f"/orders/{store}/orders/{number}"))
    line_m = next(line for line in order["lines"] if line["sku_code"] == "P1-M")
    [parcel_wh] = {a["warehouse_code"] for a in order["allocations"]}

    # after-sales: the buyer returns one M; customer service approves; the warehouse receives it
    # and QC passes it; a return is refunded as soon as it passes QC (AS-04)
    case = _ok(
        shop.post(
            f"/aftersales/shop/{store}/cases",
            {
                "order_number": number,
                "customer": BUYER,
                "kind": "return",
                "reason": "size",
                "lines": [{"line_id": line_m["id"], "quantity": 1}],
            },
        ),
        201,
    )
    case_no = case["number"]
    approved = _ok(service.post(f"/aftersales/{store}/cases/{case_no}/approve", {"note": "同意退货"}))
    assert approved["status"] == "approved"
    assert approved["return_address"] is not None
    assert (
        _ok(warehouse.post(f"/aftersales/{store}/cases/{case_no}/receive", {"tracking_no": "SF-R1"}))[
            "status"
        ]
        == "received"
    )
    inspected = _ok(
        warehouse.post(
            f"/aftersales/{store}/cases/{case_no}/inspect",
            {"results": [{"line_id": line_m["id"], "passed": 1, "failed": 0}], "note": "完好"},
        )
    )
    if inspected["status"] != "refunded":  # the provider may refuse at once: customer service retries
        inspected = _ok(service.post(f"/aftersales/{store}/cases/{case_no}/refund"))
    assert inspected["status"] == "refunded"

    # --- the books --------------------------------------------------------------------------------
    order = _ok(ops.get(f"/orders/{store}/orders/{number}"))
    lines = {line["sku_code"]: line for line in order["lines"]}
    unit_price_paid = rules.unit_amounts(Decimal(line_m["paid_total"]), line_m["quantity"])[0]
    # money: paid in full once; exactly the apportioned price of the returned unit came back
    assert order["status"] == "delivered"
    assert Decimal(order["paid_amount"]) == Decimal(order["payable"]) == payable
    assert Decimal(order["list_total"]) - Decimal(order["discount_total"]) == payable
    assert sum(Decimal(line["paid_total"]) for line in order["lines"]) == payable
    assert Decimal(order["refunded_amount"]) == unit_price_paid == Decimal(inspected["refunded_amount"])
    assert (lines["P1-M"]["refunded_qty"], Decimal(lines["P1-M"]["refunded_amount"])) == (1, unit_price_paid)
    assert (lines["P1-S"]["refunded_qty"], Decimal(lines["P1-S"]["refunded_amount"])) == (0, Decimal("0"))
    assert unit_price_paid < Decimal("199.00")  # the discounts were apportioned to the unit
    assert [p["status"] for p in order["payments"]] == ["succeeded"]
    assert [e["kind"] for e in order["events"]].count("paid") == 1
    refunds = PaymentRefund.objects.filter(order__number=number)
    assert [(r.amount, r.status) for r in refunds] == [(unit_price_paid, "succeeded")]
    applied = {(a["offer"], a["coupon"]) for a in order["pricing"]["applied"]}
    assert any(c == code for _o, c in applied)
    assert any(o == f"of{offer['id']}" for o, _c in applied)

    # stock: two units left the shipping warehouse for good, the returned one is sellable again
    # after QC, nothing is reserved, and the ledger explains every balance (INV-03)
    after = _stock(warehouse, store)
    s_key, m_key = ("P1-S", parcel_wh, "sellable"), ("P1-M", parcel_wh, "sellable")
    assert after[s_key] == (stock_before[s_key][0] - 1, 0)
    assert after[m_key] == (stock_before[m_key][0] - 2 + 1, 0)
    assert after.get(("P1-M", parcel_wh, "qc"), (0, 0)) == (0, 0)
    assert sum(reserved for _on_hand, reserved in after.values()) == 0
    assert _ok(warehouse.get(f"/inventory/{store}/ledger/check")) == []

    # coupon: redeemed exactly once, bound to this order, and refused for a second order
    coupons = _ok(ops.get(f"/promotions/{store}/coupons", customer=BUYER))["items"]
    assert [(c["code"], c["status"], c["order_ref"]) for c in coupons] == [(code, "redeemed", number)]
    second = shop.post(
        f"/orders/shop/{store}/orders", {**cart, "address": ADDRESS, "idempotency_key": "e2e-2"}
    )
    assert second.status_code in (409, 422), second.content
    assert Order.objects.filter(store=world.store).count() == 1
