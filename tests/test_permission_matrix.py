"""SOP STORE-04: every API route and console page checks the caller's role.

For every route × every role: allowed → 2xx (console POST → redirect), forbidden → 403,
anonymous → 401 (console → redirect to login). The tables below must cover every route:
a new route without an entry here fails ``test_store_04_every_api_route_is_in_the_matrix``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from storeops.accounts.access import Access
from storeops.accounts.roles import Role, role_grants
from storeops.accounts.services import api_token_create
from storeops.config.api import api
from storeops.sop.models import Finding
from storeops.sop.services import checks_run
from storeops.stores import services as st
from storeops.stores.models import LaunchStep
from tests.conftest import ApiClient

ROLES = list(Role)


def _api_operations() -> dict[tuple[str, str], str | None]:
    ops = {}
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for op in path_view.operations:
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
    ("POST", "/accounts/tokens"): ("/accounts/tokens", {"name": "erp", "role": "analyst"}),
    ("POST", "/accounts/tokens/{token_id}/revoke"): ("/accounts/tokens/{token}/revoke", {}),
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
        {"actual": "10"},
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
}


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
    token, _raw = api_token_create(actor=type(system)(user=owner, via="cli"), name="wms", role=Role.WAREHOUSE)
    return {
        "store": store.pk,
        "qualification": q.pk,
        "plan": plan.pk,
        "target": plan.targets.first().pk,
        "finding": Finding.objects.get(rule_id="STORE-02").pk,
        "token": token.pk,
        "free_channel": free_channel.pk,
        **_catalog_world(store, channel),
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


def test_store_04_every_api_route_is_in_the_matrix():
    # given every operation mounted on /api/v1, when compared with the matrix, then none is missing
    assert set(_api_operations()) == set(API_CASES)


@pytest.mark.parametrize(("method", "route"), sorted(API_CASES))
@pytest.mark.parametrize("role", [*ROLES, None], ids=[*(r.value for r in ROLES), "anonymous"])
def test_store_04_api_route_enforces_role_permissions(world, api_as, method, route, role):
    # given a caller with one role (or nobody)
    permission = _api_operations()[(method, route)]
    path, body = API_CASES[(method, route)]
    client = api_as(role)
    # when it calls the route
    response = client.call(method, _fill(path, world), _fill(body, world))
    # then the answer follows the role table
    if role is None:
        assert response.status_code == 401, response.content
        assert response.json()["code"] == "unauthenticated"
    elif permission is None or role_grants(role, permission):
        assert 200 <= response.status_code < 300, (role, response.status_code, response.content)
    else:
        assert response.status_code == 403, (role, response.status_code, response.content)
        assert response.json()["code"] == "permission_denied"


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
@pytest.mark.parametrize("role", [*ROLES, None], ids=[*(r.value for r in ROLES), "anonymous"])
def test_store_04_console_page_enforces_role_permissions(world, make_user, name, role):
    method, path, data = CONSOLE_CASES[name]
    permission = _console_views()[name].required_permission
    client = Client()
    if role is not None:
        client.force_login(make_user(role))
    url = _fill(path, world)
    response = client.post(url, data) if method == "POST" else client.get(url)
    if role is None:
        assert response.status_code == 302
        assert "/login/" in response["Location"]
    elif permission is None or role_grants(role, permission):
        assert response.status_code == (302 if method == "POST" else 200), (role, response.status_code)
    else:
        assert response.status_code == 403
