"""The quote: (cart, customer, offers, coupons, now) -> best price, explained (PROMO-03/04).

:func:`quote_best_price` is pure: no ORM, no I/O, no clock (``now`` is passed in). The same
inputs always give the same quote. A cart with no offers costs its list price; no line and
no total is ever negative; the lines' final totals add up to the payable exactly, so
refunding every line returns exactly what was paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from storeops.core.money import Money, exponent, money_sum, split_evenly

from .explain import gift_text, hint_text, mechanic_label, offer_label, presale_text, saving_text
from .mechanics import next_reduction_units, reduction_units, to_units
from .offers import (
    CartLine,
    CustomerContext,
    HeldCoupon,
    Kind,
    Level,
    Offer,
    Presale,
    PromotionPolicy,
    ThresholdGift,
    TieredReduction,
)
from .optimiser import ItemOption, Plan, Problem, build_problem, optimise


@dataclass(frozen=True, slots=True)
class LineAdjustment:
    """A discount one offer gives one line (positive amount)."""

    offer_id: str
    level: Level
    amount: Money
    quantity: int = 0  # item level: the units of the line the offer priced (a flash sale's units)


@dataclass(frozen=True, slots=True)
class QuotedLine:
    index: int
    sku_id: str
    quantity: int
    list_total: Money
    item_total: Money  # after the item-level price
    store_discount: Money  # apportioned share of store-level offers
    coupon_discount: Money  # apportioned share of coupons
    final_total: Money  # what the customer pays for the line
    adjustments: tuple[LineAdjustment, ...]
    deposit: Money | None = None  # presale: paid now
    balance: Money | None = None  # presale: paid in the balance window
    presale: Presale | None = None  # the presale offer's terms (balance window) when it applies
    presale_offer: str | None = None  # that presale offer's id

    def unit_amounts(self) -> list[Money]:
        """What each unit was paid, summing exactly to ``final_total`` (for partial refunds)."""
        return split_evenly(self.final_total, self.quantity)


@dataclass(frozen=True, slots=True)
class AppliedOffer:
    offer_id: str
    kind: Kind
    level: Level
    amount: Money  # total discount it gave
    zh: str
    en: str
    coupon_code: str | None = None


@dataclass(frozen=True, slots=True)
class GiftGrant:
    offer_id: str
    sku_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Hint:
    """凑单: spend ``missing`` more on the offer's lines to earn more."""

    offer_id: str
    missing: Money
    gain: Money | None  # None for a gift
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class ExplanationLine:
    offer_id: str | None
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Quote:
    currency: str
    lines: tuple[QuotedLine, ...]
    applied: tuple[AppliedOffer, ...]
    gifts: tuple[GiftGrant, ...]
    hints: tuple[Hint, ...]
    explanation: tuple[ExplanationLine, ...]
    list_total: Money
    payable: Money
    savings: Money
    deposit_total: Money  # presale deposits within ``payable`` (zero without presale)
    balance_total: Money  # ``payable - deposit_total``

    def refund_for(self, line_index: int, quantity: int, *, already_refunded: int = 0) -> Money:
        """Exactly what was paid for ``quantity`` more units of a line (PROMO-04, AS-04)."""
        line = self.lines[line_index]
        if quantity < 0 or already_refunded < 0 or already_refunded + quantity > line.quantity:
            raise ValueError("cannot refund more units than the line has")
        units = line.unit_amounts()
        return money_sum(units[already_refunded : already_refunded + quantity], self.currency)


def quote_best_price(
    *,
    lines: Sequence[CartLine],
    customer: CustomerContext,
    offers: Sequence[Offer],
    coupons: Sequence[HeldCoupon] = (),
    now: datetime,
    policy: PromotionPolicy | None = None,
) -> Quote:
    """The customer's lowest price under the stacking levels, apportioned and explained."""
    policy = policy or PromotionPolicy()
    problem = build_problem(lines=lines, customer=customer, offers=offers, coupons=coupons, now=now)
    plan = optimise(problem)
    return assemble_quote(problem, plan, customer, policy)


def _reached_label(
    offer: Offer, customer: CustomerContext, tiers: Sequence[tuple[int, int]], spend: int
) -> tuple[str, str]:
    """A multi-tier 满减 explained by the tier it reached: "满200减30", not every tier.

    ``tiers`` are the offer's tiers in minor units (its :class:`.problem.StoreTerm`).
    """
    mechanic = offer.mechanic
    titled = offer.title_zh and offer.title_en
    if titled or not isinstance(mechanic, TieredReduction) or len(mechanic.tiers) == 1:
        return offer_label(offer, customer)
    values = [reduction_units((tier,), repeat=mechanic.repeat, cap=None, spend_units=spend) for tier in tiers]
    best = mechanic.tiers[values.index(max(values))]  # the first best, like ``max``
    reached = TieredReduction(tiers=(best,), repeat=mechanic.repeat, max_reduction=mechanic.max_reduction)
    return mechanic_label(reached, customer)


class _Amounts:
    """Minor units to ``Money`` for one quote, each distinct amount built once.

    The search works in ``int``; ``Money`` (exact, immutable, so safely shared) is built
    only here, at the boundary. A quote repeats few amounts many times (zero discounts,
    item totals equal to list totals), so most conversions are a dict hit.
    """

    __slots__ = ("currency", "made", "scale")

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.scale = -exponent(currency)
        self.made: dict[int, Money] = {}

    def __call__(self, units: int) -> Money:
        """:func:`.mechanics.from_units`, memoised."""
        money = self.made.get(units)
        if money is None:
            money = self.made[units] = Money(Decimal(units).scaleb(self.scale), self.currency)
        return money


def _item_savings(line: CartLine, option: ItemOption) -> list[tuple[Offer, int, int]]:
    """(offer, saving in units of the currency, units of the line it priced) per item offer."""
    unit = to_units(line.unit_price)
    savings: list[tuple[Offer, int, int]] = []
    if option.primary is not None:
        quantity = option.primary_quantity
        savings.append((option.primary, unit * quantity - option.primary_units, quantity))
        if option.fallback is not None:
            rest = line.quantity - quantity
            savings.append((option.fallback, unit * rest - option.fallback_units, rest))
    return [saving for saving in savings if saving[1] > 0]


def _presale_deposit(line: CartLine, option: ItemOption) -> tuple[Offer, Presale, int] | None:
    for offer, quantity in (
        (option.primary, option.primary_quantity),
        (option.fallback, line.quantity - option.primary_quantity),
    ):
        if offer is not None and isinstance(offer.mechanic, Presale):
            return offer, offer.mechanic, to_units(offer.mechanic.deposit) * quantity
    return None


def assemble_quote(problem: Problem, plan: Plan, customer: CustomerContext, policy: PromotionPolicy) -> Quote:
    result = plan.result
    money = _Amounts(problem.currency)
    n = len(problem.lines)
    adjustments: list[list[LineAdjustment]] = [[] for _ in range(n)]
    item_totals: dict[str, int] = {}
    item_offers: dict[str, Offer] = {}
    for i, line in enumerate(problem.lines):
        option = problem.options[i][plan.choice[i]]
        for offer, amount, quantity in _item_savings(line, option):
            adjustments[i].append(LineAdjustment(offer.id, Level.ITEM, money(amount), quantity))
            item_totals[offer.id] = item_totals.get(offer.id, 0) + amount
            item_offers[offer.id] = offer
    store_share = [0] * n
    coupon_share = [0] * n
    applied: list[AppliedOffer] = []
    explanation: list[ExplanationLine] = []

    def record(
        offer: Offer, amount: int, code: str | None = None, label: tuple[str, str] | None = None
    ) -> None:
        saved = money(amount)
        zh, en = saving_text(offer_label(offer, customer) if label is None else label, saved)
        applied.append(AppliedOffer(offer.id, offer.kind, offer.level, saved, zh, en, code))
        explanation.append(ExplanationLine(offer.id, zh, en))

    for offer_id in sorted(item_totals):
        record(item_offers[offer_id], item_totals[offer_id])
    for s, amount, shares in result.store_applied:
        offer = problem.store_offers[s]
        for i, share in zip(problem.store_scopes[s], shares, strict=True):
            store_share[i] += share
            if share:
                adjustments[i].append(LineAdjustment(offer.id, Level.STORE, money(share)))
        spend = sum(result.item_units[i] for i in problem.store_scopes[s])
        record(offer, amount, label=_reached_label(offer, customer, problem.store_terms[s].tiers, spend))
    gifts: list[GiftGrant] = []
    for s in result.gifts:
        offer = problem.store_offers[s]
        mechanic = offer.mechanic
        assert isinstance(mechanic, ThresholdGift)
        gifts.append(GiftGrant(offer.id, mechanic.gift_sku_id, mechanic.quantity))
        zh, en = gift_text(offer_label(offer, customer), mechanic.gift_sku_id, mechanic.quantity)
        explanation.append(ExplanationLine(offer.id, zh, en))
    for c, amount, shares in result.coupon_applied:
        held = problem.coupons[c]
        for i, share in zip(problem.coupon_scopes[c], shares, strict=True):
            coupon_share[i] += share
            if share:
                adjustments[i].append(LineAdjustment(held.offer.id, Level.COUPON, money(share)))
        record(held.offer, amount, held.code)

    quoted, deposit_total = _quoted_lines(
        problem,
        plan,
        money,
        adjustments=adjustments,
        store_share=store_share,
        coupon_share=coupon_share,
        explanation=explanation,
    )
    list_total = sum(problem.list_units)
    payable = result.payable
    return Quote(
        currency=problem.currency,
        lines=tuple(quoted),
        applied=tuple(applied),
        gifts=tuple(gifts),
        hints=_hints(problem, plan, customer, policy, money),
        explanation=tuple(explanation),
        list_total=money(list_total),
        payable=money(payable),
        savings=money(list_total - payable),
        deposit_total=money(deposit_total),
        balance_total=money(payable - deposit_total),
    )


def _quoted_lines(
    problem: Problem,
    plan: Plan,
    money: _Amounts,
    *,
    adjustments: list[list[LineAdjustment]],
    store_share: list[int],
    coupon_share: list[int],
    explanation: list[ExplanationLine],
) -> tuple[list[QuotedLine], int]:
    result = plan.result
    quoted: list[QuotedLine] = []
    deposit_total = 0
    for i, line in enumerate(problem.lines):
        option = problem.options[i][plan.choice[i]]
        final = result.final_units[i]
        deposit: Money | None = None
        balance: Money | None = None
        presale = _presale_deposit(line, option)
        if presale is not None:
            _offer, mechanic, deposit_units = presale
            deposit_units = min(deposit_units, final)
            deposit_total += deposit_units
            deposit = money(deposit_units)
            balance = money(final - deposit_units)
            zh, en = presale_text(deposit, balance, mechanic)
            explanation.append(ExplanationLine(None, zh, en))
        quoted.append(
            QuotedLine(
                index=i,
                sku_id=line.sku_id,
                quantity=line.quantity,
                list_total=money(problem.list_units[i]),
                item_total=money(result.item_units[i]),
                store_discount=money(store_share[i]),
                coupon_discount=money(coupon_share[i]),
                final_total=money(final),
                adjustments=tuple(adjustments[i]),
                deposit=deposit,
                balance=balance,
                presale=presale[1] if presale is not None else None,
                presale_offer=presale[0].id if presale is not None else None,
            )
        )
    return quoted, deposit_total


def _hints(
    problem: Problem, plan: Plan, customer: CustomerContext, policy: PromotionPolicy, money: _Amounts
) -> tuple[Hint, ...]:
    """凑单: the cheapest next thresholds among store offers and unused coupons."""
    result = plan.result
    found: list[tuple[int, str, int, Offer]] = []

    def consider(offer: Offer, spend: int, nxt: tuple[int, int] | None) -> None:
        if nxt is not None:
            found.append((nxt[0] - spend, offer.id, nxt[1], offer))

    # :func:`next_threshold_units`, from the terms already in minor units
    for s, offer in enumerate(problem.store_offers):
        scope = problem.store_scopes[s]
        if scope:
            term = problem.store_terms[s]
            spend = sum(result.item_units[i] for i in scope)
            if term.gift_threshold is not None:
                consider(offer, spend, (term.gift_threshold, 0) if spend < term.gift_threshold else None)
            else:
                nxt = next_reduction_units(
                    term.tiers, repeat=term.repeat, cap=term.cap, spend_units=spend, rate_off=term.rate_off
                )
                consider(offer, spend, nxt)
    used = {c for c, _, _ in result.coupon_applied}
    for c, held in enumerate(problem.coupons):
        scope = problem.coupon_scopes[c]
        if c not in used and scope:
            coupon = problem.coupon_terms[c]
            spend = sum(result.after_store_units[i] for i in scope)
            consider(
                held.offer, spend, (coupon.threshold, coupon.amount) if spend < coupon.threshold else None
            )
    found.sort(key=lambda item: (item[0], item[1]))
    hints = []
    for missing_units, _, gain_units, offer in found[: policy.max_hints]:
        missing = money(missing_units)
        gain = None if isinstance(offer.mechanic, ThresholdGift) else money(gain_units)
        zh, en = hint_text(offer_label(offer, customer), missing, gain)
        hints.append(Hint(offer.id, missing, gain, zh, en))
    return tuple(hints)


__all__ = [
    "AppliedOffer",
    "ExplanationLine",
    "GiftGrant",
    "Hint",
    "LineAdjustment",
    "Quote",
    "QuotedLine",
    "assemble_quote",
    "quote_best_price",
]
