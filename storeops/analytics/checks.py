"""TEAM-01: a KPI of a role that misses its playbook target over the KPI period is a finding
for the owner (information: a performance signal, not an incident). It resolves itself when
the KPI meets its target again. DATA-02: payment conversion below the benchmark. DATA-03:
sudden drops and abnormal volumes of orders and visitors per channel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
from storeops.analytics import rules, selectors
from storeops.catalog import selectors as catalog_selectors
from storeops.orders import selectors as order_selectors
from storeops.sop.registry import (
    CheckContext,
    FindingDraft,
    Schedule,
    Severity,
    msgid,
    register_check,
    titled,
)
from storeops.stores.selectors import channel_list, playbook_get


@register_check(rule="TEAM-01", title="团队绩效", owner_role=Role.OWNER, schedule=Schedule.DAILY)
def team_kpi_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    team = selectors.team_kpis(store=ctx.store, until=ctx.now)
    for kpi in team.missed:
        yield FindingDraft(
            subject_key=f"kpi:{kpi.code}",
            subject_type="analytics.kpi",
            subject_id=kpi.code,
            **titled(
                gettext_noop("%(role)s绩效未达标：%(kpi)s %(value)s，目标 %(target)s"),
                role=msgid(selectors.ROLE_LABELS[kpi.role]),
                kpi={"msgid": selectors.KPI_LABELS[kpi.code]},
                value=selectors.display(kpi.value, kpi.unit),
                target=selectors.display(kpi.target, kpi.unit),
            ),
            severity=Severity.INFO,
            detail={
                "role": kpi.role,
                "value": str(kpi.value),
                "previous": str(kpi.previous),
                "target": str(kpi.target),
                "since": team.since.isoformat(),
                "until": team.until.isoformat(),
            },
        )


@register_check(
    rule="DATA-03", title="流量与订单量异常", owner_role=Role.OPERATIONS, schedule=Schedule.HOURLY
)
def volume_anomaly_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Per channel: orders placed in the last ``anomaly_window_hours`` against the same window
    on each of the ``anomaly_baseline_days`` before (a drop: a broken sync, a delisted best
    seller, a payment fault; a spike: brushing or a bot), and yesterday's visitors against the
    days before. Each resolves itself when the numbers are back to normal."""
    book = ctx.playbook
    limits = {
        "drop_ratio": book.anomaly_drop_ratio,
        "spike_ratio": book.anomaly_spike_ratio,
        "min_baseline": book.anomaly_min_baseline,
    }
    channels = {c.pk: c.name for c in channel_list(store=ctx.store, active_only=True)}
    window = dt.timedelta(hours=book.anomaly_window_hours)
    days = range(1, book.anomaly_baseline_days + 1)
    now_counts = order_selectors.order_counts_by_channel(ctx.store, since=ctx.now - window, until=ctx.now)
    before = [
        order_selectors.order_counts_by_channel(
            ctx.store, since=ctx.now - window - dt.timedelta(days=d), until=ctx.now - dt.timedelta(days=d)
        )
        for d in days
    ]
    for channel_id, name in channels.items():
        found = rules.volume_anomaly(
            now_counts.get(channel_id, 0), [b.get(channel_id, 0) for b in before], **limits
        )
        if found is not None:
            yield _anomaly_draft("orders", channel_id, name, found, hours=book.anomaly_window_hours)
    yesterday = ctx.today - dt.timedelta(days=1)
    visitors = catalog_selectors.visitors_by_channel_day(
        store=ctx.store, start=yesterday - dt.timedelta(days=book.anomaly_baseline_days), end=yesterday
    )
    for channel_id, name in channels.items():
        history = [visitors.get((channel_id, yesterday - dt.timedelta(days=d)), 0) for d in days]
        found = rules.volume_anomaly(visitors.get((channel_id, yesterday), 0), history, **limits)
        if found is not None and found.kind == "drop":  # a traffic spike is good news
            yield _anomaly_draft("visitors", channel_id, name, found, hours=24)


_ANOMALY_TITLES = {
    ("orders", "drop"): gettext_noop("%(channel)s 近 %(h)s 小时订单量骤降：%(n)s 单，平时约 %(b)s 单"),
    ("orders", "spike"): gettext_noop("%(channel)s 近 %(h)s 小时订单量异常激增：%(n)s 单，平时约 %(b)s 单"),
    ("visitors", "drop"): gettext_noop("%(channel)s 昨日访客骤降：%(n)s，平时约 %(b)s"),
}


def _anomaly_draft(
    what: str, channel_id: int, name: str, found: rules.Anomaly, *, hours: int
) -> FindingDraft:
    return FindingDraft(
        subject_key=f"anomaly:{what}:{found.kind}:{channel_id}",
        subject_type="stores.channel",
        subject_id=str(channel_id),
        channel_id=channel_id,
        **titled(
            _ANOMALY_TITLES[(what, found.kind)],
            channel=name,
            h=hours,
            n=found.current,
            b=f"{found.baseline:g}",
        ),
        severity=Severity.CRITICAL if (what, found.kind) == ("orders", "drop") else Severity.WARNING,
        detail={"measure": what, "kind": found.kind, "current": found.current, "baseline": found.baseline},
    )


@register_check(
    rule="DATA-02", title="支付转化率低于基准", owner_role=Role.OPERATIONS, schedule=Schedule.DAILY
)
def conversion_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Per channel, the payment conversion over the last ``conversion_window_days`` (to
    yesterday) more than ``conversion_alert_ratio`` below the channel's
    ``conversion_benchmark``: a finding with what to check (detail page, price, reviews,
    competitor prices). It resolves itself when the conversion recovers."""
    yesterday = ctx.today - dt.timedelta(days=1)
    for channel in channel_list(store=ctx.store, active_only=True):
        book = playbook_get(store=ctx.store, channel=channel)
        start = yesterday - dt.timedelta(days=book.conversion_window_days - 1)
        visitors, buyers = catalog_selectors.traffic_by_channel(
            store=ctx.store, start=start, end=yesterday
        ).get(channel.pk, (0, 0))
        conversion = rules.conversion_shortfall(
            visitors=visitors,
            buyers=buyers,
            benchmark=book.conversion_benchmark,
            alert_ratio=book.conversion_alert_ratio,
            min_visitors=book.conversion_min_visitors,
        )
        if conversion is None:
            continue
        yield FindingDraft(
            subject_key=f"conversion:{channel.pk}",
            subject_type="stores.channel",
            subject_id=str(channel.pk),
            channel_id=channel.pk,
            **titled(
                gettext_noop(
                    "%(channel)s 近 %(d)s 天支付转化率 %(cr)s，低于基准 %(b)s："
                    "请检查详情页、价格、评价和竞品价格"
                ),
                channel=channel.name,
                d=book.conversion_window_days,
                cr=selectors.display(conversion, "ratio"),
                b=selectors.display(book.conversion_benchmark, "ratio"),
            ),
            detail={
                "visitors": visitors,
                "buyers": buyers,
                "conversion": str(conversion),
                "benchmark": str(book.conversion_benchmark),
                "check": ["detail_page", "price", "reviews", "competitor_prices"],
            },
        )
