"""The STORE-07 launch-plan routes and pages in the permission matrix
(tests/test_permission_matrix.py). The matrix world has a plan (``{plan}``, all steps done,
targets of 1, planned go-live today), one of its targets (``{target}``) and a channel without a
plan (``{free_channel}``)."""

from __future__ import annotations

_S = "/stores/{store}"

STORES_API_CASES = {
    ("PATCH", "/stores/{store_id}/launch-plans/{plan_id}"): (
        _S + "/launch-plans/{plan}",
        {"market_research": "类目增长 38%", "planned_go_live": "2030-01-02"},
    ),
    ("GET", "/stores/{store_id}/launch-plans/{plan_id}/tracking"): (
        _S + "/launch-plans/{plan}/tracking",
        None,
    ),
}

_TARGETS = {f"m{m}.{k}": "1" for m in (1, 2, 3) for k in ("gmv", "new_users", "conversion")}

STORES_CONSOLE_CASES = {
    "console:launch_plans": ("GET", "/launch/?status=preparing", None),
    "console:launch_plan_create": (
        "POST",
        "/launch/new/",
        {"channel": "{free_channel}", "planned_go_live": "2030-01-01", "market_research": "调研"},
    ),
    "console:launch_plan": ("GET", "/launch/{plan}/", None),
    "console:launch_plan_edit": (
        "POST",
        "/launch/{plan}/edit/",
        {"planned_go_live": "2030-01-02", "market_research": "调研"},
    ),
    "console:launch_plan_targets": ("POST", "/launch/{plan}/targets/", _TARGETS),
    "console:launch_plan_step": ("POST", "/launch/{plan}/step/", {"step": "test_pay", "note": "已测"}),
    "console:launch_plan_actual": ("POST", "/launch/{plan}/actual/", {"target": "{target}", "actual": "2"}),
    "console:launch_plan_go_live": ("POST", "/launch/{plan}/go-live/", {}),
}
