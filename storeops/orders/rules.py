"""Order rules without the ORM: the state machine, the automatic review (ORD-01), the
ship-by deadline (ORD-03) and refund arithmetic (PROMO-04, AS-04).

Everything here is a plain function over values, property-tested in
``tests/orders/test_rules.py``.
"""

from __future__ import annotations

import datetime as dt
import enum
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from storeops.analytics.rules import SEGMENTS, Segment
from storeops.core.money import DEFAULT_CURRENCY, Money, split_evenly
from storeops.members.rules import Tier

POINTS_REDEMPTION = "points_redemption"  # the key of Order.pricing that marks a points order (MEM-02)


class Status(enum.StrEnum):
    CREATED = "created"  # placed, stock reserved, waiting for payment (of a presale: the deposit)
    DEPOSIT_PAID = "deposit_paid"  # presale (定金膨胀): deposit paid, the balance is due in its window
    PAID = "paid"
    ON_HOLD = "on_hold"  # manual review queue / exception order (ORD-01, ORD-04)
    REVIEWED = "reviewed"
    ALLOCATED = "allocated"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    AFTER_SALE = "after_sale"  # a return or refund is in progress
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # cancelled by the customer or the store (refunded if it was paid)
    CLOSED = "closed"  # never paid: closed by the unpaid timeout (ORD-06) or the balance window
    REFUNDED = "refunded"  # everything paid was refunded after shipping


TERMINAL = frozenset({Status.CANCELLED, Status.CLOSED, Status.REFUNDED})

# Which statuses each status may move to. Anything else is an invalid transition.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.CREATED: frozenset({Status.PAID, Status.DEPOSIT_PAID, Status.CANCELLED, Status.CLOSED}),
    Status.DEPOSIT_PAID: frozenset({Status.PAID, Status.CANCELLED, Status.CLOSED}),
    Status.PAID: frozenset({Status.REVIEWED, Status.ON_HOLD, Status.CANCELLED}),
    Status.ON_HOLD: frozenset({Status.REVIEWED, Status.CANCELLED}),
    Status.REVIEWED: frozenset({Status.ALLOCATED, Status.ON_HOLD, Status.CANCELLED}),
    Status.ALLOCATED: frozenset({Status.SHIPPED, Status.ON_HOLD, Status.CANCELLED}),
    Status.SHIPPED: frozenset({Status.DELIVERED, Status.AFTER_SALE}),
    Status.DELIVERED: frozenset({Status.COMPLETED, Status.AFTER_SALE}),
    # back to shipped when the case opened before the parcel was delivered
    Status.AFTER_SALE: frozenset({Status.SHIPPED, Status.DELIVERED, Status.COMPLETED, Status.REFUNDED}),
    Status.COMPLETED: frozenset({Status.AFTER_SALE}),
    Status.CANCELLED: frozenset(),
    Status.CLOSED: frozenset(),
    Status.REFUNDED: frozenset(),
}

# Stock is still reserved (not shipped) in these statuses: cancelling releases it.
RESERVED = frozenset(
    {Status.CREATED, Status.DEPOSIT_PAID, Status.PAID, Status.ON_HOLD, Status.REVIEWED, Status.ALLOCATED}
)
# The customer has paid and the goods have not left: cancelling refunds in full.
PAID_NOT_SHIPPED = frozenset({Status.PAID, Status.ON_HOLD, Status.REVIEWED, Status.ALLOCATED})


def can_transition(source: Status | str, target: Status | str) -> bool:
    return Status(target) in TRANSITIONS[Status(source)]


# --- automatic review (ORD-01) ---------------------------------------------------------------


class HoldReason(enum.StrEnum):
    BAD_ADDRESS = "bad_address"
    OUT_OF_STOCK = "out_of_stock"
    FRAUD = "fraud"
    MANUAL = "manual"


# Reasons the customer must be told about within the ORD-04 window.
CUSTOMER_EXCEPTIONS = frozenset({HoldReason.BAD_ADDRESS, HoldReason.OUT_OF_STOCK})

_MOBILE = re.compile(r"^(?:\+?86[- ]?)?1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    phone: str
    province: str
    city: str
    district: str
    detail: str


def address_problems(address: Address) -> list[str]:
    """What is wrong with a delivery address (empty list: deliverable)."""
    problems: list[str] = []
    if not address.name.strip():
        problems.append("name")
    phone = address.phone.replace(" ", "")
    if not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
        problems.append("phone")
    if not address.province.strip():
        problems.append("province")
    if not address.city.strip():
        problems.append("city")
    if len(address.detail.strip()) < 4:
        problems.append("detail")
    return problems


@dataclass(frozen=True, slots=True)
class FraudLimits:
    """The default fraud score's thresholds: the playbook's ``fraud_*`` settings (ORD-01), which a
    channel may set for itself. The defaults here are the playbook's, for signals built
    without a playbook."""

    new_customer_amount: Decimal = Decimal("2000")  # a new customer's order from this: +40
    large_amount: Decimal = Decimal("5000")  # any other order from this: +25
    phone_orders: int = 3  # other orders to the same phone in the window: +20
    phone_orders_high: int = 5  # … or this many: +40
    customer_addresses: int = 3  # the customer's other delivery addresses in the window: +30
    quantity: int = 50  # units in the order: +20


@dataclass(frozen=True, slots=True)
class FraudSignals:
    """What the default fraud score looks at. A store can plug its own scorer. The counts are
    over the playbook's ``fraud_signal_window_hours`` (``window_hours``; 24 h by default: the
    field names keep their ``_24h`` so scorers written against them still work). ``limits``
    are the playbook's thresholds for the order's channel; a custom scorer may read or
    ignore them."""

    amount: Decimal
    is_new_customer: bool
    orders_same_phone_24h: int  # other orders to the same phone within the window
    distinct_addresses_same_customer_24h: int  # within the window
    quantity_total: int
    window_hours: int = 24
    limits: FraudLimits = FraudLimits()


def default_fraud_score(s: FraudSignals) -> int:
    """A transparent 0–100 score: the sum of simple signals, capped at 100. The thresholds are
    ``s.limits`` (the playbook's); the points are fixed.

    It is a hook, not a model: stores with a risk service replace it with their own scorer
    (setting ``STOREOPS_FRAUD_SCORER``). The weights are deliberately plain so an operator can
    explain a hold to a customer."""
    limits = s.limits
    score = 0
    if s.is_new_customer and s.amount >= limits.new_customer_amount:
        score += 40
    elif s.amount >= limits.large_amount:
        score += 25
    if s.orders_same_phone_24h >= limits.phone_orders_high:
        score += 40
    elif s.orders_same_phone_24h >= limits.phone_orders:
        score += 20
    if s.distinct_addresses_same_customer_24h >= limits.customer_addresses:
        score += 30
    if s.quantity_total >= limits.quantity:
        score += 20
    return min(score, 100)


@dataclass(frozen=True, slots=True)
class BrushingSignals:
    """RISK-01 order brushing (刷单), counted over the playbook's window, this order included.
    The IP and device counts are 0 for an order that carries no IP / device id: not counted."""

    accounts_same_destination: int  # distinct accounts ordering to this address or phone
    orders_same_account: int  # orders of this order's account
    orders_same_ip: int = 0  # orders placed from this order's client IP
    accounts_same_device: int = 0  # distinct accounts ordering from this order's device


def brushing_details(
    s: BrushingSignals, *, accounts_limit: int, orders_limit: int, ip_limit: int, device_limit: int
) -> list[str]:
    """The brushing patterns this order shows (empty: none): many accounts to one
    address/phone or on one device, many orders from one IP, or one account ordering at an
    abnormal rate."""
    found = []
    if s.accounts_same_destination >= accounts_limit:
        found.append(f"brushing.accounts_same_address={s.accounts_same_destination}")
    if s.orders_same_account >= orders_limit:
        found.append(f"brushing.orders_same_account={s.orders_same_account}")
    if s.orders_same_ip and s.orders_same_ip >= ip_limit:
        found.append(f"brushing.orders_same_ip={s.orders_same_ip}")
    if s.accounts_same_device and s.accounts_same_device >= device_limit:
        found.append(f"brushing.accounts_same_device={s.accounts_same_device}")
    return found


# --- the client's IP and device (RISK-01 signals; personal data, RISK-05) ----------------------

DEVICE_ID_MAX = 64  # the column's length: a UUID (36) or a hex/base64url hash fits
_DEVICE_ID = re.compile(r"[A-Za-z0-9._:\-]+")


def device_id_valid(value: str) -> bool:
    """A device id is 1–64 printable ASCII letters, digits or ``. _ : -`` (UUIDs, hashes)."""
    return 0 < len(value) <= DEVICE_ID_MAX and _DEVICE_ID.fullmatch(value) is not None


def ip_normal(value: str) -> str | None:
    """The canonical text of an IPv4/IPv6 address (an IPv4-mapped IPv6 address as IPv4), or
    None when ``value`` is not an address."""
    try:
        ip = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def mask_ip(value: str | None) -> str:
    """Lists and exports show the network, not the host (RISK-05): 203.0.113.57 → 203.0.113.*,
    2001:db8:85a3::8a2e:370:7334 → 2001:db8:85a3:*."""
    if not value:
        return ""
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return "*"
    if isinstance(ip, ipaddress.IPv4Address):
        return ".".join(str(ip).split(".")[:3]) + ".*"
    groups = ip.exploded.split(":")[:3]
    return ":".join(g.lstrip("0") or "0" for g in groups) + ":*"


def mask_device(value: str) -> str:
    """a1b2c3d4-0000-4000-8000-00000000e5f6 → a1b2****e5f6; short ids keep two characters."""
    if not value:
        return ""
    return value[:4] + "****" + value[-4:] if len(value) >= 12 else value[:2] + "****"


@dataclass(frozen=True, slots=True)
class ReviewDecision:
    passed: bool
    reasons: tuple[HoldReason, ...]
    details: tuple[str, ...]


def review_decision(
    *,
    address: Address,
    stock_ok: bool,
    fraud_score: int,
    fraud_hold_score: int,
    brushing: Sequence[str] = (),
) -> ReviewDecision:
    """ORD-01: pass automatically or hold for manual review, with every reason (a suspected
    brushing pattern, RISK-01, is a fraud hold whatever the score)."""
    reasons: list[HoldReason] = []
    details: list[str] = []
    problems = address_problems(address)
    if problems:
        reasons.append(HoldReason.BAD_ADDRESS)
        details.extend(f"address.{p}" for p in problems)
    if not stock_ok:
        reasons.append(HoldReason.OUT_OF_STOCK)
    if fraud_score >= fraud_hold_score or brushing:
        reasons.append(HoldReason.FRAUD)
        if fraud_score >= fraud_hold_score:
            details.append(f"fraud_score={fraud_score}")
        details.extend(brushing)
    return ReviewDecision(passed=not reasons, reasons=tuple(reasons), details=tuple(details))


# --- deadlines (ORD-01, ORD-03, ORD-04) --------------------------------------------------------


def ship_by(paid_at: dt.datetime, *, promise_hours: int) -> dt.datetime:
    return paid_at + dt.timedelta(hours=promise_hours)


MEMBER_TIERS = frozenset(t.value for t in Tier)  # silver, gold, diamond


def member_tier_snapshot(tier: str | None) -> str:
    """The tier recorded on an order (MEM-01): a member tier value, or "" for anything else
    (not a member, or a tier the members app does not know)."""
    return tier if tier is not None and tier in MEMBER_TIERS else ""


HIGH_VALUE = Segment.HIGH_VALUE.value  # the lifecycle segment (MEM-04) whose orders ship sooner
_SEGMENT_VALUES = frozenset(s.value for s in SEGMENTS)


def customer_segment_snapshot(segment: str | None) -> str:
    """The lifecycle segment recorded on an order (MEM-04): a segment value, or "" for anything
    else (not a member, or a member who was not a buyer on the latest snapshot)."""
    return segment if segment is not None and segment in _SEGMENT_VALUES else ""


def promise_hours(
    channel_hours: int,
    *,
    tier: str,
    diamond_hours: int,
    segment: str = "",
    high_value_hours: int | None = None,
) -> int:
    """Hours from payment (or a group's formation) to the ship-by deadline: the channel's
    promise (ORD-03), shortened to the playbook's ``diamond_ship_hours`` for an order a
    diamond member placed (MEM-01 priority shipping) and to ``high_value_hours`` for an order
    a high-value customer placed (MEM-04 ``segment_high_value_ship_hours``; None: not applied);
    the soonest applies, never lengthened by either."""
    hours = channel_hours
    if tier == Tier.DIAMOND:
        hours = min(hours, diamond_hours)
    if segment == HIGH_VALUE and high_value_hours is not None:
        hours = min(hours, high_value_hours)
    return hours


def priority_reason(*, tier: str, segment: str) -> str:
    """Why an order ships sooner than its channel's promise: ``diamond`` (MEM-01),
    ``high_value`` (MEM-04), or "" — diamond first when both (the order shows one badge)."""
    if tier == Tier.DIAMOND:
        return Tier.DIAMOND.value
    return HIGH_VALUE if segment == HIGH_VALUE else ""


class ShipRisk(enum.StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"


def ship_risk(*, deadline: dt.datetime, now: dt.datetime, warn_hours_before: int) -> ShipRisk:
    if now >= deadline:
        return ShipRisk.BREACHED
    if now >= deadline - dt.timedelta(hours=warn_hours_before):
        return ShipRisk.AT_RISK
    return ShipRisk.OK


# --- refunds (PROMO-04, AS-04) -----------------------------------------------------------------


def unit_amounts(paid_total: Decimal, quantity: int, currency: str = DEFAULT_CURRENCY) -> list[Decimal]:
    """What each unit of a line was paid, summing exactly to ``paid_total``: the same split
    as the quote's (:meth:`QuotedLine.unit_amounts`)."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    if paid_total < 0:
        raise ValueError("paid total must not be negative")
    return [m.amount for m in split_evenly(Money(paid_total, currency), quantity)]


def refund_for_units(
    paid_total: Decimal, quantity: int, *, already: int, units: int, currency: str = DEFAULT_CURRENCY
) -> Decimal:
    """Exactly what was paid for ``units`` more units of a line of which ``already`` were
    refunded: refunding every unit, in any batches, returns exactly ``paid_total``."""
    if units <= 0 or already < 0 or already + units > quantity:
        raise ValueError("cannot refund more units than the line has")
    amounts = unit_amounts(paid_total, quantity, currency)[already : already + units]
    return sum(amounts, Decimal("0.00"))


RefundLine = tuple[int, int, Decimal]  # (order line id, units, amount)


def apportion_refund(lines: Sequence[RefundLine], parts: Sequence[Decimal]) -> list[list[RefundLine]]:
    """The line detail of each part of a refund paid back in ``parts`` (the amounts, in the
    order they are refunded — of a presale order the balance payment first, then the deposit
    payment — adding up to the lines' amounts).

    The first part takes the lines' amounts in their order until it is full, the next part
    the rest, and so on; a line whose amount crosses from one part into the next is listed in
    both, with the amount each carries. Its units are counted once, on the first part that
    carries it (``0`` on the parts after). So each part's amounts add up to that part, and over
    all the parts the units and amounts add up to the refund's, exactly to the cent. A line of
    no amount (a gift) goes with the part being filled when its turn comes."""
    if not parts or any(part <= 0 for part in parts):
        raise ValueError("every part of a refund must be positive")
    if any(amount < 0 for _, _, amount in lines):
        raise ValueError("a line's refund must not be negative")
    if sum(parts, Decimal(0)) != sum((amount for _, _, amount in lines), Decimal(0)):
        raise ValueError("the parts must add up to the lines' amounts")
    out: list[list[RefundLine]] = [[] for _ in parts]
    room = list(parts)
    i = 0
    for line_id, units, amount in lines:
        left, qty = amount, units
        while True:
            if room[i] == 0 and i + 1 < len(room):
                i += 1
            take = min(left, room[i])
            out[i].append((line_id, qty, take))
            room[i] -= take
            left -= take
            qty = 0
            if left == 0:
                break
    return out


# --- marketplace import and invoices (h6: ORD-07) ------------------------------------------------

# GB 32100-2015 unified social credit code (统一社会信用代码): 18 characters from this
# 31-character alphabet (no I, O, S, V, Z); the 18th is a check character over the first 17.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character of the first 17 characters of a credit code."""
    if len(first17) != 17 or any(c not in USCC_ALPHABET for c in first17):
        raise ValueError("need 17 characters of the credit-code alphabet")
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_valid(code: str) -> bool:
    """Is ``code`` a well-formed unified social credit code with a correct check character?"""
    code = code.strip().upper()
    if not _USCC_SHAPE.match(code):
        return False
    return uscc_check_char(code[:17]) == code[17]


_NAME_NOISE = re.compile(r"[\s()（）【】\[\]·.,，。:：\-—_'\"“”]+")


def normalise_party_name(name: str) -> str:
    """A company or person name for comparison: no spaces or punctuation, full-width
    brackets folded, upper-case latin letters (so "某某（上海）有限公司" == "某某(上海) 有限公司")."""
    return _NAME_NOISE.sub("", name.strip()).upper()


_REGION = re.compile(
    r"^(?P<province>[^省市]{2,7}?(?:省|自治区|特别行政区)|北京市?|天津市?|上海市?|重庆市?)"
    r"(?P<city>.{1,9}?(?:自治州|市|盟|地区)|)"
    r"(?P<district>[^区县旗]{1,9}?(?:区|县|旗|市)|)"
    r"(?P<rest>.*)$"
)
_MUNICIPALITIES = ("北京", "天津", "上海", "重庆")


def split_address(full: str) -> tuple[str, str, str, str]:
    """(province, city, district, detail) of a one-field Chinese address as marketplaces
    export it: space separated ("浙江省 杭州市 西湖区 文三路100号") or run together
    ("北京北京市朝阳区建国路1号"). What cannot be recognised stays in the detail."""
    text = full.strip()
    parts = text.split()
    if len(parts) >= 4:
        return parts[0], parts[1], parts[2], " ".join(parts[3:])
    compact = "".join(parts)
    match = _REGION.match(compact)
    if not match:
        return "", "", "", text
    province, city, district, rest = (match.group(g) for g in ("province", "city", "district", "rest"))
    bare = province.removesuffix("市")
    if bare in _MUNICIPALITIES:
        province = bare + "市"
        if not city:
            city = province
    if not rest:  # nothing left for the street: the last region part was the street
        return province, city, "", district
    return province, city, district, rest


class FlowProblem(enum.StrEnum):
    AMOUNT = "amount"  # invoice amount > what the customer paid less refunds
    FUNDS = "funds"  # payer ≠ invoice title (company titles)
    GOODS = "goods"  # consignee / delivery address not tied to the titled company


def three_flow_problems(
    *,
    company: bool,
    title: str,
    payer_name: str,
    consignee: str,
    delivery_address: str,
    invoice_amount: Decimal,
    net_paid: Decimal,
) -> list[FlowProblem]:
    """ORD-07 三流合一: funds, invoice and goods flows must agree. The invoice may not exceed
    what was paid less refunds (over-invoicing — e.g. an invoice issued before a refund — must
    be reversed; a smaller invoice the customer asked for, e.g. without the shipping fee, is
    fine); for a company title the payer must be the company and the goods must go to the
    company (its name in the consignee or the delivery address)."""
    problems: list[FlowProblem] = []
    if invoice_amount > net_paid:
        problems.append(FlowProblem.AMOUNT)
    if company:
        name = normalise_party_name(title)
        if not name or normalise_party_name(payer_name) != name:
            problems.append(FlowProblem.FUNDS)
        goods = normalise_party_name(consignee) + normalise_party_name(delivery_address)
        if not name or name not in goods:
            problems.append(FlowProblem.GOODS)
    return problems
