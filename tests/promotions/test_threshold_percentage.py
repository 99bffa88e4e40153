"""满300打9折: a store-level percentage discount with a spend threshold (SOP PROMO-01/03/04),
computed by hand, against the brute-force reference, and through the database and the API."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from storeops.accounts.roles import Role
from storeops.core.errors import ValidationError
from storeops.promotions import selectors, services
from storeops.promotions.engine import (
    CouponTerms,
    HeldCoupon,
    Offer,
    PercentageOff,
    Scope,
    ThresholdPercentOff,
    quote_best_price,
)
from storeops.promotions.engine.optimiser import build_problem, optimise
from tests.catalog.db_builders import ACTOR, a_dress_category, a_product
from tests.promotions.builders import NOW, cny, customer, line, spend_save
from tests.promotions.reference import brute_force_best

from .random_carts import random_case


def spend_percent(offer_id: str, threshold: int, rate: str, *, cap: int | None = None, **kw) -> Offer:
    mechanic = ThresholdPercentOff(
        threshold=cny(threshold), rate=Decimal(rate), max_reduction=None if cap is None else cny(cap)
    )
    return Offer(id=offer_id, mechanic=mechanic, **kw)


def test_promo_01_spend_300_get_10_percent_off_by_hand():
    # given 满300打9折 and a cart of 199.00 + 2 × 66.60 = 332.20
    lines = [line("a", "199.00"), line("b", "66.60", 2)]
    quote = quote_best_price(
        lines=lines, customer=customer(), offers=[spend_percent("m9", 300, "0.9")], now=NOW
    )
    # then 10% of 332.20 = 33.22 comes off: 298.98, apportioned 19.90 / 13.32 by largest remainder
    assert quote.payable.amount == Decimal("298.98")
    assert [x.final_total.amount for x in quote.lines] == [Decimal("179.10"), Decimal("119.88")]
    assert quote.explanation[0].zh == "满300打9折：已减33.22元"


def test_promo_01_below_the_threshold_nothing_comes_off_and_the_hint_names_the_gap():
    lines = [line("a", "250.00")]
    quote = quote_best_price(
        lines=lines, customer=customer(), offers=[spend_percent("m9", 300, "0.9")], now=NOW
    )
    assert quote.payable.amount == Decimal("250.00")
    # 凑单: 50.00 more earns 10% of 300 = 30.00
    (hint,) = quote.hints
    assert (hint.missing.amount, hint.gain.amount) == (Decimal("50.00"), Decimal("30.00"))


def test_promo_01_the_cap_limits_the_reduction():
    # 满300打9折，最高减50 on 800.00: 10% would be 80.00, the cap keeps it at 50.00
    quote = quote_best_price(
        lines=[line("a", "800.00")],
        customer=customer(),
        offers=[spend_percent("m9", 300, "0.9", cap=50)],
        now=NOW,
    )
    assert quote.payable.amount == Decimal("750.00")


def test_promo_01_half_cent_reductions_round_half_up():
    # 5% off 300.10 = 15.005 -> 15.01 off
    quote = quote_best_price(
        lines=[line("a", "300.10")], customer=customer(), offers=[spend_percent("m95", 300, "0.95")], now=NOW
    )
    assert quote.payable.amount == Decimal("285.09")


def test_promo_03_it_stacks_on_item_prices_and_under_coupons_and_the_best_store_offer_wins():
    # given 8.5折 on item a, 满300打9折 and 满300减20 in the same exclusive group, and a 满250减15 coupon
    lines = [line("a", "200.00"), line("b", "150.00")]
    offers = [
        Offer(id="i85", mechanic=PercentageOff(Decimal("0.85")), scope=Scope(sku_ids=frozenset({"a"}))),
        spend_percent("m9", 300, "0.9", exclusive_group="order"),
        spend_save("m20", (300, 20), group="order"),
    ]
    coupon = HeldCoupon(
        code="C1", offer=Offer(id="c1", mechanic=CouponTerms(threshold=cny(250), amount=cny(15)))
    )
    quote = quote_best_price(lines=lines, customer=customer(), offers=offers, coupons=[coupon], now=NOW)
    # then: item level 170.00 + 150.00 = 320.00; 9折 takes 32.00 (beats 减20) -> 288.00; coupon 15 -> 273.00
    assert quote.payable.amount == Decimal("273.00")
    assert [a.offer_id for a in quote.applied] == ["i85", "m9", "c1"]


def test_promo_03_threshold_percentage_agrees_with_the_brute_force_reference():
    # random small carts whose store offers include 满X打Y折 (with and without caps)
    rng = random.Random(20261122)
    checked = 0
    for _ in range(600):
        case = random_case(rng, max_store=3)
        if not any(isinstance(o.mechanic, ThresholdPercentOff) for o in case.offers):
            continue
        checked += 1
        problem = build_problem(
            lines=case.lines, customer=case.customer, offers=case.offers, coupons=case.coupons, now=case.now
        )
        engine = optimise(problem).result
        brute = brute_force_best(
            lines=case.lines, customer=case.customer, offers=case.offers, coupons=case.coupons, now=case.now
        )
        assert engine.key == brute.key, case
    assert checked > 100


# ---- database and API ---------------------------------------------------------------------------
T0 = dt.datetime(2026, 6, 18, 12, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_promo_01_threshold_percentage_offer_is_stored_loaded_and_quoted(store, api_as):
    dress = a_dress_category(store, required_qualifications=[])
    a_product(store, dress, "P1", price="199.00", complete=False)
    client = api_as(Role.OPERATIONS)
    # when 满300打9折 is created through the API
    response = client.post(
        f"/promotions/{store.pk}/offers",
        {
            "kind": "threshold_percentage",
            "title_zh": "满300打9折",
            "params": {"threshold": "300", "rate": "0.9"},
        },
    )
    assert response.status_code == 201, response.content
    offer_id = response.json()["id"]
    offer = selectors.offer_get(store=store, offer_id=offer_id)
    assert offer.level == "store"
    services.offer_set_status(actor=ACTOR, offer=offer, status="active")
    # then two P1-S (398.00) pay 358.20
    q = services.quote_cart(
        store=store,
        channel=None,
        lines=[services.CartItem("P1-S", 2)],
        customer=services.Shopper(customer_ref="c1"),
        now=T0,
    ).quote
    assert q.payable.amount == Decimal("358.20")
    assert [a.offer_id for a in q.applied] == [f"of{offer_id}"]


@pytest.mark.django_db
def test_promo_01_threshold_percentage_with_a_bad_rate_is_refused(store):
    with pytest.raises(ValidationError) as err:
        services.offer_create(
            actor=ACTOR, store=store, kind="threshold_percentage", params={"threshold": "300", "rate": "1.5"}
        )
    assert "params" in err.value.fields
