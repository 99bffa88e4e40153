"""Reads of DATA-09: the requests, and a customer's personal data gathered from every app
that holds some (each app's ``privacy`` module knows its own tables)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from storeops.behaviour import privacy as behaviour_privacy
from storeops.core.errors import NotFound
from storeops.fulfilment import privacy as fulfilment_privacy
from storeops.members import privacy as members_privacy
from storeops.orders import privacy as orders_privacy
from storeops.outreach import privacy as outreach_privacy
from storeops.privacy.models import DataRequest, RequestStatus
from storeops.service import privacy as service_privacy
from storeops.stores.models import Store

# the kinds of records a copy holds and a deletion clears (the keys of personal_data and of a
# request's outcome)
RECORD_LABELS = {
    "member": gettext_lazy("会员资料"),
    "member_profiles": gettext_lazy("会员资料"),
    "orders": gettext_lazy("订单收货信息"),
    "invoice_requests": gettext_lazy("发票申请"),
    "shipments": gettext_lazy("包裹地址"),
    "marketing_consents": gettext_lazy("营销授权与联系方式"),
    "marketing_messages": gettext_lazy("营销消息"),
    "service_messages": gettext_lazy("客服留言"),
    "reviews": gettext_lazy("评价"),
    "nps_answers": gettext_lazy("净推荐值问卷意见"),
    "behaviour_events": gettext_lazy("行为事件"),
}


def requests(*, store: Store, status: str = "", kind: str = "", q: str = "") -> QuerySet[DataRequest]:
    """Newest first; ``status`` a status or ``overdue`` (open past its due time)."""
    qs = DataRequest.objects.filter(store=store)
    if status == "overdue":
        qs = qs.filter(status=RequestStatus.OPEN, due_at__lt=timezone.now())
    elif status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if q := q.strip():
        qs = qs.filter(Q(customer_ref__icontains=q) | Q(note__icontains=q))
    return qs.order_by("-received_at", "-pk")


def request_get(*, store: Store, request_id: int) -> DataRequest:
    found = DataRequest.objects.filter(store=store, pk=request_id).first()
    if found is None:
        raise NotFound()
    return found


def requests_overdue(*, store: Store, now: dt.datetime) -> QuerySet[DataRequest]:
    return DataRequest.objects.filter(store=store, status=RequestStatus.OPEN, due_at__lt=now).order_by(
        "due_at"
    )


def personal_data(*, store: Store, customer_ref: str) -> dict[str, list[dict[str, Any]]]:
    """Everything StoreOps holds about the customer that identifies them, by kind of record:
    the copy a customer receives (PIPL art. 45)."""
    numbers = orders_privacy.order_numbers(store, customer_ref)
    data: dict[str, list[dict[str, Any]]] = {}
    data |= members_privacy.personal_data(store, customer_ref)
    data |= orders_privacy.personal_data(store, customer_ref)
    data |= fulfilment_privacy.personal_data(store, numbers)
    data |= outreach_privacy.personal_data(store, customer_ref)
    data |= service_privacy.personal_data(store, customer_ref)
    data |= behaviour_privacy.personal_data(store, customer_ref)
    return data


def erase_blockers(*, store: Store, customer_ref: str) -> dict[str, list[str]]:
    """What must finish before the customer's data can be deleted: unfinished orders (their
    address is still needed) and open service tickets."""
    blockers = {
        "orders": orders_privacy.unfinished(store, customer_ref),
        "tickets": service_privacy.unfinished(store, customer_ref),
    }
    return {k: v for k, v in blockers.items() if v}
