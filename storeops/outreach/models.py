"""Outreach to customers (MEM-06): message templates, marketing consent per customer and
channel, campaigns to an audience (a list, a lifecycle segment, or a trigger such as a
favourited item's price drop) and one message row per customer reached or skipped, with its
delivery receipt and the order it converted into."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from storeops.stores.models import Store


class OutreachChannel(models.TextChoices):
    SMS = "sms", _("短信")
    EMAIL = "email", _("邮件")
    PUSH = "push", _("App推送")


class ConsentStatus(models.TextChoices):
    OPTED_IN = "opted_in", _("已同意")
    OPTED_OUT = "opted_out", _("已退订")


class ConsentSource(models.TextChoices):
    SIGNUP = "signup", _("注册/下单时勾选")
    CONSOLE = "console", _("客服登记")
    REPLY = "reply", _("短信回复退订")
    UNSUBSCRIBE = "unsubscribe", _("退订链接")
    IMPORT = "import", _("导入")


class Consent(models.Model):
    """A customer's marketing consent on one channel. No row = no consent: marketing messages
    go only to customers who opted in, and an opt-out wins until they opt in again."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    customer_ref = models.CharField(_("顾客"), max_length=64)
    channel = models.CharField(_("渠道"), max_length=10, choices=OutreachChannel.choices)
    status = models.CharField(_("状态"), max_length=10, choices=ConsentStatus.choices)
    source = models.CharField(_("来源"), max_length=20, choices=ConsentSource.choices)
    address = models.CharField(_("联系方式"), max_length=200, blank=True)  # phone / e-mail / device
    changed_at = models.DateTimeField(_("变更时间"), default=timezone.now)
    changed_by = models.CharField(_("操作人"), max_length=150)

    class Meta:
        verbose_name = _("营销授权")
        verbose_name_plural = _("营销授权")
        ordering = ("-changed_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("store", "customer_ref", "channel"), name="consent_once_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_ref} {self.channel} {self.status}"


class MessageTemplate(models.Model):
    """Text with placeholders: {product}, {drop}, {price}, {coupon}, {store}."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    code = models.SlugField(_("编码"), max_length=40)
    name = models.CharField(_("名称"), max_length=100)
    channel = models.CharField(_("渠道"), max_length=10, choices=OutreachChannel.choices)
    subject = models.CharField(_("标题"), max_length=100, blank=True)  # e-mail / push title
    body = models.CharField(_("内容"), max_length=500)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("消息模板")
        verbose_name_plural = _("消息模板")
        ordering = ("code",)
        constraints = [models.UniqueConstraint(fields=("store", "code"), name="outreach_template_code_once")]

    def __str__(self) -> str:
        return self.name


class AudienceKind(models.TextChoices):
    LIST = "list", _("指定顾客名单")
    SEGMENT = "segment", _("用户分层")
    PRICE_DROP = "price_drop", _("收藏商品降价")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SCHEDULED = "scheduled", _("已排期")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    CANCELLED = "cancelled", _("已取消")


class Campaign(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    name = models.CharField(_("名称"), max_length=200)
    template = models.ForeignKey(
        MessageTemplate, on_delete=models.PROTECT, related_name="+", verbose_name=_("模板")
    )
    audience_kind = models.CharField(_("受众"), max_length=20, choices=AudienceKind.choices)
    # list: customer refs; segment: the segment code; price_drop: the SKU id and the drop
    audience = models.JSONField(_("受众参数"), default=dict)
    status = models.CharField(
        _("状态"), max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    scheduled_at = models.DateTimeField(_("计划发送时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始发送"), null=True, blank=True)
    finished_at = models.DateTimeField(_("发送完成"), null=True, blank=True)
    audience_size = models.PositiveIntegerField(_("受众人数"), default=0)
    processed = models.PositiveIntegerField(_("已处理"), default=0)  # progress while sending
    created_by = models.CharField(_("创建人"), max_length=150)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("触达活动")
        verbose_name_plural = _("触达活动")
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("status", "scheduled_at"))]

    def __str__(self) -> str:
        return self.name


class MessageStatus(models.TextChoices):
    SENT = "sent", _("已发出")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("发送失败")
    SUPPRESSED = "suppressed", _("未发送")


class SuppressReason(models.TextChoices):
    NO_CONSENT = "no_consent", _("未授权营销消息")
    OPTED_OUT = "opted_out", _("已退订")
    FREQUENCY_CAP = "frequency_cap", _("超过触达频次上限")
    NO_ADDRESS = "no_address", _("无联系方式")


class Message(models.Model):
    """One customer of a campaign: sent (and later delivered or failed by the gateway's
    receipt) or suppressed with the reason; converted when the customer paid an order within
    the playbook's conversion window after it was sent."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="messages")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺"))
    customer_ref = models.CharField(_("顾客"), max_length=64)
    channel = models.CharField(_("渠道"), max_length=10, choices=OutreachChannel.choices)
    address_masked = models.CharField(_("联系方式"), max_length=200, blank=True)
    text = models.CharField(_("内容"), max_length=600, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=MessageStatus.choices)
    reason = models.CharField(_("未发送原因"), max_length=20, choices=SuppressReason.choices, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发出时间"), null=True, blank=True)
    receipt_at = models.DateTimeField(_("回执时间"), null=True, blank=True)
    converted_order = models.CharField(_("转化订单"), max_length=64, blank=True)
    converted_at = models.DateTimeField(_("转化时间"), null=True, blank=True)
    converted_amount = models.DecimalField(
        _("转化金额"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("触达消息")
        verbose_name_plural = _("触达消息")
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=("campaign", "customer_ref"), name="outreach_message_once"),
            models.CheckConstraint(
                condition=Q(status="suppressed", sent_at__isnull=True)
                | (~Q(status="suppressed") & Q(reason="")),
                name="outreach_message_suppressed_has_no_send",
            ),
        ]
        indexes = [
            models.Index(fields=("store", "customer_ref", "sent_at")),
            models.Index(fields=("store", "status", "sent_at")),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.customer_ref} {self.status}"
