"""The after-sales routes in the permission matrix (tests/test_permission_matrix.py).

``aftersales_world`` builds one delivered order of 7 × OK-S (price 199.00) and one case in
each state the routes act on, on top of the matrix world's catalog, stock in 'sh' and
carrier SF."""

from __future__ import annotations

from unittest import mock

from django.utils import timezone

from storeops.aftersales import services as svc
from storeops.orders import services as order_services
from storeops.orders.payments import RefundResult, TestGateway
from storeops.promotions.services import CartItem, Shopper
from tests.orders.builders import ACTOR, World

_C = "/aftersales/{store}/cases"
_SHOP = "/aftersales/shop/{store}/cases"
_CASE = {"order_number": "{as_order}", "kind": "return", "reason": "no_reason"}
_LINES = [{"line_id": "{as_line}", "quantity": 1}]

AFTERSALES_API_CASES = {
    ("GET", "/aftersales/{store_id}/policy"): ("/aftersales/{store}/policy", None),
    ("POST", "/aftersales/shop/{store_id}/cases"): (_SHOP, {**_CASE, "lines": _LINES, "customer": "as-c"}),
    ("GET", "/aftersales/shop/{store_id}/cases/{number}"): (_SHOP + "/{as_requested}?customer=as-c", None),
    ("POST", "/aftersales/shop/{store_id}/cases/{number}/cancel"): (
        _SHOP + "/{as_requested}/cancel",
        {"customer": "as-c"},
    ),
    ("POST", "/aftersales/{store_id}/cases"): (_C, {**_CASE, "lines": _LINES}),
    ("GET", "/aftersales/{store_id}/cases"): (_C + "?status=open", None),
    ("GET", "/aftersales/{store_id}/cases/{number}"): (_C + "/{as_requested}", None),
    ("POST", "/aftersales/{store_id}/cases/{number}/approve"): (_C + "/{as_requested}/approve", {}),
    ("POST", "/aftersales/{store_id}/cases/{number}/reject"): (
        _C + "/{as_requested}/reject",
        {"reason": "超出售后范围"},
    ),
    ("POST", "/aftersales/{store_id}/cases/{number}/receive"): (_C + "/{as_approved}/receive", {}),
    ("POST", "/aftersales/{store_id}/cases/{number}/inspect"): (
        _C + "/{as_received}/inspect",
        {"results": [{"line_id": "{as_line}", "passed": 1, "failed": 0}]},
    ),
    ("POST", "/aftersales/{store_id}/cases/{number}/exchange"): (
        _C + "/{as_inspected}/exchange",
        {"carrier": "SF", "tracking_no": "SFASX1"},
    ),
    ("POST", "/aftersales/{store_id}/cases/{number}/refund"): (_C + "/{as_refund_due}/refund", {}),
    ("POST", "/aftersales/{store_id}/cases/{number}/cancel"): (_C + "/{as_requested}/cancel", {}),
    ("GET", "/aftersales/{store_id}/stats"): ("/aftersales/{store}/stats?since=2020-01-01", None),
}

AFTERSALES_CONSOLE_CASES = {
    "console:aftersales_queue": ("GET", "/aftersales/?status=open&kind=return", None),
    "console:aftersales_stats": ("GET", "/aftersales/stats/?since=2020-01-01", None),
    "console:aftersales_detail": ("GET", "/aftersales/cases/{as_received}/", None),
    "console:aftersales_decide": (
        "POST",
        "/aftersales/cases/{as_requested}/decide/",
        {"decision": "approve", "note": "同意"},
    ),
    "console:aftersales_goods": ("POST", "/aftersales/cases/{as_approved}/goods/", {"action": "receive"}),
    "console:aftersales_refund": ("POST", "/aftersales/cases/{as_refund_due}/refund/", {}),
    "console:aftersales_cancel": ("POST", "/aftersales/cases/{as_requested}/cancel/", {"note": "顾客撤销"}),
}


def _refused(self, **kw):
    return RefundResult(ok=False, provider_refund_id="", reason="gateway down")


def aftersales_world(store, channel) -> dict[str, object]:
    """Needs the matrix's catalog (OK-S), inventory (stock in 'sh') and fulfilment (SF) worlds."""
    now = timezone.now()
    order, _ = order_services.order_place(
        actor=ACTOR,
        store=store,
        channel=channel,
        customer=Shopper(customer_ref="as-c"),
        lines=[CartItem("OK-S", 7)],
        address=order_services.AddressIn(
            receiver="钱七", phone="13900003333", province="上海市", city="上海市", address="世纪大道300号"
        ),
    )
    World.pay(None, order)
    order_services.order_auto_review(actor=ACTOR, order=order)
    order.refresh_from_db()
    order_services.order_allocate(actor=ACTOR, order=order)
    order_services.order_ship(actor=ACTOR, order=order, carrier_code="SF", tracking_numbers="SFAS0")
    order.refresh_from_db()
    order = order_services.order_deliver(actor=ACTOR, order=order, at=now)
    line = order.lines.get()

    def ask(kind: str = "return", reason: str = "no_reason"):
        return svc.case_request(actor=ACTOR, order=order, kind=kind, reason=reason, units={line.pk: 1})

    requested = ask()
    approved = svc.case_approve(actor=ACTOR, case=ask())
    received = svc.case_receive(actor=ACTOR, case=svc.case_approve(actor=ACTOR, case=ask()))
    exchange = svc.case_receive(actor=ACTOR, case=svc.case_approve(actor=ACTOR, case=ask("exchange", "size")))
    inspected = svc.case_inspect(actor=ACTOR, case=exchange, results={line.pk: (1, 0)})
    with mock.patch.object(TestGateway, "refund", _refused):  # leaves a refund waiting
        refund_due = svc.case_approve(actor=ACTOR, case=ask("refund_only", "damaged"))
    assert refund_due.status == "approved"
    return {
        "as_order": order.number,
        "as_line": line.pk,
        "as_requested": requested.number,
        "as_approved": approved.number,
        "as_received": received.number,
        "as_inspected": inspected.number,
        "as_refund_due": refund_due.number,
    }
