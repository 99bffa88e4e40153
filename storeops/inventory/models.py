"""Warehouses, stock balances and the stock ledger (SOP INV-03), channel stock shares.

A :class:`Stock` row holds the balance of one SKU in one zone of one warehouse. The database
itself refuses a negative or over-reserved balance (CHECK constraints), so no interleaving of
writers can oversell. Every change is a :class:`StockMove` written by
:mod:`storeops.inventory.services` in the same transaction: the ledger always explains the
balance (sum of deltas == balance).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from storeops.catalog.models import Sku
from storeops.stores.models import Channel, Store


class Warehouse(models.Model):
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="warehouses", verbose_name=_("店铺")
    )
    code = models.SlugField(_("仓库编码"), max_length=40)
    name = models.CharField(_("仓库名称"), max_length=100)
    region = models.CharField(_("地区"), max_length=100, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("仓库")
        verbose_name_plural = _("仓库")
        constraints = [
            models.UniqueConstraint(fields=["store", "code"], name="warehouse_code_unique_per_store")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Zone(models.TextChoices):
    SELLABLE = "sellable", _("可售区")
    QC = "qc", _("质检区")
    DEFECTIVE = "defective", _("残次区")


class Stock(models.Model):
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="stocks", verbose_name=_("SKU"))
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="stocks", verbose_name=_("仓库")
    )
    zone = models.CharField(_("库区"), max_length=12, choices=Zone.choices, default=Zone.SELLABLE)
    on_hand = models.IntegerField(_("在库"), default=0)
    reserved = models.IntegerField(_("已预占"), default=0)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("库存")
        verbose_name_plural = _("库存")
        constraints = [
            models.UniqueConstraint(fields=["sku", "warehouse", "zone"], name="stock_one_row_per_sku_zone"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_within_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.warehouse_id}/{self.zone}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class MoveKind(models.TextChoices):
    RECEIPT = "receipt", _("入库")
    RESERVATION = "reservation", _("预占")
    RELEASE = "release", _("释放")
    SHIPMENT = "shipment", _("出库")
    RETURN = "return", _("退货入库")
    ADJUSTMENT = "adjustment", _("库存调整")  # a count variance posted, or a correction
    TRANSFER_OUT = "transfer_out", _("调拨出")
    TRANSFER_IN = "transfer_in", _("调拨入")


class StockMoveQuerySet(models.QuerySet["StockMove"]):
    """The ledger is append-only: lines are never edited or deleted."""

    def update(self, **kwargs: object) -> int:
        raise TypeError("the stock ledger is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("the stock ledger is append-only")


class StockMove(models.Model):
    """One ledger line: what changed on one stock row, why, and the balances around it."""

    # indexed by the (stock, id) index below; fewer indexes keep the reservation statement cheap
    stock = models.ForeignKey(
        Stock, on_delete=models.PROTECT, related_name="moves", verbose_name=_("库存"), db_index=False
    )
    kind = models.CharField(_("类型"), max_length=16, choices=MoveKind.choices)
    quantity = models.IntegerField(_("数量"))
    on_hand_delta = models.IntegerField(_("在库变化"))
    reserved_delta = models.IntegerField(_("预占变化"))
    on_hand_after = models.IntegerField(_("变动后在库"))
    reserved_after = models.IntegerField(_("变动后预占"))
    reason = models.CharField(_("原因"), max_length=200)
    reference = models.CharField(_("单据号"), max_length=100, blank=True, db_index=True)
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    via = models.CharField(_("来源"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    objects = StockMoveQuerySet.as_manager()

    class Meta:
        verbose_name = _("库存流水")
        verbose_name_plural = _("库存流水")
        indexes = [models.Index(fields=["stock", "id"], name="stockmove_stock_id")]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity} @stock {self.stock_id}"

    @property
    def on_hand_before(self) -> int:
        return self.on_hand_after - self.on_hand_delta

    @property
    def reserved_before(self) -> int:
        return self.reserved_after - self.reserved_delta


class IdempotentRequest(models.Model):
    """The first answer to a stock booking sent through the API with an ``Idempotency-Key``
    (``storeops.core.idempotency``): a retry with the same key gets it again instead of booking
    twice. One row per store, endpoint and key (the unique constraint is what makes two
    concurrent requests with one key book once); written in the booking's transaction. Kept
    ``services.IDEMPOTENCY_KEEP_DAYS`` days, then purged by a daily task."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    endpoint = models.CharField(_("接口"), max_length=40)  # e.g. "stock.moves", "count_sheet.post"
    key = models.CharField(_("幂等键"), max_length=100)
    fingerprint = models.CharField(_("请求指纹"), max_length=64)
    response = models.JSONField(_("首次响应"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("幂等请求")
        verbose_name_plural = _("幂等请求")
        constraints = [
            models.UniqueConstraint(fields=["store", "endpoint", "key"], name="idempotent_request_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"


class ShareMode(models.TextChoices):
    RATIO = "ratio", _("按比例")
    FIXED = "fixed", _("固定数量")


class ChannelStockRule(models.Model):
    """INV-03 channel sync: how much of a SKU's available stock a marketplace shop is offered.

    ``sku`` empty: the channel's default for every SKU. ``reserve`` units are kept back from
    all channels before the shares are cut."""

    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="stock_rules", verbose_name=_("渠道")
    )
    sku = models.ForeignKey(
        Sku, on_delete=models.CASCADE, null=True, blank=True, related_name="channel_stock_rules"
    )
    mode = models.CharField(_("分配方式"), max_length=8, choices=ShareMode.choices, default=ShareMode.RATIO)
    ratio = models.DecimalField(_("比例"), max_digits=5, decimal_places=4, default=0)
    fixed_quantity = models.PositiveIntegerField(_("固定数量"), default=0)
    reserve = models.PositiveIntegerField(_("保留数量"), default=0)

    class Meta:
        verbose_name = _("渠道库存规则")
        verbose_name_plural = _("渠道库存规则")
        constraints = [
            # one rule per (channel, sku); the per-channel default (sku empty) is kept unique by the service
            models.UniqueConstraint(fields=["channel", "sku"], name="channel_stock_rule_per_sku"),
            models.CheckConstraint(condition=Q(ratio__gte=0, ratio__lte=1), name="channel_stock_ratio_0_1"),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}/{self.sku_id or '*'} {self.mode}"

    @property
    def store_id(self) -> int:
        return self.channel.store_id


class ChannelStockOffer(models.Model):
    """The quantity last computed (and pushed) for one SKU on one channel."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="stock_offers")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="channel_stock_offers")
    quantity = models.IntegerField(_("可售数量"))
    computed_at = models.DateTimeField(_("计算时间"), default=timezone.now)
    pushed_at = models.DateTimeField(_("推送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("渠道可售库存")
        verbose_name_plural = _("渠道可售库存")
        constraints = [
            models.UniqueConstraint(fields=["channel", "sku"], name="channel_stock_offer_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="channel_stock_offer_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}/{self.sku_id}: {self.quantity}"


# ---- INV-05 cycle counts ---------------------------------------------------------------------


class CountStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    COUNTING = "counting", _("盘点中")
    POSTED = "posted", _("已过账")
    CANCELLED = "cancelled", _("已取消")


class CountScope(models.TextChoices):
    ALL = "all", _("全部有库存的SKU")
    SKUS = "skus", _("指定SKU")
    ABC = "abc", _("按ABC分类")
    DUE = "due", _("到期复盘的SKU")


class CountSheet(models.Model):
    """INV-05: one cycle count of some SKUs in one zone of one warehouse.

    The book quantities are snapshotted into the lines when the sheet is created; posting turns
    every non-zero variance into a ledger adjustment (``stock_adjust``) in one transaction."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="count_sheets", verbose_name=_("仓库")
    )
    zone = models.CharField(_("库区"), max_length=12, choices=Zone.choices, default=Zone.SELLABLE)
    number = models.CharField(_("盘点单号"), max_length=40)
    status = models.CharField(
        _("状态"), max_length=12, choices=CountStatus.choices, default=CountStatus.DRAFT
    )
    scope = models.CharField(_("盘点范围"), max_length=8, choices=CountScope.choices, default=CountScope.SKUS)
    scope_value = models.CharField(_("范围值"), max_length=20, blank=True)  # e.g. the ABC class
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.CharField(_("创建人"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始盘点时间"), null=True, blank=True)
    posted_at = models.DateTimeField(_("过账时间"), null=True, blank=True)
    posted_by = models.CharField(_("过账人"), max_length=150, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("盘点单")
        verbose_name_plural = _("盘点单")
        constraints = [
            models.UniqueConstraint(fields=["store", "number"], name="count_sheet_number_unique_per_store")
        ]
        indexes = [models.Index(fields=["store", "status"], name="countsheet_store_status")]

    def __str__(self) -> str:
        return self.number


class CountSheetLine(models.Model):
    sheet = models.ForeignKey(
        CountSheet, on_delete=models.CASCADE, related_name="lines", verbose_name=_("盘点单")
    )
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU"))
    expected = models.IntegerField(_("账面数量"))  # on-hand when the sheet was created
    counted = models.IntegerField(_("实盘数量"), null=True, blank=True)
    variance = models.IntegerField(_("差异"), null=True, blank=True)  # counted - expected
    adjusted = models.IntegerField(_("过账调整"), null=True, blank=True)  # the ledger delta posted
    counted_at = models.DateTimeField(_("录入时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("盘点明细")
        verbose_name_plural = _("盘点明细")
        constraints = [
            models.UniqueConstraint(fields=["sheet", "sku"], name="count_line_one_per_sku"),
            models.CheckConstraint(condition=Q(expected__gte=0), name="count_line_expected_not_negative"),
            models.CheckConstraint(
                condition=Q(counted__isnull=True) | Q(counted__gte=0), name="count_line_counted_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sheet_id}/{self.sku_id}"


# ---- INV-04 ABC classes ----------------------------------------------------------------------


class AbcClassChoice(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


class SkuAbcClass(models.Model):
    """INV-04: the SKU's class from the last recompute and when its next count review is due.

    Sales are recorded per product (``catalog.SalesDaily``), so a SKU carries its product's
    class and share of sales value."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    sku = models.OneToOneField(Sku, on_delete=models.CASCADE, related_name="abc_class", verbose_name=_("SKU"))
    abc_class = models.CharField(_("ABC分类"), max_length=1, choices=AbcClassChoice.choices)
    sales_value = models.DecimalField(_("统计期销售额"), max_digits=14, decimal_places=2, default=0)
    share = models.DecimalField(_("销售额占比"), max_digits=7, decimal_places=6, default=0)
    window_days = models.PositiveIntegerField(_("统计天数"))
    computed_at = models.DateTimeField(_("计算时间"))
    first_classified_on = models.DateField(_("首次分类日期"))
    last_counted_on = models.DateField(_("最近盘点日期"), null=True, blank=True)
    next_review_on = models.DateField(_("下次复盘日期"))

    class Meta:
        verbose_name = _("ABC分类")
        verbose_name_plural = _("ABC分类")
        indexes = [
            models.Index(fields=["store", "abc_class", "next_review_on"], name="skuabc_store_class_due")
        ]
        constraints = [
            models.CheckConstraint(condition=Q(share__gte=0, share__lte=1), name="skuabc_share_0_1"),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}: {self.abc_class}"
