"""A/B tests (DATA-07): an experiment on one element of the shop (banner, main image, detail
layout, copy) with its variants and their results."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
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
