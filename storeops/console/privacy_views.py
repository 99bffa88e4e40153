"""Console pages of DATA-09: customers' personal-data requests (查阅/复制, 删除). The list with
its filters and the form to record a request; a request's page shows its due time and what
still blocks deletion, with the actions: download the copy (JSON), delete, refuse with a reason.
Every action calls :mod:`storeops.privacy.services`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from storeops.console.views import (
    PAGE_SIZE,
    _actor,
    _base_context,
    console_view,
    flash_error,
    posted,
    querystring,
    refused,
    store_or_404,
)
from storeops.core.errors import DomainError
from storeops.privacy import selectors, services

if TYPE_CHECKING:
    from storeops.stores.models import Store

_KINDS = (("access", gettext_lazy("查阅/复制")), ("erase", gettext_lazy("删除")))


@console_view("privacy.view_datarequest")
def privacy_requests(request: HttpRequest) -> HttpResponse:
    return _list_page(request, store_or_404(request))


def _list_page(
    request: HttpRequest,
    store: Store,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> HttpResponse:
    status = request.GET.get("status", "open")
    kind = request.GET.get("kind", "")
    q = request.GET.get("q", "")
    if status not in ("open", "done", "refused", "overdue", ""):
        status = "open"
    qs = selectors.requests(store=store, status=status, kind=kind if kind in ("access", "erase") else "", q=q)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "console/privacy_requests.html",
        _base_context(
            request,
            page=page,
            status=status,
            kind=kind,
            q=q,
            now=timezone.now(),
            querystring=querystring(request),
            statuses=[
                ("open", _("待处理")),
                ("overdue", _("已逾期")),
                ("done", _("已完成")),
                ("refused", _("已拒绝")),
                ("", _("全部")),
            ],
            kinds=[("", _("全部类型")), *_KINDS],
            can_open=request.user.has_perm("privacy.add_datarequest"),
            sent=sent or {},
            errors=errors or {},
        ),
        status=code,
    )


@require_POST
@console_view("privacy.add_datarequest")
def privacy_request_open(request: HttpRequest) -> HttpResponse:
    """Record a request; a refused one saves nothing and comes back as typed."""
    store = store_or_404(request)
    sent = posted(request, "customer_ref", "kind", "received_via", "note")
    try:
        created = services.request_open(actor=_actor(request), store=store, **sent)
    except DomainError as exc:
        return _list_page(request, store, sent=sent, errors=refused(request, exc, sent), code=422)
    messages.success(
        request,
        _("已登记顾客 %(c)s 的个人信息请求，请在 %(d)s 前答复")
        % {"c": created.customer_ref, "d": f"{timezone.localtime(created.due_at):%Y-%m-%d %H:%M}"},
    )
    return HttpResponseRedirect(reverse("console:privacy_request_detail", args=[created.pk]))


@console_view("privacy.view_datarequest")
def privacy_request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    store = store_or_404(request)
    found = selectors.request_get(store=store, request_id=request_id)
    is_open = found.status == "open"
    return render(
        request,
        "console/privacy_request_detail.html",
        _base_context(
            request,
            r=found,
            overdue=is_open and found.due_at < timezone.now(),
            outcome=[(selectors.RECORD_LABELS.get(k, k), n) for k, n in found.outcome.items()],
            blockers=(
                selectors.erase_blockers(store=store, customer_ref=found.customer_ref)
                if is_open and found.kind == "erase"
                else {}
            ),
            can_export=request.user.has_perm("privacy.export_personal_data"),
            can_erase=is_open
            and found.kind == "erase"
            and request.user.has_perm("privacy.erase_personal_data"),
            can_refuse=is_open and request.user.has_perm("privacy.change_datarequest"),
        ),
    )


def _detail(request_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("console:privacy_request_detail", args=[request_id]))


@require_POST
@console_view("privacy.export_personal_data")
def privacy_request_export(request: HttpRequest, request_id: int) -> HttpResponse:
    """The copy as a JSON file (UTF-8, readable Chinese) to send to the customer."""
    found = selectors.request_get(store=store_or_404(request), request_id=request_id)
    data = services.request_export(actor=_actor(request), request=found)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2, default=str),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="personal-data-{request_id}.json"'
    return response


@require_POST
@console_view("privacy.erase_personal_data")
def privacy_request_erase(request: HttpRequest, request_id: int) -> HttpResponse:
    found = selectors.request_get(store=store_or_404(request), request_id=request_id)
    try:
        services.request_erase(actor=_actor(request), request=found)
    except DomainError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("已删除顾客 %(c)s 的个人信息") % {"c": found.customer_ref})
    return _detail(request_id)


@require_POST
@console_view("privacy.change_datarequest")
def privacy_request_refuse(request: HttpRequest, request_id: int) -> HttpResponse:
    found = selectors.request_get(store=store_or_404(request), request_id=request_id)
    try:
        services.request_refuse(actor=_actor(request), request=found, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("已拒绝该请求"))
    return _detail(request_id)
