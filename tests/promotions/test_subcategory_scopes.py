"""Offers scoped to a category cover its subcategories (SOP PROMO-01/02 scopes over the
catalog's category tree): the engine's scope check, the offer index, and quote_cart."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storeops.catalog import services as catalog_services
from storeops.promotions import selectors, services
from storeops.promotions.engine import CartLine, Offer, OfferIndex, PercentageOff, Scope, quote_best_price
from storeops.promotions.engine.mechanics import line_in_scope
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product
from tests.promotions.builders import NOW, cny, customer

# a small tree: women > dresses > midi, women > shoes; men (a second root)
PARENT = {"women": None, "dresses": "women", "midi": "dresses", "shoes": "women", "men": None}


def ancestors(category: str) -> frozenset[str]:
    found, node = set(), PARENT[category]
    while node is not None:
        found.add(node)
        node = PARENT[node]
    return frozenset(found)


def a_line(sku: str, category: str, price: str = "100.00") -> CartLine:
    return CartLine(sku, f"p-{sku}", category, cny(price), 1, category_ancestors=ancestors(category))


def on(offer_id: str, *categories: str, rate: str = "0.9") -> Offer:
    return Offer(
        id=offer_id, mechanic=PercentageOff(Decimal(rate)), scope=Scope(category_ids=frozenset(categories))
    )


def test_promo_01_an_offer_on_a_parent_category_covers_lines_in_its_subcategories():
    # given an offer on "dresses"
    offer = on("o1", "dresses")
    # then a midi dress (dresses > midi) and a dress are covered, shoes and men's items are not
    assert line_in_scope(offer.scope, a_line("s1", "midi"))
    assert line_in_scope(offer.scope, a_line("s2", "dresses"))
    assert not line_in_scope(offer.scope, a_line("s3", "shoes"))
    assert not line_in_scope(offer.scope, a_line("s4", "women"))  # a parent is not covered by its child
    assert not line_in_scope(offer.scope, a_line("s5", "men"))


def test_promo_03_subcategory_line_gets_the_parent_offer_in_the_quote():
    # given 9折 on "women" and a midi dress at 100.00 plus men's shirt at 50.00
    lines = [a_line("s1", "midi"), a_line("s2", "men", "50.00")]
    offers = [on("women-90", "women")]
    # when quoted through the index
    found = OfferIndex(offers).applicable(lines, customer(), NOW)
    quote = quote_best_price(lines=lines, customer=customer(), offers=found, now=NOW)
    # then only the dress is discounted: 90.00 + 50.00
    assert [o.id for o in found] == ["women-90"]
    assert quote.payable.amount == Decimal("140.00")
    assert [line.final_total.amount for line in quote.lines] == [Decimal("90.00"), Decimal("50.00")]


@settings(max_examples=200, deadline=None)
@given(st.randoms(use_true_random=False))
def test_promo_03_index_candidates_equal_a_scan_of_every_offer_on_random_trees(rng: random.Random):
    # a random tree of 12 categories (each one's parent has a smaller number)
    parent = {f"c{i}": (f"c{rng.randrange(i)}" if i and rng.random() < 0.8 else None) for i in range(12)}

    def up(c: str) -> frozenset[str]:
        path, node = set(), parent[c]
        while node is not None:
            path.add(node)
            node = parent[node]
        return frozenset(path)

    offers = [
        Offer(
            id=f"o{k:02d}",
            mechanic=PercentageOff(Decimal("0.9")),
            scope=Scope(category_ids=frozenset(rng.sample(sorted(parent), rng.randint(1, 3)))),
        )
        for k in range(rng.randint(0, 15))
    ]
    lines = [
        CartLine(f"s{i}", f"p{i}", c, cny("10.00"), 1, category_ancestors=up(c))
        for i, c in enumerate(rng.choices(sorted(parent), k=rng.randint(1, 5)))
    ]
    # the scan restates the rule on its own: the offer names the line's category or one above it
    scanned = [
        o
        for o in offers
        if any(({line.category_id} | up(line.category_id)) & o.scope.category_ids for line in lines)
    ]
    assert OfferIndex(offers).candidates(lines) == scanned
    for o in offers:
        for line in lines:
            assert line_in_scope(o.scope, line) == bool(
                ({line.category_id} | up(line.category_id)) & o.scope.category_ids
            )


# ---- database: the category tree of the catalog ------------------------------------------------
T0 = dt.datetime(2026, 6, 18, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def tree(store):
    """服装 > 连衣裙 > 中长款 (a product P1 at 200.00 in 中长款) and 鞋 (P2 at 100.00)."""
    clothes = a_dress_category(store, code="clothes", name="服装", required_qualifications=[])
    dresses = a_dress_category(store, code="dress", name="连衣裙", parent=clothes, required_qualifications=[])
    midi = a_dress_category(store, code="midi", name="中长款", parent=dresses, required_qualifications=[])
    shoes = a_dress_category(store, code="shoes", name="鞋", required_qualifications=[])
    a_product(store, midi, "P1", price="200.00", complete=False)
    a_product(store, shoes, "P2", price="100.00", complete=False)
    offer = services.offer_create(
        actor=ACTOR, store=store, kind="percentage", params={"rate": "0.8"}, category_ids=[clothes.pk]
    )
    services.offer_set_status(actor=ACTOR, offer=offer, status="active")
    return {"clothes": clothes, "dresses": dresses, "midi": midi, "shoes": shoes, "offer": offer}


@pytest.mark.django_db
def test_promo_01_category_ancestors_are_read_in_one_query(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = selectors.category_ancestors(category_ids=[tree["midi"].pk, tree["shoes"].pk])
    assert found == {
        tree["midi"].pk: frozenset({tree["dresses"].pk, tree["clothes"].pk}),
        tree["shoes"].pk: frozenset(),
    }


@pytest.mark.django_db
def test_promo_01_quote_cart_applies_a_grandparent_category_offer(store, tree):
    # when P1 (in 服装 > 连衣裙 > 中长款) and P2 (鞋) are quoted with 8折 on 服装
    result = services.quote_cart(
        store=store,
        channel=None,
        lines=[services.CartItem("P1-S", 1), services.CartItem("P2-S", 1)],
        customer=services.Shopper(customer_ref="c1"),
        now=T0,
    )
    # then P1 pays 160.00 and P2 its list price: 260.00
    q = result.quote
    assert [a.offer_id for a in q.applied] == [f"of{tree['offer'].pk}"]
    assert [line.final_total.amount for line in q.lines] == [Decimal("160.00"), Decimal("100.00")]
    assert q.payable.amount == Decimal("260.00")


@pytest.mark.django_db
def test_promo_01_a_category_moved_out_of_the_subtree_loses_the_offer(store, tree):
    # given 中长款 moved to the root of the tree
    catalog_services.category_update(actor=ACTOR, category=tree["midi"], parent=None)
    # when P1 is quoted
    q = services.quote_cart(
        store=store,
        channel=None,
        lines=[services.CartItem("P1-S", 1)],
        customer=services.Shopper(customer_ref="c1"),
        now=T0,
    ).quote
    # then the 服装 offer no longer applies
    assert q.applied == ()
    assert q.payable.amount == Decimal("200.00")
