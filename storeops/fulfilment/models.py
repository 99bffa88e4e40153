"""Logistics data: carriers, shipments with their lines, and tracking events (SOP LOG-01/03).

A shipment names its orders by number, not by foreign key (fulfilment does not depend on the
orders app): one :class:`ShipmentOrder` row per order the parcel carries (a merged parcel carries
several, ORD-05). ``Shipment.order_ref`` is only the display text (the numbers comma-separated,
shortened to fit 64 characters); every lookup by order goes through ``ShipmentOrder``.
``warehouse_code`` likewise names the inventory app's warehouse by code.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from storeops.core.crypto import EncryptedTextField
from storeops.core.money import DEFAULT_CURRENCY, Money
from storeops.fulfilment.rules import Fragile, Status
from storeops.stores.models import Channel, Store


class ShipmentStatus(models.TextChoices):
    CREATED = Status.CREATED.value, _("已创建")
    PICKED_UP = Status.PICKED_UP.value, _("已揽收")
    IN_TRANSIT = Status.IN_TRANSIT.value, _("运输中")
    OUT_FOR_DELIVERY = Status.OUT_FOR_DELIVERY.value, _("派送中")
    DELIVERED = Status.DELIVERED.value, _("已签收")
    RETURNED = Status.RETURNED.value, _("已退回")
    LOST = Status.LOST.value, _("丢失")
    EXCEPTION = Status.EXCEPTION.value, _("异常")


class Carrier(models.Model):
    """A courier company (SF, ZTO, YTO, JD, EMS …). ``secret`` signs its webhook pushes."""

    code = models.CharField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    is_active = models.BooleanField(_("启用"), default=True)
    adapter = models.CharField(_("轨迹格式"), max_length=30, default="generic")
    secret = EncryptedTextField(_("推送签名密钥"), blank=True)  # encrypted at rest (RISK-05)

    class Meta:
        verbose_name = _("快递公司")
        verbose_name_plural = _("快递公司")
        ordering = ("code",)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class FragileHandling(models.TextChoices):
    ACCEPT = Fragile.ACCEPT.value, _("照常收")
    PREFER = Fragile.PREFER.value, _("易碎品首选")
    REFUSE = Fragile.REFUSE.value, _("不收易碎品")


class CarrierRule(models.Model):
    """What a carrier takes from this store (LOG-03): hard limits checked when a parcel ships
    and when a carrier is suggested. Empty fields set no limit; a carrier without a rule takes
    everything. ``excluded_provinces`` holds short names (新疆, 西藏)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    carrier = models.ForeignKey(
        Carrier, on_delete=models.CASCADE, related_name="rules", verbose_name=_("快递公司")
    )
    max_weight_kg = models.DecimalField(
        _("单件限重（kg）"), max_digits=8, decimal_places=3, null=True, blank=True
    )
    max_items = models.PositiveIntegerField(_("每件最多件数"), null=True, blank=True)
    excluded_provinces = models.JSONField(_("不配送省份"), default=list, blank=True)
    fragile = models.CharField(
        _("易碎品"), max_length=10, choices=FragileHandling.choices, default=FragileHandling.ACCEPT
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("快递规则")
        verbose_name_plural = _("快递规则")
        ordering = ("store", "carrier__code")
        constraints = [
            models.UniqueConstraint(fields=("store", "carrier"), name="carrier_rule_once_per_store"),
            models.CheckConstraint(
                condition=Q(max_weight_kg__isnull=True) | Q(max_weight_kg__gt=0),
                name="carrier_rule_weight_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_items__isnull=True) | Q(max_items__gt=0), name="carrier_rule_items_positive"
            ),
            models.CheckConstraint(
                condition=Q(fragile__in=[f.value for f in Fragile]), name="carrier_rule_fragile_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store_id}:{self.carrier_id}"


class Shipment(models.Model):
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+", verbose_name=_("渠道"))
    # display text: the numbers of ``orders`` comma-separated, shortened to fit (see order_ref_text)
    order_ref = models.CharField(_("订单号"), max_length=64, db_index=True)
    warehouse_code = models.CharField(_("发货仓"), max_length=32)
    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, related_name="shipments", verbose_name=_("快递公司")
    )
    tracking_no = models.CharField(_("运单号"), max_length=64)
    status = models.CharField(
        _("状态"), max_length=20, choices=ShipmentStatus.choices, default=ShipmentStatus.CREATED
    )
    province = models.CharField(_("省"), max_length=30)
    city = models.CharField(_("市"), max_length=30, blank=True)
    district = models.CharField(_("区县"), max_length=30, blank=True)
    address = models.CharField(_("详细地址"), max_length=200, blank=True)
    phone_masked = models.CharField(_("收件电话（脱敏）"), max_length=20, blank=True)
    weight_kg = models.DecimalField(_("重量（kg）"), max_digits=8, decimal_places=3, null=True, blank=True)
    shipping_cost = models.DecimalField(_("运费"), max_digits=14, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(_("币种"), max_length=3, default=DEFAULT_CURRENCY)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)
    shipped_at = models.DateTimeField(_("揽收时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("签收时间"), null=True, blank=True, db_index=True)
    last_event_at = models.DateTimeField(_("最新轨迹时间"), null=True, blank=True)
    # LOG-03: the carrier suggested when the parcel shipped ("" = none could be suggested);
    # the suggestion was followed when it is the parcel's carrier
    suggested_carrier = models.CharField(_("建议快递"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("发货单")
        verbose_name_plural = _("发货单")
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("carrier", "tracking_no"), name="shipment_tracking_no_per_carrier"
            ),
            models.CheckConstraint(condition=Q(shipping_cost__gte=0), name="shipment_cost_non_negative"),
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True) | Q(weight_kg__gt=0), name="shipment_weight_positive"
            ),
        ]
        indexes = [models.Index(fields=("store", "status", "created_at"))]

    def __str__(self) -> str:
        return f"{self.carrier_id}:{self.tracking_no}"

    @property
    def cost(self) -> Money:
        return Money(self.shipping_cost, self.currency)

    @property
    def items_count(self) -> int:
        return sum(line.qty for line in self.lines.all())


class ShipmentOrder(models.Model):
    """One order carried by a parcel: a merged parcel has one row per merged order."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="orders")
    order_number = models.CharField(_("订单号"), max_length=64, db_index=True)

    class Meta:
        verbose_name = _("包裹订单")
        verbose_name_plural = _("包裹订单")
        ordering = ("shipment", "id")
        constraints = [
            models.UniqueConstraint(fields=("shipment", "order_number"), name="shipment_order_once"),
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id}:{self.order_number}"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    sku_code = models.CharField(_("SKU编码"), max_length=64)
    qty = models.PositiveIntegerField(_("数量"))

    class Meta:
        verbose_name = _("发货明细")
        verbose_name_plural = _("发货明细")
        constraints = [models.CheckConstraint(condition=Q(qty__gt=0), name="shipment_line_qty_positive")]

    def __str__(self) -> str:
        return f"{self.sku_code} x{self.qty}"


class TrackingEvent(models.Model):
    """One carrier scan. ``event_key`` (hash of time, code, location, description) makes the same
    event stored once however often it is pushed or imported."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    time = models.DateTimeField(_("时间"))
    code = models.CharField(_("状态码"), max_length=40, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=ShipmentStatus.choices, blank=True)
    location = models.CharField(_("地点"), max_length=100, blank=True)
    description = models.CharField(_("描述"), max_length=300, blank=True)
    raw = models.JSONField(_("原始数据"), default=dict, blank=True)
    source = models.CharField(_("来源"), max_length=20, default="import")  # import / webhook / api
    event_key = models.CharField(max_length=64)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)

    class Meta:
        verbose_name = _("物流轨迹")
        verbose_name_plural = _("物流轨迹")
        ordering = ("time", "id")
        constraints = [
            models.UniqueConstraint(fields=("shipment", "event_key"), name="tracking_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.shipment} {self.time:%Y-%m-%d %H:%M} {self.code}"


class CarrierStatsVersion(models.Model):
    """LOG-03: which version of a store's carrier statistics is current. ``token`` is set to a
    new random value after every committed write that can change the statistics (a shipment
    created, tracking events stored); cached statistics are keyed by it, so a cache entry of an
    older version is never read again (see ``selectors.carrier_stats_cached``). A random token,
    not a counter: a rolled-back database (a test, a restored backup) never meets a cache entry
    made for other data under the same number. No row: nothing was written through the
    services yet, and the statistics are read without the cache."""

    store = models.OneToOneField(
        Store, on_delete=models.CASCADE, primary_key=True, related_name="+", verbose_name=_("店铺")
    )
    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("快递统计版本")
        verbose_name_plural = _("快递统计版本")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.store_id}:{self.token}"
