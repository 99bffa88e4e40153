"""Outreach writes (MEM-06): templates, consent, campaigns and their sending, delivery
receipts and conversion attribution. Every change made by a person is audited; sending writes
one :class:`Message` row per customer of the audience (sent, or suppressed with the reason).

Sending is at most once per customer and campaign: the message rows of a batch are committed
*before* the gateway is called (a crash between the two leaves a row marked sent that the
gateway never got, never a second SMS on the retry), and a campaign resumes where it stopped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record
from storeops.catalog.selectors import banned_word_errors
from storeops.core.context import Actor
from storeops.core.errors import Conflict, NotFound, ValidationError
from storeops.core.text import clean_text
from storeops.orders import selectors as order_selectors
from storeops.outreach import audiences, rules
from storeops.outreach.gateway import senders_for
from storeops.outreach.models import (
    AudienceKind,
    Campaign,
    CampaignStatus,
    Consent,
    ConsentSource,
    ConsentStatus,
    Message,
    MessageStatus,
    MessageTemplate,
    OutreachChannel,
)
from storeops.stores.models import Store
from storeops.stores.playbook import PlaybookSettings
from storeops.stores.selectors import playbook_get

BATCH = 500  # customers per transaction while sending
INLINE_LIMIT = 2000  # a campaign start sends this many at once; the rest goes on in the task
MAX_LIST = 50_000  # customers in one list audience
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_SENT = (MessageStatus.SENT, MessageStatus.DELIVERED)


# --- templates --------------------------------------------------------------------------------


def template_create(
    *, actor: Actor, store: Store, code: str, name: str, channel: str, body: str, subject: str = ""
) -> MessageTemplate:
    code = (code or "").strip().lower()
    errors: dict[str, str] = {}
    if not _CODE.match(code):
        errors["code"] = _("编码只能用小写字母、数字、-、_，最长 40 个字符")
    if channel not in OutreachChannel.values:
        errors["channel"] = _("只能是短信、邮件或App推送")
    body = (body or "").strip()
    if not body:
        errors["body"] = _("必填")
    elif len(body) > 500:
        errors["body"] = _("最多 500 个字符")
    else:
        try:
            unknown = rules.unknown_placeholders(body)
        except ValueError:
            errors["body"] = _("花括号不成对：占位符写作 {product}")
        else:
            if unknown:
                errors["body"] = _("未知的占位符：%(names)s（可用：%(known)s）") % {
                    "names": ", ".join(sorted(unknown)),
                    "known": ", ".join(sorted(rules.PLACEHOLDERS)),
                }
    if channel in (OutreachChannel.EMAIL, OutreachChannel.PUSH) and not (subject or "").strip():
        errors["subject"] = _("邮件和推送需要标题")
    # LIST-02: the message copy against the store's banned-word list (catalog's scanner)
    for field_name, message in banned_word_errors(
        store=store, texts={"subject": subject or "", "body": body}
    ).items():
        errors.setdefault(field_name, message)
    if errors:
        raise ValidationError(_("模板有误"), fields=errors)
    if MessageTemplate.objects.filter(store=store, code=code).exists():
        raise ValidationError(_("模板编码已存在"), fields={"code": _("模板编码已存在")})
    with transaction.atomic():
        template = MessageTemplate.objects.create(
            store=store,
            code=code,
            name=clean_text(name, "name", limit=100),
            channel=channel,
            subject=clean_text(subject, "subject", limit=100, required=False),
            body=body,
        )
        audit_record(
            actor=actor,
            action="outreach.template_create",
            obj=template,
            store_id=store.pk,
            after={"code": code},
        )
    return template


def template_set_active(*, actor: Actor, template: MessageTemplate, active: bool) -> MessageTemplate:
    """Enable or disable a template. A template whose copy contains a word of the store's
    current banned-word list (LIST-02, e.g. one added since it was created) is not enabled."""
    if active and not template.is_active:
        errors = banned_word_errors(
            store=template.store, texts={"subject": template.subject, "body": template.body}
        )
        if errors:
            raise ValidationError(_("模板含广告法禁用词，不能启用"), fields=errors)
    if template.is_active != active:
        template.is_active = active
        template.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="outreach.template_active",
            obj=template,
            store_id=template.store_id,
            after={"is_active": active},
        )
    return template


# --- consent ----------------------------------------------------------------------------------


def consent_set(
    *,
    actor: Actor,
    store: Store,
    customer_ref: str,
    channel: str,
    opted_in: bool,
    source: str,
    address: str = "",
    now: dt.datetime | None = None,
) -> Consent:
    """Record a customer's opt-in or opt-out on one channel (the latest statement wins)."""
    customer_ref = clean_text(customer_ref, "customer_ref", limit=64)
    errors: dict[str, str] = {}
    if channel not in OutreachChannel.values:
        errors["channel"] = _("只能是短信、邮件或App推送")
    if source not in ConsentSource.values:
        errors["source"] = _("未知的授权来源")
    address = (address or "").strip()
    if len(address) > 200:
        errors["address"] = _("最多 200 个字符")
    elif address and channel == OutreachChannel.EMAIL and "@" not in address:
        errors["address"] = _("邮箱地址无效")
    elif address and channel == OutreachChannel.SMS and not re.fullmatch(r"\+?\d{7,15}", address):
        errors["address"] = _("手机号无效")
    if errors:
        raise ValidationError(_("授权信息有误"), fields=errors)
    status = ConsentStatus.OPTED_IN if opted_in else ConsentStatus.OPTED_OUT
    now = now or timezone.now()
    with transaction.atomic():
        consent = (
            Consent.objects.select_for_update()
            .filter(store=store, customer_ref=customer_ref, channel=channel)
            .first()
        )
        before = None if consent is None else {"status": consent.status}
        if consent is None:
            consent = Consent(store=store, customer_ref=customer_ref, channel=channel)
        consent.status, consent.source, consent.changed_at, consent.changed_by = (
            status,
            source,
            now,
            actor.label[:150],
        )
        if address:
            consent.address = address
        consent.save()
        audit_record(
            actor=actor,
            action="outreach.consent",
            obj=consent,
            store_id=store.pk,
            before=before,
            after={"status": status, "source": source},
        )
    return consent


# --- campaigns --------------------------------------------------------------------------------


def campaign_create(
    *,
    actor: Actor,
    store: Store,
    name: str,
    template: MessageTemplate,
    audience_kind: str,
    customer_refs: Sequence[str] = (),
    segment: str = "",
    scheduled_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Campaign:
    """A campaign to a list of customers or to a lifecycle segment (MEM-04). Price-drop
    campaigns are created by :func:`price_drop_alerts`, not by hand."""
    now = now or timezone.now()
    if template.store_id != store.pk:
        raise NotFound(_("模板不存在"))
    if not template.is_active:
        raise ValidationError(_("模板已停用"), fields={"template": _("模板已停用")})
    audience: dict[str, object]
    if audience_kind == AudienceKind.LIST:
        refs = sorted({r.strip() for r in customer_refs if r and r.strip()})
        if not refs:
            raise ValidationError(_("请填写顾客名单"), fields={"customer_refs": _("必填")})
        if len(refs) > MAX_LIST:
            raise ValidationError(
                _("名单最多 %(n)s 位顾客") % {"n": MAX_LIST}, fields={"customer_refs": _("名单过长")}
            )
        if any(len(r) > 64 for r in refs):
            raise ValidationError(_("顾客标识最长 64 个字符"), fields={"customer_refs": _("顾客标识过长")})
        audience = {"customer_refs": refs}
    elif audience_kind == AudienceKind.SEGMENT:
        if segment not in audiences.segment_codes():
            raise ValidationError(_("未知的用户分层"), fields={"segment": _("未知的用户分层")})
        audience = {"segment": segment}
    else:
        raise ValidationError(_("受众只能是顾客名单或用户分层"), fields={"audience_kind": _("无效")})
    if scheduled_at is not None and scheduled_at < now - dt.timedelta(minutes=1):
        raise ValidationError(_("计划发送时间已过"), fields={"scheduled_at": _("须晚于现在")})
    with transaction.atomic():
        campaign = Campaign.objects.create(
            store=store,
            name=clean_text(name, "name", limit=200),
            template=template,
            audience_kind=audience_kind,
            audience=audience,
            scheduled_at=scheduled_at,
            status=CampaignStatus.SCHEDULED if scheduled_at else CampaignStatus.DRAFT,
            created_by=actor.label[:150],
            created_at=now,
        )
        audit_record(
            actor=actor,
            action="outreach.campaign_create",
            obj=campaign,
            store_id=store.pk,
            after={"name": campaign.name, "audience_kind": audience_kind, "template": template.code},
        )
    return campaign


def campaign_start(*, actor: Actor, campaign: Campaign, now: dt.datetime | None = None) -> Campaign:
    """Send now — or, inside the quiet hours, schedule for the first allowed minute. The first
    :data:`INLINE_LIMIT` customers are handled at once, the rest by the minute task."""
    now = now or timezone.now()
    book = playbook_get(store=campaign.store)
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            raise Conflict(_("活动已发送或已取消"), code="campaign_not_startable")
        local = timezone.localtime(now)
        allowed = rules.next_send_time(
            local, start_hour=book.outreach_quiet_start_hour, end_hour=book.outreach_quiet_end_hour
        )
        if allowed > local:
            locked.status, locked.scheduled_at = CampaignStatus.SCHEDULED, allowed
            locked.save(update_fields=["status", "scheduled_at"])
            audit_record(
                actor=actor,
                action="outreach.campaign_schedule",
                obj=locked,
                store_id=locked.store_id,
                after={"scheduled_at": allowed.isoformat(), "why": "quiet_hours"},
            )
            return locked
        locked.status, locked.started_at = CampaignStatus.SENDING, now
        locked.save(update_fields=["status", "started_at"])
        audit_record(actor=actor, action="outreach.campaign_start", obj=locked, store_id=locked.store_id)
    return campaign_process(campaign=locked, limit=INLINE_LIMIT, now=now, playbook=book)


def campaign_cancel(*, actor: Actor, campaign: Campaign, note: str = "") -> Campaign:
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.SENDING):
            raise Conflict(_("活动已发送完毕或已取消"), code="campaign_not_cancellable")
        before = locked.status
        locked.status = CampaignStatus.CANCELLED
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "finished_at"])
        audit_record(
            actor=actor,
            action="outreach.campaign_cancel",
            obj=locked,
            store_id=locked.store_id,
            before={"status": before},
            note=note[:300],
        )
    return locked


def _audience(campaign: Campaign) -> list[str]:
    if campaign.audience_kind == AudienceKind.LIST:
        return list(campaign.audience.get("customer_refs", []))
    if campaign.audience_kind == AudienceKind.SEGMENT:
        return audiences.segment_customers(campaign.store, str(campaign.audience.get("segment", "")))
    return list(campaign.audience.get("customer_refs", []))  # price drop: the favouriters, fixed


def _addresses(
    store: Store, channel: str, refs: Sequence[str], consents: dict[str, Consent]
) -> dict[str, str]:
    out = {ref: c.address for ref, c in consents.items() if c.address}
    if channel == OutreachChannel.SMS:
        missing = [r for r in refs if r not in out]
        if missing:
            out.update(order_selectors.customer_phones(store, missing))
    return out


def _recent_counts(store: Store, refs: Sequence[str], since: dt.datetime) -> dict[str, int]:
    rows = (
        Message.objects.filter(store=store, customer_ref__in=refs, status__in=_SENT, sent_at__gte=since)
        .values("customer_ref")
        .annotate(n=Count("id"))
    )
    return {r["customer_ref"]: r["n"] for r in rows}


def campaign_process(
    *,
    campaign: Campaign,
    limit: int | None = None,
    now: dt.datetime | None = None,
    playbook: PlaybookSettings | None = None,
) -> Campaign:
    """Handle up to ``limit`` more customers of a sending campaign; finish it when none is left."""
    now = now or timezone.now()
    book = playbook or playbook_get(store=campaign.store)
    template = campaign.template
    refs = _audience(campaign)
    done = set(Message.objects.filter(campaign=campaign).values_list("customer_ref", flat=True))
    todo = [r for r in refs if r not in done]
    if limit is not None:
        todo = todo[:limit]
    values = {str(k): str(v) for k, v in (campaign.audience.get("values") or {}).items()}
    values.setdefault("store", campaign.store.name)
    optout = book.outreach_sms_optout_text if template.channel == OutreachChannel.SMS else ""
    text = rules.render(template.body, values, optout=optout)
    senders = senders_for(template.channel)
    for start in range(0, len(todo), BATCH):
        batch = todo[start : start + BATCH]
        consents = {
            c.customer_ref: c
            for c in Consent.objects.filter(
                store=campaign.store, channel=template.channel, customer_ref__in=batch
            )
        }
        addresses = _addresses(campaign.store, template.channel, batch, consents)
        recent = _recent_counts(campaign.store, batch, now - dt.timedelta(days=book.outreach_frequency_days))
        rows: list[Message] = []
        to_send: list[tuple[Message, str]] = []
        for ref in batch:
            consent = consents.get(ref)
            address = addresses.get(ref, "")
            skip = rules.decide(
                consent=consent.status if consent else None,
                address=address,
                sent_in_window=recent.get(ref, 0),
                cap=book.outreach_frequency_cap,
            )
            message = Message(
                campaign=campaign,
                store=campaign.store,
                customer_ref=ref,
                channel=template.channel,
                address_masked=rules.mask_address(address) if address else "",
                created_at=now,
            )
            if skip is None:
                message.status, message.sent_at, message.text = MessageStatus.SENT, now, text[:600]
                to_send.append((message, address))
            else:
                message.status, message.reason = MessageStatus.SUPPRESSED, skip.value
            rows.append(message)
        with transaction.atomic():
            locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
            if locked.status != CampaignStatus.SENDING:
                return locked  # cancelled meanwhile
            # another worker may have handled part of this batch meanwhile: the campaign lock
            # serialises batches, so what is on file now is final
            taken = set(
                Message.objects.filter(campaign=locked, customer_ref__in=batch).values_list(
                    "customer_ref", flat=True
                )
            )
            rows = [m for m in rows if m.customer_ref not in taken]
            to_send = [(m, a) for m, a in to_send if m.customer_ref not in taken]
            Message.objects.bulk_create(rows)
            locked.processed = Message.objects.filter(campaign=locked).count()
            locked.audience_size = len(refs)
            locked.save(update_fields=["processed", "audience_size"])
        sent = Message.objects.filter(
            campaign=campaign, customer_ref__in=[m.customer_ref for m, _ in to_send]
        )
        ids = dict(sent.values_list("customer_ref", "id"))
        failed = [
            ids[m.customer_ref]
            for m, address in to_send
            if not any(
                s.send(message_id=ids[m.customer_ref], channel=template.channel, address=address, text=text)
                for s in senders  # the first gateway that accepts carries it; the others are fallbacks
            )
        ]
        if failed:  # refused by the gateway (or no gateway for the channel): no receipt will come
            Message.objects.filter(pk__in=failed).update(status=MessageStatus.FAILED, receipt_at=now)
    campaign.refresh_from_db()
    if campaign.status == CampaignStatus.SENDING and campaign.processed >= len(refs):
        campaign.status, campaign.finished_at, campaign.audience_size = CampaignStatus.SENT, now, len(refs)
        campaign.save(update_fields=["status", "finished_at", "audience_size"])
    return campaign


def campaigns_run_due(*, now: dt.datetime | None = None) -> int:
    """The minute task: start scheduled campaigns that are due (outside the quiet hours) and
    go on with campaigns still sending. Returns how many campaigns were worked on."""
    now = now or timezone.now()
    worked = 0
    for campaign in Campaign.objects.filter(
        Q(status=CampaignStatus.SENDING) | Q(status=CampaignStatus.SCHEDULED, scheduled_at__lte=now)
    ).select_related("store", "template"):
        if campaign.status == CampaignStatus.SCHEDULED:
            campaign_start(actor=Actor.system(), campaign=campaign, now=now)
        else:
            campaign_process(campaign=campaign, limit=INLINE_LIMIT * 5, now=now)
        worked += 1
    return worked


# --- delivery receipts and conversions ---------------------------------------------------------


def receipt_record(
    *, store: Store, message_id: int, delivered: bool, at: dt.datetime | None = None
) -> Message:
    """The gateway's delivery report for one message (idempotent: the first report stands)."""
    at = at or timezone.now()
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(store=store, pk=message_id).first()
        if message is None:
            raise NotFound(_("消息不存在"))
        if message.status == MessageStatus.SUPPRESSED:
            raise Conflict(_("该消息没有发送，不能有回执"), code="message_not_sent")
        if message.receipt_at is None:
            message.status = MessageStatus.DELIVERED if delivered else MessageStatus.FAILED
            message.receipt_at = at
            message.save(update_fields=["status", "receipt_at"])
    return message


def conversions_attribute(*, store: Store, now: dt.datetime | None = None) -> int:
    """Mark each sent message whose customer paid an order within the conversion window after
    it (the first such order; a customer's order converts at most one message — the latest
    before it). Idempotent; returns how many messages were newly marked."""
    now = now or timezone.now()
    book = playbook_get(store=store)
    window = dt.timedelta(days=book.outreach_conversion_days)
    open_messages = list(
        Message.objects.filter(
            # orders can arrive late (marketplace imports): look back two windows
            store=store,
            status__in=_SENT,
            converted_at__isnull=True,
            sent_at__gte=now - 2 * window,
        ).order_by("sent_at", "id")
    )
    if not open_messages:
        return 0
    since = min(m.sent_at for m in open_messages if m.sent_at)
    # an order converts one message: known by its customer and number (numbers are unique
    # per channel only, so the number alone would let one channel's order block another's)
    used = set(
        Message.objects.filter(store=store)
        .exclude(converted_order="")
        .values_list("customer_ref", "converted_order")
    )
    orders = order_selectors.paid_orders_of_customers(
        store, customer_refs={m.customer_ref for m in open_messages}, paid_since=since
    )
    by_customer: dict[str, list[order_selectors.PaidOrder]] = {}
    for order in orders:
        by_customer.setdefault(order.customer_ref, []).append(order)
    marked = 0
    # the latest message before an order gets it: walk messages newest first
    for message in sorted(open_messages, key=lambda m: (m.sent_at, m.pk), reverse=True):
        assert message.sent_at is not None
        for order in by_customer.get(message.customer_ref, []):
            if (order.customer_ref, order.number) in used or not (
                message.sent_at <= order.paid_at <= message.sent_at + window
            ):
                continue
            message.converted_order, message.converted_at, message.converted_amount = (
                order.number,
                order.paid_at,
                order.paid_amount,
            )
            message.save(update_fields=["converted_order", "converted_at", "converted_amount"])
            used.add((order.customer_ref, order.number))
            marked += 1
            break
    return marked


# --- trigger: a favourited item's price drops --------------------------------------------------


def price_drop_alerts(*, store: Store, since: dt.datetime, now: dt.datetime | None = None) -> list[Campaign]:
    """One campaign per price drop worth telling (playbook ``outreach_price_drop_*``), to the
    customers who favourited the product, with the playbook's template. Idempotent per price
    change; sends at once (outside the quiet hours) through :func:`campaign_start`."""
    now = now or timezone.now()
    book = playbook_get(store=store)
    code = book.outreach_price_drop_template
    if not code:
        return []
    template = MessageTemplate.objects.filter(store=store, code=code, is_active=True).first()
    if template is None:
        return []
    from storeops.pricing.selectors import price_drops_since

    done = set(
        Campaign.objects.filter(store=store, audience_kind=AudienceKind.PRICE_DROP).values_list(
            "audience__change_id", flat=True
        )
    )
    created: list[Campaign] = []
    for drop in price_drops_since(store=store, since=since):
        if drop.change_id in done or not rules.is_price_drop(
            drop.old_price,
            drop.new_price,
            min_amount=book.outreach_price_drop_min_cny,
            min_ratio=book.outreach_price_drop_min_ratio,
        ):
            continue
        fans = audiences.favourited_by(store, product_id=drop.product_id, until=drop.at)
        if not fans:
            continue
        amount = drop.old_price - drop.new_price
        try:
            with transaction.atomic():
                campaign = Campaign.objects.create(
                    store=store,
                    name=_("收藏降价提醒：%(p)s") % {"p": drop.product_title[:150]},
                    template=template,
                    audience_kind=AudienceKind.PRICE_DROP,
                    audience={
                        "change_id": drop.change_id,
                        "product_id": drop.product_id,
                        "customer_refs": sorted(fans),
                        "values": {
                            "product": drop.product_title[:40],
                            "drop": _money_text(amount),
                            "price": _money_text(drop.new_price),
                        },
                    },
                    created_by="system",
                    created_at=now,
                )
        except IntegrityError:  # pragma: no cover - a concurrent run created it
            continue
        created.append(campaign_start(actor=Actor.system(), campaign=campaign, now=now))
    return created


def _money_text(amount: Decimal) -> str:
    text = f"{amount:.2f}"
    return text[:-3] if text.endswith(".00") else text


def customers_from_text(text: str) -> list[str]:
    """Customer refs pasted in a form: one per line, or separated by commas / spaces."""
    return [t for t in re.split(r"[\s,，;；]+", text or "") if t]
