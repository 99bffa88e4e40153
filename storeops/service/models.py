"""Customer-service data: tickets and complaints (CS-01/02), reply scripts (CS-03), stored
root-cause reports (CS-04), reviews and review invitations (LOG-02).

There is no link to the orders app yet: a ticket, review or invitation carries the order's
number (``order_ref``) with its store and channel, like ``fulfilment.Shipment``. The orders
app adds the foreign key later and fills it from ``(store, channel, order_ref)``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from storeops.service.rules import Status, Tier
from storeops.stores.models import Channel, Store


class TicketKind(models.TextChoices):
    INQUIRY = "inquiry", _("咨询")
    COMPLAINT = "complaint", _("投诉")


class TicketMedium(models.TextChoices):
    """Where the conversation takes place. A chat (在线聊天: the shop's web chat, 旺旺/京东咚咚/
    抖店飞鸽 conversations) owes a first answer within ``chat_first_response_seconds`` (CS-02)."""

    CHAT = "chat", _("在线聊天")
    PHONE = "phone", _("电话")
    EMAIL = "email", _("邮件")
    MARKETPLACE = "marketplace", _("平台站内信")
    OTHER = "other", _("其他")


class TicketCategory(models.TextChoices):
    LOGISTICS = "logistics", _("物流")
    QUALITY = "quality", _("质量")
    SERVICE = "service", _("服务")
    PRICE = "price", _("价格")
    OTHER = "other", _("其他")


class TicketTier(models.TextChoices):
    GENERAL = Tier.GENERAL.value, _("一般")
    SERIOUS = Tier.SERIOUS.value, pgettext_lazy("ticket tier", "严重")
    CRISIS = Tier.CRISIS.value, _("危机")


class TicketStatus(models.TextChoices):
    OPEN = Status.OPEN.value, _("待处理")
    IN_PROGRESS = Status.IN_PROGRESS.value, pgettext_lazy("in progress", "处理中")
    RESOLVED = Status.RESOLVED.value, _("已解决")
    CLOSED = Status.CLOSED.value, _("已关闭")


class Ticket(models.Model):
    """One customer conversation or complaint. ``owner`` is the first agent who handled it
    (首问负责制) and keeps it until they or a supervisor transfer it."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+", verbose_name=_("渠道"))
    kind = models.CharField(
        _("类型"), max_length=12, choices=TicketKind.choices, default=TicketKind.COMPLAINT
    )
    medium = models.CharField(
        _("接入方式"), max_length=12, choices=TicketMedium.choices, default=TicketMedium.OTHER
    )
    category = models.CharField(_("分类"), max_length=12, choices=TicketCategory.choices)
    tier = models.CharField(_("级别"), max_length=10, choices=TicketTier.choices, default=TicketTier.GENERAL)
    status = models.CharField(
        _("状态"), max_length=12, choices=TicketStatus.choices, default=TicketStatus.OPEN
    )
    subject = models.CharField(_("主题"), max_length=200)
    customer_ref = models.CharField(_("顾客"), max_length=64, db_index=True)
    # MEM-04 dedicated service: the customer was a high-value member when the ticket opened —
    # first in the queue, answered within ``segment_high_value_response_minutes``
    high_value = models.BooleanField(_("高价值客户（专属客服）"), default=False)
    order_ref = models.CharField(_("订单号"), max_length=64, blank=True, db_index=True)
    sku_code = models.CharField(_("SKU编码"), max_length=64, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("负责人"),
    )
    opened_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)
    first_response_at = models.DateTimeField(_("首次响应"), null=True, blank=True)
    first_response_seconds = models.PositiveIntegerField(_("首次响应用时（秒）"), null=True, blank=True)
    response_due_at = models.DateTimeField(_("响应截止"))
    # CS-02: a chat's first answer is due chat_first_response_seconds after it opened (null for
    # other media); response_due_at stays the CS-01 answer deadline every ticket has.
    chat_response_due_at = models.DateTimeField(_("在线首响截止"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("解决截止"))
    escalated = models.BooleanField(_("已升级"), default=False)
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)
    statement_due_at = models.DateTimeField(_("公开声明截止"), null=True, blank=True)
    statement_published_at = models.DateTimeField(_("声明发布时间"), null=True, blank=True)
    statement = models.TextField(_("公开声明"), blank=True)
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    resolution_note = models.TextField(_("处理结果"), blank=True)
    refund_ref = models.CharField(_("退款申请单号"), max_length=64, blank=True)
    compensation_coupon = models.CharField(_("补偿券码"), max_length=32, blank=True)
    # CS-01: a serious or crisis ticket is solved with a refund and/or a compensation coupon;
    # without either the agent writes down why neither was needed.
    no_remedy_reason = models.CharField(_("无需退款或补偿的原因"), max_length=500, blank=True)
    reopened_count = models.PositiveIntegerField(_("重开次数"), default=0)

    class Meta:
        verbose_name = _("客服工单")
        verbose_name_plural = _("客服工单")
        ordering = ("-opened_at", "-id")
        permissions = [("supervise_ticket", _("客服主管：改派他人工单"))]
        indexes = [
            models.Index(fields=("store", "status", "opened_at")),
            models.Index(fields=("store", "medium", "opened_at"), name="ticket_store_medium_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]), name="ticket_status_valid"
            ),
            models.CheckConstraint(condition=Q(tier__in=[t.value for t in Tier]), name="ticket_tier_valid"),
            models.CheckConstraint(
                condition=~Q(status__in=["resolved", "closed"]) | Q(resolved_at__isnull=False),
                name="ticket_resolved_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def next_due_at(self) -> dt.datetime | None:
        """The nearest deadline still running (for the desk's SLA timer)."""
        if self.status not in (TicketStatus.OPEN, TicketStatus.IN_PROGRESS):
            return (
                self.statement_due_at
                if self.tier == Tier.CRISIS and not self.statement_published_at
                else None
            )
        dues = [self.resolution_due_at]
        if self.first_response_at is None:
            dues.append(self.response_due_at)
            if self.chat_response_due_at is not None:
                dues.append(self.chat_response_due_at)
        if self.tier == Tier.CRISIS and self.statement_published_at is None and self.statement_due_at:
            dues.append(self.statement_due_at)
        return min(dues)

    @property
    def is_overdue(self) -> bool:
        due = self.next_due_at
        return due is not None and due < timezone.now()


class Author(models.TextChoices):
    CUSTOMER = "customer", _("顾客")
    AGENT = "agent", _("客服")
    BOT = "bot", _("自动回复")


class TicketMessage(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author_kind = models.CharField(_("发送方"), max_length=10, choices=Author.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("内容"))
    script = models.ForeignKey(
        "ReplyScript",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("话术"),
    )
    sent_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("工单消息")
        verbose_name_plural = _("工单消息")
        ordering = ("sent_at", "id")

    def __str__(self) -> str:
        return f"{self.author_kind}: {self.body[:30]}"


class TicketTransfer(models.Model):
    """A change of owner (首问负责制: recorded, only by the owner or a supervisor)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="transfers")
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("原因"), max_length=200)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("工单转交")
        verbose_name_plural = _("工单转交")
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"#{self.ticket_id} → {self.to_user_id}"


class ServiceNotification(models.Model):
    """Every message the service app sent: crisis alerts to the emergency group (CS-01) and
    review invitations to customers (LOG-02)."""

    class Kind(models.TextChoices):
        CRISIS = "crisis", _("危机升级通知")
        REVIEW_INVITATION = "review_invitation", _("评价邀请")

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    invitation = models.ForeignKey(
        "ReviewInvitation", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    channel = models.CharField(_("通知方式"), max_length=40)
    recipient = models.CharField(_("接收人"), max_length=200)
    ok = models.BooleanField(default=True)
    error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("客服通知记录")
        verbose_name_plural = _("客服通知记录")
        ordering = ("-sent_at", "-id")

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} → {self.recipient}"


class ReplyScript(models.Model):
    """A reply in the scripts library (话术库). ``keywords`` drive the FAQ suggestion; an
    ``auto_answer`` script answers a matching customer message by itself when unambiguous."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    title = models.CharField(_("标题"), max_length=100)
    category = models.CharField(_("分类"), max_length=12, choices=TicketCategory.choices, blank=True)
    keywords = models.JSONField(_("关键词"), default=list, blank=True)
    body = models.TextField(_("内容"))
    is_quick = models.BooleanField(_("快捷回复"), default=False)
    auto_answer = models.BooleanField(_("自动回答"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    uses = models.PositiveIntegerField(_("使用次数"), default=0)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("话术")
        verbose_name_plural = _("话术库")
        ordering = ("title", "id")
        constraints = [
            models.UniqueConstraint(fields=("store", "title"), name="reply_script_title_per_store")
        ]

    def __str__(self) -> str:
        return self.title


class ComplaintReport(models.Model):
    """A stored root-cause report of one period (CS-04): generated weekly and on demand."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    period_start = models.DateTimeField(_("开始"))
    period_end = models.DateTimeField(_("结束"))
    generated_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    data = models.JSONField(_("报告"), default=dict)

    class Meta:
        verbose_name = _("客诉分析报告")
        verbose_name_plural = _("客诉分析报告")
        ordering = ("-period_start", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("store", "period_start", "period_end"), name="complaint_report_once"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=models.F("period_start")), name="complaint_report_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.period_start:%Y-%m-%d}"


class Review(models.Model):
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+", verbose_name=_("渠道"))
    order_ref = models.CharField(_("订单号"), max_length=64, db_index=True)
    sku_code = models.CharField(_("SKU编码"), max_length=64)
    customer_ref = models.CharField(_("顾客"), max_length=64)
    rating = models.PositiveSmallIntegerField(_("评分"))
    text = models.TextField(_("评价内容"), blank=True)
    images = models.JSONField(_("图片"), default=list, blank=True)
    created_at = models.DateTimeField(_("评价时间"), default=timezone.now, db_index=True)
    reward_coupon = models.CharField(_("奖励券码"), max_length=32, blank=True)
    reward_note = models.CharField(_("奖励说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_5"),
            models.UniqueConstraint(
                fields=("channel", "order_ref", "sku_code"), name="review_once_per_order_sku"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_ref} {self.sku_code} {self.rating}★"


class AttackStep(models.TextChoices):
    """RISK-02: the mass negative-review attack playbook, in this order."""

    EVIDENCE = "evidence", _("保全证据")
    APPEAL = "appeal", _("平台申诉")
    COMMUNICATE = "communicate", _("对外沟通")


class ReviewAttack(models.Model):
    """RISK-02: a burst of negative reviews (``review_attack_count`` rated at most
    ``review_attack_max_rating`` within ``review_attack_window_hours``), opened when a review
    completes the burst; later negative reviews within the window of it join as evidence.
    It stays open until the three playbook steps are recorded (preserve evidence → appeal to
    the platform → communicate), each with who, when and what was done."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    reviews = models.ManyToManyField(Review, related_name="attacks", verbose_name=_("差评"))
    first_review_at = models.DateTimeField(_("首条差评时间"))
    last_review_at = models.DateTimeField(_("最近差评时间"))
    detected_at = models.DateTimeField(_("发现时间"), default=timezone.now)
    closed_at = models.DateTimeField(_("处置完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("恶意差评攻击")
        verbose_name_plural = _("恶意差评攻击")
        ordering = ("-detected_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(last_review_at__gte=models.F("first_review_at")), name="review_attack_span"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.first_review_at:%Y-%m-%d %H:%M}"


class ReviewAttackStep(models.Model):
    """One playbook step done on an attack: who, when, what (the evidence's location, the
    platform's appeal number, what was said publicly)."""

    attack = models.ForeignKey(ReviewAttack, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(_("步骤"), max_length=12, choices=AttackStep.choices)
    note = models.CharField(_("说明"), max_length=1000)
    actor_label = models.CharField(_("操作人"), max_length=150)
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("差评攻击处置步骤")
        verbose_name_plural = _("差评攻击处置步骤")
        ordering = ("at", "id")
        constraints = [
            models.UniqueConstraint(fields=("attack", "step"), name="review_attack_step_once"),
            models.CheckConstraint(
                condition=Q(step__in=[s.value for s in AttackStep]), name="review_attack_step_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.attack_id} {self.step}"


class ReviewInvitation(models.Model):
    """One invitation per delivered order, sent ``review_invite_hours`` after delivery (LOG-02)."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+", verbose_name=_("渠道"))
    order_ref = models.CharField(_("订单号"), max_length=64)
    delivered_at = models.DateTimeField(_("签收时间"))
    due_at = models.DateTimeField(_("应发送时间"))
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    via = models.CharField(_("发送方式"), max_length=20, default="message")
    recipient = models.CharField(_("接收人"), max_length=100)
    text = models.TextField(_("内容"))
    coupon_promised = models.BooleanField(_("承诺送券"), default=False)
    coupon_template_id = models.PositiveIntegerField(_("奖励券模板"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)

    class Meta:
        verbose_name = _("评价邀请")
        verbose_name_plural = _("评价邀请")
        ordering = ("-due_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=("channel", "order_ref"), name="review_invitation_once_per_order"),
        ]

    def __str__(self) -> str:
        return f"{self.order_ref} @ {self.due_at:%Y-%m-%d %H:%M}"


class NpsSource(models.TextChoices):
    API = "api", _("接口提交")
    IMPORT = "import", _("文件导入")
    CONSOLE = "console", _("手工录入")


class NpsResponse(models.Model):
    """One answer to "how likely are you to recommend us to a friend (0–10)?" (净推荐值, DATA-01),
    from the web shop or a survey tool (API or file) or typed in after a phone survey (回访).
    ``external_ref`` is the survey tool's answer id: the same answer is never counted twice;
    an order (``order_ref``) is asked once."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="+", null=True, blank=True, verbose_name=_("渠道")
    )
    score = models.PositiveSmallIntegerField(_("推荐意愿（0–10）"))
    comment = models.TextField(_("意见"), blank=True)
    customer_ref = models.CharField(_("顾客"), max_length=64, blank=True)
    order_ref = models.CharField(_("订单号"), max_length=64, blank=True)
    external_ref = models.CharField(_("答卷编号"), max_length=64, blank=True)
    source = models.CharField(_("来源"), max_length=10, choices=NpsSource.choices)
    responded_at = models.DateTimeField(_("答卷时间"), db_index=True)
    created_at = models.DateTimeField(_("录入时间"), default=timezone.now, editable=False)
    created_by = models.CharField(_("录入人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("NPS 答卷")
        verbose_name_plural = _("NPS 答卷")
        ordering = ("-responded_at", "-id")
        indexes = [models.Index(fields=("store", "responded_at"), name="nps_store_time")]
        constraints = [
            models.CheckConstraint(condition=Q(score__lte=10), name="nps_score_0_10"),
            models.UniqueConstraint(
                fields=("store", "external_ref"), condition=~Q(external_ref=""), name="nps_answer_once"
            ),
            models.UniqueConstraint(
                fields=("store", "order_ref"), condition=~Q(order_ref=""), name="nps_once_per_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.score} @ {self.responded_at:%Y-%m-%d}"


class IncidentStatus(models.TextChoices):
    ONGOING = "ongoing", _("故障中")
    RECOVERED = "recovered", _("已恢复")
    CLOSED = "closed", _("已关闭")


class Incident(models.Model):
    """RISK-04: a system failure (故障) and its playbook — failover, a notice to the customers it
    touched, a compensation coupon — each step recorded with who did it and when. The customers
    touched are those who ordered on the affected channels while it lasted."""

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("店铺"))
    title = models.CharField(_("故障"), max_length=200)
    description = models.CharField(_("现象与影响"), max_length=2000, blank=True)
    channels = models.ManyToManyField(Channel, blank=True, related_name="+", verbose_name=_("受影响渠道"))
    started_at = models.DateTimeField(_("开始时间"))
    ended_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=IncidentStatus.choices, default=IncidentStatus.ONGOING
    )
    failover_note = models.CharField(_("切换措施"), max_length=500, blank=True)
    failover_at = models.DateTimeField(_("切换时间"), null=True, blank=True)
    notice_text = models.CharField(_("通知内容"), max_length=500, blank=True)
    noticed_at = models.DateTimeField(_("通知时间"), null=True, blank=True)
    noticed_count = models.PositiveIntegerField(_("已通知顾客数"), default=0)
    compensation_template_id = models.PositiveIntegerField(_("补偿券模板"), null=True, blank=True)
    compensated_at = models.DateTimeField(_("补偿时间"), null=True, blank=True)
    compensated_count = models.PositiveIntegerField(_("已补偿顾客数"), default=0)
    close_note = models.CharField(_("复盘结论"), max_length=1000, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    created_by = models.CharField(_("登记人"), max_length=150)
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("系统故障")
        verbose_name_plural = _("系统故障")
        ordering = ("-started_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="incident_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.title


class IncidentStep(models.Model):
    """The incident's timeline: every step with who did it, when and what it said."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(
        _("步骤"), max_length=20
    )  # open / failover / recover / notice / compensate / close
    note = models.CharField(_("说明"), max_length=1000, blank=True)
    actor_label = models.CharField(_("操作人"), max_length=150)
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("故障处理步骤")
        verbose_name_plural = _("故障处理步骤")
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.incident_id} {self.kind}"
