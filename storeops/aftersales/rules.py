"""After-sales rules without the ORM (AS-01…AS-05): the case state machine, the return window,
automatic approval of small refund-only requests, the refund SLA, the queue order, the refund
amount of a case and the published return policy.

Everything here is a plain function over values, property-tested in
``tests/aftersales/test_rules.py``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from storeops.orders.rules import refund_for_units


class Kind(enum.StrEnum):
    RETURN = "return"  # 退货退款: goods come back, then the money
    EXCHANGE = "exchange"  # 换货: goods come back, a replacement goes out, no money moves
    REFUND_ONLY = "refund_only"  # 仅退款: money back without goods (missing, lost, small defects)


class Reason(enum.StrEnum):
    NO_REASON = "no_reason"  # 七天无理由 (AS-01): needs no explanation
    QUALITY = "quality"
    WRONG_ITEM = "wrong_item"
    DAMAGED = "damaged"
    NOT_AS_DESCRIBED = "not_as_described"
    SIZE = "size"
    NOT_RECEIVED = "not_received"
    OTHER = "other"


class Status(enum.StrEnum):
    REQUESTED = "requested"  # waiting for a decision
    APPROVED = "approved"  # refund-only: refund due; return/exchange: waiting for the goods
    RECEIVED = "received"  # goods are in the QC zone, waiting for inspection
    INSPECTED = "inspected"  # QC done: refund due (return) / replacement due (exchange)
    REFUNDED = "refunded"  # money returned: closed
    EXCHANGED = "exchanged"  # replacement shipped: closed
    REJECTED = "rejected"  # closed
    CANCELLED = "cancelled"  # withdrawn by the customer: closed


CLOSED = frozenset({Status.REFUNDED, Status.EXCHANGED, Status.REJECTED, Status.CANCELLED})
OPEN = frozenset(Status) - CLOSED

_COMMON: dict[Status, frozenset[Status]] = {
    Status.REQUESTED: frozenset({Status.APPROVED, Status.REJECTED, Status.CANCELLED}),
}
# Which statuses a case of each kind may move to; anything else is an invalid transition.
TRANSITIONS: dict[Kind, dict[Status, frozenset[Status]]] = {
    Kind.REFUND_ONLY: {
        **_COMMON,
        Status.APPROVED: frozenset({Status.REFUNDED, Status.CANCELLED}),
    },
    Kind.RETURN: {
        **_COMMON,
        Status.APPROVED: frozenset({Status.RECEIVED, Status.CANCELLED}),
        Status.RECEIVED: frozenset({Status.INSPECTED}),
        Status.INSPECTED: frozenset({Status.REFUNDED}),
    },
    Kind.EXCHANGE: {
        **_COMMON,
        Status.APPROVED: frozenset({Status.RECEIVED, Status.CANCELLED}),
        Status.RECEIVED: frozenset({Status.INSPECTED}),
        Status.INSPECTED: frozenset({Status.EXCHANGED}),
    },
}


def can_transition(kind: Kind | str, source: Status | str, target: Status | str) -> bool:
    return Status(target) in TRANSITIONS[Kind(kind)].get(Status(source), frozenset())


def needs_goods(kind: Kind | str) -> bool:
    """Return and exchange cases wait for the goods; refund-only does not."""
    return Kind(kind) is not Kind.REFUND_ONLY


# --- AS-01: the return window ------------------------------------------------------------------


def within_window(*, delivered_at: dt.datetime | None, now: dt.datetime, window_days: int) -> bool:
    """May the customer still ask? Counted from delivery; an order not delivered yet (shipped,
    in transit) is always inside the window."""
    if delivered_at is None:
        return True
    return now <= delivered_at + dt.timedelta(days=window_days)


# --- AS-03: automatic approval ---------------------------------------------------------------


def auto_approvable(*, kind: Kind | str, amount: Decimal, threshold: Decimal) -> bool:
    """Refund-only requests strictly below the playbook's threshold are approved at once.
    Returns and exchanges never are: the goods must come back first."""
    return Kind(kind) is Kind.REFUND_ONLY and amount < threshold


# --- AS-02: refund SLA -------------------------------------------------------------------------


def sla_hours(*, big_promo: bool, normal_hours: int, big_promo_hours: int) -> int:
    return big_promo_hours if big_promo else normal_hours


def refund_due(
    *,
    kind: Kind | str,
    requested_at: dt.datetime,
    received_at: dt.datetime | None,
    big_promo: bool,
    normal_hours: int,
    big_promo_hours: int,
) -> dt.datetime | None:
    """When the money must be back: refund-only from the request, returns from the moment the
    goods arrive (before that the customer holds them). Exchanges refund nothing."""
    hours = dt.timedelta(
        hours=sla_hours(big_promo=big_promo, normal_hours=normal_hours, big_promo_hours=big_promo_hours)
    )
    kind = Kind(kind)
    if kind is Kind.REFUND_ONLY:
        return requested_at + hours
    if kind is Kind.RETURN and received_at is not None:
        return received_at + hours
    return None


class SlaState(enum.StrEnum):
    OK = "ok"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


def sla_state(*, due_at: dt.datetime, now: dt.datetime, warn_hours: int) -> SlaState:
    if now >= due_at:
        return SlaState.OVERDUE
    if now >= due_at - dt.timedelta(hours=warn_hours):
        return SlaState.DUE_SOON
    return SlaState.OK


# --- the queue: new customers first (AS-03), then the earliest deadline -----------------------

REFUND_RETRY_FIRST = dt.timedelta(minutes=10)
REFUND_RETRY_MAX = dt.timedelta(hours=6)


def refund_retry_due(*, failures: int, last_failure: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether a refund the provider refused ``failures`` times should be tried again: after
    10 minutes, then 20, 40 … doubling up to every 6 hours (a provider outage is not hammered,
    a case is never given up on)."""
    if failures <= 0 or last_failure is None:
        return True
    wait = REFUND_RETRY_FIRST * (1 << min(failures - 1, 16))
    return now - last_failure >= min(wait, REFUND_RETRY_MAX)


PRIORITY_NEW_CUSTOMER = 0
PRIORITY_NORMAL = 1


def priority(*, is_new_customer: bool) -> int:
    return PRIORITY_NEW_CUSTOMER if is_new_customer else PRIORITY_NORMAL


_FAR = dt.datetime.max.replace(tzinfo=dt.UTC)


def queue_key(
    *, priority: int, due_at: dt.datetime | None, requested_at: dt.datetime
) -> tuple[int, dt.datetime, dt.datetime]:
    """Sort key of the work queue: priority, then due time (cases without one last), then age."""
    return (priority, due_at or _FAR, requested_at)


# --- AS-04 / PROMO-04: what a case refunds --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineState:
    """One order line as the refund sees it."""

    paid_total: Decimal
    quantity: int
    refunded_qty: int  # already refunded
    held_qty: int  # units in other open cases that will be refunded first


def available_units(line: LineState) -> int:
    """Units of the line a new case may still ask for."""
    return line.quantity - line.refunded_qty - line.held_qty


def case_line_refund(line: LineState, units: int, currency: str = "CNY") -> Decimal:
    """Exactly what was paid for ``units`` more units, after the refunded and held ones: the
    same split as :func:`storeops.orders.rules.refund_for_units`, so the cases of a line, in
    any order, refund exactly its paid total."""
    return refund_for_units(
        line.paid_total,
        line.quantity,
        already=line.refunded_qty + line.held_qty,
        units=units,
        currency=currency,
    )


def case_refund(
    lines: Mapping[int, tuple[LineState, int]], kind: Kind | str, currency: str = "CNY"
) -> Decimal:
    """The refund of a case (line id → (state, units)); an exchange refunds nothing."""
    if Kind(kind) is Kind.EXCHANGE:
        return Decimal("0.00")
    return sum((case_line_refund(state, units, currency) for state, units in lines.values()), Decimal("0.00"))


# --- AS-05: return rate -----------------------------------------------------------------------


def return_rate(*, returned: int, sold: int) -> Decimal | None:
    """Units returned ÷ units sold, as a ratio with 4 decimals (None without sales)."""
    if sold <= 0:
        return None
    return (Decimal(returned) / Decimal(sold)).quantize(Decimal("0.0001"))


# --- AS-01: the published return policy ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PolicyText:
    zh: str
    en: str


def policy_text(*, window_days: int, refund_hours: int, big_promo_refund_hours: int) -> PolicyText:
    """The store's return policy, generated from its playbook, in Chinese and English."""
    if window_days > 0:
        zh_window = (
            f"自签收之日起 {window_days} 天内，商品及包装完好、不影响二次销售的，"
            "可申请无理由退货或换货，无需说明原因。"
        )
        en_window = (
            f"Within {window_days} days of delivery you may return or exchange any item in its "
            "original, resaleable condition, with no reason needed."
        )
    else:
        zh_window = "本店不提供无理由退换货；商品存在质量问题的，可联系客服处理。"
        en_window = "This store does not accept no-reason returns; contact us about quality problems."
    zh = (
        zh_window
        + "商品存在质量问题、发错货或运输破损的，退回运费由本店承担。"
        + f"退货经质检入库后，退款将在 {refund_hours} 小时内原路退回"
        + f"（大促订单 {big_promo_refund_hours} 小时内）；仅退款申请自提交起计时。"
        + "退款金额为该商品实际支付的金额（按订单优惠分摊计算），不会超过实付金额；部分退货按件精确退款。"
        + "换货商品经质检后重新发出。"
    )
    en = (
        en_window
        + " We pay the return shipping for quality problems, wrong items and transport damage."
        + " Once the returned goods pass our inspection, the refund reaches your original payment"
        + f" method within {refund_hours} hours ({big_promo_refund_hours} hours for orders placed in a"
        + " big promotion); refund-only requests are timed from submission."
        + " You get back exactly what you paid for the item (after the order's discounts are shared"
        + " out), never more than you paid; partial returns are refunded per unit."
        + " Exchanged items are shipped again after inspection."
    )
    return PolicyText(zh=zh, en=en)
