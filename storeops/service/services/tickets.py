"""Tickets and complaints (CS-01/02): open, messages (agent reply, customer message with FAQ
auto-answer), transfer (首问负责制), escalate (crisis → emergency group + statement deadline),
statement, resolve (optional compensation coupon through promotions), close, reopen.
Transitions follow :data:`rules.TRANSITIONS`; anything else is :class:`InvalidTransition`."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.accounts.roles import Role
from storeops.audit.services import audit_record, snapshot
from storeops.core.context import Actor
from storeops.core.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from storeops.members import selectors as member_selectors
from storeops.promotions import selectors as promo_selectors
from storeops.promotions import services as promo_services
from storeops.service import rules
from storeops.service.models import (
    Author,
    ReplyScript,
    ServiceNotification,
    Ticket,
    TicketCategory,
    TicketKind,
    TicketMedium,
    TicketMessage,
    TicketStatus,
    TicketTransfer,
)
from storeops.service.selectors import script_matcher
from storeops.sop.notify import Message, configured_channels
from storeops.stores.models import Channel, Store
from storeops.stores.playbook import PlaybookSettings
from storeops.stores.selectors import playbook_get

log = logging.getLogger("storeops.service")


SUPERVISE = "service.supervise_ticket"
HANDLE = "service.change_ticket"
# Who is alerted when a complaint becomes a crisis (CS-01 "emergency group").
EMERGENCY_ROLES = (Role.OWNER, Role.OPERATIONS, Role.MARKETING, Role.CUSTOMER_SERVICE)


def sla_policy(playbook: PlaybookSettings) -> rules.SlaPolicy:
    return rules.SlaPolicy(
        general_hours=playbook.complaint_general_hours,
        serious_hours=playbook.complaint_serious_hours,
        crisis_hours=playbook.complaint_crisis_hours,
        resolution_hours=playbook.ticket_resolution_hours,
        chat_first_response_seconds=playbook.chat_first_response_seconds,
        warn_minutes=playbook.ticket_sla_warn_minutes,
        high_value_response_minutes=playbook.segment_high_value_response_minutes,
    )


def _locked(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _transition(ticket: Ticket, action: rules.Action) -> str:
    to = rules.next_status(rules.Status(ticket.status), action)
    if to is None:
        raise InvalidTransition(
            _("工单当前状态为「%(status)s」，不能执行此操作") % {"status": ticket.get_status_display()},
            fields={"status": ticket.status},
        )
    return to.value


def _can_supervise(actor: Actor, supervisor: bool | None) -> bool:
    if supervisor is not None:
        return supervisor
    return actor.user is None or bool(actor.user.has_perm(SUPERVISE))


def _user_or_none(actor: Actor) -> Any:
    return actor.user if actor.user is not None and actor.user.pk else None


# ---- tickets -----------------------------------------------------------------------------------


def ticket_open(
    *,
    actor: Actor,
    store: Store,
    channel: Channel,
    customer_ref: str,
    subject: str,
    category: str,
    tier: str = rules.Tier.GENERAL,
    kind: str = TicketKind.COMPLAINT,
    medium: str = TicketMedium.OTHER,
    order_ref: str = "",
    sku_code: str = "",
    message: str = "",
    opened_at: dt.datetime | None = None,
) -> Ticket:
    """Open a ticket. The agent who opens it is its first-contact owner (首问负责制); a ticket
    that arrives without an agent (system, integration) is owned by the first agent who replies.
    ``message`` is the customer's words, recorded as the first customer message. A ticket
    opened as a crisis is escalated at once (emergency group alerted). A chat (``medium``)
    owes its first answer within the playbook's ``chat_first_response_seconds`` (CS-02). A
    ticket of a high-value member (MEM-04, the latest segment snapshot on the member row) is
    marked ``high_value`` (专属客服: first in the queue) and answered within
    ``segment_high_value_response_minutes``."""
    errors: dict[str, str] = {}
    if channel.store_id != store.pk:
        errors["channel"] = _("渠道不属于该店铺")
    customer_ref, subject, order_ref, sku_code = (
        customer_ref.strip(),
        subject.strip(),
        order_ref.strip(),
        sku_code.strip(),
    )
    if not customer_ref or len(customer_ref) > 64:
        errors["customer_ref"] = _("顾客编号为 1–64 个字符")
    if not subject or len(subject) > 200:
        errors["subject"] = _("主题为 1–200 个字符")
    if category not in TicketCategory.values:
        errors["category"] = _("未知的分类")
    if tier not in rules.Tier.__members__.values():
        errors["tier"] = _("未知的级别")
    if kind not in TicketKind.values:
        errors["kind"] = _("未知的类型")
    if medium not in TicketMedium.values:
        errors["medium"] = _("未知的接入方式")
    if len(order_ref) > 64:
        errors["order_ref"] = _("最多 64 个字符")
    if len(sku_code) > 64:
        errors["sku_code"] = _("最多 64 个字符")
    if errors:
        raise ValidationError(_("工单信息有误，未保存"), fields=errors)
    now = opened_at or timezone.now()
    tier_value = rules.Tier(tier)
    policy = sla_policy(playbook_get(store=store, channel=channel))
    high_value = member_selectors.member_is_high_value(store, customer_ref)
    due = rules.deadlines(
        tier=tier_value,
        opened_at=now,
        escalated_at=None,
        policy=policy,
        chat=medium == TicketMedium.CHAT,
        high_value=high_value,
    )
    crisis = tier_value == rules.Tier.CRISIS
    with transaction.atomic():
        ticket = Ticket.objects.create(
            store=store,
            channel=channel,
            kind=kind,
            medium=medium,
            category=category,
            tier=tier_value.value,
            subject=subject,
            customer_ref=customer_ref,
            high_value=high_value,
            order_ref=order_ref,
            sku_code=sku_code,
            owner=_user_or_none(actor),
            opened_at=now,
            response_due_at=due.response,
            chat_response_due_at=due.chat_response,
            resolution_due_at=due.resolution,
            escalated=crisis,
            escalated_at=now if crisis else None,
            statement_due_at=due.statement,
        )
        if message.strip():
            TicketMessage.objects.create(
                ticket=ticket, author_kind=Author.CUSTOMER, body=message.strip(), sent_at=now
            )
        audit_record(actor=actor, action="ticket.open", obj=ticket, store_id=store.pk, after=snapshot(ticket))
        if crisis:
            _alert_emergency_group(ticket, actor=actor, reason=message.strip() or subject)
    return ticket


def _first_customer_time(ticket: Ticket) -> dt.datetime:
    first = (
        TicketMessage.objects.filter(ticket=ticket, author_kind=Author.CUSTOMER)
        .order_by("sent_at", "id")
        .values_list("sent_at", flat=True)
        .first()
    )
    return first or ticket.opened_at


def _record_first_response(ticket: Ticket, at: dt.datetime) -> list[str]:
    if ticket.first_response_at is not None:
        return []
    ticket.first_response_at = at
    ticket.first_response_seconds = max(0, int((at - _first_customer_time(ticket)).total_seconds()))
    return ["first_response_at", "first_response_seconds"]


def ticket_reply(
    *,
    actor: Actor,
    ticket: Ticket,
    body: str,
    script: ReplyScript | None = None,
    at: dt.datetime | None = None,
) -> TicketMessage:
    """An agent's reply. The first one is the first response (CS-02, timed from the first
    customer message) and moves an open ticket to in progress; an unowned ticket becomes the
    replying agent's (首问负责制)."""
    body = body.strip()
    if not body:
        raise ValidationError(_("请填写回复内容"), fields={"body": _("必填")})
    if script is not None and script.store_id != ticket.store_id:
        raise ValidationError(_("话术不属于该店铺"), fields={"script_id": _("话术不属于该店铺")})
    now = at or timezone.now()
    with transaction.atomic():
        locked = _locked(ticket)
        if locked.status == TicketStatus.CLOSED:
            raise InvalidTransition(_("工单已关闭，请先重开"), fields={"status": locked.status})
        before = {
            "status": locked.status,
            "owner": locked.owner_id,
            "first_response_at": locked.first_response_at,
        }
        changed = _record_first_response(locked, now)
        if locked.status == TicketStatus.OPEN:
            locked.status = _transition(locked, rules.Action.START)
            changed.append("status")
        if locked.owner_id is None and _user_or_none(actor) is not None:
            locked.owner = actor.user
            changed.append("owner")
        if changed:
            locked.save(update_fields=changed)
        msg = TicketMessage.objects.create(
            ticket=locked,
            author_kind=Author.AGENT,
            author=_user_or_none(actor),
            body=body,
            script=script,
            sent_at=now,
        )
        if script is not None:
            ReplyScript.objects.filter(pk=script.pk).update(uses=F("uses") + 1)
        audit_record(
            actor=actor,
            action="ticket.reply",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after={
                "status": locked.status,
                "owner": locked.owner_id,
                "first_response_at": locked.first_response_at,
                "message": msg.pk,
            },
        )
    ticket.refresh_from_db()
    return msg


@dataclass(frozen=True, slots=True)
class CustomerMessageResult:
    message: TicketMessage
    auto_answer: TicketMessage | None = None
    suggestions: list[rules.ScriptMatch] = field(default_factory=list)


def ticket_customer_message(
    *, actor: Actor, ticket: Ticket, body: str, at: dt.datetime | None = None, auto_answer: bool = True
) -> CustomerMessageResult:
    """A customer's message (from a channel integration or typed in by an agent). On an
    inquiry, an unambiguous match with an auto-answer script is answered at once by the bot
    (CS-03 FAQ automation); that answer is the inquiry's first response. Complaints always wait
    for a person."""
    body = body.strip()
    if not body:
        raise ValidationError(_("请填写消息内容"), fields={"body": _("必填")})
    now = at or timezone.now()
    with transaction.atomic():
        locked = _locked(ticket)
        if locked.status == TicketStatus.CLOSED:
            raise InvalidTransition(_("工单已关闭，请先重开"), fields={"status": locked.status})
        msg = TicketMessage.objects.create(ticket=locked, author_kind=Author.CUSTOMER, body=body, sent_at=now)
        suggestions = script_matcher(store=locked.store).match(body, category="")
        choice = rules.auto_answer_choice(suggestions)
        bot = None
        if auto_answer and choice is not None and locked.kind == TicketKind.INQUIRY:
            script = ReplyScript.objects.get(pk=choice.script_id)
            text = rules.render_script(
                script.body, {"customer": locked.customer_ref, "order": locked.order_ref}
            )
            bot = TicketMessage.objects.create(
                ticket=locked, author_kind=Author.BOT, body=text, script=script, sent_at=now
            )
            ReplyScript.objects.filter(pk=script.pk).update(uses=F("uses") + 1)
            changed = _record_first_response(locked, now)
            if changed:
                locked.save(update_fields=changed)
        audit_record(
            actor=actor,
            action="ticket.customer_message",
            obj=locked,
            store_id=locked.store_id,
            after={"message": msg.pk, "auto_answer": bot.script_id if bot else None},
        )
    ticket.refresh_from_db()
    return CustomerMessageResult(message=msg, auto_answer=bot, suggestions=suggestions)


def ticket_transfer(
    *, actor: Actor, ticket: Ticket, to_user: Any, reason: str, supervisor: bool | None = None
) -> TicketTransfer:
    """Hand a ticket to another agent. 首问负责制: only its owner or a supervisor
    (``service.supervise_ticket``) may do it; every transfer is recorded."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("请填写转交原因"), fields={"reason": _("必填")})
    if to_user is None or not to_user.is_active or not to_user.has_perm(HANDLE):
        raise ValidationError(_("接收人不能处理客服工单"), fields={"to_user_id": _("接收人没有客服工单权限")})
    with transaction.atomic():
        locked = _locked(ticket)
        if locked.status == TicketStatus.CLOSED:
            raise InvalidTransition(_("工单已关闭，请先重开"), fields={"status": locked.status})
        me = _user_or_none(actor)
        is_owner = locked.owner_id is None or (me is not None and me.pk == locked.owner_id)
        if not is_owner and not _can_supervise(actor, supervisor):
            raise PermissionDenied(_("首问负责制：只有工单负责人或客服主管可以转交"))
        if locked.owner_id == to_user.pk:
            raise ValidationError(_("接收人已是负责人"), fields={"to_user_id": _("接收人已是负责人")})
        transfer = TicketTransfer.objects.create(
            ticket=locked, from_user_id=locked.owner_id, to_user=to_user, by_user=me, reason=reason[:200]
        )
        before = {"owner": locked.owner_id}
        locked.owner = to_user
        locked.save(update_fields=["owner"])
        audit_record(
            actor=actor,
            action="ticket.transfer",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after={"owner": to_user.pk, "reason": reason},
        )
    ticket.refresh_from_db()
    return transfer


def ticket_escalate(
    *, actor: Actor, ticket: Ticket, tier: str, reason: str, at: dt.datetime | None = None
) -> Ticket:
    """Raise a ticket's tier (general → serious → crisis; never down). The new tier's deadline
    runs from now unless the old one is sooner. A crisis alerts the emergency group on every
    notification channel and owes a public statement within ``complaint_crisis_hours``."""
    if tier not in rules.Tier.__members__.values():
        raise ValidationError(_("未知的级别"), fields={"tier": _("未知的级别")})
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("请填写升级原因"), fields={"reason": _("必填")})
    new_tier = rules.Tier(tier)
    now = at or timezone.now()
    with transaction.atomic():
        locked = _locked(ticket)
        if locked.status not in (TicketStatus.OPEN, TicketStatus.IN_PROGRESS):
            raise InvalidTransition(_("只有处理中的工单可以升级"), fields={"status": locked.status})
        if rules.TIER_RANK[new_tier] <= rules.TIER_RANK[rules.Tier(locked.tier)]:
            raise ValidationError(_("只能升级到更高的级别"), fields={"tier": _("只能升级到更高的级别")})
        policy = sla_policy(playbook_get(store=locked.store, channel=locked.channel))
        due = rules.deadlines(tier=new_tier, opened_at=now, escalated_at=now, policy=policy)
        before = snapshot(locked, ["tier", "escalated", "resolution_due_at", "statement_due_at"])
        locked.tier = new_tier.value
        locked.resolution_due_at = min(locked.resolution_due_at, due.resolution)
        locked.escalated = True
        locked.escalated_at = locked.escalated_at or now
        if new_tier == rules.Tier.CRISIS:
            locked.statement_due_at = due.statement
        locked.save(
            update_fields=["tier", "resolution_due_at", "escalated", "escalated_at", "statement_due_at"]
        )
        audit_record(
            actor=actor,
            action="ticket.escalate",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after={**snapshot(locked, ["tier", "escalated", "resolution_due_at", "statement_due_at"])},
            note=reason[:200],
        )
        if new_tier == rules.Tier.CRISIS:
            _alert_emergency_group(locked, actor=actor, reason=reason)
    ticket.refresh_from_db()
    return ticket


def _alert_emergency_group(ticket: Ticket, *, actor: Actor, reason: str) -> int:
    """Tell every active user of the emergency roles, on every notification channel; each send
    is recorded (a broken channel does not stop the others). Returns messages sent."""
    users = list(
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[r.value for r in EMERGENCY_ROLES])
        .distinct()
        .order_by("pk")
    )
    due = (
        timezone.localtime(ticket.statement_due_at).strftime("%Y-%m-%d %H:%M")
        if ticket.statement_due_at
        else "-"
    )
    subject = _("[StoreOps CS-01] 危机客诉 #%(id)s：%(subject)s") % {
        "id": ticket.pk,
        "subject": ticket.subject,
    }
    body = "\n".join(
        [
            subject,
            f"{_('店铺')}: {ticket.store}",
            f"{_('顾客')}: {ticket.customer_ref}  {_('订单号')}: {ticket.order_ref or '-'}",
            f"{_('原因')}: {reason}",
            f"{_('公开声明截止')}: {due}",
            f"{_('操作人')}: {actor.label}",
        ]
    )
    sent = 0
    for channel in configured_channels():
        recipients = channel.recipients_for(users)
        if not recipients:
            continue
        try:
            channel.send(Message(subject=subject, body=body, recipients=recipients))
            ok, error = True, ""
        except Exception as exc:  # a broken channel must not stop the others
            log.exception("notification channel %s failed", channel.name)
            ok, error = False, str(exc)[:300]
        ServiceNotification.objects.bulk_create(
            ServiceNotification(
                store_id=ticket.store_id,
                kind=ServiceNotification.Kind.CRISIS,
                ticket=ticket,
                channel=channel.name,
                recipient=r[:200],
                ok=ok,
                error=error,
            )
            for r in recipients
        )
        sent += ok
    return sent


def ticket_publish_statement(
    *, actor: Actor, ticket: Ticket, text: str, at: dt.datetime | None = None
) -> Ticket:
    """Record the public statement of a crisis (CS-01: due ``complaint_crisis_hours`` after
    escalation)."""
    text = text.strip()
    if not text:
        raise ValidationError(_("请填写声明内容"), fields={"text": _("必填")})
    with transaction.atomic():
        locked = _locked(ticket)
        if locked.tier != rules.Tier.CRISIS:
            raise InvalidTransition(_("只有危机级工单需要公开声明"), fields={"tier": locked.tier})
        if locked.statement_published_at is not None:
            raise Conflict(_("公开声明已发布"))
        locked.statement = text
        locked.statement_published_at = at or timezone.now()
        locked.save(update_fields=["statement", "statement_published_at"])
        audit_record(
            actor=actor,
            action="ticket.statement",
            obj=locked,
            store_id=locked.store_id,
            after={"statement_published_at": locked.statement_published_at, "statement": text[:500]},
        )
    ticket.refresh_from_db()
    return ticket


def ticket_resolve(
    *,
    actor: Actor,
    ticket: Ticket,
    note: str,
    refund_ref: str = "",
    compensate: bool = False,
    coupon_template_id: int | None = None,
    no_remedy_reason: str = "",
    at: dt.datetime | None = None,
) -> Ticket:
    """Resolve with a note. A serious quality complaint's refund is handled by after-sales:
    its request number is recorded here (``refund_ref``). ``compensate`` issues a compensation
    coupon to the customer through the promotions coupon service: the given template, else the
    playbook's ``complaint_compensation_coupon_template``. If the coupon cannot be issued,
    nothing is saved.

    CS-01: a serious or crisis ticket is solved with a refund and/or a compensation coupon
    (one already issued on an earlier resolution counts); with neither, the agent must write
    why none was needed (``no_remedy_reason``), else it is a 422 and nothing is saved."""
    note = note.strip()
    refund_ref = refund_ref.strip()
    no_remedy_reason = no_remedy_reason.strip()
    errors: dict[str, str] = {}
    if not note:
        errors["note"] = _("请填写处理结果")
    if len(refund_ref) > 64:
        errors["refund_ref"] = _("最多 64 个字符")
    if len(no_remedy_reason) > 500:
        errors["no_remedy_reason"] = _("最多 500 个字符")
    if errors:
        raise ValidationError(_("处理信息有误，未保存"), fields=errors)
    now = at or timezone.now()
    with transaction.atomic():
        locked = _locked(ticket)
        status = _transition(locked, rules.Action.RESOLVE)
        if rules.remedy_missing(
            tier=rules.Tier(locked.tier),
            refund_ref=refund_ref,
            coupon=compensate or bool(locked.compensation_coupon),
            reason=no_remedy_reason,
        ):
            need = _("严重/危机客诉须退款或发补偿券；都不需要时请写明原因")
            raise ValidationError(
                _("严重客诉的解决方案须为退款和/或补偿券（CS-01），未保存"),
                fields={"refund_ref": need, "compensate": need, "no_remedy_reason": need},
                code="remedy_required",
            )
        before = snapshot(
            locked, ["status", "resolved_at", "resolution_note", "refund_ref", "no_remedy_reason"]
        )
        coupon_code = ""
        if compensate:
            coupon_code = _compensation_coupon(actor, locked, coupon_template_id, now)
        locked.status = status
        locked.resolved_at = now
        locked.resolution_note = note
        locked.refund_ref = refund_ref
        locked.compensation_coupon = coupon_code or locked.compensation_coupon
        locked.no_remedy_reason = no_remedy_reason
        locked.save(
            update_fields=[
                "status",
                "resolved_at",
                "resolution_note",
                "refund_ref",
                "compensation_coupon",
                "no_remedy_reason",
            ]
        )
        audit_record(
            actor=actor,
            action="ticket.resolve",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after={
                **snapshot(
                    locked, ["status", "resolved_at", "resolution_note", "refund_ref", "no_remedy_reason"]
                ),
                "compensation_coupon": coupon_code,
            },
        )
    ticket.refresh_from_db()
    return ticket


def _compensation_coupon(actor: Actor, ticket: Ticket, template_id: int | None, now: dt.datetime) -> str:
    template_id = (
        template_id
        or playbook_get(store=ticket.store, channel=ticket.channel).complaint_compensation_coupon_template
    )
    if not template_id:
        raise ValidationError(
            _("未配置客诉补偿券模板"),
            fields={"coupon_template_id": _("请选择优惠券模板，或在运营手册中配置补偿券模板")},
        )
    try:
        template = promo_selectors.coupon_template_get(store=ticket.store, template_id=template_id)
    except NotFound:
        raise ValidationError(
            _("补偿券模板不存在"), fields={"coupon_template_id": _("补偿券模板不存在")}
        ) from None
    try:
        coupon = promo_services.coupon_issue(
            actor=actor,
            template=template,
            customer_ref=ticket.customer_ref,
            issue_key=f"ticket:{ticket.pk}",
            now=now,
        )
    except DomainError as exc:  # say it was the compensation coupon, and what to do
        raise type(exc)(
            _("补偿券「%(t)s」发不出：%(e)s") % {"t": template.name, "e": exc.message},
            fields={"coupon_template_id": _("请选择其他优惠券模板，或不发补偿券")},
            code=exc.code,
        ) from exc
    return str(coupon.code)


def ticket_close(*, actor: Actor, ticket: Ticket, at: dt.datetime | None = None) -> Ticket:
    with transaction.atomic():
        locked = _locked(ticket)
        status = _transition(locked, rules.Action.CLOSE)
        before = {"status": locked.status}
        locked.status = status
        locked.closed_at = at or timezone.now()
        locked.save(update_fields=["status", "closed_at"])
        audit_record(
            actor=actor,
            action="ticket.close",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after={"status": status},
        )
    ticket.refresh_from_db()
    return ticket


def ticket_reopen(*, actor: Actor, ticket: Ticket, reason: str, at: dt.datetime | None = None) -> Ticket:
    """Reopen a resolved or closed ticket (back to in progress). A new resolution deadline
    runs from now by the ticket's tier."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("请填写重开原因"), fields={"reason": _("必填")})
    now = at or timezone.now()
    with transaction.atomic():
        locked = _locked(ticket)
        status = _transition(locked, rules.Action.REOPEN)
        policy = sla_policy(playbook_get(store=locked.store, channel=locked.channel))
        due = rules.deadlines(tier=rules.Tier(locked.tier), opened_at=now, escalated_at=None, policy=policy)
        before = snapshot(locked, ["status", "resolved_at", "closed_at", "resolution_due_at"])
        locked.status = status
        locked.resolved_at = None
        locked.closed_at = None
        locked.resolution_due_at = due.resolution
        locked.reopened_count += 1
        locked.save(
            update_fields=["status", "resolved_at", "closed_at", "resolution_due_at", "reopened_count"]
        )
        audit_record(
            actor=actor,
            action="ticket.reopen",
            obj=locked,
            store_id=locked.store_id,
            before=before,
            after=snapshot(locked, ["status", "resolved_at", "closed_at", "resolution_due_at"]),
            note=reason[:200],
        )
    ticket.refresh_from_db()
    return ticket
