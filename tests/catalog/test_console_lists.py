"""Console lists of the catalogue that grow with the store are paginated (25 rows a page),
not cut off silently after the first few hundred rows."""

from __future__ import annotations

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.catalog.models import AuditOutcome, ListingAudit, Product, ProductStatus
from storeops.pricing import services as ps
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product

pytestmark = pytest.mark.django_db


def _owner(make_user) -> Client:
    client = Client()
    client.force_login(make_user(Role.OWNER))
    return client


def test_competitor_list_is_paginated(store, make_user):
    for i in range(26):
        ps.competitor_product_create(actor=ACTOR, store=store, competitor="A店", name=f"竞品{i:02d}")
    client = _owner(make_user)
    first = client.get("/pricing/competitors/").content.decode()
    assert "竞品24" in first
    assert "竞品25" not in first
    assert "page=2" in first
    assert "竞品25" in client.get("/pricing/competitors/?page=2").content.decode()


def test_listing_audit_queue_is_paginated(store, make_user):
    category = a_dress_category(store, required_qualifications=[])
    for i in range(26):
        product = a_product(store, category, code=f"Q{i:02d}", complete=False)
        Product.objects.filter(pk=product.pk).update(status=ProductStatus.PENDING_AUDIT)
        ListingAudit.objects.create(product=product, passed=True, outcome=AuditOutcome.MANUAL)
    client = _owner(make_user)
    first = client.get("/catalog/audit-queue/").content.decode()  # oldest first
    assert "Q00" in first
    assert "Q25" not in first
    assert "page=2" in first
    assert "Q25" in client.get("/catalog/audit-queue/?page=2").content.decode()


def test_list_02_refused_review_comes_back_in_its_row_as_typed_and_decides_nothing(
    store, make_user, monkeypatch
):
    from storeops.catalog import services as cs
    from storeops.core.errors import ValidationError

    category = a_dress_category(store, required_qualifications=[])
    audits = []
    for i in range(26):
        product = a_product(store, category, code=f"Q{i:02d}", complete=False)
        Product.objects.filter(pk=product.pk).update(status=ProductStatus.PENDING_AUDIT)
        audits.append(ListingAudit.objects.create(product=product, passed=True, outcome=AuditOutcome.MANUAL))
    last = audits[-1]  # on the queue's second page
    client = _owner(make_user)
    response = client.post(
        f"/catalog/audits/{last.pk}/review/?page=2", {"decision": "reject", "comment": " "}
    )
    assert response.status_code == 422  # was a redirect to the first page
    html = response.content.decode()
    assert "Q25" in html  # the refused row's page
    row = html.split(f'action="/catalog/audits/{last.pk}/review/')[1].split("</form>")[0]
    assert '<span class="err">必填</span>' in row
    assert "驳回时请填写审核意见" in html
    assert html.count('<span class="err">') == 1  # the other rows' forms as new

    # a comment the service refuses is shown again as typed
    def refuse(**kwargs):
        raise ValidationError("审核意见含有敏感词", fields={"comment": "请删去“最”"})

    monkeypatch.setattr(cs, "listing_review", refuse)
    response = client.post(
        f"/catalog/audits/{last.pk}/review/?page=2", {"decision": "reject", "comment": "标题含“最”字"}
    )
    assert response.status_code == 422
    row = response.content.decode().split(f'action="/catalog/audits/{last.pk}/review/')[1].split("</form>")[0]
    assert 'value="标题含“最”字"><span class="err">请删去“最”</span>' in row
    last.refresh_from_db()
    assert last.decision == ""
    assert Product.objects.get(pk=last.product_id).status == ProductStatus.PENDING_AUDIT


def test_supplier_ranking_and_key_products_are_paged_each_on_its_own(store, make_user, monkeypatch):
    # every supplier and every key product were listed on one page
    from storeops.catalog import services as cs
    from storeops.console import catalog_views

    monkeypatch.setattr(catalog_views, "PAGE_SIZE", 1)
    for code in ("S1", "S2"):
        cs.supplier_create(actor=ACTOR, store=store, code=code, name=f"{code}工厂", payment_term_days=30)
    category = a_dress_category(store, required_qualifications=[])
    for code in ("K1", "K2"):
        a_product(store, category, code, is_key=True)
    client = _owner(make_user)

    def sections(query: str) -> tuple[str, str]:
        html = client.get(f"/catalog/suppliers/{query}").content.decode()
        ranking, keys = html.split("<h2", 1)
        return ranking, keys

    ranking, keys = sections("")
    assert ranking.count("工厂</td>") == 1
    assert "<td>1</td>" in ranking
    assert "K1 " in keys
    assert "K2 " not in keys
    # page 2 of the ranking keeps the key products' page, and the other way round
    ranking, keys = sections("?kpage=2&page=2")
    assert ranking.count("工厂</td>") == 1
    assert "<td>2</td>" in ranking  # the rank counts on across pages
    assert "K2 " in keys
    assert "?kpage=2&page=1" in ranking
    assert "?page=2&kpage=1" in keys
