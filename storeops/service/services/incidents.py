"""RISK-04: the system-failure playbook. An incident is opened when something fails (payment,
site, order sync…); its steps are recorded as they happen: the failover (what was switched),
recovery, the notice to the customers it touched, their compensation coupon, and the close
with its post-mortem. Notices and coupons are idempotent per customer: running them again
(e.g. after more affected orders appear) reaches only the customers not yet reached.

The customers touched are those who ordered on the affected channels (all channels when none
is named) between the start and the recovery (or now): their latest order in that window is
the one the notice is sent through (``orders.services.customer_notify``, purpose
``incident:<id>``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record
from storeops.core.context import Actor
from storeops.core.errors import Conflict, NotFound, ValidationError
from storeops.core.text import clean_text
from storeops.orders import selectors as order_selectors
from storeops.orders import services as order_services
from storeops.promotions import selectors as promo_selectors
from storeops.promotions import services as promo_services
from storeops.service.models import Incident, IncidentStatus, IncidentStep
from storeops.stores.models import Store
from storeops.stores.selectors import channel_list, playbook_get

NOTICE_CHANNELS = ("sms", "message")


def _step(incident: Incident, actor: Actor, kind: str, note: str, at: dt.datetime) -> None:
    IncidentStep.objects.create(
        incident=incident, kind=kind, note=note[:1000], actor_label=actor.label[:150], at=at
    )
    audit_record(
        actor=actor,
        action=f"incident.{kind}",
        obj=incident,
        store_id=incident.store_id,
        after={"status": incident.status, "note": note[:300]},
    )


def _locked(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().get(pk=incident.pk)


def _not_closed(incident: Incident) -> None:
    if incident.status == IncidentStatus.CLOSED:
        raise Conflict(_("故障已关闭"), code="incident_closed")


def incident_open(
    *,
    actor: Actor,
    store: Store,
    title: str,
    started_at: dt.datetime,
    description: str = "",
    channel_ids: Sequence[int] = (),
    now: dt.datetime | None = None,
) -> Incident:
    """Open an incident. ``channel_ids``: the channels it touches (none: all of the store's)."""
    now = now or timezone.now()
    title = clean_text(title, "title", limit=200)
    description = clean_text(description, "description", limit=2000, required=False)
    if started_at > now + dt.timedelta(minutes=5):
        raise ValidationError(_("故障信息有误"), fields={"started_at": _("开始时间不能晚于现在")})
    known = {c.pk: c for c in channel_list(store=store)}
    unknown = [c for c in channel_ids if c not in known]
    if unknown:
        raise ValidationError(_("故障信息有误"), fields={"channel_ids": _("渠道不属于该店铺")})
    with transaction.atomic():
        incident = Incident.objects.create(
            store=store,
            title=title,
            description=description,
            started_at=started_at,
            created_by=actor.label[:150],
            created_at=now,
        )
        incident.channels.set([known[c] for c in channel_ids])
        _step(incident, actor, "open", title, now)
    return incident


def incident_failover(
    *, actor: Actor, incident: Incident, note: str, now: dt.datetime | None = None
) -> Incident:
    """Record the failover: what was switched (backup payment gateway, read-only mode…)."""
    now = now or timezone.now()
    note = clean_text(note, "note", limit=500)
    with transaction.atomic():
        locked = _locked(incident)
        _not_closed(locked)
        locked.failover_note, locked.failover_at = note, now
        locked.save(update_fields=["failover_note", "failover_at"])
        _step(locked, actor, "failover", note, now)
    return locked


def incident_recover(
    *, actor: Actor, incident: Incident, ended_at: dt.datetime, note: str = "", now: dt.datetime | None = None
) -> Incident:
    """The failure is over at ``ended_at`` (the window of affected orders ends there)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(incident)
        if locked.status != IncidentStatus.ONGOING:
            raise Conflict(_("故障不在进行中"), code="invalid_transition")
        errors = {}
        if ended_at < locked.started_at:
            errors["ended_at"] = _("恢复时间不能早于开始时间")
        if ended_at > now + dt.timedelta(minutes=5):
            errors["ended_at"] = _("恢复时间不能晚于现在")
        if errors:
            raise ValidationError(_("故障信息有误"), fields=errors)
        locked.ended_at, locked.status = ended_at, IncidentStatus.RECOVERED
        locked.save(update_fields=["ended_at", "status"])
        when = timezone.localtime(ended_at).strftime("%Y-%m-%d %H:%M")
        text = (note or "").strip()[:500]
        _step(locked, actor, "recover", _("恢复于 %(t)s") % {"t": when} + (f"：{text}" if text else ""), now)
    return locked


def incident_affected_orders(incident: Incident, *, now: dt.datetime | None = None) -> list[Any]:
    """Each touched customer's latest order in the incident's window (one per customer)."""
    now = now or timezone.now()
    return order_selectors.orders_in_window(
        incident.store,
        since=incident.started_at,
        until=incident.ended_at or now,
        channel_ids=list(incident.channels.values_list("pk", flat=True)),
    )


def _purpose(incident: Incident) -> str:
    return f"incident:{incident.pk}"


def incident_notify(
    *, actor: Actor, incident: Incident, text: str, channel: str = "sms", now: dt.datetime | None = None
) -> int:
    """Tell every touched customer not told yet; returns how many were told now."""
    now = now or timezone.now()
    text = clean_text(text, "text", limit=500)
    if channel not in NOTICE_CHANNELS:
        raise ValidationError(_("未知的通知方式"), fields={"channel": _("只能是短信或站内信")})
    with transaction.atomic():
        locked = _locked(incident)
        _not_closed(locked)
        told = order_selectors.customers_notified(locked.store, purpose=_purpose(locked))
        sent = 0
        for order in incident_affected_orders(locked, now=now):
            if order.customer_ref in told:
                continue
            order_services.customer_notify(
                actor=actor, order=order, purpose=_purpose(locked), channel=channel, text=text, now=now
            )
            sent += 1
        locked.notice_text = text
        locked.noticed_at = locked.noticed_at or now
        locked.noticed_count += sent
        locked.save(update_fields=["notice_text", "noticed_at", "noticed_count"])
        _step(locked, actor, "notice", _("已通知 %(n)s 位顾客：%(t)s") % {"n": sent, "t": text}, now)
    return sent


def incident_compensate(
    *, actor: Actor, incident: Incident, template_id: int | None = None, now: dt.datetime | None = None
) -> int:
    """Issue the compensation coupon to every touched customer not compensated yet: the given
    template, else the playbook's ``incident_compensation_coupon_template``. Returns how many
    coupons were issued now; customers the template refuses (limits, quantity) are listed in
    the step's note."""
    now = now or timezone.now()
    template_id = template_id or playbook_get(store=incident.store).incident_compensation_coupon_template
    if not template_id:
        raise ValidationError(
            _("未配置故障补偿券模板"),
            fields={"template_id": _("请选择优惠券模板，或在运营手册中配置故障补偿券模板")},
        )
    try:
        template = promo_selectors.coupon_template_get(store=incident.store, template_id=template_id)
    except NotFound:
        raise ValidationError(_("补偿券模板不存在"), fields={"template_id": _("补偿券模板不存在")}) from None
    with transaction.atomic():
        locked = _locked(incident)
        _not_closed(locked)
        refs = [o.customer_ref for o in incident_affected_orders(locked, now=now)]
        issued, skipped = 0, {}
        if refs:
            result = promo_services.coupon_issue_batch(
                actor=actor, template=template, customer_refs=refs, issue_key=_purpose(locked), now=now
            )
            issued, skipped = len(result.issued), result.skipped
        locked.compensation_template_id = template.pk
        locked.compensated_at = locked.compensated_at or now
        locked.compensated_count += issued
        locked.save(update_fields=["compensation_template_id", "compensated_at", "compensated_count"])
        note = _("发放补偿券 %(n)s 张（模板 %(t)s）") % {"n": issued, "t": template.name}
        if skipped:
            note += _("；未发放 %(n)s 位") % {"n": len(skipped)}
        _step(locked, actor, "compensate", note, now)
    return issued


def incident_close(
    *, actor: Actor, incident: Incident, note: str, now: dt.datetime | None = None
) -> Incident:
    """Close a recovered incident with its post-mortem (cause, what changes)."""
    now = now or timezone.now()
    note = clean_text(note, "note", limit=1000)
    with transaction.atomic():
        locked = _locked(incident)
        if locked.status != IncidentStatus.RECOVERED:
            raise Conflict(_("请先记录恢复时间，再关闭故障"), code="invalid_transition")
        locked.status, locked.close_note, locked.closed_at = IncidentStatus.CLOSED, note, now
        locked.save(update_fields=["status", "close_note", "closed_at"])
        _step(locked, actor, "close", note, now)
    return locked
