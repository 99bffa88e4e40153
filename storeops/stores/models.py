"""Stores (merchants), their channels, qualification documents, launch plans and playbooks."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Store(models.Model):
    """A merchant (店铺/商家). Everything else hangs off a store (SOP STORE-01)."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    legal_name = models.CharField(_("主体名称"), max_length=200, blank=True)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("店铺")
        verbose_name_plural = _("店铺")
        ordering = ("code",)

    def __str__(self) -> str:
        return self.name


class ChannelKind(models.TextChoices):
    OWN_WEB = "own_web", _("自营网店")
    TMALL = "tmall", _("天猫")
    TAOBAO = "taobao", _("淘宝")
    JD = "jd", _("京东")
    DOUYIN = "douyin", _("抖音")
    PINDUODUO = "pinduoduo", _("拼多多")
    AMAZON = "amazon", _("亚马逊")
    OTHER = "other", _("其他")


class Channel(models.Model):
    """One shop of a store on one sales channel: its own web shop or a marketplace shop."""

    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="channels", verbose_name=_("店铺")
    )
    kind = models.CharField(_("渠道类型"), max_length=20, choices=ChannelKind.choices)
    code = models.SlugField(_("编码"), max_length=40)
    name = models.CharField(_("名称"), max_length=100)
    external_shop_id = models.CharField(_("平台店铺ID"), max_length=100, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    launched_on = models.DateField(_("上线日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("渠道")
        verbose_name_plural = _("渠道")
        ordering = ("store", "code")
        constraints = [
            models.UniqueConstraint(fields=("store", "code"), name="channel_code_unique_per_store")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class QualificationKind(models.TextChoices):
    BUSINESS_LICENSE = "business_license", _("营业执照")
    BRAND_AUTHORIZATION = "brand_authorization", _("品牌授权书")
    TRADEMARK = "trademark", _("商标注册证")
    QC_REPORT = "qc_report", _("质检报告")
    FOOD_LICENSE = "food_license", _("食品经营许可证")
    COSMETICS_LICENSE = "cosmetics_license", _("化妆品备案/许可")
    HEALTH_FOOD_LICENSE = "health_food_license", _("保健食品批文")
    EFFICACY_REPORT = "efficacy_report", _("功效检测报告")
    OTHER_LICENSE = "other_license", _("其他行业许可")


class Qualification(models.Model):
    """A qualification document (SOP STORE-02) with its validity period."""

    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="qualifications", verbose_name=_("店铺")
    )
    kind = models.CharField(_("资质类型"), max_length=40, choices=QualificationKind.choices)
    title = models.CharField(_("名称"), max_length=200)
    number = models.CharField(_("证书编号"), max_length=100, blank=True)
    issuer = models.CharField(_("发证机关"), max_length=200)
    scope = models.CharField(_("范围"), max_length=300, blank=True)
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(_("到期日期"), null=True, blank=True, help_text=_("留空表示长期有效"))
    document = models.FileField(_("附件"), upload_to="qualifications/%Y/", blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("资质")
        verbose_name_plural = _("资质")
        ordering = ("store", "valid_to")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="qualification_valid_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.title}"

    def is_valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class Playbook(models.Model):
    """Overrides of the SOP settings for a store, or for one channel of it.

    ``values`` holds only the settings that differ from the defaults (or from the store's
    playbook, for a channel). Validated by :mod:`storeops.stores.playbook` on every save
    through the services.
    """

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="playbooks", verbose_name=_("店铺")
    )
    channel = models.OneToOneField(
        Channel,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="playbook",
        verbose_name=_("渠道"),
    )
    values = models.JSONField(_("设置"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("运营手册")
        verbose_name_plural = _("运营手册")
        constraints = [
            models.UniqueConstraint(
                fields=("store",), condition=Q(channel__isnull=True), name="one_store_playbook"
            )
        ]

    def __str__(self) -> str:
        return f"{self.store} / {self.channel or '*'}"


class LaunchPlan(models.Model):
    """New-store / new-channel launch checklist with 3-month SMART targets (SOP STORE-07)."""

    class Status(models.TextChoices):
        PREPARING = "preparing", _("筹备中")
        LIVE = "live", _("已上线")

    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="launch_plans", verbose_name=_("店铺")
    )
    channel = models.OneToOneField(
        Channel, on_delete=models.PROTECT, related_name="launch_plan", verbose_name=_("渠道")
    )
    planned_go_live = models.DateField(_("计划上线日期"))
    went_live_on = models.DateField(_("实际上线日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.PREPARING)
    market_research = models.TextField(_("市场调研结论"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("上线计划")
        verbose_name_plural = _("上线计划")

    def __str__(self) -> str:
        return f"{self.channel} · {self.get_status_display()}"


class LaunchStep(models.TextChoices):
    MARKET_RESEARCH = "market_research", _("市场调研")
    KPI_TARGETS = "kpi_targets", _("设定前3个月KPI目标")
    QUALIFICATIONS = "qualifications", _("资质齐全")
    TEST_REGISTER = "test_register", _("全链路测试：注册")
    TEST_BROWSE = "test_browse", _("全链路测试：浏览")
    TEST_ORDER = "test_order", _("全链路测试：下单")
    TEST_PAY = "test_pay", _("全链路测试：支付")
    TEST_AFTERSALES = "test_aftersales", _("全链路测试：售后")


class LaunchChecklistItem(models.Model):
    plan = models.ForeignKey(LaunchPlan, on_delete=models.CASCADE, related_name="items")
    step = models.CharField(_("步骤"), max_length=30, choices=LaunchStep.choices)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    done_by = models.CharField(_("完成人"), max_length=150, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("上线检查项")
        verbose_name_plural = _("上线检查项")
        constraints = [models.UniqueConstraint(fields=("plan", "step"), name="launch_step_once")]

    def __str__(self) -> str:
        return self.get_step_display()


class KpiMetric(models.TextChoices):
    GMV = "gmv", _("GMV（元）")
    NEW_USERS = "new_users", _("新增用户")
    CONVERSION = "conversion", _("转化率")


class LaunchTarget(models.Model):
    """A SMART target for month N after go-live; actual filled in when measured."""

    plan = models.ForeignKey(LaunchPlan, on_delete=models.CASCADE, related_name="targets")
    month = models.PositiveSmallIntegerField(_("第几个月"))
    metric = models.CharField(_("指标"), max_length=20, choices=KpiMetric.choices)
    target = models.DecimalField(_("目标值"), max_digits=16, decimal_places=4)
    actual = models.DecimalField(_("实际值"), max_digits=16, decimal_places=4, null=True, blank=True)

    class Meta:
        verbose_name = _("上线KPI目标")
        verbose_name_plural = _("上线KPI目标")
        ordering = ("plan", "month", "metric")
        constraints = [
            models.UniqueConstraint(fields=("plan", "month", "metric"), name="launch_target_once"),
            models.CheckConstraint(condition=Q(month__gte=1), name="launch_target_month_positive"),
            models.CheckConstraint(condition=Q(target__gte=0), name="launch_target_non_negative"),
        ]

    def __str__(self) -> str:
        return f"M{self.month} {self.get_metric_display()}"


class RuleChangeStatus(models.TextChoices):
    NEW = "new", _("待评估")
    ADJUSTING = "adjusting", _("整改中")
    DONE = "done", _("已完成整改")
    NOT_APPLICABLE = "not_applicable", _("不适用")


class PlatformRuleChange(models.Model):
    """RISK-03: a change of a sales platform's rules (平台规则变更) that may touch the store,
    tracked from the moment it is known until the store has adjusted (or found it does not
    apply), within the playbook's ``compliance_adjust_hours``."""

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="rule_changes", verbose_name=_("店铺")
    )
    platform = models.CharField(_("平台"), max_length=20, choices=ChannelKind.choices)
    title = models.CharField(_("规则变更"), max_length=200)
    summary = models.TextField(_("变更内容"), max_length=4000, blank=True)
    url = models.URLField(_("公告链接"), max_length=500, blank=True)
    announced_at = models.DateTimeField(_("获知时间"))  # the clock of the 24 h starts here
    effective_on = models.DateField(_("生效日期"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=RuleChangeStatus.choices, default=RuleChangeStatus.NEW
    )
    assessment = models.CharField(_("影响评估"), max_length=1000, blank=True)
    actions = models.CharField(_("整改措施"), max_length=1000, blank=True)
    recorded_by = models.CharField(_("登记人"), max_length=150)
    assessed_by = models.CharField(_("评估人"), max_length=150, blank=True)
    assessed_at = models.DateTimeField(_("评估时间"), null=True, blank=True)
    closed_by = models.CharField(_("完成人"), max_length=150, blank=True)
    closed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("平台规则变更")
        verbose_name_plural = _("平台规则变更")
        ordering = ("-announced_at", "-id")
        indexes = [models.Index(fields=("store", "status"), name="rule_change_store_status")]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} · {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in (RuleChangeStatus.NEW, RuleChangeStatus.ADJUSTING)
