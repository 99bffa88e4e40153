"""Shopper behaviour events (DATA-04 traffic sources, DATA-05 funnel and paths), the imports
and API batches that brought them in, and what each traffic source cost per day.

Events are append-only facts: nothing edits them after ingestion. ``session_id`` and ``step``
are derived at ingestion (``rules.Sessioniser``, ``rules.step_of``) so the funnel is one
aggregate query."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from storeops.catalog.models import Product, Sku
from storeops.stores.models import Channel, Store

MONEY = {"max_digits": 14, "decimal_places": 2}


class EventKind(models.TextChoices):
    PAGE_VIEW = "page_view", _("浏览")
    FAVOURITE = "favourite", _("收藏")
    ADD_TO_CART = "add_to_cart", _("加购")
    ORDER = "order", _("下单")
    PAY = "pay", _("支付")


class PageType(models.TextChoices):
    HOME = "home", _("首页")
    CATEGORY = "category", _("分类页")
    SEARCH = "search", _("搜索结果页")
    PRODUCT = "product", _("商品详情页")
    CART = "cart", _("购物车")
    CHECKOUT = "checkout", _("结算页")
    PAY = "pay", _("支付页")
    OTHER = "other", _("其他页面")


class TrafficSource(models.TextChoices):
    SEARCH = "search", _("搜索")
    PAID = "paid", _("付费推广")
    RECOMMENDATION = "recommendation", _("推荐流")
    LIVE = "live", _("直播间")
    SOCIAL = "social", _("社交分享")
    OTHER = "other", _("其他")


class ImportKind(models.TextChoices):
    FILE = "file", _("文件导入")
    API = "api", _("API 批量上报")


class ImportStatus(models.TextChoices):
    IMPORTED = "imported", _("已导入")
    FAILED = "failed", _("有错误，未导入")


class BehaviourImport(models.Model):
    """One file (CLI) or one API batch: imported whole, or refused whole with its errors."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("渠道")
    )
    kind = models.CharField(_("来源"), max_length=10, choices=ImportKind.choices)
    file_name = models.CharField(_("文件名/批次号"), max_length=200)
    file_format = models.CharField(_("格式"), max_length=20)
    # sha256 of the file, or "api:<batch id>": the same file or batch is never imported twice
    fingerprint = models.CharField(_("指纹"), max_length=80)
    status = models.CharField(_("状态"), max_length=20, choices=ImportStatus.choices)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    imported = models.PositiveIntegerField(_("导入事件数"), default=0)
    bad_rows = models.PositiveIntegerField(_("错误行数"), default=0)
    errors = models.JSONField(_("错误"), default=list, blank=True)  # [{"line", "field", "message"}]
    error_summary = models.JSONField(_("错误汇总"), default=dict, blank=True)  # {message: count}
    sessions = models.PositiveIntegerField(_("新会话数"), default=0)
    linked = models.PositiveIntegerField(_("关联到商品的事件数"), default=0)
    first_at = models.DateTimeField(_("最早事件时间"), null=True, blank=True)
    last_at = models.DateTimeField(_("最晚事件时间"), null=True, blank=True)
    seconds = models.DecimalField(_("用时（秒）"), max_digits=10, decimal_places=2, default=0)
    created_by = models.CharField(_("导入人"), max_length=150)
    created_at = models.DateTimeField(_("导入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("行为数据导入")
        verbose_name_plural = _("行为数据导入")
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("store", "fingerprint"),
                condition=Q(status="imported"),
                name="behaviour_import_once",
            )
        ]
        indexes = [models.Index(fields=("store", "-created_at"))]

    def __str__(self) -> str:
        return self.file_name


class Event(models.Model):
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("渠道")
    )
    batch = models.ForeignKey(
        BehaviourImport, on_delete=models.PROTECT, related_name="events", verbose_name=_("导入批次")
    )
    visitor_id = models.CharField(_("访客ID"), max_length=64)
    customer_ref = models.CharField(_("会员/顾客编号"), max_length=64, blank=True)
    session_id = models.CharField(_("会话ID"), max_length=80)
    kind = models.CharField(_("行为"), max_length=12, choices=EventKind.choices)
    page_type = models.CharField(_("页面类型"), max_length=10, choices=PageType.choices)
    step = models.PositiveSmallIntegerField(_("漏斗步骤"), default=0)  # rules.step_of(kind, page_type)
    item_id = models.CharField(_("外部商品ID"), max_length=64, blank=True)
    category_id = models.CharField(_("外部类目ID"), max_length=64, blank=True)
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("商品")
    )
    sku = models.ForeignKey(
        Sku, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("SKU")
    )
    source = models.CharField(_("流量来源"), max_length=16, choices=TrafficSource.choices)
    occurred_at = models.DateTimeField(_("时间"))
    dwell_seconds = models.PositiveIntegerField(_("停留秒数"), null=True, blank=True)
    order_ref = models.CharField(_("订单号"), max_length=64, blank=True)
    amount = models.DecimalField(_("支付金额"), **MONEY, null=True, blank=True)

    class Meta:
        verbose_name = _("行为事件")
        verbose_name_plural = _("行为事件")
        ordering = ("occurred_at", "id")
        permissions = [("ingest_event", _("上报行为事件（网店埋点）"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="event_amount_ge_0"
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(kind="pay"), name="event_amount_only_on_pay"
            ),
        ]
        indexes = [
            # funnel, sources, paths: a store's events in a period (optionally one channel)
            models.Index(fields=("store", "occurred_at"), name="event_store_time"),
            models.Index(fields=("store", "channel", "occurred_at"), name="event_store_channel_time"),
            # sessionisation: a visitor's latest event
            models.Index(fields=("store", "visitor_id", "occurred_at"), name="event_store_visitor_time"),
        ]

    def __str__(self) -> str:
        return f"{self.visitor_id} {self.kind} {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class SourceCost(models.Model):
    """What a traffic source cost on a day, beyond the ad plans' own daily stats (marketing):
    e.g. live-room fees, affiliate commissions, seeding posts. Entered or imported by people."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("渠道")
    )
    source = models.CharField(_("流量来源"), max_length=16, choices=TrafficSource.choices)
    day = models.DateField(_("日期"))
    amount = models.DecimalField(_("花费"), **MONEY)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    updated_by = models.CharField(_("录入人"), max_length=150)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("渠道花费")
        verbose_name_plural = _("渠道花费")
        ordering = ("-day", "source")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="source_cost_amount_ge_0"),
            models.UniqueConstraint(
                fields=("store", "channel", "source", "day"),
                condition=Q(channel__isnull=False),
                name="source_cost_once_per_channel_day",
            ),
            models.UniqueConstraint(
                fields=("store", "source", "day"),
                condition=Q(channel__isnull=True),
                name="source_cost_once_per_store_day",
            ),
        ]
        indexes = [models.Index(fields=("store", "day"))]

    def __str__(self) -> str:
        return f"{self.source} {self.day} {self.amount}"
