"""Console pages of DATA-06 operations reports: the list (daily reports and weekly / monthly /
quarterly reviews), generating one on demand, the detail with targets against actuals and
who it was sent to, and the Excel / PDF downloads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from storeops.analytics import exports, reports
from storeops.analytics import services as analytics_services
from storeops.console.views import (
    _actor,
    _base_context,
    console_view,
    flash_error,
    posted,
    posted_day,
    refused,
    store_or_404,
)
from storeops.core.errors import DomainError

if TYPE_CHECKING:
    from storeops.stores.models import Store


@console_view("analytics.view_operationsreport")
def report_list(request: HttpRequest) -> HttpResponse:
    return _reports_page(request, store_or_404(request))


def _reports_page(
    request: HttpRequest,
    store: Store,
    sent: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    code: int = 200,
) -> HttpResponse:
    """The reports; ``sent``: a refused generate form, shown again as typed with ``errors``."""
    kind = request.GET.get("kind", "")
    try:
        qs = reports.report_list(store=store, kind=kind)
    except DomainError as exc:
        flash_error(request, exc)
        kind, qs = "", reports.report_list(store=store)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "console/reports.html",
        _base_context(
            request,
            page=page,
            rows=[{"r": r, "title": reports.report_title(r)} for r in page],
            kind=kind,
            querystring=f"kind={kind}",
            kinds=[("", _("全部")), *reports.REPORT_KIND_CHOICES],
            can_generate=request.user.has_perm("analytics.add_operationsreport"),
            sent=sent or {},
            errors=errors or {},
        ),
        status=code,
    )


@require_POST
@console_view("analytics.add_operationsreport")
def report_generate(request: HttpRequest) -> HttpResponse:
    """Generate a report now; a refused one (an impossible day, a kind that is not one) saves
    nothing and shows the list again (422) with the form as typed."""
    store = store_or_404(request)
    sent = posted(request, "kind", "day")
    try:
        report = analytics_services.report_generate(
            actor=_actor(request), store=store, kind=sent["kind"], day=posted_day(sent)
        )
    except DomainError as exc:
        return _reports_page(request, store, sent=sent, errors=refused(request, exc, sent), code=422)
    messages.success(request, _("已生成：%(t)s") % {"t": reports.report_title(report)})
    return HttpResponseRedirect(reverse("console:report_detail", args=[report.pk]))


@console_view("analytics.view_operationsreport")
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    report = reports.report_get(store=store_or_404(request), report_id=report_id)
    return render(
        request,
        "console/report_detail.html",
        _base_context(
            request,
            report=report,
            title=reports.report_title(report),
            sections=reports.report_rows(report),
            segment_rows=reports.report_segment_rows(report),
            launch_rows=reports.report_launch_rows(report),
            deliveries=list(report.deliveries.all()[:50]),
        ),
    )


@console_view("analytics.view_operationsreport")
def report_download(request: HttpRequest, report_id: int) -> HttpResponse:
    """``format=xlsx`` (default) or ``format=pdf``."""
    report = reports.report_get(store=store_or_404(request), report_id=report_id)
    try:
        body, content_type, filename = exports.report_file(report, request.GET.get("format", "xlsx"))
    except DomainError as exc:
        flash_error(request, exc)
        return HttpResponseRedirect(reverse("console:report_detail", args=[report.pk]))
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
