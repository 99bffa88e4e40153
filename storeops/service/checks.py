"""SOP checks of customer service: complaint deadlines by tier (CS-01), the ticket
resolution target and the chats' first-response share (CS-02) and brand sentiment (RISK-02:
alarm keywords in reviews and messages, mass negative-review attacks until their playbook steps
are recorded). A deadline finding opens when a deadline is within ``ticket_sla_warn_minutes``
(info) and becomes a warning/critical once passed; it resolves itself when the ticket is
answered, resolved or its statement published. RISK-04: the system-failure playbook steps of
every open incident."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
from storeops.service import rules, selectors
from storeops.service.models import Review, ReviewAttack, Ticket, TicketTier
from storeops.sop.registry import (
    CheckContext,
    FindingDraft,
    Schedule,
    Severity,
    msgid,
    register_check,
    titled,
)

_KIND_LABELS = {  # untranslated: the finding's title is rendered in each reader's language
    rules.SlaKind.RESPONSE: gettext_noop("首次响应"),
    rules.SlaKind.RESOLUTION: gettext_noop("解决"),
    rules.SlaKind.STATEMENT: gettext_noop("危机公开声明"),
}


def _severity(ticket: Ticket, breach: rules.SlaBreach) -> Severity:
    if breach.state == rules.SlaState.DUE_SOON:
        return Severity.INFO
    if ticket.tier in (rules.Tier.SERIOUS, rules.Tier.CRISIS):
        return Severity.CRITICAL
    return Severity.WARNING


def _draft(ticket: Ticket, breach: rules.SlaBreach) -> FindingDraft:
    if breach.state == rules.SlaState.OVERDUE:
        key = gettext_noop("工单 #%(id)s（%(tier)s）%(kind)s：已超时 %(m)s 分钟 — %(subject)s")
    else:
        key = gettext_noop("工单 #%(id)s（%(tier)s）%(kind)s：还剩 %(m)s 分钟 — %(subject)s")
    return FindingDraft(
        subject_key=f"ticket:{ticket.pk}:{breach.kind.value}",
        subject_type="service.ticket",
        subject_id=str(ticket.pk),
        channel_id=ticket.channel_id,
        severity=_severity(ticket, breach),
        due_at=breach.due_at,
        **titled(
            key,
            id=ticket.pk,
            tier=msgid(TicketTier(ticket.tier).label),
            kind={"msgid": _KIND_LABELS[breach.kind]},
            m=breach.minutes,
            subject=ticket.subject[:60],
        ),
        detail={
            "ticket": ticket.pk,
            "kind": breach.kind.value,
            "state": breach.state.value,
            "tier": ticket.tier,
            "due_at": timezone.localtime(breach.due_at).isoformat(),
            "owner": ticket.owner.get_username() if ticket.owner else "",
            "customer": ticket.customer_ref,
            "order_ref": ticket.order_ref,
        },
    )


def _cs01(ticket: Ticket, kind: rules.SlaKind) -> bool:
    """CS-01 owns the tier deadlines: the answer, a serious/crisis ticket's solution, the
    crisis statement. CS-02 owns the resolution target of general tickets."""
    return kind != rules.SlaKind.RESOLUTION or ticket.tier != rules.Tier.GENERAL


def _breaches(ctx: CheckContext, *, cs01: bool) -> Iterator[FindingDraft]:
    """The deadlines are stored on the ticket (from its channel's playbook when it was opened);
    the warning starts the ticket's channel's ``ticket_sla_warn_minutes`` ahead."""
    for ticket in selectors.tickets_sla_watch(store=ctx.store).select_related("owner"):
        warn = ctx.playbook_for(ticket.channel_id).ticket_sla_warn_minutes
        for breach in rules.sla_breaches(selectors.ticket_facts(ticket), ctx.now, warn_minutes=warn):
            if _cs01(ticket, breach.kind) == cs01:
                yield _draft(ticket, breach)


@register_check(
    rule="CS-01", title="客诉分级时效", owner_role=Role.CUSTOMER_SERVICE, schedule=Schedule.FREQUENT
)
def complaint_tier_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Tickets about to miss or past their tier deadline: the first answer (general tier
    hours), a serious or crisis ticket's solution (serious tier hours), a crisis's public
    statement (crisis hours after escalation)."""
    yield from _breaches(ctx, cs01=True)


CHAT_WINDOW = dt.timedelta(hours=24)


def _chat_share(ctx: CheckContext) -> Iterator[FindingDraft]:
    """One finding for the store while the share of the last 24 hours' chats answered within
    ``chat_first_response_seconds`` is below ``chat_first_response_min_share`` (judged once
    ``chat_first_response_min_chats`` chats are due). A 30-second target missed is a staffing
    signal for the lead, not a task on one ticket: by the time a check runs the chat is either
    answered or late, so per-chat findings would only flood the board."""
    pb = ctx.playbook
    report = selectors.chat_response_report(
        store=ctx.store, start=ctx.now - CHAT_WINDOW, end=ctx.now, now=ctx.now
    )
    stats = report.stats
    min_share = pb.chat_first_response_min_share
    if not rules.chat_share_low(stats, min_share=min_share, min_chats=pb.chat_first_response_min_chats):
        return
    share = stats.share or Decimal(0)
    yield FindingDraft(
        subject_key="chat-first-response",
        subject_type="service.ticket",
        severity=Severity.CRITICAL if share < min_share / 2 else Severity.WARNING,
        **titled(
            gettext_noop("近24小时在线聊天 %(s)s 秒内首响仅 %(pct)s%%（%(within)s/%(due)s），低于 %(min)s%%"),
            s=pb.chat_first_response_seconds,
            pct=_pct(share),
            within=stats.within,
            due=stats.due,
            min=_pct(min_share),
        ),
        detail={
            **report.as_dict(pb.chat_first_response_seconds),
            "min_share": str(min_share),
            "window_hours": int(CHAT_WINDOW.total_seconds() // 3600),
        },
    )


def _pct(value: Decimal) -> str:
    return f"{(value * 100).quantize(Decimal('0.1'), ROUND_HALF_UP).normalize():f}"


@register_check(
    rule="CS-02", title="工单解决与在线首响", owner_role=Role.CUSTOMER_SERVICE, schedule=Schedule.FREQUENT
)
def ticket_resolution_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    """General tickets about to miss or past the resolution target (ticket_resolution_hours;
    serious and crisis tickets have a shorter one under CS-01), and the chats' first response:
    one store finding while fewer than ``chat_first_response_min_share`` of the last 24 hours'
    chats were answered within ``chat_first_response_seconds``."""
    yield from _breaches(ctx, cs01=False)
    yield from _chat_share(ctx)


# --- RISK-02: brand sentiment --------------------------------------------------------------------

ATTACK_STEPS = (
    gettext_noop("保全证据：截图并导出这些差评（时间、账号、内容、订单）"),
    gettext_noop("向平台申诉：提交证据，申请删除恶意差评"),
    gettext_noop("对外沟通：在评价下统一回复，必要时发布声明"),
)


def _alarm_review(review: Review, hits: list[str], *, negative_max: int) -> FindingDraft:
    return FindingDraft(
        subject_key=f"review:{review.pk}",
        subject_type="service.review",
        subject_id=str(review.pk),
        channel_id=review.channel_id,
        severity=Severity.CRITICAL if review.rating <= negative_max else Severity.WARNING,
        **titled(
            gettext_noop("评价含舆情关键词（%(words)s）：%(stars)s星，订单 %(order)s — %(text)s"),
            words="、".join(hits),
            stars=review.rating,
            order=review.order_ref,
            text=review.text[:60],
        ),
        detail={
            "review": review.pk,
            "keywords": hits,
            "rating": review.rating,
            "order_ref": review.order_ref,
            "sku": review.sku_code,
            "customer": review.customer_ref,
            "at": timezone.localtime(review.created_at).isoformat(),
        },
        once=True,
    )


def _alarm_ticket(ticket: Ticket, hits: list[str], messages: list[int]) -> FindingDraft:
    return FindingDraft(
        subject_key=f"ticket:{ticket.pk}",
        subject_type="service.ticket",
        subject_id=str(ticket.pk),
        channel_id=ticket.channel_id,
        severity=Severity.CRITICAL,
        **titled(
            gettext_noop("工单 #%(id)s 顾客消息含舆情关键词（%(words)s）— %(subject)s"),
            id=ticket.pk,
            words="、".join(hits),
            subject=ticket.subject[:60],
        ),
        detail={
            "ticket": ticket.pk,
            "keywords": hits,
            "messages": messages,
            "tier": ticket.tier,
            "customer": ticket.customer_ref,
            "order_ref": ticket.order_ref,
        },
        once=True,
    )


@register_check(rule="RISK-02", title="品牌舆情", owner_role=Role.CUSTOMER_SERVICE, schedule=Schedule.HOURLY)
def brand_sentiment_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Reviews and customers' messages of the last ``sentiment_lookback_days`` holding an alarm
    keyword (one finding per review, one per ticket; once a person resolves it, it is not
    raised again), and each mass negative-review attack (``review_attack_count`` reviews rated
    at most ``review_attack_max_rating`` within ``review_attack_window_hours``, opened when the
    review completing the burst is recorded): one critical finding with the reviews as
    evidence that stays open until the playbook's three steps — preserve evidence → appeal →
    communicate — are recorded on the attack. The keywords, the look-back and the rating that
    makes an alarming review critical are the review's (the ticket's) channel's."""
    books = ctx.playbooks()
    # read with every channel's keywords over the longest look-back, then judge each row by its
    # own channel's keywords and look-back
    keywords = tuple(
        dict.fromkeys(k for b in books for k in rules.alarm_keywords(b.sentiment_alarm_keywords))
    )
    since = ctx.now - dt.timedelta(days=max(b.sentiment_lookback_days for b in books))

    def hits_of(channel_id: int | None, text: str, at: dt.datetime) -> list[str]:
        book = ctx.playbook_for(channel_id)
        if at < ctx.now - dt.timedelta(days=book.sentiment_lookback_days):
            return []
        return rules.alarm_hits(text, rules.alarm_keywords(book.sentiment_alarm_keywords))

    for review in selectors.alarm_reviews(store=ctx.store, keywords=keywords, since=since):
        if hits := hits_of(review.channel_id, review.text, review.created_at):
            negative_max = ctx.playbook_for(review.channel_id).review_attack_max_rating
            yield _alarm_review(review, hits, negative_max=negative_max)
    by_ticket: dict[int, tuple[Ticket, list[str], list[int]]] = {}
    for message in selectors.alarm_messages(store=ctx.store, keywords=keywords, since=since):
        hits = hits_of(message.ticket.channel_id, message.body, message.sent_at)
        if not hits:
            continue
        ticket, words, ids = by_ticket.setdefault(message.ticket_id, (message.ticket, [], []))
        words.extend(w for w in hits if w not in words)
        ids.append(message.pk)
    for ticket, words, ids in by_ticket.values():
        yield _alarm_ticket(ticket, words, ids)
    for attack in selectors.review_attacks_open(store=ctx.store):
        yield _attack(attack)


def _attack(attack: ReviewAttack) -> FindingDraft:
    """An attack still being handled: critical until its three steps are recorded."""
    rows = selectors.review_attack_steps(attack)
    missing = [r for r in rows if r.done is None]
    return FindingDraft(
        subject_key=f"review-attack:{attack.pk}",
        subject_type="service.reviewattack",
        subject_id=str(attack.pk),
        severity=Severity.CRITICAL,
        **titled(
            gettext_noop("疑似恶意差评攻击 #%(id)s：%(n)s 条差评（%(since)s 起），处置待完成 %(k)s/3 步"),
            id=attack.pk,
            n=attack.review_count,
            since=timezone.localtime(attack.first_review_at).strftime("%m-%d %H:%M"),
            k=len(missing),
        ),
        detail={
            "attack": attack.pk,
            "reviews": list(attack.reviews.order_by("created_at", "id").values_list("pk", flat=True)),
            "missing": [r.step for r in missing],
            "done": [
                {
                    "step": r.step,
                    "by": r.done.actor_label,
                    "at": timezone.localtime(r.done.at).isoformat(),
                    "note": r.done.note[:200],
                }
                for r in rows
                if r.done is not None
            ],
            "steps": [_(step) for step in ATTACK_STEPS],
        },
    )


@register_check(rule="RISK-04", title="系统故障处置", owner_role=Role.OPERATIONS, schedule=Schedule.FREQUENT)
def incident_playbook_check(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Each incident not closed is a finding listing the playbook steps still missing
    (failover, notice, compensation, close). Customers touched but not told within
    ``incident_notice_minutes`` of the start make it critical. Closing resolves it."""
    from storeops.service.services import incident_affected_orders

    minutes = ctx.playbook.incident_notice_minutes
    for incident in selectors.incidents_open(store=ctx.store):
        touched = len(incident_affected_orders(incident, now=ctx.now))
        notice_due = incident.started_at + dt.timedelta(minutes=minutes)
        missing = []
        if incident.failover_at is None and incident.status == "ongoing":
            missing.append("failover")
        if incident.noticed_at is None and touched:
            missing.append("notice")
        if incident.compensated_at is None and touched:
            missing.append("compensate")
        missing.append("close")
        late_notice = "notice" in missing and ctx.now >= notice_due
        if late_notice:
            key = gettext_noop("故障「%(title)s」已超过 %(m)s 分钟未通知受影响顾客（%(n)s 位）")
        elif incident.status == "ongoing":
            key = gettext_noop("故障「%(title)s」处理中：待完成 %(k)s 项处置")
        else:
            key = gettext_noop("故障「%(title)s」已恢复：待完成 %(k)s 项处置（补偿、复盘关闭）")
        yield FindingDraft(
            subject_key=f"incident:{incident.pk}",
            subject_type="service.incident",
            subject_id=str(incident.pk),
            **titled(key, title=incident.title, m=minutes, n=touched, k=len(missing)),
            severity=Severity.CRITICAL if late_notice else Severity.WARNING,
            due_at=notice_due if "notice" in missing else None,
            detail={"missing": missing, "customers_touched": touched, "status": incident.status},
        )
