"""Findings: what the SOP checks found wrong, until it is fixed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from storeops.accounts.roles import ROLE_LABELS


class Finding(models.Model):
    class Severity(models.TextChoices):
        INFO = "info", _("提示")
        WARNING = "warning", _("警告")
        CRITICAL = "critical", _("严重")

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        ACKNOWLEDGED = "acknowledged", _("处理中")
        RESOLVED = "resolved", _("已解决")

    class Resolution(models.TextChoices):
        AUTO = "auto", _("条件消除，自动解决")
        MANUAL = "manual", _("人工处理")

    store = models.ForeignKey(
        "stores.Store", on_delete=models.CASCADE, related_name="findings", verbose_name=_("店铺")
    )
    channel = models.ForeignKey(
        "stores.Channel", null=True, blank=True, on_delete=models.CASCADE, verbose_name=_("渠道")
    )
    rule_id = models.CharField(_("规则"), max_length=20, db_index=True)
    subject_key = models.CharField(_("对象"), max_length=200)
    subject_type = models.CharField(max_length=80, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    title = models.CharField(_("标题"), max_length=300)
    title_key = models.CharField(max_length=300, blank=True)  # untranslated message, see display_title
    title_params = models.JSONField(default=dict, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    severity = models.CharField(_("级别"), max_length=10, choices=Severity.choices, default=Severity.WARNING)
    owner_role = models.CharField(
        _("负责角色"), max_length=30, choices=[(k.value, v) for k, v in ROLE_LABELS.items()]
    )
    status = models.CharField(
        _("状态"), max_length=15, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    due_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("首次发现"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("最近发现"), default=timezone.now)
    occurrences = models.PositiveIntegerField(_("发现次数"), default=1)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(_("解决方式"), max_length=10, choices=Resolution.choices, blank=True)
    resolution_note = models.TextField(_("处理说明"), blank=True)
    notified_at = models.DateTimeField(_("通知时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("问题")
        verbose_name_plural = _("问题")
        ordering = ("-first_seen_at",)
        permissions = [("run_checks", "Can run SOP checks on demand")]
        constraints = [
            # De-duplication in the database: one unresolved finding per (store, rule, subject).
            models.UniqueConstraint(
                fields=("store", "rule_id", "subject_key"),
                condition=~Q(status="resolved"),
                name="finding_one_unresolved_per_subject",
            ),
        ]
        indexes = [models.Index(fields=("store", "status", "severity"))]

    def __str__(self) -> str:
        return f"[{self.rule_id}] {self.title}"

    @property
    def display_title(self) -> str:
        """The title in the reader's language when the check gave a message key; otherwise
        the stored title (written in the store's language when the check ran)."""
        if not self.title_key:
            return self.title
        from storeops.sop.registry import render_title

        try:
            return render_title(self.title_key, self.title_params or {})
        except (KeyError, TypeError, ValueError):
            return self.title

    @property
    def is_overdue(self) -> bool:
        return (
            self.status != self.Status.RESOLVED and self.due_at is not None and self.due_at < timezone.now()
        )


class Notification(models.Model):
    """A record of every notification sent about a finding (who, how, whether it went out)."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(_("通知方式"), max_length=40)
    recipient = models.CharField(_("接收人"), max_length=200)
    sent_at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField(default=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("通知记录")
        verbose_name_plural = _("通知记录")
        ordering = ("-sent_at",)

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient}"


class CheckRun(models.Model):
    """One run of one check for one store: when, how long, what it changed."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE)
    rule_id = models.CharField(max_length=20)
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    raised = models.PositiveIntegerField(default=0)
    still_open = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("检查记录")
        verbose_name_plural = _("检查记录")
        ordering = ("-started_at",)

    def __str__(self) -> str:
        return f"{self.rule_id} @ {self.started_at:%Y-%m-%d %H:%M}"
