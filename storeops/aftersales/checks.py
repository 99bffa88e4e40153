"""SOP checks of after-sales: the refund SLA (AS-02)."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
from storeops.aftersales import rules
from storeops.aftersales.selectors import refund_watch
from storeops.sop.registry import CheckContext, FindingDraft, Schedule, Severity, register_check, titled


@register_check(rule="AS-02", title="退款时效", owner_role=Role.CUSTOMER_SERVICE, schedule=Schedule.FREQUENT)
def refund_sla(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Open cases whose refund is due within the warning window (warning) or overdue
    (critical): 24 h for normal orders, 48 h for big-promotion orders, counted from the
    request (refund-only) or from receipt of the goods (returns). The warning window is the
    case's channel's ``refund_sla_warn_hours`` (as are the hours behind ``due_at``). Resolves
    itself once the case is refunded, rejected or withdrawn."""
    # read with the widest warning of any channel, then judge each case by its own channel's
    widest = max(b.refund_sla_warn_hours for b in ctx.playbooks())
    for case, _ in refund_watch(store=ctx.store, now=ctx.now, warn_hours=widest):
        assert case.due_at is not None
        warn = ctx.playbook_for(case.channel_id).refund_sla_warn_hours
        state = rules.sla_state(due_at=case.due_at, now=ctx.now, warn_hours=warn)
        if state is rules.SlaState.OK:
            continue
        overdue = state is rules.SlaState.OVERDUE
        key = (
            gettext_noop("售后单 %(n)s（订单 %(o)s）退款已超时，截止 %(t)s")
            if overdue
            else gettext_noop("售后单 %(n)s（订单 %(o)s）将于 %(t)s 退款超时")
        )
        yield FindingDraft(
            subject_key=f"aftersale:{case.pk}:refund",
            subject_type="aftersales.aftersale",
            subject_id=case.number,
            channel_id=case.channel_id,
            severity=Severity.CRITICAL if overdue else Severity.WARNING,
            detail={
                "number": case.number,
                "order": case.order.number,
                "kind": case.kind,
                "status": case.status,
                "big_promo": case.is_big_promo,
                "due_at": case.due_at.isoformat(),
                "refund_amount": str(case.refund_amount),
            },
            due_at=case.due_at,
            **titled(key, n=case.number, o=case.order.number, t=case.due_at.strftime("%Y-%m-%d %H:%M")),
        )
