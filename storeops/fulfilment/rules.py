"""Pure logistics rules (no Django): the shipment status fold over tracking events, delivery
statistics (median / p90) and the carrier score of SOP LOG-03.

Status is *derived* from all events of a shipment in time order, so events that arrive out of
order (a late webhook, an import of an older file) give the same result as in order, and a
status never moves backwards: progress only goes forward, ``exception`` is cleared by the next
progress event, and ``delivered`` / ``returned`` / ``lost`` are final.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


class Status(enum.StrEnum):
    CREATED = "created"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    RETURNED = "returned"
    LOST = "lost"
    EXCEPTION = "exception"


# Forward progress only: an event of a lower rank than the shipment's progress is history.
PROGRESS_RANK: dict[Status, int] = {
    Status.CREATED: 0,
    Status.PICKED_UP: 1,
    Status.IN_TRANSIT: 2,
    Status.OUT_FOR_DELIVERY: 3,
    Status.DELIVERED: 4,
}
FINAL = frozenset({Status.DELIVERED, Status.RETURNED, Status.LOST})

# Carrier status words and codes (Chinese exports, English APIs) -> our status. Matched on the
# lower-cased, stripped text; an unknown code is a plain movement event without a status.
STATUS_ALIASES: dict[str, Status] = {
    **{s.value: s for s in Status},
    "collected": Status.PICKED_UP,
    "pickup": Status.PICKED_UP,
    "已揽收": Status.PICKED_UP,
    "揽收": Status.PICKED_UP,
    "已揽件": Status.PICKED_UP,
    "揽件": Status.PICKED_UP,
    "transit": Status.IN_TRANSIT,
    "运输中": Status.IN_TRANSIT,
    "在途": Status.IN_TRANSIT,
    "已发出": Status.IN_TRANSIT,
    "到达": Status.IN_TRANSIT,
    "delivering": Status.OUT_FOR_DELIVERY,
    "派送中": Status.OUT_FOR_DELIVERY,
    "派件": Status.OUT_FOR_DELIVERY,
    "派件中": Status.OUT_FOR_DELIVERY,
    "signed": Status.DELIVERED,
    "已签收": Status.DELIVERED,
    "签收": Status.DELIVERED,
    "return": Status.RETURNED,
    "退回": Status.RETURNED,
    "已退回": Status.RETURNED,
    "退件": Status.RETURNED,
    "丢失": Status.LOST,
    "遗失": Status.LOST,
    "问题件": Status.EXCEPTION,
    "异常": Status.EXCEPTION,
    "疑难件": Status.EXCEPTION,
}


ORDER_REF_MAX = 64  # Shipment.order_ref, the display text of a parcel's order numbers


def split_order_ref(text: str) -> list[str]:
    """The order numbers in an ``order_ref`` text: comma-separated (how a merged parcel's
    numbers were joined), stripped, empty pieces and repeats dropped, in order."""
    seen: dict[str, None] = {}
    for piece in text.split(","):
        if piece.strip():
            seen.setdefault(piece.strip(), None)
    return list(seen)


def order_ref_text(numbers: Sequence[str], limit: int = ORDER_REF_MAX) -> str:
    """The display text of a parcel's order numbers: comma-separated, and when they do not fit
    in ``limit`` characters the whole numbers that fit followed by ``,…(+N)`` for the N others
    (never a number cut in the middle, which would read as another order's number)."""
    joined = ",".join(numbers)
    if len(joined) <= limit:
        return joined
    for shown in range(len(numbers) - 1, 0, -1):
        text = ",".join(numbers[:shown]) + f",…(+{len(numbers) - shown})"
        if len(text) <= limit:
            return text
    return joined[:limit]


def status_from_code(code: str) -> Status | None:
    """Our status for a carrier's status word/code, or ``None`` for a plain movement."""
    return STATUS_ALIASES.get(code.strip().lower())


@dataclass(frozen=True, slots=True)
class EventFact:
    time: dt.datetime
    status: Status | None
    seq: int = 0  # tie-break for events at the same time (arrival order)


@dataclass(frozen=True, slots=True)
class DerivedState:
    status: Status
    picked_up_at: dt.datetime | None
    delivered_at: dt.datetime | None
    last_event_at: dt.datetime | None


def derive_state(events: Iterable[EventFact]) -> DerivedState:
    """Fold a shipment's events (any arrival order) into its status and milestone times."""
    status = Status.CREATED
    progress = Status.CREATED
    picked_up_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    last: dt.datetime | None = None
    for event in sorted(events, key=lambda e: (e.time, e.seq)):
        last = event.time
        new = event.status
        if new is None or status in FINAL:
            continue
        if new in (Status.RETURNED, Status.LOST):
            status = new
        elif new == Status.EXCEPTION:
            status = Status.EXCEPTION
        elif PROGRESS_RANK[new] >= PROGRESS_RANK[progress]:
            progress = new
            status = new
        elif status == Status.EXCEPTION:
            status = progress  # a late, lower scan still shows the parcel is moving again
        if picked_up_at is None and PROGRESS_RANK.get(new, 0) >= 1:
            picked_up_at = event.time  # the first scan after creation is the pickup
        if status == Status.DELIVERED and delivered_at is None:
            delivered_at = event.time
    return DerivedState(status, picked_up_at, delivered_at, last)


# ---- LOG-03 statistics and the carrier score ---------------------------------------------------


def median(values: Sequence[Decimal]) -> Decimal | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: Sequence[Decimal], pct: int) -> Decimal | None:
    """Nearest-rank percentile (p90 of 10 values is the 9th smallest)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct * len(ordered) / 100))
    return ordered[rank - 1]


def hours_between(start: dt.datetime, end: dt.datetime) -> Decimal:
    seconds = Decimal(int((end - start).total_seconds()))
    return (seconds / 3600).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class CarrierFigures:
    """Observed figures of one carrier for one destination (or nationwide as a fallback)."""

    carrier_code: str
    delivered: int  # shipments with a measured delivery time
    median_hours: Decimal | None
    p90_hours: Decimal | None
    avg_cost: Decimal | None  # per shipment
    cost_per_kg: Decimal | None
    problem_rate: Decimal  # returned + lost + exception share of all shipments
    fallback: bool = False  # True: nationwide figures, too few to this destination


@dataclass(frozen=True, slots=True)
class SuggestPolicy:
    """Weights of the LOG-03 score (lower is better). Speed counts the p90 so that carriers
    with a long tail are not rewarded for a good median; ``min_samples`` is how many delivered
    shipments to a province are needed before its figures are trusted over nationwide ones."""

    weight_speed: Decimal = Decimal("0.5")
    weight_cost: Decimal = Decimal("0.3")
    weight_reliability: Decimal = Decimal("0.2")
    min_samples: int = 3


DEFAULT_POLICY = SuggestPolicy()


@dataclass(frozen=True, slots=True)
class Suggestion:
    carrier_code: str
    score: Decimal
    estimated_hours: Decimal
    estimated_cost: Decimal
    fallback: bool


def estimated_cost(figures: CarrierFigures, weight_kg: Decimal | None) -> Decimal | None:
    if weight_kg is not None and weight_kg > 0 and figures.cost_per_kg is not None:
        return (figures.cost_per_kg * weight_kg).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return figures.avg_cost


def rank_carriers(
    candidates: Sequence[CarrierFigures], *, weight_kg: Decimal | None, policy: SuggestPolicy = DEFAULT_POLICY
) -> list[Suggestion]:
    """Score carriers that have a delivery time and a cost: each figure relative to the best
    candidate's (best = 1), weighted; plus the problem rate. Best first; ties by code."""
    usable: list[tuple[CarrierFigures, Decimal, Decimal]] = []
    for c in candidates:
        cost = estimated_cost(c, weight_kg)
        if c.p90_hours is not None and cost is not None:
            usable.append((c, c.p90_hours, cost))
    if not usable:
        return []
    best_hours = max(min(h for _c, h, _k in usable), Decimal("0.1"))
    best_cost = max(min(k for _c, _h, k in usable), Decimal("0.01"))
    out = []
    for c, hours, cost in usable:
        # reliability: no problems = 1; each 10 % of problem parcels adds as much as the best
        score = (
            policy.weight_speed * max(hours, Decimal("0.1")) / best_hours
            + policy.weight_cost * max(cost, Decimal("0.01")) / best_cost
            + policy.weight_reliability * (1 + c.problem_rate * 10)
        ).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
        out.append(Suggestion(c.carrier_code, score, hours, cost, c.fallback))
    return sorted(out, key=lambda s: (s.score, s.carrier_code))


# ---- LOG-03 carrier rules: what a carrier takes (hard limits) ----------------------------------


class Fragile(enum.StrEnum):
    """How a carrier handles fragile goods: ``accept`` (like any parcel), ``prefer`` (the
    carrier to use for fragile parcels: ranked ahead of the others) or ``refuse``."""

    ACCEPT = "accept"
    PREFER = "prefer"
    REFUSE = "refuse"


class Breach(enum.StrEnum):
    """Why a carrier cannot take a parcel."""

    OVERWEIGHT = "overweight"
    TOO_MANY_ITEMS = "too_many_items"
    PROVINCE_EXCLUDED = "province_excluded"
    FRAGILE_REFUSED = "fragile_refused"


@dataclass(frozen=True, slots=True)
class Parcel:
    """What is known of a parcel: weight (None = unknown: a SKU without a weight), number of
    units (None = unknown) and whether anything in it is fragile."""

    weight_kg: Decimal | None = None
    items: int | None = None
    fragile: bool = False


def parcel_of(lines: Iterable[tuple[int, int | None, bool]]) -> Parcel:
    """A parcel from its lines ``(qty, unit weight in grams or None, fragile)``: the weight is
    the sum of the units' weights, unknown when one line's weight is."""
    lines = list(lines)
    grams = [None if g is None else g * qty for qty, g, _f in lines]
    known = bool(grams) and all(g is not None for g in grams)
    weight = (Decimal(sum(g for g in grams if g is not None)) / 1000).quantize(Decimal("0.001"))
    return Parcel(
        weight_kg=weight if known else None,
        items=sum(qty for qty, _g, _f in lines),
        fragile=any(f for _q, _g, f in lines),
    )


def parcels_strictest(parcels: Sequence[Parcel]) -> Parcel:
    """One parcel standing for several sent with the same carrier (an order shipped from
    two warehouses): the heaviest weight, the most units, fragile if any is. A carrier fits
    them all exactly when it fits this one (the limits are independent maxima)."""
    if not parcels:
        return Parcel()
    weights = [p.weight_kg for p in parcels]
    counts = [p.items for p in parcels]
    return Parcel(
        weight_kg=None if any(w is None for w in weights) else max(w for w in weights if w is not None),
        items=None if any(c is None for c in counts) else max(c for c in counts if c is not None),
        fragile=any(p.fragile for p in parcels),
    )


# suffixes of provincial-level names, longest first: 新疆维吾尔自治区 → 新疆, 浙江省 → 浙江
_PROVINCE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")


def province_short(name: str) -> str:
    """A province's short name (浙江省 → 浙江, 广西壮族自治区 → 广西, 上海市 → 上海)."""
    name = name.strip()
    for suffix in _PROVINCE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def province_in(destination: str, provinces: Iterable[str]) -> bool:
    """Is ``destination`` (a full or short name, or an address starting with one) one of
    ``provinces`` (short names)?"""
    dest = province_short(destination)
    return bool(dest) and any(dest == p or dest.startswith(p) for p in provinces if p)


@dataclass(frozen=True, slots=True)
class CarrierLimits:
    """A store's rule for one carrier; None / empty = no limit."""

    carrier_code: str
    max_weight_kg: Decimal | None = None
    max_items: int | None = None
    excluded_provinces: tuple[str, ...] = ()
    fragile: Fragile = Fragile.ACCEPT


def breaches(limits: CarrierLimits | None, parcel: Parcel, province: str) -> list[Breach]:
    """The hard rules ``limits`` sets that the parcel to ``province`` breaks. An unknown
    weight or count is not a breach (it cannot be checked; :func:`choose_carrier` says so)."""
    if limits is None:
        return []
    out = []
    if (
        limits.max_weight_kg is not None
        and parcel.weight_kg is not None
        and parcel.weight_kg > limits.max_weight_kg
    ):
        out.append(Breach.OVERWEIGHT)
    if limits.max_items is not None and parcel.items is not None and parcel.items > limits.max_items:
        out.append(Breach.TOO_MANY_ITEMS)
    if limits.excluded_provinces and province_in(province, limits.excluded_provinces):
        out.append(Breach.PROVINCE_EXCLUDED)
    if parcel.fragile and limits.fragile == Fragile.REFUSE:
        out.append(Breach.FRAGILE_REFUSED)
    return out


@dataclass(frozen=True, slots=True)
class CarrierChoice:
    """The outcome of :func:`choose_carrier`. ``ranked``: allowed carriers with figures, best
    first; ``unranked``: allowed carriers without figures yet; ``excluded``: carrier → the
    rules it breaks; ``best``: the suggestion (None when there is nothing to go on)."""

    ranked: list[Suggestion]
    unranked: list[str]
    excluded: dict[str, list[Breach]]
    best: str | None
    preferred: frozenset[str]  # carriers ranked ahead because the parcel is fragile
    weight_unchecked: bool  # some carrier has a weight limit but the parcel's weight is unknown
    items_unchecked: bool


def choose_carrier(
    carriers: Sequence[str],
    limits: dict[str, CarrierLimits],
    figures: Sequence[CarrierFigures],
    *,
    parcel: Parcel,
    province: str,
    policy: SuggestPolicy = DEFAULT_POLICY,
) -> CarrierChoice:
    """LOG-03: the hard rules first (a carrier that cannot take the parcel to ``province``
    is out), then the delivery-time/cost/problem score of :func:`rank_carriers` among the
    allowed carriers; for a fragile parcel the carriers that ``prefer`` fragile goods come
    first (one without figures yet too). Without figures the only allowed carrier, if there is
    just one, is the suggestion."""
    excluded: dict[str, list[Breach]] = {}
    allowed = []
    for code in sorted(set(carriers)):
        broken = breaches(limits.get(code), parcel, province)
        if broken:
            excluded[code] = broken
        else:
            allowed.append(code)
    preferred = frozenset(
        c for c in allowed if parcel.fragile and c in limits and limits[c].fragile == Fragile.PREFER
    )
    ranked = rank_carriers(
        [f for f in figures if f.carrier_code in allowed], weight_kg=parcel.weight_kg, policy=policy
    )
    ranked.sort(key=lambda s: (s.carrier_code not in preferred, s.score, s.carrier_code))
    seen = {s.carrier_code for s in ranked}
    unranked = [c for c in allowed if c not in seen]
    # the manager's preference for fragile parcels holds even before a carrier has figures
    first_choice = [s.carrier_code for s in ranked if s.carrier_code in preferred] or [
        c for c in unranked if c in preferred
    ]
    if first_choice:
        best: str | None = first_choice[0]
    elif ranked:
        best = ranked[0].carrier_code
    else:
        best = unranked[0] if len(unranked) == 1 else None
    relevant = [limits[c] for c in allowed + list(excluded) if c in limits]
    return CarrierChoice(
        ranked=ranked,
        unranked=unranked,
        excluded=excluded,
        best=best,
        preferred=preferred,
        weight_unchecked=parcel.weight_kg is None and any(x.max_weight_kg is not None for x in relevant),
        items_unchecked=parcel.items is None and any(x.max_items is not None for x in relevant),
    )
