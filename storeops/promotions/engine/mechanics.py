"""What each mechanic does on its own (SOP PROMO-01/02): eligibility, item prices, reductions.

The optimiser decides which offers to combine; this module only answers "does offer X apply
here, and by how much". After item level every amount is a whole number of minor units
(``int``), which keeps the optimiser's arithmetic exact and fast; item-level prices are
rounded once per priced segment at :attr:`RoundingPoint.LINE_PRICE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from storeops.core.money import Money, RoundingPoint, exponent, round_at

from .offers import (
    AddOnDeal,
    CartLine,
    CouponTerms,
    CustomerContext,
    FlashSale,
    GroupBuy,
    HeldCoupon,
    Level,
    MemberPrice,
    NthItemOff,
    Offer,
    PercentageOff,
    Presale,
    Scope,
    ThresholdGift,
    ThresholdPercentOff,
    TieredReduction,
    TimeSlotOff,
)

# --- minor units -----------------------------------------------------------------------------


def to_units(value: Money) -> int:
    """A quantised amount as an int of minor units (分)."""
    return int(value.amount.scaleb(exponent(value.currency)))


def from_units(units: int, currency: str) -> Money:
    return Money(Decimal(units).scaleb(-exponent(currency)), currency)


# --- eligibility ---------------------------------------------------------------------------


def line_in_scope(scope: Scope, line: CartLine) -> bool:
    if scope.all_items:
        return True
    categories = scope.category_ids
    return (
        line.category_id in categories
        or line.product_id in scope.product_ids
        or (line.sku_id in scope.sku_ids)
        or (bool(line.category_ancestors) and not categories.isdisjoint(line.category_ancestors))
    )


def customer_in_scope(scope: Scope, customer: CustomerContext) -> bool:
    if scope.channels and customer.channel not in scope.channels:
        return False
    if scope.tiers and customer.tier not in scope.tiers:
        return False
    if scope.segments and not (scope.segments & customer.segments):
        return False
    return not (scope.new_users_only and not customer.is_new)


def _in_time_slot(mechanic: TimeSlotOff, now: datetime) -> bool:
    moment = now.time().replace(tzinfo=None)
    for start, end in mechanic.slots:
        if start < end:
            if start <= moment < end:
                return True
        elif moment >= start or moment < end:  # wraps midnight
            return True
    return False


def _running(offer: Offer, customer: CustomerContext, now: datetime) -> bool:
    mechanic = offer.mechanic
    if isinstance(mechanic, Presale):
        in_balance_phase = offer.id in customer.paid_deposits and (
            mechanic.balance_starts <= now < mechanic.balance_ends
        )
        # no deposit is taken for a balance that can no longer be paid
        return (offer.window.contains(now) and now < mechanic.balance_ends) or in_balance_phase
    return offer.window.contains(now)


def _condition_met(offer: Offer, customer: CustomerContext, now: datetime) -> bool:
    mechanic = offer.mechanic
    if isinstance(mechanic, MemberPrice):
        return mechanic.rate_for(customer.tier) is not None
    if isinstance(mechanic, GroupBuy):
        return offer.id in customer.joined_groups
    if isinstance(mechanic, TimeSlotOff):
        return _in_time_slot(mechanic, now)
    if isinstance(mechanic, FlashSale):
        return customer.prior_use.get(offer.id, 0) < mechanic.per_buyer_limit and mechanic.stock_remaining > 0
    return True


def offer_available(offer: Offer, customer: CustomerContext, now: datetime) -> bool:
    """Running now, for this customer (window, customer scope, per-user limit, conditions)."""
    if not (_running(offer, customer, now) and customer_in_scope(offer.scope, customer)):
        return False
    used = customer.prior_use.get(offer.id, 0)
    if offer.per_user_limit is not None and used >= offer.per_user_limit:
        return False
    return _condition_met(offer, customer, now)


def coupon_available(held: HeldCoupon, customer: CustomerContext, now: datetime) -> bool:
    return held.validity.contains(now) and offer_available(held.offer, customer, now)


# --- item level --------------------------------------------------------------------------------


def item_cap(
    offer: Offer, line_index: int, lines: Sequence[CartLine], customer: CustomerContext
) -> int | None:
    """How many units of the line the item offer may price; ``None`` means all of them."""
    mechanic = offer.mechanic
    if isinstance(mechanic, FlashSale):
        # one budget for the whole cart: the sale's stock left and the buyer's units left, less
        # what the lines before this one may take of it (two sizes of one flash-sale product
        # never get more flash-price units together than the budget)
        left_for_buyer = mechanic.per_buyer_limit - customer.prior_use.get(offer.id, 0)
        budget = max(0, min(mechanic.stock_remaining, left_for_buyer))
        for earlier in lines[:line_index]:
            if budget == 0:
                break
            if line_in_scope(offer.scope, earlier):
                budget -= min(budget, earlier.quantity)
        return budget
    if isinstance(mechanic, AddOnDeal):
        anchors = sum(
            other.quantity
            for i, other in enumerate(lines)
            if i != line_index and other.product_id in mechanic.anchor_product_ids
        )
        return anchors * mechanic.max_per_anchor
    return None


def _rate_for(offer: Offer, customer: CustomerContext) -> Decimal | None:
    mechanic = offer.mechanic
    if isinstance(mechanic, PercentageOff | TimeSlotOff):
        return mechanic.rate
    if isinstance(mechanic, MemberPrice):
        return mechanic.rate_for(customer.tier)
    return None


def _round_units(value: Decimal, point: RoundingPoint) -> int:
    """The minor-unit twin of :func:`round_at`: half-up to a whole number of minor units."""
    del point  # every point rounds the same way today; the name documents the call site
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def _scaled(value: Money) -> Decimal:
    return value.amount.scaleb(exponent(value.currency))


def item_segment_units(offer: Offer, line: CartLine, quantity: int, customer: CustomerContext) -> int:
    """The item-level price of ``quantity`` units of ``line`` under ``offer``, in minor units.

    Rounded once at :attr:`RoundingPoint.LINE_PRICE`; never negative and never above the
    list price of those units.
    """
    return segment_units(offer, to_units(line.unit_price), quantity, customer)


def segment_units(offer: Offer, unit: int, quantity: int, customer: CustomerContext) -> int:
    """:func:`item_segment_units` for a line whose unit price is ``unit`` minor units."""
    list_total = unit * quantity
    mechanic = offer.mechanic
    rate = _rate_for(offer, customer)
    if rate is not None:
        total = Decimal(list_total) * rate
    elif isinstance(mechanic, NthItemOff):
        discounted = quantity // mechanic.n
        total = Decimal(unit * (quantity - discounted)) + Decimal(unit) * mechanic.rate * discounted
    elif isinstance(mechanic, FlashSale | GroupBuy):
        total = _scaled(mechanic.price) * quantity
    elif isinstance(mechanic, Presale):
        total = Decimal((unit - to_units(presale_unit_discount(mechanic))) * quantity)
    elif isinstance(mechanic, AddOnDeal):
        total = (unit - _scaled(mechanic.amount_off)) * quantity
    else:
        raise TypeError(f"{offer.kind} is not an item-level mechanic")
    return min(max(_round_units(total, RoundingPoint.LINE_PRICE), 0), list_total)


def item_segment_total(offer: Offer, line: CartLine, quantity: int, customer: CustomerContext) -> Money:
    """:func:`item_segment_units` as Money."""
    return from_units(item_segment_units(offer, line, quantity, customer), line.unit_price.currency)


def presale_unit_discount(mechanic: Presale) -> Money:
    """定金膨胀 per unit: the deposit counts as ``k × D`` (capped), i.e. ``min(kD, cap) − D`` off."""
    counted = mechanic.deposit * mechanic.multiplier
    if mechanic.max_deduction is not None:
        counted = min(counted, mechanic.max_deduction)
    return round_at(counted - mechanic.deposit, RoundingPoint.DISCOUNT).clamp_min_zero()


# --- store level and coupons ------------------------------------------------------------------


def share_units(spend_units: int, rate_off: tuple[int, int]) -> int:
    """``spend × off ÷ den`` rounded half-up to the minor unit (a percentage's reduction,
    ``RoundingPoint.DISCOUNT``), in integers: ``rate_off`` is the exact fraction taken off."""
    off, den = rate_off
    return (2 * spend_units * off + den) // (2 * den)


def rate_off_fraction(rate: Decimal) -> tuple[int, int]:
    """The exact fraction ``1 − rate`` as (numerator, denominator): 0.9 → (1, 10)."""
    num, den = rate.as_integer_ratio()
    return den - num, den


def reduction_units(
    tiers: Sequence[tuple[int, int]],
    *,
    repeat: bool,
    cap: int | None,
    spend_units: int,
    rate_off: tuple[int, int] | None = None,
) -> int:
    """满减 (or 满X打Y折) on an in-scope spend, all in minor units; never more than the spend.

    ``tiers`` are (threshold, amount) pairs. Without ``repeat`` the best reached tier's
    amount; with it the best ``floor(spend / threshold) × amount``; then capped by ``cap``.
    With ``rate_off`` (满X打Y折) a reached tier takes :func:`share_units` of the whole spend
    instead of its amount. Every variant is non-decreasing in the spend (the search's bounds
    rely on it).
    """
    best = 0
    for threshold, amount in tiers:
        if repeat:
            best = max(best, (spend_units // threshold) * amount)
        elif spend_units >= threshold:
            best = max(best, amount if rate_off is None else share_units(spend_units, rate_off))
    if cap is not None:
        best = min(best, cap)
    return min(best, spend_units)


def tier_units(mechanic: TieredReduction) -> tuple[tuple[int, int], ...]:
    return tuple((to_units(t.threshold), to_units(t.amount)) for t in mechanic.tiers)


def tiered_reduction_units(mechanic: TieredReduction, spend_units: int) -> int:
    """满减 of ``mechanic`` on an in-scope spend (minor units)."""
    cap = None if mechanic.max_reduction is None else to_units(mechanic.max_reduction)
    return reduction_units(tier_units(mechanic), repeat=mechanic.repeat, cap=cap, spend_units=spend_units)


def percent_tier_units(mechanic: ThresholdPercentOff) -> tuple[tuple[int, int], ...]:
    """满X打Y折 as one tier (threshold, 0) for :func:`reduction_units` with ``rate_off``."""
    return ((to_units(mechanic.threshold), 0),)


def gift_granted(mechanic: ThresholdGift, spend_units: int) -> bool:
    return spend_units >= to_units(mechanic.threshold)


def coupon_value_units(terms: CouponTerms, basis_units: int) -> int | None:
    """A coupon's value on its in-scope amount after store level; ``None`` if unusable."""
    if basis_units < to_units(terms.threshold):
        return None
    return min(to_units(terms.amount), basis_units)


def next_threshold_units(offer: Offer, spend_units: int) -> tuple[int, int] | None:
    """The next spend (units) that earns more, with the extra reduction it earns (凑单)."""
    mechanic = offer.mechanic
    if isinstance(mechanic, TieredReduction):
        cap = None if mechanic.max_reduction is None else to_units(mechanic.max_reduction)
        return next_reduction_units(
            tier_units(mechanic), repeat=mechanic.repeat, cap=cap, spend_units=spend_units
        )
    if isinstance(mechanic, ThresholdPercentOff):
        cap = None if mechanic.max_reduction is None else to_units(mechanic.max_reduction)
        return next_reduction_units(
            percent_tier_units(mechanic),
            repeat=False,
            cap=cap,
            spend_units=spend_units,
            rate_off=rate_off_fraction(mechanic.rate),
        )
    if isinstance(mechanic, ThresholdGift):
        threshold = to_units(mechanic.threshold)
        return (threshold, 0) if spend_units < threshold else None
    if isinstance(mechanic, CouponTerms):
        threshold = to_units(mechanic.threshold)
        return (threshold, to_units(mechanic.amount)) if spend_units < threshold else None
    return None


def next_reduction_units(
    tiers: Sequence[tuple[int, int]],
    *,
    repeat: bool,
    cap: int | None,
    spend_units: int,
    rate_off: tuple[int, int] | None = None,
) -> tuple[int, int] | None:
    """:func:`next_threshold_units` of a 满减 given as in :func:`reduction_units`."""
    now = reduction_units(tiers, repeat=repeat, cap=cap, spend_units=spend_units, rate_off=rate_off)
    candidates: list[int] = []
    for threshold, _ in tiers:
        if repeat:
            candidates.append((spend_units // threshold + 1) * threshold)
        elif threshold > spend_units:
            candidates.append(threshold)
    for target in sorted(candidates):
        gain = reduction_units(tiers, repeat=repeat, cap=cap, spend_units=target, rate_off=rate_off) - now
        if gain > 0:
            return target, gain
    return None


def is_item_level(offer: Offer) -> bool:
    return offer.level is Level.ITEM
