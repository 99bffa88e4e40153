"""DATA-09 API: customers' personal-data requests (查阅/复制, 删除) and their answers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from storeops.accounts.access import perm, principal
from storeops.core.api import OneOf, Page, paginate
from storeops.privacy import selectors, services
from storeops.privacy.models import RequestKind, RequestStatus
from storeops.stores.models import Store

router = Router(tags=["privacy"])


class RequestIn(Schema):
    customer_ref: str
    kind: Annotated[str, OneOf(RequestKind)]
    received_via: str = ""
    note: str = ""


class RefuseIn(Schema):
    reason: str


class RequestOut(Schema):
    id: int
    customer_ref: str
    kind: str
    status: str
    received_via: str
    note: str
    received_at: dt.datetime
    due_at: dt.datetime
    created_by: str
    completed_at: dt.datetime | None
    completed_by: str
    refusal_reason: str
    outcome: dict[str, int]


class RequestDetailOut(RequestOut):
    blockers: dict[str, list[str]]  # what must finish before deletion (unfinished orders, open tickets)


@router.get("/{store_id}/requests", response=Page[RequestOut], auth=perm("privacy.view_datarequest"))
def request_list(
    request: HttpRequest,
    store_id: int,
    status: Annotated[str, OneOf([*RequestStatus.values, "overdue"], blank=True)] = "",
    kind: Annotated[str, OneOf(RequestKind, blank=True)] = "",
    q: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """Requests, newest first; ``status`` a status or ``overdue``; ``q`` searches the customer and note."""
    store = get_object_or_404(Store, pk=store_id)
    return paginate(selectors.requests(store=store, status=status, kind=kind, q=q), page, page_size)


@router.post("/{store_id}/requests", response={201: RequestOut}, auth=perm("privacy.add_datarequest"))
def request_open(request: HttpRequest, store_id: int, payload: RequestIn) -> Any:
    """Record a customer's request; it is due ``privacy_request_days`` (playbook) later."""
    store = get_object_or_404(Store, pk=store_id)
    return Status(201, services.request_open(actor=principal(request).actor, store=store, **payload.dict()))


def _get(store_id: int, request_id: int) -> Any:
    return selectors.request_get(store=get_object_or_404(Store, pk=store_id), request_id=request_id)


@router.get(
    "/{store_id}/requests/{request_id}", response=RequestDetailOut, auth=perm("privacy.view_datarequest")
)
def request_detail(request: HttpRequest, store_id: int, request_id: int) -> Any:
    found = _get(store_id, request_id)
    found.blockers = (
        selectors.erase_blockers(store=found.store, customer_ref=found.customer_ref)
        if found.status == RequestStatus.OPEN and found.kind == RequestKind.ERASE
        else {}
    )
    return found


@router.post(
    "/{store_id}/requests/{request_id}/export",
    response=dict[str, list[dict[str, Any]]],
    auth=perm("privacy.export_personal_data"),
)
def request_export(request: HttpRequest, store_id: int, request_id: int) -> Any:
    """The customer's personal data, by kind of record (the copy to send them). Answers an
    open access request; producing it is in the operation log."""
    return services.request_export(actor=principal(request).actor, request=_get(store_id, request_id))


@router.post(
    "/{store_id}/requests/{request_id}/erase", response=RequestOut, auth=perm("privacy.erase_personal_data")
)
def request_erase(request: HttpRequest, store_id: int, request_id: int) -> Any:
    """Delete the customer's personal data (409 ``privacy_unfinished_business`` while orders or
    tickets are unfinished; nothing is changed then)."""
    return services.request_erase(actor=principal(request).actor, request=_get(store_id, request_id))


@router.post(
    "/{store_id}/requests/{request_id}/refuse", response=RequestOut, auth=perm("privacy.change_datarequest")
)
def request_refuse(request: HttpRequest, store_id: int, request_id: int, payload: RefuseIn) -> Any:
    return services.request_refuse(
        actor=principal(request).actor, request=_get(store_id, request_id), reason=payload.reason
    )
