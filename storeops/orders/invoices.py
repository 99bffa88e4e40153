"""Invoices on request (ORD-07): a customer asks for an electronic or paper invoice of a paid
order; finance issues it (or rejects it with a reason) and reverses it with a red-letter
invoice (红冲) when the order is refunded after issuing.

The amount is always what the customer paid less what was refunded. Company titles need a
valid unified social credit code (GB 32100-2015 check character, :func:`rules.uscc_valid`).
The three-flow check (三流合一, :mod:`storeops.orders.invoice_checks`) compares the funds
flow (``payer_name``), the invoice flow (title) and the goods flow (consignee, address).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.core.errors import Conflict, DomainError, InvalidTransition, NotFound, ValidationError
from storeops.core.text import clean_text
from storeops.orders import rules
from storeops.orders.models import (
    InvoiceKind,
    InvoiceRequest,
    InvoiceStatus,
    InvoiceTitleType,
    Order,
)
from storeops.orders.selectors import is_points_order
from storeops.stores.models import Store

S = rules.Status
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
OPEN = (InvoiceStatus.REQUESTED, InvoiceStatus.ISSUED)
REASON_MAX = 200  # a reject / reversal reason (the column)
# An order can be invoiced once paid: not while unpaid, nor once closed unpaid.
_NOT_INVOICEABLE = frozenset({S.CREATED, S.DEPOSIT_PAID, S.CLOSED})


def net_paid(order: Order) -> Decimal:
    """What the customer paid for the order, less refunds: the most an invoice may state."""
    return order.paid_amount - order.refunded_amount


def _flow_problems(invoice: InvoiceRequest, order: Order) -> list[rules.FlowProblem]:
    where = f"{order.province}{order.city}{order.district}{order.address}"
    return rules.three_flow_problems(
        company=invoice.title_type == InvoiceTitleType.COMPANY,
        title=invoice.title,
        payer_name=invoice.payer_name,
        consignee=order.receiver,
        delivery_address=where,
        invoice_amount=invoice.amount,
        net_paid=net_paid(order),
    )


def flow_problems(invoice: InvoiceRequest) -> list[rules.FlowProblem]:
    """ORD-07 三流合一 problems of an open invoice request (empty: the flows agree)."""
    return _flow_problems(invoice, invoice.order)


def _delivery_errors(*, kind: str, email: str, mailing_address: str) -> dict[str, str]:
    """Where the invoice goes: an e-mail for electronic invoices, an address for paper ones."""
    errors: dict[str, str] = {}
    if kind == InvoiceKind.ELECTRONIC:
        if not email:
            errors["email"] = _("电子发票必须填写接收邮箱")
        elif not _EMAIL.match(email) or len(email) > 254:
            errors["email"] = _("邮箱格式不正确")
    if kind == InvoiceKind.PAPER and not mailing_address:
        errors["mailing_address"] = _("纸质发票必须填写邮寄地址")
    if len(mailing_address) > 300:
        errors["mailing_address"] = _("最多 300 个字符")
    return errors


def _request_errors(
    *, kind: str, title_type: str, title: str, tax_id: str, email: str, mailing_address: str, payer_name: str
) -> dict[str, str]:
    """Per-field problems of an invoice request form (empty: valid)."""
    errors: dict[str, str] = {}
    if kind not in InvoiceKind.values:
        errors["kind"] = _("可选：电子发票 electronic、纸质发票 paper")
    if title_type not in InvoiceTitleType.values:
        errors["title_type"] = _("可选：个人 personal、单位 company")
    if not title:
        errors["title"] = _("必填")
    elif len(title) > 100:
        errors["title"] = _("最多 100 个字符")
    if title_type == InvoiceTitleType.COMPANY:
        if not tax_id:
            errors["tax_id"] = _("单位抬头必须填写纳税人识别号（统一社会信用代码）")
        elif not rules.uscc_valid(tax_id):
            errors["tax_id"] = _("统一社会信用代码无效（18位，校验码不符）")
    elif tax_id and not rules.uscc_valid(tax_id):
        errors["tax_id"] = _("统一社会信用代码无效（18位，校验码不符）")
    errors.update(_delivery_errors(kind=kind, email=email, mailing_address=mailing_address))
    if len(payer_name) > 100:
        errors["payer_name"] = _("最多 100 个字符")
    return errors


def _amount_refusal(order: Order) -> InvalidTransition | None:
    """Why the order has nothing to invoice (None: it has)."""
    if S(order.status) in _NOT_INVOICEABLE:
        return InvalidTransition(_("订单 %(n)s 尚未付款，不能开票") % {"n": order.number})
    if order.paid_amount <= 0:
        # paid with nothing to pay: goods taken for points (MEM-02) or fully discounted
        message = (
            _("订单 %(n)s 是积分兑换订单，顾客未支付金额，没有可开票金额")
            if is_points_order(order)
            else _("订单 %(n)s 实付金额为 0，没有可开票金额")
        )
        return InvalidTransition(message % {"n": order.number})
    if net_paid(order) <= 0:
        return InvalidTransition(_("订单 %(n)s 已全额退款，无可开票金额") % {"n": order.number})
    return None


def request_refusal(order: Order) -> DomainError | None:
    """Why :func:`invoice_request` would refuse any request for the order right now — unpaid,
    nothing paid or all refunded, or an open request already (None: a request may be made).
    For forms that offer the request only when it can succeed."""
    refusal = _amount_refusal(order)
    if refusal is not None:
        return refusal
    if InvoiceRequest.objects.filter(order=order, status__in=OPEN).exists():
        return Conflict(_("订单 %(n)s 已有未完成的发票申请") % {"n": order.number}, code="invoice_open")
    return None


def invoice_request(
    *,
    actor: Actor,
    order: Order,
    kind: str,
    title_type: str,
    title: str,
    tax_id: str = "",
    email: str = "",
    mailing_address: str = "",
    payer_name: str = "",
    amount: Decimal | None = None,
    now: dt.datetime | None = None,
) -> InvoiceRequest:
    """Request an invoice for a paid order. Only one open (requested or issued) request per
    order; the amount is what was paid less refunds (a smaller amount may be asked for,
    never a larger one). ``payer_name`` is who paid (the funds flow): from the form, else
    the order's buyer for imported marketplace orders."""
    now = now or timezone.now()
    title, tax_id = (title or "").strip(), (tax_id or "").strip().upper()
    email, mailing_address = (email or "").strip(), (mailing_address or "").strip()
    payer_name = (payer_name or "").strip()
    errors = _request_errors(
        kind=kind,
        title_type=title_type,
        title=title,
        tax_id=tax_id,
        email=email,
        mailing_address=mailing_address,
        payer_name=payer_name,
    )
    if errors:
        raise ValidationError(_("发票申请信息有误"), fields=errors)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        refusal = _amount_refusal(order)
        if refusal is not None:
            raise refusal
        most = net_paid(order)
        if amount is None:
            amount = most
        elif amount <= 0 or amount > most:
            raise ValidationError(
                _("开票金额不能超过实付减退款 %(m)s 元") % {"m": most},
                fields={"amount": _("应大于0且不超过 %(m)s") % {"m": most}},
            )
        if InvoiceRequest.objects.filter(order=order, status__in=OPEN).exists():
            raise Conflict(_("订单 %(n)s 已有未完成的发票申请") % {"n": order.number}, code="invoice_open")
        if not payer_name and order.source == "import":
            payer_name = order.customer_ref
        try:
            with transaction.atomic():
                invoice = InvoiceRequest.objects.create(
                    order=order,
                    store_id=order.store_id,
                    kind=kind,
                    title_type=title_type,
                    title=title,
                    tax_id=tax_id,
                    payer_name=payer_name,
                    amount=amount,
                    email=email,
                    mailing_address=mailing_address,
                    requested_by=actor.label[:150],
                    created_at=now,
                )
        except IntegrityError as exc:
            raise Conflict(
                _("订单 %(n)s 已有未完成的发票申请") % {"n": order.number}, code="invoice_open"
            ) from exc
        audit_record(
            actor=actor,
            action="invoice.request",
            obj=invoice,
            store_id=order.store_id,
            after={"order": order.number, "amount": amount, "kind": kind, "title_type": title_type},
        )
    return invoice


def _locked(invoice: InvoiceRequest) -> InvoiceRequest:
    return InvoiceRequest.objects.select_for_update().select_related("order").get(pk=invoice.pk)


def _move(
    invoice: InvoiceRequest,
    *,
    actor: Actor,
    action: str,
    source: InvoiceStatus,
    target: InvoiceStatus,
    note: str = "",
    **fields: object,
) -> InvoiceRequest:
    changed = InvoiceRequest.objects.filter(pk=invoice.pk, status=source).update(
        status=target, updated_at=timezone.now(), **fields
    )
    if not changed:
        raise Conflict(_("发票申请已被其他操作修改，请刷新后重试"), code="stale_invoice")
    audit_record(
        actor=actor,
        action=f"invoice.{action}",
        obj=invoice,
        store_id=invoice.store_id,
        before={"status": str(source)},
        after={"status": str(target), **{k: v for k, v in fields.items() if not isinstance(v, dt.datetime)}},
        note=note,
    )
    invoice.refresh_from_db()
    return invoice


def invoice_issue(
    *, actor: Actor, invoice: InvoiceRequest, invoice_number: str, now: dt.datetime | None = None
) -> InvoiceRequest:
    """Finance issues the invoice with its number. Refused when the order was refunded since
    the request so the amount would exceed what was paid less refunds."""
    now = now or timezone.now()
    number = (invoice_number or "").strip()
    if not number:
        raise ValidationError(_("请填写发票号码"), fields={"invoice_number": _("必填")})
    if len(number) > 40 or not re.fullmatch(r"[0-9A-Za-z-]+", number):
        raise ValidationError(
            _("发票号码格式不正确"), fields={"invoice_number": _("只能是数字、字母或连字符，最多 40 位")}
        )
    with transaction.atomic():
        invoice = _locked(invoice)
        if invoice.status != InvoiceStatus.REQUESTED:
            raise InvalidTransition(_("只有待开票的申请可以开票"))
        if invoice.amount > net_paid(invoice.order):
            raise Conflict(
                _("订单已退款，开票金额 %(a)s 超过实付减退款 %(m)s，请驳回后重新申请")
                % {"a": invoice.amount, "m": net_paid(invoice.order)},
                code="invoice_amount_exceeds",
            )
        if (
            InvoiceRequest.objects.filter(store_id=invoice.store_id, invoice_number=number)
            .exclude(pk=invoice.pk)
            .exists()
        ):
            raise Conflict(_("发票号码已被使用：%(n)s") % {"n": number}, code="invoice_number_used")
        return _move(
            invoice,
            actor=actor,
            action="issue",
            source=InvoiceStatus.REQUESTED,
            target=InvoiceStatus.ISSUED,
            invoice_number=number,
            issued_at=now,
        )


def invoice_reject(
    *, actor: Actor, invoice: InvoiceRequest, reason: str, now: dt.datetime | None = None
) -> InvoiceRequest:
    now = now or timezone.now()
    # the whole reason is kept (it was cut at 200 characters without a word)
    reason = clean_text(reason, "reason", limit=REASON_MAX, message=_("请填写驳回原因"))
    with transaction.atomic():
        invoice = _locked(invoice)
        if invoice.status != InvoiceStatus.REQUESTED:
            raise InvalidTransition(_("只有待开票的申请可以驳回"))
        return _move(
            invoice,
            actor=actor,
            action="reject",
            source=InvoiceStatus.REQUESTED,
            target=InvoiceStatus.REJECTED,
            note=reason,
            reason=reason,
            closed_at=now,
        )


def invoice_reverse(
    *, actor: Actor, invoice: InvoiceRequest, reason: str, now: dt.datetime | None = None
) -> InvoiceRequest:
    """Red-letter reversal (红冲) of an issued invoice whose order was refunded after issuing.
    A new request for what remains paid can then be made."""
    now = now or timezone.now()
    # the whole reason is kept (it was cut at 200 characters without a word)
    reason = clean_text(reason, "reason", limit=REASON_MAX, message=_("请填写红冲原因"))
    with transaction.atomic():
        invoice = _locked(invoice)
        if invoice.status != InvoiceStatus.ISSUED:
            raise InvalidTransition(_("只有已开票的发票可以红冲"))
        if net_paid(invoice.order) >= invoice.amount:
            raise InvalidTransition(_("订单 %(n)s 开票后没有退款，不需要红冲") % {"n": invoice.order.number})
        return _move(
            invoice,
            actor=actor,
            action="reverse",
            source=InvoiceStatus.ISSUED,
            target=InvoiceStatus.REVERSED,
            note=reason,
            reason=reason,
            closed_at=now,
        )


# --- reads ---------------------------------------------------------------------------------------


def invoice_list(
    *, store: Store, status: str | None = None, q: str = "", title_type: str | None = None
) -> QuerySet[InvoiceRequest]:
    qs = InvoiceRequest.objects.filter(store=store).select_related("order", "order__channel")
    if status:
        qs = qs.filter(status=status)
    if title_type:
        qs = qs.filter(title_type=title_type)
    if q:
        qs = qs.filter(order__number__icontains=q) | qs.filter(title__icontains=q)
    return qs


def order_invoices(order: Order) -> list[InvoiceRequest]:
    """The order's invoice requests, newest first (the order page's 发票 section)."""
    return list(InvoiceRequest.objects.filter(order=order).select_related("order"))


def invoice_get(*, store: Store, invoice_id: int) -> InvoiceRequest:
    invoice = invoice_list(store=store).filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFound(_("发票申请不存在"))
    return invoice


def order_for_invoice(*, store: Store, number: str, channel_id: int | None = None) -> Order:
    qs = Order.objects.filter(store=store, number=(number or "").strip())
    if channel_id:
        qs = qs.filter(channel_id=channel_id)
    found = list(qs[:2])
    if not found:
        raise ValidationError(_("订单不存在"), fields={"order_number": _("订单不存在")})
    if len(found) > 1:
        raise ValidationError(_("多个渠道有相同的订单号，请指定渠道"), fields={"channel_id": _("请指定渠道")})
    return found[0]


STATUS_CHOICES = list(InvoiceStatus.choices)
KIND_CHOICES = list(InvoiceKind.choices)
TITLE_TYPE_CHOICES = list(InvoiceTitleType.choices)
FLOW_PROBLEM_LABELS = {
    rules.FlowProblem.AMOUNT: gettext_lazy("开票金额与实付减退款不一致"),
    rules.FlowProblem.FUNDS: gettext_lazy("付款人与发票抬头不一致"),
    rules.FlowProblem.GOODS: gettext_lazy("收货人/收货地址与发票抬头单位不一致"),
}
