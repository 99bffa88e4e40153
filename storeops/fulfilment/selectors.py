"""Reads of logistics data: shipment lists, the LOG-01 exception list, LOG-03 carrier
statistics and suggestion, and LOG-02's delivered shipments."""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy

from storeops.core.queries import get_or_not_found
from storeops.fulfilment.models import Carrier, Shipment, ShipmentOrder, ShipmentStatus, TrackingEvent
from storeops.fulfilment.rules import (
    DEFAULT_POLICY,
    CarrierFigures,
    Suggestion,
    SuggestPolicy,
    hours_between,
    median,
    percentile,
    rank_carriers,
)
from storeops.stores.models import Channel, Store
from storeops.stores.playbook import PlaybookSettings

STATUS_CHOICES = ShipmentStatus.choices


def carrier_list(*, active_only: bool = False) -> QuerySet[Carrier]:
    qs = Carrier.objects.all()
    return qs.filter(is_active=True) if active_only else qs


def carrier_get(*, code: str) -> Carrier:
    return get_or_not_found(Carrier.objects.all(), gettext_lazy("快递公司不存在"), code=code.upper())


def shipment_list(
    *,
    store: Store,
    status: str = "",
    carrier: str = "",
    province: str = "",
    q: str = "",
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
) -> QuerySet[Shipment]:
    qs = Shipment.objects.filter(store=store).select_related("carrier", "channel").prefetch_related("orders")
    if status:
        qs = qs.filter(status=status)
    if carrier:
        qs = qs.filter(carrier__code=carrier.upper())
    if province:
        qs = qs.filter(province=province)
    if q:
        # any order the parcel carries (a merged parcel's display text may not show them all)
        carries = ShipmentOrder.objects.filter(shipment=OuterRef("pk"), order_number__icontains=q)
        qs = qs.filter(Q(tracking_no__icontains=q) | Q(order_ref__icontains=q) | Exists(carries))
    if created_from is not None:
        qs = qs.filter(created_at__gte=created_from)
    if created_to is not None:
        qs = qs.filter(created_at__lt=created_to)
    return qs.order_by("-created_at", "-id")


def shipment_get(*, store: Store, shipment_id: int) -> Shipment:
    return get_or_not_found(
        Shipment.objects.select_related("carrier", "channel").prefetch_related("lines", "orders"),
        gettext_lazy("发货单不存在"),
        store=store,
        pk=shipment_id,
    )


def shipment_events(*, shipment: Shipment) -> QuerySet[TrackingEvent]:
    return TrackingEvent.objects.filter(shipment=shipment).order_by("-time", "-id")


# ---- LOG-01: the exception list ----------------------------------------------------------------


class ExceptionKind(enum.StrEnum):
    PICKUP_TIMEOUT = "pickup_timeout"
    TRANSIT_STUCK = "transit_stuck"
    RETURNED = "returned"
    LOST = "lost"
    CARRIER_EXCEPTION = "exception"


EXCEPTION_LABELS = {
    ExceptionKind.PICKUP_TIMEOUT: gettext_lazy("揽收超时"),
    ExceptionKind.TRANSIT_STUCK: gettext_lazy("物流停滞"),
    ExceptionKind.RETURNED: gettext_lazy("已退回"),
    ExceptionKind.LOST: gettext_lazy("丢失"),
    ExceptionKind.CARRIER_EXCEPTION: gettext_lazy("快递异常件"),
}


@dataclass(frozen=True, slots=True)
class ShipmentException:
    shipment: Shipment
    kind: ExceptionKind
    since: dt.datetime  # the time the clock started (creation, last scan, return/loss scan)
    hours: Decimal  # how long ago, at ``now``

    @property
    def label(self) -> str:
        return str(EXCEPTION_LABELS[self.kind])


def shipment_exceptions(
    *,
    store: Store,
    now: dt.datetime,
    pickup_timeout_hours: int,
    transit_stuck_hours: int,
    channels: Mapping[int, PlaybookSettings] | None = None,
) -> list[ShipmentException]:
    """Parcels needing follow-up with the carrier now (SOP LOG-01), oldest first:
    not picked up ``pickup_timeout_hours`` after creation; no scan for ``transit_stuck_hours``
    while on the way; returned, lost or flagged as an exception by the carrier. A parcel shows
    up once, under its most specific problem; delivered parcels never do. ``channels``: the
    playbooks of the channels that override the store's hours (``playbooks_by_channel``); their
    parcels are judged by their own channel's, the others by the two hours given."""
    channels = channels or {}

    def hours(s: Shipment) -> tuple[int, int]:
        book = channels.get(s.channel_id)
        if book is None:
            return pickup_timeout_hours, transit_stuck_hours
        return book.pickup_timeout_hours, book.transit_stuck_hours

    # read with the shortest timeouts of any channel, then judge each parcel by its own
    pickup_min = min([pickup_timeout_hours, *(b.pickup_timeout_hours for b in channels.values())])
    stuck_min = min([transit_stuck_hours, *(b.transit_stuck_hours for b in channels.values())])
    out: list[ShipmentException] = []
    base = Shipment.objects.filter(store=store).select_related("carrier", "channel")
    out.extend(
        ShipmentException(s, ExceptionKind.PICKUP_TIMEOUT, s.created_at, hours_between(s.created_at, now))
        for s in base.filter(
            status=ShipmentStatus.CREATED, created_at__lte=now - dt.timedelta(hours=pickup_min)
        )
        if s.created_at <= now - dt.timedelta(hours=hours(s)[0])
    )
    for s in base.filter(status__in=(ShipmentStatus.RETURNED, ShipmentStatus.LOST)):
        kind = ExceptionKind.RETURNED if s.status == ShipmentStatus.RETURNED else ExceptionKind.LOST
        since = s.last_event_at or s.created_at
        out.append(ShipmentException(s, kind, since, hours_between(since, now)))
    for s in base.filter(status=ShipmentStatus.EXCEPTION):
        since = s.last_event_at or s.created_at
        out.append(ShipmentException(s, ExceptionKind.CARRIER_EXCEPTION, since, hours_between(since, now)))
    moving = base.filter(
        status__in=(ShipmentStatus.PICKED_UP, ShipmentStatus.IN_TRANSIT, ShipmentStatus.OUT_FOR_DELIVERY),
        last_event_at__lte=now - dt.timedelta(hours=stuck_min),
    )
    for s in moving:
        assert s.last_event_at is not None
        if s.last_event_at > now - dt.timedelta(hours=hours(s)[1]):
            continue
        out.append(
            ShipmentException(
                s, ExceptionKind.TRANSIT_STUCK, s.last_event_at, hours_between(s.last_event_at, now)
            )
        )
    return sorted(out, key=lambda e: (e.since, e.shipment.pk))


# ---- LOG-02 ------------------------------------------------------------------------------------


def shipments_delivered_between(
    *, start: dt.datetime, end: dt.datetime, store: Store | None = None
) -> QuerySet[Shipment]:
    """Shipments delivered in ``[start, end)`` — the input of LOG-02 review invitations
    (``review_invite_hours`` after delivery), which the service app sends with their coupon
    (``service.services.reviews``)."""
    qs = Shipment.objects.filter(delivered_at__gte=start, delivered_at__lt=end).select_related("carrier")
    if store is not None:
        qs = qs.filter(store=store)
    return qs.order_by("delivered_at", "id")


# ---- LOG-03: carrier statistics and suggestion -------------------------------------------------


@dataclass(frozen=True, slots=True)
class CarrierStat:
    carrier_code: str
    carrier_name: str
    province: str  # "" = all destinations
    shipments: int
    delivered: int
    problems: int  # returned + lost + exception
    median_hours: Decimal | None
    p90_hours: Decimal | None
    avg_cost: Decimal | None
    cost_per_kg: Decimal | None

    @property
    def problem_rate(self) -> Decimal:
        return (
            (Decimal(self.problems) / self.shipments).quantize(Decimal("0.0001"))
            if self.shipments
            else Decimal(0)
        )

    def figures(self, *, fallback: bool = False) -> CarrierFigures:
        return CarrierFigures(
            carrier_code=self.carrier_code,
            delivered=self.delivered,
            median_hours=self.median_hours,
            p90_hours=self.p90_hours,
            avg_cost=self.avg_cost,
            cost_per_kg=self.cost_per_kg,
            problem_rate=self.problem_rate,
            fallback=fallback,
        )


def _stat(code: str, name: str, province: str, rows: Iterable[dict[str, Any]]) -> CarrierStat:
    rows = list(rows)
    hours = [
        hours_between(r["shipped_at"], r["delivered_at"])
        for r in rows
        if r["status"] == ShipmentStatus.DELIVERED and r["shipped_at"] and r["delivered_at"]
    ]
    costs = [r["shipping_cost"] for r in rows]
    weighed = [(r["shipping_cost"], r["weight_kg"]) for r in rows if r["weight_kg"]]
    cent = Decimal("0.01")
    avg = (sum(costs, Decimal(0)) / len(costs)).quantize(cent, rounding=ROUND_HALF_UP) if costs else None
    per_kg = (
        (sum((c for c, _w in weighed), Decimal(0)) / sum((w for _c, w in weighed), Decimal(0))).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )
        if weighed
        else None
    )
    problems = sum(
        1
        for r in rows
        if r["status"] in (ShipmentStatus.RETURNED, ShipmentStatus.LOST, ShipmentStatus.EXCEPTION)
    )
    return CarrierStat(
        carrier_code=code,
        carrier_name=name,
        province=province,
        shipments=len(rows),
        delivered=len(hours),
        problems=problems,
        median_hours=median(hours),
        p90_hours=percentile(hours, 90),
        avg_cost=avg,
        cost_per_kg=per_kg,
    )


def carrier_stats(
    *, store: Store, since: dt.datetime | None = None, province: str | None = None, by_province: bool = True
) -> list[CarrierStat]:
    """Per carrier (× destination province when ``by_province``): shipments, delivery time from
    pickup to delivery (median / p90 hours), average cost and cost per kg, problem count.
    Shipments still on the way count for cost and volume, not for time."""
    qs = Shipment.objects.filter(store=store)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if province:
        qs = qs.filter(province=province)
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    fields = ("carrier__code", "carrier__name", "province", "status", "shipped_at", "delivered_at")
    for row in qs.values(*fields, "shipping_cost", "weight_kg"):
        key = (row["carrier__code"], row["carrier__name"], row["province"] if by_province else "")
        groups[key].append(row)
    return [_stat(code, name, prov, rows) for (code, name, prov), rows in sorted(groups.items())]


@dataclass(frozen=True, slots=True)
class CarrierSuggestion:
    province: str
    ranked: list[Suggestion]

    @property
    def best(self) -> Suggestion | None:
        return self.ranked[0] if self.ranked else None


def carrier_suggest(
    *,
    store: Store,
    province: str,
    weight_kg: Decimal | None = None,
    items: int | None = None,
    since: dt.datetime | None = None,
    policy: SuggestPolicy = DEFAULT_POLICY,
) -> CarrierSuggestion:
    """The best carrier for a parcel to ``province`` by the weighted score of
    :func:`rules.rank_carriers`: the province's own figures when a carrier has at least
    ``policy.min_samples`` deliveries there, else its nationwide figures (marked fallback).
    ``items`` is kept for the orders app (cartons per parcel); cost follows the weight."""
    del items  # weight drives the cost estimate; item count is not yet priced separately
    active = set(carrier_list(active_only=True).values_list("code", flat=True))
    local = {s.carrier_code: s for s in carrier_stats(store=store, since=since, province=province)}
    national = {s.carrier_code: s for s in carrier_stats(store=store, since=since, by_province=False)}
    candidates = []
    for code in sorted(active & (set(local) | set(national))):
        stat = local.get(code)
        if stat is not None and stat.delivered >= policy.min_samples:
            candidates.append(stat.figures())
        elif code in national and national[code].delivered > 0:
            candidates.append(national[code].figures(fallback=True))
    return CarrierSuggestion(province, rank_carriers(candidates, weight_kg=weight_kg, policy=policy))


_REFS_PER_QUERY = 500  # numbers (or ids) per IN (...) query: well under every database's limit


def order_shipments(*, store: Store, channel: Channel | int, order_number: str) -> list[Shipment]:
    """The parcels that carry order ``order_number`` of ``channel``: its own and merged ones
    (linked by ``ShipmentOrder``, however many orders a parcel carries), oldest first. Order
    numbers are unique per channel only: another channel's order of the same number is not
    this one."""
    return list(
        Shipment.objects.filter(store=store, channel=channel, orders__order_number=order_number)
        .select_related("carrier")
        .prefetch_related("orders")
        .order_by("created_at", "id")  # one row each: a number is linked once per parcel
    )


def shipment_order_numbers(*, shipment_ids: Iterable[int]) -> dict[int, list[str]]:
    """The order numbers each of these parcels carries (a merged parcel: several), in the
    order they were linked."""
    ids = sorted(set(shipment_ids))
    found: dict[int, list[str]] = {}
    for start in range(0, len(ids), _REFS_PER_QUERY):
        for shipment_id, number in (
            ShipmentOrder.objects.filter(shipment_id__in=ids[start : start + _REFS_PER_QUERY])
            .order_by("shipment_id", "id")
            .values_list("shipment_id", "order_number")
        ):
            found.setdefault(shipment_id, []).append(number)
    return found


def delivered_times(*, orders: Iterable[tuple[int, str]]) -> dict[tuple[int, str], dt.datetime]:
    """For each (channel id, order number) whose parcels were *all* signed for: the last
    delivery time. A merged parcel counts for each of the orders it carries (``ShipmentOrder``);
    a parcel counts only for orders of its own channel (numbers are unique per channel only)."""
    wanted = set(orders)
    refs = sorted({number for _channel, number in wanted})
    channels = sorted({channel for channel, _number in wanted})
    parcels: dict[tuple[int, str], list[dt.datetime | None]] = {}
    for start in range(0, len(refs), _REFS_PER_QUERY):
        for channel_id, ref, delivered_at in ShipmentOrder.objects.filter(
            order_number__in=refs[start : start + _REFS_PER_QUERY], shipment__channel_id__in=channels
        ).values_list("shipment__channel_id", "order_number", "shipment__delivered_at"):
            if (channel_id, ref) in wanted:
                parcels.setdefault((channel_id, ref), []).append(delivered_at)
    return {key: max(times) for key, times in parcels.items() if times and all(times)}  # type: ignore[type-var]
