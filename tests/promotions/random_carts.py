"""Random small carts with offers near their thresholds, for the brute-force comparison.

Thresholds are drawn around the cart's own subtotals so that the interesting cases (an item
discount that loses a 满减, a 满减 that loses a coupon) come up often.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from storeops.core.money import Money
from storeops.promotions.engine import (
    AddOnDeal,
    CartLine,
    CouponTerms,
    CustomerContext,
    FlashSale,
    GroupBuy,
    HeldCoupon,
    MemberPrice,
    NthItemOff,
    Offer,
    PercentageOff,
    Presale,
    Scope,
    ThresholdGift,
    ThresholdPercentOff,
    Tier,
    TieredReduction,
    TimeSlotOff,
)

from .builders import NOW, at

CATEGORIES = ("c1", "c2", "c3")


@dataclass(frozen=True, slots=True)
class Case:
    lines: tuple[CartLine, ...]
    customer: CustomerContext
    offers: tuple[Offer, ...]
    coupons: tuple[HeldCoupon, ...]
    now: datetime


def _cents(rng: random.Random, low: int, high: int) -> Money:
    return Money(Decimal(rng.randint(low, high)) / 100)


def _rate(rng: random.Random) -> Decimal:
    return Decimal(rng.choice(["0.5", "0.7", "0.8", "0.85", "0.88", "0.9", "0.95"]))


def _scope(rng: random.Random, lines: tuple[CartLine, ...]) -> Scope:
    roll = rng.random()
    if roll < 0.5:
        return Scope()
    if roll < 0.8:
        return Scope(category_ids=frozenset({rng.choice(CATEGORIES)}))
    return Scope(sku_ids=frozenset({rng.choice(lines).sku_id}))


def _item_offer(rng: random.Random, offer_id: str, lines: tuple[CartLine, ...]) -> Offer:
    kind = rng.randrange(8)
    scope = _scope(rng, lines)
    price = _cents(rng, 500, 15000)
    mechanic: object
    if kind == 0:
        mechanic = PercentageOff(_rate(rng))
    elif kind == 1:
        mechanic = NthItemOff(n=2, rate=_rate(rng))
    elif kind == 2:
        mechanic = FlashSale(
            price=price, stock_remaining=rng.randint(1, 3), per_buyer_limit=rng.randint(1, 2)
        )
    elif kind == 3:
        mechanic = MemberPrice(tier_rates=(("silver", Decimal("0.95")), ("diamond", Decimal("0.88"))))
    elif kind == 4:
        mechanic = GroupBuy(price=price, group_size=3, time_limit_hours=24)
    elif kind == 5:
        mechanic = Presale(
            deposit=_cents(rng, 500, 3000),
            multiplier=Decimal(rng.choice(["1.5", "2", "3"])),
            balance_starts=NOW + timedelta(days=1),
            balance_ends=NOW + timedelta(days=3),
            max_deduction=rng.choice([None, _cents(rng, 1000, 6000)]),
        )
    elif kind == 6:
        anchor = rng.choice(lines).product_id
        mechanic = AddOnDeal(anchor_product_ids=frozenset({anchor}), amount_off=_cents(rng, 100, 3000))
    else:
        mechanic = TimeSlotOff(slots=((at(20), at(22)),), rate=_rate(rng))
    return Offer(id=offer_id, mechanic=mechanic, scope=scope, priority=rng.randint(0, 2))  # type: ignore[arg-type]


def _threshold_near(rng: random.Random, subtotal: int) -> Money:
    return Money(Decimal(max(100, int(subtotal * rng.uniform(0.5, 1.15)))) / 100)


def random_case(
    rng: random.Random, *, max_lines: int = 3, max_item: int = 3, max_store: int = 3, max_coupons: int = 3
) -> Case:
    lines = tuple(
        CartLine(
            sku_id=f"s{i}",
            product_id=f"p{rng.randint(0, 3)}",
            category_id=rng.choice(CATEGORIES),
            unit_price=_cents(rng, 1000, 20000),
            quantity=rng.choice([1, 1, 1, 2, 3]),
        )
        for i in range(rng.randint(1, max_lines))
    )
    subtotal = sum(int(line.unit_price.amount * 100) * line.quantity for line in lines)
    offers: list[Offer] = [_item_offer(rng, f"i{k}", lines) for k in range(rng.randint(0, max_item))]
    for k in range(rng.randint(0, max_store)):
        group = rng.choice([None, "g1", "g2"])
        roll = rng.random()
        if roll < 0.25:
            mechanic: TieredReduction | ThresholdGift | ThresholdPercentOff = ThresholdGift(
                threshold=_threshold_near(rng, subtotal), gift_sku_id=f"gift{k}"
            )
        elif roll < 0.45:  # 满X打Y折, sometimes with a cap
            mechanic = ThresholdPercentOff(
                threshold=_threshold_near(rng, subtotal),
                rate=Decimal(rng.choice(["0.8", "0.85", "0.9", "0.95", "0.88"])),
                max_reduction=None if rng.random() < 0.6 else _cents(rng, 300, 5000),
            )
        else:
            low = _threshold_near(rng, subtotal)
            tiers = [Tier(low, _cents(rng, 500, max(600, int(low.amount * 30))))]
            if rng.random() < 0.4:
                tiers.append(Tier(low * 2, tiers[0].amount * 2 + Money(rng.randint(0, 20))))
            mechanic = TieredReduction(tiers=tuple(tiers), repeat=rng.random() < 0.3)
        offers.append(Offer(id=f"s{k}", mechanic=mechanic, scope=_scope(rng, lines), exclusive_group=group))
    coupons = []
    for k in range(rng.randint(0, max_coupons)):
        threshold = Money(0) if rng.random() < 0.2 else _threshold_near(rng, subtotal)
        terms = CouponTerms(threshold=threshold, amount=_cents(rng, 300, 6000), stackable=rng.random() < 0.3)
        offer = Offer(
            id=f"c{k}", mechanic=terms, scope=_scope(rng, lines), exclusive_group=rng.choice([None, "cg"])
        )
        coupons.append(HeldCoupon(code=f"CODE{k}", offer=offer))
    customer = CustomerContext(
        customer_id="u",
        tier=rng.choice([None, "silver", "diamond"]),
        joined_groups=frozenset(o.id for o in offers if rng.random() < 0.7),
        prior_use={o.id: rng.randint(0, 1) for o in offers if rng.random() < 0.2},
    )
    return Case(lines, customer, tuple(offers), tuple(coupons), NOW)
