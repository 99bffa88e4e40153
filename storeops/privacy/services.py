"""Writes of DATA-09: record a customer's personal-data request, answer it with a copy of
their data, delete their data, or refuse the request with the reason. Every step is in the
operation log; the log keeps what was done (counts), never the personal data itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from storeops.audit.services import audit_record, snapshot
from storeops.behaviour import privacy as behaviour_privacy
from storeops.core.context import Actor
from storeops.core.errors import Conflict, ValidationError
from storeops.core.text import clean_text
from storeops.fulfilment import privacy as fulfilment_privacy
from storeops.members import privacy as members_privacy
from storeops.orders import privacy as orders_privacy
from storeops.outreach import privacy as outreach_privacy
from storeops.privacy import selectors
from storeops.privacy.models import DataRequest, RequestKind, RequestStatus
from storeops.service import privacy as service_privacy
from storeops.stores.models import Store
from storeops.stores.selectors import playbook_get


def request_open(
    *,
    actor: Actor,
    store: Store,
    customer_ref: str,
    kind: str,
    received_via: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> DataRequest:
    """Record a request received from the customer; it is due ``privacy_request_days`` later."""
    now = now or timezone.now()
    if kind not in RequestKind.values:
        raise ValidationError(_("未知的请求类型"), fields={"kind": _("可选：查阅/复制、删除")})
    request = DataRequest(
        store=store,
        customer_ref=clean_text(customer_ref, "customer_ref", limit=64),
        kind=kind,
        received_via=clean_text(received_via, "received_via", limit=100, required=False),
        note=clean_text(note, "note", limit=2000, required=False),
        received_at=now,
        due_at=now + dt.timedelta(days=playbook_get(store=store).privacy_request_days),
        created_by=actor.label,
    )
    with transaction.atomic():
        request.save()
        audit_record(
            actor=actor,
            action="privacy.request_open",
            obj=request,
            store_id=store.pk,
            after=snapshot(request),
        )
    return request


def _open(request: DataRequest) -> None:
    if request.status != RequestStatus.OPEN:
        raise Conflict(_("该请求已处理（%(status)s）") % {"status": request.get_status_display()})


def _close(actor: Actor, request: DataRequest, action: str, now: dt.datetime, **changes: Any) -> DataRequest:
    before = snapshot(request)
    for name, value in changes.items():
        setattr(request, name, value)
    request.completed_at = now
    request.completed_by = actor.label
    request.save()
    audit_record(
        actor=actor,
        action=action,
        obj=request,
        store_id=request.store_id,
        before=before,
        after=snapshot(request),
    )
    return request


def request_export(
    *, actor: Actor, request: DataRequest, now: dt.datetime | None = None
) -> dict[str, list[dict[str, Any]]]:
    """The customer's personal data (the copy to send them). Producing it is logged (who, when,
    how many records); an open access request is then done."""
    now = now or timezone.now()
    data = selectors.personal_data(store=request.store, customer_ref=request.customer_ref)
    counts = {key: len(rows) for key, rows in data.items()}
    with transaction.atomic():
        request = DataRequest.objects.select_for_update().get(pk=request.pk)
        if request.kind == RequestKind.ACCESS and request.status == RequestStatus.OPEN:
            _close(actor, request, "privacy.request_answer", now, status=RequestStatus.DONE, outcome=counts)
        else:
            audit_record(
                actor=actor,
                action="privacy.export",
                obj=request,
                store_id=request.store_id,
                after={"records": counts},
            )
    return data


def request_erase(*, actor: Actor, request: DataRequest, now: dt.datetime | None = None) -> DataRequest:
    """Delete the customer's personal data everywhere at once (or nothing, on any error).
    Refused while the customer has unfinished orders or open tickets: their address and their
    messages are still needed; the request stays open until they are done."""
    now = now or timezone.now()
    with transaction.atomic():
        request = DataRequest.objects.select_for_update().get(pk=request.pk)
        _open(request)
        if request.kind != RequestKind.ERASE:
            raise Conflict(_("这是查阅/复制请求，不能据此删除个人信息"), code="not_an_erase_request")
        store, ref = request.store, request.customer_ref
        blockers = selectors.erase_blockers(store=store, customer_ref=ref)
        if blockers:
            raise Conflict(
                _("顾客还有未完成的订单或处理中的工单，完成后才能删除：%(items)s")
                % {"items": "、".join(item for items in blockers.values() for item in items)},
                fields=blockers,
                code="privacy_unfinished_business",
            )
        numbers = orders_privacy.order_numbers(store, ref)
        erased: dict[str, int] = {}
        erased |= members_privacy.erase(store, ref)
        erased |= fulfilment_privacy.erase(store, numbers)
        erased |= orders_privacy.erase(store, ref)
        erased |= outreach_privacy.erase(store, ref, by=actor.label)
        erased |= service_privacy.erase(store, ref)
        erased |= behaviour_privacy.erase(store, ref)
        return _close(actor, request, "privacy.erase", now, status=RequestStatus.DONE, outcome=erased)


def request_refuse(
    *, actor: Actor, request: DataRequest, reason: str, now: dt.datetime | None = None
) -> DataRequest:
    """Refuse with the reason told to the customer (e.g. their identity could not be verified)."""
    now = now or timezone.now()
    reason = clean_text(reason, "reason", limit=500, message=_("请填写拒绝理由（会告知顾客）"))
    with transaction.atomic():
        request = DataRequest.objects.select_for_update().get(pk=request.pk)
        _open(request)
        return _close(
            actor, request, "privacy.refuse", now, status=RequestStatus.REFUSED, refusal_reason=reason
        )
