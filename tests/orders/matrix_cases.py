"""The orders routes in the permission matrix (tests/test_permission_matrix.py).

``orders_world`` builds one order in each state the routes act on, on top of the matrix
world's catalog (SKU OK-S), warehouse stock and carrier SF."""

from __future__ import annotations

from django.utils import timezone

from storeops.orders import reconcile, settlements
from storeops.orders import services as svc
from storeops.orders.groups import GroupRequest
from storeops.promotions import services as prs
from storeops.promotions.services import CartItem, Shopper
from tests.orders.builders import ACTOR, World

_O = "/orders/{store}/orders"
_SHOP = "/orders/shop/{store}"
_CART = {"channel_id": "{channel}", "customer": {"ref": "m-new"}, "lines": [{"sku": "OK-S", "quantity": 1}]}
_ADDRESS = {
    "receiver": "王五",
    "phone": "13900001111",
    "province": "上海市",
    "city": "上海市",
    "address": "世纪大道100号",
}

ORDERS_API_CASES = {
    ("POST", "/orders/shop/{store_id}/quote"): (_SHOP + "/quote", _CART),
    ("POST", "/orders/shop/{store_id}/orders"): (_SHOP + "/orders", {**_CART, "address": _ADDRESS}),
    ("GET", "/orders/shop/{store_id}/orders/{number}"): (_SHOP + "/orders/{o_created}", None),
    ("GET", "/orders/shop/{store_id}/groups/{code}"): (_SHOP + "/groups/{o_group}", None),
    ("POST", "/orders/shop/{store_id}/orders/{number}/pay"): (_SHOP + "/orders/{o_created}/pay", {}),
    ("POST", "/orders/shop/{store_id}/orders/{number}/cancel"): (
        _SHOP + "/orders/{o_created}/cancel",
        {"reason": "不想要了"},
    ),
    ("POST", "/orders/test-gateway/{reference}"): (
        "/orders/test-gateway/{o_payment}",
        {"outcome": "succeeded"},
    ),
    ("GET", "/orders/{store_id}/orders"): (_O + "?status=on_hold", None),
    ("GET", "/orders/{store_id}/orders/{number}"): (_O + "/{o_held}", None),
    ("POST", "/orders/{store_id}/orders/{number}/review"): (_O + "/{o_held}/review", {"action": "approve"}),
    ("POST", "/orders/{store_id}/orders/{number}/address"): (_O + "/{o_held}/address", _ADDRESS),
    ("POST", "/orders/{store_id}/orders/{number}/notify"): (
        _O + "/{o_held}/notify",
        {"channel": "sms", "text": "您的订单地址有误，请联系客服"},
    ),
    ("POST", "/orders/{store_id}/orders/{number}/allocate"): (_O + "/{o_reviewed}/allocate", {}),
    ("POST", "/orders/{store_id}/orders/{number}/ship"): (
        _O + "/{o_allocated}/ship",
        {"carrier": "SF", "tracking_no": "SFOM1"},
    ),
    ("POST", "/orders/{store_id}/orders/{number}/deliver"): (_O + "/{o_shipped}/deliver", {}),
    ("GET", "/orders/{store_id}/orders/{number}/carrier-suggestion"): (  # LOG-03
        _O + "/{o_allocated}/carrier-suggestion",
        None,
    ),
    ("POST", "/orders/{store_id}/orders/{number}/cancel"): (_O + "/{o_reviewed}/cancel", {"reason": "缺货"}),
    # RISK-01: confirmed brushing, frozen accounts
    ("POST", "/orders/{store_id}/orders/{number}/brushing"): (
        _O + "/{o_reviewed}/brushing",
        {"note": "同地址多账号"},
    ),
    ("GET", "/orders/{store_id}/frozen-accounts"): ("/orders/{store}/frozen-accounts?state=all&q=m", None),
    ("POST", "/orders/{store_id}/frozen-accounts"): (
        "/orders/{store}/frozen-accounts",
        {"customer_ref": "m-other", "reason": "同设备多账号"},
    ),
    ("POST", "/orders/{store_id}/frozen-accounts/{freeze_id}/lift"): (
        "/orders/{store}/frozen-accounts/{o_freeze}/lift",
        {"note": "误判"},
    ),
    # ORD-06: payment reconciliation (finance)
    ("GET", "/orders/finance/{store_id}/ledger"): ("/orders/finance/{store}/ledger", None),
    ("POST", "/orders/finance/{store_id}/statements"): (
        "/orders/finance/{store}/statements",
        {
            "provider": "test",
            "file_format": "generic",
            "statement_date": "2026-06-02",
            "file": "单号,类型,金额\nP-MATRIX,收款,1.00\n",
        },
    ),
    ("GET", "/orders/finance/{store_id}/statements"): ("/orders/finance/{store}/statements", None),
    ("GET", "/orders/finance/{store_id}/statements/{statement_id}"): (
        "/orders/finance/{store}/statements/{o_statement}",
        None,
    ),
    ("POST", "/orders/finance/{store_id}/statements/{statement_id}/apply"): (
        "/orders/finance/{store}/statements/{o_statement}/apply",
        {"reference": "{o_lost_payment}"},
    ),
    # ORD-06: marketplace settlement reports (finance)
    ("POST", "/orders/finance/{store_id}/settlements"): (
        "/orders/finance/{store}/settlements",
        {
            "channel_id": "{channel}",
            "period_start": "2026-06-01",
            "period_end": "2026-06-30",
            "file": "订单编号,结算金额,佣金\nT-MATRIX,1.00,0.05\n",
        },
    ),
    ("GET", "/orders/finance/{store_id}/settlements"): (
        "/orders/finance/{store}/settlements?channel_id={channel}",
        None,
    ),
    ("GET", "/orders/finance/{store_id}/settlements/{report_id}"): (
        "/orders/finance/{store}/settlements/{o_settlement}",
        None,
    ),
}
UPLOAD_ORDER_ROUTES = {
    ("POST", "/orders/finance/{store_id}/statements"),
    ("POST", "/orders/finance/{store_id}/settlements"),
}
SIGNED_ORDER_ROUTES = {("POST", "/orders/payments/{provider}/callback")}

# Console routes of orders kept here (the older ones are listed in tests/test_permission_matrix.py).
ORDERS_CONSOLE_CASES = {
    # ORD-06: payment reconciliation (finance)
    "console:finance_ledger": ("GET", "/finance/payments/?provider=test", None),
    "console:finance_statement_upload": ("POST", "/finance/statements/upload/", {}, 422),  # no file: refused
    "console:finance_statement": ("GET", "/finance/statements/{o_statement}/?show=all", None),
    "console:finance_statement_apply": (
        "POST",
        "/finance/statements/{o_statement}/apply/",
        {"reference": "{o_lost_payment}"},
    ),
    # ORD-06: marketplace settlement reports (finance)
    "console:finance_settlements": ("GET", "/finance/settlements/?channel={channel}", None),
    "console:finance_settlement_upload": ("POST", "/finance/settlements/upload/", {}, 422),  # no file
    "console:finance_settlement": ("GET", "/finance/settlements/{o_settlement}/?show=all", None),
    # PROMO-01: group-buy groups
    "console:orders_groups": ("GET", "/orders/groups/?status=open&q=m-group", None),
    # ORD-07: customer service records a customer's invoice request on the order page
    "console:orders_invoice_request": (
        "POST",
        "/orders/{o_invoiceable_id}/invoice/",
        {"kind": "electronic", "title_type": "personal", "title": "赵六", "email": "z@example.com"},
    ),
}


def _placed(store, channel, customer: str, phone: str = "", group=None):
    # A destination of its own for each shopper: five accounts to one address is a
    # brushing ring (RISK-01) and would be held in review.
    n = sum(map(ord, customer)) % 10_000
    address = svc.AddressIn(
        receiver="赵六",
        phone=phone or f"1390000{n:04d}",
        province="上海市",
        city="上海市",
        address=f"世纪大道{n}号",
    )
    order, _ = svc.order_place(
        actor=ACTOR,
        store=store,
        channel=channel,
        customer=Shopper(customer_ref=customer),
        lines=[CartItem("OK-S", 1)],
        address=address,
        group=group,
    )
    return order


def orders_world(store, channel) -> dict[str, object]:
    """Needs the matrix's catalog (OK-S), inventory (stock in 'sh') and fulfilment (SF) worlds."""
    pay = World.pay  # the builders' pay-through-the-gateway helper, used as a plain function
    created = _placed(store, channel, "m-created")
    payment = svc.payment_start(actor=ACTOR, order=created)
    held = _placed(store, channel, "m-held", phone="123")
    pay(None, held)
    svc.order_auto_review(actor=ACTOR, order=held)
    reviewed = _placed(store, channel, "m-reviewed")
    pay(None, reviewed)
    svc.order_auto_review(actor=ACTOR, order=reviewed)
    allocated = _placed(store, channel, "m-allocated")
    pay(None, allocated)
    svc.order_auto_review(actor=ACTOR, order=allocated)
    allocated.refresh_from_db()
    svc.order_allocate(actor=ACTOR, order=allocated)
    shipped = _placed(store, channel, "m-shipped")
    pay(None, shipped)
    svc.order_auto_review(actor=ACTOR, order=shipped)
    shipped.refresh_from_db()
    svc.order_allocate(actor=ACTOR, order=shipped)
    svc.order_ship(actor=ACTOR, order=shipped, carrier_code="SF", tracking_numbers="SFOM0")
    freeze = svc.account_freeze(actor=ACTOR, store=store, customer_ref="m-ring", reason="同地址多账号")
    group_offer = prs.offer_create(
        actor=ACTOR,
        store=store,
        kind="group_buy",
        params={"price": "1.00", "group_size": 2, "time_limit_hours": 24},
    )
    prs.offer_set_status(actor=ACTOR, offer=group_offer, status="active")
    grouped = _placed(store, channel, "m-group", group=GroupRequest(offer_id=group_offer.pk))
    lost = _placed(store, channel, "m-lost")  # paid, but the callback never came
    lost_payment = svc.payment_start(actor=ACTOR, order=lost)
    statement = reconcile.statement_import(
        store=store,
        provider="test",
        file_name="matrix.csv",
        data=f"单号,类型,金额\n{lost_payment.reference},收款,{lost_payment.amount}\n".encode(),
        file_format="generic",
        statement_date=timezone.localdate(),
        actor=ACTOR,
    )
    settlement = settlements.settlement_import(
        store=store,
        channel_id=channel.pk,
        file_name="matrix-settle.csv",
        data=f"订单编号,结算金额,佣金,结算时间\n{grouped.number},1.00,0.05,2026-06-02\n".encode(),
        period_start=None,
        period_end=None,
        actor=ACTOR,
    )
    return {
        "o_settlement": settlement.pk,
        "o_statement": statement.pk,
        "o_lost_payment": lost_payment.reference,
        "o_freeze": freeze.pk,
        "o_created": created.number,
        "o_payment": payment.reference,
        "o_held": held.number,
        "o_reviewed": reviewed.number,
        "o_allocated": allocated.number,
        "o_shipped": shipped.number,
        "o_group": grouped.group.code,
    }
