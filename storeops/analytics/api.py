"""Analytics API (/api/v1/analytics). TEAM-01: the KPIs of each role. DATA-01: daily metrics.
DATA-07: A/B tests. DATA-08: profitability per product. MEM-04: lifecycle segments and RFM,
the segments' coupons, the customer list export. MEM-07: personas. DATA-06: operations
reports (daily, weekly, monthly, quarterly) and their Excel/PDF exports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from storeops.accounts.access import perm, principal
from storeops.analytics import exports, reports, rules, segments, selectors, services
from storeops.analytics.models import (
    VARIANT_CODES,
    ExperimentStatus,
    ExperimentSubject,
    ReportKindChoice,
    SegmentChoice,
)
from storeops.core.api import OneOf, Page, paginate
from storeops.stores.models import Store

router = Router(tags=["analytics"])


class KpiOut(Schema):
    role: str
    code: str
    label: str
    unit: str  # cny / ratio / minutes / rating / count
    value: Decimal | None
    previous: Decimal | None
    change: Decimal | None  # relative change from the previous period
    target: Decimal | None
    better: Annotated[str, OneOf(rules.Better)]  # whether the target is a floor or a ceiling
    ok: bool | None  # None: no target, or nothing to measure


class AgentOut(Schema):
    username: str
    tickets: int
    responded: int
    median_response_minutes: float | None
    resolved: int


class TeamKpisOut(Schema):
    since: dt.datetime
    until: dt.datetime
    previous_since: dt.datetime
    kpis: list[KpiOut]
    agents: list[AgentOut]


@router.get("/{store_id}/team-kpis", response=TeamKpisOut, auth=perm("sop.view_finding"))
def team_kpis(
    request: HttpRequest, store_id: int, days: int | None = None, until: dt.datetime | None = None
) -> Any:
    """The KPIs of operations, tech and customer service over ``days`` (default: the playbook's
    ``kpi_period_days``) before ``until`` (default: today's local midnight: whole days up to
    yesterday), with the period before and the playbook's targets; customer service per agent."""
    team = selectors.team_kpis(store=get_object_or_404(Store, pk=store_id), until=until, days=days)
    return {
        "since": team.since,
        "until": team.until,
        "previous_since": team.previous_since,
        "kpis": [
            {
                "role": k.role,
                "code": k.code,
                "label": _(selectors.KPI_LABELS[k.code]),
                "unit": k.unit,
                "value": k.value,
                "previous": k.previous,
                "change": k.change,
                "target": k.target,
                "better": str(k.better),
                "ok": k.ok,
            }
            for k in team.kpis
        ],
        "agents": team.agents,
    }


class ProductProfitOut(Schema):
    product_id: int
    code: str
    title: str
    units: int
    revenue: Decimal
    purchase_cost: Decimal
    full_cost: Decimal
    gross_profit: Decimal
    gross_margin: Decimal | None
    net_profit: Decimal
    net_margin: Decimal | None
    roi: Decimal | None  # (sales − cost) ÷ cost
    contribution: Decimal | None  # share of the store's net profit
    low_profit: bool


class ProfitabilityOut(Schema):
    since: dt.datetime
    until: dt.datetime
    min_net_margin: Decimal
    total: ProductProfitOut
    products: list[ProductProfitOut]


def _profit_row(report: selectors.Profitability, p: Any) -> dict[str, Any]:
    return {
        "product_id": p.product_id,
        "code": p.code,
        "title": p.title,
        "units": p.units,
        "revenue": p.revenue,
        "purchase_cost": p.purchase_cost,
        "full_cost": p.full_cost,
        "gross_profit": p.gross_profit,
        "gross_margin": p.gross_margin,
        "net_profit": p.net_profit,
        "net_margin": p.net_margin,
        "roi": p.roi,
        "contribution": report.contribution(p),
        "low_profit": p.low_profit(report.min_net_margin),
    }


@router.get("/{store_id}/profitability", response=ProfitabilityOut, auth=perm("pricing.view_pricechange"))
def profitability(
    request: HttpRequest, store_id: int, days: int | None = None, until: dt.datetime | None = None
) -> Any:
    """Per product over ``days`` (default: ``kpi_period_days``) before ``until`` (default: today's
    local midnight: whole days up to yesterday): revenue (paid less refunded), purchase and full
    cost (PRICE-02), gross/net profit and margin, ROI, share of the profit; ``low_profit`` below
    the playbook's ``low_profit_net_margin``. Highest net profit first."""
    report = selectors.profitability(store=get_object_or_404(Store, pk=store_id), until=until, days=days)
    return {
        "since": report.since,
        "until": report.until,
        "min_net_margin": report.min_net_margin,
        "total": _profit_row(report, report.total),
        "products": [_profit_row(report, p) for p in report.products],
    }


class DayMetricsOut(Schema):
    day: dt.date
    uv: int  # distinct visitors from the behaviour events, else product visitors summed
    pv: int | None  # page views: only when every channel of the day has behaviour events
    uv_source: Annotated[str, OneOf(selectors.UV_SOURCE_LABELS)]  # behaviour / sales_daily / mixed
    uv_source_label: str
    buyers: int
    conversion: Decimal | None  # buyers ÷ UV (the UV above, whichever its source)
    aov: Decimal | None  # GMV ÷ buyers
    gmv: Decimal  # = UV × conversion × AOV
    placed: int
    paid: int
    payment_conversion: Decimal | None  # paid ÷ placed


class WeekMetricsOut(Schema):
    since: dt.datetime
    until: dt.datetime
    new_customer_share: Decimal | None
    target_new_customer_share: Decimal
    repurchase_rate: Decimal | None
    target_repurchase_rate: Decimal
    return_rate: Decimal | None
    gross_margin: Decimal | None
    net_margin: Decimal | None
    nps: Decimal | None  # net promoter score of the 7 days' answers, −100…100
    nps_responses: int
    nps_enough: bool  # at least the playbook's nps_min_responses: judged against target_nps
    nps_ok: bool | None
    target_nps: int


class DailyMetricsOut(Schema):
    days: list[DayMetricsOut]
    week: WeekMetricsOut


@router.get("/{store_id}/daily-metrics", response=DailyMetricsOut, auth=perm("orders.view_order"))
def daily_metrics(
    request: HttpRequest,
    store_id: int,
    days: int = 14,
    end: dt.date | None = None,
    channel_id: int | None = None,
) -> Any:
    """DATA-01: per day (newest first) UV, PV, buyers, conversion, AOV, GMV and payment
    conversion — UV and PV from the behaviour events (distinct visitors) where a channel's day
    has page views, else UV from the channels' statistics (``uv_source``);
    over the 7 days to ``end`` the new-customer share and repurchase rate with their targets,
    the net promoter score (NPS) with its target, the return rate and the gross and net
    margin. ``channel_id``: one channel for the days, else the store."""
    store = get_object_or_404(Store, pk=store_id)
    if channel_id is not None:
        get_object_or_404(store.channels, pk=channel_id)
    return selectors.daily_metrics(store=store, days=days, end=end, channel_id=channel_id)


# --- DATA-07: A/B tests -------------------------------------------------------------------------


class ExperimentIn(Schema):
    name: str
    subject: Annotated[str, OneOf(ExperimentSubject)]
    control: str  # what variant A (today's) shows
    challenger: str  # what variant B shows
    hypothesis: str = ""


class ResultIn(Schema):
    variant: Annotated[str, OneOf(VARIANT_CODES)]
    visitors: int
    conversions: int


class DecideIn(Schema):
    adopt: bool
    note: str


class VariantOut(Schema):
    code: str
    description: str
    visitors: int
    conversions: int


class ExperimentOut(Schema):
    id: int
    name: str
    subject: str
    hypothesis: str
    status: str
    started_at: dt.datetime
    decided_at: dt.datetime | None
    decision_note: str
    variants: list[VariantOut]

    @staticmethod
    def resolve_variants(obj: Any) -> list[Any]:
        return list(obj.variants.all())


class ResultOut(Schema):
    control_rate: Decimal | None
    variant_rate: Decimal | None
    lift: Decimal | None
    p_value: float | None
    decision: str  # adopt / reject / continue
    alpha: Decimal
    min_lift: Decimal


class ExperimentDetailOut(ExperimentOut):
    result: ResultOut


def _experiment(store_id: int, experiment_id: int) -> Any:
    return selectors.experiment_get(store=get_object_or_404(Store, pk=store_id), experiment_id=experiment_id)


def _detail(experiment: Any) -> Any:
    experiment.result = selectors.experiment_result(experiment)
    return experiment


@router.get("/{store_id}/experiments", response=Page[ExperimentOut], auth=perm("analytics.view_experiment"))
def experiment_list(
    request: HttpRequest,
    store_id: int,
    status: Annotated[str, OneOf(ExperimentStatus, blank=True)] = "",
    page: int = 1,
    page_size: int = 50,
) -> Any:
    return paginate(
        selectors.experiment_list(store=get_object_or_404(Store, pk=store_id), status=status), page, page_size
    )


@router.post(
    "/{store_id}/experiments", response={201: ExperimentDetailOut}, auth=perm("analytics.add_experiment")
)
def experiment_create(request: HttpRequest, store_id: int, payload: ExperimentIn) -> Any:
    store = get_object_or_404(Store, pk=store_id)
    created = services.experiment_create(actor=principal(request).actor, store=store, **payload.dict())
    return Status(201, _detail(_experiment(store_id, created.pk)))


@router.get(
    "/{store_id}/experiments/{experiment_id}",
    response=ExperimentDetailOut,
    auth=perm("analytics.view_experiment"),
)
def experiment_detail(request: HttpRequest, store_id: int, experiment_id: int) -> Any:
    """With the z-test of B against A and what it allows (adopt / reject / continue)."""
    return _detail(_experiment(store_id, experiment_id))


@router.get(
    "/{store_id}/experiments/{experiment_id}/assign",
    response=dict[str, str],
    auth=perm("analytics.view_experiment"),
)
def experiment_assign(request: HttpRequest, store_id: int, experiment_id: int, customer: str) -> Any:
    """The variant a customer sees (half of the customers each, always the same one)."""
    experiment = _experiment(store_id, experiment_id)
    return {"customer": customer, "variant": selectors.experiment_assign(experiment, customer)}


@router.post(
    "/{store_id}/experiments/{experiment_id}/results",
    response=ExperimentDetailOut,
    auth=perm("analytics.change_experiment"),
)
def experiment_results(request: HttpRequest, store_id: int, experiment_id: int, payload: ResultIn) -> Any:
    """A variant's cumulative visitors and conversions so far."""
    experiment = _experiment(store_id, experiment_id)
    services.experiment_record(actor=principal(request).actor, experiment=experiment, **payload.dict())
    return _detail(_experiment(store_id, experiment_id))


@router.post(
    "/{store_id}/experiments/{experiment_id}/decide",
    response=ExperimentDetailOut,
    auth=perm("analytics.change_experiment"),
)
def experiment_decide(request: HttpRequest, store_id: int, experiment_id: int, payload: DecideIn) -> Any:
    """Adopt B (only with the evidence) or keep A."""
    experiment = _experiment(store_id, experiment_id)
    services.experiment_decide(
        actor=principal(request).actor, experiment=experiment, adopt=payload.adopt, note=payload.note
    )
    return _detail(_experiment(store_id, experiment_id))


# --- MEM-04: lifecycle segments and RFM -------------------------------------------------------------


class SegmentRowOut(Schema):
    segment: str
    label: str
    customers: int
    monetary: Decimal
    entered: int
    left: int
    actions: list[str]  # what the segment's playbook asks for


class SegmentMoveOut(Schema):
    from_segment: str  # "" = not in the snapshot before (a new buyer)
    to_segment: str
    customers: int


class SegmentOverviewOut(Schema):
    day: dt.date
    previous_day: dt.date | None
    customers: int
    segments: list[SegmentRowOut]
    moves: list[SegmentMoveOut]


class SnapshotRowOut(Schema):
    customer_ref: str
    segment: str
    previous_segment: str
    recency_days: int
    frequency: int
    monetary: Decimal
    r_score: int
    f_score: int
    m_score: int
    first_paid_on: dt.date
    last_paid_on: dt.date
    day: dt.date


class SnapshotIn(Schema):
    day: dt.date | None = None  # default: yesterday


class SnapshotOut(Schema):
    day: dt.date
    customers: int
    segments: dict[str, int]
    moved: int


class SegmentActionOut(Schema):
    id: int
    segment: str
    period_key: str
    snapshot_day: dt.date
    coupon_template_id: int
    customers: int
    issued: int
    skipped: int
    actor_label: str
    created_at: dt.datetime


def _file(body: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _store(store_id: int) -> Store:
    return get_object_or_404(Store, pk=store_id)


@router.get("/{store_id}/segments", response=SegmentOverviewOut, auth=perm("analytics.view_customersnapshot"))
def segment_overview(request: HttpRequest, store_id: int, day: dt.date | None = None) -> Any:
    """MEM-04: customers and money per segment on the snapshot ``day`` (default: the latest),
    the customers who entered and left each segment since the snapshot before, and the moves."""
    o = segments.segment_overview(store=_store(store_id), day=day)
    return {
        "day": o.day,
        "previous_day": o.previous_day,
        "customers": o.customers,
        "segments": o.segments,
        "moves": [{"from_segment": a, "to_segment": b, "customers": n} for a, b, n in o.moves],
    }


@router.get(
    "/{store_id}/segments/customers",
    response=Page[SnapshotRowOut],
    auth=perm("analytics.view_customersnapshot"),
)
def segment_customers(
    request: HttpRequest,
    store_id: int,
    segment: Annotated[str, OneOf(SegmentChoice, blank=True)] = "",
    day: dt.date | None = None,
    sort: Annotated[str, OneOf(segments.SORT_CHOICES)] = "monetary",
    q: str = "",
    page: int = 1,
    page_size: int = 50,
) -> Any:
    """The customers of a segment (or all) on the snapshot with their RFM scores, paginated;
    ``sort``: monetary / recency / frequency / customer."""
    qs = segments.segment_customers(store=_store(store_id), segment=segment, day=day, sort=sort, q=q)
    return paginate(qs, page, page_size)


@router.get("/{store_id}/segments/customers/export", auth=perm("analytics.export_segment"))
def segment_export(
    request: HttpRequest,
    store_id: int,
    segment: Annotated[str, OneOf(SegmentChoice, blank=True)] = "",
    day: dt.date | None = None,
) -> Any:
    """The segment's customer list as Excel for outreach: customer reference, segment, RFM,
    province and city — no names, phones or addresses."""
    return _file(*exports.segment_export(store=_store(store_id), segment=segment, day=day))


@router.post(
    "/{store_id}/segments/snapshot", response=SnapshotOut, auth=perm("analytics.add_customersnapshot")
)
def segment_snapshot(request: HttpRequest, store_id: int, payload: SnapshotIn) -> Any:
    """Take (or retake) the snapshot of ``day`` now; the morning task takes yesterday's."""
    return services.segments_snapshot(actor=principal(request).actor, store=_store(store_id), day=payload.day)


@router.post(
    "/{store_id}/segments/{segment}/action",
    response=SegmentActionOut,
    auth=perm("analytics.run_segment_action"),
)
def segment_action(request: HttpRequest, store_id: int, segment: Annotated[str, OneOf(SegmentChoice)]) -> Any:
    """Issue the segment's coupon (playbook ``segment_coupon_<segment>``) to its customers on
    the latest snapshot, once per period."""
    return services.segment_action_run(
        actor=principal(request).actor, store=_store(store_id), segment=segment
    )


@router.get(
    "/{store_id}/segments/actions",
    response=Page[SegmentActionOut],
    auth=perm("analytics.view_customersnapshot"),
)
def segment_action_list(
    request: HttpRequest,
    store_id: int,
    segment: Annotated[str, OneOf(SegmentChoice, blank=True)] = "",
    page: int = 1,
    page_size: int = 50,
) -> Any:
    return paginate(segments.segment_actions(store=_store(store_id), segment=segment), page, page_size)


# --- MEM-07: personas -----------------------------------------------------------------------------------


class ShareOut(Schema):
    name: str
    share: Decimal


class CountShareOut(Schema):
    code: str  # gender code, age band ("<18", "18-24" … "50+") or city
    label: str
    customers: int
    share: Decimal  # of the customers whose field is known


class DemographicsOut(Schema):
    """MEM-07: the persona's customers by their member profile; shares are of the known."""

    customers: int  # the base: the persona's customers
    members: int  # of them with a member profile
    gender_known: int
    gender_unknown: int
    genders: list[CountShareOut]
    age_year: int  # ages are this year minus the birth year
    age_known: int
    age_unknown: int
    ages: list[CountShareOut]  # every band, in order
    city_known: int
    city_unknown: int
    cities: list[CountShareOut]  # the top cities


class PersonaOut(Schema):
    subject: str  # the customer reference, or the segment code
    segment: str
    rfm: str
    customers: int
    orders: int
    paid: Decimal
    orders_per_month: Decimal | None
    aov: Decimal | None
    discount_depth: Decimal | None  # 1 − paid ÷ list price
    discounted_share: Decimal | None  # share of spend on discounted orders
    price_sensitive: bool | None
    categories: list[ShareOut]  # preferred categories, share of spend
    regions: list[ShareOut]  # province and city, share of customers
    since: dt.date
    until: dt.date
    demographics_available: bool  # some customer has gender, birth year or city on their profile
    demographics: DemographicsOut


def _demographics(p: segments.PersonaView) -> dict[str, Any]:
    d = p.demographics

    def rows(items: list[tuple[str, int, Decimal]], labels: dict[str, Any] | None) -> list[dict[str, Any]]:
        return [
            {"code": c, "label": str(labels.get(c, c)) if labels else c, "customers": n, "share": share}
            for c, n, share in items
        ]

    return {
        "customers": d.customers,
        "members": d.members,
        "gender_known": d.gender_known,
        "gender_unknown": d.gender_unknown,
        "genders": rows(d.genders, segments.GENDER_LABELS),
        "age_year": p.until.year,
        "age_known": d.age_known,
        "age_unknown": d.age_unknown,
        "ages": rows(d.ages, segments.AGE_BAND_LABELS),
        "city_known": d.city_known,
        "city_unknown": d.city_unknown,
        "cities": rows(d.cities, None),
    }


def _persona(p: segments.PersonaView) -> dict[str, Any]:
    return {
        **{
            k: getattr(p, k)
            for k in PersonaOut.model_fields
            if k not in ("categories", "regions", "demographics")
        },
        "categories": [{"name": n, "share": s} for n, s in p.categories],
        "demographics": _demographics(p),
        "regions": [{"name": n, "share": s} for n, s in p.regions],
    }


@router.get("/{store_id}/personas", response=list[PersonaOut], auth=perm("analytics.view_customersnapshot"))
def segment_personas(request: HttpRequest, store_id: int, day: dt.date | None = None) -> Any:
    """MEM-07: the persona of each segment on the snapshot ``day`` (default: the latest), with
    its demographics (gender split, age bands, top cities) and how many customers they cover."""
    return [_persona(p) for p in segments.segment_personas(store=_store(store_id), day=day)]


@router.get(
    "/{store_id}/personas/{customer_ref}", response=PersonaOut, auth=perm("analytics.view_customersnapshot")
)
def customer_persona(request: HttpRequest, store_id: int, customer_ref: str) -> Any:
    """MEM-07: one customer's purchase frequency, AOV, preferred categories, price sensitivity,
    region (province/city) and the gender, age band and city of their member profile."""
    return _persona(segments.customer_persona(store=_store(store_id), customer_ref=customer_ref))


# --- DATA-06: operations reports -------------------------------------------------------------------


class ReportIn(Schema):
    kind: Annotated[str, OneOf(ReportKindChoice)]
    day: dt.date | None = None  # the report of the last complete period before this day (default: today)


class OperationsReportOut(Schema):
    id: int
    kind: str
    period_start: dt.date
    period_end: dt.date  # exclusive
    missed: int
    generated_at: dt.datetime
    generated_by: str


class ReportRowOut(Schema):
    code: str
    label: str
    value: str
    previous: str
    change: str
    target: str
    ok: bool | None


class ReportSectionOut(Schema):
    key: str
    label: str
    rows: list[ReportRowOut]


class DeliveryOut(Schema):
    channel: str
    recipient: str
    sent_at: dt.datetime
    ok: bool


class ReportDetailOut(OperationsReportOut):
    title: str
    sections: list[ReportSectionOut]
    data: dict[str, Any]  # the stored figures (raw values)
    deliveries: list[DeliveryOut]


@router.get(
    "/{store_id}/reports", response=Page[OperationsReportOut], auth=perm("analytics.view_operationsreport")
)
def report_list(
    request: HttpRequest,
    store_id: int,
    kind: Annotated[str, OneOf(ReportKindChoice, blank=True)] = "",
    page: int = 1,
    page_size: int = 50,
) -> Any:
    return paginate(reports.report_list(store=_store(store_id), kind=kind), page, page_size)


def _report_detail(report: Any) -> dict[str, Any]:
    return {
        **{k: getattr(report, k) for k in OperationsReportOut.model_fields},
        "title": reports.report_title(report),
        "sections": reports.report_rows(report),
        "data": report.data,
        "deliveries": list(report.deliveries.all()),
    }


@router.post(
    "/{store_id}/reports", response={201: ReportDetailOut}, auth=perm("analytics.add_operationsreport")
)
def report_generate(request: HttpRequest, store_id: int, payload: ReportIn) -> Any:
    """DATA-06: generate (or rebuild) the report of the last complete period before ``day``."""
    store = _store(store_id)
    made = services.report_generate(
        actor=principal(request).actor, store=store, kind=payload.kind, day=payload.day
    )
    return Status(201, _report_detail(reports.report_get(store=store, report_id=made.pk)))


@router.get(
    "/{store_id}/reports/{report_id}", response=ReportDetailOut, auth=perm("analytics.view_operationsreport")
)
def report_detail(request: HttpRequest, store_id: int, report_id: int) -> Any:
    return _report_detail(reports.report_get(store=_store(store_id), report_id=report_id))


@router.get("/{store_id}/reports/{report_id}/export", auth=perm("analytics.view_operationsreport"))
def report_export(
    request: HttpRequest,
    store_id: int,
    report_id: int,
    format: Annotated[str, OneOf(exports.REPORT_FORMATS)] = "xlsx",
) -> Any:
    """The report as Excel (``format=xlsx``) or PDF (``format=pdf``)."""
    report = reports.report_get(store=_store(store_id), report_id=report_id)
    return _file(*exports.report_file(report, format))
