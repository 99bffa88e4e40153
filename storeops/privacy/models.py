"""DATA-09 (PIPL 个人信息保护法): a customer's request about their personal data — a copy of it
(查阅/复制, PIPL art. 45) or its deletion (删除, art. 47) — answered within the playbook's
``privacy_request_days``."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from storeops.stores.models import Store


class RequestKind(models.TextChoices):
    ACCESS = "access", _("查阅/复制")
    ERASE = "erase", _("删除")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    DONE = "done", _("已完成")
    REFUSED = "refused", _("已拒绝")


class DataRequest(models.Model):
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    customer_ref = models.CharField(_("顾客"), max_length=64, db_index=True)
    kind = models.CharField(_("类型"), max_length=10, choices=RequestKind.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    received_via = models.CharField(_("受理渠道"), max_length=100, blank=True)  # e.g. 客服热线, 邮件
    note = models.TextField(_("备注"), blank=True)
    received_at = models.DateTimeField(_("受理时间"), default=timezone.now)
    due_at = models.DateTimeField(_("答复期限"))
    created_by = models.CharField(_("登记人"), max_length=150)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    completed_by = models.CharField(_("处理人"), max_length=150, blank=True)
    refusal_reason = models.CharField(_("拒绝理由"), max_length=500, blank=True)
    # what was done: record counts per kind of data (a copy's sizes, or what was erased)
    outcome = models.JSONField(_("处理结果"), default=dict, blank=True)

    class Meta:
        verbose_name = _("个人信息请求")
        verbose_name_plural = _("个人信息请求")
        ordering = ("-received_at", "-id")
        indexes = [models.Index(fields=("store", "status", "due_at"), name="privacy_request_open")]
        permissions = [
            ("export_personal_data", _("导出顾客个人信息副本")),
            ("erase_personal_data", _("删除顾客个人信息")),
        ]

    def __str__(self) -> str:
        return f"{self.customer_ref} {self.kind} {self.status}"
