"""Reads of logistics data: shipment lists, the LOG-01 exception list, LOG-03 carrier
statistics and suggestion, and LOG-02's delivered shipments."""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from storeops.catalog import selectors as catalog_selectors
from storeops.core.queries import get_or_not_found
from storeops.fulfilment.models import (
    Carrier,
    CarrierRule,
    CarrierStatsVersion,
    Shipment,
    ShipmentOrder,
    ShipmentStatus,
    TrackingEvent,
)
from storeops.fulfilment.rules import (
    DEFAULT_POLICY,
    Breach,
    CarrierChoice,
    CarrierFigures,
    CarrierLimits,
    Fragile,
    Parcel,
    Suggestion,
    SuggestPolicy,
    choose_carrier,
    hours_between,
    median,
    parcel_of,
    parcels_strictest,
    percentile,
    province_short,
)
from storeops.stores.models import Channel, Store
from storeops.stores.playbook import PlaybookSettings
from storeops.stores.selectors import playbook_get

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
    # shipped with this carrier where it was the suggestion / where another carrier was
    suggestion_followed: int = 0
    suggestion_overridden: int = 0

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


def _transit_hours(row: dict[str, Any]) -> Decimal:
    """Pickup to delivery in hours to 0.1 (half up), worked out once per row (kept in the row:
    the statistics group each row twice, per province and overall). Integer arithmetic: the
    same value as ``(Decimal(seconds) / 3600).quantize(Decimal("0.1"), ROUND_HALF_UP)``."""
    cached = row.get("_hours")
    if cached is None:
        seconds = int(row["transit"].total_seconds())
        tenths = (2 * abs(seconds) + 360) // 720
        cached = row["_hours"] = Decimal(-tenths if seconds < 0 else tenths).scaleb(-1)
    return cached


def _stat(code: str, name: str, province: str, rows: Iterable[dict[str, Any]]) -> CarrierStat:
    rows = list(rows)
    hours = [
        _transit_hours(r)
        for r in rows
        if r["status"] == ShipmentStatus.DELIVERED and r["transit"] is not None
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
    followed = sum(1 for r in rows if r["suggested_carrier"] == code)
    overridden = sum(1 for r in rows if r["suggested_carrier"] not in ("", code))
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
        suggestion_followed=followed,
        suggestion_overridden=overridden,
    )


_STAT_FIELDS = (
    "carrier__code",
    "carrier__name",
    "province",
    "status",
    "transit",
    "shipping_cost",
    "weight_kg",
    "suggested_carrier",
)


def _stat_rows(qs: QuerySet[Shipment]) -> QuerySet[Any]:
    """The columns the statistics read; the time from pickup to delivery is worked out by the
    database (one value per row to convert instead of two: the suggestion reads every
    shipment of the window whenever a parcel ships)."""
    transit = ExpressionWrapper(F("delivered_at") - F("shipped_at"), output_field=DurationField())
    return qs.annotate(transit=transit).values(*_STAT_FIELDS)


def _stats_of(rows: Iterable[dict[str, Any]], *, by_province: bool) -> list[CarrierStat]:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        key = (row["carrier__code"], row["carrier__name"], row["province"] if by_province else "")
        groups[key].append(row)
    return [_stat(code, name, prov, rows) for (code, name, prov), rows in sorted(groups.items())]


def carrier_stats(
    *, store: Store, since: dt.datetime | None = None, province: str | None = None, by_province: bool = True
) -> list[CarrierStat]:
    """Per carrier (× destination province when ``by_province``): shipments, delivery time from
    pickup to delivery (median / p90 hours), average cost and cost per kg, problem count, and
    how often the parcel went with the suggested carrier or another one.
    Shipments still on the way count for cost and volume, not for time."""
    qs = Shipment.objects.filter(store=store)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if province:
        qs = qs.filter(province=province)
    return _stats_of(_stat_rows(qs), by_province=by_province)


@dataclass(frozen=True, slots=True)
class Adoption:
    """How often shipping followed the suggested carrier (LOG-03)."""

    suggested: int  # parcels shipped while a carrier was suggested
    followed: int

    @property
    def rate(self) -> Decimal | None:
        return (
            (Decimal(self.followed) / self.suggested).quantize(Decimal("0.0001")) if self.suggested else None
        )


def suggestion_adoption(stats: Iterable[CarrierStat]) -> Adoption:
    rows = list(stats)
    followed = sum(s.suggestion_followed for s in rows)
    return Adoption(suggested=followed + sum(s.suggestion_overridden for s in rows), followed=followed)


def carrier_rule_list(*, store: Store) -> QuerySet[CarrierRule]:
    return CarrierRule.objects.filter(store=store).select_related("carrier").order_by("carrier__code")


def carrier_limits(*, store: Store) -> dict[str, CarrierLimits]:
    """The store's carrier rules as the pure :class:`rules.CarrierLimits`, by carrier code."""
    return {
        r.carrier.code: CarrierLimits(
            carrier_code=r.carrier.code,
            max_weight_kg=r.max_weight_kg,
            max_items=r.max_items,
            excluded_provinces=tuple(r.excluded_provinces or ()),
            fragile=Fragile(r.fragile),
        )
        for r in carrier_rule_list(store=store)
    }


def parcel_from_lines(
    *, store: Store, lines: Iterable[tuple[str, int]], weight_kg: Decimal | None = None
) -> Parcel:
    """A parcel of these ``(sku code, qty)`` lines: units counted, weight from the SKUs'
    weights (unknown when one SKU has none; ``weight_kg`` when given, e.g. weighed on the
    scale), fragile when one SKU is."""
    lines = [(str(code).strip(), int(qty)) for code, qty in lines]
    facts = catalog_selectors.sku_shipping_facts(store=store, codes=[c for c, _q in lines])
    parcel = parcel_of((qty, *facts.get(code, (None, False))) for code, qty in lines)
    if weight_kg is not None:
        parcel = Parcel(weight_kg=weight_kg, items=parcel.items, fragile=parcel.fragile)
    return parcel


def carrier_stats_since(
    *, store: Store, now: dt.datetime | None = None, days: int | None = None
) -> dt.datetime:
    """The start of the statistics window: ``days`` back, by default the playbook's
    ``carrier_stats_days``."""
    if days is None:
        days = playbook_get(store=store).carrier_stats_days
    return (now or timezone.now()) - dt.timedelta(days=max(1, min(days, 3650)))


_BREACH_TEXT = {
    Breach.OVERWEIGHT: gettext_lazy("超过限重 %(weight)s kg"),
    Breach.TOO_MANY_ITEMS: gettext_lazy("超过每件最多 %(items)s 件"),
    Breach.PROVINCE_EXCLUDED: gettext_lazy("不配送%(province)s"),
    Breach.FRAGILE_REFUSED: gettext_lazy("不收易碎品"),
}


def breach_text(breach: Breach, limits: CarrierLimits, province: str) -> str:
    """One broken rule in words, in the active language."""
    return str(_BREACH_TEXT[breach]) % {
        "weight": format(limits.max_weight_kg.normalize(), "f") if limits.max_weight_kg is not None else "",
        "items": limits.max_items,
        "province": province_short(province),
    }


def _why(code: str, broken: list[Breach], limits: dict[str, CarrierLimits], province: str) -> str:
    return gettext("，").join(breach_text(b, limits[code], province) for b in broken)


@dataclass(frozen=True, slots=True)
class CarrierSuggestion:
    """The LOG-03 carrier advice for one parcel (or several shipped together) to ``province``."""

    province: str
    parcel: Parcel
    choice: CarrierChoice
    limits: dict[str, CarrierLimits]

    @property
    def ranked(self) -> list[Suggestion]:
        return self.choice.ranked

    @property
    def best(self) -> Suggestion | None:
        """The suggested carrier's score line (None when it has no figures or none is)."""
        return next((s for s in self.ranked if s.carrier_code == self.choice.best), None)

    @property
    def best_code(self) -> str:
        return self.choice.best or ""

    def excluded_reasons(self) -> dict[str, str]:
        """Carrier → the rules it breaks for this parcel, in words."""
        return {c: _why(c, b, self.limits, self.province) for c, b in self.choice.excluded.items()}

    @property
    def reason(self) -> str:
        """Why this carrier, in the active language (zh / en)."""
        choice, parts = self.choice, []
        best = self.best
        if best is not None:
            parts.append(
                gettext(
                    "建议 %(carrier)s：在符合发货规则的快递中，按时效（P90 %(hours)s 小时）、"
                    "预估运费（%(cost)s）和问题件率综合评分最优"
                )
                % {"carrier": best.carrier_code, "hours": best.estimated_hours, "cost": best.estimated_cost}
            )
            if best.fallback:
                parts.append(gettext("发往该省的签收样本不足，按全国数据"))
        elif choice.best:
            parts.append(
                gettext("建议 %(carrier)s：易碎品首选快递（尚无时效数据）") % {"carrier": choice.best}
                if choice.best in choice.preferred
                else gettext("建议 %(carrier)s：唯一符合发货规则的快递（尚无时效数据）")
                % {"carrier": choice.best}
            )
        elif choice.ranked or choice.unranked:
            parts.append(gettext("暂无建议：符合发货规则的快递都还没有签收数据"))
        else:
            parts.append(gettext("暂无建议：没有符合发货规则的快递"))
        if best is not None and choice.best in choice.preferred:
            parts.append(gettext("包裹含易碎品，易碎品首选快递优先"))
        if choice.excluded:
            parts.append(
                gettext("已排除：%(list)s")
                % {
                    "list": gettext("；").join(
                        gettext("%(carrier)s（%(why)s）") % {"carrier": code, "why": why}
                        for code, why in self.excluded_reasons().items()
                    )
                }
            )
        if choice.weight_unchecked:
            parts.append(gettext("包裹重量未知（有 SKU 未填重量），未按限重筛选"))
        if choice.items_unchecked:
            parts.append(gettext("包裹件数未知，未按件数筛选"))
        return gettext("；").join(parts)


# ---- LOG-03: the statistics, cached --------------------------------------------------------------

STATS_CACHE_BUCKET_SECONDS = 600
_STATS_CACHE_PREFIX = "fulfilment:carrier-stats:v1"


@dataclass(frozen=True, slots=True)
class CarrierStatsSnapshot:
    """A store's carrier statistics over one window (created at or after ``since``): per
    carrier × destination province, and per carrier over all destinations. What the suggestion,
    the carrier page and the API read; computed by :func:`carrier_stats_snapshot`."""

    since: dt.datetime | None
    by_province: tuple[CarrierStat, ...]
    overall: tuple[CarrierStat, ...]

    def local(self, province: str) -> dict[str, CarrierStat]:
        """Carrier → its figures for parcels to ``province``."""
        return {s.carrier_code: s for s in self.by_province if s.province == province}

    def national(self) -> dict[str, CarrierStat]:
        return {s.carrier_code: s for s in self.overall}


def carrier_stats_pending() -> set[int]:
    """Stores whose statistics this database connection changed in its open transaction
    (``services.carrier_stats_changed`` adds them; the token renewal after the commit takes
    them out). Their statistics are read past the cache until then: an entry computed from
    uncommitted rows must never be cached (the transaction may roll back)."""
    connection = transaction.get_connection()
    pending: set[int] | None = getattr(connection, "_storeops_carrier_stats_pending", None)
    if pending is None:
        pending = set()
        connection._storeops_carrier_stats_pending = pending  # type: ignore[attr-defined]
    elif pending and not connection.in_atomic_block:
        pending.clear()  # left by a transaction that rolled back
    return pending


def carrier_stats_snapshot(*, store: Store, since: dt.datetime | None = None) -> CarrierStatsSnapshot:
    """The statistics computed now from the shipments (one read of the window's rows): the
    reference the cached read must equal."""
    qs = Shipment.objects.filter(store=store)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    rows = list(_stat_rows(qs))
    return CarrierStatsSnapshot(
        since=since,
        by_province=tuple(_stats_of(rows, by_province=True)),
        overall=tuple(_stats_of(rows, by_province=False)),
    )


def carrier_stats_bucket(since: dt.datetime) -> dt.datetime:
    """The window start rounded down to ``STATS_CACHE_BUCKET_SECONDS``: every read within the
    same ten minutes shares one cached window."""
    epoch = int(since.timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % STATS_CACHE_BUCKET_SECONDS, tz=dt.UTC)


def carrier_stats_cached(
    *, store: Store, now: dt.datetime | None = None, days: int | None = None
) -> CarrierStatsSnapshot:
    """The store's carrier statistics over the last ``days`` (default the playbook's
    ``carrier_stats_days``), from Django's cache when it holds them for the current version.

    Why it is correct with several processes and a per-process (local-memory) cache:

    - The key holds the store's :class:`CarrierStatsVersion` token, read from the database on
      every call (one primary-key read). Every committed write that changes the statistics
      (``services.shipment_create``, ``services.tracking_events_ingest``) sets a new token
      after its commit (``services.carrier_stats_changed``), so each process's next read
      misses and recomputes; an entry of an older token is never read again, whichever process
      made it and whatever cache backend holds it (local memory per process, or Redis shared).
    - The token is set *after* the commit, not inside the transaction: no lock on the version
      row is held while a shipment's transaction goes on (``orders.order_ship`` creates one
      parcel per warehouse and moves stock in between), so concurrent shipments never wait on,
      or deadlock over, it. A read between the commit and the new token caches the new data
      under the old token, which the new token then retires.
    - The window start is rounded down to ten minutes (:func:`carrier_stats_bucket`) and is
      part of the key: a cached entry is exactly the statistics of the window from that start
      (so parcels leave the window at most ten minutes late), and entries expire after two
      buckets. The expiry also bounds the damage of a token lost because a process died
      between its commit and the new token.
    - Carrier rules and which carriers are active are not cached: the suggestion reads them on
      every call (two small reads), so a rule change applies at once, without a new token.
    - No version row (no shipment or tracking written through the services yet), or a read
      inside the transaction that changed the statistics (:func:`carrier_stats_pending`):
      computed without the cache."""
    if days is None:
        days = playbook_get(store=store).carrier_stats_days
    since = carrier_stats_bucket(carrier_stats_since(store=store, now=now, days=days))
    token = CarrierStatsVersion.objects.filter(store_id=store.pk).values_list("token", flat=True).first()
    if token is None or store.pk in carrier_stats_pending():
        return carrier_stats_snapshot(store=store, since=since)
    key = f"{_STATS_CACHE_PREFIX}:{store.pk}:{int(since.timestamp())}:{token}"
    snapshot = cache.get(key)
    if snapshot is None:
        snapshot = carrier_stats_snapshot(store=store, since=since)
        cache.set(key, snapshot, timeout=2 * STATS_CACHE_BUCKET_SECONDS)
    return snapshot


def carrier_suggest(
    *,
    store: Store,
    province: str,
    parcel: Parcel | None = None,
    weight_kg: Decimal | None = None,
    items: int | None = None,
    fragile: bool = False,
    since: dt.datetime | None = None,
    stats: CarrierStatsSnapshot | None = None,
    policy: SuggestPolicy = DEFAULT_POLICY,
) -> CarrierSuggestion:
    """The carrier for a parcel to ``province`` (LOG-03): the store's carrier rules decide
    which active carriers may take it (:func:`rules.choose_carrier`), then the weighted
    score of :func:`rules.rank_carriers` ranks those: the province's own figures when a
    carrier has at least ``policy.min_samples`` deliveries there, else its nationwide figures
    (marked fallback). ``parcel`` (see :func:`parcel_from_lines`) or its ``weight_kg`` /
    ``items`` / ``fragile``. The figures: ``stats`` when given (usually
    :func:`carrier_stats_cached`), else computed now from the shipments created since ``since``."""
    parcel = parcel or Parcel(weight_kg=weight_kg, items=items, fragile=fragile)
    active = list(carrier_list(active_only=True).values_list("code", flat=True))
    if stats is None:  # the province's rows and all rows only (the uncached reference)
        qs = Shipment.objects.filter(store=store)
        if since is not None:
            qs = qs.filter(created_at__gte=since)
        rows = list(_stat_rows(qs))
        local_rows = (r for r in rows if r["province"] == province)
        local = {s.carrier_code: s for s in _stats_of(local_rows, by_province=False)}
        national = {s.carrier_code: s for s in _stats_of(rows, by_province=False)}
    else:
        local, national = stats.local(province), stats.national()
    figures = []
    for code in sorted(set(active) & (set(local) | set(national))):
        stat = local.get(code)
        if stat is not None and stat.delivered >= policy.min_samples:
            figures.append(stat.figures())
        elif code in national and national[code].delivered > 0:
            figures.append(national[code].figures(fallback=True))
    limits = carrier_limits(store=store)
    choice = choose_carrier(active, limits, figures, parcel=parcel, province=province, policy=policy)
    return CarrierSuggestion(province=province, parcel=parcel, choice=choice, limits=limits)


def carrier_suggest_for_parcels(
    *,
    store: Store,
    province: str,
    parcels: Sequence[Sequence[tuple[str, int]]],
    now: dt.datetime | None = None,
) -> CarrierSuggestion:
    """The suggestion for parcels (their ``(sku code, qty)`` lines) that ship with one
    carrier — an order from several warehouses: the carrier must take each of them. The
    statistics window is the playbook's ``carrier_stats_days``, read through the cache
    (:func:`carrier_stats_cached`)."""
    parcel = parcels_strictest([parcel_from_lines(store=store, lines=p) for p in parcels if p])
    return carrier_suggest(
        store=store, province=province, parcel=parcel, stats=carrier_stats_cached(store=store, now=now)
    )


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
