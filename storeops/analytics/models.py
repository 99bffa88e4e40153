"""A/B tests (DATA-07): an experiment on one element of the shop (banner, main image, detail
layout, copy) with its variants and their results."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from storeops.stores.models import Store


class ExperimentSubject(models.TextChoices):
    BANNER = "banner", _("首页横幅")
    MAIN_IMAGE = "main_image", _("商品主图")
    DETAIL_LAYOUT = "detail_layout", _("详情页布局")
    COPY = "copy", _("文案")


class ExperimentStatus(models.TextChoices):
    RUNNING = "running", _("进行中")
    ADOPTED = "adopted", _("已采纳")
    REJECTED = "rejected", _("未采纳")


class Experiment(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    name = models.CharField(_("名称"), max_length=200)
    subject = models.CharField(_("测试对象"), max_length=20, choices=ExperimentSubject.choices)
    hypothesis = models.CharField(_("假设"), max_length=500, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=ExperimentStatus.choices, default=ExperimentStatus.RUNNING
    )
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    decided_at = models.DateTimeField(_("结论时间"), null=True, blank=True)
    decision_note = models.CharField(_("结论说明"), max_length=500, blank=True)
    created_by = models.CharField(_("创建人"), max_length=150)
    decided_by = models.CharField(_("决定人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("A/B测试")
        verbose_name_plural = _("A/B测试")
        ordering = ("-started_at", "-id")

    def __str__(self) -> str:
        return self.name


VARIANT_CODES = ("A", "B")  # an experiment's two variants: A the control, B the challenger


class ExperimentVariant(models.Model):
    """A = the control (what the shop shows today), B = the challenger. Results are the
    visitors who saw it and how many of them converted (ordered), from the channel statistics."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    code = models.CharField(_("版本"), max_length=1)  # "A" (control) or "B"
    description = models.CharField(_("说明"), max_length=300)
    visitors = models.PositiveIntegerField(_("访客数"), default=0)
    conversions = models.PositiveIntegerField(_("转化数"), default=0)

    class Meta:
        verbose_name = _("测试版本")
        verbose_name_plural = _("测试版本")
        ordering = ("experiment", "code")
        constraints = [
            models.UniqueConstraint(fields=("experiment", "code"), name="variant_code_once"),
            models.CheckConstraint(
                condition=Q(conversions__lte=models.F("visitors")), name="variant_conversions_le_visitors"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.experiment_id} {self.code}"


# --- MEM-04: lifecycle segments ----------------------------------------------------------------------


class SegmentChoice(models.TextChoices):
    NEW = "new", _("新客")
    ACTIVE = "active", _("活跃客户")
    HIGH_VALUE = "high_value", _("高价值客户")
    SLEEPING = "sleeping", _("沉睡客户")


class CustomerSnapshot(models.Model):
    """One buyer's lifecycle segment and RFM scores on one day (the daily snapshot): lists are
    read from here, and the segment of the snapshot before gives the day's segment moves."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    day = models.DateField(_("日期"))
    customer_ref = models.CharField(_("顾客"), max_length=64)
    segment = models.CharField(_("分层"), max_length=20, choices=SegmentChoice.choices)
    previous_segment = models.CharField(_("上次分层"), max_length=20, blank=True)
    recency_days = models.PositiveIntegerField(_("最近购买距今（天）"))
    frequency = models.PositiveIntegerField(_("购买次数"))
    monetary = models.DecimalField(_("消费金额"), max_digits=14, decimal_places=2)
    r_score = models.PositiveSmallIntegerField("R")
    f_score = models.PositiveSmallIntegerField("F")
    m_score = models.PositiveSmallIntegerField("M")
    first_paid_on = models.DateField(_("首单日期"))
    last_paid_on = models.DateField(_("最近下单日期"))

    class Meta:
        verbose_name = _("客户分层快照")
        verbose_name_plural = _("客户分层快照")
        ordering = ("store", "-day", "-monetary", "customer_ref")
        permissions = [
            ("export_segment", _("导出客户分层名单")),
            ("run_segment_action", _("执行客户分层运营动作")),
        ]
        constraints = [
            models.UniqueConstraint(fields=("store", "day", "customer_ref"), name="snapshot_customer_once"),
            models.CheckConstraint(
                condition=Q(r_score__gte=1, r_score__lte=5)
                & Q(f_score__gte=1, f_score__lte=5)
                & Q(m_score__gte=1, m_score__lte=5),
                name="snapshot_scores_1_to_5",
            ),
        ]
        indexes = [
            models.Index(fields=("store", "day", "segment"), name="snapshot_day_segment"),
            models.Index(fields=("store", "customer_ref", "day"), name="snapshot_customer_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.customer_ref} {self.segment}"


class SegmentAction(models.Model):
    """A segment playbook action taken for one period (MEM-04): the coupon of the segment issued
    to its customers of that day's snapshot. One per (store, segment, period)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    segment = models.CharField(_("分层"), max_length=20, choices=SegmentChoice.choices)
    period_key = models.CharField(_("周期"), max_length=20)
    snapshot_day = models.DateField(_("快照日期"))
    coupon_template_id = models.PositiveIntegerField(_("优惠券模板ID"))
    customers = models.PositiveIntegerField(_("客户数"))
    issued = models.PositiveIntegerField(_("发放张数"))
    skipped = models.PositiveIntegerField(_("跳过"))
    actor_label = models.CharField(_("操作人"), max_length=150)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("分层运营动作")
        verbose_name_plural = _("分层运营动作")
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.segment} {self.period_key}"


# --- DATA-06: operations reports ----------------------------------------------------------------------


class ReportKindChoice(models.TextChoices):
    DAILY = "daily", _("运营日报")
    WEEKLY = "weekly", _("周复盘")
    MONTHLY = "monthly", _("月复盘")
    QUARTERLY = "quarterly", _("季度复盘")


class OperationsReport(models.Model):
    """A report as generated (its figures frozen in ``data``): the daily operations report or a
    weekly / monthly / quarterly review with targets against actuals. One per period."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    kind = models.CharField(_("类型"), max_length=20, choices=ReportKindChoice.choices)
    period_start = models.DateField(_("开始日期"))
    period_end = models.DateField(_("结束日期"))  # exclusive: the day after the last
    data = models.JSONField(_("内容"), default=dict)
    missed = models.PositiveIntegerField(_("未达标项"), default=0)
    generated_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    generated_by = models.CharField(_("生成人"), max_length=150)

    class Meta:
        verbose_name = _("运营报表")
        verbose_name_plural = _("运营报表")
        ordering = ("-period_start", "kind", "-id")
        constraints = [
            models.UniqueConstraint(fields=("store", "kind", "period_start"), name="report_once_per_period"),
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")), name="report_period_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_start}"


class ReportDelivery(models.Model):
    """A report sent to a person on a notification channel (who, how, whether it went out)."""

    report = models.ForeignKey(OperationsReport, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("通知方式"), max_length=40)
    recipient = models.CharField(_("接收人"), max_length=200)
    sent_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    ok = models.BooleanField(_("成功"), default=True)
    error = models.CharField(_("错误"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("报表推送记录")
        verbose_name_plural = _("报表推送记录")
        ordering = ("-sent_at", "-id")

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient}"
