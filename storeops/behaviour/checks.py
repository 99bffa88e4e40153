"""DATA-05: a funnel step converting below its playbook threshold over the last
``behaviour_window_days`` (to yesterday) is a finding for operations. DATA-04: a traffic
source converting below ``source_min_conversion`` or returning below ``source_min_roi`` is a
finding for marketing. Both resolve themselves when the figures recover."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
from storeops.behaviour import selectors
from storeops.behaviour.models import TrafficSource
from storeops.sop.registry import CheckContext, FindingDraft, Schedule, msgid, register_check, titled


def _pct(value: object) -> str:
    return f"{float(str(value)) * 100:.1f}%"


def _window(ctx: CheckContext) -> selectors.Period:
    until = ctx.today - dt.timedelta(days=1)
    return selectors.Period(until - dt.timedelta(days=ctx.playbook.behaviour_window_days - 1), until)


@register_check(rule="DATA-05", title="转化漏斗", owner_role=Role.OPERATIONS, schedule=Schedule.DAILY)
def funnel_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    report = selectors.funnel_report(store=ctx.store, book=ctx.playbook, period=_window(ctx))
    for s in report.shortfalls:
        yield FindingDraft(
            subject_key=f"funnel:{s.from_step}:{s.to_step}",
            subject_type="behaviour.funnel",
            subject_id=s.to_step,
            **titled(
                gettext_noop("漏斗 %(a)s→%(b)s 转化率 %(cr)s，低于 %(t)s（近 %(d)s 天，%(n)s 位访客）"),
                a={"msgid": selectors.STEP_LABELS[s.from_step]},
                b={"msgid": selectors.STEP_LABELS[s.to_step]},
                cr=_pct(s.conversion),
                t=_pct(s.threshold),
                d=report.period.days,
                n=s.visitors,
            ),
            detail={
                "from": s.from_step,
                "to": s.to_step,
                "conversion": str(s.conversion),
                "threshold": str(s.threshold),
                "visitors": s.visitors,
                "since": report.period.since.isoformat(),
                "until": report.period.until.isoformat(),
            },
        )


@register_check(rule="DATA-04", title="流量来源转化与ROI", owner_role=Role.MARKETING, schedule=Schedule.DAILY)
def source_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    report = selectors.source_report(store=ctx.store, book=ctx.playbook, period=_window(ctx))
    labels = dict(TrafficSource.choices)
    for alert in report.alerts():
        key = (
            gettext_noop("流量来源「%(s)s」转化率 %(v)s，低于 %(t)s（近 %(d)s 天）")
            if alert.measure == "conversion"
            else gettext_noop("流量来源「%(s)s」ROI %(v)s，低于 %(t)s（近 %(d)s 天）")
        )
        value = _pct(alert.value) if alert.measure == "conversion" else f"{alert.value:.2f}"
        threshold = _pct(alert.threshold) if alert.measure == "conversion" else f"{alert.threshold:.2f}"
        yield FindingDraft(
            subject_key=f"source:{alert.source}:{alert.measure}",
            subject_type="behaviour.source",
            subject_id=alert.source,
            **titled(key, s=msgid(labels[alert.source]), v=value, t=threshold, d=report.period.days),
            detail={
                "source": alert.source,
                "measure": alert.measure,
                "value": str(alert.value),
                "threshold": str(alert.threshold),
                "since": report.period.since.isoformat(),
                "until": report.period.until.isoformat(),
            },
        )
