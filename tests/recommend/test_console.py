"""Console pages of REC-01/02: products with their neighbour counts, the last build and the
rebuild button, a product's neighbours, the add-on preview."""

from __future__ import annotations

import pytest
from django.test import Client

from storeops.accounts.roles import Role
from storeops.recommend import services
from storeops.recommend.models import NeighbourBuild
from tests.recommend.builders import ACTOR, Shop


@pytest.fixture
def shop(store, channel):
    shop = Shop(store, channel)
    shop.history()
    return shop


def _client(make_user, role):
    client = Client()
    client.force_login(make_user(role))
    return client


def test_rec_01_operations_rebuild_from_the_console_and_see_the_build_time(shop, store, make_user):
    client = _client(make_user, Role.OPERATIONS)
    # given no table yet
    page = client.get("/recommend/").content.decode()
    assert "还没有构建推荐表" in page
    assert "立即重建" in page
    # when the rebuild button is pressed
    response = client.post("/recommend/rebuild/", follow=True)
    # then the table exists and the page shows when it was built and what it holds
    build = NeighbourBuild.objects.get(store=store)
    assert (build.status, build.via) == ("current", "console")
    page = response.content.decode()
    assert "推荐已重建" in page
    assert build.built_at.astimezone().strftime("%Y-%m-%d %H:%M") in page
    assert "10 个订单" in page


def test_rec_01_product_page_lists_similar_and_complementary_products(shop, store, make_user):
    services.neighbours_rebuild(actor=ACTOR, store=store)
    page = _client(make_user, Role.MARKETING).get(f"/recommend/products/{shop.pk('M1')}/").content.decode()
    similar, complementary = page.split("搭配商品", 1)
    assert ">M2<" in similar
    assert ">B1<" in complementary
    assert "在售有货" in page
    # other roles: read-only, no rebuild button; unknown product: 404
    assert "立即重建" not in _client(make_user, Role.MARKETING).get("/recommend/").content.decode()
    assert _client(make_user, Role.MARKETING).get("/recommend/products/999999/").status_code == 404


def test_rec_02_console_add_on_preview(shop, store, make_user):
    services.neighbours_rebuild(actor=ACTOR, store=store)
    client = _client(make_user, Role.ANALYST)
    page = client.get("/recommend/", {"cart": "L1-S", "channel": shop.channel.pk}).content.decode()
    assert ">R1<" in page
    bad = client.get("/recommend/", {"cart": "NOPE"}).content.decode()
    assert "NOPE" in bad  # the error names the unknown SKU


def test_rec_01_pages_are_403_without_the_permission(shop, make_user):
    client = _client(make_user, Role.WAREHOUSE)
    assert client.get("/recommend/").status_code == 403
    assert _client(make_user, Role.ANALYST).post("/recommend/rebuild/").status_code == 403
