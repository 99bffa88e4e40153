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
