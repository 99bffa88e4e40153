"""The MEM-04 / MEM-07 / DATA-06 routes and pages in the permission matrix
(tests/test_permission_matrix.py). ``analytics_world`` runs after the orders world: it takes a
segment snapshot of the matrix's paid orders, points the new-customer coupon at the matrix's
coupon template, and generates a daily report."""

from __future__ import annotations

from storeops.analytics import services
from storeops.core.context import Actor
from storeops.stores import services as st

_A = "/analytics/{store}"

ANALYTICS_API_CASES = {
    ("GET", "/analytics/{store_id}/segments"): (_A + "/segments", None),
    ("GET", "/analytics/{store_id}/segments/customers"): (
        _A + "/segments/customers?segment=new&sort=recency",
        None,
    ),
    ("GET", "/analytics/{store_id}/segments/customers/export"): (
        _A + "/segments/customers/export?segment=new",
        None,
    ),
    ("POST", "/analytics/{store_id}/segments/snapshot"): (_A + "/segments/snapshot", {}),
    ("POST", "/analytics/{store_id}/segments/{segment}/action"): (_A + "/segments/new/action", {}),
    ("GET", "/analytics/{store_id}/segments/actions"): (_A + "/segments/actions?segment=new", None),
    ("GET", "/analytics/{store_id}/personas"): (_A + "/personas", None),
    ("GET", "/analytics/{store_id}/personas/{customer_ref}"): (_A + "/personas/m-reviewed", None),
    ("GET", "/analytics/{store_id}/reports"): (_A + "/reports?kind=daily", None),
    ("POST", "/analytics/{store_id}/reports"): (_A + "/reports", {"kind": "weekly"}),
    ("GET", "/analytics/{store_id}/reports/{report_id}"): (_A + "/reports/{an_report}", None),
    ("GET", "/analytics/{store_id}/reports/{report_id}/export"): (
        _A + "/reports/{an_report}/export?format=pdf",
        None,
    ),
}

ANALYTICS_CONSOLE_CASES = {
    "console:segments": ("GET", "/segments/", None),
    "console:segment_customers": ("GET", "/segments/customers/?segment=new&sort=monetary", None),
    "console:segment_export": ("GET", "/segments/export/?segment=new", None),
    "console:segment_snapshot": ("POST", "/segments/snapshot/", {}),
    "console:segment_action": ("POST", "/segments/new/action/", {}),
    "console:personas": ("GET", "/personas/?customer=m-reviewed", None),
    "console:reports": ("GET", "/reports/?kind=daily", None),
    "console:report_generate": ("POST", "/reports/generate/", {"kind": "monthly"}),
    "console:report_detail": ("GET", "/reports/{an_report}/", None),
    "console:report_download": ("GET", "/reports/{an_report}/download/?format=xlsx", None),
}


def analytics_world(store, coupon_template: int) -> dict[str, object]:
    system = Actor.system("cli")
    st.playbook_update(actor=system, store=store, values={"segment_coupon_new": coupon_template})
    from django.utils import timezone

    services.segments_snapshot(actor=system, store=store, day=timezone.localdate())
    report = services.report_generate(actor=system, store=store, kind="daily", notify=False)
    return {"an_report": report.pk}
