"""Pure rules of campaigns (PROMO-05..08) and paid ads (ADS-01..03).

No Django here: plain functions over dates, Decimals and :class:`Money`. Messages are
produced by the services; these functions return codes and numbers.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import Decimal

from storeops.core.money import Money, RoundingPoint, money_sum, round_at


# ---- PROMO-05: the campaign state machine ---------------------------------------------------
class CampaignState(enum.StrEnum):
    DRAFT = "draft"
    PENDING_OPERATIONS = "pending_operations"  # 待运营负责人审批
    PENDING_MARKETING = "pending_marketing"  # 待推广负责人审批
    PENDING_FINANCE = "pending_finance"  # 待财务审批
    APPROVED = "approved"
    ACTIVE = "active"
    ENDED = "ended"
    CANCELLED = "cancelled"


class CampaignEvent(enum.StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    ACTIVATE = "activate"
    END = "end"
    CANCEL = "cancel"


class ApprovalStep(enum.StrEnum):
    OPERATIONS = "operations"
    MARKETING = "marketing"
    FINANCE = "finance"


S, E = CampaignState, CampaignEvent

# The whole state machine: (state, event) -> next state. Anything else is refused.
TRANSITIONS: dict[tuple[CampaignState, CampaignEvent], CampaignState] = {
    (S.DRAFT, E.SUBMIT): S.PENDING_OPERATIONS,
    (S.PENDING_OPERATIONS, E.APPROVE): S.PENDING_MARKETING,
    (S.PENDING_MARKETING, E.APPROVE): S.PENDING_FINANCE,
    (S.PENDING_FINANCE, E.APPROVE): S.APPROVED,
    (S.PENDING_OPERATIONS, E.REJECT): S.DRAFT,
    (S.PENDING_MARKETING, E.REJECT): S.DRAFT,
    (S.PENDING_FINANCE, E.REJECT): S.DRAFT,
    (S.APPROVED, E.ACTIVATE): S.ACTIVE,
    (S.ACTIVE, E.END): S.ENDED,
    (S.DRAFT, E.CANCEL): S.CANCELLED,
    (S.PENDING_OPERATIONS, E.CANCEL): S.CANCELLED,
    (S.PENDING_MARKETING, E.CANCEL): S.CANCELLED,
    (S.PENDING_FINANCE, E.CANCEL): S.CANCELLED,
    (S.APPROVED, E.CANCEL): S.CANCELLED,
}

# Which approval step a pending state waits for, and the permission that step needs.
PENDING_STEP: dict[CampaignState, ApprovalStep] = {
    S.PENDING_OPERATIONS: ApprovalStep.OPERATIONS,
    S.PENDING_MARKETING: ApprovalStep.MARKETING,
    S.PENDING_FINANCE: ApprovalStep.FINANCE,
}
STEP_PERMISSION: dict[ApprovalStep, str] = {
    ApprovalStep.OPERATIONS: "marketing.approve_operations",
    ApprovalStep.MARKETING: "marketing.approve_marketing",
    ApprovalStep.FINANCE: "marketing.approve_budget",
}
APPROVED_STATES = frozenset({S.APPROVED, S.ACTIVE, S.ENDED})


def next_state(state: CampaignState, event: CampaignEvent) -> CampaignState | None:
    """The state after ``event``, or None when the table does not allow it."""
    return TRANSITIONS.get((state, event))


# ---- PROMO-05: big promotions planned ahead ------------------------------------------------
class PlanAheadBreach(enum.StrEnum):
    CREATED_LATE = "created_late"  # planned fewer than N days before the start
    APPROVED_LATE = "approved_late"  # approved fewer than N days before the start
    NOT_APPROVED = "not_approved"  # N days before the start and still not approved


def big_promo_plan_breach(
    *,
    starts_on: dt.date,
    created_on: dt.date,
    approved_on: dt.date | None,
    today: dt.date,
    plan_days: int,
) -> PlanAheadBreach | None:
    """Why a big promotion is not planned ``plan_days`` ahead, or None when it is."""
    if (starts_on - created_on).days < plan_days:
        return PlanAheadBreach.CREATED_LATE
    if approved_on is not None:
        return PlanAheadBreach.APPROVED_LATE if (starts_on - approved_on).days < plan_days else None
    if (starts_on - today).days <= plan_days:
        return PlanAheadBreach.NOT_APPROVED
    return None


# ---- PROMO-06: live monitoring --------------------------------------------------------------
def ratio(part: int, whole: int) -> Decimal | None:
    """``part ÷ whole`` as a Decimal, None when ``whole`` is zero (no data is not 0%)."""
    return None if whole <= 0 else Decimal(part) / Decimal(whole)


@dataclass(frozen=True, slots=True)
class HourFigures:
    hour: dt.datetime
    coupons_issued: int
    coupon_redemptions: int
    payment_attempts: int
    payment_failures: int


@dataclass(frozen=True, slots=True)
class MonitorAlerts:
    redemption_rate: Decimal | None  # cumulative, over the hours so far
    redemption_below_plan: bool
    failure_rate: Decimal | None  # the latest hour with payment attempts
    previous_failure_rate: Decimal | None
    failure_above_threshold: bool


def monitor(
    hours: Sequence[HourFigures],
    *,
    planned_redemption_rate: Decimal,
    max_failure_rate: Decimal,
    min_attempts: int = 1,
) -> MonitorAlerts:
    """Cumulative coupon redemption rate vs plan; the latest hour's payment failure rate vs
    the threshold (with the hour before, to show whether it is rising). The failure rate of
    an hour with fewer than ``min_attempts`` payment attempts is shown but not judged (one
    failure out of two attempts is not a 50% failure rate worth an alert)."""
    ordered = sorted(hours, key=lambda h: h.hour)
    redemption = ratio(sum(h.coupon_redemptions for h in ordered), sum(h.coupons_issued for h in ordered))
    with_attempts = [h for h in ordered if h.payment_attempts > 0]
    latest = (
        ratio(with_attempts[-1].payment_failures, with_attempts[-1].payment_attempts)
        if with_attempts
        else None
    )
    previous = (
        ratio(with_attempts[-2].payment_failures, with_attempts[-2].payment_attempts)
        if len(with_attempts) > 1
        else None
    )
    return MonitorAlerts(
        redemption_rate=redemption,
        redemption_below_plan=redemption is not None and redemption < planned_redemption_rate,
        failure_rate=latest,
        previous_failure_rate=previous,
        failure_above_threshold=latest is not None
        and with_attempts[-1].payment_attempts >= min_attempts
        and latest > max_failure_rate,
    )


# Hourly figures StoreOps counts from its own rows (PROMO-06): orders placed on the campaign's
# channel, the GMV paid, payment attempts and failures; coupons issued and redeemed only when
# the campaign links coupon templates. Exposure, clicks and new users come from the platform.
COUNTED_FROM_ORDERS = ("orders", "gmv", "payment_attempts", "payment_failures")
COUNTED_FROM_COUPONS = ("coupons_issued", "coupon_redemptions")
HOUR = dt.timedelta(hours=1)


def hour_floor(moment: dt.datetime) -> dt.datetime:
    """The start of the (local, as given) hour ``moment`` is in."""
    return moment.replace(minute=0, second=0, microsecond=0)


def hour_starts(first: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """The whole hours from ``first`` (an hour start) that have ended by ``end``, stepped in
    absolute time (an aware datetime plus a timedelta is wall-clock arithmetic)."""
    tz = first.tzinfo
    hour, stop = first.astimezone(dt.UTC), end.astimezone(dt.UTC)
    hours = []
    while hour + HOUR <= stop:
        hours.append(hour.astimezone(tz))
        hour += HOUR
    return hours


def hours_to_count(
    hours: Sequence[dt.datetime], counted_at: Mapping[dt.datetime, dt.datetime | None], settle: dt.timedelta
) -> list[dt.datetime]:
    """Of ``hours``, those a count must (re)do: never counted, or counted before the hour
    settled, ``settle`` after it ended (a payment started in the hour may be pending until
    then: ``payment_pending_minutes``)."""
    result = []
    for hour in hours:
        at = counted_at.get(hour)
        if at is None or at < hour.astimezone(dt.UTC) + HOUR + settle:
            result.append(hour)
    return result


def monitoring_stale(
    *, latest_hour: dt.datetime | None, started_at: dt.datetime, now: dt.datetime, interval_minutes: int
) -> bool:
    """Whether a running campaign's live figures are overdue (PROMO-06).

    A figure row covers ``[hour, hour + 1h)``; the next one is due ``interval_minutes`` after
    the hour it covers has ended (before the first row: after the campaign started).
    """
    covered_until = started_at if latest_hour is None else latest_hour + dt.timedelta(hours=1)
    return now - covered_until > dt.timedelta(minutes=interval_minutes)


# ---- PROMO-07: post-mortem ------------------------------------------------------------------
def is_working_day(
    day: dt.date,
    *,
    holidays: AbstractSet[dt.date] = frozenset(),
    workdays: AbstractSet[dt.date] = frozenset(),
) -> bool:
    """Monday to Friday unless a public holiday; a weekend day worked instead (调休) counts."""
    if day in workdays:
        return True
    return day.weekday() < 5 and day not in holidays


def add_working_days(
    day: dt.date,
    n: int,
    *,
    holidays: AbstractSet[dt.date] = frozenset(),
    workdays: AbstractSet[dt.date] = frozenset(),
) -> dt.date:
    """``n`` working days after ``day`` (see :func:`is_working_day`; the playbook's
    ``holidays`` and ``makeup_workdays``)."""
    current = day
    left = n
    while left > 0:
        current += dt.timedelta(days=1)
        if is_working_day(current, holidays=holidays, workdays=workdays):
            left -= 1
    return current


@dataclass(frozen=True, slots=True)
class BudgetFigures:
    kind: str
    planned: Money
    actual: Money


@dataclass(frozen=True, slots=True)
class PostmortemFigures:
    gmv: Money
    gmv_target: Money
    new_users: int
    new_users_target: int
    budget: tuple[BudgetFigures, ...]


@dataclass(frozen=True, slots=True)
class Postmortem:
    gmv_attainment: Decimal | None
    new_users_attainment: Decimal | None
    cost: Money
    planned_cost: Money
    budget_used: Decimal | None  # actual ÷ planned
    roi: Decimal | None  # (sales − cost) ÷ cost


def _ratio_money(part: Money, whole: Money) -> Decimal | None:
    return None if whole.amount == 0 else part.amount / whole.amount


def postmortem(figures: PostmortemFigures) -> Postmortem:
    currency = figures.gmv.currency
    cost = money_sum((b.actual for b in figures.budget), currency)
    planned = money_sum((b.planned for b in figures.budget), currency)
    return Postmortem(
        gmv_attainment=_ratio_money(figures.gmv, figures.gmv_target),
        new_users_attainment=ratio(figures.new_users, figures.new_users_target),
        cost=cost,
        planned_cost=planned,
        budget_used=_ratio_money(cost, planned),
        roi=_ratio_money(figures.gmv - cost, cost),
    )


# ---- PROMO-08: cash reserve -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CashReserve:
    gmv_target: Money
    refund_rate: Decimal
    expected_refunds: Money
    payouts: Money  # the campaign budget to be paid out
    total: Money


def cash_reserve(*, gmv_target: Money, refund_rate: Decimal, budget: Money) -> CashReserve:
    """Expected refunds (GMV target × refund rate) plus payouts (the budget)."""
    refunds = round_at(gmv_target * refund_rate, RoundingPoint.REPORT)
    payouts = round_at(budget, RoundingPoint.REPORT)
    return CashReserve(
        gmv_target=gmv_target,
        refund_rate=refund_rate,
        expected_refunds=refunds,
        payouts=payouts,
        total=refunds + payouts,
    )


# ---- ADS-01/02: cost per click, ROI, benchmarks ----------------------------------------------
def cpc(spend: Money, clicks: int) -> Money | None:
    """Cost per click, None without clicks."""
    return None if clicks <= 0 else Money(spend.amount / Decimal(clicks), spend.currency)


def ad_roi(ad_sales: Money, spend: Money) -> Decimal | None:
    """ADS-02's ROI: ad sales ÷ ad spend (not the campaign ROI of PROMO-07)."""
    return _ratio_money(ad_sales, spend)


def cpc_too_high(actual: Money, industry_average: Money, max_share: Decimal) -> bool:
    return actual.amount > industry_average.amount * max_share


def roi_short_of_target(roi: Decimal | None, target: Decimal) -> bool:
    """ADS-02: the ROI target is "> target", so a ROI of exactly the target falls short too.
    No spend (None) is not judged."""
    return roi is not None and roi <= target


def rank_too_low(rank: int | None, max_rank: int) -> bool:
    return rank is not None and rank > max_rank


# ---- ADS-03: peak-hour bids ------------------------------------------------------------------
class UpliftOutOfRange(ValueError):
    """A peak uplift outside the playbook's range."""


@dataclass(frozen=True, slots=True)
class PeakSchedule:
    start: dt.time  # inclusive
    end: dt.time  # exclusive; may be before start (crosses midnight)
    uplift: Decimal  # 0.10 = +10%

    def covers(self, at: dt.time) -> bool:
        if self.start <= self.end:
            return self.start <= at < self.end
        return at >= self.start or at < self.end


def peak_uplift_validate(uplift: Decimal, *, low: Decimal, high: Decimal) -> None:
    if not low <= uplift <= high:
        raise UpliftOutOfRange(f"uplift {uplift} outside [{low}, {high}]")


def bid_at(base_bid: Money, at: dt.time, schedule: PeakSchedule | None) -> Money:
    """The bid to place at time ``at``: the base bid, raised by the uplift in the peak window."""
    if schedule is None or not schedule.covers(at):
        return base_bid
    return round_at(base_bid * (1 + schedule.uplift), RoundingPoint.LINE_PRICE)
