"""The promotion engine's contract types: frozen, Django-free dataclasses (SOP PROMO-01/02).

The ORM side (``promotions.models`` / ``selectors``) loads offers and held coupons into these
types; the engine never sees a model. Ids are strings so any key type maps onto them.

* :class:`CartLine` / :class:`CustomerContext`: what is being bought, by whom, where.
* :class:`Offer`: one promotion. Its ``mechanic`` (a typed parameter object) fixes its
  :class:`Kind` and stacking :class:`Level`; ``scope`` says which lines and customers it
  covers; ``window`` when it runs; ``exclusive_group`` which offers of the same level it
  cannot be combined with.
* :class:`HeldCoupon`: a coupon instance in the customer's wallet (an :class:`Offer` whose
  mechanic is :class:`CouponTerms`, plus the instance's own validity).
* :class:`PromotionPolicy`: the store's playbook numbers the engine needs (MEM-01 tier
  rates), passed in, never read from settings here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal

from storeops.core.errors import ValidationError
from storeops.core.money import Money


class Level(enum.StrEnum):
    """Stacking levels, applied in this order (SOP PROMO-03)."""

    ITEM = "item"
    STORE = "store"
    COUPON = "coupon"


class Kind(enum.StrEnum):
    PERCENTAGE = "percentage"  # 折扣
    NTH_ITEM = "nth_item"  # 第N件X折
    FLASH_SALE = "flash_sale"  # 秒杀
    GROUP_BUY = "group_buy"  # 拼团
    PRESALE = "presale"  # 定金膨胀
    ADD_ON = "add_on"  # 加购立减
    MEMBER_PRICE = "member_price"  # 会员价
    TIME_SLOT = "time_slot"  # 限时段折扣
    TIERED_REDUCTION = "tiered_reduction"  # 满减 / 每满减
    THRESHOLD_PERCENTAGE = "threshold_percentage"  # 满X打Y折 (order level)
    GIFT = "gift"  # 满赠
    COUPON = "coupon"  # 优惠券


def _check_rate(rate: Decimal) -> None:
    if not isinstance(rate, Decimal) or not (Decimal(0) <= rate < Decimal(1)):
        raise ValidationError(f"a discount rate is a Decimal in [0, 1): {rate!r}", code="invalid_rate")


def _check_non_negative(amount: Money, what: str) -> None:
    if amount.amount < 0:
        raise ValidationError(f"{what} must not be negative", code="invalid_amount")


# --- mechanics (the typed parameters of an offer) -----------------------------------------


@dataclass(frozen=True, slots=True)
class PercentageOff:
    """Pay ``rate`` of the price on in-scope lines (``Decimal("0.9")`` is 9折)."""

    rate: Decimal

    def __post_init__(self) -> None:
        _check_rate(self.rate)


@dataclass(frozen=True, slots=True)
class NthItemOff:
    """Every ``n``-th unit of a line at ``rate`` (第二件半价: ``n=2, rate=0.5``)."""

    n: int
    rate: Decimal

    def __post_init__(self) -> None:
        if self.n < 2:
            raise ValidationError("n must be at least 2", code="invalid_nth")
        _check_rate(self.rate)


@dataclass(frozen=True, slots=True)
class FlashSale:
    """秒杀: a unit price for at most ``min(stock_remaining, per_buyer_limit - bought)`` units.

    ``stock_remaining`` is the campaign stock left when the offer was loaded; the order side
    still reserves it atomically (INV-03). Units beyond the cap pay another price.
    """

    price: Money
    stock_remaining: int
    per_buyer_limit: int

    def __post_init__(self) -> None:
        _check_non_negative(self.price, "flash price")
        if self.stock_remaining < 0 or self.per_buyer_limit < 1:
            raise ValidationError("flash sale stock must be >= 0 and limit >= 1", code="invalid_flash")


@dataclass(frozen=True, slots=True)
class GroupBuy:
    """拼团: ``group_size`` buyers within ``time_limit_hours`` pay ``price`` (else refunded).

    The engine prices the group price only when the customer context says the group is
    formed or joined; refunds of failed groups are the order side's job.
    """

    price: Money
    group_size: int
    time_limit_hours: int

    def __post_init__(self) -> None:
        _check_non_negative(self.price, "group price")
        if self.group_size < 2 or self.time_limit_hours < 1:
            raise ValidationError("a group needs >= 2 buyers and >= 1 hour", code="invalid_group")


@dataclass(frozen=True, slots=True)
class Presale:
    """定金膨胀: a deposit ``deposit`` counts as ``multiplier × deposit`` off the price.

    The deduction is capped by ``max_deduction`` (per unit) when set; the customer pays the
    deposit now (``Offer.window``) and the balance in ``[balance_starts, balance_ends)``.
    """

    deposit: Money
    multiplier: Decimal
    balance_starts: datetime
    balance_ends: datetime
    max_deduction: Money | None = None

    def __post_init__(self) -> None:
        _check_non_negative(self.deposit, "deposit")
        if not isinstance(self.multiplier, Decimal) or self.multiplier < 1:
            raise ValidationError("the deposit multiplier is a Decimal >= 1", code="invalid_presale")
        if self.balance_ends <= self.balance_starts:
            raise ValidationError("the balance window is empty", code="invalid_presale")


@dataclass(frozen=True, slots=True)
class AddOnDeal:
    """加购立减: an in-scope add-on unit is ``amount_off`` cheaper when bought with an anchor.

    At most ``max_per_anchor`` add-on units per anchor unit in the cart (anchor products are
    any line whose product id is in ``anchor_product_ids``, other than the add-on line).
    """

    anchor_product_ids: frozenset[str]
    amount_off: Money
    max_per_anchor: int = 1

    def __post_init__(self) -> None:
        _check_non_negative(self.amount_off, "add-on reduction")
        if not self.anchor_product_ids or self.max_per_anchor < 1:
            raise ValidationError(
                "an add-on deal needs anchors and max_per_anchor >= 1", code="invalid_add_on"
            )


@dataclass(frozen=True, slots=True)
class MemberPrice:
    """Member-tier prices (MEM-01): ``tier_rates`` maps a tier to the rate it pays."""

    tier_rates: tuple[tuple[str, Decimal], ...]

    def __post_init__(self) -> None:
        for _, rate in self.tier_rates:
            _check_rate(rate)

    def rate_for(self, tier: str | None) -> Decimal | None:
        for name, rate in self.tier_rates:
            if name == tier:
                return rate
        return None


@dataclass(frozen=True, slots=True)
class TimeSlotOff:
    """A rate during daily time slots ``[start, end)`` in the store's local time.

    A slot whose end is not after its start wraps midnight (22:00-02:00).
    """

    slots: tuple[tuple[time, time], ...]
    rate: Decimal

    def __post_init__(self) -> None:
        if not self.slots:
            raise ValidationError("a time-slot discount needs at least one slot", code="invalid_slot")
        _check_rate(self.rate)


@dataclass(frozen=True, slots=True)
class Tier:
    threshold: Money
    amount: Money

    def __post_init__(self) -> None:
        _check_non_negative(self.amount, "tier amount")
        if self.threshold.amount <= 0:
            raise ValidationError("a spend threshold must be positive", code="invalid_tier")


@dataclass(frozen=True, slots=True)
class TieredReduction:
    """满减: the highest reached tier's amount off; ``repeat`` makes it 每满 (per multiple).

    With ``repeat`` the reduction is the best of ``floor(spend / threshold) × amount`` over
    the tiers, capped by ``max_reduction`` when set.
    """

    tiers: tuple[Tier, ...]
    repeat: bool = False
    max_reduction: Money | None = None

    def __post_init__(self) -> None:
        if not self.tiers:
            raise ValidationError("a tiered reduction needs at least one tier", code="invalid_tier")


@dataclass(frozen=True, slots=True)
class ThresholdPercentOff:
    """满300打9折: once the in-scope spend reaches ``threshold``, that whole spend is paid at
    ``rate`` (a store-level offer, so it stacks on item prices and under coupons). The
    reduction ``spend × (1 − rate)`` is rounded half-up to the cent and capped by
    ``max_reduction`` when set (满300打9折，最高减50)."""

    threshold: Money
    rate: Decimal
    max_reduction: Money | None = None

    def __post_init__(self) -> None:
        _check_rate(self.rate)
        if self.threshold.amount < 0:
            raise ValidationError("a spend threshold must not be negative", code="invalid_tier")
        if self.max_reduction is not None:
            _check_non_negative(self.max_reduction, "max reduction")


@dataclass(frozen=True, slots=True)
class ThresholdGift:
    """满赠: spending ``threshold`` on in-scope lines earns ``quantity`` of ``gift_sku_id``."""

    threshold: Money
    gift_sku_id: str
    quantity: int = 1

    def __post_init__(self) -> None:
        if self.threshold.amount <= 0 or self.quantity < 1:
            raise ValidationError("a gift needs a positive threshold and quantity", code="invalid_gift")


@dataclass(frozen=True, slots=True)
class CouponTerms:
    """A coupon: ``amount`` off when the in-scope amount after store-level offers reaches
    ``threshold`` (zero for 无门槛). Store-wide, category (via scope), new-user (via scope).

    At most one coupon per order, except that ``stackable`` coupons combine with each other
    (one per exclusive group).
    """

    threshold: Money
    amount: Money
    stackable: bool = False

    def __post_init__(self) -> None:
        _check_non_negative(self.amount, "coupon amount")
        _check_non_negative(self.threshold, "coupon threshold")


Mechanic = (
    PercentageOff
    | NthItemOff
    | FlashSale
    | GroupBuy
    | Presale
    | AddOnDeal
    | MemberPrice
    | TimeSlotOff
    | TieredReduction
    | ThresholdPercentOff
    | ThresholdGift
    | CouponTerms
)

_KINDS: dict[type, Kind] = {
    PercentageOff: Kind.PERCENTAGE,
    NthItemOff: Kind.NTH_ITEM,
    FlashSale: Kind.FLASH_SALE,
    GroupBuy: Kind.GROUP_BUY,
    Presale: Kind.PRESALE,
    AddOnDeal: Kind.ADD_ON,
    MemberPrice: Kind.MEMBER_PRICE,
    TimeSlotOff: Kind.TIME_SLOT,
    TieredReduction: Kind.TIERED_REDUCTION,
    ThresholdPercentOff: Kind.THRESHOLD_PERCENTAGE,
    ThresholdGift: Kind.GIFT,
    CouponTerms: Kind.COUPON,
}
_STORE_KINDS = frozenset({Kind.TIERED_REDUCTION, Kind.THRESHOLD_PERCENTAGE, Kind.GIFT})


# --- scope, window, offer --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    """Which lines and customers an offer covers. An empty set means "any".

    Lines: when none of ``category_ids``/``product_ids``/``sku_ids`` is set the offer covers
    every line, otherwise a line is covered when it matches any of them. A category covers
    its whole subtree: a line matches when its category or one of the categories above it
    (:attr:`CartLine.category_ancestors`) is in ``category_ids``. Customers: channel,
    tier and segment (any-of) filters, and ``new_users_only``.
    """

    category_ids: frozenset[str] = frozenset()
    product_ids: frozenset[str] = frozenset()
    sku_ids: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()
    segments: frozenset[str] = frozenset()
    new_users_only: bool = False

    @property
    def all_items(self) -> bool:
        return not (self.category_ids or self.product_ids or self.sku_ids)


@dataclass(frozen=True, slots=True)
class Window:
    """``[starts, ends)``; an open end is unbounded. Compare aware datetimes only."""

    starts: datetime | None = None
    ends: datetime | None = None

    def contains(self, now: datetime) -> bool:
        if self.starts is not None and now < self.starts:
            return False
        return self.ends is None or now < self.ends


@dataclass(frozen=True, slots=True)
class Offer:
    id: str
    mechanic: Mechanic
    scope: Scope = Scope()
    window: Window = Window()
    exclusive_group: str | None = None  # same level + same group => at most one applies
    priority: int = 0  # tie-break among equally good item prices (higher wins)
    per_user_limit: int | None = None  # orders (or, for flash sales, units) per customer
    title_zh: str = ""  # optional display names; explanations fall back to the mechanic
    title_en: str = ""

    @property
    def kind(self) -> Kind:
        return _KINDS[type(self.mechanic)]

    @property
    def level(self) -> Level:
        kind = self.kind
        if kind is Kind.COUPON:
            return Level.COUPON
        if kind in _STORE_KINDS:
            return Level.STORE
        return Level.ITEM


@dataclass(frozen=True, slots=True)
class HeldCoupon:
    """A coupon in the customer's wallet: ``offer`` carries the terms, ``validity`` this copy."""

    code: str
    offer: Offer
    validity: Window = Window()

    def __post_init__(self) -> None:
        if not isinstance(self.offer.mechanic, CouponTerms):
            raise ValidationError("a held coupon's offer must have CouponTerms", code="invalid_coupon")


# --- cart and customer --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CartLine:
    sku_id: str
    product_id: str
    category_id: str
    unit_price: Money
    quantity: int
    # the categories above ``category_id`` (parent, grandparent, …): an offer scoped to any of
    # them covers the line (subcategories). Empty for a root category or a flat catalogue.
    category_ancestors: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise ValidationError("a cart line needs a positive quantity", code="invalid_quantity")
        if self.unit_price.amount < 0 or not self.unit_price.is_quantized():
            raise ValidationError(
                "a unit price is a non-negative whole number of cents", code="invalid_price"
            )


@dataclass(frozen=True, slots=True)
class CustomerContext:
    customer_id: str | None = None
    tier: str | None = None  # silver / gold / diamond (MEM-01)
    segments: frozenset[str] = frozenset()
    is_new: bool = False
    channel: str = "web"
    joined_groups: frozenset[str] = frozenset()  # group-buy offer ids whose group is formed/joined
    paid_deposits: frozenset[str] = frozenset()  # presale offer ids whose deposit is paid
    prior_use: Mapping[str, int] = field(default_factory=dict)  # offer id -> uses (flash: units)


# --- playbook -------------------------------------------------------------------------------

# MEM-01 defaults: silver 9.5折, diamond 8.8折 (gold is store-defined; none by default).
DEFAULT_MEMBER_TIER_RATES: tuple[tuple[str, Decimal], ...] = (
    ("silver", Decimal("0.95")),
    ("diamond", Decimal("0.88")),
)


@dataclass(frozen=True, slots=True)
class PromotionPolicy:
    """The playbook settings the engine reads, loaded by the caller and passed in."""

    member_tier_rates: tuple[tuple[str, Decimal], ...] = DEFAULT_MEMBER_TIER_RATES
    max_hints: int = 3  # how many 凑单 hints a quote carries


def member_price_offer(
    policy: PromotionPolicy, *, offer_id: str = "member-tier-price", scope: Scope = Scope()
) -> Offer:
    """The store's member-tier price (MEM-01) as an item-level offer."""
    return Offer(id=offer_id, mechanic=MemberPrice(tier_rates=policy.member_tier_rates), scope=scope)
