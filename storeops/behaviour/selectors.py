"""Reads of shopper behaviour: the funnel, paths, dwell and bounce (DATA-05), the traffic
sources with their spend and ROI (DATA-04), imports, and the interactions a recommendation
engine learns from.

A period is whole local days ``since … until`` (inclusive). Without dates it is the
playbook's ``behaviour_window_days`` ending with the last day that has events (so an
imported historical data set shows up without typing its dates)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Case, Count, DateField, Max, Q, QuerySet, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop

from storeops.behaviour import rules
from storeops.behaviour.models import (
    BehaviourImport,
    Event,
    EventKind,
    ImportKind,
    ImportStatus,
    PageType,
    SourceCost,
    TrafficSource,
)
from storeops.core.errors import ValidationError
from storeops.core.queries import get_or_not_found
from storeops.marketing import selectors as marketing_selectors
from storeops.stores.models import Store
from storeops.stores.playbook import PlaybookSettings
from storeops.stores.selectors import playbook_get

SOURCE_CHOICES = TrafficSource.choices
PAGE_TYPE_CHOICES = PageType.choices
EVENT_KIND_CHOICES = EventKind.choices
IMPORT_STATUS_CHOICES = ImportStatus.choices
IMPORT_KIND_CHOICES = ImportKind.choices
# an import's file_format: the file layouts of ingest.FORMATS, or "api" for an API batch
IMPORT_FORMAT_LABELS = {
    "taobao": gettext_lazy("淘宝行为 CSV"),
    "generic": gettext_lazy("通用 CSV"),
    "api": gettext_lazy("API（JSON）"),
}


def import_format_label(file_format: str) -> str:
    """An import's format as people read it ("api" → "API（JSON）"); an unknown one as stored."""
    return str(IMPORT_FORMAT_LABELS.get(file_format, file_format))


STEP_LABELS = {
    "home": gettext_noop("首页"),
    "category": gettext_noop("分类/搜索页"),
    "product": gettext_noop("商品页"),
    "cart": gettext_noop("加购"),
    "pay": gettext_noop("支付"),
}
# DATA-05 thresholds: the conversion *into* each step from the one before
STEP_THRESHOLDS = {
    "category": "funnel_min_category_rate",
    "product": "funnel_min_product_rate",
    "cart": "funnel_min_cart_rate",
    "pay": "funnel_min_pay_rate",
}
MAX_PERIOD_DAYS = 366


@dataclass(frozen=True, slots=True)
class Period:
    since: dt.date
    until: dt.date

    @property
    def start(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.since, dt.time()))

    @property
    def end(self) -> dt.datetime:  # exclusive
        return timezone.make_aware(dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time()))

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1


def last_event_day(*, store: Store) -> dt.date | None:
    latest = Event.objects.filter(store=store).aggregate(m=Max("occurred_at"))["m"]
    return None if latest is None else timezone.localdate(latest)


def period_of(
    *,
    store: Store,
    since: dt.date | None = None,
    until: dt.date | None = None,
    book: PlaybookSettings | None = None,
) -> Period:
    days = (book or playbook_get(store=store)).behaviour_window_days
    if until is None:
        until = (
            since + dt.timedelta(days=days - 1)
            if since is not None
            else (last_event_day(store=store) or timezone.localdate())
        )
    if since is None:
        since = until - dt.timedelta(days=days - 1)
    if since > until:
        raise ValidationError(
            gettext_lazy("开始日期不能晚于结束日期"), fields={"since": gettext_lazy("须不晚于结束日期")}
        )
    if (until - since).days >= MAX_PERIOD_DAYS:
        raise ValidationError(gettext_lazy("统计区间过长"), fields={"since": gettext_lazy("最多 366 天")})
    return Period(since, until)


def events_in(*, store: Store, period: Period, channel_id: int | None = None) -> QuerySet[Event]:
    qs = Event.objects.filter(store=store, occurred_at__gte=period.start, occurred_at__lt=period.end)
    if channel_id is not None:
        qs = qs.filter(channel_id=channel_id)
    return qs


# --- DATA-01: page views and distinct visitors per day ------------------------------------------


def _local_day(period: Period) -> Case | Value:
    """The local day of ``occurred_at`` within ``period``, as a balanced tree of comparisons
    with the days' starts (made aware in the store's time zone, so DST is right): a few
    native comparisons per row instead of a time-zone conversion per row (``TruncDate`` is a
    Python function call per row on SQLite, four times slower on 100k events)."""
    days = [period.since + dt.timedelta(days=n) for n in range(period.days)]

    def tree(lo: int, hi: int) -> Case | Value:  # days[lo:hi], hi - lo >= 1
        if hi - lo == 1:
            return Value(days[lo], output_field=DateField())
        mid = (lo + hi) // 2
        boundary = timezone.make_aware(dt.datetime.combine(days[mid], dt.time()))
        return Case(
            When(occurred_at__lt=boundary, then=tree(lo, mid)),
            default=tree(mid, hi),
            output_field=DateField(),
        )

    return tree(0, len(days))


def page_views_by_channel_day(
    *, store: Store, start: dt.date, end: dt.date, channel_id: int | None = None
) -> dict[tuple[int | None, dt.date], tuple[int, int]]:
    """DATA-01: (PV, UV) per (channel, local day) over ``start..end`` (inclusive): page-view
    events, and the distinct visitors who viewed a page that day on that channel (a visitor who
    views three products is one visitor, three page views). Events without a channel are under
    ``None``; ``channel_id`` keeps one channel. One grouped query."""
    period = Period(start, end)
    rows = (
        events_in(store=store, period=period, channel_id=channel_id)
        .filter(kind=EventKind.PAGE_VIEW)
        .annotate(day=_local_day(period))
        .values("channel_id", "day")
        .annotate(pv=Count("id"), uv=Count("visitor_id", distinct=True))
        .order_by()
    )
    return {(r["channel_id"], r["day"]): (r["pv"], r["uv"]) for r in rows}


class ProductDayActivity(NamedTuple):
    clicks: int  # page views of the product
    visitors: int  # distinct visitors who viewed it
    add_to_cart: int  # distinct visitors who added it to their cart
    buyers: int  # distinct visitors who paid for it


def product_activity_by_day(
    *,
    store: Store,
    start: dt.date,
    end: dt.date,
    product_ids: list[int],
    channel_id: int | None = None,
) -> dict[tuple[int, int | None, dt.date], ProductDayActivity]:
    """LIST-07: what the events counted per (product, channel, local day) over ``start..end``
    (inclusive), for the events linked to one of ``product_ids``: page views, distinct viewers,
    distinct visitors adding to cart and distinct payers. Events without a channel are under
    ``None``; ``channel_id`` keeps one channel. One grouped query."""
    if not product_ids or start > end:
        return {}
    period = Period(start, end)
    kinds = (EventKind.PAGE_VIEW, EventKind.ADD_TO_CART, EventKind.PAY)
    views, cart, pay = (Q(kind=kind) for kind in kinds)
    rows = (
        events_in(store=store, period=period, channel_id=channel_id)
        .filter(product_id__in=product_ids, kind__in=kinds)
        .annotate(day=_local_day(period))
        .values("product_id", "channel_id", "day")
        .annotate(
            clicks=Count("id", filter=views),
            visitors=Count("visitor_id", distinct=True, filter=views),
            carts=Count("visitor_id", distinct=True, filter=cart),
            buyers=Count("visitor_id", distinct=True, filter=pay),
        )
        .order_by()
    )
    return {
        (r["product_id"], r["channel_id"], r["day"]): ProductDayActivity(
            r["clicks"], r["visitors"], r["carts"], r["buyers"]
        )
        for r in rows
    }


# --- DATA-05: funnel ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FunnelReport:
    period: Period
    funnel: rules.Funnel
    thresholds: dict[str, Decimal]  # step → minimum conversion into it
    shortfalls: list[rules.StepShortfall]
    min_visitors: int


def funnel_report(
    *,
    store: Store,
    since: dt.date | None = None,
    until: dt.date | None = None,
    channel_id: int | None = None,
    book: PlaybookSettings | None = None,
    period: Period | None = None,
) -> FunnelReport:
    """Visitors per step (reached at least), drop-off, add-to-cart rate, payment bounce and
    the steps converting below the playbook (three aggregate queries)."""
    book = book or playbook_get(store=store)
    period = period or period_of(store=store, since=since, until=until, book=book)
    qs = events_in(store=store, period=period, channel_id=channel_id)
    deepest = Counter(qs.values("visitor_id").annotate(d=Max("step")).values_list("d", flat=True))
    seen = {
        row["step"]: row["n"]
        for row in qs.filter(step__gt=0).values("step").annotate(n=Count("visitor_id", distinct=True))
    }
    carts = qs.filter(kind=EventKind.ADD_TO_CART).values("visitor_id")
    carted = carts.distinct().count()
    carted_paid = (
        carts.filter(visitor_id__in=qs.filter(kind=EventKind.PAY).values("visitor_id")).distinct().count()
        if carted
        else 0
    )
    result = rules.funnel(deepest=deepest, seen=seen, carted=carted, carted_paid=carted_paid)
    thresholds = {step: getattr(book, name) for step, name in STEP_THRESHOLDS.items()}
    shortfalls = rules.funnel_shortfalls(
        result, thresholds=thresholds, min_visitors=book.behaviour_min_visitors
    )
    return FunnelReport(period, result, thresholds, shortfalls, book.behaviour_min_visitors)


# --- DATA-05: paths, dwell, bounce -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PathReport:
    period: Period
    stats: rules.PathStats


def path_report(
    *,
    store: Store,
    since: dt.date | None = None,
    until: dt.date | None = None,
    channel_id: int | None = None,
    top: int = 20,
) -> PathReport:
    """Most common page-type sequences of the sessions, bounce rate (single-event sessions)
    and dwell per page type. Streams the period's events in session order (one query)."""
    book = playbook_get(store=store)
    period = period_of(store=store, since=since, until=until, book=book)
    rows = (
        events_in(store=store, period=period, channel_id=channel_id)
        .order_by("session_id", "occurred_at", "id")
        .values_list("session_id", "occurred_at", "page_type", "dwell_seconds")
        .iterator(chunk_size=5000)
    )
    events = (rules.PathEvent(s, int(at.timestamp()), page, dwell) for s, at, page, dwell in rows)
    stats = rules.path_stats(
        events, gap_seconds=book.behaviour_session_gap_minutes * 60, top=max(1, min(top, 100))
    )
    return PathReport(period, stats)


# --- DATA-04: traffic sources --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceReport:
    period: Period
    rows: list[rules.SourceFigures]
    ad_spend: Decimal  # the paid source's spend from marketing's ad stats (part of its spend)
    recorded_spend: dict[str, Decimal]  # per source, from SourceCost rows
    min_conversion: Decimal
    min_roi: Decimal
    min_visitors: int

    def alerts(self) -> list[rules.SourceAlert]:
        found = []
        for row in self.rows:
            found += rules.source_alerts(
                row,
                min_conversion=self.min_conversion,
                min_roi=self.min_roi,
                min_visitors=self.min_visitors,
            )
        return found


def source_report(
    *,
    store: Store,
    since: dt.date | None = None,
    until: dt.date | None = None,
    channel_id: int | None = None,
    book: PlaybookSettings | None = None,
    period: Period | None = None,
) -> SourceReport:
    """Per traffic source: visitors, buyers, conversion, revenue (the pay events' amounts),
    spend and ROI. Spend = the recorded source costs of the period, plus — for ``paid`` —
    what the ad plans spent (marketing's keyword daily stats; one channel's plans when
    ``channel_id`` is given). A source with no cost recorded has spend None: not measured."""
    book = book or playbook_get(store=store)
    period = period or period_of(store=store, since=since, until=until, book=book)
    qs = events_in(store=store, period=period, channel_id=channel_id)
    visitors = {
        r["source"]: r["v"] for r in qs.values("source").annotate(v=Count("visitor_id", distinct=True))
    }
    pays = {
        r["source"]: r
        for r in qs.filter(kind=EventKind.PAY)
        .values("source")
        .annotate(
            b=Count("visitor_id", distinct=True),
            r=Sum("amount"),
            u=Count("id", filter=Q(amount__isnull=True)),
        )
    }
    costs = SourceCost.objects.filter(store=store, day__gte=period.since, day__lte=period.until)
    if channel_id is not None:
        costs = costs.filter(channel_id=channel_id)
    recorded = {
        r["source"]: Decimal(r["s"] or 0).quantize(Decimal("0.01"))
        for r in costs.values("source").annotate(s=Sum("amount"))
    }
    ads = marketing_selectors.ad_spend_total(
        store=store, since=period.since, until=period.until, channel_id=channel_id
    ).amount
    rows = []
    for source in TrafficSource.values:
        spend: Decimal | None = recorded.get(source)
        if source == TrafficSource.PAID and ads:
            spend = (spend or Decimal(0)) + ads
        pay = pays.get(source, {})
        if not visitors.get(source) and spend is None:
            continue
        rows.append(
            rules.SourceFigures(
                source=source,
                visitors=visitors.get(source, 0),
                buyers=pay.get("b", 0),
                revenue=Decimal(pay.get("r") or 0).quantize(Decimal("0.01")),
                unpriced_payments=pay.get("u", 0),
                spend=spend,
            )
        )
    return SourceReport(
        period,
        rows,
        ads,
        recorded,
        book.source_min_conversion,
        book.source_min_roi,
        book.behaviour_min_visitors,
    )


def source_cost_list(
    *, store: Store, since: dt.date | None = None, until: dt.date | None = None
) -> QuerySet[SourceCost]:
    qs = SourceCost.objects.filter(store=store).select_related("channel")
    if since is not None:
        qs = qs.filter(day__gte=since)
    if until is not None:
        qs = qs.filter(day__lte=until)
    return qs.order_by("-day", "source", "channel_id")


# --- imports ----------------------------------------------------------------------------------------------


def import_list(*, store: Store, status: str = "", kind: str = "") -> QuerySet[BehaviourImport]:
    qs = BehaviourImport.objects.filter(store=store).select_related("channel")
    if status:
        if status not in ImportStatus.values:
            raise ValidationError(gettext_lazy("状态无效"), fields={"status": "、".join(ImportStatus.values)})
        qs = qs.filter(status=status)
    if kind:
        if kind not in ImportKind.values:
            raise ValidationError(gettext_lazy("来源无效"), fields={"kind": "、".join(ImportKind.values)})
        qs = qs.filter(kind=kind)
    return qs.order_by("-created_at", "-id")


def import_get(*, store: Store, import_id: int) -> BehaviourImport:
    return get_or_not_found(
        BehaviourImport.objects.select_related("channel"),
        gettext_lazy("导入记录不存在"),
        store=store,
        pk=import_id,
    )


def event_count(*, store: Store) -> int:
    return Event.objects.filter(store=store).count()


# --- for the recommendation engine -------------------------------------------------------------------------


class Interaction(NamedTuple):
    visitor_id: str
    item_key: str  # the external item id as the events carry it (Taobao item id, SKU code, …)
    kind: str  # EventKind value: page_view / favourite / add_to_cart / order / pay
    timestamp: dt.datetime


def interactions(*, store: Store, since: dt.datetime | None = None) -> Iterator[Interaction]:
    """Every event of ``store`` that names an item, oldest first, streamed in chunks (for
    a recommendation engine: implicit feedback with the kind as its strength)."""
    qs = Event.objects.filter(store=store).exclude(item_id="")
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    rows = qs.order_by("occurred_at", "id").values_list("visitor_id", "item_id", "kind", "occurred_at")
    for row in rows.iterator(chunk_size=5000):
        yield Interaction(*row)


def favourited_by(*, store: Store, product_id: int, until: dt.datetime | None = None) -> set[str]:
    """Customers (events carrying a customer ref) who favourited the product — for MEM-06's
    price-drop alert "您收藏的XX商品直降50元". Anonymous visitors cannot be messaged."""
    qs = Event.objects.filter(store=store, product_id=product_id, kind=EventKind.FAVOURITE).exclude(
        customer_ref=""
    )
    if until is not None:
        qs = qs.filter(occurred_at__lte=until)
    return set(qs.values_list("customer_ref", flat=True).distinct())


def product_interactions(*, store: Store, since: dt.datetime, until: dt.datetime) -> Iterator[Interaction]:
    """Events linked to a catalogue product in ``[since, until)``, oldest first, with the
    product id as the item key and the customer ref (else the visitor id) as the visitor, so
    that a signed-in shopper's browsing and orders are one person (REC-01)."""
    rows = (
        Event.objects.filter(
            store=store, product__isnull=False, occurred_at__gte=since, occurred_at__lt=until
        )
        .order_by("occurred_at", "id")
        .values_list("customer_ref", "visitor_id", "product_id", "kind", "occurred_at")
    )
    for customer, visitor, product_id, kind, at in rows.iterator(chunk_size=5000):
        yield Interaction(customer or visitor, str(product_id), kind, at)
