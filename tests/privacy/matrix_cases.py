"""The privacy routes and pages (DATA-09) in the permission matrix (tests/test_permission_matrix.py)."""

from __future__ import annotations

from storeops.core.context import Actor
from storeops.privacy import services

ACTOR = Actor.system("cli")
_P = "/privacy/{store}/requests"

PRIVACY_API_CASES = {
    ("GET", "/privacy/{store_id}/requests"): (_P + "?status=open&kind=erase&q=pv", None),
    ("POST", "/privacy/{store_id}/requests"): (_P, {"customer_ref": "pv-new", "kind": "access"}),
    ("GET", "/privacy/{store_id}/requests/{request_id}"): (_P + "/{pv_erase}", None),
    ("POST", "/privacy/{store_id}/requests/{request_id}/export"): (_P + "/{pv_access}/export", {}),
    ("POST", "/privacy/{store_id}/requests/{request_id}/erase"): (_P + "/{pv_erase}/erase", {}),
    ("POST", "/privacy/{store_id}/requests/{request_id}/refuse"): (
        _P + "/{pv_access}/refuse",
        {"reason": "无法核实身份"},
    ),
}

PRIVACY_CONSOLE_CASES = {
    "console:privacy_requests": ("GET", "/service/privacy/?status=overdue&kind=access&q=pv", None),
    "console:privacy_request_open": (
        "POST",
        "/service/privacy/open/",
        {"customer_ref": "pv-new", "kind": "erase", "received_via": "客服热线"},
    ),
    "console:privacy_request_detail": ("GET", "/service/privacy/{pv_erase}/", None),
    "console:privacy_request_export": ("POST", "/service/privacy/{pv_access}/export/", {}, 200),  # the file
    "console:privacy_request_erase": ("POST", "/service/privacy/{pv_erase}/erase/", {}),
    "console:privacy_request_refuse": ("POST", "/service/privacy/{pv_access}/refuse/", {"reason": "无法"}),
}


def privacy_world(store):
    """An open access request and an open erase request (a customer with nothing unfinished)."""
    access = services.request_open(actor=ACTOR, store=store, customer_ref="pv-1", kind="access")
    erase = services.request_open(actor=ACTOR, store=store, customer_ref="pv-2", kind="erase")
    return {"pv_access": access.pk, "pv_erase": erase.pk}
