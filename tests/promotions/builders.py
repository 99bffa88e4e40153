"""Small builders for promotion-engine tests and the pricing benchmark."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

from storeops.core.money import Money
from storeops.promotions.engine import (
    CartLine,
    CouponTerms,
    CustomerContext,
    HeldCoupon,
    Offer,
    PercentageOff,
    Scope,
    Tier,
    TieredReduction,
    Window,
)

NOW = datetime(2026, 6, 18, 20, 30, tzinfo=UTC)
ANY = Scope()
ALWAYS = Window()


def cny(amount: str | int) -> Money:
    return Money(str(amount))


def line(
    sku: str, price: str | int, quantity: int = 1, *, product: str = "", category: str = "c1"
) -> CartLine:
    return CartLine(
        sku_id=sku,
        product_id=product or f"p-{sku}",
        category_id=category,
        unit_price=cny(price),
        quantity=quantity,
    )


def customer(**kwargs: object) -> CustomerContext:
    return CustomerContext(customer_id="u1", **kwargs)  # type: ignore[arg-type]


def spend_save(
    offer_id: str,
    *tiers: tuple[int | str, int | str],
    repeat: bool = False,
    group: str | None = None,
    scope: Scope = ANY,
) -> Offer:
    return Offer(
        id=offer_id,
        mechanic=TieredReduction(tiers=tuple(Tier(cny(t), cny(a)) for t, a in tiers), repeat=repeat),
        exclusive_group=group,
        scope=scope,
    )


def percent(offer_id: str, rate: str, scope: Scope = ANY) -> Offer:
    return Offer(id=offer_id, mechanic=PercentageOff(Decimal(rate)), scope=scope)


def coupon(
    code: str,
    threshold: int | str,
    amount: int | str,
    *,
    stackable: bool = False,
    scope: Scope = ANY,
    group: str | None = None,
    validity: Window = ALWAYS,
    per_user_limit: int | None = None,
) -> HeldCoupon:
    offer = Offer(
        id=f"coupon-{code}",
        mechanic=CouponTerms(threshold=cny(threshold), amount=cny(amount), stackable=stackable),
        scope=scope,
        exclusive_group=group,
        per_user_limit=per_user_limit,
    )
    return HeldCoupon(code=code, offer=offer, validity=validity)


def at(hour: int, minute: int = 0) -> time:
    return time(hour, minute)
