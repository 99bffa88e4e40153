"""TEAM-01: a KPI of a role that misses its playbook target over the KPI period is a finding
for the owner (information: a performance signal, not an incident). It resolves itself when
the KPI meets its target again. DATA-02: payment conversion below the benchmark. DATA-03:
sudden drops and abnormal volumes of orders and visitors per channel. DATA-08: low-profit
products. MEM-04: the segments' playbook (coupons of this period, priority shipping)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
from storeops.analytics import rules, segments, selectors, services
from storeops.catalog import selectors as catalog_selectors
from storeops.orders import selectors as order_selectors
from storeops.promotions import selectors as promotion_selectors
from storeops.sop.registry import (
    CheckContext,
    FindingDraft,
    Schedule,
    Severity,
    msgid,
    register_check,
    titled,
)
from storeops.stores.selectors import channel_list


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
        current = visitors.get((channel_id, yesterday))
        if current is None:  # yesterday's traffic not imported yet: no news is not a drop
            continue
        history = [visitors.get((channel_id, yesterday - dt.timedelta(days=d)), 0) for d in days]
        found = rules.volume_anomaly(current, history, **limits)
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
    benchmarks = catalog_selectors.category_conversion_benchmarks(store=ctx.store, until=yesterday)
    for channel in channel_list(store=ctx.store, active_only=True):
        book = ctx.playbook_for(channel.pk)
        start = yesterday - dt.timedelta(days=book.conversion_window_days - 1)
        if benchmarks:
            yield from _category_conversion(ctx, channel, book, benchmarks, start, yesterday)
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


def _category_conversion(
    ctx: CheckContext,
    channel: Any,
    book: Any,
    benchmarks: dict[int, tuple[str, Decimal]],
    start: dt.date,
    end: dt.date,
) -> Iterator[FindingDraft]:
    """DATA-02 per category: a category of the channel whose conversion is more than
    ``conversion_alert_ratio`` below its industry benchmark (the imported market data's)."""
    traffic = catalog_selectors.traffic_by_channel_category(
        store=ctx.store, channel_id=channel.pk, start=start, end=end
    )
    for category_id, (visitors, buyers) in sorted(traffic.items(), key=lambda kv: kv[0] or 0):
        if category_id not in benchmarks:
            continue
        name, benchmark = benchmarks[category_id]
        conversion = rules.conversion_shortfall(
            visitors=visitors,
            buyers=buyers,
            benchmark=benchmark,
            alert_ratio=book.conversion_alert_ratio,
            min_visitors=book.conversion_min_visitors,
        )
        if conversion is None:
            continue
        yield FindingDraft(
            subject_key=f"conversion:{channel.pk}:category:{category_id}",
            subject_type="catalog.category",
            subject_id=str(category_id),
            channel_id=channel.pk,
            **titled(
                gettext_noop(
                    "%(channel)s「%(category)s」类目近 %(d)s 天支付转化率 %(cr)s，低于行业基准 %(b)s："
                    "请检查详情页、价格、评价和竞品价格"
                ),
                channel=channel.name,
                category=name,
                d=book.conversion_window_days,
                cr=selectors.display(conversion, "ratio"),
                b=selectors.display(benchmark, "ratio"),
            ),
            detail={
                "visitors": visitors,
                "buyers": buyers,
                "conversion": str(conversion),
                "benchmark": str(benchmark),
                "benchmark_source": "market_data",
                "check": ["detail_page", "price", "reviews", "competitor_prices"],
            },
        )


@register_check(rule="DATA-08", title="低利润商品", owner_role=Role.OPERATIONS, schedule=Schedule.DAILY)
def low_profit_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Products that sold over the KPI period but kept a net margin (after the full PRICE-02
    cost) below ``low_profit_net_margin``: a loss is critical. Resolves when the margin recovers
    (price, cost or promotion changed) or the product stops selling."""
    report = selectors.profitability(store=ctx.store, until=ctx.now)
    days = (report.until - report.since).days
    for p in report.low_profit:
        loss = p.net_profit < 0
        key = (
            gettext_noop("商品「%(title)s」近 %(d)s 天亏损 %(loss)s（净利率 %(m)s）")
            if loss
            else gettext_noop("商品「%(title)s」近 %(d)s 天净利率 %(m)s，低于 %(t)s")
        )
        yield FindingDraft(
            subject_key=f"product:{p.product_id}:low_profit",
            subject_type="catalog.product",
            subject_id=str(p.product_id),
            **titled(
                key,
                title=p.title or p.code,
                d=days,
                loss=selectors.display(-p.net_profit, "cny"),
                m=selectors.display(p.net_margin, "ratio"),
                t=selectors.display(report.min_net_margin, "ratio"),
            ),
            severity=Severity.CRITICAL if loss else Severity.WARNING,
            detail={
                "units": p.units,
                "revenue": str(p.revenue),
                "full_cost": str(p.full_cost),
                "net_margin": str(p.net_margin),
                "roi": str(p.roi),
            },
        )


@register_check(rule="DATA-07", title="A/B测试", owner_role=Role.OPERATIONS, schedule=Schedule.DAILY)
def ab_test_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    """A running test whose result is clear (adopt B, or keep A) asks for the decision; fewer
    than ``ab_tests_per_month`` tests started in the last 30 days is a reminder (information)."""
    for experiment in selectors.experiment_list(store=ctx.store, status="running"):
        result = selectors.experiment_result(experiment, book=ctx.playbook)
        if result.decision == "continue":
            continue
        key = (
            gettext_noop("A/B测试「%(name)s」B 版转化提升 %(lift)s（p=%(p)s），可以采纳")
            if result.decision == "adopt"
            else gettext_noop(
                "A/B测试「%(name)s」已有结论：B 版未达到采纳标准（提升 %(lift)s，p=%(p)s），请结束测试"
            )
        )
        yield FindingDraft(
            subject_key=f"experiment:{experiment.pk}",
            subject_type="analytics.experiment",
            subject_id=str(experiment.pk),
            **titled(
                key,
                name=experiment.name,
                lift=selectors.display(result.lift, "ratio"),
                p=f"{result.p_value:.3f}",
            ),
            detail={"decision": result.decision, "lift": str(result.lift), "p_value": result.p_value},
        )
    wanted = ctx.playbook.ab_tests_per_month
    started = selectors.experiments_started(store=ctx.store, since=ctx.now - dt.timedelta(days=30))
    if started < wanted:
        yield FindingDraft(
            subject_key="experiments:cadence",
            subject_type="analytics.experiment",
            **titled(
                gettext_noop("近 30 天开展了 %(n)s 个A/B测试，目标每月至少 %(w)s 个"), n=started, w=wanted
            ),
            severity=Severity.INFO,
            detail={"started_30d": started, "target": wanted},
        )


# --- MEM-04: the segments' playbook --------------------------------------------------------------


@register_check(rule="MEM-04", title="客户分层运营", owner_role=Role.OPERATIONS, schedule=Schedule.HOURLY)
def segment_playbook_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    """What the segments' playbook asks for and has not happened:

    * the snapshot is older than yesterday (the morning task did not run);
    * a segment whose coupon template is configured has customers (on the latest snapshot) who
      have not received this period's coupon — e.g. sleeping customers with no win-back coupon
      this month (sleeping: warning; the others: information);
    * segments with customers but no coupon template in the playbook (one information finding);
    * high-value customers' paid orders not shipped within ``segment_high_value_ship_hours``
      (priority shipping): one warning per order — only for orders placed before the customer
      was high-value (or imported): an order placed as a high-value customer has that deadline
      as its ship-by time, and ORD-03's deadline check watches it.

    Each resolves itself when the action is taken (coupons issued, order shipped)."""
    book = ctx.playbook
    day = segments.snapshot_latest_day(store=ctx.store)
    if day is None:
        return
    if day < ctx.today - dt.timedelta(days=1):
        yield FindingDraft(
            subject_key="segments:snapshot_stale",
            subject_type="analytics.customersnapshot",
            **titled(gettext_noop("客户分层快照已过期：最近一次是 %(d)s"), d=day.isoformat()),
            detail={"latest": day.isoformat()},
        )
    overview = segments.segment_overview(store=ctx.store, day=day)
    unconfigured = []
    for row in overview.segments:
        if not row.customers:
            continue
        template_id = getattr(book, str(segments.SEGMENT_PLAYBOOK[row.segment]["coupon_setting"]))
        if not template_id:
            unconfigured.append(row.segment)
            continue
        period = rules.segment_period_key(rules.Segment(row.segment), ctx.today)
        members = set(
            segments.segment_customers(store=ctx.store, segment=row.segment, day=day).values_list(
                "customer_ref", flat=True
            )
        )
        reached = promotion_selectors.coupon_holders(
            store=ctx.store,
            template_id=template_id,
            issue_key=services.segment_issue_key(row.segment, period),
        )
        missing = len(members - reached)
        if missing:
            yield FindingDraft(
                subject_key=f"segment:{row.segment}:no_action",
                subject_type="analytics.segment",
                subject_id=row.segment,
                **titled(
                    gettext_noop("%(segment)s中有 %(n)s 人本期（%(p)s）尚未执行运营动作（发券）"),
                    segment=msgid(segments.SEGMENT_LABELS[row.segment]),
                    n=missing,
                    p=period,
                ),
                severity=Severity.WARNING if row.segment == "sleeping" else Severity.INFO,
                detail={
                    "segment": row.segment,
                    "period": period,
                    "missing": missing,
                    "template": template_id,
                },
            )
    if unconfigured:
        yield FindingDraft(
            subject_key="segments:playbook_unconfigured",
            subject_type="analytics.segment",
            **titled(
                gettext_noop("%(n)s 个客户分层有客户但运营手册未配置优惠券模板：%(s)s"),
                n=len(unconfigured),
                s="、".join(str(segments.SEGMENT_LABELS[u]) for u in unconfigured),
            ),
            severity=Severity.INFO,
            detail={"segments": unconfigured},
        )
    hours = book.segment_high_value_ship_hours
    high_value = segments.segment_customers(store=ctx.store, segment="high_value", day=day).values_list(
        "customer_ref", flat=True
    )
    late = order_selectors.unshipped_orders_of(
        ctx.store,
        customer_refs=list(high_value),
        paid_before=ctx.now - dt.timedelta(hours=hours),
        exclude_segment="high_value",
    )
    for order in late:
        waited = int((ctx.now - order.paid_at).total_seconds() // 3600)
        yield FindingDraft(
            subject_key=f"order:{order.channel_id}:{order.number}:priority_shipping",
            subject_type="orders.order",
            subject_id=order.number,
            channel_id=order.channel_id,
            **titled(
                gettext_noop("高价值客户订单 %(o)s 付款已 %(h)s 小时未发货（优先发货时限 %(limit)s 小时）"),
                o=order.number,
                h=waited,
                limit=hours,
            ),
            severity=Severity.WARNING,
            detail={
                "customer": order.customer_ref,
                "paid_at": order.paid_at.isoformat(),
                "status": order.status,
            },
        )
