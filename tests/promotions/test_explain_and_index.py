"""Explanations, 凑单 hints and the offer index (SOP PROMO-03, PROMO-01)."""

from __future__ import annotations

import random
from decimal import Decimal

from storeops.promotions.engine import (
    Offer,
    OfferIndex,
    PromotionPolicy,
    Scope,
    ThresholdGift,
    member_price_offer,
    quote_best_price,
)

from .builders import NOW, cny, coupon, customer, line, percent, spend_save
from .random_carts import random_case


def test_promo_03_each_applied_offer_is_explained_in_chinese_and_english() -> None:
    # given a silver member, 满200减30 and a 满150减10 coupon on 120 + 90
    offers = [spend_save("m", (200, 30), (300, 50)), member_price_offer(PromotionPolicy())]
    # when quoted (9.5折 on both lines would miss 满200, so only line a takes it: 114 + 90 = 204)
    quote = quote_best_price(
        lines=[line("a", 120), line("b", 90)],
        customer=customer(tier="silver"),
        offers=offers,
        coupons=[coupon("X", 150, 10)],
        now=NOW,
    )
    # then one line per offer, zh and en, with the amounts taken off
    assert quote.payable == cny(164)
    assert [(e.zh, e.en) for e in quote.explanation] == [
        ("会员价9.5折：已减6.00元", "Member price (silver) 5% off: −6.00"),
        ("满200减30：已减30.00元", "Spend 200 save 30: −30.00"),
        ("满150减10券：已减10.00元", "Coupon: spend 150 save 10: −10.00"),
    ]
    assert [a.coupon_code for a in quote.applied] == [None, None, "X"]


def test_promo_03_store_discount_is_apportioned_by_largest_remainder() -> None:
    # given 满100减10 over three lines of 33.33, 33.33, 33.34
    quote = quote_best_price(
        lines=[line("a", "33.33"), line("b", "33.33"), line("c", "33.34")],
        customer=customer(),
        offers=[spend_save("m", (100, 10))],
        now=NOW,
    )
    # then the 10.00 splits 3.33 / 3.33 / 3.34 and the lines pay 30.00 / 30.00 / 30.00
    assert [ln.store_discount for ln in quote.lines] == [cny("3.33"), cny("3.33"), cny("3.34")]
    assert [ln.final_total for ln in quote.lines] == [cny(30), cny(30), cny(30)]


def test_promo_03_hint_says_how_much_more_to_reach_the_next_tier() -> None:
    # given 满200减30 / 满300减50 and a 250 cart
    quote = quote_best_price(
        lines=[line("a", 250)], customer=customer(), offers=[spend_save("m", (200, 30), (300, 50))], now=NOW
    )
    # then the 凑单 hint says 50 more saves 20 more
    assert [(h.offer_id, h.missing, h.gain, h.zh, h.en) for h in quote.hints] == [
        (
            "m",
            cny(50),
            cny(20),
            "再买50.00元可再减20.00元（满200减30，满300减50）",
            "Add 50.00 more to save 20.00 more (Spend 200 save 30, Spend 300 save 50)",
        )
    ]


def test_promo_01_gift_hint_and_gift_explanation() -> None:
    # given 满300赠 a tote bag on a 280 cart and on a 300 cart
    gift = Offer(id="gift", mechanic=ThresholdGift(threshold=cny(300), gift_sku_id="tote"))
    short = quote_best_price(lines=[line("a", 280)], customer=customer(), offers=[gift], now=NOW)
    full = quote_best_price(lines=[line("a", 300)], customer=customer(), offers=[gift], now=NOW)
    # then the short cart is told to add 20, the full cart gets the gift explained
    assert [h.zh for h in short.hints] == ["再买20.00元可获赠品（满300赠tote×1）"]
    assert [(e.zh, e.en) for e in full.explanation] == [
        ("满300赠tote×1：赠送tote×1", "Spend 300 get tote ×1: free tote ×1")
    ]


def test_promo_01_hints_are_capped_by_the_policy() -> None:
    # given three reachable thresholds and a policy allowing one hint
    offers = [spend_save("a", (200, 10)), spend_save("b", (300, 40)), spend_save("c", (400, 90))]
    quote = quote_best_price(
        lines=[line("x", 150)],
        customer=customer(),
        offers=offers,
        now=NOW,
        policy=PromotionPolicy(max_hints=1),
    )
    # then only the nearest one is given
    assert [(h.offer_id, h.missing) for h in quote.hints] == [("a", cny(50))]


def test_promo_01_offer_index_returns_only_offers_scoped_to_the_cart() -> None:
    # given offers scoped to a SKU, a product, a category elsewhere, and one store-wide
    offers = [
        percent("sku", "0.9", scope=Scope(sku_ids=frozenset({"a"}))),
        percent("prod", "0.9", scope=Scope(product_ids=frozenset({"p-b"}))),
        percent("other", "0.9", scope=Scope(category_ids=frozenset({"c9"}))),
        spend_save("all", (100, 10)),
    ]
    index = OfferIndex(offers)
    # when asked for a cart of a and b
    found = index.candidates([line("a", 10), line("b", 10)])
    # then the category offer elsewhere is left out
    assert [o.id for o in found] == ["all", "prod", "sku"]
    assert index.size == 4


def test_promo_01_quote_through_the_index_equals_quote_over_all_offers() -> None:
    # given random carts whose offers are mixed into a pool of offers for other categories
    rng = random.Random(7)
    noise = [percent(f"n{k}", "0.5", scope=Scope(category_ids=frozenset({f"x{k}"}))) for k in range(50)]
    for _ in range(200):
        case = random_case(rng)
        index = OfferIndex([*case.offers, *noise])
        # when quoted with the index's applicable offers and with the whole pool
        narrowed = quote_best_price(
            lines=case.lines,
            customer=case.customer,
            offers=index.applicable(case.lines, case.customer, case.now),
            coupons=case.coupons,
            now=case.now,
        )
        full = quote_best_price(
            lines=case.lines,
            customer=case.customer,
            offers=[*case.offers, *noise],
            coupons=case.coupons,
            now=case.now,
        )
        # then the quotes are identical
        assert narrowed == full


def test_mem_01_member_tier_rates_are_playbook_settings() -> None:
    # given a store whose playbook gives gold 9折 and silver 9.8折
    policy = PromotionPolicy(member_tier_rates=(("silver", Decimal("0.98")), ("gold", Decimal("0.9"))))
    offer = member_price_offer(policy)
    # when a gold and a silver member buy 100
    gold = quote_best_price(lines=[line("a", 100)], customer=customer(tier="gold"), offers=[offer], now=NOW)
    silver = quote_best_price(
        lines=[line("a", 100)], customer=customer(tier="silver"), offers=[offer], now=NOW
    )
    # then each pays the store's own rate
    assert (gold.payable, silver.payable) == (cny(90), cny(98))
