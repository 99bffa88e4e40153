"""ORD-07: the three flows of an invoice agree (三流合一) — funds (who paid), invoice (the
title) and goods (consignee / delivery address) — and the amount is what was paid less
refunds. Every open invoice request (requested or issued) that breaks this is a finding for
finance; it resolves itself once the request is corrected, rejected or reversed."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
from storeops.core.queries import each
from storeops.orders import rules
from storeops.orders.invoices import OPEN, flow_problems, net_paid
from storeops.orders.models import InvoiceRequest, InvoiceStatus
from storeops.sop.registry import CheckContext, FindingDraft, Schedule, Severity, register_check, titled

_PROBLEM_TEXT = {
    rules.FlowProblem.AMOUNT: gettext_noop("开票金额与实付减退款不一致"),
    rules.FlowProblem.FUNDS: gettext_noop("付款人与发票抬头不一致"),
    rules.FlowProblem.GOODS: gettext_noop("收货人/收货地址与发票抬头单位不一致"),
}
# Invoice requests read per query: every open request is checked, this many at a time.
BATCH_SIZE = 500


@register_check(rule="ORD-07", title="发票三流合一", owner_role=Role.FINANCE, schedule=Schedule.HOURLY)
def invoice_three_flows(ctx: CheckContext) -> Iterator[FindingDraft]:
    invoices = InvoiceRequest.objects.filter(store=ctx.store, status__in=OPEN).select_related("order")
    for invoice in each(invoices, size=BATCH_SIZE):
        problems = flow_problems(invoice)
        if not problems:
            continue
        order = invoice.order
        issued = invoice.status == InvoiceStatus.ISSUED
        yield FindingDraft(
            subject_key=f"invoice:{invoice.pk}:flows",
            subject_type="orders.invoicerequest",
            subject_id=str(invoice.pk),
            channel_id=order.channel_id,
            # an issued invoice that disagrees is already with the tax authority: critical
            severity=Severity.CRITICAL if issued else Severity.WARNING,
            detail={
                "order": order.number,
                "title": invoice.title,
                "payer_name": invoice.payer_name,
                "consignee": order.receiver,
                "invoice_amount": str(invoice.amount),
                "net_paid": str(net_paid(order)),
                "status": invoice.status,
                "problems": [str(p) for p in problems],
            },
            **titled(
                gettext_noop("订单 %(n)s 的发票三流不一致：%(p)s"),
                n=order.number,
                p={"msgid": _PROBLEM_TEXT[problems[0]]},
            ),
        )
