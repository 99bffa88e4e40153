"""Campaigns (PROMO-05..08) and paid ads (ADS-01..03)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from storeops.catalog.models import Sku
from storeops.stores.models import Channel, Store

MONEY = {"max_digits": 14, "decimal_places": 2}
RATE = {"max_digits": 6, "decimal_places": 4}


class CampaignKind(models.TextChoices):
    REGULAR = "regular", _("日常活动")
    BIG_PROMOTION = "big_promotion", _("大促（618、双11等）")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PENDING_OPERATIONS = "pending_operations", _("待运营负责人审批")
    PENDING_MARKETING = "pending_marketing", _("待推广负责人审批")
    PENDING_FINANCE = "pending_finance", _("待财务审批")
    APPROVED = "approved", _("已审批")
    ACTIVE = "active", _("进行中")
    ENDED = "ended", _("已结束")
    CANCELLED = "cancelled", _("已取消")


class Campaign(models.Model):
    """A campaign plan (活动方案, SOP PROMO-05). ``status`` changes only through the services."""

    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("店铺")
    )
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("渠道")
    )
    theme = models.CharField(_("主题"), max_length=200)
    kind = models.CharField(
        _("类型"), max_length=20, choices=CampaignKind.choices, default=CampaignKind.REGULAR
    )
    mechanics = models.TextField(_("玩法"), blank=True)
    status = models.CharField(
        _("状态"), max_length=30, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT, editable=False
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    target_gmv = models.DecimalField(_("GMV目标"), **MONEY, default=0)
    target_new_users = models.PositiveIntegerField(_("新用户目标"), default=0)
    # Thresholds of PROMO-06/08: empty means the playbook's campaign_* default applies.
    planned_redemption_rate = models.DecimalField(
        _("计划核销率"), **RATE, null=True, blank=True, help_text=_("留空则使用运营手册的默认值")
    )
    max_payment_failure_rate = models.DecimalField(
        _("支付失败率告警线"), **RATE, null=True, blank=True, help_text=_("留空则使用运营手册的默认值")
    )
    expected_refund_rate = models.DecimalField(
        _("预计退款率"), **RATE, null=True, blank=True, help_text=_("留空则使用运营手册的默认值")
    )
    # INV-02: the demand multiplier expected during the campaign (e.g. 3 = three times the usual
    # daily sales) the stock cover is checked against; empty: the playbook's promo_default_uplift.
    expected_uplift = models.DecimalField(
        _("预计销量倍数"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("大促期间预计日销量是平时的几倍（1–50）；留空则使用运营手册的默认值"),
    )
    offers = models.ManyToManyField(
        "promotions.Offer", blank=True, related_name="campaigns", verbose_name=_("关联优惠")
    )
    # PROMO-06: the coupons of these templates are the campaign's: their copies issued and
    # redeemed are counted into its hourly figures (the redemption rate).
    coupon_templates = models.ManyToManyField(
        "promotions.CouponTemplate", blank=True, related_name="campaigns", verbose_name=_("关联优惠券")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True, editable=False)
    approved_at = models.DateTimeField(_("审批完成时间"), null=True, blank=True, editable=False)
    activated_at = models.DateTimeField(_("上线时间"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("营销活动")
        verbose_name_plural = _("营销活动")
        ordering = ("-starts_on", "-pk")
        permissions = [
            ("approve_operations", _("审批活动（运营负责人）")),
            ("approve_marketing", _("审批活动（推广负责人）")),
            ("approve_budget", _("审批活动预算（财务）")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_dates"),
            models.CheckConstraint(condition=Q(target_gmv__gte=0), name="campaign_target_gmv_non_negative"),
            models.CheckConstraint(
                condition=Q(expected_uplift__isnull=True)
                | Q(expected_uplift__gte=1, expected_uplift__lte=50),
                name="campaign_expected_uplift_1_50",
            ),
        ]

    def __str__(self) -> str:
        return self.theme


class PhaseKind(models.TextChoices):
    PREHEAT = "preheat", _("预热")
    BURST = "burst", _("爆发")
    RETURN = "return", _("返场")


class CampaignPhase(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="phases")
    kind = models.CharField(_("阶段"), max_length=10, choices=PhaseKind.choices)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))

    class Meta:
        verbose_name = _("活动阶段")
        verbose_name_plural = _("活动阶段")
        ordering = ("campaign", "starts_on")
        constraints = [
            models.UniqueConstraint(fields=("campaign", "kind"), name="campaign_phase_once"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_phase_dates"
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class BudgetKind(models.TextChoices):
    DISCOUNT = "discount", _("让利成本")
    ADS = "ads", _("广告")
    KOL = "kol", _("达人/KOL")
    OTHER = "other", _("其他")


class CampaignBudgetLine(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="budget_lines")
    kind = models.CharField(_("预算类型"), max_length=10, choices=BudgetKind.choices)
    planned = models.DecimalField(_("计划金额"), **MONEY)
    actual = models.DecimalField(_("实际花费"), **MONEY, default=0)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("活动预算")
        verbose_name_plural = _("活动预算")
        constraints = [
            models.UniqueConstraint(fields=("campaign", "kind"), name="campaign_budget_kind_once"),
            models.CheckConstraint(
                condition=Q(planned__gte=0) & Q(actual__gte=0), name="campaign_budget_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class CampaignStockLine(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="stock_lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU"))
    planned_qty = models.PositiveIntegerField(_("计划备货量"))

    class Meta:
        verbose_name = _("活动备货")
        verbose_name_plural = _("活动备货")
        constraints = [models.UniqueConstraint(fields=("campaign", "sku"), name="campaign_stock_sku_once")]

    def __str__(self) -> str:
        return f"{self.sku_id} × {self.planned_qty}"


class ApprovalDecision(models.TextChoices):
    SUBMITTED = "submitted", _("提交审批")
    APPROVED = "approved", _("通过")
    REJECTED = "rejected", _("驳回")


class CampaignApproval(models.Model):
    """One entry of the approval timeline (also in the operation log)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="approvals")
    step = models.CharField(_("审批环节"), max_length=20, blank=True)
    decision = models.CharField(_("结果"), max_length=10, choices=ApprovalDecision.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(_("操作人"), max_length=150)
    comment = models.TextField(_("意见"), blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("活动审批记录")
        verbose_name_plural = _("活动审批记录")
        ordering = ("campaign", "at", "pk")

    def __str__(self) -> str:
        return f"{self.step} {self.decision}"


class CampaignMetricHourly(models.Model):
    """Hourly live figures of a campaign (PROMO-06). Orders, GMV, payment attempts and failures
    (and, when the campaign links coupon templates, coupons issued and redeemed) are counted
    from StoreOps' own rows by the hourly job or a recount: ``counted_fields`` names them and
    ``counted_at`` says when. The others (exposure, clicks, new users) come only from the
    platform: imported or entered, never overwritten by a count."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="metrics")
    hour = models.DateTimeField(_("小时"))
    exposure = models.PositiveIntegerField(_("曝光"), default=0)
    clicks = models.PositiveIntegerField(_("点击"), default=0)
    coupons_issued = models.PositiveIntegerField(_("发券数"), default=0)
    coupon_redemptions = models.PositiveIntegerField(_("核销数"), default=0)
    orders = models.PositiveIntegerField(_("订单数"), default=0)
    payment_attempts = models.PositiveIntegerField(_("支付次数"), default=0)
    payment_failures = models.PositiveIntegerField(_("支付失败数"), default=0)
    gmv = models.DecimalField(_("GMV"), **MONEY, default=0)
    new_users = models.PositiveIntegerField(_("新用户"), default=0)
    counted_fields = models.JSONField(_("系统统计的字段"), default=list, blank=True)
    counted_at = models.DateTimeField(_("统计时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("活动小时数据")
        verbose_name_plural = _("活动小时数据")
        ordering = ("campaign", "hour")
        constraints = [
            models.UniqueConstraint(fields=("campaign", "hour"), name="campaign_metric_hour_once"),
            models.CheckConstraint(
                condition=Q(payment_failures__lte=models.F("payment_attempts")),
                name="campaign_metric_failures",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} @ {self.hour:%Y-%m-%d %H:00}"


class CampaignPostmortem(models.Model):
    """The generated post-mortem (PROMO-07); ``report`` holds the figures as generated."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="postmortem")
    generated_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    report = models.JSONField(_("报告"), default=dict)
    conclusions = models.TextField(_("结论与改进"), blank=True)

    class Meta:
        verbose_name = _("活动复盘")
        verbose_name_plural = _("活动复盘")

    def __str__(self) -> str:
        return f"{self.campaign}"


# ---- ADS ------------------------------------------------------------------------------------
class AdPurpose(models.TextChoices):
    TRAFFIC = "traffic", _("引流款（广泛匹配、低出价）")
    PROFIT = "profit", _("利润款（精准匹配、人群溢价）")


class MatchType(models.TextChoices):
    BROAD = "broad", _("广泛匹配")
    EXACT = "exact", _("精准匹配")


class AdPlan(models.Model):
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="ad_plans", verbose_name=_("店铺")
    )
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("渠道")
    )
    name = models.CharField(_("计划名称"), max_length=100)
    purpose = models.CharField(_("用途"), max_length=10, choices=AdPurpose.choices)
    match_type = models.CharField(_("匹配方式"), max_length=10, choices=MatchType.choices)
    category = models.CharField(_("类目"), max_length=100, blank=True)
    daily_budget = models.DecimalField(_("日预算"), **MONEY, default=0)
    audience_premium = models.DecimalField(_("人群溢价"), **RATE, default=0)
    peak_start = models.TimeField(_("高峰开始"), null=True, blank=True)
    peak_end = models.TimeField(_("高峰结束"), null=True, blank=True)
    peak_uplift = models.DecimalField(_("高峰加价"), **RATE, null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("推广计划")
        verbose_name_plural = _("推广计划")
        ordering = ("store", "name")
        constraints = [models.UniqueConstraint(fields=("store", "name"), name="ad_plan_name_unique")]

    def __str__(self) -> str:
        return self.name


class AdKeyword(models.Model):
    plan = models.ForeignKey(AdPlan, on_delete=models.CASCADE, related_name="keywords")
    keyword = models.CharField(_("关键词"), max_length=100)
    bid = models.DecimalField(_("出价"), **MONEY)
    rank = models.PositiveIntegerField(_("排名"), null=True, blank=True)
    is_core = models.BooleanField(_("核心词"), default=False)

    class Meta:
        verbose_name = _("推广关键词")
        verbose_name_plural = _("推广关键词")
        ordering = ("plan", "keyword")
        constraints = [
            models.UniqueConstraint(fields=("plan", "keyword"), name="ad_keyword_once"),
            models.CheckConstraint(condition=Q(bid__gte=0), name="ad_keyword_bid_non_negative"),
        ]

    def __str__(self) -> str:
        return self.keyword


class AdKeywordDailyStat(models.Model):
    keyword = models.ForeignKey(AdKeyword, on_delete=models.CASCADE, related_name="stats")
    day = models.DateField(_("日期"))
    spend = models.DecimalField(_("花费"), **MONEY, default=0)
    impressions = models.PositiveIntegerField(_("展现"), default=0)
    clicks = models.PositiveIntegerField(_("点击"), default=0)
    conversions = models.PositiveIntegerField(_("成交笔数"), default=0)
    ad_sales = models.DecimalField(_("成交金额"), **MONEY, default=0)

    class Meta:
        verbose_name = _("关键词日数据")
        verbose_name_plural = _("关键词日数据")
        ordering = ("keyword", "day")
        constraints = [models.UniqueConstraint(fields=("keyword", "day"), name="ad_keyword_stat_day_once")]

    def __str__(self) -> str:
        return f"{self.keyword_id} {self.day}"


class IndustryCpcBenchmark(models.Model):
    """Industry average CPC for a keyword or a category (ADS-02). Latest ``as_of`` wins."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    keyword = models.CharField(_("关键词"), max_length=100, blank=True)
    category = models.CharField(_("类目"), max_length=100, blank=True)
    average_cpc = models.DecimalField(_("行业平均CPC"), **MONEY)
    as_of = models.DateField(_("数据日期"), default=timezone.localdate)

    class Meta:
        verbose_name = _("行业CPC基准")
        verbose_name_plural = _("行业CPC基准")
        ordering = ("store", "-as_of")
        constraints = [
            models.CheckConstraint(
                condition=~Q(keyword="") | ~Q(category=""), name="cpc_benchmark_has_subject"
            ),
            models.CheckConstraint(condition=Q(average_cpc__gt=0), name="cpc_benchmark_positive"),
        ]

    def __str__(self) -> str:
        return self.keyword or self.category
