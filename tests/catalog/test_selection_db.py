"""Selection on database rows: the margin minimum at audit (SOP SEL-03) and tags (SEL-04)."""

from __future__ import annotations

import pytest

from storeops.accounts.roles import Role
from storeops.catalog import services as cs
from storeops.catalog.models import ProductStatus
from storeops.pricing import services as ps
from storeops.stores import services as st
from tests.catalog.db_builders import ACTOR, a_business_license, a_dress_category, a_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def dress(store, today):
    a_business_license(store, today)
    return a_dress_category(store)


def test_sel_03_a_price_below_the_selection_margin_goes_to_the_manual_queue(store, dress, today):
    # given SKUs priced 100 with product cost 60 and 20 of operations cost: full cost 80, margin 20%
    product = a_product(store, dress, price="100.00")
    for sku in product.skus.all():
        ps.sku_cost_set(actor=ACTOR, sku=sku, operations="20.00")
    # when it is submitted for listing
    audit = cs.listing_submit(actor=ACTOR, product=product, today=today)
    # then both SKUs are flagged under SEL-03 and a person decides
    product.refresh_from_db()
    sel = [r for r in audit.reasons if r["rule"] == "SEL-03"]
    assert [r["code"] for r in sel] == ["margin_below_selection_minimum"] * 2
    assert "毛利率 20.0%，低于选品最低毛利率 30%" in sel[0]["message_zh"]
    assert (audit.outcome, product.status) == ("manual", ProductStatus.PENDING_AUDIT)


def test_sel_03_the_minimum_is_the_playbook_setting(store, dress, today, system):
    # given the store accepts 15% margins for selection
    st.playbook_update(actor=system, store=store, values={"selection_min_gross_margin": "0.15"})
    product = a_product(store, dress, price="100.00")
    for sku in product.skus.all():
        ps.sku_cost_set(actor=ACTOR, sku=sku, operations="20.00")
    # then the same 20% margin passes
    audit = cs.listing_submit(actor=ACTOR, product=product, today=today)
    assert [r for r in audit.reasons if r["rule"] == "SEL-03"] == []
    assert audit.outcome == "approved"


def test_sel_04_tags_by_kind_find_products_in_search(store, dress, api_as):
    # given two products, one tagged for camping and the 100-200 price band
    beach = a_product(store, dress, "P1")
    a_product(store, dress, "P2")
    cs.product_tags_set(
        actor=ACTOR, product=beach, tags={"scene": ["露营野餐"], "price_band": ["100-200"], "style": ["法式"]}
    )
    api = api_as(Role.OPERATIONS)
    # when searching by a tag, or filtering by one
    searched = api.get(f"/catalog/{store.pk}/products", q="露营野餐").json()
    filtered = api.get(f"/catalog/{store.pk}/products", tag="法式").json()
    # then only the tagged product comes back
    assert [p["code"] for p in searched["items"]] == ["P1"]
    assert [p["code"] for p in filtered["items"]] == ["P1"]


def test_sel_04_an_unknown_tag_kind_is_rejected_and_nothing_changes(store, dress):
    from storeops.core.errors import ValidationError

    product = a_product(store, dress)
    cs.product_tags_set(actor=ACTOR, product=product, tags={"style": ["法式"]})
    with pytest.raises(ValidationError):
        cs.product_tags_set(actor=ACTOR, product=product, tags={"colour": ["红"]})
    assert [t.name for t in product.tags.all()] == ["法式"]


def test_console_product_list_shows_all_products_and_a_parent_category_includes_its_children(
    store, today, make_user
):
    # given a parent category 女装 with the dress category below it, and one product in each
    from django.test import Client

    a_business_license(store, today)
    women = cs.category_create(actor=ACTOR, store=store, code="women", name="女装")
    dress = a_dress_category(store, parent=women)
    other = cs.category_create(actor=ACTOR, store=store, code="other", name="其他", parent=None)
    a_product(store, dress, "P1")
    a_product(store, other, "P2")
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    # when the list is opened unfiltered, and filtered by the parent
    everything = client.get("/catalog/products/").content.decode()
    women_only = client.get("/catalog/products/", {"category": women.pk}).content.decode()
    # then all products show, and the parent filter includes its child category's product
    # (the product-code cell, not any "P2": the page's random CSRF token may contain it)
    assert ">P1</a>" in everything
    assert ">P2</a>" in everything
    assert ">P1</a>" in women_only
    assert ">P2</a>" not in women_only
