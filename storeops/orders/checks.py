"""SOP checks of orders: review within 30 minutes (ORD-01), ship-by deadlines (ORD-03),
telling customers about exception orders within an hour (ORD-04) and the payment
providers' statements against our payments and refunds (ORD-06)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
from storeops.core.queries import each
from storeops.orders import rules
from storeops.orders.models import CustomerNotification, GroupStatus, MemberTier, Order, OrderStatus
from storeops.sop.registry import CheckContext, FindingDraft, Schedule, Severity, register_check, titled

S = rules.Status
_UNSHIPPED = (S.PAID, S.ON_HOLD, S.REVIEWED, S.ALLOCATED)
# Orders read per query: each check reports *every* order that breaks its rule (a subject left
# out would be resolved as if it were fine), this many at a time.
BATCH_SIZE = 500


@register_check(rule="ORD-01", title="订单审核时效", owner_role=Role.OPERATIONS, schedule=Schedule.FREQUENT)
def review_overdue(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Paid orders still waiting for review (automatic or in the manual queue) past their
    channel's ``order_review_minutes``. Resolves itself once the order is reviewed or cancelled."""
    # read with the shortest window of any channel, then judge each order by its own channel's
    limit = ctx.now - dt.timedelta(minutes=min(b.order_review_minutes for b in ctx.playbooks()))
    # a group-buy order waits for its group: its review clock starts when the group forms
    waiting = Order.objects.filter(
        Q(group__isnull=True, paid_at__lte=limit)
        | Q(group__status=GroupStatus.FORMED, group__formed_at__lte=limit),
        store=ctx.store,
        status__in=[S.PAID, S.ON_HOLD],
    ).select_related("group")
    for order in each(waiting, size=BATCH_SIZE):
        assert order.paid_at is not None
        window = dt.timedelta(minutes=ctx.playbook_for(order.channel_id).order_review_minutes)
        clock = order.group.formed_at if order.group else order.paid_at  # what the query compared
        if clock is None or clock > ctx.now - window:
            continue
        since = max(order.paid_at, order.group.formed_at or order.paid_at) if order.group else order.paid_at
        minutes = int((ctx.now - since).total_seconds() // 60)
        yield FindingDraft(
            subject_key=f"order:{order.pk}:review",
            subject_type="orders.order",
            subject_id=order.number,
            channel_id=order.channel_id,
            severity=Severity.WARNING,
            detail={"number": order.number, "status": order.status, "hold_reasons": order.hold_reasons},
            due_at=since + window,
            **titled(
                gettext_noop("订单 %(n)s 付款 %(m)s 分钟仍未审核"),
                n=order.number,
                m=minutes,
            ),
        )


@register_check(rule="ORD-03", title="发货时效预警", owner_role=Role.WAREHOUSE, schedule=Schedule.FREQUENT)
def ship_deadline(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Unshipped paid orders near (warning) or past (critical) their ship-by time. A diamond
    member's order has its own, shorter deadline (MEM-01 ``diamond_ship_hours``), and so has a
    high-value customer's (MEM-04 ``segment_high_value_ship_hours``); the finding says so.
    The warning starts each channel's ``ship_risk_hours_before`` ahead."""
    # read up to the widest warning of any channel, then judge each order by its own channel's
    widest = max(b.ship_risk_hours_before for b in ctx.playbooks())
    horizon = ctx.now + dt.timedelta(hours=widest)
    orders = Order.objects.filter(store=ctx.store, status__in=_UNSHIPPED, ship_by__lte=horizon)
    for order in each(orders, size=BATCH_SIZE):
        assert order.ship_by is not None
        risk = rules.ship_risk(
            deadline=order.ship_by,
            now=ctx.now,
            warn_hours_before=ctx.playbook_for(order.channel_id).ship_risk_hours_before,
        )
        if risk is rules.ShipRisk.OK:
            continue
        breached = risk is rules.ShipRisk.BREACHED
        priority = rules.priority_reason(tier=order.member_tier, segment=order.customer_segment)
        if priority == MemberTier.DIAMOND:
            key = (
                gettext_noop("钻石会员优先发货订单 %(n)s 已超过最晚发货时间 %(t)s")
                if breached
                else gettext_noop("钻石会员优先发货订单 %(n)s 将于 %(t)s 超过最晚发货时间")
            )
        elif priority == rules.HIGH_VALUE:
            key = (
                gettext_noop("高价值客户优先发货订单 %(n)s 已超过最晚发货时间 %(t)s")
                if breached
                else gettext_noop("高价值客户优先发货订单 %(n)s 将于 %(t)s 超过最晚发货时间")
            )
        else:
            key = (
                gettext_noop("订单 %(n)s 已超过最晚发货时间 %(t)s")
                if breached
                else gettext_noop("订单 %(n)s 将于 %(t)s 超过最晚发货时间")
            )
        detail = {"number": order.number, "ship_by": order.ship_by.isoformat(), "risk": str(risk)}
        if priority:
            detail["priority"] = priority
        yield FindingDraft(
            subject_key=f"order:{order.pk}:ship",
            subject_type="orders.order",
            subject_id=order.number,
            channel_id=order.channel_id,
            severity=Severity.CRITICAL if breached else Severity.WARNING,
            detail=detail,
            due_at=order.ship_by,
            **titled(key, n=order.number, t=order.ship_by.strftime("%Y-%m-%d %H:%M")),
        )


@register_check(
    rule="ORD-04", title="异常订单通知顾客", owner_role=Role.CUSTOMER_SERVICE, schedule=Schedule.FREQUENT
)
def exception_not_notified(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Held orders with a customer-facing problem (bad address, out of stock) whose customer
    has not been told. The automatic review notifies at once; this catches failures and
    orders held by hand. Due ``exception_notify_minutes`` (the order's channel's) after the hold."""
    held = Order.objects.filter(store=ctx.store, status=OrderStatus.ON_HOLD)
    for order in each(held, size=BATCH_SIZE):
        reasons = [r for r in order.hold_reasons if r in rules.CUSTOMER_EXCEPTIONS]
        if not reasons:
            continue
        told = set(
            CustomerNotification.objects.filter(order=order, purpose__startswith="exception:").values_list(
                "purpose", flat=True
            )
        )
        missing = [r for r in reasons if f"exception:{r}" not in told]
        if not missing:
            continue
        held_at = (
            order.events.filter(kind="held")
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
            or order.updated_at
        )
        due = held_at + dt.timedelta(minutes=ctx.playbook_for(order.channel_id).exception_notify_minutes)
        yield FindingDraft(
            subject_key=f"order:{order.pk}:notify",
            subject_type="orders.order",
            subject_id=order.number,
            channel_id=order.channel_id,
            severity=Severity.CRITICAL if ctx.now >= due else Severity.WARNING,
            detail={"number": order.number, "reasons": missing},
            due_at=due,
            **titled(gettext_noop("异常订单 %(n)s 尚未通知顾客"), n=order.number),
        )


@register_check(rule="ORD-06", title="支付对账差异", owner_role=Role.FINANCE, schedule=Schedule.DAILY)
def payment_statement_differences(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Every difference between an imported provider statement of the last
    ``reconcile_lookback_days`` days and our payments and refunds (money collected that no
    payment of ours shows first). A difference a person has explained and resolved is not
    raised again; one that disappears (the payment applied, a corrected statement) resolves
    itself. And every day with collections of a provider whose statement is still not imported
    ``reconcile_statement_due_days`` later (0: not checked). And every statement whose fees are
    above the provider's agreed rate (playbook ``fee_rate``: ``reconcile_fee_rates``, else
    ``reconcile_fee_rate_max``; 0: not checked), once per statement.
    And the marketplaces' settlement reports (:func:`_settlement_findings`)."""
    from storeops.orders import payments as pay
    from storeops.orders import reconcile
    from storeops.orders.models import PaymentStatement

    today = ctx.now.astimezone(timezone.get_current_timezone()).date()
    since = today - dt.timedelta(days=ctx.playbook.reconcile_lookback_days)
    due_days = ctx.playbook.reconcile_statement_due_days
    if due_days:
        for row in reconcile.ledger(store=ctx.store, start=since, end=today - dt.timedelta(days=due_days)):
            if row.statement is not None or not row.payments_count or row.provider == "marketplace":
                continue  # a marketplace settles its orders itself: no statement to match here
            yield FindingDraft(
                subject_key=f"statement-missing:{row.provider}:{row.day.isoformat()}",
                subject_type="orders.paymentstatement",
                subject_id=f"{row.provider}:{row.day.isoformat()}",
                severity=Severity.WARNING,
                detail={"provider": row.provider, "day": row.day.isoformat(), "payments": row.payments_count},
                **titled(
                    gettext_noop("%(p)s %(d)s 的对账单尚未导入（本系统收款 %(n)s 笔）"),
                    p={"msgid": pay.provider_label_msgid(row.provider)},
                    d=row.day.isoformat(),
                    n=row.payments_count,
                ),
            )
    statements = PaymentStatement.objects.filter(store=ctx.store, statement_date__gte=since)
    for statement in statements.order_by("statement_date", "provider"):
        for item in reconcile.reconcile(statement).differences:
            money_unaccounted = item.result in (reconcile.Mismatch.NOT_IN_STORE, reconcile.Mismatch.UNKNOWN)
            yield FindingDraft(
                subject_key=f"statement:{statement.provider}:{item.kind}:{item.reference}",
                subject_type="orders.paymentstatement",
                subject_id=item.reference,
                severity=Severity.CRITICAL if money_unaccounted else Severity.WARNING,
                detail={
                    "statement": statement.pk,
                    "provider": statement.provider,
                    "statement_date": statement.statement_date.isoformat(),
                    "kind": item.kind,
                    "result": item.result,
                    "order": item.order_number,
                    "statement_amount": None if item.statement_amount is None else str(item.statement_amount),
                    "store_amount": None if item.store_amount is None else str(item.store_amount),
                },
                once=True,
                **titled(
                    gettext_noop("%(d)s %(p)s 对账差异：%(r)s %(what)s"),
                    d=statement.statement_date.isoformat(),
                    p={"msgid": pay.provider_label_msgid(statement.provider)},
                    r=item.reference,
                    what={"msgid": reconcile.MISMATCH_LABELS[item.result]},
                ),
            )
        rate = ctx.playbook.fee_rate(statement.provider)
        fees = reconcile.fees_over_rate(statement, rate=rate)
        if fees:  # one finding a statement: the provider applied another rate, not a line's slip
            over = sum((f.over for f in fees), reconcile.ZERO)
            yield FindingDraft(
                subject_key=f"statement-fees:{statement.provider}:{statement.statement_date.isoformat()}",
                subject_type="orders.paymentstatement",
                subject_id=str(statement.pk),
                severity=Severity.WARNING,
                detail={
                    "statement": statement.pk,
                    "provider": statement.provider,
                    "statement_date": statement.statement_date.isoformat(),
                    "rate": str(rate),
                    "lines": len(fees),
                    "over": str(over),
                    "references": [f.reference for f in fees[:20]],
                },
                once=True,  # resolved after checking the contract: not raised again
                **titled(
                    gettext_noop("%(d)s %(p)s 对账单有 %(n)s 笔手续费高于约定费率，共多收 %(over)s 元"),
                    d=statement.statement_date.isoformat(),
                    p={"msgid": pay.provider_label_msgid(statement.provider)},
                    n=len(fees),
                    over=str(over),
                ),
            )
    yield from _settlement_findings(ctx, since)


def _settlement_findings(ctx: CheckContext, since: dt.date) -> Iterator[FindingDraft]:
    """ORD-06 for marketplace channels: one warning per settlement report (period ending in the
    last ``reconcile_lookback_days``) with differences or commissions above the channel's agreed
    rate, and one per channel with completed orders on no settlement report after the channel's
    ``settlement_wait_days``. Both resolve when the condition clears (a corrected report, the
    order settled on a later one)."""
    from storeops.orders import settlements
    from storeops.orders.models import SettlementReport

    latest: dict[int, SettlementReport] = {}
    reports = SettlementReport.objects.filter(store=ctx.store).select_related("channel", "store")
    for report in reports.order_by("period_end", "channel_id", "pk"):
        latest[report.channel_id] = report
        if report.period_end < since:
            continue
        result = settlements.reconcile(report)
        over = settlements.commission_over(report, rate=settlements.commission_rate(report))
        if not result.differences and not over:
            continue
        counts = settlements.counts(result)
        yield FindingDraft(
            subject_key=f"settlement:{report.channel.code}:{report.period}",
            subject_type="orders.settlementreport",
            subject_id=str(report.pk),
            channel_id=report.channel_id,
            severity=Severity.WARNING,
            detail={
                "settlement": report.pk,
                "channel": report.channel.code,
                "period": report.period,
                "unknown": counts.get(settlements.Mismatch.UNKNOWN, 0),
                "amount_differs": counts.get(settlements.Mismatch.AMOUNT_DIFFERS, 0),
                "commission_over": len(over),
                "orders": [i.order_number for i in result.differences[:20]],
            },
            **titled(
                gettext_noop("%(c)s %(p)s 平台结算单：%(n)s 笔差异，%(k)s 笔佣金高于约定费率"),
                c=report.channel.name,
                p=report.period,
                n=len(result.differences),
                k=len(over),
            ),
        )
    for report in latest.values():
        missing = settlements.report_not_settled(report)
        if not missing:
            continue
        yield FindingDraft(
            subject_key=f"settlement-missing:{report.channel.code}",
            subject_type="orders.settlementreport",
            subject_id=str(report.pk),
            channel_id=report.channel_id,
            severity=Severity.WARNING,
            detail={
                "settlement": report.pk,
                "channel": report.channel.code,
                "as_of": report.period_end.isoformat(),
                "orders": [m.number for m in missing[:20]],
                "count": len(missing),
                "amount": str(sum((m.amount for m in missing), settlements.ZERO)),
            },
            **titled(
                gettext_noop("%(c)s 有 %(n)s 笔已完成订单未出现在平台结算单中（截至 %(d)s）"),
                c=report.channel.name,
                n=len(missing),
                d=report.period_end.isoformat(),
            ),
        )
