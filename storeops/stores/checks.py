"""SOP checks of the stores app (STORE-02, STORE-07, RISK-03)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils import timezone
from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
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
from storeops.stores.selectors import qualifications_expiring, rule_changes_open


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
    """Plans past their go-live date with open checklist steps; KPI months that ended with
    no actual recorded, or with an actual below target."""
    today = ctx.today
    plans = (
        LaunchPlan.objects.filter(store=ctx.store)
        .select_related("channel")
        .prefetch_related("items", "targets")
    )
    for plan in plans:
        if plan.status == LaunchPlan.Status.PREPARING and plan.planned_go_live < today:
            open_steps = [i.get_step_display() for i in plan.items.all() if i.done_at is None]
            yield FindingDraft(
                subject_key=f"launch_plan:{plan.pk}:overdue",
                subject_type="stores.launchplan",
                subject_id=str(plan.pk),
                channel_id=plan.channel_id,
                **titled(
                    gettext_noop("%(channel)s 计划上线日 %(date)s 已过，仍有 %(n)s 项未完成"),
                    channel=plan.channel.name,
                    date=plan.planned_go_live.isoformat(),
                    n=len(open_steps),
                ),
                detail={"open_steps": [str(s) for s in open_steps]},
            )
        if plan.went_live_on is None:
            continue
        for target in plan.targets.all():
            month_end = _add_months(plan.went_live_on, target.month)
            if month_end > today:
                continue
            if target.actual is None:
                yield FindingDraft(
                    subject_key=f"launch_target:{target.pk}:missing",
                    subject_type="stores.launchtarget",
                    subject_id=str(target.pk),
                    channel_id=plan.channel_id,
                    severity=Severity.INFO,
                    **titled(
                        gettext_noop("%(channel)s 第%(m)s个月「%(metric)s」尚未记录实际值"),
                        channel=plan.channel.name,
                        m=target.month,
                        metric=msgid(KpiMetric(target.metric).label),
                    ),
                )
            elif target.actual < target.target:
                yield FindingDraft(
                    subject_key=f"launch_target:{target.pk}:missed",
                    subject_type="stores.launchtarget",
                    subject_id=str(target.pk),
                    channel_id=plan.channel_id,
                    **titled(
                        gettext_noop("%(channel)s 第%(m)s个月「%(metric)s」未达标：实际 %(a)s / 目标 %(t)s"),
                        channel=plan.channel.name,
                        m=target.month,
                        metric=msgid(KpiMetric(target.metric).label),
                        a=_fmt(target.actual),
                        t=_fmt(target.target),
                    ),
                    detail={"target": str(target.target), "actual": str(target.actual)},
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


def _fmt(value: object) -> str:
    text = f"{value:f}" if hasattr(value, "normalize") else str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _add_months(day, months: int):  # type: ignore[no-untyped-def]
    import calendar

    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))
