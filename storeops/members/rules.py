"""Pure member arithmetic (SOP MEM-01/02/05): no Django, no ORM.

* tiers follow growth value *and* the number of paid orders (MEM-01: "by spend and
  frequency"), with the thresholds of the playbook;
* a paid order earns growth value and points in proportion to what was paid; the member day
  multiplies the points (MEM-02);
* a refund takes back the same share of what its order earned. The reversal of the k-th
  refund is computed from the cumulative refunded amount, so the reversals of an order
  always add up to exactly what it earned once it is refunded in full, whatever the number
  of partial refunds;
* a referral may not point at oneself nor close a loop (MEM-05);
* a birthday is a month and day (no year); the birthday gift (MEM-01) is due from
  ``days_before`` days ahead of the birthday through the birthday itself, once per birthday.
  A 29 February birthday falls on 28 February in other years.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal


class Tier(enum.StrEnum):
    SILVER = "silver"
    GOLD = "gold"
    DIAMOND = "diamond"


TIER_ORDER = (Tier.SILVER, Tier.GOLD, Tier.DIAMOND)


@dataclass(frozen=True, slots=True)
class TierPolicy:
    gold_growth: int
    diamond_growth: int
    gold_min_orders: int
    diamond_min_orders: int


def tier_for(*, growth: int, paid_orders: int, policy: TierPolicy) -> Tier:
    """The highest tier whose growth value and paid-order thresholds are both met; every
    member is at least silver."""
    if growth >= policy.diamond_growth and paid_orders >= policy.diamond_min_orders:
        return Tier.DIAMOND
    if growth >= policy.gold_growth and paid_orders >= policy.gold_min_orders:
        return Tier.GOLD
    return Tier.SILVER


def tier_rank(tier: str) -> int:
    return [t.value for t in TIER_ORDER].index(tier)


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


@dataclass(frozen=True, slots=True)
class Earning:
    growth: int
    points: int
    multiplier: int


def earning(*, paid: Decimal, growth_per_yuan: int, points_per_yuan: int, multiplier: int) -> Earning:
    """What a paid order earns: whole units, rounded down (no fractional points)."""
    if paid < 0:
        raise ValueError("paid must not be negative")
    if multiplier < 1:
        raise ValueError("multiplier must be at least 1")
    return Earning(
        growth=_floor(paid * growth_per_yuan),
        points=_floor(paid * points_per_yuan) * multiplier,
        multiplier=multiplier,
    )


def _remaining(earned: int, paid: Decimal, refunded: Decimal) -> int:
    """What of ``earned`` is still due after ``refunded`` of ``paid`` went back."""
    if paid <= 0 or refunded >= paid:
        return 0
    return _floor(Decimal(earned) * (paid - refunded) / paid)


def reversal(*, earned: int, paid: Decimal, refunded_before: Decimal, refunded_now: Decimal) -> int:
    """Units to take back for a refund of ``refunded_now`` after ``refunded_before`` was
    already refunded on an order that paid ``paid`` and earned ``earned`` (≥ 0).

    The reversals of successive refunds telescope: their sum is ``earned`` minus what is due
    on the amount not refunded, so a full refund takes back exactly ``earned``."""
    if refunded_now < 0 or refunded_before < 0:
        raise ValueError("refunds must not be negative")
    before = _remaining(earned, paid, refunded_before)
    after = _remaining(earned, paid, refunded_before + refunded_now)
    return before - after


def offset_points(*, amount: Decimal, points_per_yuan: int) -> int:
    """Points a cash offset of ``amount`` CNY costs (rounded up to a whole point)."""
    cost = amount * points_per_yuan
    whole = _floor(cost)
    return whole if whole == cost else whole + 1


def points_given_back(*, cost: int, units: int, back: int) -> int:
    """Points due back to a member who took ``units`` goods for ``cost`` points and gave
    ``back`` of them back (cancelled, returned or refunded): the share, rounded down, so the
    amounts given back as more units come back telescope to exactly ``cost`` for all units
    and never exceed it."""
    if cost < 0 or units < 1 or not 0 <= back <= units:
        raise ValueError("need cost >= 0, units >= 1 and 0 <= back <= units")
    return cost * back // units


class ReferralProblem(enum.StrEnum):
    SELF = "self"
    LOOP = "loop"


def referral_problem(
    *, member_id: int, inviter_id: int, inviter_of: Callable[[int], int | None], max_depth: int = 10_000
) -> ReferralProblem | None:
    """Would making ``inviter_id`` the referrer of ``member_id`` refer a member to themself,
    directly or through a chain (A invites B, B invites A)? ``inviter_of`` gives a member's
    current referrer."""
    if member_id == inviter_id:
        return ReferralProblem.SELF
    seen: set[int] = set()
    current: int | None = inviter_id
    while current is not None and len(seen) < max_depth:
        if current == member_id:
            return ReferralProblem.LOOP
        if current in seen:  # an existing loop elsewhere (cannot happen through the service)
            return ReferralProblem.LOOP
        seen.add(current)
        current = inviter_of(current)
    return None


# --- birthdays (MEM-01 birthday gift) ----------------------------------------------------------------


def parse_birthday(text: str) -> tuple[int, int]:
    """``"MM-DD"`` (also ``"M-D"``, ``"MM/DD"``, ``"MM月DD日"``) as (month, day); 29 February is a
    birthday. Raises ValueError for anything else."""
    cleaned = text.strip().replace("月", "-").replace("日", "").replace("/", "-").replace(".", "-")
    parts = cleaned.split("-")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"not a birthday: {text!r}")
    month, day = (int(p) for p in parts)
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2000, month)[1]:  # 2000: a leap year
        raise ValueError(f"not a birthday: {text!r}")
    return month, day


def birthday_text(month: int | None, day: int | None) -> str | None:
    return None if month is None or day is None else f"{month:02d}-{day:02d}"


def birthday_in(year: int, month: int, day: int) -> dt.date:
    """The birthday's date in ``year`` (29 February is 28 February outside leap years)."""
    if month == 2 and day == 29 and not calendar.isleap(year):
        return dt.date(year, 2, 28)
    return dt.date(year, month, day)


def birthdays_due(today: dt.date, *, days_before: int) -> dict[tuple[int, int], dt.date]:
    """The (month, day) birthdays whose gift is due on ``today`` — those falling within the
    next ``days_before`` days, today included — each with the date it falls on (its year is
    the gift's year: a 2 January birthday with 5 days ahead is the next year's gift in late
    December)."""
    due: dict[tuple[int, int], dt.date] = {}
    for offset in range(days_before + 1):
        date = today + dt.timedelta(days=offset)
        due[(date.month, date.day)] = date
        if date.month == 2 and date.day == 28 and not calendar.isleap(date.year):
            due[(2, 29)] = date
    return due


def birthdays_missed(today: dt.date, *, days: int) -> dict[tuple[int, int], dt.date]:
    """The (month, day) birthdays that fell on one of the ``days`` days before ``today``, each
    with its date: a gift not given by then was missed."""
    missed: dict[tuple[int, int], dt.date] = {}
    for offset in range(1, days + 1):
        date = today - dt.timedelta(days=offset)
        missed[(date.month, date.day)] = date
        if date.month == 2 and date.day == 28 and not calendar.isleap(date.year):
            missed[(2, 29)] = date
    return missed
