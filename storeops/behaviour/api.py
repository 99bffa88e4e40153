"""Behaviour API (/api/v1/behaviour). Posting events (the own web shop's tracking, with an
API token whose role has ``behaviour.ingest_event``); imports; DATA-05 funnel and paths;
DATA-04 traffic sources and their recorded costs. Reports filter by ``since`` / ``until``
(local dates, inclusive; default: the playbook's window ending with the last day that has
events) and ``channel_id``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from storeops.accounts.access import perm, principal
from storeops.behaviour import rules, selectors, services
from storeops.behaviour.models import EventKind, ImportKind, ImportStatus, PageType, TrafficSource
from storeops.core.api import OneOf, Page, paginate
from storeops.stores.models import Channel, Store

router = Router(tags=["behaviour"])


def _store(store_id: int) -> Store:
    return get_object_or_404(Store, pk=store_id)


def _channel(store: Store, channel_id: int | None) -> Channel | None:
    return None if channel_id is None else get_object_or_404(store.channels, pk=channel_id)


# --- events ---------------------------------------------------------------------------------------


# The event's kind, page type and source are listed in the schema but checked by the service
# (as for a file import): a bad batch is answered with every bad field of every event at once,
# each named ``events[<position>].<field>``.
class EventIn(Schema):
    visitor_id: str
    kind: Annotated[str, OneOf(EventKind, checked=False)]
    occurred_at: dt.datetime | int  # ISO 8601 or unix seconds
    page_type: Annotated[str, OneOf(PageType, blank=True, checked=False)] = ""  # "": the kind's usual page
    source: Annotated[str, OneOf(TrafficSource, blank=True, checked=False)] = ""  # "": other
    customer_ref: str = ""
    item_id: str = ""
    category_id: str = ""
    dwell_seconds: int | None = None
    order_ref: str = ""
    amount: Decimal | None = None  # pay events only


class EventBatchIn(Schema):
    channel_id: int | None = None
    batch_id: str = Field("", description="optional, unique per store: a retried batch is not stored twice")
    events: list[EventIn]


class BehaviourImportOut(Schema):
    id: int
    kind: str
    channel_id: int | None
    file_name: str
    file_format: str
    status: str
    rows: int
    imported: int
    bad_rows: int
    sessions: int
    linked: int
    first_at: dt.datetime | None
    last_at: dt.datetime | None
    seconds: Decimal
    created_by: str
    created_at: dt.datetime


class ImportDetailOut(BehaviourImportOut):
    errors: list[dict[str, Any]]
    error_summary: dict[str, int]


@router.post("/{store_id}/events", response={201: BehaviourImportOut}, auth=perm("behaviour.ingest_event"))
def events_post(request: HttpRequest, store_id: int, payload: EventBatchIn) -> Any:
    """One batch of at most 1,000 events, stored all or nothing (422 names each bad event as
    ``events[<position>].<field>``); sessions are assigned on arrival (the playbook's
    inactivity gap). Send each event's traffic source (the session's landing source)."""
    store = _store(store_id)
    run = services.events_post(
        actor=principal(request).actor,
        store=store,
        channel=_channel(store, payload.channel_id),
        batch_id=payload.batch_id,
        events=[e.dict() for e in payload.events],
    )
    return Status(201, run)


@router.get(
    "/{store_id}/imports", response=Page[BehaviourImportOut], auth=perm("behaviour.view_behaviourimport")
)
def import_list(
    request: HttpRequest,
    store_id: int,
    status: Annotated[str, OneOf(ImportStatus, blank=True)] = "",
    kind: Annotated[str, OneOf(ImportKind, blank=True)] = "",
    page: int = 1,
    page_size: int = 50,
) -> Any:
    """File imports and API batches, newest first; ``status`` imported / failed, ``kind``
    file / api."""
    return paginate(selectors.import_list(store=_store(store_id), status=status, kind=kind), page, page_size)


@router.get(
    "/{store_id}/imports/{import_id}", response=ImportDetailOut, auth=perm("behaviour.view_behaviourimport")
)
def import_detail(request: HttpRequest, store_id: int, import_id: int) -> Any:
    """With the bad rows (the first 200 in full) and their count by reason."""
    return selectors.import_get(store=_store(store_id), import_id=import_id)


# --- DATA-05: funnel and paths ----------------------------------------------------------------------


class PeriodOut(Schema):
    since: dt.date
    until: dt.date


class StepOut(Schema):
    code: str
    label: str
    visitors: int  # reached at least this step
    seen: int  # had an event at exactly this step (0: the step is not observed in the data)
    conversion: Decimal | None  # from the previous step
    drop_off: int
    drop_off_rate: Decimal | None
    threshold: Decimal | None  # the playbook's minimum conversion into this step
    below_threshold: bool


class FunnelOut(Schema):
    period: PeriodOut
    visitors: int
    steps: list[StepOut]
    add_to_cart_rate: Decimal | None
    carted: int
    carted_paid: int
    payment_bounce: Decimal | None  # carts never paid ÷ carts
    overall_conversion: Decimal | None
    min_visitors: int


@router.get("/{store_id}/funnel", response=FunnelOut, auth=perm("behaviour.view_event"))
def funnel(
    request: HttpRequest,
    store_id: int,
    since: dt.date | None = None,
    until: dt.date | None = None,
    channel_id: int | None = None,
) -> Any:
    """DATA-05: home → category/search → product → cart → pay. A step counts the visitors who
    reached at least it; ``below_threshold`` marks the steps the DATA-05 check reports."""
    store = _store(store_id)
    _channel(store, channel_id)
    report = selectors.funnel_report(store=store, since=since, until=until, channel_id=channel_id)
    low = {s.to_step for s in report.shortfalls}
    f = report.funnel
    return {
        "period": {"since": report.period.since, "until": report.period.until},
        "visitors": f.visitors,
        "steps": [
            {
                "code": s.code,
                "label": _(selectors.STEP_LABELS[s.code]),
                "visitors": s.visitors,
                "seen": s.seen,
                "conversion": s.conversion,
                "drop_off": s.drop_off,
                "drop_off_rate": s.drop_off_rate,
                "threshold": report.thresholds.get(s.code),
                "below_threshold": s.code in low,
            }
            for s in f.steps
        ],
        "add_to_cart_rate": f.add_to_cart_rate,
        "carted": f.carted,
        "carted_paid": f.carted_paid,
        "payment_bounce": f.payment_bounce,
        "overall_conversion": f.overall_conversion,
        "min_visitors": report.min_visitors,
    }


class PathOut(Schema):
    pages: list[str]
    sessions: int
    share: Decimal | None


class DwellOut(Schema):
    page_type: str
    views: int
    average_seconds: Decimal | None


class PathsOut(Schema):
    period: PeriodOut
    sessions: int
    single_page_sessions: int
    bounce_rate: Decimal | None
    paths: list[PathOut]
    dwell: list[DwellOut]


@router.get("/{store_id}/paths", response=PathsOut, auth=perm("behaviour.view_event"))
def paths(
    request: HttpRequest,
    store_id: int,
    since: dt.date | None = None,
    until: dt.date | None = None,
    channel_id: int | None = None,
    top: int = 20,
) -> Any:
    """DATA-05: the ``top`` (≤ 100) most common page-type sequences of the sessions, the
    bounce rate (single-event sessions ÷ sessions) and the average dwell per page type."""
    store = _store(store_id)
    _channel(store, channel_id)
    report = selectors.path_report(store=store, since=since, until=until, channel_id=channel_id, top=top)
    st = report.stats
    return {
        "period": {"since": report.period.since, "until": report.period.until},
        "sessions": st.sessions,
        "single_page_sessions": st.single_page_sessions,
        "bounce_rate": st.bounce_rate,
        "paths": [
            {"pages": list(p), "sessions": n, "share": rules.ratio(n, st.sessions)} for p, n in st.paths
        ],
        "dwell": [
            {"page_type": d.page_type, "views": d.views, "average_seconds": d.average_seconds}
            for d in st.dwell
        ],
    }


# --- DATA-04: traffic sources -------------------------------------------------------------------------


class SourceOut(Schema):
    source: str
    label: str
    visitors: int
    buyers: int
    conversion: Decimal | None
    revenue: Decimal
    unpriced_payments: int  # pay events without an amount: revenue is a lower bound
    spend: Decimal | None  # None: no cost recorded (not measured)
    roi: Decimal | None  # (revenue − spend) ÷ spend
    alerts: list[str]  # conversion / roi below the playbook


class SourcesOut(Schema):
    period: PeriodOut
    sources: list[SourceOut]
    ad_spend: Decimal  # part of the paid source's spend, from the ad plans' daily stats
    min_conversion: Decimal
    min_roi: Decimal


@router.get("/{store_id}/sources", response=SourcesOut, auth=perm("behaviour.view_event"))
def sources(
    request: HttpRequest,
    store_id: int,
    since: dt.date | None = None,
    until: dt.date | None = None,
    channel_id: int | None = None,
) -> Any:
    """DATA-04: per traffic source visitors, buyers, conversion, revenue, spend and ROI."""
    store = _store(store_id)
    _channel(store, channel_id)
    report = selectors.source_report(store=store, since=since, until=until, channel_id=channel_id)
    labels = dict(selectors.SOURCE_CHOICES)
    alerts: dict[str, list[str]] = {}
    for a in report.alerts():
        alerts.setdefault(a.source, []).append(a.measure)
    return {
        "period": {"since": report.period.since, "until": report.period.until},
        "sources": [
            {
                "source": r.source,
                "label": str(labels[r.source]),
                "visitors": r.visitors,
                "buyers": r.buyers,
                "conversion": r.conversion,
                "revenue": r.revenue,
                "unpriced_payments": r.unpriced_payments,
                "spend": r.spend,
                "roi": r.roi,
                "alerts": alerts.get(r.source, []),
            }
            for r in report.rows
        ],
        "ad_spend": report.ad_spend,
        "min_conversion": report.min_conversion,
        "min_roi": report.min_roi,
    }


class SourceCostIn(Schema):
    source: Annotated[str, OneOf(TrafficSource)]
    day: dt.date
    amount: Decimal
    channel_id: int | None = None
    note: str = ""


class SourceCostOut(Schema):
    id: int
    source: str
    day: dt.date
    amount: Decimal
    channel_id: int | None
    note: str
    updated_by: str


@router.get("/{store_id}/source-costs", response=Page[SourceCostOut], auth=perm("behaviour.view_sourcecost"))
def source_cost_list(
    request: HttpRequest,
    store_id: int,
    since: dt.date | None = None,
    until: dt.date | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Any:
    return paginate(
        selectors.source_cost_list(store=_store(store_id), since=since, until=until), page, page_size
    )


@router.put("/{store_id}/source-costs", response=SourceCostOut, auth=perm("behaviour.add_sourcecost"))
def source_cost_set(request: HttpRequest, store_id: int, payload: SourceCostIn) -> Any:
    """What a traffic source cost on a day (replaces that day's figure). Do not record the ad
    plans' spend here: it comes from marketing's daily stats and would count twice."""
    store = _store(store_id)
    return services.source_cost_set(
        actor=principal(request).actor,
        store=store,
        source=payload.source,
        day=payload.day,
        amount=payload.amount,
        channel=_channel(store, payload.channel_id),
        note=payload.note,
    )
