"""Savings explanations and 凑单 hints in Chinese and English (SOP PROMO-03).

Every applied offer yields one line, e.g. ``满200减30：已减30.00元`` /
``Spend 200 save 30: −30.00``. Labels come from the offer's own title when it has one,
otherwise from its mechanic.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from storeops.core.money import Money, quantum

from .offers import (
    AddOnDeal,
    CouponTerms,
    CustomerContext,
    FlashSale,
    GroupBuy,
    Mechanic,
    MemberPrice,
    NthItemOff,
    Offer,
    PercentageOff,
    Presale,
    ThresholdGift,
    ThresholdPercentOff,
    TieredReduction,
    TimeSlotOff,
)


@lru_cache(maxsize=32)
def _quantum(currency: str) -> Decimal:
    return quantum(currency)


def _rounded(value: Money) -> Decimal:
    return value.amount.quantize(_quantum(value.currency), rounding=ROUND_HALF_UP)


def amount_text(value: Money) -> str:
    """An amount with its cents: ``30.00`` (display only; amounts are already rounded)."""
    return f"{_rounded(value):.2f}"


def short_text(value: Money) -> str:
    """A threshold as people write it: ``200`` rather than ``200.00``."""
    amount = _rounded(value)
    return f"{amount:.0f}" if amount == amount.to_integral_value() else f"{amount:.2f}"


def _zhe(rate: Decimal) -> str:
    """0.95 -> "9.5折", 0.5 -> "5折"."""
    tenths = (rate * 10).normalize()
    return f"{tenths:f}折"


def _percent_off(rate: Decimal) -> str:
    off = ((1 - rate) * 100).normalize()
    return f"{off:f}% off"


def offer_label(offer: Offer, customer: CustomerContext | None = None) -> tuple[str, str]:
    """(zh, en) display name of an offer."""
    if offer.title_zh and offer.title_en:
        return offer.title_zh, offer.title_en
    return mechanic_label(offer.mechanic, customer)


def mechanic_label(m: Mechanic, customer: CustomerContext | None = None) -> tuple[str, str]:
    """(zh, en) display name of a mechanic (an offer without its own title)."""
    if isinstance(m, PercentageOff | NthItemOff | MemberPrice | TimeSlotOff):
        return _rate_label(m, customer)
    if isinstance(m, FlashSale | GroupBuy | Presale | AddOnDeal):
        return _price_label(m)
    return _order_label(m)


def _rate_label(
    m: PercentageOff | NthItemOff | MemberPrice | TimeSlotOff, customer: CustomerContext | None
) -> tuple[str, str]:
    if isinstance(m, PercentageOff):
        return f"折扣{_zhe(m.rate)}", f"{_percent_off(m.rate)}"
    if isinstance(m, NthItemOff):
        return f"第{m.n}件{_zhe(m.rate)}", f"item no. {m.n} at {_percent_off(m.rate)}"
    if isinstance(m, TimeSlotOff):
        return f"限时{_zhe(m.rate)}", f"Time-slot {_percent_off(m.rate)}"
    tier = customer.tier if customer is not None else None
    rate = m.rate_for(tier)
    if rate is None:
        return "会员价", "Member price"
    return f"会员价{_zhe(rate)}", f"Member price ({tier}) {_percent_off(rate)}"


def _price_label(m: FlashSale | GroupBuy | Presale | AddOnDeal) -> tuple[str, str]:
    if isinstance(m, FlashSale):
        return f"秒杀价{amount_text(m.price)}", f"Flash sale {amount_text(m.price)}"
    if isinstance(m, GroupBuy):
        return (
            f"{m.group_size}人拼团价{amount_text(m.price)}",
            f"{m.group_size}-person group price {amount_text(m.price)}",
        )
    if isinstance(m, Presale):
        counted = m.deposit * m.multiplier
        if m.max_deduction is not None:
            counted = min(counted, m.max_deduction)
        return (
            f"定金{short_text(m.deposit)}抵{short_text(counted)}",
            f"Presale deposit {short_text(m.deposit)} counts as {short_text(counted)}",
        )
    return f"加购立减{short_text(m.amount_off)}", f"Add-on {short_text(m.amount_off)} off"


def _order_label(m: TieredReduction | ThresholdPercentOff | ThresholdGift | CouponTerms) -> tuple[str, str]:
    if isinstance(m, ThresholdPercentOff):
        threshold = short_text(m.threshold)
        capped = "" if m.max_reduction is None else f"，最高减{short_text(m.max_reduction)}"
        capped_en = "" if m.max_reduction is None else f" (up to {short_text(m.max_reduction)})"
        return (
            f"满{threshold}打{_zhe(m.rate)}{capped}",
            f"Spend {threshold} get {_percent_off(m.rate)}{capped_en}",
        )
    if isinstance(m, TieredReduction):
        zh_prefix, en_prefix = ("每满", "Every ") if m.repeat else ("满", "Spend ")
        spent = " spent" if m.repeat else ""
        tiers = [(short_text(t.threshold), short_text(t.amount)) for t in m.tiers]
        zh = "，".join(f"{zh_prefix}{threshold}减{amount}" for threshold, amount in tiers)
        en = ", ".join(f"{en_prefix}{threshold}{spent} save {amount}" for threshold, amount in tiers)
        return zh, en
    if isinstance(m, ThresholdGift):
        threshold = short_text(m.threshold)
        return (
            f"满{threshold}赠{m.gift_sku_id}×{m.quantity}",
            f"Spend {threshold} get {m.gift_sku_id} ×{m.quantity}",
        )
    amount = short_text(m.amount)
    if m.threshold.amount == 0:
        return f"无门槛券减{amount}", f"No-threshold coupon {amount} off"
    threshold = short_text(m.threshold)
    return f"满{threshold}减{amount}券", f"Coupon: spend {threshold} save {amount}"


def saving_text(label: tuple[str, str], amount: Money) -> tuple[str, str]:
    zh, en = label
    text = amount_text(amount)
    return f"{zh}：已减{text}元", f"{en}: −{text}"


def gift_text(label: tuple[str, str], sku_id: str, quantity: int) -> tuple[str, str]:
    zh, en = label
    return f"{zh}：赠送{sku_id}×{quantity}", f"{en}: free {sku_id} ×{quantity}"


def _when(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} {moment.hour:02d}:{moment.minute:02d}"


def presale_text(deposit: Money, balance: Money, mechanic: Presale) -> tuple[str, str]:
    starts, ends = _when(mechanic.balance_starts), _when(mechanic.balance_ends)
    return (
        f"预售：定金{amount_text(deposit)}元，尾款{amount_text(balance)}元（{starts}至{ends}支付）",
        f"Presale: deposit {amount_text(deposit)}, balance {amount_text(balance)} due {starts} to {ends}",
    )


def hint_text(label: tuple[str, str], missing: Money, gain: Money | None) -> tuple[str, str]:
    zh, en = label
    more = amount_text(missing)
    if gain is None:
        return f"再买{more}元可获赠品（{zh}）", f"Add {more} more for a gift ({en})"
    saved = amount_text(gain)
    return f"再买{more}元可再减{saved}元（{zh}）", f"Add {more} more to save {saved} more ({en})"
