"""SOP checks of campaigns and paid ads: PROMO-05 (big promotions planned ahead), PROMO-06
(hourly monitoring), PROMO-07 (post-mortem due) and ADS-02 (CPC, core keyword rank, ROI)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
from storeops.core.money import Money
from storeops.marketing import rules, selectors
from storeops.sop.registry import CheckContext, FindingDraft, Schedule, Severity, register_check, titled


def _pct(value: Decimal | None) -> str:
    return "-" if value is None else f"{(value * 100).quantize(Decimal('0.1'))}%"


@register_check(rule="PROMO-05", title="大促提前规划", owner_role=Role.MARKETING, schedule=Schedule.DAILY)
def big_promotion_planned_ahead(ctx: CheckContext) -> Iterator[FindingDraft]:
    """A big promotion created or approved fewer than ``big_promo_plan_days`` (its channel's, if
    any) before it starts, or still not approved that many days before."""
    for c in selectors.big_promotions_open(store=ctx.store):
        days = ctx.playbook_for(c.channel_id).big_promo_plan_days
        approved_on = timezone.localdate(c.approved_at) if c.approved_at else None
        breach = rules.big_promo_plan_breach(
            starts_on=c.starts_on,
            created_on=timezone.localdate(c.created_at),
            approved_on=approved_on,
            today=ctx.today,
            plan_days=days,
        )
        if breach is None:
            continue
        messages = {
            rules.PlanAheadBreach.CREATED_LATE: gettext_noop(
                "大促「%(theme)s」%(start)s 开始，创建时距开始不足 %(days)s 天"
            ),
            rules.PlanAheadBreach.APPROVED_LATE: gettext_noop(
                "大促「%(theme)s」%(start)s 开始，审批完成时距开始不足 %(days)s 天"
            ),
            rules.PlanAheadBreach.NOT_APPROVED: gettext_noop(
                "大促「%(theme)s」%(start)s 开始，距开始已不足 %(days)s 天仍未审批"
            ),
        }
        yield FindingDraft(
            subject_key=f"campaign:{c.pk}:plan_ahead",
            subject_type="marketing.campaign",
            subject_id=str(c.pk),
            channel_id=c.channel_id,
            **titled(messages[breach], theme=c.theme, start=c.starts_on.isoformat(), days=days),
            severity=Severity.CRITICAL if breach == rules.PlanAheadBreach.NOT_APPROVED else Severity.WARNING,
            detail={
                "reason": breach.value,
                "starts_on": c.starts_on.isoformat(),
                "created_on": timezone.localdate(c.created_at).isoformat(),
                "approved_on": approved_on.isoformat() if approved_on else None,
                "plan_days": days,
                "status": c.status,
            },
        )


@register_check(rule="PROMO-06", title="活动实时监控", owner_role=Role.MARKETING, schedule=Schedule.HOURLY)
def campaign_live_monitoring(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Active campaigns (and approved ones within their dates): coupon redemption below plan;
    payment failures above the alert line in an hour with at least
    ``campaign_failure_min_attempts`` attempts (the campaign's own thresholds, else the
    playbook's ``campaign_*``); hourly figures not recorded for longer than
    ``campaign_monitor_minutes`` after the hour they cover. The figures are those the hourly
    job counts from StoreOps' own orders, payments and coupons, and those typed or imported."""
    for c in selectors.campaigns_monitored(store=ctx.store, today=ctx.today):
        thresholds = selectors.campaign_thresholds(c)
        alerts = selectors.campaign_monitor(campaign=c)
        pb = ctx.playbook_for(c.channel_id)
        latest = selectors.campaign_latest_hour(c)
        if c.starts_on <= ctx.today <= c.ends_on and rules.monitoring_stale(
            latest_hour=latest,
            started_at=selectors.campaign_started_at(c),
            now=ctx.now,
            interval_minutes=pb.campaign_monitor_minutes,
        ):
            yield FindingDraft(
                subject_key=f"campaign:{c.pk}:figures_missing",
                subject_type="marketing.campaign",
                subject_id=str(c.pk),
                channel_id=c.channel_id,
                **titled(
                    gettext_noop("活动「%(theme)s」超过 %(n)s 分钟没有录入小时数据（最近一小时：%(last)s）"),
                    theme=c.theme,
                    n=pb.campaign_monitor_minutes,
                    last="-" if latest is None else timezone.localtime(latest).strftime("%Y-%m-%d %H:00"),
                ),
                detail={
                    "latest_hour": None if latest is None else latest.isoformat(),
                    "interval_minutes": pb.campaign_monitor_minutes,
                },
            )
        if alerts.redemption_below_plan:
            yield FindingDraft(
                subject_key=f"campaign:{c.pk}:redemption",
                subject_type="marketing.campaign",
                subject_id=str(c.pk),
                channel_id=c.channel_id,
                **titled(
                    gettext_noop("活动「%(theme)s」优惠券核销率 %(rate)s，低于计划 %(plan)s"),
                    theme=c.theme,
                    rate=_pct(alerts.redemption_rate),
                    plan=_pct(thresholds.planned_redemption_rate),
                ),
                detail={
                    "redemption_rate": str(alerts.redemption_rate),
                    "planned": str(thresholds.planned_redemption_rate),
                    "from_playbook": "planned_redemption_rate" in thresholds.from_playbook,
                },
            )
        if alerts.failure_above_threshold:
            yield FindingDraft(
                subject_key=f"campaign:{c.pk}:payment_failures",
                subject_type="marketing.campaign",
                subject_id=str(c.pk),
                channel_id=c.channel_id,
                severity=Severity.CRITICAL,
                **titled(
                    gettext_noop("活动「%(theme)s」最近一小时支付失败率 %(rate)s，超过告警线 %(max)s"),
                    theme=c.theme,
                    rate=_pct(alerts.failure_rate),
                    max=_pct(thresholds.max_payment_failure_rate),
                ),
                detail={
                    "failure_rate": str(alerts.failure_rate),
                    "previous_failure_rate": None
                    if alerts.previous_failure_rate is None
                    else str(alerts.previous_failure_rate),
                    "threshold": str(thresholds.max_payment_failure_rate),
                    "from_playbook": "max_payment_failure_rate" in thresholds.from_playbook,
                },
            )


@register_check(rule="PROMO-07", title="活动复盘报告", owner_role=Role.MARKETING, schedule=Schedule.DAILY)
def postmortem_overdue(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Campaigns that ended more than ``postmortem_working_days`` working days ago without a
    report, by the working-day calendar of the campaign's playbook (its channel's, if any)."""
    for c in selectors.campaigns_awaiting_postmortem(store=ctx.store, today=ctx.today):
        book = ctx.playbook_for(c.channel_id)
        n = book.postmortem_working_days
        due = selectors.postmortem_due_on(c, book)
        if ctx.today <= due:
            continue
        yield FindingDraft(
            subject_key=f"campaign:{c.pk}:postmortem",
            subject_type="marketing.campaign",
            subject_id=str(c.pk),
            channel_id=c.channel_id,
            **titled(
                gettext_noop("活动「%(theme)s」%(end)s 结束，复盘报告应于 %(due)s 前完成，尚未生成"),
                theme=c.theme,
                end=c.ends_on.isoformat(),
                due=due.isoformat(),
            ),
            detail={"ends_on": c.ends_on.isoformat(), "due_on": due.isoformat(), "working_days": n},
        )


@register_check(
    rule="ADS-02",
    title="推广效果（CPC、核心词排名、ROI）",
    owner_role=Role.MARKETING,
    schedule=Schedule.DAILY,
)
def ads_performance(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Over the last ``ads_stats_window_days`` (7; long enough to smooth one bad day): keyword
    CPC above ``ads_max_cpc_vs_industry`` × industry average; core keywords ranked worse than
    ``ads_core_keyword_max_rank``; plan ROI not above ``ads_min_roi`` (the target is "> 3": a
    ROI of exactly 3 falls short). The window and targets are the plan's channel's (the
    store's for a plan on no channel)."""
    for plan in selectors.ad_plans_active(store=ctx.store):
        pb = ctx.playbook_for(plan.channel_id)
        # the same days as the ads page: the window ends today and counts today
        since = ctx.today - dt.timedelta(days=pb.ads_stats_window_days - 1)
        stats = selectors.keyword_stats(plan=plan, since=since, until=ctx.today)
        for s in stats:
            kw = s.keyword
            if (
                s.cpc is not None
                and s.industry_cpc is not None
                and rules.cpc_too_high(s.cpc, s.industry_cpc, pb.ads_max_cpc_vs_industry)
            ):
                yield FindingDraft(
                    subject_key=f"ad_keyword:{kw.pk}:cpc",
                    subject_type="marketing.adkeyword",
                    subject_id=str(kw.pk),
                    channel_id=plan.channel_id,
                    **titled(
                        gettext_noop(
                            "「%(plan)s」关键词「%(kw)s」CPC %(cpc)s，超过行业均值 %(avg)s 的 %(max)s"
                        ),
                        plan=plan.name,
                        kw=kw.keyword,
                        cpc=str(s.cpc.quantize().amount),
                        avg=str(s.industry_cpc.amount),
                        max=_pct(pb.ads_max_cpc_vs_industry),
                    ),
                    detail={"cpc": str(s.cpc.quantize().amount), "industry_cpc": str(s.industry_cpc.amount)},
                )
            if kw.is_core and rules.rank_too_low(kw.rank, pb.ads_core_keyword_max_rank):
                yield FindingDraft(
                    subject_key=f"ad_keyword:{kw.pk}:rank",
                    subject_type="marketing.adkeyword",
                    subject_id=str(kw.pk),
                    channel_id=plan.channel_id,
                    **titled(
                        gettext_noop("「%(plan)s」核心词「%(kw)s」排名第 %(rank)s，未进前 %(max)s"),
                        plan=plan.name,
                        kw=kw.keyword,
                        rank=kw.rank,
                        max=pb.ads_core_keyword_max_rank,
                    ),
                    detail={"rank": kw.rank, "max_rank": pb.ads_core_keyword_max_rank},
                )
        spend = sum((s.spend.amount for s in stats), Decimal(0))
        sales = sum((s.ad_sales.amount for s in stats), Decimal(0))
        roi = rules.ad_roi(Money(sales, ctx.store.currency), Money(spend, ctx.store.currency))
        if rules.roi_short_of_target(roi, pb.ads_min_roi):
            yield FindingDraft(
                subject_key=f"ad_plan:{plan.pk}:roi",
                subject_type="marketing.adplan",
                subject_id=str(plan.pk),
                channel_id=plan.channel_id,
                **titled(
                    gettext_noop("推广计划「%(plan)s」近 %(n)s 天 ROI %(roi)s，未高于目标 %(min)s"),
                    plan=plan.name,
                    n=pb.ads_stats_window_days,
                    roi=str(roi.quantize(Decimal("0.01"))),
                    min=str(pb.ads_min_roi),
                ),
                detail={
                    "spend": str(spend),
                    "ad_sales": str(sales),
                    "roi": str(roi.quantize(Decimal("0.0001"))),
                },
            )
