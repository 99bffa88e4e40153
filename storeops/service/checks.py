"""SOP checks of customer service: complaint deadlines by tier (CS-01) and the ticket
resolution target (CS-02). A finding opens when a deadline is within
``ticket_sla_warn_minutes`` (info) and becomes a warning/critical once passed; it resolves
itself when the ticket is answered, resolved or its statement published."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.accounts.roles import Role
from storeops.service import rules, selectors
from storeops.service.models import Ticket
from storeops.sop.registry import CheckContext, FindingDraft, Schedule, Severity, register_check

_KIND_LABELS = {
    rules.SlaKind.RESPONSE: lambda: _("首次响应"),
    rules.SlaKind.RESOLUTION: lambda: _("解决"),
    rules.SlaKind.STATEMENT: lambda: _("危机公开声明"),
}


def _severity(ticket: Ticket, breach: rules.SlaBreach) -> Severity:
    if breach.state == rules.SlaState.DUE_SOON:
        return Severity.INFO
    if ticket.tier in (rules.Tier.SERIOUS, rules.Tier.CRISIS):
        return Severity.CRITICAL
    return Severity.WARNING


def _draft(ticket: Ticket, breach: rules.SlaBreach) -> FindingDraft:
    state = _("已超时 %(m)s 分钟") if breach.state == rules.SlaState.OVERDUE else _("还剩 %(m)s 分钟")
    return FindingDraft(
        subject_key=f"ticket:{ticket.pk}:{breach.kind.value}",
        subject_type="service.ticket",
        subject_id=str(ticket.pk),
        channel_id=ticket.channel_id,
        severity=_severity(ticket, breach),
        due_at=breach.due_at,
        title=_("工单 #%(id)s（%(tier)s）%(kind)s：%(state)s — %(subject)s")
        % {
            "id": ticket.pk,
            "tier": ticket.get_tier_display(),
            "kind": _KIND_LABELS[breach.kind](),
            "state": state % {"m": breach.minutes},
            "subject": ticket.subject[:60],
        },
        detail={
            "ticket": ticket.pk,
            "kind": breach.kind.value,
            "state": breach.state.value,
            "tier": ticket.tier,
            "due_at": timezone.localtime(breach.due_at).isoformat(),
            "owner": ticket.owner.get_username() if ticket.owner else "",
            "customer": ticket.customer_ref,
            "order_ref": ticket.order_ref,
        },
    )


def _cs01(ticket: Ticket, kind: rules.SlaKind) -> bool:
    """CS-01 owns the tier deadlines: the answer, a serious/crisis ticket's solution, the
    crisis statement. CS-02 owns the resolution target of general tickets."""
    return kind != rules.SlaKind.RESOLUTION or ticket.tier != rules.Tier.GENERAL


def _breaches(ctx: CheckContext, *, cs01: bool) -> Iterator[FindingDraft]:
    warn = ctx.playbook.ticket_sla_warn_minutes
    for ticket in selectors.tickets_sla_watch(store=ctx.store).select_related("owner"):
        for breach in rules.sla_breaches(selectors.ticket_facts(ticket), ctx.now, warn_minutes=warn):
            if _cs01(ticket, breach.kind) == cs01:
                yield _draft(ticket, breach)


@register_check(
    rule="CS-01", title="客诉分级时效", owner_role=Role.CUSTOMER_SERVICE, schedule=Schedule.FREQUENT
)
def complaint_tier_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Tickets about to miss or past their tier deadline: the first answer (general tier
    hours), a serious or crisis ticket's solution (serious tier hours), a crisis's public
    statement (crisis hours after escalation)."""
    yield from _breaches(ctx, cs01=True)


@register_check(
    rule="CS-02", title="工单解决时效", owner_role=Role.CUSTOMER_SERVICE, schedule=Schedule.FREQUENT
)
def ticket_resolution_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    """General tickets about to miss or past the resolution target (ticket_resolution_hours)."""
    yield from _breaches(ctx, cs01=False)
