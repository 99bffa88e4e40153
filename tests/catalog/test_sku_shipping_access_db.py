"""LOG-03: the warehouse weighs parcels, so it sets a SKU's weight and fragility through their
own permission ``catalog.set_sku_shipping`` (API ``PATCH /catalog/{store}/skus/{code}`` and
the product page's form), without ``catalog.change_sku``; audited. Other roles per the
permission matrix (tests/test_permission_matrix.py covers every role on both routes)."""

from __future__ import annotations

import pytest
from django.test import Client

from storeops.accounts.roles import Role, role_grants
from storeops.audit.models import AuditEntry
from tests.catalog.db_builders import a_dress_category, a_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def sku(store):
    product = a_product(store, a_dress_category(store, required_qualifications=[]), "P1")
    return product.skus.get(code="P1-S")


def test_log_03_set_sku_shipping_is_the_warehouses_without_change_sku():
    assert role_grants(Role.WAREHOUSE, "catalog.set_sku_shipping")
    assert not role_grants(Role.WAREHOUSE, "catalog.change_sku")
    assert role_grants(Role.OPERATIONS, "catalog.set_sku_shipping")
    assert role_grants(Role.OWNER, "catalog.set_sku_shipping")
    for role in (Role.MARKETING, Role.CUSTOMER_SERVICE, Role.FINANCE, Role.ANALYST):
        assert not role_grants(role, "catalog.set_sku_shipping"), role


def test_log_03_warehouse_sets_weight_through_the_api_audited(store, sku, api_as):
    response = api_as(Role.WAREHOUSE).patch(
        f"/catalog/{store.pk}/skus/P1-S", {"weight_g": 1250, "is_fragile": True}
    )
    assert response.status_code == 200, response.content
    assert response.json()["weight_g"] == 1250
    sku.refresh_from_db()
    assert (sku.weight_g, sku.is_fragile) == (1250, True)
    entry = AuditEntry.objects.filter(action="sku.shipping_update").latest("id")
    assert entry.after["weight_g"] == 1250
    assert entry.actor.username == "u_warehouse"


def test_log_03_finance_cannot_set_weight(store, sku, api_as):
    assert api_as(Role.FINANCE).patch(f"/catalog/{store.pk}/skus/P1-S", {"weight_g": 10}).status_code == 403
    sku.refresh_from_db()
    assert sku.weight_g is None


def _client(make_user, role: Role) -> Client:
    client = Client()
    client.force_login(make_user(role))
    return client


def test_log_03_product_page_shows_the_weight_form_to_the_warehouse(store, sku, make_user):
    html = _client(make_user, Role.WAREHOUSE).get(f"/catalog/products/{sku.product_id}/").content.decode()
    assert f'action="/catalog/skus/{sku.pk}/shipping/"' in html
    assert ">保存重量</button>" in html
    html = _client(make_user, Role.MARKETING).get(f"/catalog/products/{sku.product_id}/").content.decode()
    assert ">保存重量</button>" not in html


def test_log_03_warehouse_saves_weight_on_the_product_page(store, sku, make_user):
    client = _client(make_user, Role.WAREHOUSE)
    response = client.post(f"/catalog/skus/{sku.pk}/shipping/", {"weight_g": "800", "is_fragile": "1"})
    assert response.status_code == 302
    sku.refresh_from_db()
    assert (sku.weight_g, sku.is_fragile) == (800, True)
    # unchecked fragile and an empty weight: unknown again, not fragile
    client.post(f"/catalog/skus/{sku.pk}/shipping/", {"weight_g": ""})
    sku.refresh_from_db()
    assert (sku.weight_g, sku.is_fragile) == (None, False)


def test_log_03_bad_weight_comes_back_as_typed_nothing_saved(store, sku, make_user):
    client = _client(make_user, Role.WAREHOUSE)
    response = client.post(f"/catalog/skus/{sku.pk}/shipping/", {"weight_g": "1.5kg", "is_fragile": "1"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'value="1.5kg"' in html
    assert "重量以克计" in html
    sku.refresh_from_db()
    assert (sku.weight_g, sku.is_fragile) == (None, False)


def test_log_03_another_stores_sku_is_not_found(store, sku, make_user, system):
    from storeops.stores import services as st

    other = st.store_create(actor=system, code="s2", name="另一店")
    other_sku = a_product(other, a_dress_category(other, required_qualifications=[]), "P9").skus.first()
    client = _client(make_user, Role.WAREHOUSE)
    client.get("/?store=s1")
    assert client.post(f"/catalog/skus/{other_sku.pk}/shipping/", {"weight_g": "5"}).status_code == 404
