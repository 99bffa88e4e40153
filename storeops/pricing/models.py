"""Pricing data: cost components (PRICE-02), channel price lists, the price history of every
change with its reason (PRICE-03), and competitor monitoring (PRICE-04)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from storeops.catalog.models import Category, Product, Sku
from storeops.stores.models import Channel, Store

MONEY = {"max_digits": 14, "decimal_places": 2}


class SkuCost(models.Model):
    """Per-unit operations, logistics and tax cost of a SKU. The product (purchase) cost is
    ``Sku.cost``; together they are the full unit cost of PRICE-02."""

    sku = models.OneToOneField(
        Sku, on_delete=models.CASCADE, related_name="cost_components", verbose_name=_("SKU")
    )
    operations = models.DecimalField(_("运营成本"), **MONEY, default=0)
    logistics = models.DecimalField(_("物流成本"), **MONEY, default=0)
    tax = models.DecimalField(_("税费"), **MONEY, default=0)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("成本构成")
        verbose_name_plural = _("成本构成")
        constraints = [
            models.CheckConstraint(
                condition=Q(operations__gte=0) & Q(logistics__gte=0) & Q(tax__gte=0),
                name="sku_cost_components_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} cost"


class ChannelPrice(models.Model):
    """The price of a SKU on one channel (the SKU's own ``price`` is the base price)."""

    sku = models.ForeignKey(
        Sku, on_delete=models.CASCADE, related_name="channel_prices", verbose_name=_("SKU")
    )
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+", verbose_name=_("渠道"))
    price = models.DecimalField(_("售价"), **MONEY)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("渠道价格")
        verbose_name_plural = _("渠道价格")
        constraints = [
            models.UniqueConstraint(fields=("sku", "channel"), name="channel_price_once"),
            models.CheckConstraint(condition=Q(price__gte=0), name="channel_price_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} @ {self.channel}: {self.price}"


class PriceChangeReason(models.TextChoices):
    INITIAL = "initial", _("初始定价")
    SEASON = "season", _("季节调整")
    PROMOTION = "promotion", _("促销")
    COMPETITOR = "competitor", _("竞品调价")
    COST = "cost", _("成本变化")
    OTHER = "other", _("其他")


class PriceChange(models.Model):
    """One version of a price (PRICE-03). Written only by ``pricing.services.price_set``."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    sku = models.ForeignKey(
        Sku, on_delete=models.CASCADE, related_name="price_changes", verbose_name=_("SKU")
    )
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("渠道")
    )
    old_price = models.DecimalField(_("原价"), **MONEY, null=True, blank=True)
    new_price = models.DecimalField(_("新价"), **MONEY)
    reason = models.CharField(_("原因"), max_length=20, choices=PriceChangeReason.choices)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("操作人"),
    )
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("价格变更")
        verbose_name_plural = _("价格变更")
        ordering = ("-at", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(new_price__gte=0), name="price_change_non_negative")
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.old_price} → {self.new_price}"


class CompetitorProduct(models.Model):
    """A competitor's item we watch, optionally matched to one of our products and put in one
    of our categories (PRICE-04: a new item in a category the store sells raises a finding).

    ``first_seen_at`` is when we first saw the item on the market: the earliest of its
    creation here, its earliest price observation (an import with history backdates it) and
    a first-seen date given explicitly. It is "new" (上新) for ``competitor_new_product_days``.
    """

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="competitor_products", verbose_name=_("店铺")
    )
    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="competitor_products",
        verbose_name=_("对标商品"),
    )
    competitor = models.CharField(_("竞品店铺"), max_length=100)
    name = models.CharField(_("竞品名称"), max_length=200)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("类目"),
    )
    is_tracked = models.BooleanField(_("跟踪降价"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    first_seen_at = models.DateTimeField(_("首次发现"), default=timezone.now)

    class Meta:
        verbose_name = _("竞品")
        verbose_name_plural = _("竞品")
        ordering = ("store", "competitor", "name")
        constraints = [
            models.UniqueConstraint(fields=("store", "competitor", "name"), name="competitor_product_once")
        ]
        indexes = [models.Index(fields=("store", "first_seen_at"), name="competitor_product_first_seen")]

    def __str__(self) -> str:
        return f"{self.competitor} · {self.name}"


class CompetitorPrice(models.Model):
    competitor_product = models.ForeignKey(
        CompetitorProduct, on_delete=models.CASCADE, related_name="prices", verbose_name=_("竞品")
    )
    observed_at = models.DateTimeField(_("观察时间"), default=timezone.now)
    price = models.DecimalField(_("价格"), **MONEY)
    promotion = models.CharField(_("促销信息"), max_length=200, blank=True)  # 满300减30, 限时8折
    is_promotional = models.BooleanField(_("促销价"), default=False)  # the price is a promotional one
    source = models.CharField(_("来源"), max_length=20, default="manual")  # manual / import / api

    class Meta:
        verbose_name = _("竞品价格")
        verbose_name_plural = _("竞品价格")
        ordering = ("-observed_at", "-id")
        constraints = [models.CheckConstraint(condition=Q(price__gt=0), name="competitor_price_positive")]
        indexes = [models.Index(fields=("competitor_product", "observed_at"))]

    def __str__(self) -> str:
        return f"{self.competitor_product} {self.price}"
