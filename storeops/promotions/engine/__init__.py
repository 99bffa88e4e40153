"""The pure best-price promotion engine (SOP PROMO-01..04, MEM-01).

``quote_best_price(lines=..., customer=..., offers=..., coupons=..., now=...)`` returns a
:class:`Quote`. No ORM, no I/O: the orders app loads offers (optionally through an
:class:`OfferIndex`), calls the engine and persists the quote. See ``optimiser`` for the
stacking model.
"""

from .explain import offer_label
from .index import OfferIndex
from .offers import (
    DEFAULT_MEMBER_TIER_RATES,
    AddOnDeal,
    CartLine,
    CouponTerms,
    CustomerContext,
    FlashSale,
    GroupBuy,
    HeldCoupon,
    Kind,
    Level,
    Mechanic,
    MemberPrice,
    NthItemOff,
    Offer,
    PercentageOff,
    Presale,
    PromotionPolicy,
    Scope,
    ThresholdGift,
    ThresholdPercentOff,
    Tier,
    TieredReduction,
    TimeSlotOff,
    Window,
    member_price_offer,
)
from .quote import (
    AppliedOffer,
    ExplanationLine,
    GiftGrant,
    Hint,
    LineAdjustment,
    Quote,
    QuotedLine,
    quote_best_price,
)

__all__ = [
    "DEFAULT_MEMBER_TIER_RATES",
    "AddOnDeal",
    "AppliedOffer",
    "CartLine",
    "CouponTerms",
    "CustomerContext",
    "ExplanationLine",
    "FlashSale",
    "GiftGrant",
    "GroupBuy",
    "HeldCoupon",
    "Hint",
    "Kind",
    "Level",
    "LineAdjustment",
    "Mechanic",
    "MemberPrice",
    "NthItemOff",
    "Offer",
    "OfferIndex",
    "PercentageOff",
    "Presale",
    "PromotionPolicy",
    "Quote",
    "QuotedLine",
    "Scope",
    "ThresholdGift",
    "ThresholdPercentOff",
    "Tier",
    "TieredReduction",
    "TimeSlotOff",
    "Window",
    "member_price_offer",
    "offer_label",
    "quote_best_price",
]
