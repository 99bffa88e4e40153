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
    ADJUSTMENT = "adjustment", _("盘点调整")
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
