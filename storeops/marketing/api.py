"""Marketing API (/api/v1/marketing): campaign plans and their approval chain (PROMO-05),
hourly monitoring data (PROMO-06), post-mortems (PROMO-07), the cash reserve (PROMO-08), and
ad plans, keywords, stats and benchmarks (ADS-01..03)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from storeops.accounts.access import perm, principal
from storeops.core.api import LocalTime, OneOf, Page, paginate
from storeops.marketing import selectors, services
from storeops.marketing.models import (
    AdKeyword,
    AdPurpose,
    BudgetKind,
    Campaign,
    CampaignKind,
    CampaignStatus,
    MatchType,
    PhaseKind,
)
from storeops.stores.models import Channel, Store

router = Router(tags=["marketing"])


class PhaseIn(Schema):
    kind: Annotated[str, OneOf(PhaseKind)]
    starts_on: dt.date
    ends_on: dt.date


class BudgetIn(Schema):
    kind: Annotated[str, OneOf(BudgetKind)]
    planned: Decimal
    note: str = ""


class StockIn(Schema):
    sku_code: str
    planned_qty: int


class CampaignIn(Schema):
    theme: str
    kind: Annotated[str, OneOf(CampaignKind)] = CampaignKind.REGULAR
    starts_on: dt.date
    ends_on: dt.date
    mechanics: str = ""
    channel_id: int | None = None
    target_gmv: Decimal = Decimal(0)
    target_new_users: int = 0
    # empty: the playbook's campaign_* default applies (PROMO-06/08)
    planned_redemption_rate: Decimal | None = None
    max_payment_failure_rate: Decimal | None = None
    expected_refund_rate: Decimal | None = None
    # INV-02: demand multiplier during the campaign (1–50); empty: the playbook's promo_default_uplift
    expected_uplift: Decimal | None = None
    phases: list[PhaseIn] = []
    budget: list[BudgetIn] = []
    stock: list[StockIn] = []
    offer_ids: list[int] = []
    # PROMO-06: the coupon templates whose coupons are the campaign's (their redemption is counted)
    coupon_template_ids: list[int] = []


class CampaignOut(Schema):
    id: int
    theme: str
    kind: str
    status: str
    starts_on: dt.date
    ends_on: dt.date
    target_gmv: Decimal
    target_new_users: int
    offer_ids: list[int]
    coupon_template_ids: list[int]
    approved_at: dt.datetime | None

    @staticmethod
    def resolve_offer_ids(obj: Any) -> list[int]:
        if isinstance(obj, dict):
            return list(obj["offer_ids"])
        return sorted(o.pk for o in obj.offers.all())

    @staticmethod
    def resolve_coupon_template_ids(obj: Any) -> list[int]:
        if isinstance(obj, dict):
            return list(obj["coupon_template_ids"])
        return sorted(t.pk for t in obj.coupon_templates.all())


class PhaseOut(Schema):
    kind: str
    starts_on: dt.date
    ends_on: dt.date


class BudgetOut(Schema):
    kind: str
    planned: Decimal
    actual: Decimal
    note: str


class CampaignStockOut(Schema):
    sku_id: int
    sku_code: str
    planned_qty: int


class ApprovalOut(Schema):
    step: str
    decision: str
    actor_label: str
    comment: str
    at: dt.datetime


class ThresholdsOut(Schema):
    planned_redemption_rate: Decimal
    max_payment_failure_rate: Decimal
    expected_refund_rate: Decimal
    from_playbook: list[str]


class CampaignDetailOut(CampaignOut):
    mechanics: str
    planned_redemption_rate: Decimal | None
    max_payment_failure_rate: Decimal | None
    expected_refund_rate: Decimal | None
    thresholds: ThresholdsOut  # the values in force (the campaign's own, else the playbook's)
    expected_uplift: Decimal | None  # INV-02: the campaign's own demand multiplier
    uplift_in_force: Decimal  # INV-02: expected_uplift, else the playbook's promo_default_uplift
    phases: list[PhaseOut]
    budget: list[BudgetOut]
    stock: list[CampaignStockOut]
    approvals: list[ApprovalOut]


class CommentIn(Schema):
    comment: str = ""


class DecisionIn(Schema):
    approve: bool
    comment: str = ""


class BudgetActualIn(Schema):
    actual: Decimal


class MetricIn(Schema):
    hour: dt.datetime
    exposure: int = 0
    clicks: int = 0
    coupons_issued: int = 0
    coupon_redemptions: int = 0
    orders: int = 0
    payment_attempts: int = 0
    payment_failures: int = 0
    gmv: Decimal = Decimal(0)
    new_users: int = 0


class MetricsIn(Schema):
    rows: list[MetricIn]


class MetricOut(MetricIn):
    redemption_rate: Decimal | None
    failure_rate: Decimal | None
    # PROMO-06: the figures StoreOps counted from its own orders, payments and coupons, and
    # when; the others were typed or imported
    counted_fields: list[str]
    counted_at: dt.datetime | None


class CountOut(Schema):
    count: int


class MetricsRecordedOut(CountOut):
    kept_counted: list[str]  # typed for hours StoreOps counted: the counted figures were kept


class RecountOut(Schema):
    hours: int
    first_hour: dt.datetime | None
    last_hour: dt.datetime | None
    counted_fields: list[str]


class PostmortemIn(Schema):
    conclusions: str = ""


class PostmortemOut(Schema):
    campaign_id: int
    generated_at: dt.datetime | None
    due_on: dt.date
    report: dict[str, Any]
    conclusions: str


class CashReserveOut(Schema):
    gmv_target: Decimal
    refund_rate: Decimal
    expected_refunds: Decimal
    payouts: Decimal
    total: Decimal
    currency: str


class AdPlanIn(Schema):
    name: str
    purpose: Annotated[str, OneOf(AdPurpose)]  # traffic: broad match; profit: exact match
    match_type: Annotated[str, OneOf(MatchType)]
    category: str = ""
    daily_budget: Decimal = Decimal(0)
    audience_premium: Decimal = Decimal(0)
    channel_id: int | None = None
    peak_start: LocalTime | None = None
    peak_end: LocalTime | None = None
    peak_uplift: Decimal | None = None


class AdPlanUpdateIn(AdPlanIn):
    is_active: bool = True


class AdPlanOut(Schema):
    id: int
    name: str
    purpose: Annotated[str, OneOf(AdPurpose)]  # traffic: broad match; profit: exact match
    match_type: Annotated[str, OneOf(MatchType)]
    category: str
    daily_budget: Decimal
    peak_start: LocalTime | None
    peak_end: LocalTime | None
    peak_uplift: Decimal | None
    is_active: bool


class KeywordIn(Schema):
    keyword: str
    bid: Decimal
    rank: int | None = None
    is_core: bool = False


class KeywordOut(Schema):
    id: int
    keyword: str
    bid: Decimal
    rank: int | None
    is_core: bool


class KeywordStatsOut(KeywordOut):
    spend: Decimal
    impressions: int
    clicks: int
    conversions: int
    ad_sales: Decimal
    cpc: Decimal | None
    roi: Decimal | None
    industry_cpc: Decimal | None


class AdPlanDetailOut(AdPlanOut):
    keywords: list[KeywordStatsOut]


class CsvIn(Schema):
    csv: str


class BenchmarkIn(Schema):
    average_cpc: Decimal
    keyword: str = ""
    category: str = ""
    as_of: dt.date | None = None


class BenchmarkOut(Schema):
    id: int
    keyword: str
    category: str
    average_cpc: Decimal
    as_of: dt.date


class BidOut(Schema):
    keyword_id: int
    at: LocalTime
    base_bid: Decimal
    bid: Decimal


def _store(store_id: int) -> Store:
    return get_object_or_404(Store, pk=store_id)


def _campaign(store_id: int, campaign_id: int) -> Campaign:
    return selectors.campaign_get(store=_store(store_id), campaign_id=campaign_id)


def _detail(c: Campaign) -> dict[str, Any]:
    return {
        **{
            f: getattr(c, f)
            for f in CampaignDetailOut.model_fields
            if hasattr(c, f) and f not in ("phases", "approvals")
        },
        "phases": list(c.phases.all()),
        "budget": list(c.budget_lines.all()),
        "stock": [
            {"sku_id": s.sku_id, "sku_code": s.sku.code, "planned_qty": s.planned_qty}
            for s in c.stock_lines.all()
        ],
        "approvals": list(c.approvals.all()),
        "offer_ids": sorted(o.pk for o in c.offers.all()),
        "coupon_template_ids": sorted(t.pk for t in c.coupon_templates.all()),
        "thresholds": _thresholds(c),
        "uplift_in_force": selectors.campaign_uplift(c),
    }


def _thresholds(c: Campaign) -> dict[str, Any]:
    t = selectors.campaign_thresholds(c)
    return {
        "planned_redemption_rate": t.planned_redemption_rate,
        "max_payment_failure_rate": t.max_payment_failure_rate,
        "expected_refund_rate": t.expected_refund_rate,
        "from_playbook": sorted(t.from_playbook),
    }


@router.get("/{store_id}/campaigns", response=Page[CampaignOut], auth=perm("marketing.view_campaign"))
def campaign_list(
    request: HttpRequest,
    store_id: int,
    status: Annotated[str, OneOf(CampaignStatus, blank=True)] = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    return paginate(selectors.campaign_list(store=_store(store_id), status=status), page, page_size)


@router.post("/{store_id}/campaigns", response={201: CampaignDetailOut}, auth=perm("marketing.add_campaign"))
def campaign_create(request: HttpRequest, store_id: int, payload: CampaignIn) -> Status:
    store = _store(store_id)
    data = payload.dict()
    channel_id = data.pop("channel_id")
    channel = get_object_or_404(Channel, pk=channel_id, store=store) if channel_id else None
    campaign = services.campaign_create(actor=principal(request).actor, store=store, channel=channel, **data)
    return Status(201, _detail(_campaign(store_id, campaign.pk)))


@router.get(
    "/{store_id}/campaigns/{campaign_id}", response=CampaignDetailOut, auth=perm("marketing.view_campaign")
)
def campaign_detail(request: HttpRequest, store_id: int, campaign_id: int) -> dict[str, Any]:
    return _detail(_campaign(store_id, campaign_id))


@router.put(
    "/{store_id}/campaigns/{campaign_id}", response=CampaignDetailOut, auth=perm("marketing.change_campaign")
)
def campaign_update(
    request: HttpRequest, store_id: int, campaign_id: int, payload: CampaignIn
) -> dict[str, Any]:
    """Replace a draft plan (also one sent back by a reject) as a whole; 409 once submitted."""
    campaign = _campaign(store_id, campaign_id)
    data = payload.dict()
    channel_id = data.pop("channel_id")
    channel = get_object_or_404(Channel, pk=channel_id, store=campaign.store) if channel_id else None
    services.campaign_update(actor=principal(request).actor, campaign=campaign, channel=channel, **data)
    return _detail(_campaign(store_id, campaign_id))


@router.post(
    "/{store_id}/campaigns/{campaign_id}/submit", response=CampaignOut, auth=perm("marketing.change_campaign")
)
def campaign_submit(request: HttpRequest, store_id: int, campaign_id: int, payload: CommentIn) -> Campaign:
    return services.campaign_submit(
        actor=principal(request).actor, campaign=_campaign(store_id, campaign_id), comment=payload.comment
    )


def _decide(
    request: HttpRequest, store_id: int, campaign_id: int, payload: DecisionIn, step: str
) -> Campaign:
    return services.campaign_decide(
        actor=principal(request).actor,
        campaign=_campaign(store_id, campaign_id),
        approve=payload.approve,
        comment=payload.comment,
        step=step,
    )


@router.post(
    "/{store_id}/campaigns/{campaign_id}/approvals/operations",
    response=CampaignOut,
    auth=perm("marketing.approve_operations"),
)
def campaign_decide_operations(
    request: HttpRequest, store_id: int, campaign_id: int, payload: DecisionIn
) -> Campaign:
    return _decide(request, store_id, campaign_id, payload, "operations")


@router.post(
    "/{store_id}/campaigns/{campaign_id}/approvals/marketing",
    response=CampaignOut,
    auth=perm("marketing.approve_marketing"),
)
def campaign_decide_marketing(
    request: HttpRequest, store_id: int, campaign_id: int, payload: DecisionIn
) -> Campaign:
    return _decide(request, store_id, campaign_id, payload, "marketing")


@router.post(
    "/{store_id}/campaigns/{campaign_id}/approvals/finance",
    response=CampaignOut,
    auth=perm("marketing.approve_budget"),
)
def campaign_decide_finance(
    request: HttpRequest, store_id: int, campaign_id: int, payload: DecisionIn
) -> Campaign:
    return _decide(request, store_id, campaign_id, payload, "finance")


@router.post(
    "/{store_id}/campaigns/{campaign_id}/activate",
    response=CampaignOut,
    auth=perm("marketing.change_campaign"),
)
def campaign_activate(request: HttpRequest, store_id: int, campaign_id: int) -> Campaign:
    return services.campaign_activate(
        actor=principal(request).actor, campaign=_campaign(store_id, campaign_id)
    )


@router.post(
    "/{store_id}/campaigns/{campaign_id}/end", response=CampaignOut, auth=perm("marketing.change_campaign")
)
def campaign_end(request: HttpRequest, store_id: int, campaign_id: int) -> Campaign:
    return services.campaign_end(actor=principal(request).actor, campaign=_campaign(store_id, campaign_id))


@router.put(
    "/{store_id}/campaigns/{campaign_id}/budget/{kind}/actual",
    response=BudgetOut,
    auth=perm("marketing.change_campaignbudgetline"),
)
def campaign_budget_actual(
    request: HttpRequest,
    store_id: int,
    campaign_id: int,
    kind: Annotated[str, OneOf(BudgetKind)],
    payload: BudgetActualIn,
) -> Any:
    return services.campaign_budget_actual_set(
        actor=principal(request).actor,
        campaign=_campaign(store_id, campaign_id),
        kind=kind,
        actual=payload.actual,
    )


@router.get(
    "/{store_id}/campaigns/{campaign_id}/metrics",
    response=list[MetricOut],
    auth=perm("marketing.view_campaignmetrichourly"),
)
def campaign_metrics(request: HttpRequest, store_id: int, campaign_id: int) -> list[dict[str, Any]]:
    rows = selectors.campaign_metric_rows(campaign=_campaign(store_id, campaign_id))
    return [
        {
            **{f: getattr(r["m"], f) for f in MetricIn.model_fields},
            "redemption_rate": r["redemption_rate"],
            "failure_rate": r["failure_rate"],
            "counted_fields": sorted(r["counted"]),
            "counted_at": r["m"].counted_at,
        }
        for r in rows
    ]


@router.post(
    "/{store_id}/campaigns/{campaign_id}/metrics",
    response=MetricsRecordedOut,
    auth=perm("marketing.add_campaignmetrichourly"),
)
def campaign_metrics_record(
    request: HttpRequest, store_id: int, campaign_id: int, payload: MetricsIn
) -> dict[str, Any]:
    """Typed or imported hours; of an hour StoreOps counted, the counted figures are kept."""
    result = services.campaign_metrics_record(
        actor=principal(request).actor,
        campaign=_campaign(store_id, campaign_id),
        rows=[r.dict(exclude_unset=True) for r in payload.rows],  # what was not sent is 0
    )
    return {"count": result.count, "kept_counted": list(result.kept_counted)}


@router.post(
    "/{store_id}/campaigns/{campaign_id}/metrics/recount",
    response=RecountOut,
    auth=perm("marketing.change_campaignmetrichourly"),
)
def campaign_metrics_recount(request: HttpRequest, store_id: int, campaign_id: int) -> dict[str, Any]:
    """PROMO-06: count every hour of the campaign so far again from StoreOps' own orders,
    payments and coupons (409 ``campaign_not_running`` / ``campaign_not_started``)."""
    result = services.campaign_metrics_count(
        actor=principal(request).actor, campaign=_campaign(store_id, campaign_id), recount=True
    )
    return {
        "hours": len(result.hours),
        "first_hour": result.hours[0] if result.hours else None,
        "last_hour": result.hours[-1] if result.hours else None,
        "counted_fields": list(result.counted_fields),
    }


def _postmortem_out(c: Campaign) -> dict[str, Any]:
    row = selectors.postmortem_get(campaign=c)
    return {
        "campaign_id": c.pk,
        "generated_at": row.generated_at if row else None,
        "due_on": selectors.postmortem_due_on(c),
        "report": row.report if row else services.postmortem_figures(c),
        "conclusions": row.conclusions if row else "",
    }


@router.get(
    "/{store_id}/campaigns/{campaign_id}/postmortem",
    response=PostmortemOut,
    auth=perm("marketing.view_campaignpostmortem"),
)
def campaign_postmortem(request: HttpRequest, store_id: int, campaign_id: int) -> dict[str, Any]:
    return _postmortem_out(_campaign(store_id, campaign_id))


@router.post(
    "/{store_id}/campaigns/{campaign_id}/postmortem",
    response=PostmortemOut,
    auth=perm("marketing.add_campaignpostmortem"),
)
def campaign_postmortem_generate(
    request: HttpRequest, store_id: int, campaign_id: int, payload: PostmortemIn
) -> dict[str, Any]:
    campaign = _campaign(store_id, campaign_id)
    services.campaign_postmortem_generate(
        actor=principal(request).actor, campaign=campaign, conclusions=payload.conclusions
    )
    return _postmortem_out(campaign)


@router.get(
    "/{store_id}/campaigns/{campaign_id}/cash-reserve",
    response=CashReserveOut,
    auth=perm("marketing.view_campaign"),
)
def campaign_cash_reserve(request: HttpRequest, store_id: int, campaign_id: int) -> dict[str, Any]:
    r = selectors.campaign_cash_reserve(_campaign(store_id, campaign_id))
    return {
        "gmv_target": r.gmv_target.amount,
        "refund_rate": r.refund_rate,
        "expected_refunds": r.expected_refunds.amount,
        "payouts": r.payouts.amount,
        "total": r.total.amount,
        "currency": r.total.currency,
    }


# ---- ADS ------------------------------------------------------------------------------------
@router.get("/{store_id}/ad-plans", response=Page[AdPlanOut], auth=perm("marketing.view_adplan"))
def ad_plan_list(request: HttpRequest, store_id: int, page: int = 1, page_size: int = 50) -> dict[str, Any]:
    return paginate(selectors.ad_plan_list(store=_store(store_id)), page, page_size)


@router.post("/{store_id}/ad-plans", response={201: AdPlanOut}, auth=perm("marketing.add_adplan"))
def ad_plan_create(request: HttpRequest, store_id: int, payload: AdPlanIn) -> Status:
    store = _store(store_id)
    data = payload.dict()
    channel_id = data.pop("channel_id")
    channel = get_object_or_404(Channel, pk=channel_id, store=store) if channel_id else None
    return Status(
        201, services.ad_plan_create(actor=principal(request).actor, store=store, channel=channel, **data)
    )


@router.put("/{store_id}/ad-plans/{plan_id}", response=AdPlanOut, auth=perm("marketing.change_adplan"))
def ad_plan_update(request: HttpRequest, store_id: int, plan_id: int, payload: AdPlanUpdateIn) -> Any:
    """Change an ad plan as a whole (purpose, match type, budget, peak-hour schedule) or pause it."""
    store = _store(store_id)
    plan = selectors.ad_plan_get(store=store, plan_id=plan_id)
    data = payload.dict()
    channel_id = data.pop("channel_id")
    channel = get_object_or_404(Channel, pk=channel_id, store=store) if channel_id else None
    return services.ad_plan_update(actor=principal(request).actor, plan=plan, channel=channel, **data)


@router.get("/{store_id}/ad-plans/{plan_id}", response=AdPlanDetailOut, auth=perm("marketing.view_adplan"))
def ad_plan_detail(
    request: HttpRequest,
    store_id: int,
    plan_id: int,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> dict[str, Any]:
    plan = selectors.ad_plan_get(store=_store(store_id), plan_id=plan_id)
    keywords = [
        {
            **{f: getattr(s.keyword, f) for f in ("id", "keyword", "bid", "rank", "is_core")},
            "spend": s.spend.amount,
            "impressions": s.impressions,
            "clicks": s.clicks,
            "conversions": s.conversions,
            "ad_sales": s.ad_sales.amount,
            "cpc": None if s.cpc is None else s.cpc.quantize().amount,
            "roi": s.roi,
            "industry_cpc": None if s.industry_cpc is None else s.industry_cpc.amount,
        }
        for s in selectors.keyword_stats(plan=plan, since=since, until=until)
    ]
    return {**{f: getattr(plan, f) for f in AdPlanOut.model_fields}, "keywords": keywords}


@router.post(
    "/{store_id}/ad-plans/{plan_id}/keywords",
    response={201: KeywordOut},
    auth=perm("marketing.add_adkeyword"),
)
def ad_keyword_set(request: HttpRequest, store_id: int, plan_id: int, payload: KeywordIn) -> Status:
    plan = selectors.ad_plan_get(store=_store(store_id), plan_id=plan_id)
    return Status(201, services.ad_keyword_set(actor=principal(request).actor, plan=plan, **payload.dict()))


@router.delete(
    "/{store_id}/ad-plans/{plan_id}/keywords/{keyword_id}",
    response={204: None},
    auth=perm("marketing.delete_adkeyword"),
)
def ad_keyword_delete(request: HttpRequest, store_id: int, plan_id: int, keyword_id: int) -> Status:
    plan = selectors.ad_plan_get(store=_store(store_id), plan_id=plan_id)
    keyword = selectors.ad_keyword_get(plan=plan, keyword_id=keyword_id)
    services.ad_keyword_delete(actor=principal(request).actor, keyword=keyword)
    return Status(204, None)


@router.post(
    "/{store_id}/ad-plans/{plan_id}/stats/import",
    response=CountOut,
    auth=perm("marketing.add_adkeyworddailystat"),
)
def ad_stats_import(request: HttpRequest, store_id: int, plan_id: int, payload: CsvIn) -> dict[str, int]:
    plan = selectors.ad_plan_get(store=_store(store_id), plan_id=plan_id)
    return {
        "count": services.ad_stats_import_csv(actor=principal(request).actor, plan=plan, text=payload.csv)
    }


@router.get(
    "/{store_id}/ad-plans/{plan_id}/keywords/{keyword_id}/bid",
    response=BidOut,
    auth=perm("marketing.view_adkeyword"),
)
def ad_keyword_bid(
    request: HttpRequest, store_id: int, plan_id: int, keyword_id: int, at: LocalTime
) -> dict[str, Any]:
    plan = selectors.ad_plan_get(store=_store(store_id), plan_id=plan_id)
    keyword = get_object_or_404(AdKeyword.objects.select_related("plan__store"), pk=keyword_id, plan=plan)
    return {
        "keyword_id": keyword.pk,
        "at": at,
        "base_bid": keyword.bid,
        "bid": services.ad_bid_at(keyword=keyword, at=at).amount,
    }


@router.post(
    "/{store_id}/cpc-benchmarks",
    response={201: BenchmarkOut},
    auth=perm("marketing.add_industrycpcbenchmark"),
)
def cpc_benchmark_record(request: HttpRequest, store_id: int, payload: BenchmarkIn) -> Status:
    return Status(
        201,
        services.industry_cpc_record(
            actor=principal(request).actor, store=_store(store_id), **payload.dict()
        ),
    )
