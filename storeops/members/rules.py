"""Pure member arithmetic (SOP MEM-01/02/05): no Django, no ORM.

* tiers follow growth value *and* the number of paid orders (MEM-01: "by spend and
  frequency"), with the thresholds of the playbook;
* a paid order earns growth value and points in proportion to what was paid; the member day
  multiplies the points (MEM-02);
* a refund takes back the same share of what its order earned. The reversal of the k-th
  refund is computed from the cumulative refunded amount, so the reversals of an order
  always add up to exactly what it earned once it is refunded in full, whatever the number
  of partial refunds;
* a referral may not point at oneself nor close a loop (MEM-05).
"""

from __future__ import annotations

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
