"""SOP checks of the stores app (STORE-02, STORE-07, RISK-03)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
from storeops.analytics.selectors import launch_tracking
from storeops.catalog.selectors import listings_held
from storeops.sop.registry import (
    CheckContext,
    FindingDraft,
    Schedule,
    Severity,
    msgid,
    register_check,
    titled,
)
from storeops.stores.models import ChannelKind, KpiMetric, LaunchPlan, RuleChangeStatus
from storeops.stores.selectors import launch_plans, launch_steps, qualifications_expiring, rule_changes_open


@register_check(rule="STORE-02", title="资质到期预警", owner_role=Role.OPERATIONS, schedule=Schedule.DAILY)
def qualification_expiry(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Qualifications expiring within ``qualification_warn_days``: warning; expired: critical
    (listing in categories that require them is blocked: by the listing audit, when a listing
    is scheduled, and when a scheduled listing comes due, which then waits: one finding each)."""
    today = ctx.today
    for q in qualifications_expiring(
        store=ctx.store, today=today, warn_days=ctx.playbook.qualification_warn_days
    ):
        assert q.valid_to is not None
        days = (q.valid_to - today).days
        expired = days < 0
        if expired:
            key = gettext_noop("%(kind)s「%(title)s」已于 %(date)s 过期，相关类目禁止上架")
        else:
            key = gettext_noop("%(kind)s「%(title)s」将于 %(date)s 到期（剩 %(days)s 天）")
        # "食品经营许可证「食品经营许可证」" reads badly: name the document once when they match
        kind = msgid(q.get_kind_display()) if q.title != q.get_kind_display() else ""
        yield FindingDraft(
            subject_key=f"qualification:{q.pk}",
            subject_type="stores.qualification",
            subject_id=str(q.pk),
            **titled(key, kind=kind, title=q.title, date=q.valid_to.isoformat(), days=days),
            severity=Severity.CRITICAL if expired else Severity.WARNING,
            detail={
                "kind": q.kind,
                "valid_to": q.valid_to.isoformat(),
                "days_left": days,
                "expired": expired,
            },
        )

    # The block itself: scheduled listings that came due while a qualification their
    # category requires is invalid wait, and each is a finding until it goes live.
    for listing in listings_held(store=ctx.store):
        yield FindingDraft(
            subject_key=f"listing:{listing.pk}:held",
            subject_type="catalog.channellisting",
            subject_id=str(listing.pk),
            channel_id=listing.channel_id,
            **titled(
                gettext_noop("商品 %(code)s 计划在 %(channel)s 上架，因资质无效暂缓：%(why)s"),
                code=listing.product.code,
                channel=listing.channel.name,
                why=listing.held_reason,
            ),
            severity=Severity.CRITICAL,
            detail={"product_id": listing.product_id, "held_reason": listing.held_reason},
        )


@register_check(rule="STORE-07", title="新店上线计划跟踪", owner_role=Role.OWNER, schedule=Schedule.DAILY)
def launch_plan_tracking(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Plans past their planned go-live date with checklist steps still open (the title counts
    the full-chain test's open steps apart); KPI months that ended below target by more than the
    channel's ``launch_target_miss_ratio`` — the actual typed in, else the one measured from
    the channel's orders and traffic — or with no actual at all."""
    today = ctx.today
    for plan in launch_plans(store=ctx.store):
        open_steps = [r for r in launch_steps(plan) if r.done_at is None]
        if plan.status == LaunchPlan.Status.PREPARING and plan.planned_go_live < today and open_steps:
            tests_open = [r for r in open_steps if r.full_chain]
            if tests_open:
                key = gettext_noop(
                    "%(channel)s 计划上线日 %(date)s 已过，仍有 %(n)s 项未完成，其中全链路测试 %(t)s 项"
                )
            else:
                key = gettext_noop("%(channel)s 计划上线日 %(date)s 已过，仍有 %(n)s 项未完成")
            yield FindingDraft(
                subject_key=f"launch_plan:{plan.pk}:overdue",
                subject_type="stores.launchplan",
                subject_id=str(plan.pk),
                channel_id=plan.channel_id,
                **titled(
                    key,
                    channel=plan.channel.name,
                    date=plan.planned_go_live.isoformat(),
                    n=len(open_steps),
                    t=len(tests_open),
                ),
                detail={
                    "open_steps": [r.label for r in open_steps],
                    "open_full_chain_steps": [r.step for r in tests_open],
                },
            )
        if plan.went_live_on is None:
            continue
        tracking = launch_tracking(plan, today=today, ended_only=True)
        for month in tracking.months:
            if month.state != "ended":
                continue
            for cell in month.cells:
                if cell.target_id is None or cell.target is None:
                    continue
                metric = msgid(KpiMetric(cell.metric).label)
                if cell.actual is None:
                    yield FindingDraft(
                        subject_key=f"launch_target:{cell.target_id}:missing",
                        subject_type="stores.launchtarget",
                        subject_id=str(cell.target_id),
                        channel_id=plan.channel_id,
                        severity=Severity.INFO,
                        **titled(
                            gettext_noop("%(channel)s 第%(m)s个月「%(metric)s」尚未记录实际值"),
                            channel=plan.channel.name,
                            m=month.month,
                            metric=metric,
                        ),
                        detail={"plan": plan.pk, "why": cell.missing},
                    )
                elif cell.missed(tracking.miss_ratio):
                    yield FindingDraft(
                        subject_key=f"launch_target:{cell.target_id}:missed",
                        subject_type="stores.launchtarget",
                        subject_id=str(cell.target_id),
                        channel_id=plan.channel_id,
                        **titled(
                            gettext_noop(
                                "%(channel)s 第%(m)s个月「%(metric)s」未达标："
                                "实际 %(a)s / 目标 %(t)s（达成 %(p)s）"
                            ),
                            channel=plan.channel.name,
                            m=month.month,
                            metric=metric,
                            a=_fmt(cell.metric, cell.actual),
                            t=_fmt(cell.metric, cell.target),
                            p=f"{(cell.attainment or 0) * 100:.0f}%",
                        ),
                        detail={
                            "plan": plan.pk,
                            "target": str(cell.target),
                            "actual": str(cell.actual),
                            "typed": cell.typed is not None,
                            "computed": None if cell.computed is None else str(cell.computed),
                            "miss_ratio": str(tracking.miss_ratio),
                        },
                    )


@register_check(
    rule="RISK-03", title="平台规则变更整改", owner_role=Role.OPERATIONS, schedule=Schedule.HOURLY
)
def platform_rule_changes(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Every platform rule change not yet adjusted to (or found not to apply) is a finding due
    ``compliance_adjust_hours`` after the store learned of it; past that, critical. The
    finding resolves itself when the change is closed."""
    hours = ctx.playbook.compliance_adjust_hours
    for change in rule_changes_open(store=ctx.store):
        due = change.announced_at + dt.timedelta(hours=hours)
        overdue = ctx.now >= due
        if overdue:
            key = gettext_noop("%(platform)s规则变更「%(title)s」已超过 %(h)s 小时未完成整改")
        elif change.status == RuleChangeStatus.NEW:
            key = gettext_noop("%(platform)s规则变更「%(title)s」待评估，%(due)s 前完成整改")
        else:
            key = gettext_noop("%(platform)s规则变更「%(title)s」整改中，%(due)s 前完成")
        yield FindingDraft(
            subject_key=f"rule_change:{change.pk}",
            subject_type="stores.platformrulechange",
            subject_id=str(change.pk),
            **titled(
                key,
                platform=msgid(ChannelKind(change.platform).label),
                title=change.title,
                h=hours,
                due=timezone.localtime(due).strftime("%m-%d %H:%M"),
            ),
            severity=Severity.CRITICAL if overdue else Severity.WARNING,
            due_at=due,
            detail={
                "platform": change.platform,
                "status": change.status,
                "announced_at": change.announced_at.isoformat(),
                "effective_on": change.effective_on.isoformat() if change.effective_on else None,
                "url": change.url,
            },
        )


def _fmt(metric: str, value: Decimal) -> str:
    """A launch KPI value in a finding's title: conversion as a percentage, others as numbers."""
    if metric == KpiMetric.CONVERSION:
        return f"{value * 100:.2f}".rstrip("0").rstrip(".") + "%"
    text = f"{value.quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
