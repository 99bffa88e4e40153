"""Catalog and pricing API: create, audit, list and price through /api/v1 as the roles do."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from storeops.accounts.roles import Role
from tests.catalog.db_builders import GOOD_TITLE, a_business_license, a_dress_category, a_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def dress(store, today):
    a_business_license(store, today)
    return a_dress_category(store)


def test_list_01_operations_creates_a_product_and_the_audit_returns_every_reason(api_as, store, dress):
    # given an operator
    api = api_as(Role.OPERATIONS)

    # when a product with a short title and no images is created and submitted
    created = api.post(
        f"/catalog/{store.pk}/products",
        {
            "category_id": dress.pk,
            "code": "P1",
            "core_word": "连衣裙",
            "title": "碎花雪纺连衣裙度假",
            "parameters": {"尺码": "M", "面料": "雪纺"},
            "skus": [{"code": "P1-M", "price": "199.00", "cost": "60"}],
        },
    )
    audit = api.post(f"/catalog/{store.pk}/products/{created.json()['id']}/submit")

    # then
    assert created.status_code == 201
    assert created.json()["skus"][0]["price"] == "199.00"
    assert audit.status_code == 200
    assert audit.json()["outcome"] == "rejected"
    assert [r["code"] for r in audit.json()["reasons"]] == [
        "title_too_short",
        "main_image_missing",
        "scene_image_missing",
        "qc_report_missing",
    ]
    assert audit.json()["reasons"][0]["message_zh"] == "标题9个字，少于30个字"


def test_list_01_a_duplicate_sku_code_is_a_field_error_in_the_common_shape(api_as, store, dress):
    # given an existing product P1 with SKU P1-S
    a_product(store, dress)

    # when another product reuses P1-S
    response = api_as(Role.OPERATIONS).post(
        f"/catalog/{store.pk}/products",
        {
            "category_id": dress.pk,
            "code": "P2",
            "core_word": "连衣裙",
            "title": GOOD_TITLE,
            "skus": [{"code": "P1-S", "price": "10.00"}],
        },
    )

    # then
    assert response.status_code == 422
    assert response.json() == {
        "code": "validation_error",
        "message": "SKU信息有误",
        "fields": {"skus.0.code": "SKU编码已存在"},
    }


def test_store_04_finance_reads_products_but_cannot_change_prices(api_as, store, dress):
    # given a product and a finance user
    product = a_product(store, dress)
    sku = product.skus.first()
    api = api_as(Role.FINANCE)

    # when
    listed = api.get(f"/catalog/{store.pk}/products")
    change = api.post(f"/pricing/{store.pk}/skus/{sku.pk}/prices", {"new_price": "99.00", "reason": "season"})

    # then
    assert listed.status_code == 200
    assert [p["code"] for p in listed.json()["items"]] == ["P1"]
    assert change.status_code == 403


def test_product_list_searches_and_pages_in_a_constant_number_of_queries(api_as, store, dress):
    # given 30 products
    for i in range(30):
        a_product(store, dress, f"P{i:02d}", complete=False)
    api = api_as(Role.OPERATIONS)
    api.get(f"/catalog/{store.pk}/products")  # warm the session and permission caches

    # when
    with CaptureQueriesContext(connection) as queries:
        page = api.get(f"/catalog/{store.pk}/products", page=2, page_size=10)
    searched = api.get(f"/catalog/{store.pk}/products", q="p01-s")

    # then
    assert [p["code"] for p in page.json()["items"]] == [f"P{i:02d}" for i in range(10, 20)]
    assert page.json()["total"] == 30
    assert len(queries) <= 8
    assert [p["code"] for p in searched.json()["items"]] == ["P01"]  # a SKU code finds its product


def test_price_01_suggestion_endpoint_reports_the_feasible_range(api_as, store, dress):
    # given a SKU with product cost 60 and an operations cost of 20 (full cost 80)
    sku = a_product(store, dress).skus.first()
    api = api_as(Role.OPERATIONS)
    api.put(f"/pricing/{store.pk}/skus/{sku.pk}/cost", {"operations": "20.00"})

    # when asked against a competitor at 140
    response = api.get(f"/pricing/{store.pk}/skus/{sku.pk}/suggestion", competitor_price="140.00")

    # then
    body = response.json()
    assert response.status_code == 200
    assert (body["feasible"], body["full_cost"], body["min_price"], body["max_price"]) == (
        True,
        "80.00",
        "126.00",
        "133.00",
    )


def test_list_01_an_unknown_product_is_a_404_in_the_error_shape(api_as, store):
    # when
    response = api_as(Role.OPERATIONS).get(f"/catalog/{store.pk}/products/999999")

    # then
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["message"] == "商品不存在"


def test_list_05_the_audit_queue_api_pages_and_counts_every_waiting_audit(api_as, store, dress):
    """The queue is paged like every list (it returned at most 200 audits, with no total)."""
    from storeops.catalog.models import AuditOutcome, ListingAudit, Product, ProductStatus

    for i in range(3):
        product = a_product(store, dress, code=f"Q{i:02d}", complete=False)
        Product.objects.filter(pk=product.pk).update(status=ProductStatus.PENDING_AUDIT)
        ListingAudit.objects.create(product=product, passed=True, outcome=AuditOutcome.MANUAL)
    api = api_as(Role.OPERATIONS)
    first = api.get(f"/catalog/{store.pk}/audit-queue?page_size=2").json()
    assert (first["total"], first["page"], len(first["items"])) == (3, 1, 2)
    second = api.get(f"/catalog/{store.pk}/audit-queue?page_size=2&page=2").json()
    assert len(second["items"]) == 1
    assert {a["id"] for a in first["items"] + second["items"]} == set(
        ListingAudit.objects.values_list("pk", flat=True)
    )
