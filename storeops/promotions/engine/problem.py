"""The optimiser's input, precomputed once per quote: live offers, line options, terms in 分.

:func:`build_problem` filters what is available now for the customer, prices every line's
item options (:mod:`.items`) and turns store offers and coupons into integer terms, so the
search never touches ``Money``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .items import ItemOption, options_for_line
from .mechanics import (
    coupon_available,
    item_cap,
    offer_available,
    percent_tier_units,
    rate_off_fraction,
    tier_units,
    to_units,
)
from .offers import (
    CartLine,
    CouponTerms,
    CustomerContext,
    HeldCoupon,
    Level,
    Offer,
    Scope,
    ThresholdGift,
    ThresholdPercentOff,
    TieredReduction,
)


@dataclass(frozen=True, slots=True)
class StoreTerm:
    tiers: tuple[tuple[int, int], ...]
    repeat: bool
    cap: int | None
    gift_threshold: int | None  # set for 满赠, which reduces nothing
    rate_off: tuple[int, int] | None = None  # set for 满X打Y折: the fraction of the spend taken off


@dataclass(frozen=True, slots=True)
class CouponTerm:
    threshold: int
    amount: int
    stackable: bool
    group: str | None


@dataclass(frozen=True, slots=True)
class Problem:
    """Everything the optimiser needs, precomputed once per quote."""

    currency: str
    lines: tuple[CartLine, ...]
    list_units: tuple[int, ...]
    options: tuple[tuple[ItemOption, ...], ...]  # per line, ascending; one is the list price
    store_offers: tuple[Offer, ...]
    store_scopes: tuple[tuple[int, ...], ...]
    store_terms: tuple[StoreTerm, ...]
    coupons: tuple[HeldCoupon, ...]
    coupon_scopes: tuple[tuple[int, ...], ...]
    coupon_terms: tuple[CouponTerm, ...]


def _store_term(offer: Offer) -> StoreTerm:
    mechanic = offer.mechanic
    if isinstance(mechanic, TieredReduction):
        cap = None if mechanic.max_reduction is None else to_units(mechanic.max_reduction)
        return StoreTerm(tier_units(mechanic), mechanic.repeat, cap, None)
    if isinstance(mechanic, ThresholdPercentOff):
        cap = None if mechanic.max_reduction is None else to_units(mechanic.max_reduction)
        return StoreTerm(percent_tier_units(mechanic), False, cap, None, rate_off_fraction(mechanic.rate))
    assert isinstance(mechanic, ThresholdGift)
    return StoreTerm((), False, None, to_units(mechanic.threshold))


def _coupon_term(coupon: HeldCoupon) -> CouponTerm:
    terms = coupon.offer.mechanic
    assert isinstance(terms, CouponTerms)
    return CouponTerm(
        to_units(terms.threshold), to_units(terms.amount), terms.stackable, coupon.offer.exclusive_group
    )


def build_problem(
    *,
    lines: Sequence[CartLine],
    customer: CustomerContext,
    offers: Sequence[Offer],
    coupons: Sequence[HeldCoupon],
    now: datetime,
) -> Problem:
    """Filter what is available now for this customer and precompute every line's options."""
    currencies = {line.unit_price.currency for line in lines}
    if len(currencies) > 1:
        raise ValueError("a cart is priced in one currency")
    currency = currencies.pop() if currencies else "CNY"
    levels = [offer.level for offer in offers]
    for offer, level in zip(offers, levels, strict=True):
        if level is Level.COUPON:
            raise ValueError(f"coupon offer {offer.id} must be passed as a held coupon")
    live = sorted(
        (
            (offer, level)
            for offer, level in zip(offers, levels, strict=True)
            if offer_available(offer, customer, now)
        ),
        key=lambda pair: pair[0].id,
    )
    held: dict[str, HeldCoupon] = {}
    for coupon in sorted(coupons, key=lambda c: (c.offer.id, c.code)):
        # one copy of a coupon offer per order
        if coupon.offer.id not in held and coupon_available(coupon, customer, now):
            held[coupon.offer.id] = coupon
    usable = tuple(held.values())

    covered: dict[Scope, tuple[int, ...]] = {}  # scope -> the lines it covers
    everything = tuple(range(len(lines)))

    def scope_of(offer: Offer) -> tuple[int, ...]:
        """:func:`line_in_scope` over the cart, once per distinct scope."""
        scope = offer.scope
        found = covered.get(scope)
        if found is None:
            if scope.all_items:
                found = everything
            else:
                categories, products, skus = scope.category_ids, scope.product_ids, scope.sku_ids
                found = tuple(
                    i
                    for i, line in enumerate(lines)
                    if line.category_id in categories
                    or line.product_id in products
                    or line.sku_id in skus
                    or (line.category_ancestors and not categories.isdisjoint(line.category_ancestors))
                )
            covered[scope] = found
        return found

    covering: list[list[tuple[Offer, int | None]]] = [[] for _ in lines]
    store_offers: list[Offer] = []
    for offer, level in live:
        if level is Level.ITEM:
            for i in scope_of(offer):
                covering[i].append((offer, item_cap(offer, i, lines, customer)))
        elif level is Level.STORE:
            store_offers.append(offer)
    unit_prices = [to_units(line.unit_price) for line in lines]
    options = tuple(
        options_for_line(line, unit, line_covering, customer)
        for line, unit, line_covering in zip(lines, unit_prices, covering, strict=True)
    )

    return Problem(
        currency=currency,
        lines=tuple(lines),
        list_units=tuple(unit * line.quantity for unit, line in zip(unit_prices, lines, strict=True)),
        options=options,
        store_offers=tuple(store_offers),
        store_scopes=tuple(scope_of(o) for o in store_offers),
        store_terms=tuple(_store_term(o) for o in store_offers),
        coupons=usable,
        coupon_scopes=tuple(scope_of(c.offer) for c in usable),
        coupon_terms=tuple(_coupon_term(c) for c in usable),
    )
