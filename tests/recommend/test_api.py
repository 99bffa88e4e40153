"""REC-02 add-on suggestions on the storefront API, and the REC-01 neighbour endpoints."""

from __future__ import annotations

from decimal import Decimal

import pytest

from storeops.accounts.roles import Role
from storeops.catalog import services as catalog_services
from storeops.inventory import selectors as inventory_selectors
from storeops.inventory import services as inv
from storeops.promotions import services as promotions
from storeops.recommend import services
from storeops.stores import services as store_services
from tests.recommend.builders import ACTOR, Shop


@pytest.fixture
def shop(store, channel):
    shop = Shop(store, channel)
    shop.history()
    services.neighbours_rebuild(actor=ACTOR, store=store)
    return shop


@pytest.fixture
def storefront(api_as):
    return api_as(Role.OPERATIONS)  # the own web shop's token is an operations token


def _add_ons(client, shop, *skus, **extra):
    body = {
        "channel_id": shop.channel.pk,
        "customer": {"ref": "c99"},
        "lines": [{"sku": s, "quantity": 1} for s in skus],
    }
    body.update(extra)
    return client.post(f"/recommend/shop/{shop.store.pk}/add-ons", body)


def _count_away(shop, code):
    """Every unit of the product's SKUs not reserved by an order is counted away."""
    skus = list(shop.products[code].skus.all())
    available = inventory_selectors.available_by_sku(sku_ids=[s.pk for s in skus])
    for sku in skus:
        inv.stock_adjust(
            actor=ACTOR, sku=sku, warehouse=shop.warehouse, delta=-available[sku.pk], reason="盘亏"
        )


def _remover_deal(shop, amount="5"):
    offer = promotions.offer_create(
        actor=ACTOR,
        store=shop.store,
        kind="add_on",
        params={"anchor_product_ids": [shop.pk("L1")], "amount_off": amount},
        product_ids=[shop.pk("R1")],
    )
    return promotions.offer_set_status(actor=ACTOR, offer=offer, status="active")


def test_rec_02_lipstick_in_the_cart_suggests_the_remover_with_its_add_on_deal(shop, storefront):
    # given an add-on deal: make-up remover 5 CNY off with a lipstick
    _remover_deal(shop)
    # when the cart holds a lipstick
    response = _add_ons(storefront, shop, "L1-S")
    # then the remover is suggested, priced by the quote: 45 list, 40 more to pay, 5 saved
    assert response.status_code == 200, response.content
    body = response.json()
    assert [s["product_code"] for s in body["suggestions"]] == ["R1"]
    remover = body["suggestions"][0]
    assert (remover["sku"], Decimal(remover["price"])) == ("R1-M", Decimal("45.00"))  # cheapest, then code
    assert (Decimal(remover["pay_extra"]), Decimal(remover["saving"])) == (Decimal("40.00"), Decimal("5.00"))
    assert remover["offer_text"] == "加购卸妆水立减5元"
    assert [o["zh"] for o in remover["offers"]] == ["加购立减5：已减5.00元"]  # the engine's explanation
    assert remover["because_of"] == [shop.pk("L1")]
    assert Decimal(body["payable"]) == Decimal("120.00")


def test_rec_02_without_an_offer_the_suggestion_has_no_saving(shop, storefront):
    remover = _add_ons(storefront, shop, "L1-S").json()["suggestions"][0]
    assert (Decimal(remover["saving"]), remover["offer_text"], remover["offers"]) == (Decimal("0"), "", [])
    assert Decimal(remover["pay_extra"]) == Decimal("45.00")


def test_rec_02_offer_text_writes_the_saving_as_shops_do(shop, storefront):
    _remover_deal(shop, amount="4.5")
    remover = _add_ons(storefront, shop, "L1-S").json()["suggestions"][0]
    assert (Decimal(remover["saving"]), remover["offer_text"]) == (Decimal("4.50"), "加购卸妆水立减4.5元")


def test_rec_02_products_already_in_the_cart_are_never_suggested(shop, storefront):
    assert _add_ons(storefront, shop, "L1-S", "R1-M").json()["suggestions"] == []
    # the yoga mat's wear, the machine's beans, ranked by score
    codes = [s["product_code"] for s in _add_ons(storefront, shop, "M1-S", "Y1-S").json()["suggestions"]]
    assert sorted(codes) == ["B1", "W1"]


def test_rec_02_only_products_on_sale_and_in_stock_are_suggested(shop, storefront):
    # given the remover's stock counted away and the beans delisted from the channel
    _count_away(shop, "R1")
    listing = shop.products["B1"].listings.get()
    catalog_services.listing_delist(
        actor=ACTOR, listing=listing, reason="season_end", remaining_stock_action="keep"
    )
    # then neither is suggested
    assert _add_ons(storefront, shop, "L1-S").json()["suggestions"] == []
    assert _add_ons(storefront, shop, "M1-S").json()["suggestions"] == []
    # one remover SKU back in stock: suggested with that SKU
    inv.stock_receive(
        actor=ACTOR,
        sku=shop.products["R1"].skus.get(code="R1-M"),
        warehouse=shop.warehouse,
        quantity=3,
        reason="到货",
    )
    [remover] = _add_ons(storefront, shop, "L1-S").json()["suggestions"]
    assert (remover["sku"], remover["available"]) == ("R1-M", 3)


def test_rec_02_max_suggestions_is_a_playbook_setting(shop, storefront):
    cart = ("M1-S", "Y1-S", "L1-S")
    assert len(_add_ons(storefront, shop, *cart).json()["suggestions"]) == 3
    store_services.playbook_update(actor=ACTOR, store=shop.store, values={"rec_addon_max": 2})
    scores = [s["score"] for s in _add_ons(storefront, shop, *cart).json()["suggestions"]]
    assert len(scores) == 2
    assert scores == sorted(scores, reverse=True)
    assert len(_add_ons(storefront, shop, *cart, limit=1).json()["suggestions"]) == 1


def test_rec_02_bad_carts_are_a_clear_422(shop, storefront):
    response = _add_ons(storefront, shop, "NOPE-1")
    assert response.status_code == 422
    assert "lines.0.sku" in response.json()["fields"]
    assert _add_ons(storefront, shop, "L1-S", limit=0).status_code == 422
    assert _add_ons(storefront, shop, "L1-S", channel_id=999_999).status_code == 422


def test_rec_02_needs_the_storefront_permission(shop, api_as):
    assert _add_ons(api_as(None), shop, "L1-S").status_code == 401
    assert _add_ons(api_as(Role.ANALYST), shop, "L1-S").status_code == 403


def test_rec_02_without_a_built_table_there_are_no_suggestions(store, channel, storefront):
    shop = Shop(store, channel)
    body = _add_ons(storefront, shop, "L1-S").json()
    assert (body["suggestions"], body["built_at"]) == ([], None)


def test_rec_01_product_neighbours_back_office_and_storefront(shop, api_as, storefront):
    m1 = shop.pk("M1")
    body = api_as(Role.ANALYST).get(f"/recommend/{shop.store.pk}/products/{m1}/neighbours").json()
    assert [n["code"] for n in body["complementary"]] == ["B1"]
    assert [(n["code"], n["rank"], n["support"]) for n in body["similar"]] == [("M2", 1, 2)]
    assert body["built_at"] is not None
    # the storefront shows only what can be bought now
    _count_away(shop, "M2")
    shop_view = storefront.get(
        f"/recommend/shop/{shop.store.pk}/products/{m1}", channel_id=shop.channel.pk
    ).json()
    assert (shop_view["similar"], [n["code"] for n in shop_view["complementary"]]) == ([], ["B1"])


def test_rec_01_rebuild_and_build_list_through_the_api(shop, api_as):
    owner = api_as(Role.OPERATIONS)
    created = owner.post(f"/recommend/{shop.store.pk}/builds", {})
    assert created.status_code == 201, created.content
    assert (created.json()["status"], created.json()["baskets"]) == ("current", 10)
    builds = api_as(Role.ANALYST).get(f"/recommend/{shop.store.pk}/builds").json()
    assert [b["status"] for b in builds["items"]] == ["current", "superseded"]
    assert api_as(Role.ANALYST).post(f"/recommend/{shop.store.pk}/builds", {}).status_code == 403


def test_rec_02_add_ons_cost_a_bounded_number_of_queries(shop, storefront, django_assert_max_num_queries):
    # given a cart whose products have three complements; each is quoted once with the cart
    _remover_deal(shop)
    # then the queries are: session/auth, base quote, table, stock, one quote per suggestion
    # (27 today: about 5 per quote; a new query per candidate product would break this)
    with django_assert_max_num_queries(30):
        body = _add_ons(storefront, shop, "M1-S", "Y1-S", "L1-S").json()
    assert len(body["suggestions"]) == 3
