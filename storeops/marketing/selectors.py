"""Reads for campaigns and ads, and the figures the checks, API and console show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy

from storeops.core.money import Money
from storeops.core.queries import get_or_not_found
from storeops.marketing import rules
from storeops.marketing.models import (
    AdKeyword,
    AdKeywordDailyStat,
    AdPlan,
    AdPurpose,
    ApprovalDecision,
    BudgetKind,
    Campaign,
    CampaignApproval,
    CampaignKind,
    CampaignMetricHourly,
    CampaignPhase,
    CampaignPostmortem,
    CampaignStatus,
    IndustryCpcBenchmark,
    MatchType,
    PhaseKind,
)
from storeops.stores.models import Channel, ChannelKind, Store
from storeops.stores.playbook import PlaybookSettings
from storeops.stores.selectors import playbook_get

# Sections of the post-mortem that need modules not built yet: shown as such, never invented
# (none now; old reports still name "new_members", counted since the members app exists).
UNAVAILABLE_SECTIONS: tuple[str, ...] = ()
# Questions asked during the campaign and its after-sales tail; reviews come after delivery.
POSTMORTEM_QUESTIONS_TAIL_DAYS = 7


def campaign_list(*, store: Store, status: str = "") -> QuerySet[Campaign]:
    qs = (
        Campaign.objects.filter(store=store)
        .select_related("channel")
        .prefetch_related("offers", "coupon_templates")
    )
    return qs.filter(status=status) if status else qs


def campaign_get(*, store: Store, campaign_id: int) -> Campaign:
    return get_or_not_found(
        Campaign.objects.select_related("store", "channel").prefetch_related(
            "phases", "budget_lines", "stock_lines__sku", "approvals", "offers", "coupon_templates"
        ),
        gettext_lazy("活动不存在"),
        store=store,
        pk=campaign_id,
    )


def campaign_state(campaign: Campaign) -> rules.CampaignState:
    return rules.CampaignState(campaign.status)


CAMPAIGN_STATUS_CHOICES = CampaignStatus.choices
CAMPAIGN_KIND_CHOICES = CampaignKind.choices
PHASE_KIND_CHOICES = PhaseKind.choices
BUDGET_KIND_CHOICES = BudgetKind.choices
AD_PURPOSE_CHOICES = AdPurpose.choices
MATCH_TYPE_CHOICES = MatchType.choices


def campaign_last_rejection(campaign: Campaign) -> CampaignApproval | None:
    """The reject that sent a draft back, if the plan is a draft because of one."""
    if campaign.status != CampaignStatus.DRAFT:
        return None
    last = campaign.approvals.order_by("-pk").first()
    return last if last is not None and last.decision == ApprovalDecision.REJECTED else None


def campaign_available_actions(campaign: Campaign) -> list[str]:
    """Which of submit / activate / end / cancel the transition table allows now."""
    state = rules.CampaignState(campaign.status)
    events = (
        rules.CampaignEvent.SUBMIT,
        rules.CampaignEvent.ACTIVATE,
        rules.CampaignEvent.END,
        rules.CampaignEvent.CANCEL,
    )
    return [e.value for e in events if rules.next_state(state, e) is not None]


def campaign_waiting_step(campaign: Campaign) -> tuple[str, str] | None:
    """(step, permission it needs) the campaign waits for, or None when it is not pending."""
    step = rules.PENDING_STEP.get(rules.CampaignState(campaign.status))
    return None if step is None else (step.value, rules.STEP_PERMISSION[step])


def campaign_budget(campaign: Campaign) -> tuple[Money, Money]:
    """(planned, actual) totals of the budget lines."""
    currency = campaign.store.currency
    planned = sum((b.planned for b in campaign.budget_lines.all()), Decimal(0))
    actual = sum((b.actual for b in campaign.budget_lines.all()), Decimal(0))
    return Money(planned, currency), Money(actual, currency)


def campaign_metrics(*, campaign: Campaign) -> QuerySet[CampaignMetricHourly]:
    return CampaignMetricHourly.objects.filter(campaign=campaign).order_by("hour")


def campaign_metric_rows(*, campaign: Campaign) -> list[dict[str, Any]]:
    """The monitoring table: each hour with its redemption and payment failure rates, and
    which of its figures StoreOps counted (``counted``, a set of field names)."""
    return [
        {
            "m": m,
            "redemption_rate": rules.ratio(m.coupon_redemptions, m.coupons_issued),
            "failure_rate": rules.ratio(m.payment_failures, m.payment_attempts),
            "counted": frozenset(m.counted_fields or ()),
        }
        for m in campaign_metrics(campaign=campaign)
    ]


def campaign_counted_fields(campaign: Campaign) -> tuple[str, ...]:
    """The hourly figures StoreOps counts for ``campaign`` (PROMO-06): orders, GMV, payment
    attempts and failures where StoreOps takes the orders and payments — a campaign on the own
    web shop, or on all channels of a store that sells only there (a marketplace's orders reach
    StoreOps by import, hours or days later and without payment attempts, so the platform's
    figures stay as typed or imported); coupons issued and redeemed when it links coupon
    templates (they are StoreOps' coupons on any channel)."""
    if campaign.channel_id is not None:
        own = campaign.channel.kind == ChannelKind.OWN_WEB
    else:
        own = (
            not Channel.objects.filter(store_id=campaign.store_id).exclude(kind=ChannelKind.OWN_WEB).exists()
        )
    orders = rules.COUNTED_FROM_ORDERS if own else ()
    coupons = rules.COUNTED_FROM_COUPONS if campaign.coupon_templates.all() else ()  # prefetched or not
    return (*orders, *coupons)


def campaign_first_hour(campaign: Campaign) -> dt.datetime:
    """The first hour counted: the campaign's first day from midnight (local time)."""
    return timezone.make_aware(dt.datetime.combine(campaign.starts_on, dt.time.min))


def campaign_hours(campaign: Campaign, *, now: dt.datetime) -> list[dt.datetime]:
    """The campaign's whole hours that have ended by ``now``: from its first day's midnight to
    its last day's end (local time)."""
    end = timezone.make_aware(dt.datetime.combine(campaign.ends_on + dt.timedelta(days=1), dt.time.min))
    return rules.hour_starts(campaign_first_hour(campaign), min(now, end))


# PROMO-06: campaigns whose hours StoreOps counts, and which the hourly check watches: approved
# by the whole chain (their offers are live) or activated. The count runs one day past the last
# day, so its last hours are counted, and counted again once their payments settled.
CAMPAIGN_COUNTED_STATES = (CampaignStatus.APPROVED, CampaignStatus.ACTIVE)
# ... and those whose hours may be counted again on request (an ended one: orders imported late)
CAMPAIGN_RECOUNT_STATES = (*CAMPAIGN_COUNTED_STATES, CampaignStatus.ENDED)


def campaigns_to_count(*, today: dt.date) -> QuerySet[Campaign]:
    """Every store's campaigns whose hours the hourly job counts (PROMO-06)."""
    return (
        Campaign.objects.filter(
            status__in=CAMPAIGN_COUNTED_STATES,
            starts_on__lte=today,
            ends_on__gte=today - dt.timedelta(days=1),
        )
        .select_related("store", "channel")
        .order_by("pk")
    )


def campaigns_monitored(*, store: Store, today: dt.date) -> QuerySet[Campaign]:
    """The campaigns the PROMO-06 check watches: activated ones, and approved ones within
    their dates (approved, their offers are live even before someone activates them)."""
    return Campaign.objects.filter(store=store).filter(
        Q(status=CampaignStatus.ACTIVE)
        | Q(status=CampaignStatus.APPROVED, starts_on__lte=today, ends_on__gte=today)
    )


@dataclass(frozen=True, slots=True)
class CampaignThresholds:
    """The PROMO-06/08 thresholds in force for a campaign: its own value, else the playbook's."""

    planned_redemption_rate: Decimal
    max_payment_failure_rate: Decimal
    expected_refund_rate: Decimal
    from_playbook: frozenset[str]  # which of the three come from the playbook


def campaign_playbook(campaign: Campaign) -> PlaybookSettings:
    """The playbook in force for the campaign (its channel's, when it has one)."""
    return playbook_get(store=campaign.store, channel=campaign.channel)


def campaign_thresholds(campaign: Campaign, playbook: PlaybookSettings | None = None) -> CampaignThresholds:
    """``playbook``: the campaign's playbook when the caller has it already."""
    pb = playbook if playbook is not None else campaign_playbook(campaign)
    own = {
        "planned_redemption_rate": campaign.planned_redemption_rate,
        "max_payment_failure_rate": campaign.max_payment_failure_rate,
        "expected_refund_rate": campaign.expected_refund_rate,
    }
    defaults = {
        "planned_redemption_rate": pb.campaign_planned_redemption_rate,
        "max_payment_failure_rate": pb.campaign_max_payment_failure_rate,
        "expected_refund_rate": pb.campaign_expected_refund_rate,
    }
    return CampaignThresholds(
        **{name: defaults[name] if value is None else value for name, value in own.items()},
        from_playbook=frozenset(name for name, value in own.items() if value is None),
    )


def campaign_uplift(campaign: Campaign, playbook: PlaybookSettings | None = None) -> Decimal:
    """INV-02: the demand multiplier expected during the campaign: its own ``expected_uplift``,
    else the playbook's ``promo_default_uplift`` (``playbook``: the campaign's playbook when the
    caller has it already)."""
    if campaign.expected_uplift is not None:
        return campaign.expected_uplift
    pb = playbook if playbook is not None else campaign_playbook(campaign)
    return pb.promo_default_uplift


def campaign_started_at(campaign: Campaign) -> dt.datetime:
    """When the campaign went live: its activation, but not before its first day."""
    start_of_day = timezone.make_aware(dt.datetime.combine(campaign.starts_on, dt.time.min))
    activated = campaign.activated_at
    return max(activated, start_of_day) if activated is not None else start_of_day


def campaign_latest_hour(campaign: Campaign) -> dt.datetime | None:
    return (
        CampaignMetricHourly.objects.filter(campaign=campaign)
        .order_by("-hour")
        .values_list("hour", flat=True)
        .first()
    )


def campaign_monitor(*, campaign: Campaign) -> rules.MonitorAlerts:
    hours = [
        rules.HourFigures(
            hour=m.hour,
            coupons_issued=m.coupons_issued,
            coupon_redemptions=m.coupon_redemptions,
            payment_attempts=m.payment_attempts,
            payment_failures=m.payment_failures,
        )
        for m in campaign_metrics(campaign=campaign)
    ]
    pb = campaign_playbook(campaign)
    thresholds = campaign_thresholds(campaign, pb)
    return rules.monitor(
        hours,
        planned_redemption_rate=thresholds.planned_redemption_rate,
        max_failure_rate=thresholds.max_payment_failure_rate,
        min_attempts=pb.campaign_failure_min_attempts,
    )


def campaigns_with_copy_out(*, store: Store) -> QuerySet[Campaign]:
    """Campaigns whose copy can no longer be edited and is (or is about to be) shown: under
    approval, approved or running (LIST-02 re-scan)."""
    return Campaign.objects.filter(store=store).exclude(
        status__in=(CampaignStatus.DRAFT, CampaignStatus.ENDED, CampaignStatus.CANCELLED)
    )


def big_promotions_open(*, store: Store) -> QuerySet[Campaign]:
    return Campaign.objects.filter(store=store, kind=CampaignKind.BIG_PROMOTION).exclude(
        status__in=(CampaignStatus.CANCELLED, CampaignStatus.ENDED)
    )


def big_promotions_run(*, store: Store, start: dt.date, end: dt.date) -> QuerySet[Campaign]:
    """Big promotions that ran (approved, active or ended) on some day of ``start..end``: the
    past promotions the INV-06 forecast takes out of the sales history."""
    return Campaign.objects.filter(
        store=store,
        kind=CampaignKind.BIG_PROMOTION,
        status__in=(CampaignStatus.APPROVED, CampaignStatus.ACTIVE, CampaignStatus.ENDED),
        starts_on__lte=end,
        ends_on__gte=start,
    )


# A big promotion "is live" (AS-02: its orders get the longer refund deadline) while it is
# approved by the whole chain or activated, and the day (store time) is in its burst phase; a
# plan without a burst phase counts its whole dates. Preheat and return days are not the
# promotion's rush, so their orders keep the normal deadline.
CAMPAIGN_RUNNING_STATES = (CampaignStatus.APPROVED, CampaignStatus.ACTIVE)


def big_promo_live(*, store: Store | int, channel: Channel | int | None, at: dt.datetime) -> bool:
    """Is a big promotion of ``store`` live at ``at`` for ``channel`` (a campaign without a
    channel covers every channel of its store)? One query (an EXISTS over the campaigns)."""
    day = timezone.localtime(at).date()
    store_id = store if isinstance(store, int) else store.pk
    channel_id = channel.pk if isinstance(channel, Channel) else channel
    burst = CampaignPhase.objects.filter(campaign=OuterRef("pk"), kind=PhaseKind.BURST)
    channels = Q(channel__isnull=True)
    if channel_id is not None:
        channels |= Q(channel_id=channel_id)
    return (
        Campaign.objects.filter(
            channels,
            store_id=store_id,
            kind=CampaignKind.BIG_PROMOTION,
            status__in=CAMPAIGN_RUNNING_STATES,
            starts_on__lte=day,
            ends_on__gte=day,
        )
        .filter(Exists(burst.filter(starts_on__lte=day, ends_on__gte=day)) | ~Exists(burst))
        .exists()
    )


# PROMO-05: a campaign's offers go live only once the plan is approved by the whole chain.
# A plan still being written or approved holds its offers back; one that is approved, live or
# over (ended, cancelled) does not: an ended or cancelled campaign paused its offers when it
# stopped, and an offer may be used again on its own.
CAMPAIGN_HOLDS_OFFERS = (
    CampaignStatus.DRAFT,
    CampaignStatus.PENDING_OPERATIONS,
    CampaignStatus.PENDING_MARKETING,
    CampaignStatus.PENDING_FINANCE,
)


def campaigns_holding_offer(*, offer_id: int) -> list[Campaign]:
    """The campaigns linking offer ``offer_id`` that are not approved yet (PROMO-05): while
    there is one, the offer cannot be activated."""
    return list(Campaign.objects.filter(offers=offer_id, status__in=CAMPAIGN_HOLDS_OFFERS).order_by("pk"))


def offer_campaigns(*, offer_id: int) -> list[Campaign]:
    """The campaigns linking offer ``offer_id`` (the offer's page shows them)."""
    return list(Campaign.objects.filter(offers=offer_id).order_by("-starts_on", "-pk"))


def campaign_offers_to_pause(campaign: Campaign) -> list[Any]:
    """The active offers of ``campaign`` that no other approved or live campaign still runs:
    the ones a reject or cancel pauses (PROMO-05)."""
    others = Campaign.objects.filter(status__in=CAMPAIGN_RUNNING_STATES).exclude(pk=campaign.pk)
    return list(
        campaign.offers.filter(status="active").exclude(campaigns__in=others).distinct().order_by("pk")
    )


def campaigns_awaiting_postmortem(*, store: Store, today: dt.date) -> QuerySet[Campaign]:
    """Campaigns that ended (status, or past their end date while active) with no report."""
    return (
        Campaign.objects.filter(store=store, status__in=(CampaignStatus.ACTIVE, CampaignStatus.ENDED))
        .filter(ends_on__lt=today, postmortem__isnull=True)
        .select_related("store", "channel")
        .order_by("ends_on")
    )


def postmortem_due_on(campaign: Campaign, playbook: PlaybookSettings | None = None) -> dt.date:
    """PROMO-07: the day the post-mortem is due, ``postmortem_working_days`` working days after
    the campaign's last day, by the working-day calendar (``holidays``, ``makeup_workdays``)
    of the campaign's playbook (its channel's, when it has one). The check, the console and the
    API all ask here. ``playbook``: that playbook when the caller has it already."""
    pb = playbook if playbook is not None else campaign_playbook(campaign)
    return rules.add_working_days(
        campaign.ends_on,
        pb.postmortem_working_days,
        holidays=pb.holiday_dates,
        workdays=pb.makeup_workday_dates,
    )


def postmortem_get(*, campaign: Campaign) -> CampaignPostmortem | None:
    return CampaignPostmortem.objects.filter(campaign=campaign).first()


def campaign_cash_reserve(campaign: Campaign) -> rules.CashReserve:
    planned, _actual = campaign_budget(campaign)
    return rules.cash_reserve(
        gmv_target=Money(campaign.target_gmv, campaign.store.currency),
        refund_rate=campaign_thresholds(campaign).expected_refund_rate,
        budget=planned,
    )


# ---- ADS ------------------------------------------------------------------------------------
def ad_plan_list(*, store: Store) -> QuerySet[AdPlan]:
    return AdPlan.objects.filter(store=store).annotate(keyword_count=Count("keywords")).order_by("name", "pk")


def ad_plan_get(*, store: Store, plan_id: int) -> AdPlan:
    return get_or_not_found(
        AdPlan.objects.select_related("store"), gettext_lazy("推广计划不存在"), store=store, pk=plan_id
    )


def ad_keyword_get(*, plan: AdPlan, keyword_id: int) -> AdKeyword:
    return get_or_not_found(
        AdKeyword.objects.select_related("plan__store"),
        gettext_lazy("关键词不存在"),
        plan=plan,
        pk=keyword_id,
    )


@dataclass(frozen=True, slots=True)
class KeywordStats:
    keyword: AdKeyword
    spend: Money
    impressions: int
    clicks: int
    conversions: int
    ad_sales: Money
    cpc: Money | None
    roi: Decimal | None
    industry_cpc: Money | None


def industry_cpc(*, store: Store, keyword: str, category: str) -> Money | None:
    """The latest benchmark for the keyword, else for the category."""
    rows = IndustryCpcBenchmark.objects.filter(store=store).order_by("-as_of", "-pk")
    row = rows.filter(keyword=keyword).first() if keyword else None
    if row is None and category:
        row = rows.filter(keyword="", category=category).first()
    return None if row is None else Money(row.average_cpc, store.currency)


def keyword_stats(
    *, plan: AdPlan, since: dt.date | None = None, until: dt.date | None = None
) -> list[KeywordStats]:
    """Totals per keyword of ``plan`` between ``since`` and ``until`` (inclusive)."""
    currency = plan.store.currency
    stats = AdKeywordDailyStat.objects.filter(keyword__plan=plan)
    if since is not None:
        stats = stats.filter(day__gte=since)
    if until is not None:
        stats = stats.filter(day__lte=until)
    totals = {
        row["keyword_id"]: row
        for row in stats.values("keyword_id").annotate(
            spend=Sum("spend"),
            impressions=Sum("impressions"),
            clicks=Sum("clicks"),
            conversions=Sum("conversions"),
            ad_sales=Sum("ad_sales"),
        )
    }
    result = []
    for kw in AdKeyword.objects.filter(plan=plan).order_by("keyword"):
        t = totals.get(kw.pk, {})
        spend = Money(t.get("spend") or Decimal(0), currency).quantize()  # SQLite sums lose the scale
        sales = Money(t.get("ad_sales") or Decimal(0), currency).quantize()
        clicks = int(t.get("clicks") or 0)
        result.append(
            KeywordStats(
                keyword=kw,
                spend=spend,
                impressions=int(t.get("impressions") or 0),
                clicks=clicks,
                conversions=int(t.get("conversions") or 0),
                ad_sales=sales,
                cpc=rules.cpc(spend, clicks),
                roi=rules.ad_roi(sales, spend),
                industry_cpc=industry_cpc(store=plan.store, keyword=kw.keyword, category=plan.category),
            )
        )
    return result


def ad_plans_active(*, store: Store) -> QuerySet[AdPlan]:
    return AdPlan.objects.filter(store=store, is_active=True).select_related("store")


def ad_peak_schedule(plan: AdPlan) -> rules.PeakSchedule | None:
    if plan.peak_start is None or plan.peak_end is None or plan.peak_uplift is None:
        return None
    return rules.PeakSchedule(start=plan.peak_start, end=plan.peak_end, uplift=plan.peak_uplift)


def ad_spend_total(*, store: Store, since: dt.date, until: dt.date, channel_id: int | None = None) -> Money:
    """What the store's ad plans spent from ``since`` to ``until`` (inclusive), from the
    keywords' daily stats; ``channel_id``: only the plans of that channel (DATA-04: the paid
    source's spend)."""
    stats = AdKeywordDailyStat.objects.filter(keyword__plan__store=store, day__gte=since, day__lte=until)
    if channel_id is not None:
        stats = stats.filter(keyword__plan__channel_id=channel_id)
    total = stats.aggregate(s=Sum("spend"))["s"] or Decimal(0)
    return Money(total, store.currency).quantize()  # SQLite sums lose the scale
