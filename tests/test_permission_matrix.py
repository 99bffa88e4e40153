"""SOP STORE-04: every API route and console page checks the caller's role.

For every route × every role: allowed → 2xx (console POST → redirect), forbidden → 403,
anonymous → 401 (console → redirect to login). The tables below must cover every route:
a new route without an entry here fails ``test_store_04_every_api_route_is_in_the_matrix``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from storeops.accounts.access import Access
from storeops.accounts.roles import Role, role_grants
from storeops.accounts.services import api_token_create
from storeops.analytics import services as ab_services
from storeops.config.api import api
from storeops.fulfilment.api import CarrierSignature
from storeops.orders.api import ProviderSignature
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from storeops.stores.models import LaunchStep
from tests.aftersales.matrix_cases import AFTERSALES_API_CASES, AFTERSALES_CONSOLE_CASES, aftersales_world
from tests.analytics.matrix_cases import ANALYTICS_API_CASES, ANALYTICS_CONSOLE_CASES, analytics_world
from tests.behaviour.matrix_cases import BEHAVIOUR_API_CASES, BEHAVIOUR_CONSOLE_CASES, behaviour_world
from tests.catalog.matrix_cases import CATALOG_API_CASES, CATALOG_CONSOLE_CASES, catalog_tags_world
from tests.conftest import ApiClient
from tests.fulfilment.matrix_cases import FULFILMENT_API_CASES, fulfilment_rules_world
from tests.marketing.matrix_cases import MARKETING_API_CASES, MARKETING_CONSOLE_CASES, marketing_world
from tests.members.matrix_cases import MEMBERS_API_CASES, MEMBERS_CONSOLE_CASES, members_world
from tests.orders.matrix_cases import (
    ORDERS_API_CASES,
    ORDERS_CONSOLE_CASES,
    SIGNED_ORDER_ROUTES,
    UPLOAD_ORDER_ROUTES,
    orders_world,
)
from tests.outreach.matrix_cases import OUTREACH_API_CASES, OUTREACH_CONSOLE_CASES, outreach_world
from tests.privacy.matrix_cases import PRIVACY_API_CASES, PRIVACY_CONSOLE_CASES, privacy_world
from tests.recommend.matrix_cases import RECOMMEND_API_CASES, RECOMMEND_CONSOLE_CASES
from tests.service.matrix_cases import (
    SERVICE_API_CASES,
    SERVICE_CONSOLE_CASES,
    UPLOAD_SERVICE_ROUTES,
    service_world,
)
from tests.stores.matrix_cases import STORES_API_CASES, STORES_CONSOLE_CASES

ROLES = list(Role)


def _api_operations() -> dict[tuple[str, str], str | None]:
    ops = {}
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for op in path_view.operations:
                if any(isinstance(a, CarrierSignature | ProviderSignature) for a in op.auth_callbacks):
                    continue  # documented exception: see test_store_04_signed_webhooks_are_the_only_...
                access = [a for a in op.auth_callbacks if isinstance(a, Access)]
                assert access, f"{op.methods} {prefix}{path} has no Access permission rule"
                for method in op.methods:
                    ops[(method, f"{prefix}{path}")] = access[0].permission
    return ops


# (method, route) -> (concrete path using fixture ids, JSON body)
API_CASES = {
    ("GET", "/accounts/me"): ("/accounts/me", None),
    ("PUT", "/accounts/me/language"): ("/accounts/me/language", {"language": "en"}),
    ("GET", "/accounts/tokens"): ("/accounts/tokens", None),
    # every user issues tokens for themself with a role they hold, and revokes their own
    # ({my_role}, {my_token}: the caller's role and a token of the caller, see _mine)
    ("POST", "/accounts/tokens"): ("/accounts/tokens", {"name": "erp", "role": "{my_role}"}),
    ("POST", "/accounts/tokens/{token_id}/revoke"): ("/accounts/tokens/{my_token}/revoke", {}),
    ("GET", "/stores/"): ("/stores/", None),
    ("POST", "/stores/"): ("/stores/", {"code": "new-store", "name": "新店"}),
    ("GET", "/stores/{store_id}"): ("/stores/{store}", None),
    ("GET", "/stores/{store_id}/channels"): ("/stores/{store}/channels", None),
    ("POST", "/stores/{store_id}/channels"): (
        "/stores/{store}/channels",
        {"kind": "jd", "code": "jd2", "name": "京东"},
    ),
    ("GET", "/stores/{store_id}/qualifications"): ("/stores/{store}/qualifications", None),
    ("POST", "/stores/{store_id}/qualifications"): (
        "/stores/{store}/qualifications",
        {"kind": "trademark", "title": "商标注册证", "issuer": "国家知识产权局", "valid_from": "2025-01-01"},
    ),
    ("PATCH", "/stores/{store_id}/qualifications/{qualification_id}"): (
        "/stores/{store}/qualifications/{qualification}",
        {"number": "No.123"},
    ),
    ("GET", "/analytics/{store_id}/team-kpis"): ("/analytics/{store}/team-kpis?days=30", None),  # TEAM-01
    ("GET", "/analytics/{store_id}/experiments"): ("/analytics/{store}/experiments?status=running", None),
    ("POST", "/analytics/{store_id}/experiments"): (
        "/analytics/{store}/experiments",
        {"name": "横幅", "subject": "banner", "control": "满减", "challenger": "限时"},
    ),
    ("GET", "/analytics/{store_id}/experiments/{experiment_id}"): (
        "/analytics/{store}/experiments/{experiment}",
        None,
    ),
    ("GET", "/analytics/{store_id}/experiments/{experiment_id}/assign"): (
        "/analytics/{store}/experiments/{experiment}/assign?customer=c1",
        None,
    ),
    ("POST", "/analytics/{store_id}/experiments/{experiment_id}/results"): (
        "/analytics/{store}/experiments/{experiment}/results",
        {"variant": "A", "visitors": 100, "conversions": 3},
    ),
    ("POST", "/analytics/{store_id}/experiments/{experiment_id}/decide"): (
        "/analytics/{store}/experiments/{experiment}/decide",
        {"adopt": False, "note": "放弃"},
    ),
    ("GET", "/analytics/{store_id}/daily-metrics"): (
        "/analytics/{store}/daily-metrics?days=7",
        None,
    ),  # DATA-01
    ("GET", "/analytics/{store_id}/profitability"): (
        "/analytics/{store}/profitability?days=30",
        None,
    ),  # DATA-08
    # RISK-03: platform rule changes
    ("GET", "/stores/{store_id}/rule-changes"): ("/stores/{store}/rule-changes?status=open", None),
    ("POST", "/stores/{store_id}/rule-changes"): (
        "/stores/{store}/rule-changes",
        {"platform": "tmall", "title": "天猫新规", "announced_at": "2026-01-01T09:00:00+08:00"},
    ),
    ("POST", "/stores/{store_id}/rule-changes/{change_id}/assess"): (
        "/stores/{store}/rule-changes/{rule_change}/assess",
        {"applies": True, "assessment": "需改详情页"},
    ),
    ("POST", "/stores/{store_id}/rule-changes/{change_id}/complete"): (
        "/stores/{store}/rule-changes/{rule_change}/complete",
        {"actions": "已改详情页"},
    ),
    ("GET", "/stores/{store_id}/playbook"): ("/stores/{store}/playbook", None),
    ("PATCH", "/stores/{store_id}/playbook"): (
        "/stores/{store}/playbook",
        {"values": {"safety_stock_days": 5}},
    ),
    ("GET", "/stores/{store_id}/launch-plans"): ("/stores/{store}/launch-plans", None),
    ("POST", "/stores/{store_id}/launch-plans"): (
        "/stores/{store}/launch-plans",
        {"channel_id": "{free_channel}", "planned_go_live": "2030-01-01"},
    ),
    ("PUT", "/stores/{store_id}/launch-plans/{plan_id}/targets"): (
        "/stores/{store}/launch-plans/{plan}/targets",
        {
            "targets": [
                {"month": m, "metric": k, "target": "1"}
                for m in (1, 2, 3)
                for k in ("gmv", "new_users", "conversion")
            ]
        },
    ),
    ("POST", "/stores/{store_id}/launch-plans/{plan_id}/steps"): (
        "/stores/{store}/launch-plans/{plan}/steps",
        {"step": "market_research"},
    ),
    ("POST", "/stores/{store_id}/launch-plans/{plan_id}/go-live"): (
        "/stores/{store}/launch-plans/{plan}/go-live",
        {},
    ),
    ("PUT", "/stores/{store_id}/launch-plans/{plan_id}/targets/{target_id}/actual"): (
        "/stores/{store}/launch-plans/{plan}/targets/{target}/actual",
        {"actual": "0.5"},  # the first target is month 1 conversion (0..1)
    ),
    ("GET", "/findings/"): ("/findings/", None),
    ("GET", "/findings/checks"): ("/findings/checks", None),
    ("POST", "/findings/checks/run"): ("/findings/checks/run", {"rule": "STORE-02"}),
    ("GET", "/findings/{finding_id}"): ("/findings/{finding}", None),
    ("POST", "/findings/{finding_id}/acknowledge"): ("/findings/{finding}/acknowledge", {"note": "在处理"}),
    ("POST", "/findings/{finding_id}/resolve"): ("/findings/{finding}/resolve", {"note": "已续期"}),
    ("GET", "/audit/"): ("/audit/", None),
    ("GET", "/catalog/{store_id}/categories"): ("/catalog/{store}/categories", None),
    ("POST", "/catalog/{store_id}/categories"): (
        "/catalog/{store}/categories",
        {"code": "shoes", "name": "鞋"},
    ),
    ("GET", "/catalog/{store_id}/products"): ("/catalog/{store}/products", None),
    ("POST", "/catalog/{store_id}/products"): (
        "/catalog/{store}/products",
        {
            "category_id": "{category}",
            "code": "NEW",
            "core_word": "连衣裙",
            "title": "碎花连衣裙",
            "skus": [{"code": "NEW-S", "price": "99.00"}],
        },
    ),
    ("GET", "/catalog/{store_id}/products/{product_id}"): ("/catalog/{store}/products/{approved}", None),
    ("PATCH", "/catalog/{store_id}/skus/{sku_code}"): (  # LOG-03 weight and fragility
        "/catalog/{store}/skus/{sku_code}",
        {"weight_g": 450, "is_fragile": True},
    ),
    ("PATCH", "/catalog/{store_id}/products/{product_id}"): (
        "/catalog/{store}/products/{draft}",
        {"is_key": True},
    ),
    ("POST", "/catalog/{store_id}/products/{product_id}/submit"): (
        "/catalog/{store}/products/{draft}/submit",
        {},
    ),
    ("GET", "/catalog/{store_id}/audit-queue"): ("/catalog/{store}/audit-queue", None),
    ("POST", "/catalog/{store_id}/audits/{audit_id}/review"): (
        "/catalog/{store}/audits/{queued_audit}/review",
        {"approve": True, "comment": "ok"},
    ),
    ("POST", "/catalog/{store_id}/products/{product_id}/listings"): (
        "/catalog/{store}/products/{approved}/listings",
        {"channel_id": "{free_channel}"},
    ),
    ("POST", "/catalog/{store_id}/listings/{listing_id}/delist"): (
        "/catalog/{store}/listings/{live_listing}/delist",
        {"reason": "stock_out", "remaining_stock_action": "keep"},
    ),
    ("GET", "/catalog/{store_id}/banned-words"): ("/catalog/{store}/banned-words", None),
    ("PUT", "/catalog/{store_id}/banned-words"): ("/catalog/{store}/banned-words", {"words": "最\n第一"}),
    ("POST", "/catalog/{store_id}/suppliers"): (
        "/catalog/{store}/suppliers",
        {"code": "S9", "name": "新工厂"},
    ),
    ("GET", "/catalog/{store_id}/suppliers/ranking"): ("/catalog/{store}/suppliers/ranking", None),
    ("GET", "/catalog/{store_id}/selection"): ("/catalog/{store}/selection", None),
    ("GET", "/pricing/{store_id}/skus/{sku_id}/prices"): ("/pricing/{store}/skus/{sku}/prices", None),
    ("POST", "/pricing/{store_id}/skus/{sku_id}/prices"): (
        "/pricing/{store}/skus/{sku}/prices",
        {"new_price": "188.00", "reason": "season"},
    ),
    ("GET", "/pricing/{store_id}/skus/{sku_id}/cost"): ("/pricing/{store}/skus/{sku}/cost", None),
    ("PUT", "/pricing/{store_id}/skus/{sku_id}/cost"): ("/pricing/{store}/skus/{sku}/cost", {"tax": "5.00"}),
    ("GET", "/pricing/{store_id}/skus/{sku_id}/suggestion"): ("/pricing/{store}/skus/{sku}/suggestion", None),
    ("GET", "/pricing/{store_id}/competitors"): ("/pricing/{store}/competitors", None),
    ("POST", "/pricing/{store_id}/competitors"): (
        "/pricing/{store}/competitors",
        {"competitor": "C店", "name": "裙"},
    ),
    ("POST", "/pricing/{store_id}/competitors/{competitor_id}/prices"): (
        "/pricing/{store}/competitors/{competitor}/prices",
        {"price": "150.00"},
    ),
    **{
        ("POST", "/promotions/{store_id}/quote"): (
            "/promotions/{store}/quote",
            {"lines": [{"sku": "{sku_code}", "quantity": 1}], "customer": {"ref": "c1", "tier": "gold"}},
        ),
        ("GET", "/promotions/{store_id}/offers"): ("/promotions/{store}/offers", None),
        ("POST", "/promotions/{store_id}/offers"): (
            "/promotions/{store}/offers",
            {"kind": "percentage", "params": {"rate": "0.9"}},
        ),
        ("GET", "/promotions/{store_id}/offers/{offer_id}"): ("/promotions/{store}/offers/{offer}", None),
        ("PATCH", "/promotions/{store_id}/offers/{offer_id}"): (
            "/promotions/{store}/offers/{offer}",
            {"priority": 2, "status": "paused"},
        ),
        ("GET", "/promotions/{store_id}/coupon-templates"): ("/promotions/{store}/coupon-templates", None),
        ("POST", "/promotions/{store_id}/coupon-templates"): (
            "/promotions/{store}/coupon-templates",
            {"name": "无门槛5元", "kind": "no_threshold", "amount": "5"},
        ),
        ("POST", "/promotions/{store_id}/coupon-templates/{template_id}/issue"): (
            "/promotions/{store}/coupon-templates/{coupon_template}/issue",
            {"customer_refs": ["c9"]},
        ),
        ("GET", "/promotions/{store_id}/coupons"): ("/promotions/{store}/coupons", None),
    },
    ("GET", "/fulfilment/{store_id}/shipments"): ("/fulfilment/{store}/shipments?status=created", None),
    ("GET", "/fulfilment/{store_id}/shipments/{shipment_id}"): (
        "/fulfilment/{store}/shipments/{shipment}",
        None,
    ),
    ("POST", "/fulfilment/{store_id}/shipments"): (
        "/fulfilment/{store}/shipments",
        {
            "channel_id": "{channel}",
            "order_ref": "M-2",
            "carrier": "SF",
            "tracking_no": "SFM2",
            "warehouse_code": "W1",
            "lines": [{"sku_code": "OK-S", "qty": 1}],
            "province": "浙江省",
        },
    ),
    ("POST", "/fulfilment/{store_id}/tracking/import"): (  # multipart upload, see UPLOAD_ROUTES
        "/fulfilment/{store}/tracking/import",
        {"carrier": "SF", "file": "运单号,时间,状态\nSFM1,2026-03-02 10:00,已揽收\n"},
    ),
    ("GET", "/fulfilment/{store_id}/exceptions"): ("/fulfilment/{store}/exceptions", None),
    ("GET", "/fulfilment/{store_id}/carrier-stats"): ("/fulfilment/{store}/carrier-stats", None),
    ("GET", "/fulfilment/{store_id}/carrier-suggestion"): (
        "/fulfilment/{store}/carrier-suggestion?province=浙江省",
        None,
    ),
    **FULFILMENT_API_CASES,  # LOG-03 carrier rules
    **MARKETING_API_CASES,
    **SERVICE_API_CASES,
    **MEMBERS_API_CASES,
    **RECOMMEND_API_CASES,
    **CATALOG_API_CASES,
    **OUTREACH_API_CASES,
    **PRIVACY_API_CASES,
    **ORDERS_API_CASES,
    **{  # marketplace order import and invoices (h6)
        ("POST", "/orders/imports/{store_id}"): (
            "/orders/imports/{store}",
            {"channel_id": "{channel}", "file": "{import_csv}"},
        ),
        ("GET", "/orders/imports/{store_id}"): ("/orders/imports/{store}?status=failed", None),
        ("GET", "/orders/imports/{store_id}/{import_id}"): ("/orders/imports/{store}/{order_import}", None),
        ("GET", "/orders/imports/{store_id}/mappings"): ("/orders/imports/{store}/mappings", None),
        ("POST", "/orders/imports/{store_id}/mappings"): (
            "/orders/imports/{store}/mappings",
            {
                "name": "m2",
                "channel_kind": "jd",
                "mapping": {
                    "order_no": "单号",
                    "receiver": "姓名",
                    "phone": "手机",
                    "full_address": "地址",
                    "sku_code": "编码",
                    "quantity": "件数",
                    "order_amount": "金额",
                },
            },
        ),
        ("PUT", "/orders/imports/{store_id}/mappings/{mapping_id}"): (
            "/orders/imports/{store}/mappings/{import_mapping}",
            {
                "name": "m3",
                "channel_kind": "tmall",
                "mapping": {
                    "order_no": "单号",
                    "receiver": "姓名",
                    "phone": "手机",
                    "full_address": "地址",
                    "sku_code": "编码",
                    "quantity": "件数",
                    "order_amount": "金额",
                },
            },
        ),
        ("DELETE", "/orders/imports/{store_id}/mappings/{mapping_id}"): (
            "/orders/imports/{store}/mappings/{import_mapping}",
            None,
        ),
        ("POST", "/orders/invoices/{store_id}"): (
            "/orders/invoices/{store}",
            {
                "order_number": "{o_invoiceable}",
                "kind": "paper",
                "title_type": "personal",
                "title": "王五",
                "mailing_address": "上海市世纪大道100号",
            },
        ),
        ("GET", "/orders/invoices/{store_id}"): ("/orders/invoices/{store}?status=requested", None),
        ("GET", "/orders/invoices/{store_id}/{invoice_id}"): (
            "/orders/invoices/{store}/{invoice_requested}",
            None,
        ),
        ("POST", "/orders/invoices/{store_id}/{invoice_id}/issue"): (
            "/orders/invoices/{store}/{invoice_requested}/issue",
            {"invoice_number": "M2"},
        ),
        ("POST", "/orders/invoices/{store_id}/{invoice_id}/reject"): (
            "/orders/invoices/{store}/{invoice_requested}/reject",
            {"reason": "抬头有误"},
        ),
        ("POST", "/orders/invoices/{store_id}/{invoice_id}/reverse"): (
            "/orders/invoices/{store}/{invoice_issued}/reverse",
            {"reason": "退款红冲"},
        ),
    },
    **AFTERSALES_API_CASES,
    **ANALYTICS_API_CASES,  # MEM-04, MEM-07, DATA-06
    **STORES_API_CASES,  # STORE-07 launch plans
    **BEHAVIOUR_API_CASES,
    **{
        ("GET", "/inventory/{store_id}/warehouses"): ("/inventory/{store}/warehouses", None),
        ("POST", "/inventory/{store_id}/warehouses"): (
            "/inventory/{store}/warehouses",
            {"code": "gz", "name": "广州仓", "region": "华南", "latitude": "23.13", "longitude": "113.26"},
        ),
        ("GET", "/inventory/{store_id}/stock"): ("/inventory/{store}/stock?zone=sellable", None),
        ("POST", "/inventory/{store_id}/stock/moves"): (
            "/inventory/{store}/stock/moves",
            {
                "kind": "reservation",
                "sku_id": "{inv_sku}",
                "warehouse_id": "{warehouse}",
                "quantity": 1,
                "reference": "SO-X",
            },
        ),
        ("POST", "/inventory/{store_id}/stock/adjust"): (
            "/inventory/{store}/stock/adjust",
            {"sku_id": "{inv_sku}", "warehouse_id": "{warehouse}", "delta": 1, "reason": "盘盈"},
        ),
        ("POST", "/inventory/{store_id}/stock/transfer"): (
            "/inventory/{store}/stock/transfer",
            {
                "sku_id": "{inv_sku}",
                "from_warehouse_id": "{warehouse}",
                "to_warehouse_id": "{warehouse2}",
                "quantity": 1,
                "reason": "调拨",
            },
        ),
        ("GET", "/inventory/{store_id}/ledger"): ("/inventory/{store}/ledger?reference=SO-M", None),
        ("GET", "/inventory/{store_id}/ledger/check"): ("/inventory/{store}/ledger/check", None),
        ("GET", "/inventory/{store_id}/replenishment"): ("/inventory/{store}/replenishment", None),
        ("GET", "/inventory/{store_id}/channel-rules"): ("/inventory/{store}/channel-rules", None),
        ("PUT", "/inventory/{store_id}/channel-rules"): (
            "/inventory/{store}/channel-rules",
            {"channel_id": "{channel}", "mode": "ratio", "ratio": "0.5", "reserve": 2},
        ),
        ("GET", "/inventory/{store_id}/channel-offers"): ("/inventory/{store}/channel-offers", None),
        ("POST", "/inventory/{store_id}/channel-offers/sync"): ("/inventory/{store}/channel-offers/sync", {}),
        ("GET", "/inventory/{store_id}/turnover"): ("/inventory/{store}/turnover?slow_only=false", None),
        ("GET", "/inventory/{store_id}/turnover/skus"): (
            "/inventory/{store}/turnover/skus?slow_only=true",
            None,
        ),
        # INV-04 ABC classes
        ("GET", "/inventory/{store_id}/abc"): ("/inventory/{store}/abc?abc_class=A&due=false", None),
        ("POST", "/inventory/{store_id}/abc/recompute"): ("/inventory/{store}/abc/recompute", {}),
        # INV-05 cycle counts
        ("GET", "/inventory/{store_id}/count-sheets"): (
            "/inventory/{store}/count-sheets?status=counting",
            None,
        ),
        ("POST", "/inventory/{store_id}/count-sheets"): (
            "/inventory/{store}/count-sheets",
            {"warehouse_id": "{warehouse2}", "zone": "qc", "sku_ids": ["{inv_sku}"]},
        ),
        ("GET", "/inventory/{store_id}/count-sheets/{sheet_id}"): (
            "/inventory/{store}/count-sheets/{count_sheet}",
            None,
        ),
        ("GET", "/inventory/{store_id}/count-sheets/{sheet_id}/lines"): (
            "/inventory/{store}/count-sheets/{count_sheet}/lines?state=uncounted",
            None,
        ),
        ("POST", "/inventory/{store_id}/count-sheets/{sheet_id}/start"): (
            "/inventory/{store}/count-sheets/{draft_count_sheet}/start",
            {},
        ),
        ("POST", "/inventory/{store_id}/count-sheets/{sheet_id}/counts"): (
            "/inventory/{store}/count-sheets/{count_sheet}/counts",
            {"counts": [{"sku_id": "{inv_sku}", "counted": 2}]},
        ),
        ("POST", "/inventory/{store_id}/count-sheets/{sheet_id}/recount"): (
            "/inventory/{store}/count-sheets/{count_sheet}/recount",
            {"sku_ids": ["{inv_sku}"]},
        ),
        ("POST", "/inventory/{store_id}/count-sheets/{sheet_id}/post"): (
            "/inventory/{store}/count-sheets/{count_sheet}/post",
            {},
        ),
        ("POST", "/inventory/{store_id}/count-sheets/{sheet_id}/cancel"): (
            "/inventory/{store}/count-sheets/{count_sheet}/cancel",
            {"reason": "重复"},
        ),
    },
}
# Routes that take a multipart file upload: the matrix posts ``file`` as a small CSV file.
UPLOAD_ROUTES = {
    ("POST", "/fulfilment/{store_id}/tracking/import"),
    ("POST", "/orders/imports/{store_id}"),
    *UPLOAD_ORDER_ROUTES,
    *UPLOAD_SERVICE_ROUTES,
}
# Routes authenticated by a signature instead of a role (carrier pushes): not in API_CASES,
# proven by test_store_04_signed_webhooks_are_the_only_routes_without_a_role.
SIGNED_ROUTES = {("POST", "/fulfilment/webhooks/{carrier_code}"), *SIGNED_ORDER_ROUTES}


@pytest.fixture
def world(store, channel, system, owner, today):
    """One of everything the routes touch."""
    q = st.qualification_create(
        actor=system,
        store=store,
        kind="brand_authorization",
        title="品牌授权书",
        issuer="品牌方",
        valid_from=today - dt.timedelta(days=300),
        valid_to=today + dt.timedelta(days=10),
    )
    plan_channel = st.channel_create(actor=system, store=store, kind="douyin", code="dy", name="抖音小店")
    free_channel = st.channel_create(actor=system, store=store, kind="jd", code="jd", name="京东店")
    plan = st.launch_plan_create(actor=system, channel=plan_channel, planned_go_live=today)
    st.launch_targets_set(
        actor=system,
        plan=plan,
        months=3,
        targets={(m, k): 1 for m in (1, 2, 3) for k in ("gmv", "new_users", "conversion")},
    )
    for step in LaunchStep.values:
        st.launch_step_complete(actor=system, plan=plan, step=step)
    checks_run(rule="STORE-02", store=store, notify=False)
    rule_change = st.rule_change_record(
        actor=system,
        store=store,
        platform="jd",
        title="京东调整售后规则",
        announced_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    experiment = ab_services.experiment_create(
        actor=system, store=store, name="主图", subject="main_image", control="白底", challenger="场景"
    )
    token, _raw = api_token_create(actor=type(system)(user=owner, via="cli"), name="wms", role=Role.WAREHOUSE)
    ids = {
        "store": store.pk,
        "qualification": q.pk,
        "rule_change": rule_change.pk,
        "experiment": experiment.pk,
        "plan": plan.pk,
        "target": plan.targets.first().pk,
        "finding": Finding.objects.get(rule_id="STORE-02").pk,
        "token": token.pk,
        "free_channel": free_channel.pk,
        **_catalog_world(store, channel),
        **_fulfilment_world(store, channel),
        **fulfilment_rules_world(store),
        **_promotions_world(store),
        **marketing_world(store, owner),
        **_inventory_world(store),
        **_orders_world(store, channel),
        **_order_imports_world(store, channel),
        **aftersales_world(store, channel),
        **service_world(store, channel, owner),
        **members_world(store),
        **behaviour_world(store, channel),
        **outreach_world(store),
        **privacy_world(store),
    }
    return {
        **ids,
        **analytics_world(store, ids["coupon_template"]),
        **catalog_tags_world(store, ids["draft"]),
    }


def _orders_world(store, channel):
    """The orders matrix world (tests/orders/matrix_cases.py) plus the ids the console's order
    pages take (they address orders by id: numbers are unique per channel only)."""
    from storeops.orders.selectors import order_detail

    ids = orders_world(store, channel)
    for key in ("o_held", "o_reviewed", "o_allocated", "o_shipped"):
        ids[f"{key}_id"] = order_detail(store, ids[key]).pk
    return ids


# h6: marketplace order import (CSV with the matrix's SKU OK-S) and invoices (ORD-07)
_IMPORT_CSV = (
    "订单编号,收货人姓名,联系手机,收货地址,商家编码,购买数量,实付款,订单付款时间\n"
    "{number},王五,13900001111,上海市 上海市 浦东新区 世纪大道100号,{sku},1,99.00,2026-06-01 10:00:00\n"
)


def _order_imports_world(store, channel):
    """A failed import and a saved mapping; invoice requests: one requested, one issued on an
    order refunded since (to reverse), and a paid order with no invoice yet."""
    import io

    from storeops.orders import imports, invoices
    from storeops.orders import services as svc
    from tests.orders.builders import ACTOR, World
    from tests.orders.matrix_cases import _placed

    bad = _IMPORT_CSV.format(number="MX-BAD", sku="NOPE").encode()
    record = imports.orders_import(
        actor=ACTOR, store=store, channel=channel, source=io.BytesIO(bad), filename="bad.csv"
    ).record
    mapping = imports.mapping_save(
        actor=ACTOR,
        store=store,
        name="matrix",
        channel_kind="tmall",
        mapping={
            "order_no": "单号",
            "receiver": "姓名",
            "phone": "手机",
            "full_address": "地址",
            "sku_code": "编码",
            "quantity": "件数",
            "order_amount": "金额",
        },
    )
    paid = []
    for customer in ("m-inv-requested", "m-inv-issued", "m-inv-none"):
        order = _placed(store, channel, customer)
        World.pay(None, order)
        order.refresh_from_db()
        paid.append(order)
    person = {"kind": "electronic", "title_type": "personal", "title": "王五", "email": "w@example.com"}
    requested = invoices.invoice_request(actor=ACTOR, order=paid[0], **person)
    issued = invoices.invoice_issue(
        actor=ACTOR,
        invoice=invoices.invoice_request(actor=ACTOR, order=paid[1], **person),
        invoice_number="M1",
    )
    # refunded after issuing (the reversal's precondition); unshipped, all of it is a cancellation
    svc.order_cancel(actor=ACTOR, order=paid[1], reason="缺货取消")
    return {
        "order_import": record.pk,
        "import_mapping": mapping.pk,
        "import_csv": _IMPORT_CSV.format(number="MX-1", sku="OK-S"),
        "invoice_requested": requested.pk,
        "invoice_issued": issued.pk,
        "o_invoiceable": paid[2].number,
        "o_invoiceable_id": paid[2].pk,
    }


def _inventory_world(store):
    """Two warehouses; 50 units of OK-S in the first, 10 of them reserved for SO-M (INV-03)."""
    from storeops.catalog.selectors import sku_get_by_code
    from storeops.inventory import services as inv
    from tests.catalog.db_builders import ACTOR

    sku = sku_get_by_code(store=store, code="OK-S")
    wh = inv.warehouse_create(actor=ACTOR, store=store, code="sh", name="上海仓", region="华东")
    wh2 = inv.warehouse_create(actor=ACTOR, store=store, code="bj", name="北京仓", region="华北")
    inv.stock_receive(actor=ACTOR, sku=sku, warehouse=wh, quantity=50, reason="采购入库", reference="PO-M")
    inv.stock_reserve(actor=ACTOR, sku=sku, warehouse=wh, quantity=10, reference="SO-M")
    # INV-05: a sheet being counted (1 unit of OK-S found in bj, where orders never reserve)
    # and a draft sheet of sh's QC zone
    from storeops.inventory import counts

    sheet = counts.count_sheet_create(actor=ACTOR, store=store, warehouse=wh2, sku_ids=[sku.pk])
    counts.count_sheet_start(actor=ACTOR, sheet=sheet)
    counts.count_sheet_enter(actor=ACTOR, sheet=sheet, counts={sku.pk: 1})
    draft = counts.count_sheet_create(actor=ACTOR, store=store, warehouse=wh, zone="qc", sku_ids=[sku.pk])
    return {
        "inv_sku": sku.pk,
        "warehouse": wh.pk,
        "warehouse2": wh2.pk,
        "count_sheet": sheet.pk,
        "draft_count_sheet": draft.pk,
    }


def _catalog_world(store, channel):
    """Catalog and pricing rows: a draft, an approved product, a queued audit, a live listing."""
    from storeops.catalog import services as cs
    from storeops.pricing import services as ps
    from tests.catalog.db_builders import ACTOR, a_dress_category, a_live_product, a_product

    category = a_dress_category(store, required_qualifications=[])
    draft = a_product(store, category, "DRAFT")
    approved = a_product(store, category, "OK")
    cs.listing_submit(actor=ACTOR, product=approved)
    queued = a_product(store, category, "CHEAP")
    competitor = ps.competitor_product_create(
        actor=ACTOR, store=store, competitor="A店", name="裙", product=queued
    )
    ps.competitor_price_record(actor=ACTOR, competitor_product=competitor, price="500.00")
    queued_audit = cs.listing_submit(actor=ACTOR, product=queued)
    live = a_live_product(store, category, channel, "LIVE")
    return {
        "category": category.pk,
        "draft": draft.pk,
        "approved": approved.pk,
        "queued_audit": queued_audit.pk,
        "live_listing": live.listings.get().pk,
        "sku": approved.skus.first().pk,
        "sku_code": "OK-S",
        "competitor": competitor.pk,
    }


def _promotions_world(store):
    """Promotion rows: an active store-wide offer, a coupon template with one issued coupon."""
    from storeops.promotions import services as prs
    from tests.catalog.db_builders import ACTOR

    offer = prs.offer_create(
        actor=ACTOR,
        store=store,
        kind="tiered_reduction",
        params={"tiers": [{"threshold": "100", "amount": "10"}]},
    )
    prs.offer_set_status(actor=ACTOR, offer=offer, status="active")
    template = prs.coupon_template_create(
        actor=ACTOR, store=store, name="满100减10", kind="store_threshold", threshold="100", amount="10"
    )
    prs.coupon_issue(actor=ACTOR, template=template, customer_ref="c1")
    return {"offer": offer.pk, "coupon_template": template.pk}


def _fulfilment_world(store, channel):
    """A carrier with a webhook secret and one shipment (LOG-01)."""
    from tests.fulfilment.builders import a_carrier, a_shipment

    carrier = a_carrier("SF", secret="matrix-secret")
    shipment = a_shipment(store, channel, "SFM1", carrier=carrier)
    return {"shipment": shipment.pk, "channel": channel.pk}


def _upload(client, path, fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {k: SimpleUploadedFile(f"{k}.csv", v.encode()) if k == "file" else v for k, v in fields.items()}
    return client.client.post(f"/api/v1{path}", data, **client.headers)


def _fill(value, ids):
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
            return ids[value[1:-1]]
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def test_store_04_signed_webhooks_are_the_only_routes_without_a_role(world):
    # given every mounted operation
    signed = set()
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for op in path_view.operations:
                if any(isinstance(a, CarrierSignature | ProviderSignature) for a in op.auth_callbacks):
                    signed |= {(m, f"{prefix}{path}") for m in op.methods}
    # then only the carrier webhook authenticates by signature ...
    assert signed == SIGNED_ROUTES
    # ... refusing a bad signature and accepting a good one
    from storeops.fulfilment.carriers import signature_for

    body = b'{"tracking_no": "SFM1", "time": "2026-03-02T10:00:00+08:00", "status": "picked_up"}'
    url = "/api/v1/fulfilment/webhooks/SF"
    bad = Client().post(url, body, content_type="application/json", HTTP_X_STOREOPS_SIGNATURE="sha256=00")
    good = Client().post(
        url,
        body,
        content_type="application/json",
        HTTP_X_STOREOPS_SIGNATURE=signature_for("matrix-secret", body),
    )
    assert (bad.status_code, good.status_code) == (401, 200)
    assert good.json()["stored"] == 1


def test_store_04_every_api_route_is_in_the_matrix():
    # given every operation mounted on /api/v1, when compared with the matrix, then none is missing
    assert set(_api_operations()) == set(API_CASES)


def _for_every_role(check) -> None:
    """Run ``check(role)`` for each role and for nobody (``None``), each in a savepoint that is
    rolled back, so every role meets the same world (a write by one is undone before the
    next). The world is built once per route instead of once per route × role: the matrix
    is ~2,200 cases and building the world was most of the suite's time. Every failing role
    is reported, not only the first."""
    failures = []
    for role in [*ROLES, None]:
        with transaction.atomic():
            try:
                check(role)
            except AssertionError as exc:
                failures.append(f"{role.value if role else 'anonymous'}: {exc}")
            transaction.set_rollback(True)
    assert not failures, "\n".join(failures)


def _mine(world, role, make_user, case) -> dict:
    """Per-caller ids for the cases that name them: ``my_role`` (the caller's role) and
    ``my_token`` (a token issued for the caller). Anonymous callers get the world's."""
    if "{my_" not in repr(case):
        return world
    if role is None:
        return {**world, "my_role": Role.ANALYST.value, "my_token": world["token"]}
    from storeops.core.context import Actor

    user = make_user(role)
    token, _raw = api_token_create(actor=Actor(user=user), name="mine", role=role)
    return {**world, "my_role": role.value, "my_token": token.pk}


@pytest.mark.parametrize(("method", "route"), sorted(API_CASES))
def test_store_04_api_route_enforces_role_permissions(world, api_as, make_user, method, route):
    permission = _api_operations()[(method, route)]
    path, body = API_CASES[(method, route)]

    def check(role):
        # given a caller with one role (or nobody)
        client = api_as(role)
        ids = _mine(world, role, make_user, (path, body))
        # when it calls the route
        if (method, route) in UPLOAD_ROUTES:
            response = _upload(client, _fill(path, ids), _fill(body, ids))
        else:
            response = client.call(method, _fill(path, ids), _fill(body, ids))
        # then the answer follows the role table
        if role is None:
            assert response.status_code == 401, response.content
            assert response.json()["code"] == "unauthenticated"
        elif permission is None or role_grants(role, permission):
            assert 200 <= response.status_code < 300, (response.status_code, response.content)
        else:
            assert response.status_code == 403, (response.status_code, response.content)
            assert response.json()["code"] == "permission_denied"

    _for_every_role(check)


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_store_04_api_token_acts_with_its_role_only(world, owner, role, client):
    # given a token with a role, created by the owner
    from storeops.core.context import Actor

    _token, raw = api_token_create(actor=Actor(user=owner), name=f"t-{role.value}", role=role)
    api_client = ApiClient(Client(), token=raw)
    # when it reads the audit log and changes the playbook
    audit = api_client.get("/audit/")
    change = api_client.patch(f"/stores/{world['store']}/playbook", {"values": {"safety_stock_days": 4}})
    # then it gets exactly its role's rights, not the owner's
    assert audit.status_code == (200 if role_grants(role, "audit.view_auditentry") else 403)
    assert change.status_code == (200 if role_grants(role, "stores.change_playbook") else 403)


def test_store_04_revoked_or_unknown_token_is_unauthenticated(world, owner):
    from storeops.accounts.models import ApiToken
    from storeops.accounts.services import api_token_revoke
    from storeops.core.context import Actor

    token, raw = api_token_create(actor=Actor(user=owner), name="erp", role=Role.OWNER)
    assert ApiClient(Client(), token=raw).get("/stores/").status_code == 200
    api_token_revoke(actor=Actor(user=owner), token=ApiToken.objects.get(pk=token.pk))
    assert ApiClient(Client(), token=raw).get("/stores/").status_code == 401
    assert ApiClient(Client(), token="so_not-a-token").get("/stores/").status_code == 401


def test_store_04_session_writes_need_the_csrf_token(world, make_user):
    # given a signed-in owner whose client enforces CSRF like a browser
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(Role.OWNER))
    # when it posts without a CSRF token, then it is refused
    response = client.patch(
        f"/api/v1/stores/{world['store']}/playbook", data='{"values": {}}', content_type="application/json"
    )
    assert response.status_code == 403


# ---- console pages -----------------------------------------------------------------------

CONSOLE_CASES = {
    "console:home": ("GET", "/", None),
    "console:findings": ("GET", "/findings/", None),
    "console:run_checks": ("POST", "/findings/run/", {"rule": "STORE-02"}),
    "console:finding_detail": ("GET", "/findings/{finding}/", None),
    "console:finding_action": ("POST", "/findings/{finding}/resolve/", {"note": "已处理"}),
    "console:audit": ("GET", "/audit/", None),
    "console:playbook": ("GET", "/playbook/", None),
    "console:qualifications": ("GET", "/qualifications/", None),
    "console:team_kpis": ("GET", "/team-kpis/?days=7", None),
    "console:profitability": ("GET", "/profitability/?days=30&format=xlsx", None),
    "console:experiments": ("GET", "/experiments/?status=running", None),
    "console:experiment_create": (
        "POST",
        "/experiments/new/",
        {"name": "横幅", "subject": "banner", "control": "满减", "challenger": "限时"},
    ),
    "console:experiment_detail": ("GET", "/experiments/{experiment}/", None),
    "console:experiment_action": (
        "POST",
        "/experiments/{experiment}/decide/",
        {"adopt": "0", "note": "放弃"},
    ),
    "console:daily_metrics": ("GET", "/daily-metrics/?days=7&channel={channel}", None),
    "console:rule_changes": ("GET", "/rule-changes/?status=open&platform=jd", None),
    "console:rule_change_record": (
        "POST",
        "/rule-changes/record/",
        {"platform": "tmall", "title": "天猫新规", "announced_at": "2026-01-01T09:00"},
    ),
    "console:rule_change_assess": (
        "POST",
        "/rule-changes/{rule_change}/assess/",
        {"applies": "yes", "assessment": "需改详情页"},
    ),
    "console:rule_change_complete": ("POST", "/rule-changes/{rule_change}/complete/", {"actions": "已改"}),
    "console:set_language": ("POST", "/language/", {"language": "en"}),
    "console:tokens": ("GET", "/tokens/", None),
    "console:token_revoke": ("POST", "/tokens/{token}/revoke/", {}),
    "console:catalog_products": ("GET", "/catalog/products/?q=OK", None),
    "console:catalog_product_detail": ("GET", "/catalog/products/{approved}/", None),
    "console:catalog_product_submit": ("POST", "/catalog/products/{draft}/submit/", {}),
    "console:catalog_audit_queue": ("GET", "/catalog/audit-queue/", None),
    "console:catalog_audit_review": (
        "POST",
        "/catalog/audits/{queued_audit}/review/",
        {"decision": "approve"},
    ),
    "console:catalog_suppliers": ("GET", "/catalog/suppliers/", None),
    "console:catalog_selection": ("GET", "/catalog/selection/", None),
    "console:catalog_price_suggester": (
        "GET",
        "/pricing/suggester/?sku={sku_code}&competitor_price=300",
        None,
    ),
    "console:catalog_competitors": ("GET", "/pricing/competitors/", None),
    "console:fulfilment_shipments": ("GET", "/fulfilment/shipments/?status=created", None),
    "console:fulfilment_exceptions": ("GET", "/fulfilment/exceptions/", None),
    "console:fulfilment_carriers": ("GET", "/fulfilment/carriers/?province=浙江省&weight=1", None),
    **{
        "console:promotions_offers": ("GET", "/promotions/offers/?status=active&scope=all", None),
        "console:promotions_offer_detail": ("GET", "/promotions/offers/{offer}/", None),
        "console:promotions_quote": ("GET", "/promotions/quote/?sku={sku_code}&qty=2&tier=gold", None),
        "console:promotions_coupons": ("GET", "/promotions/coupons/", None),
        "console:promotions_offer_create": ("GET", "/promotions/offers/new/", None),
        "console:promotions_offer_edit": ("GET", "/promotions/offers/{offer}/edit/", None),
        "console:promotions_offer_status": (
            "POST",
            "/promotions/offers/{offer}/status/",
            {"status": "paused"},
        ),
        # coupon templates: create, switch off, issue (PROMO-02)
        "console:promotions_coupon_template_create": ("GET", "/promotions/coupons/templates/new/", None),
        "console:promotions_coupon_template_active": (
            "POST",
            "/promotions/coupons/templates/{coupon_template}/active/",
            {"active": "0"},
        ),
        "console:promotions_coupon_issue": (
            "POST",
            "/promotions/coupons/issue/",
            {"template": "{coupon_template}", "customer_refs": "c2 c3"},
        ),
    },
    **MARKETING_CONSOLE_CASES,
    **SERVICE_CONSOLE_CASES,
    **MEMBERS_CONSOLE_CASES,
    **RECOMMEND_CONSOLE_CASES,
    **CATALOG_CONSOLE_CASES,
    **OUTREACH_CONSOLE_CASES,
    **PRIVACY_CONSOLE_CASES,
    **AFTERSALES_CONSOLE_CASES,
    **ANALYTICS_CONSOLE_CASES,  # MEM-04, MEM-07, DATA-06
    **BEHAVIOUR_CONSOLE_CASES,
    **ORDERS_CONSOLE_CASES,
    **STORES_CONSOLE_CASES,  # STORE-07 launch plans
    **{  # orders (h7)
        "console:orders_list": ("GET", "/orders/?status=on_hold&q=m-held&big_promo=0", None),
        "console:orders_review_queue": ("GET", "/orders/review-queue/", None),
        "console:orders_ship_risk": ("GET", "/orders/ship-risk/", None),
        "console:orders_detail": ("GET", "/orders/{o_held_id}/", None),
        "console:orders_review": ("POST", "/orders/{o_held_id}/review/", {"decision": "approve"}),
        "console:orders_address": (
            "POST",
            "/orders/{o_held_id}/address/",
            {"receiver": "王五", "phone": "13900001111", "province": "上海市", "address": "世纪大道100号"},
        ),
        "console:orders_notify": (
            "POST",
            "/orders/{o_held_id}/notify/",
            {"channel": "sms", "text": "您的订单地址有误，请联系客服"},
        ),
        "console:orders_allocate": ("POST", "/orders/{o_reviewed_id}/allocate/", {}),
        "console:orders_ship": (
            "POST",
            "/orders/{o_allocated_id}/ship/",
            {"carrier": "SF", "tracking_no": "SFC1"},
        ),
        "console:orders_deliver": ("POST", "/orders/{o_shipped_id}/deliver/", {}),
        "console:orders_cancel": ("POST", "/orders/{o_reviewed_id}/cancel/", {"reason": "缺货"}),
        "console:orders_brushing": ("POST", "/orders/{o_reviewed_id}/brushing/", {"note": "同地址多账号"}),
        "console:orders_frozen_accounts": ("GET", "/orders/frozen-accounts/?state=all&q=m", None),
        "console:orders_frozen_account_add": (
            "POST",
            "/orders/frozen-accounts/add/",
            {"customer_ref": "m-other", "reason": "同设备多账号"},
        ),
        "console:orders_frozen_account_lift": (
            "POST",
            "/orders/frozen-accounts/{o_freeze}/lift/",
            {"note": "误判"},
        ),
        # marketplace order import and invoices (h6)
        "console:orders_import": ("GET", "/orders/imports/?status=failed", None),
        "console:orders_import_upload": (
            "POST",
            "/orders/imports/upload/",
            {},
            422,
        ),  # no file: refused, the form shown again
        "console:orders_import_detail": ("GET", "/orders/imports/{order_import}/", None),
        "console:orders_invoices": ("GET", "/orders/invoices/?status=requested", None),
        "console:orders_invoice_issue": (
            "POST",
            "/orders/invoices/{invoice_requested}/issue/",
            {"invoice_number": "C1"},
        ),
        "console:orders_invoice_reject": (
            "POST",
            "/orders/invoices/{invoice_requested}/reject/",
            {"reason": "x"},
        ),
        "console:orders_invoice_reverse": (
            "POST",
            "/orders/invoices/{invoice_issued}/reverse/",
            {"reason": "x"},
        ),
    },
    **{
        "console:inventory_stock": ("GET", "/inventory/stock/?zone=sellable&q=OK", None),
        "console:inventory_stock_operate": (
            "POST",
            "/inventory/stock/operate/",
            {
                "kind": "receive",
                "sku_code": "OK-S",
                "warehouse": "{warehouse}",
                "quantity": "5",
                "reason": "采购入库",
            },
        ),
        "console:inventory_ledger": ("GET", "/inventory/ledger/?reference=SO-M", None),
        "console:inventory_replenishment": ("GET", "/inventory/replenishment/", None),
        "console:inventory_replenishment_season": (  # INV-06: a product's season
            "POST",
            "/inventory/replenishment/season/",
            {"product_code": "OK", "season_start_month": "11", "season_end_month": "2", "season_uplift": "3"},
        ),
        "console:inventory_exceptions": ("GET", "/inventory/exceptions/", None),
        "console:inventory_turnover": ("GET", "/inventory/turnover/?slow=1", None),
        "console:inventory_abc": ("GET", "/inventory/abc/?abc_class=A&due=1", None),
        "console:inventory_abc_recompute": ("POST", "/inventory/abc/recompute/", {}),
        "console:inventory_counts": ("GET", "/inventory/counts/?status=counting", None),
        "console:inventory_count_create": (
            "POST",
            "/inventory/counts/new/",
            {"zone": "qc", "scope": "skus", "sku_codes": "OK-S"},  # no warehouse: refused, shown again
            422,
        ),
        "console:inventory_count_detail": ("GET", "/inventory/counts/{count_sheet}/", None),
        "console:inventory_count_enter": ("POST", "/inventory/counts/{count_sheet}/enter/", {}),
        "console:inventory_count_action": ("POST", "/inventory/counts/{count_sheet}/post/", {}),
        "console:inventory_count_variance": ("GET", "/inventory/counts/{count_sheet}/variance/", None),
    },
}


def _console_views() -> dict[str, object]:
    views = {}

    def walk(patterns, namespace=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace == "console":
                    walk(p.url_patterns, "console:")
            elif isinstance(p, URLPattern) and namespace:
                views[f"{namespace}{p.name}"] = p.callback

    walk(get_resolver().url_patterns)
    return views


def test_store_04_every_console_page_declares_a_permission_and_is_in_the_matrix():
    views = _console_views()
    assert set(views) == set(CONSOLE_CASES)
    for name, view in views.items():
        assert hasattr(view, "required_permission"), f"{name} is not a console_view"


@pytest.mark.parametrize("name", sorted(CONSOLE_CASES))
def test_store_04_console_page_enforces_role_permissions(world, make_user, name):
    method, path, data, *answer = CONSOLE_CASES[name]  # answer: an allowed role's status, if not the usual
    permission = _console_views()[name].required_permission
    allowed = answer[0] if answer else (302 if method == "POST" else 200)
    url = _fill(path, world)

    def check(role):
        client = Client()
        if role is not None:
            client.force_login(make_user(role))
        response = client.post(url, _fill(data, world)) if method == "POST" else client.get(url)
        if role is None:
            assert response.status_code == 302
            assert "/login/" in response["Location"]
        elif permission is None or role_grants(role, permission):
            assert response.status_code == allowed, response.status_code
        else:
            assert response.status_code == 403

    _for_every_role(check)
