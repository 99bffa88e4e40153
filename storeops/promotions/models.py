"""Offers, coupon templates and issued coupons (SOP PROMO-01/02).

An :class:`Offer` row is one promotion of any engine mechanic: ``kind`` names the mechanic,
``params`` holds its typed parameters as JSON (validated by building the engine's parameter
dataclass in :mod:`storeops.promotions.services`), and its line scope lives in
:class:`OfferScopeItem` rows (one indexed foreign key each to a category, product or SKU), so
the offers a cart can use are found with indexed look-ups (:mod:`.selectors`).
State changes go through :mod:`storeops.promotions.services` (atomic, audited).
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from storeops.catalog.models import Category, Product, Sku
from storeops.stores.models import Store


class OfferKind(models.TextChoices):
    """The engine's item- and store-level mechanics (coupons are :class:`CouponTemplate`)."""

    PERCENTAGE = "percentage", _("折扣")
    NTH_ITEM = "nth_item", _("第N件X折")
    FLASH_SALE = "flash_sale", _("秒杀")
    GROUP_BUY = "group_buy", _("拼团")
    PRESALE = "presale", _("定金膨胀")
    ADD_ON = "add_on", _("加购立减")
    MEMBER_PRICE = "member_price", _("会员价")
    TIME_SLOT = "time_slot", _("限时段折扣")
    TIERED_REDUCTION = "tiered_reduction", _("满减")
    THRESHOLD_PERCENTAGE = "threshold_percentage", _("满额打折")
    GIFT = "gift", _("满赠")


class OfferLevel(models.TextChoices):
    ITEM = "item", _("单品级")
    STORE = "store", _("店铺级")


class OfferStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    ACTIVE = "active", _("已启用")  # running only between its start and end (Offer.phase)
    PAUSED = "paused", _("已暂停")
    ENDED = "ended", _("已结束")


class Offer(models.Model):
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="offers", verbose_name=_("店铺"))
    title_zh = models.CharField(_("中文名称"), max_length=100, blank=True)
    title_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    kind = models.CharField(_("玩法"), max_length=20, choices=OfferKind.choices)
    level = models.CharField(_("层级"), max_length=10, choices=OfferLevel.choices, editable=False)
    params = models.JSONField(_("参数"), default=dict)
    # scope: lines (OfferScopeItem rows, or every line) and customers
    all_items = models.BooleanField(_("全店商品"), default=True)
    channels = models.JSONField(_("渠道"), default=list, blank=True)  # channel codes; empty = any
    tiers = models.JSONField(_("会员等级"), default=list, blank=True)
    segments = models.JSONField(_("人群"), default=list, blank=True)
    new_users_only = models.BooleanField(_("仅新用户"), default=False)
    starts_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    ends_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    exclusive_group = models.CharField(_("互斥组"), max_length=40, blank=True)
    priority = models.IntegerField(_("优先级"), default=0)
    per_user_limit = models.PositiveIntegerField(_("每人限用"), null=True, blank=True)
    stock_cap = models.PositiveIntegerField(_("活动库存上限"), null=True, blank=True)
    stock_sold = models.PositiveIntegerField(_("活动已售"), default=0)
    status = models.CharField(
        _("状态"), max_length=10, choices=OfferStatus.choices, default=OfferStatus.DRAFT
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("促销活动")
        verbose_name_plural = _("促销活动")
        ordering = ("store", "-created_at", "-pk")
        indexes = [
            models.Index(fields=("store", "status", "all_items"), name="offer_store_status_all"),
            models.Index(fields=("store", "status", "kind"), name="offer_store_status_kind"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True)
                | Q(starts_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="offer_window_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(stock_cap__isnull=True) | Q(stock_sold__lte=models.F("stock_cap")),
                name="offer_stock_sold_within_cap",
            ),
        ]

    def __str__(self) -> str:
        return self.title_zh or f"{self.get_kind_display()} #{self.pk}"

    @property
    def title(self) -> str:
        """The name in the language being shown: English when it is English and there is one."""
        if (translation.get_language() or "").startswith("en") and self.title_en:
            return self.title_en
        return self.title_zh or self.title_en

    def phase(self, now: dt.datetime | None = None) -> str:
        """Where an offer stands for shoppers: ``scheduled`` (enabled, before its start),
        ``running`` (enabled, within its dates: the quote applies it), ``expired`` (enabled,
        after its end), else its status (draft / paused / ended)."""
        if self.status != OfferStatus.ACTIVE:
            return str(self.status)
        now = now or timezone.now()
        if self.starts_at is not None and now < self.starts_at:
            return "scheduled"
        if self.ends_at is not None and now >= self.ends_at:
            return "expired"
        return "running"

    def phase_display(self) -> str:
        labels = {"scheduled": _("已启用·未开始"), "running": _("进行中"), "expired": _("已过期")}
        phase = self.phase()
        return str(labels[phase]) if phase in labels else self.get_status_display()


class OfferScopeItem(models.Model):
    """One category, product or SKU an offer covers (exactly one of the three is set)."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="scope_items")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    sku = models.ForeignKey(Sku, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("活动范围")
        verbose_name_plural = _("活动范围")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(category__isnull=False, product__isnull=True, sku__isnull=True)
                    | Q(category__isnull=True, product__isnull=False, sku__isnull=True)
                    | Q(category__isnull=True, product__isnull=True, sku__isnull=False)
                ),
                name="offer_scope_exactly_one_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.offer_id}: {self.category_id or ''}/{self.product_id or ''}/{self.sku_id or ''}"


class CouponKind(models.TextChoices):
    STORE_THRESHOLD = "store_threshold", _("店铺满减券")
    CATEGORY = "category", _("品类券")
    NEW_USER = "new_user", _("新人券")
    NO_THRESHOLD = "no_threshold", _("无门槛券")


class IssueRule(models.TextChoices):
    """How copies of a template are handed out (PROMO-02)."""

    MANUAL = "manual", _("手动/活动发放")
    NEW_USER = "new_user", _("新用户注册")
    REVIEW_REWARD = "review_reward", _("评价奖励")
    REFERRAL = "referral", _("邀请好友")
    MONTHLY_TIER = "monthly_tier", _("会员月度券")
    BIRTHDAY = "birthday", _("会员生日礼")


class CouponTemplate(models.Model):
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="coupon_templates", verbose_name=_("店铺")
    )
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("券类型"), max_length=20, choices=CouponKind.choices)
    threshold = models.DecimalField(_("使用门槛"), max_digits=14, decimal_places=2, default=0)
    amount = models.DecimalField(_("面额"), max_digits=14, decimal_places=2)
    stackable = models.BooleanField(_("可叠加"), default=False)
    categories = models.ManyToManyField(Category, blank=True, related_name="+", verbose_name=_("适用类目"))
    issue_rule = models.CharField(
        _("发放规则"), max_length=20, choices=IssueRule.choices, default=IssueRule.MANUAL
    )
    tier = models.CharField(_("会员等级"), max_length=20, blank=True)  # monthly tier coupons
    issue_starts_at = models.DateTimeField(_("发放开始"), null=True, blank=True)
    issue_ends_at = models.DateTimeField(_("发放结束"), null=True, blank=True)
    valid_from = models.DateTimeField(_("有效期开始"), null=True, blank=True)
    valid_until = models.DateTimeField(_("有效期结束"), null=True, blank=True)
    valid_days = models.PositiveIntegerField(_("领取后有效天数"), null=True, blank=True)
    total_quantity = models.PositiveIntegerField(_("发放总量"), null=True, blank=True)
    issued_count = models.PositiveIntegerField(_("已发放"), default=0)
    per_user_limit = models.PositiveIntegerField(_("每人限领"), default=1)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("优惠券模板")
        verbose_name_plural = _("优惠券模板")
        ordering = ("store", "-pk")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="coupon_amount_positive"),
            models.CheckConstraint(condition=Q(threshold__gte=0), name="coupon_threshold_non_negative"),
            models.CheckConstraint(
                condition=Q(total_quantity__isnull=True) | Q(issued_count__lte=models.F("total_quantity")),
                name="coupon_issued_within_total",
            ),
            models.CheckConstraint(condition=Q(per_user_limit__gte=1), name="coupon_per_user_limit_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class CouponStatus(models.TextChoices):
    ISSUED = "issued", _("未使用")
    REDEEMED = "redeemed", _("已使用")
    EXPIRED = "expired", _("已过期")


class IssuedCoupon(models.Model):
    template = models.ForeignKey(
        CouponTemplate, on_delete=models.PROTECT, related_name="coupons", verbose_name=_("模板")
    )
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    code = models.CharField(_("券码"), max_length=32, unique=True)
    customer_ref = models.CharField(_("顾客"), max_length=64, db_index=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=CouponStatus.choices, default=CouponStatus.ISSUED
    )
    source = models.CharField(_("来源"), max_length=20, choices=IssueRule.choices, default=IssueRule.MANUAL)
    issue_key = models.CharField(_("发放键"), max_length=64, blank=True)  # e.g. "2026-11", a review id
    campaign_ref = models.CharField(_("活动"), max_length=64, blank=True)
    issued_at = models.DateTimeField(_("发放时间"), default=timezone.now)
    valid_from = models.DateTimeField(_("生效时间"), null=True, blank=True)
    valid_until = models.DateTimeField(_("失效时间"), null=True, blank=True)
    redeemed_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    order_ref = models.CharField(_("订单"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("已发优惠券")
        verbose_name_plural = _("已发优惠券")
        ordering = ("-issued_at", "-pk")
        indexes = [models.Index(fields=("template", "customer_ref"), name="coupon_template_customer")]
        constraints = [
            models.UniqueConstraint(
                fields=("template", "customer_ref", "issue_key"),
                condition=~Q(issue_key=""),
                name="coupon_issue_key_once",
            ),
            models.CheckConstraint(
                condition=~Q(status="redeemed") | Q(redeemed_at__isnull=False),
                name="coupon_redeemed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class OfferUse(models.Model):
    """One order's use of a limited offer (PROMO-01): a flash sale's units, or one use of an
    offer with a per-customer limit; and one use of the presale offer of each presale order
    (定金膨胀), limited or not, which links the offer to its orders (the offer page's deposit
    and balance counts). Written with the order, in its transaction; released
    (``released_at``) when the order is cancelled or closed unpaid, which also gives a flash
    sale's units back to ``Offer.stock_sold``. A customer's live uses are what the quote reads
    as their prior use of the offer."""

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="uses", verbose_name=_("优惠"))
    customer_ref = models.CharField(_("顾客"), max_length=64)
    order_id = models.BigIntegerField(_("订单 ID"), db_index=True)  # the orders app's id (no FK across apps)
    order_number = models.CharField(_("订单号"), max_length=32)
    quantity = models.PositiveIntegerField(_("数量"))  # units for a flash sale, else 1 (one use)
    used_at = models.DateTimeField(_("使用时间"), default=timezone.now)
    released_at = models.DateTimeField(_("释放时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("优惠使用记录")
        verbose_name_plural = _("优惠使用记录")
        ordering = ("-used_at", "-pk")
        indexes = [models.Index(fields=("offer", "customer_ref"), name="offer_use_customer")]
        constraints = [
            models.UniqueConstraint(fields=("offer", "order_id"), name="offer_use_once_per_order"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="offer_use_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} · {self.order_number}"
