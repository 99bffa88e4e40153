"""Offer rows: params validated through the engine's types, scope rows, status flow (PROMO-01)."""

from __future__ import annotations

import datetime as dt

import pytest

from storeops.audit.models import AuditEntry
from storeops.core.errors import InvalidTransition, ValidationError
from storeops.promotions import selectors, services
from storeops.promotions.engine import Kind, Level, PercentageOff, TieredReduction
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 6, 18, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def dress(store):
    return a_dress_category(store, required_qualifications=[])


def test_promo_01_tiered_reduction_offer_is_stored_with_store_level_and_maps_to_engine_types(store, dress):
    # given a 满200减30 / 满300减50 offer on one category
    offer = services.offer_create(
        actor=ACTOR,
        store=store,
        kind="tiered_reduction",
        title_zh="夏日满减",
        params={"tiers": [{"threshold": "200", "amount": "30"}, {"threshold": "300", "amount": "50"}]},
        category_ids=[dress.pk],
        exclusive_group="store",
    )
    # when it is loaded for the engine
    engine_offer = selectors.offer_to_engine(
        selectors.offer_get(store=store, offer_id=offer.pk), currency="CNY"
    )
    # then the level is derived and the scope is the category
    assert offer.level == "store"
    assert offer.all_items is False
    assert engine_offer.kind is Kind.TIERED_REDUCTION
    assert engine_offer.level is Level.STORE
    assert isinstance(engine_offer.mechanic, TieredReduction)
    assert [(str(t.threshold.amount), str(t.amount.amount)) for t in engine_offer.mechanic.tiers] == [
        ("200", "30"),
        ("300", "50"),
    ]
    assert engine_offer.scope.category_ids == frozenset({str(dress.pk)})
    assert engine_offer.exclusive_group == "store"
    assert AuditEntry.objects.filter(action="offer.create", object_id=str(offer.pk)).count() == 1


@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("percentage", {}, "params.rate"),
        ("percentage", {"rate": "abc"}, "params.rate"),
        ("nth_item", {"n": 2}, "params.rate"),
        ("tiered_reduction", {"tiers": "200-30"}, "params.tiers"),
        ("tiered_reduction", {"tiers": [{"threshold": "200"}]}, "params.tiers.0"),
        ("time_slot", {"slots": [["25:00", "26:00"]], "rate": "0.9"}, "params.slots.0"),
        ("flash_sale", {"price": "9.999", "per_buyer_limit": 1}, "params.price"),
        (
            "presale",
            {"deposit": "50", "multiplier": "2", "balance_starts": "2026-06-20"},
            "params.balance_starts",
        ),
        ("member_price", {"tier_rates": []}, "params.tier_rates"),
        ("bogus", {}, "kind"),
    ],
)
def test_promo_01_bad_params_are_refused_with_a_field_error_and_nothing_is_saved(store, kind, params, field):
    # given params that do not build the mechanic's engine type
    # when the offer is created
    with pytest.raises(ValidationError) as caught:
        services.offer_create(actor=ACTOR, store=store, kind=kind, params=params)
    # then the error names the field and no row exists
    assert field in caught.value.fields
    assert selectors.offer_list(store=store).count() == 0


def test_promo_01_a_rate_the_engine_refuses_is_reported_on_params(store):
    # given a percentage of 1.2 (the engine requires a rate in [0, 1))
    with pytest.raises(ValidationError) as caught:
        services.offer_create(actor=ACTOR, store=store, kind="percentage", params={"rate": "1.2"})
    # then the engine's reason is reported on params
    assert "1.2" in str(caught.value.fields["params"])


def test_promo_01_flash_sale_needs_a_stock_cap_and_loads_the_remaining_stock(store, dress):
    product = a_product(store, dress, "F1", complete=False)
    with pytest.raises(ValidationError) as caught:
        services.offer_create(
            actor=ACTOR, store=store, kind="flash_sale", params={"price": "99.00", "per_buyer_limit": 1}
        )
    assert "stock_cap" in caught.value.fields
    # given a flash sale with 50 units of campaign stock
    offer = services.offer_create(
        actor=ACTOR,
        store=store,
        kind="flash_sale",
        params={"price": "99.00", "per_buyer_limit": 2},
        stock_cap=50,
        product_ids=[product.pk],
    )
    # when loaded, then the engine sees 50 units remaining and the buyer limit
    mechanic = selectors.offer_to_engine(
        selectors.offer_get(store=store, offer_id=offer.pk), currency="CNY"
    ).mechanic
    assert (mechanic.stock_remaining, mechanic.per_buyer_limit, str(mechanic.price.amount)) == (
        50,
        2,
        "99.00",
    )


def test_promo_01_scope_ids_of_another_store_are_refused(store, dress, system):
    from storeops.stores import services as st

    other = st.store_create(actor=system, code="s2", name="别的店")
    foreign = a_dress_category(other, required_qualifications=[])
    with pytest.raises(ValidationError) as caught:
        services.offer_create(
            actor=ACTOR, store=store, kind="percentage", params={"rate": "0.9"}, category_ids=[foreign.pk]
        )
    assert set(caught.value.fields) == {"category_ids"}


def test_promo_01_offer_status_moves_draft_active_paused_ended_and_ended_is_final(store):
    offer = services.offer_create(actor=ACTOR, store=store, kind="percentage", params={"rate": "0.9"})
    assert offer.status == "draft"
    offer = services.offer_set_status(actor=ACTOR, offer=offer, status="active")
    offer = services.offer_set_status(actor=ACTOR, offer=offer, status="paused")
    offer = services.offer_set_status(actor=ACTOR, offer=offer, status="ended")
    assert offer.status == "ended"
    with pytest.raises(InvalidTransition):
        services.offer_set_status(actor=ACTOR, offer=offer, status="active")
    with pytest.raises(InvalidTransition):
        services.offer_update(actor=ACTOR, offer=offer, priority=3)


def test_promo_01_update_replaces_the_scope_and_revalidates_params(store, dress):
    product = a_product(store, dress, "U1", complete=False)
    offer = services.offer_create(actor=ACTOR, store=store, kind="percentage", params={"rate": "0.9"})
    assert offer.all_items is True
    # when the scope and rate change
    offer = services.offer_update(actor=ACTOR, offer=offer, product_ids=[product.pk], params={"rate": "0.8"})
    # then the offer covers only the product at 8折
    loaded = selectors.offer_to_engine(selectors.offer_get(store=store, offer_id=offer.pk), currency="CNY")
    assert offer.all_items is False
    assert loaded.scope.product_ids == frozenset({str(product.pk)})
    assert loaded.mechanic == PercentageOff(rate=__import__("decimal").Decimal("0.8"))
    # and a bad update changes nothing
    with pytest.raises(ValidationError):
        services.offer_update(actor=ACTOR, offer=offer, params={"rate": "2"})
    assert selectors.offer_get(store=store, offer_id=offer.pk).params == {"rate": "0.8"}


def test_promo_01_list_filters_by_kind_status_and_scope(store, dress):
    services.offer_create(actor=ACTOR, store=store, kind="percentage", params={"rate": "0.9"})
    cat = services.offer_create(
        actor=ACTOR, store=store, kind="nth_item", params={"n": 2, "rate": "0.5"}, category_ids=[dress.pk]
    )
    services.offer_set_status(actor=ACTOR, offer=cat, status="active")
    assert [o.pk for o in selectors.offer_list(store=store, scope="category")] == [cat.pk]
    assert [o.pk for o in selectors.offer_list(store=store, status="active")] == [cat.pk]
    assert selectors.offer_list(store=store, kind="percentage").count() == 1
    assert selectors.offer_list(store=store, scope="all").count() == 1
