"""Loading applicable offers from the database and quoting a cart (SOP PROMO-01..04, MEM-01)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from storeops.accounts.roles import Role
from storeops.core.errors import ValidationError
from storeops.promotions import selectors, services
from storeops.stores import services as st
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 6, 18, 12, 0, tzinfo=dt.UTC)


def active(store, **data):
    offer = services.offer_create(actor=ACTOR, store=store, **data)
    return services.offer_set_status(actor=ACTOR, offer=offer, status="active")


@pytest.fixture
def shop(store):
    """A dress (P1-S/P1-M at 199.00) and shoes (P2-S/P2-M at 99.00) in two categories."""
    dress = a_dress_category(store, required_qualifications=[])
    shoes = a_dress_category(store, code="shoes", name="鞋", required_qualifications=[])
    other = a_dress_category(store, code="bags", name="包", required_qualifications=[])
    p1 = a_product(store, dress, "P1", price="199.00", complete=False)
    p2 = a_product(store, shoes, "P2", price="99.00", complete=False)
    reduction = active(
        store,
        kind="tiered_reduction",
        title_zh="满200减30",
        title_en="Spend 200 save 30",
        params={"tiers": [{"threshold": "200", "amount": "30"}, {"threshold": "300", "amount": "50"}]},
    )
    ninety = active(store, kind="percentage", params={"rate": "0.9"}, sku_ids=[p1.skus.get(code="P1-S").pk])
    # never loaded: a draft, an offer that has ended, one scoped to a category not in the cart
    services.offer_create(actor=ACTOR, store=store, kind="percentage", params={"rate": "0.1"})
    active(store, kind="percentage", params={"rate": "0.2"}, ends_at=T0 - dt.timedelta(hours=1))
    active(store, kind="percentage", params={"rate": "0.3"}, category_ids=[other.pk])
    return {"dress": dress, "shoes": shoes, "p1": p1, "p2": p2, "reduction": reduction, "ninety": ninety}


def cart(*items):
    return [services.CartItem(code, qty) for code, qty in items]


def test_promo_03_applicable_offers_load_by_scope_and_window_only(store, shop):
    # when the offers for a cart of P1-S and P2-S are loaded at T0
    loaded = selectors.offers_applicable(
        store=store,
        sku_ids=[shop["p1"].skus.get(code="P1-S").pk, shop["p2"].skus.get(code="P2-S").pk],
        product_ids=[shop["p1"].pk, shop["p2"].pk],
        category_ids=[shop["dress"].pk, shop["shoes"].pk],
        now=T0,
    )
    # then only the store-wide reduction and the SKU's 9折 come back
    assert [o.id for o in loaded] == [f"of{shop['reduction'].pk}", f"of{shop['ninety'].pk}"]


def test_promo_03_loading_offers_takes_the_same_few_queries_for_five_or_fifty_offers(
    store, shop, django_assert_num_queries
):
    sku = shop["p1"].skus.get(code="P1-S")
    args = {
        "store": store,
        "sku_ids": [sku.pk],
        "product_ids": [shop["p1"].pk],
        "category_ids": [shop["dress"].pk],
        "now": T0,
    }
    # given 45 more active offers on the dress category
    for n in range(45):
        active(store, kind="percentage", params={"rate": "0.95"}, category_ids=[shop["dress"].pk], priority=n)
    selectors.offer_cache_clear()
    # when they are loaded the first time, then three queries suffice: which offers, their
    # rows, their scope rows
    with django_assert_num_queries(3):
        loaded = selectors.offers_applicable(**args)
    # and later quotes need one query while no offer changed
    with django_assert_num_queries(1):
        again = selectors.offers_applicable(**args)
    assert len(loaded) == 47
    assert again == loaded


def test_promo_01_a_changed_offer_is_rebuilt_on_the_next_load(store, shop):
    args = {"store": store, "sku_ids": [], "product_ids": [], "category_ids": [], "now": T0}
    before = selectors.offers_applicable(**args)
    # when the store-wide reduction changes its tiers
    services.offer_update(
        actor=ACTOR, offer=shop["reduction"], params={"tiers": [{"threshold": "100", "amount": "15"}]}
    )
    after = selectors.offers_applicable(**args)
    # then the next load carries the new terms
    assert [str(t.amount.amount) for t in before[0].mechanic.tiers] == ["30", "50"]
    assert [str(t.amount.amount) for t in after[0].mechanic.tiers] == ["15"]


def test_promo_03_quote_cart_applies_item_then_store_then_coupon_and_apportions(store, shop):
    # given a coupon 满200减20 held by c1
    template = services.coupon_template_create(
        actor=ACTOR, store=store, name="满200减20", kind="store_threshold", threshold="200", amount="20"
    )
    coupon = services.coupon_issue(actor=ACTOR, template=template, customer_ref="c1", now=T0)
    # when c1 quotes P1-S (199.00, 9折 → 179.10) and P2-S (99.00)
    result = services.quote_cart(
        store=store,
        channel=None,
        lines=cart(("P1-S", 1), ("P2-S", 1)),
        customer=services.Shopper(customer_ref="c1"),
        coupon_codes=[coupon.code],
        now=T0,
    )
    q = result.quote
    # then 278.10 after item level, 满200减30 → 248.10, coupon 20 → 228.10
    assert (q.list_total.amount, q.payable.amount, q.savings.amount) == (
        Decimal("298.00"),
        Decimal("228.10"),
        Decimal("69.90"),
    )
    assert [a.offer_id for a in q.applied] == [
        f"of{shop['ninety'].pk}",
        f"of{shop['reduction'].pk}",
        f"cp{coupon.code}",
    ]
    assert [line.final_total.amount for line in q.lines] == [Decimal("146.90"), Decimal("81.20")]
    assert sum(line.final_total.amount for line in q.lines) == q.payable.amount
    assert q.explanation[1].zh == "满200减30：已减30.00元"
    assert [s.code for s in result.skus] == ["P1-S", "P2-S"]


def test_mem_01_member_tier_price_comes_from_the_playbook(store, shop):
    # given the store sets gold members to 8.5折
    st.playbook_update(actor=ACTOR, store=store, values={"tier_discount_gold": "0.85"})
    # when a gold member quotes P2-S x2 (198.00)
    q = services.quote_cart(
        store=store,
        channel=None,
        lines=cart(("P2-S", 2)),
        customer=services.Shopper(customer_ref="g1", tier="gold"),
        now=T0,
    ).quote
    # then the member price 168.30 applies, and 满200减30 is not reached (168.30 < 200)
    assert q.payable.amount == Decimal("168.30")
    assert [a.offer_id for a in q.applied] == ["member-tier-price"]
    assert q.hints[0].zh.startswith("再买31.70元")


def test_promo_02_quote_refuses_unknown_foreign_or_used_coupons(store, shop):
    template = services.coupon_template_create(
        actor=ACTOR, store=store, name="无门槛5元", kind="no_threshold", amount="5"
    )
    theirs = services.coupon_issue(actor=ACTOR, template=template, customer_ref="c2", now=T0)
    with pytest.raises(ValidationError) as caught:
        services.quote_cart(
            store=store,
            channel=None,
            lines=cart(("P2-S", 1), ("NOPE", 1)),
            customer=services.Shopper(customer_ref="c1"),
            coupon_codes=[theirs.code],
            now=T0,
        )
    assert set(caught.value.fields) == {"lines.1.sku", f"coupon_codes.{theirs.code}"}


def test_promo_03_quote_api_returns_lines_applied_offers_and_explanations(store, shop, api_as):
    # given a marketing user (promotions.view_offer)
    client = api_as(Role.MARKETING)
    # when the cart is quoted through the API
    response = client.post(
        f"/promotions/{store.pk}/quote",
        {"lines": [{"sku": "P1-S", "quantity": 1}, {"sku": "P2-S", "quantity": 1}], "at": T0.isoformat()},
    )
    # then the body carries per-line prices, applied offers and zh/en explanations
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["list_total"], body["payable"]) == ("298.00", "248.10")
    assert [line["final_total"] for line in body["lines"]] == ["159.78", "88.32"]
    assert [a["en"] for a in body["applied"]][1] == "Spend 200 save 30: −30.00"
    assert body["hints"][0]["offer_id"] == f"of{shop['reduction'].pk}"


def test_promo_01_offer_crud_api_creates_activates_and_lists_with_filters(store, shop, api_as):
    client = api_as(Role.OPERATIONS)
    created = client.post(
        f"/promotions/{store.pk}/offers",
        {"kind": "nth_item", "params": {"n": 2, "rate": "0.5"}, "category_ids": [shop["shoes"].pk]},
    )
    assert created.status_code == 201, created.content
    offer_id = created.json()["id"]
    assert created.json()["category_ids"] == [shop["shoes"].pk]
    patched = client.patch(f"/promotions/{store.pk}/offers/{offer_id}", {"status": "active", "priority": 5})
    assert (patched.json()["status"], patched.json()["priority"]) == ("active", 5)
    listed = client.get(f"/promotions/{store.pk}/offers", kind="nth_item", status="active", scope="category")
    assert [o["id"] for o in listed.json()["items"]] == [offer_id]
    bad = client.post(
        f"/promotions/{store.pk}/offers", {"kind": "nth_item", "params": {"n": 1, "rate": "0.5"}}
    )
    assert bad.status_code == 422
    assert "params" in bad.json()["fields"]


def test_promo_03_console_playground_shows_the_best_price_and_its_explanation(store, shop, make_user):
    from django.test import Client

    # given an operations user in the console
    client = Client()
    client.force_login(make_user(Role.OPERATIONS))
    # when two SKUs are quoted in the playground
    response = client.get("/promotions/quote/?sku=P1-S&qty=1&sku=P2-S&qty=1")
    # then the payable and each saving are shown
    body = response.content.decode()
    assert response.status_code == 200
    assert "248.10" in body
    assert "满200减30：已减30.00元" in body


def test_promo_01_console_offer_list_filters_by_kind(store, shop, make_user):
    from django.test import Client

    client = Client()
    client.force_login(make_user(Role.MARKETING))
    response = client.get("/promotions/offers/?kind=tiered_reduction")
    assert response.status_code == 200
    assert [o.pk for o in response.context["page"].object_list] == [shop["reduction"].pk]
