"""After-sale cases (returns, exchanges, refund-only), their lines and timeline (AS-01…AS-05).

Money invariants held by CHECK constraints: a case's refund is never negative, what it
refunded never exceeds its computed refund; a line's QC counts never exceed its units. The
refund itself goes through :func:`storeops.orders.services.order_refund`, whose constraints
keep every refund within what the customer paid.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from storeops.aftersales.rules import Kind, Reason, Status
from storeops.catalog.models import Sku
from storeops.inventory.models import Warehouse
from storeops.orders.models import Order, OrderLine
from storeops.stores.models import Channel, Store

MONEY = {"max_digits": 14, "decimal_places": 2}


class CaseKind(models.TextChoices):
    RETURN = Kind.RETURN.value, _("退货退款")
    EXCHANGE = Kind.EXCHANGE.value, _("换货")
    REFUND_ONLY = Kind.REFUND_ONLY.value, _("仅退款")


class CaseReason(models.TextChoices):
    NO_REASON = Reason.NO_REASON.value, _("七天无理由")
    QUALITY = Reason.QUALITY.value, _("质量问题")
    WRONG_ITEM = Reason.WRONG_ITEM.value, _("发错货")
    DAMAGED = Reason.DAMAGED.value, _("运输破损")
    NOT_AS_DESCRIBED = Reason.NOT_AS_DESCRIBED.value, _("与描述不符")
    SIZE = Reason.SIZE.value, _("尺码不合适")
    NOT_RECEIVED = Reason.NOT_RECEIVED.value, _("未收到货/少件")
    OTHER = Reason.OTHER.value, _("其他")


class CaseStatus(models.TextChoices):
    REQUESTED = Status.REQUESTED.value, _("待审核")
    APPROVED = Status.APPROVED.value, _("已同意")
    RECEIVED = Status.RECEIVED.value, _("已收货待质检")
    INSPECTED = Status.INSPECTED.value, _("已质检")
    REFUNDED = Status.REFUNDED.value, _("已退款")
    EXCHANGED = Status.EXCHANGED.value, _("已换货")
    REJECTED = Status.REJECTED.value, _("已拒绝")
    CANCELLED = Status.CANCELLED.value, _("已撤销")


class AfterSale(models.Model):
    """One after-sale request on one order."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+", verbose_name=_("渠道"))
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="after_sales", verbose_name=_("订单")
    )
    number = models.CharField(_("售后单号"), max_length=32, unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=CaseKind.choices)
    status = models.CharField(
        _("状态"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.REQUESTED, db_index=True
    )
    reason = models.CharField(_("原因"), max_length=30, choices=CaseReason.choices)
    reason_text = models.CharField(_("原因说明"), max_length=500, blank=True)
    images = models.JSONField(_("凭证图片"), default=list, blank=True)
    customer_ref = models.CharField(_("顾客"), max_length=64, db_index=True)
    is_new_customer = models.BooleanField(_("新顾客"), default=False)
    priority = models.PositiveSmallIntegerField(_("优先级"), default=1)  # 0 = new customer first
    is_big_promo = models.BooleanField(_("大促订单"), default=False)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    refund_amount = models.DecimalField(_("应退金额"), **MONEY, default=Decimal("0.00"))
    refunded_amount = models.DecimalField(_("已退金额"), **MONEY, default=Decimal("0.00"))
    refund_reference = models.CharField(_("退款单号"), max_length=64, blank=True)
    due_at = models.DateTimeField(_("退款截止时间"), null=True, blank=True, db_index=True)
    auto_approved = models.BooleanField(_("自动同意"), default=False)
    decided_by = models.CharField(_("审核人"), max_length=150, blank=True)
    decision_note = models.CharField(_("审核说明"), max_length=300, blank=True)
    return_warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("退货仓")
    )
    return_tracking_no = models.CharField(_("退货运单号"), max_length=64, blank=True)
    exchange_tracking_no = models.CharField(_("换货运单号"), max_length=64, blank=True)
    requested_via = models.CharField(_("来源"), max_length=20, blank=True)
    # NULL, not "": the partial unique index covers only requests that carry a key
    idempotency_key = models.CharField(_("幂等键"), max_length=100, null=True, blank=True)  # noqa: DJ001
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now, db_index=True)
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("收货时间"), null=True, blank=True)
    inspected_at = models.DateTimeField(_("质检时间"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("退款时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("售后单")
        verbose_name_plural = _("售后单")
        ordering = ("priority", "due_at", "requested_at", "id")
        permissions = [
            ("approve_aftersale", _("审核售后（同意/拒绝）")),
            ("handle_returns", _("退货收货、质检与换货发出")),
            ("refund_aftersale", _("售后退款")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=("store", "idempotency_key"),
                condition=Q(idempotency_key__isnull=False),
                name="aftersale_idempotency_key_unique",
            ),
            models.CheckConstraint(condition=Q(refund_amount__gte=0), name="aftersale_refund_non_negative"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("refund_amount")),
                name="aftersale_refunded_within_refund",
            ),
        ]
        indexes = [models.Index(fields=("store", "status", "requested_at"), name="aftersale_store_status")]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        from storeops.aftersales.rules import OPEN

        return Status(self.status) in OPEN


class AfterSaleLine(models.Model):
    case = models.ForeignKey(AfterSale, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="after_sale_lines", verbose_name=_("订单行")
    )
    quantity = models.PositiveIntegerField(_("数量"))
    refund_amount = models.DecimalField(_("应退金额"), **MONEY, default=Decimal("0.00"))
    qc_passed = models.PositiveIntegerField(_("质检合格"), default=0)
    qc_failed = models.PositiveIntegerField(_("质检不合格"), default=0)
    replacement_sku = models.ForeignKey(
        Sku, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("换货SKU")
    )

    class Meta:
        verbose_name = _("售后明细")
        verbose_name_plural = _("售后明细")
        ordering = ("case", "id")
        constraints = [
            models.UniqueConstraint(fields=("case", "order_line"), name="aftersale_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="aftersale_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(refund_amount__gte=0), name="aftersale_line_refund_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(qc_passed__lte=F("quantity") - F("qc_failed")), name="aftersale_line_qc_within"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.order_line_id}×{self.quantity}"


class AfterSaleEvent(models.Model):
    """The case's timeline: every transition and notable action."""

    case = models.ForeignKey(AfterSale, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("事件"), max_length=40)
    from_status = models.CharField(_("原状态"), max_length=20, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor_label = models.CharField(_("操作人"), max_length=150)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("售后事件")
        verbose_name_plural = _("售后事件")
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"
