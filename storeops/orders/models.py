"""Orders, their lines, events, stock allocations, payments and customer notifications.

Money invariants held by CHECK constraints (and by the services, tested with hypothesis):
``0 <= refunded_amount <= paid_amount``, ``paid_amount`` is 0 or ``payable``, a line's
``refunded_amount <= paid_total`` and ``refunded_qty <= quantity``; a presale order's deposit
(定金膨胀) is within ``payable`` and ``deposit_paid`` is 0 or the deposit.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from storeops.analytics.models import SegmentChoice
from storeops.catalog.models import Sku
from storeops.core.money import DEFAULT_CURRENCY
from storeops.inventory.models import Warehouse
from storeops.members.rules import Tier
from storeops.orders.rules import HoldReason, Status, mask_device, mask_ip
from storeops.stores.models import Channel, Store

MONEY = {"max_digits": 14, "decimal_places": 2}


class OrderStatus(models.TextChoices):
    CREATED = Status.CREATED.value, _("待付款")
    DEPOSIT_PAID = Status.DEPOSIT_PAID.value, _("待付尾款")
    PAID = Status.PAID.value, _("已付款")
    ON_HOLD = Status.ON_HOLD.value, _("待人工审核")
    REVIEWED = Status.REVIEWED.value, _("已审核")
    ALLOCATED = Status.ALLOCATED.value, _("已分仓")
    SHIPPED = Status.SHIPPED.value, _("已发货")
    DELIVERED = Status.DELIVERED.value, _("已签收")
    AFTER_SALE = Status.AFTER_SALE.value, _("售后中")
    COMPLETED = Status.COMPLETED.value, _("已完成")
    CANCELLED = Status.CANCELLED.value, _("已取消")
    CLOSED = Status.CLOSED.value, _("已关闭")
    REFUNDED = Status.REFUNDED.value, _("已全额退款")


class HoldReasonChoice(models.TextChoices):
    BAD_ADDRESS = HoldReason.BAD_ADDRESS.value, _("地址异常")
    OUT_OF_STOCK = HoldReason.OUT_OF_STOCK.value, _("缺货")
    FRAUD = HoldReason.FRAUD.value, _("风险订单")
    MANUAL = HoldReason.MANUAL.value, _("人工审核")


class MemberTier(models.TextChoices):
    """The buyer's member tier when the order was placed (MEM-01); "" = not a member."""

    SILVER = Tier.SILVER.value, _("银卡")
    GOLD = Tier.GOLD.value, _("金卡")
    DIAMOND = Tier.DIAMOND.value, _("钻石卡")


class Source(models.TextChoices):
    STOREFRONT = "storefront", _("自营商城")
    IMPORT = "import", _("渠道导入")


class GroupStatus(models.TextChoices):
    OPEN = "open", _("拼团中")
    FORMED = "formed", _("已成团")
    FAILED = "failed", _("未成团")


class OrderGroup(models.Model):
    """A group of a group-buy offer (拼团, PROMO-01): started by one buyer's order, joined by
    others' (each sends the group's ``code``); formed when ``size`` of its orders are paid
    before ``expires_at``, else failed and its paid orders refunded in full. Orders of a group
    that has not formed are neither reviewed nor shipped."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    offer = models.ForeignKey(
        "promotions.Offer", on_delete=models.PROTECT, related_name="+", verbose_name=_("拼团活动")
    )
    code = models.CharField(_("团号"), max_length=16, unique=True)
    leader_ref = models.CharField(_("团长"), max_length=64)
    size = models.PositiveSmallIntegerField(_("成团人数"))
    status = models.CharField(_("状态"), max_length=10, choices=GroupStatus.choices, default=GroupStatus.OPEN)
    created_at = models.DateTimeField(_("开团时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("截止时间"))
    formed_at = models.DateTimeField(_("成团时间"), null=True, blank=True)
    failed_at = models.DateTimeField(_("失败时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("拼团")
        verbose_name_plural = _("拼团")
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=("status", "expires_at"), name="order_group_status_expiry")]
        constraints = [
            models.CheckConstraint(condition=Q(size__gte=2), name="order_group_size_at_least_two"),
            models.CheckConstraint(
                condition=~Q(status="formed") | Q(formed_at__isnull=False), name="order_group_formed_has_time"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Order(models.Model):
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+", verbose_name=_("渠道"))
    number = models.CharField(_("订单号"), max_length=64)
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices, default=Source.STOREFRONT)
    # NULL, not "": the partial unique index covers only orders that carry a key
    idempotency_key = models.CharField(_("幂等键"), max_length=100, null=True, blank=True)  # noqa: DJ001
    customer_ref = models.CharField(_("顾客"), max_length=64, db_index=True)
    is_new_customer = models.BooleanField(_("新顾客"), default=False)
    # the buyer's tier when the order was placed (MEM-01): a diamond order ships sooner
    # (``diamond_ship_hours``); a snapshot, so paying reads no member row
    member_tier = models.CharField(
        _("下单时会员等级"), max_length=10, choices=MemberTier.choices, blank=True, default=""
    )
    # the buyer's lifecycle segment when the order was placed (MEM-04, from the member row):
    # a high-value customer's order ships sooner (``segment_high_value_ship_hours``)
    customer_segment = models.CharField(
        _("下单时客户分层"), max_length=20, choices=SegmentChoice.choices, blank=True, default=""
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.CREATED, db_index=True
    )
    # delivery address (the phone is personal data: masked in lists, full only in detail)
    receiver = models.CharField(_("收货人"), max_length=50)
    phone = models.CharField(_("电话"), max_length=30)
    province = models.CharField(_("省"), max_length=30)
    city = models.CharField(_("市"), max_length=30, blank=True)
    district = models.CharField(_("区县"), max_length=30, blank=True)
    address = models.CharField(_("详细地址"), max_length=200)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    # money
    currency = models.CharField(_("币种"), max_length=3, default=DEFAULT_CURRENCY)
    list_total = models.DecimalField(_("原价合计"), **MONEY)
    discount_total = models.DecimalField(_("优惠合计"), **MONEY, default=Decimal("0.00"))
    payable = models.DecimalField(_("应付金额"), **MONEY)
    paid_amount = models.DecimalField(_("实付金额"), **MONEY, default=Decimal("0.00"))
    refunded_amount = models.DecimalField(_("已退款金额"), **MONEY, default=Decimal("0.00"))
    # presale (定金膨胀, PROMO-01): the deposit is paid first (``deposit_paid``), the rest of
    # ``payable`` in the balance window; ``paid_amount`` becomes ``payable`` only when the
    # balance is paid. 0 and NULLs for every other order
    deposit_amount = models.DecimalField(_("定金"), **MONEY, default=Decimal("0.00"))
    deposit_paid = models.DecimalField(_("已付定金"), **MONEY, default=Decimal("0.00"))
    balance_starts = models.DateTimeField(_("尾款开始时间"), null=True, blank=True)
    balance_ends = models.DateTimeField(_("尾款截止时间"), null=True, blank=True, db_index=True)
    coupon_codes = models.JSONField(_("使用的优惠券"), default=list, blank=True)
    pricing = models.JSONField(_("价格说明"), default=dict, blank=True)  # applied offers + explanation
    is_big_promo = models.BooleanField(_("大促订单"), default=False)
    buyer_note = models.CharField(_("买家留言"), max_length=300, blank=True)
    # where the storefront order came from (RISK-01 brushing signals); personal data like the
    # phone (RISK-05): masked in lists and exports, in full only on the detail page
    client_ip = models.GenericIPAddressField(_("下单IP"), null=True, blank=True)
    device_id = models.CharField(_("设备标识"), max_length=64, blank=True)
    # review (ORD-01) and exceptions (ORD-04)
    fraud_score = models.PositiveSmallIntegerField(_("风险分"), null=True, blank=True)
    hold_reasons = models.JSONField(_("挂起原因"), default=list, blank=True)
    merge_key = models.CharField(_("合并发货组"), max_length=64, blank=True, db_index=True)
    # timeline
    created_at = models.DateTimeField(_("下单时间"), default=timezone.now, db_index=True)
    paid_at = models.DateTimeField(_("付款时间"), null=True, blank=True, db_index=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    allocated_at = models.DateTimeField(_("分仓时间"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("发货时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("签收时间"), null=True, blank=True, db_index=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消/关闭时间"), null=True, blank=True)
    ship_by = models.DateTimeField(_("最晚发货时间"), null=True, blank=True, db_index=True)
    # a group-buy order (拼团): waits for its group to form before review; NULL for all others
    group = models.ForeignKey(
        OrderGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("拼团"),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    version = models.PositiveIntegerField(default=0)  # bumped by every transition (optimistic check)

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        ordering = ("-created_at", "-id")
        permissions = [
            ("place_order", _("下单（商城/集成）")),
            ("review_order", _("审核订单")),
            ("ship_order", _("发货")),
            ("cancel_order", _("取消订单")),
        ]
        constraints = [
            models.UniqueConstraint(fields=("store", "channel", "number"), name="order_number_unique"),
            models.UniqueConstraint(
                fields=("store", "idempotency_key"),
                condition=Q(idempotency_key__isnull=False),
                name="order_idempotency_key_unique",
            ),
            models.CheckConstraint(condition=Q(payable__gte=0), name="order_payable_non_negative"),
            models.CheckConstraint(condition=Q(list_total__gte=0), name="order_list_total_non_negative"),
            models.CheckConstraint(
                condition=Q(paid_amount=0) | Q(paid_amount=F("payable")), name="order_paid_all_or_nothing"
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("paid_amount")),
                name="order_refund_within_paid",
            ),
            models.CheckConstraint(
                condition=Q(deposit_amount__gte=0) & Q(deposit_amount__lte=F("payable")),
                name="order_deposit_within_payable",
            ),
            models.CheckConstraint(
                condition=Q(deposit_paid=0) | Q(deposit_paid=F("deposit_amount")),
                name="order_deposit_paid_all_or_nothing",
            ),
        ]
        indexes = [
            models.Index(fields=("store", "status", "created_at"), name="order_store_status"),
            # by number within a store, whatever the channel: the order detail API, parcels'
            # delivery detection, outreach conversions (the unique index leads with the channel)
            models.Index(fields=("store", "number"), name="order_store_number"),
            # RISK-01 window counts at review: orders from one IP, accounts on one device. Partial:
            # orders without them (imports, back office) are neither counted nor indexed
            models.Index(
                fields=("store", "client_ip", "created_at"),
                name="order_store_ip",
                condition=Q(client_ip__isnull=False),
            ),
            models.Index(
                fields=("store", "device_id", "created_at"),
                name="order_store_device",
                condition=Q(device_id__gt=""),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def phone_masked(self) -> str:
        p = self.phone
        return p[:3] + "****" + p[-4:] if len(p) >= 11 else p[:2] + "****"

    @property
    def client_ip_masked(self) -> str:
        return mask_ip(self.client_ip)

    @property
    def device_id_masked(self) -> str:
        return mask_device(self.device_id)

    @property
    def receiver_masked(self) -> str:
        """张三 → 张*, 欧阳娜娜 → 欧***: exports carry no full names (DATA-09)."""
        name = self.receiver.strip()
        return name[:1] + "*" * max(1, len(name) - 1) if name else ""


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("行号"))
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU"))
    sku_code = models.CharField(_("SKU编码"), max_length=64)
    title = models.CharField(_("商品名称"), max_length=200)
    quantity = models.PositiveIntegerField(_("数量"))
    unit_price = models.DecimalField(_("单价"), **MONEY)
    list_total = models.DecimalField(_("原价小计"), **MONEY)
    discount = models.DecimalField(_("分摊优惠"), **MONEY, default=Decimal("0.00"))
    paid_total = models.DecimalField(_("实付小计"), **MONEY)
    is_gift = models.BooleanField(_("赠品"), default=False)
    refunded_qty = models.PositiveIntegerField(_("已退数量"), default=0)
    refunded_amount = models.DecimalField(_("已退金额"), **MONEY, default=Decimal("0.00"))

    class Meta:
        verbose_name = _("订单行")
        verbose_name_plural = _("订单行")
        ordering = ("order", "position")
        constraints = [
            models.UniqueConstraint(fields=("order", "position"), name="order_line_position_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_quantity_positive"),
            models.CheckConstraint(condition=Q(paid_total__gte=0), name="order_line_paid_non_negative"),
            models.CheckConstraint(
                condition=Q(refunded_qty__lte=F("quantity")), name="order_line_refund_qty_within"
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("paid_total")),
                name="order_line_refund_within_paid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.position} {self.sku_code}×{self.quantity}"


class Allocation(models.Model):
    """Units of a line reserved (then shipped) from one warehouse (ORD-02)."""

    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="allocations")
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="+", verbose_name=_("仓库")
    )
    quantity = models.PositiveIntegerField(_("数量"))
    released = models.BooleanField(_("已释放"), default=False)
    shipped = models.BooleanField(_("已出库"), default=False)

    class Meta:
        verbose_name = _("分仓")
        verbose_name_plural = _("分仓")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="allocation_quantity_positive"),
            models.CheckConstraint(
                condition=~(Q(released=True) & Q(shipped=True)), name="allocation_released_xor_shipped"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.warehouse_id}:{self.line_id}×{self.quantity}"


class OrderEvent(models.Model):
    """One line of the order's timeline: every transition and every notable action."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("事件"), max_length=40)
    from_status = models.CharField(_("原状态"), max_length=20, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor_label = models.CharField(_("操作人"), max_length=150)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("订单事件")
        verbose_name_plural = _("订单事件")
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("待支付")
    SUCCEEDED = "succeeded", _("支付成功")
    FAILED = "failed", _("支付失败")
    TIMED_OUT = "timed_out", _("支付超时")
    # the money arrived for an order that could not take it (closed, cancelled, paid through
    # another payment) and was handed back in full at once
    RETURNED = "returned", _("已原路退回")


class PaymentStage(models.TextChoices):
    FULL = "full", _("全款")
    DEPOSIT = "deposit", _("定金")
    BALANCE = "balance", _("尾款")


class Payment(models.Model):
    """One attempt to collect an order's payable (or, of a presale order, its deposit or its
    balance) through a provider."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    stage = models.CharField(
        _("阶段"), max_length=10, choices=PaymentStage.choices, default=PaymentStage.FULL
    )
    provider = models.CharField(_("支付渠道"), max_length=30)
    reference = models.CharField(_("支付单号"), max_length=64, unique=True)  # ours, sent to the provider
    provider_txn_id = models.CharField(_("渠道交易号"), max_length=100, blank=True)
    amount = models.DecimalField(_("金额"), **MONEY)
    currency = models.CharField(_("币种"), max_length=3, default=DEFAULT_CURRENCY)
    status = models.CharField(
        _("状态"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING, db_index=True
    )
    failure_reason = models.CharField(_("失败原因"), max_length=200, blank=True)
    instructions = models.JSONField(_("支付指引"), default=dict, blank=True)  # redirect url / QR data
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("过期时间"))
    settled_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("支付")
        verbose_name_plural = _("支付")
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            # an order is paid exactly once (a presale order: its deposit once, its balance once)
            models.UniqueConstraint(
                fields=("order", "stage"),
                condition=Q(status="succeeded"),
                name="payment_one_success_per_stage",
            ),
            models.UniqueConstraint(
                fields=("provider", "provider_txn_id"),
                condition=~Q(provider_txn_id=""),
                name="payment_provider_txn_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class PaymentCallback(models.Model):
    """Every callback received, verified or not, kept for reconciliation and disputes."""

    provider = models.CharField(_("支付渠道"), max_length=30)
    event_id = models.CharField(_("通知编号"), max_length=100)
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="callbacks"
    )
    outcome = models.CharField(_("结果"), max_length=20, blank=True)
    valid_signature = models.BooleanField(_("签名有效"))
    result = models.CharField(_("处理结果"), max_length=40)  # applied / duplicate / ignored / rejected
    payload = models.JSONField(_("原始数据"), default=dict)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)

    class Meta:
        verbose_name = _("支付回调")
        verbose_name_plural = _("支付回调")
        ordering = ("-received_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("provider", "event_id"),
                condition=Q(valid_signature=True),
                name="payment_callback_event_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"


class RefundStatus(models.TextChoices):
    SUCCEEDED = "succeeded", _("已退款")
    FAILED = "failed", _("退款失败")


class PaymentRefund(models.Model):
    """Money returned to the customer through the payment provider (the after-sales app
    decides *whether*; this records *that* it happened)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    reference = models.CharField(_("退款单号"), max_length=64, unique=True)
    amount = models.DecimalField(_("金额"), **MONEY)
    reason = models.CharField(_("原因"), max_length=200)
    # [{"line": id, "qty": n, "amount": "x"}], adding up to ``amount``; a line split over two
    # records (a presale refund: balance, then deposit) counts its units on the first only
    lines = models.JSONField(_("退款明细"), default=list)
    status = models.CharField(_("状态"), max_length=20, choices=RefundStatus.choices)
    provider_refund_id = models.CharField(_("渠道退款号"), max_length=100, blank=True)
    actor_label = models.CharField(_("操作人"), max_length=150)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("退款")
        verbose_name_plural = _("退款")
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_refund_amount_positive")
        ]

    def __str__(self) -> str:
        return self.reference


class StatementFormat(models.TextChoices):
    WECHATPAY = "wechatpay", _("微信支付交易账单")
    ALIPAY = "alipay", _("支付宝业务明细")
    GENERIC = "generic", _("通用 CSV（单号、类型、金额、手续费）")


class PaymentStatement(models.Model):
    """A payment provider's statement of one day (对账单), imported by finance: what the
    provider says it collected and refunded, matched against our payments and refunds.
    One per store, provider and day; importing the day again replaces it (a corrected
    statement). The comparison is computed when read (``orders.reconcile``), so a payment
    applied later shows as matched without re-importing."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    provider = models.CharField(_("支付渠道"), max_length=30)
    statement_date = models.DateField(_("账单日期"))
    file_name = models.CharField(_("文件名"), max_length=200)
    file_format = models.CharField(_("文件格式"), max_length=20, choices=StatementFormat.choices)
    payments_count = models.PositiveIntegerField(_("收款笔数"), default=0)
    payments_amount = models.DecimalField(_("收款金额"), **MONEY, default=Decimal(0))
    refunds_count = models.PositiveIntegerField(_("退款笔数"), default=0)
    refunds_amount = models.DecimalField(_("退款金额"), **MONEY, default=Decimal(0))
    fees = models.DecimalField(_("手续费"), **MONEY, default=Decimal(0))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    imported_at = models.DateTimeField(_("导入时间"), default=timezone.now)
    # the number of differences when last compared (import, apply, the statement page, the
    # daily ORD-06 check): what the ledger lists without comparing every day's statement again
    differences = models.PositiveIntegerField(_("差异"), null=True, blank=True)
    compared_at = models.DateTimeField(_("核对时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("支付对账单")
        verbose_name_plural = _("支付对账单")
        ordering = ("-statement_date", "provider")
        permissions = [("reconcile_payments", _("导入对账单、按对账单补记支付"))]
        constraints = [
            models.UniqueConstraint(
                fields=("store", "provider", "statement_date"), name="payment_statement_one_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.statement_date}"

    @property
    def net(self) -> Decimal:
        """What the provider settles for the day: collected − refunded − fees."""
        return self.payments_amount - self.refunds_amount - self.fees


class StatementLineKind(models.TextChoices):
    PAYMENT = "payment", _("收款")
    REFUND = "refund", _("退款")


class PaymentStatementLine(models.Model):
    """One row of a statement: a collection or a refund, by our reference."""

    statement = models.ForeignKey(PaymentStatement, on_delete=models.CASCADE, related_name="lines")
    row = models.PositiveIntegerField(_("行号"))
    kind = models.CharField(_("类型"), max_length=10, choices=StatementLineKind.choices)
    reference = models.CharField(_("商户单号"), max_length=64)  # our payment or refund reference
    payment_reference = models.CharField(_("商户订单号"), max_length=64, blank=True)  # of a refund
    provider_txn_id = models.CharField(_("渠道交易号"), max_length=100, blank=True)
    amount = models.DecimalField(_("金额"), **MONEY)
    fee = models.DecimalField(_("手续费"), **MONEY, default=Decimal(0))
    occurred_at = models.DateTimeField(_("发生时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("对账单明细")
        verbose_name_plural = _("对账单明细")
        ordering = ("statement", "row")
        indexes = [models.Index(fields=("reference",), name="statement_line_reference")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="statement_line_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference}"


class SettlementLineKind(models.TextChoices):
    SETTLE = "settle", _("结算")
    REFUND = "refund", _("退款扣款")


class SettlementReport(models.Model):
    """A marketplace's settlement report of a period (平台结算/货款明细, ORD-06), imported by
    finance: what the platform paid the shop for the channel's orders, less its commission and
    the refunds it took back. One per store, channel and period; importing the same period
    again replaces it (a corrected file). The comparison with our orders is computed when read
    (``orders.settlements``)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+", verbose_name=_("渠道"))
    period_start = models.DateField(_("结算开始日期"))
    period_end = models.DateField(_("结算结束日期"))
    file_name = models.CharField(_("文件名"), max_length=200)
    lines_count = models.PositiveIntegerField(_("明细行数"), default=0)
    settled_amount = models.DecimalField(_("结算金额"), **MONEY, default=Decimal(0))
    refunds_amount = models.DecimalField(_("退款扣款"), **MONEY, default=Decimal(0))
    # what the platform passes on for the orders: settled − refunds taken back
    gross_amount = models.DecimalField(_("货款合计"), **MONEY, default=Decimal(0))
    # commission on settled lines − commission handed back on refund lines
    commission_total = models.DecimalField(_("佣金合计"), **MONEY, default=Decimal(0))
    net_amount = models.DecimalField(_("结算净额"), **MONEY, default=Decimal(0))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    imported_at = models.DateTimeField(_("导入时间"), default=timezone.now)
    # the number of differences when last compared (import, the report page, the daily check)
    differences = models.PositiveIntegerField(_("差异"), null=True, blank=True)
    compared_at = models.DateTimeField(_("核对时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("平台结算单")
        verbose_name_plural = _("平台结算单")
        ordering = ("-period_end", "channel", "-id")
        permissions = [("reconcile_settlements", _("导入平台结算单"))]
        constraints = [
            models.UniqueConstraint(
                fields=("store", "channel", "period_start", "period_end"), name="settlement_one_per_period"
            ),
            models.CheckConstraint(
                condition=Q(period_start__lte=F("period_end")), name="settlement_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.period_start}~{self.period_end}"

    @property
    def period(self) -> str:
        return f"{self.period_start.isoformat()}~{self.period_end.isoformat()}"


class SettlementLine(models.Model):
    """One row of a settlement report: money settled for an order (or a refund the platform
    took back from the shop), by the channel's order number."""

    report = models.ForeignKey(SettlementReport, on_delete=models.CASCADE, related_name="lines")
    row = models.PositiveIntegerField(_("行号"))
    order_number = models.CharField(_("订单号"), max_length=64)
    kind = models.CharField(_("类型"), max_length=10, choices=SettlementLineKind.choices)
    amount = models.DecimalField(_("金额"), **MONEY)
    commission = models.DecimalField(_("佣金"), **MONEY, default=Decimal(0))
    settled_at = models.DateTimeField(_("结算时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("平台结算明细")
        verbose_name_plural = _("平台结算明细")
        ordering = ("report", "row")
        indexes = [models.Index(fields=("order_number",), name="settlement_line_order")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="settlement_line_amount_positive"),
            models.CheckConstraint(
                condition=Q(commission__gte=0), name="settlement_line_commission_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.order_number}"


class NotificationChannel(models.TextChoices):
    SMS = "sms", _("短信")
    PHONE = "phone", _("电话")
    MESSAGE = "message", _("站内信")


class CustomerNotification(models.Model):
    """A message sent to the customer about their order (ORD-04 exceptions and others)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="notifications")
    purpose = models.CharField(_("事由"), max_length=40)  # e.g. "exception:bad_address"
    channel = models.CharField(_("方式"), max_length=20, choices=NotificationChannel.choices)
    text = models.CharField(_("内容"), max_length=500)
    sent_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    delivered = models.BooleanField(_("送达"), default=True)
    actor_label = models.CharField(_("操作人"), max_length=150)

    class Meta:
        verbose_name = _("顾客通知")
        verbose_name_plural = _("顾客通知")
        ordering = ("-sent_at", "-id")
        indexes = [models.Index(fields=("order", "purpose"), name="notification_order_purpose")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.purpose}"


class AccountFreeze(models.Model):
    """RISK-01: a customer account frozen after order brushing (刷单) was confirmed. While a
    freeze is active (``lifted_at`` empty) the storefront refuses the account's orders and the
    automatic review holds its imported orders. Lifting keeps the row (the history)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="account_freezes")
    customer_ref = models.CharField(_("顾客标识"), max_length=100)
    reason = models.CharField(_("原因"), max_length=300)
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("确认订单")
    )
    frozen_by = models.CharField(_("冻结人"), max_length=150)
    frozen_at = models.DateTimeField(_("冻结时间"))
    lifted_by = models.CharField(_("解冻人"), max_length=150, blank=True)
    lifted_at = models.DateTimeField(_("解冻时间"), null=True, blank=True)
    lift_note = models.CharField(_("解冻说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("冻结账号")
        verbose_name_plural = _("冻结账号")
        ordering = ("-frozen_at", "-id")
        permissions = [("freeze_account", _("确认刷单、冻结/解冻顾客账号"))]
        constraints = [
            models.UniqueConstraint(
                fields=("store", "customer_ref"),
                condition=Q(lifted_at__isnull=True),
                name="account_freeze_one_active",
            ),
        ]

    def __str__(self) -> str:
        return self.customer_ref


# --- marketplace order import and invoices (h6: issue 6 item 3, ORD-07) --------------------------


class OrderImportMapping(models.Model):
    """A user-saved column mapping for a channel export layout the built-in ones do not know:
    ``mapping`` is ``{our field: [header alias, …]}`` (see :mod:`storeops.orders.imports`)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    channel_kind = models.CharField(_("渠道类型"), max_length=20)
    name = models.CharField(_("名称"), max_length=60)
    mapping = models.JSONField(_("列映射"), default=dict)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("订单导入映射")
        verbose_name_plural = _("订单导入映射")
        ordering = ("channel_kind", "name")
        constraints = [
            models.UniqueConstraint(fields=("store", "name"), name="order_import_mapping_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class OrderImportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("导入中")
    IMPORTED = "imported", _("已导入")
    ALREADY = "already_imported", _("已导入过")
    FAILED = "failed", _("失败")


class OrderImport(models.Model):
    """One marketplace export file imported into orders: validated as a whole (a bad row
    writes nothing), then written in batches (see :mod:`storeops.orders.imports`). The
    counters always match the committed orders; ``updated_at`` moves with each batch."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+", verbose_name=_("渠道"))
    file_name = models.CharField(_("文件名"), max_length=200)
    file_format = models.CharField(_("文件格式"), max_length=60)  # built-in spec or saved mapping name
    mapping = models.ForeignKey(
        OrderImportMapping,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="imports",
        verbose_name=_("使用的映射"),
    )
    status = models.CharField(_("状态"), max_length=20, choices=OrderImportStatus.choices)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    rows_skipped = models.PositiveIntegerField(_("跳过行数"), default=0)  # unpaid / closed in the file
    orders_total = models.PositiveIntegerField(_("订单数"), default=0)
    orders_created = models.PositiveIntegerField(_("新建订单"), default=0)
    orders_existing = models.PositiveIntegerField(_("已存在订单"), default=0)
    orders_unreserved = models.PositiveIntegerField(_("缺货未预占"), default=0)
    errors = models.JSONField(_("错误"), default=list, blank=True)  # [{"line", "field", "message"}]
    order_numbers = models.JSONField(_("新建订单号"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("导入人"),
    )
    actor_label = models.CharField(_("操作人"), max_length=150)
    created_at = models.DateTimeField(_("导入时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("订单导入")
        verbose_name_plural = _("订单导入")
        ordering = ("-created_at", "-id")
        permissions = [("import_orders", _("导入渠道订单"))]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"

    @property
    def orders_done(self) -> int:
        """Orders of the file that are in the system: created by this import or there before."""
        return self.orders_created + self.orders_existing

    @property
    def in_progress(self) -> bool:
        return self.status in (OrderImportStatus.QUEUED, OrderImportStatus.RUNNING)


class InvoiceKind(models.TextChoices):
    ELECTRONIC = "electronic", _("电子发票")
    PAPER = "paper", _("纸质发票")


class InvoiceTitleType(models.TextChoices):
    PERSONAL = "personal", _("个人")
    COMPANY = "company", _("单位")


class InvoiceStatus(models.TextChoices):
    REQUESTED = "requested", _("待开票")
    ISSUED = "issued", _("已开票")
    REVERSED = "reversed", _("已红冲")
    REJECTED = "rejected", _("已驳回")


class InvoiceRequest(models.Model):
    """A customer's invoice request for a paid order (ORD-07); the amount is what was paid
    less refunds. Requested → issued → (red-letter) reversed, or rejected."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    kind = models.CharField(_("发票类型"), max_length=20, choices=InvoiceKind.choices)
    title_type = models.CharField(_("抬头类型"), max_length=20, choices=InvoiceTitleType.choices)
    title = models.CharField(_("发票抬头"), max_length=100)
    tax_id = models.CharField(_("纳税人识别号"), max_length=18, blank=True)
    payer_name = models.CharField(_("付款人"), max_length=100, blank=True)
    amount = models.DecimalField(_("开票金额"), **MONEY)
    email = models.EmailField(_("接收邮箱"), blank=True)
    mailing_address = models.CharField(_("邮寄地址"), max_length=300, blank=True)
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=InvoiceStatus.choices,
        default=InvoiceStatus.REQUESTED,
        db_index=True,
    )
    invoice_number = models.CharField(_("发票号码"), max_length=40, blank=True)
    issued_at = models.DateTimeField(_("开票时间"), null=True, blank=True)
    reason = models.CharField(_("驳回/红冲原因"), max_length=200, blank=True)
    closed_at = models.DateTimeField(_("驳回/红冲时间"), null=True, blank=True)
    requested_by = models.CharField(_("申请人"), max_length=150)
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("发票申请")
        verbose_name_plural = _("发票申请")
        ordering = ("-created_at", "-id")
        permissions = [("issue_invoice", _("开具/驳回/红冲发票"))]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive"),
            # one open (requested or issued) invoice per order
            models.UniqueConstraint(
                fields=("order",),
                condition=Q(status__in=["requested", "issued"]),
                name="invoice_one_open_per_order",
            ),
            models.UniqueConstraint(
                fields=("store", "invoice_number"),
                condition=~Q(invoice_number=""),
                name="invoice_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.title}"
