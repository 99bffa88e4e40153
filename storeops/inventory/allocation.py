"""Warehouse allocation (SOP ORD-02) and order-merge candidates (ORD-05).

Pure: plain frozen dataclasses in, an :class:`Allocation` out; no Django, no database.
The orders app loads stock per warehouse, calls :func:`allocate` and reserves what it says
through the inventory services (which still enforce ``available >= qty`` atomically — this
module only plans).

How a plan is chosen:

1. Lines of the same SKU are added up. If the warehouses together hold less than the order
   needs, nothing is allocated: the result says *cannot fill* with the shortfall per SKU.
2. **One shipment whenever possible**: among the warehouses that can fill the whole order
   alone, the one with the lowest score wins.
3. **Otherwise split, fewest shipments first**: the smallest number ``k`` of warehouses
   that together hold enough is found by trying every set of ``k`` (in code order); among
   those sets the lowest score wins. Within the chosen set each SKU comes from as few
   warehouses as possible (one that holds the whole line when there is one).
4. A shipment's score is ``distance_weight x km + cost_weight x shipping cost``; a plan's
   score adds them up plus ``split_penalty`` for every extra warehouse a single order line
   is split over (the customer gets one SKU in two parcels). Shipping cost is the region
   matrix's price for (warehouse region, destination region) when given, else
   ``base_cost + per_km_cost x km`` rounded at the cost rounding point.
5. Ties go to the plan whose warehouse codes sort first, so the same input always gives
   the same plan, whatever order the lines and warehouses came in.

Very large warehouse networks: when trying every set of ``k`` would exceed
``max_combinations``, a greedy cover (most remaining units first) is used instead and the
explanation says so.
"""

from __future__ import annotations

import enum
import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations

from storeops.core.money import Money, RoundingPoint, money_sum, round_at

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)


@dataclass(frozen=True, slots=True)
class GeoPoint:
    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise ValueError("latitude must be in [-90, 90] and longitude in [-180, 180]")


def distance_km(a: GeoPoint, b: GeoPoint) -> Decimal:
    """Great-circle (haversine) distance, rounded to 0.1 km so scores compare exactly."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
    return Decimal(f"{km:.1f}")


@dataclass(frozen=True, slots=True)
class OrderLine:
    sku: str
    quantity: int

    def __post_init__(self) -> None:
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity <= 0:
            raise ValueError(f"quantity of {self.sku} must be a positive whole number")


@dataclass(frozen=True, slots=True)
class Destination:
    location: GeoPoint
    region: str


@dataclass(frozen=True, slots=True)
class Warehouse:
    code: str
    location: GeoPoint
    region: str
    stock: Mapping[str, int]  # available (sellable, unreserved) units per SKU
    base_cost: Money  # per shipment
    per_km_cost: Money

    def __post_init__(self) -> None:
        for sku, units in self.stock.items():
            if isinstance(units, bool) or not isinstance(units, int) or units < 0:
                raise ValueError(f"stock of {sku} in {self.code} must be a non-negative whole number")
        if self.base_cost.amount < 0 or self.per_km_cost.amount < 0:
            raise ValueError("shipping costs cannot be negative")
        if self.base_cost.currency != self.per_km_cost.currency:
            raise ValueError("base and per-km cost must share a currency")


@dataclass(frozen=True, slots=True)
class AllocationWeights:
    """How a plan is scored (see the module docstring). Defaults: 100 km weighs like 1 yuan."""

    distance: Decimal = Decimal("0.01")  # per km
    cost: Decimal = Decimal(1)  # per yuan of shipping cost
    split_penalty: Decimal = Decimal(5)  # per extra warehouse an order line is split over
    max_combinations: int = 50_000  # sets tried per shipment count before going greedy

    def __post_init__(self) -> None:
        if min(self.distance, self.cost, self.split_penalty) < 0:
            raise ValueError("weights cannot be negative")
        if self.max_combinations < 1:
            raise ValueError("max_combinations must be positive")


class AllocationCode(enum.StrEnum):
    SINGLE = "single"  # one warehouse fills the whole order
    SPLIT = "split"  # no single warehouse can; the fewest shipments that can
    CANNOT_FILL = "cannot_fill"  # all warehouses together hold too little


@dataclass(frozen=True, slots=True)
class Shipment:
    warehouse: str
    lines: tuple[OrderLine, ...]  # by SKU
    distance_km: Decimal
    cost: Money
    score: Decimal  # this shipment's distance and cost part of the plan score


@dataclass(frozen=True, slots=True)
class Allocation:
    code: AllocationCode
    shipments: tuple[Shipment, ...]  # by warehouse code; empty when it cannot fill
    shortfall: tuple[OrderLine, ...]  # missing units per SKU when it cannot fill
    total_cost: Money
    score: Decimal
    line_splits: int  # extra warehouses over all lines (0 = no SKU comes in two parcels)
    explanation: tuple[str, ...]
    explanation_zh: tuple[str, ...] = field(default=())
    greedy: bool = False  # True when the network was too large for the exhaustive search

    @property
    def filled(self) -> bool:
        return self.code is not AllocationCode.CANNOT_FILL

    def allocated(self) -> dict[tuple[str, str], int]:
        """Units per (warehouse, SKU)."""
        return {(s.warehouse, line.sku): line.quantity for s in self.shipments for line in s.lines}


@dataclass(frozen=True, slots=True)
class _Leg:
    code: str
    km: Decimal
    cost: Money
    score: Decimal


def _aggregate(lines: Iterable[OrderLine]) -> dict[str, int]:
    need: dict[str, int] = {}
    for line in lines:
        need[line.sku] = need.get(line.sku, 0) + line.quantity
    return dict(sorted(need.items()))


def _legs(
    warehouses: Sequence[Warehouse],
    destination: Destination,
    weights: AllocationWeights,
    region_costs: Mapping[tuple[str, str], Money] | None,
) -> dict[str, _Leg]:
    legs: dict[str, _Leg] = {}
    for wh in warehouses:
        km = distance_km(wh.location, destination.location)
        matrix_cost = (region_costs or {}).get((wh.region, destination.region))
        if matrix_cost is not None:
            cost = matrix_cost
        else:
            cost = round_at(wh.base_cost + wh.per_km_cost * km, RoundingPoint.COST)
        score = weights.distance * km + weights.cost * cost.amount
        legs[wh.code] = _Leg(code=wh.code, km=km, cost=cost, score=score)
    return legs


def _assign(
    need: Mapping[str, int], chosen: Sequence[Warehouse], legs: Mapping[str, _Leg]
) -> dict[str, dict[str, int]] | None:
    """Split each SKU over ``chosen`` with as few sources as possible; None if it cannot."""
    plan: dict[str, dict[str, int]] = {wh.code: {} for wh in chosen}
    for sku, qty in need.items():
        whole = [wh for wh in chosen if wh.stock.get(sku, 0) >= qty]
        if whole:
            best = min(whole, key=lambda wh: (legs[wh.code].score, wh.code))
            plan[best.code][sku] = qty
            continue
        remaining = qty
        for wh in sorted(chosen, key=lambda w: (-w.stock.get(sku, 0), legs[w.code].score, w.code)):
            take = min(remaining, wh.stock.get(sku, 0))
            if take > 0:
                plan[wh.code][sku] = take
                remaining -= take
            if remaining == 0:
                break
        if remaining > 0:
            return None
    return {code: lines for code, lines in plan.items() if lines}


def _plan_score(
    plan: Mapping[str, Mapping[str, int]], legs: Mapping[str, _Leg], weights: AllocationWeights
) -> tuple[Decimal, int]:
    sources: dict[str, int] = {}
    for lines in plan.values():
        for sku in lines:
            sources[sku] = sources.get(sku, 0) + 1
    splits = sum(n - 1 for n in sources.values())
    score = sum((legs[code].score for code in plan), Decimal(0)) + weights.split_penalty * splits
    return score, splits


def _covers(chosen: Sequence[Warehouse], need: Mapping[str, int]) -> bool:
    return all(sum(wh.stock.get(sku, 0) for wh in chosen) >= qty for sku, qty in need.items())


def _greedy(
    need: Mapping[str, int], candidates: Sequence[Warehouse], legs: Mapping[str, _Leg]
) -> list[Warehouse]:
    remaining = dict(need)
    chosen: list[Warehouse] = []
    pool = list(candidates)
    while any(remaining.values()):
        best = min(
            pool,
            key=lambda wh: (
                -sum(min(q, wh.stock.get(s, 0)) for s, q in remaining.items()),
                legs[wh.code].score,
                wh.code,
            ),
        )
        pool.remove(best)
        chosen.append(best)
        for sku, left in list(remaining.items()):
            remaining[sku] = max(0, left - best.stock.get(sku, 0))
    return chosen


def allocate(
    lines: Sequence[OrderLine],
    destination: Destination,
    warehouses: Sequence[Warehouse],
    *,
    weights: AllocationWeights | None = None,
    region_costs: Mapping[tuple[str, str], Money] | None = None,
    currency: str = "CNY",
) -> Allocation:
    """ORD-02: choose the warehouses that ship ``lines`` to ``destination``."""
    w = weights or AllocationWeights()
    if not lines:
        raise ValueError("an order needs at least one line")
    codes = [wh.code for wh in warehouses]
    if len(set(codes)) != len(codes):
        raise ValueError("warehouse codes must be unique")
    need = _aggregate(lines)
    ordered = sorted(warehouses, key=lambda wh: wh.code)

    shortfall = tuple(
        OrderLine(sku, qty - total)
        for sku, qty in need.items()
        if (total := sum(wh.stock.get(sku, 0) for wh in ordered)) < qty
    )
    if shortfall:
        missing = ", ".join(f"{line.sku} x{line.quantity}" for line in shortfall)
        return Allocation(
            code=AllocationCode.CANNOT_FILL,
            shipments=(),
            shortfall=shortfall,
            total_cost=Money.zero(currency),
            score=Decimal(0),
            line_splits=0,
            explanation=(f"Cannot fill: all warehouses together are short of {missing}.",),
            explanation_zh=(f"无法满足：所有仓库合计仍缺 {missing}。",),
        )

    candidates = [wh for wh in ordered if any(wh.stock.get(sku, 0) > 0 for sku in need)]
    legs = _legs(candidates, destination, w, region_costs)
    best: tuple[Decimal, tuple[str, ...], dict[str, dict[str, int]], int] | None = None
    greedy = False
    for k in range(1, len(candidates) + 1):
        if math.comb(len(candidates), k) > w.max_combinations:
            greedy = True
            chosen = _greedy(need, candidates, legs)
            plan = _assign(need, chosen, legs)
            assert plan is not None  # the greedy cover holds enough by construction
            score, splits = _plan_score(plan, legs, w)
            best = (score, tuple(sorted(plan)), plan, splits)
            break
        for subset in combinations(candidates, k):
            if not _covers(subset, need):
                continue
            plan = _assign(need, subset, legs)
            if plan is None:  # pragma: no cover - _covers guarantees a plan
                continue
            score, splits = _plan_score(plan, legs, w)
            key = (score, tuple(sorted(plan)))
            if best is None or key < (best[0], best[1]):
                best = (score, key[1], plan, splits)
        if best is not None:
            break
    assert best is not None  # total stock suffices, so the set of all candidates covers
    score, chosen_codes, plan, splits = best

    shipments = tuple(
        Shipment(
            warehouse=code,
            lines=tuple(OrderLine(sku, qty) for sku, qty in sorted(plan[code].items())),
            distance_km=legs[code].km,
            cost=legs[code].cost,
            score=legs[code].score,
        )
        for code in chosen_codes
    )
    total_cost = money_sum((s.cost for s in shipments), shipments[0].cost.currency)
    code = AllocationCode.SINGLE if len(shipments) == 1 else AllocationCode.SPLIT
    en, zh = _explain(code, shipments, splits, greedy, total_cost)
    return Allocation(
        code=code,
        shipments=shipments,
        shortfall=(),
        total_cost=total_cost,
        score=score,
        line_splits=splits,
        explanation=en,
        explanation_zh=zh,
        greedy=greedy,
    )


def _explain(
    code: AllocationCode, shipments: Sequence[Shipment], splits: int, greedy: bool, total: Money
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    en: list[str] = []
    zh: list[str] = []
    if code is AllocationCode.SINGLE:
        wh = shipments[0]
        en.append(f"{wh.warehouse} can fill the whole order; it has the best score of those that can.")
        zh.append(f"{wh.warehouse} 可整单发货，是可整单发货仓库中综合得分最优的。")
    else:
        how = "a greedy cover (network too large to search)" if greedy else "the fewest shipments possible"
        en.append(f"No single warehouse can fill the order; split into {len(shipments)} shipments, {how}.")
        zh.append(f"没有单个仓库能整单发货，拆为 {len(shipments)} 个包裹。")
        if splits:
            en.append(f"{splits} order line(s) are split over more than one warehouse.")
            zh.append(f"有 {splits} 个商品行需由多个仓库分别发出。")
    for s in shipments:
        items = ", ".join(f"{line.sku} x{line.quantity}" for line in s.lines)
        en.append(f"{s.warehouse}: {items} — {s.distance_km} km, shipping {s.cost}.")
        zh.append(f"{s.warehouse}：{items}，距离 {s.distance_km} 公里，运费 {s.cost}。")
    en.append(f"Total shipping {total}.")
    zh.append(f"运费合计 {total}。")
    return tuple(en), tuple(zh)


# --- ORD-05: order merging -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MergeableOrder:
    order_id: str
    buyer_id: str
    address: str  # the full shipping address as one text (name, phone and address lines)
    shipped: bool = False
    channel: str = ""  # orders of different channels are never merged (separate tracking)


@dataclass(frozen=True, slots=True)
class MergeGroup:
    buyer_id: str
    channel: str
    address_key: str
    order_ids: tuple[str, ...]  # sorted


def normalise_address(address: str) -> str:
    """Fold width and case and drop spaces and punctuation (，。 - # etc.), so
    "上海市 浦东新区，世纪大道１００号" and "上海市浦东新区世纪大道100号" compare equal."""
    folded = unicodedata.normalize("NFKC", address).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in {"L", "N"})


def merge_candidates(orders: Sequence[MergeableOrder]) -> tuple[MergeGroup, ...]:
    """ORD-05: groups of two or more unshipped orders of the same buyer, channel and
    (normalised) address, which can go out as one parcel. Sorted, so deterministic."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for order in orders:
        if order.shipped:
            continue
        key = (order.buyer_id, order.channel, normalise_address(order.address))
        if not key[2]:
            continue  # no usable address: nothing to merge on
        groups.setdefault(key, []).append(order.order_id)
    return tuple(
        MergeGroup(buyer_id=buyer, channel=channel, address_key=address, order_ids=tuple(sorted(set(ids))))
        for (buyer, channel, address), ids in sorted(groups.items())
        if len(set(ids)) > 1
    )
