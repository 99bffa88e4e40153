"""Console pages of marketplace order import (issue 6 item 3) and invoices (ORD-07): the upload
form (format detected from the header row) with the list of imports, an import's error table,
and the finance invoice queue with issue / reject / red-letter reversal. Every action calls a
service of :mod:`storeops.orders.imports` or :mod:`storeops.orders.invoices`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from storeops.console.views import (
    PAGE_SIZE,
    _actor,
    _base_context,
    _int,
    _safe_next,
    console_view,
    error_text,
    posted,
    querystring,
    refused,
    store_or_404,
)
from storeops.core.errors import DomainError
from storeops.orders import imports, invoices
from storeops.stores.selectors import channel_list, playbook_get

if TYPE_CHECKING:
    from storeops.stores.models import Store

ERRORS_PAGE_SIZE = 100
IMPORT_REFRESH_SECONDS = 3  # the detail page of a queued / running import reloads itself


def _error_text(exc: DomainError) -> str:
    return error_text(exc)


def _row_error_text(error: imports.RowError) -> str:
    """One bad row of a file, in the reader's language (``str(error)`` is Chinese, for the CLI)."""
    if error.field:
        return _("第%(line)s行 %(field)s：%(message)s") % {
            "line": error.line,
            "field": error.field,
            "message": error.message,
        }
    return _("第%(line)s行：%(message)s") % {"line": error.line, "message": error.message}


# --- imports -------------------------------------------------------------------------------------


@console_view("orders.view_orderimport")
def import_list(request: HttpRequest) -> HttpResponse:
    return _import_list_page(request, store_or_404(request))


def _import_list_page(
    request: HttpRequest, store: Store, *, sent: dict[str, str] | None = None, status_code: int = 200
) -> HttpResponse:
    """The import list with its upload form; ``sent``: an upload refused, shown again with
    the channel, mapping and dry-run choice as chosen (a browser never keeps the file)."""
    status = request.GET.get("status", "").strip()
    channel = request.GET.get("channel", "").strip()
    qs = imports.import_list(
        store=store, status=status or None, channel_id=int(channel) if channel.isdigit() else None
    )
    page = Paginator(qs, PAGE_SIZE).get_page(_int(request.GET.get("page")))
    for record in page.object_list:
        record.format_label = imports.format_label(record.file_format)
    return render(
        request,
        "console/orders_import.html",
        _base_context(
            request,
            page=page,
            filters={"status": status, "channel": channel},
            querystring=querystring(request),
            channels=list(channel_list(store=store)),
            mappings=list(imports.mapping_list(store=store)),
            formats=imports.BUILTIN_FORMATS,
            statuses=imports.STATUS_CHOICES,
            can_import=request.user.has_perm("orders.import_orders"),
            inline_orders=playbook_get(store=store).order_import_inline_orders,
            sent=sent or {},
        ),
        status=status_code,
    )


@console_view("orders.import_orders")
@require_POST
def import_upload(request: HttpRequest) -> HttpResponse:
    store = store_or_404(request)
    sent = {key: request.POST.get(key, "").strip() for key in ("channel", "mapping", "dry_run")}
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择要导入的文件（.csv 或 .xlsx）"))
        return _import_list_page(request, store, sent=sent, status_code=422)
    try:
        channel_id = request.POST.get("channel", "")
        channel = imports.channel_get(store=store, channel_id=int(channel_id) if channel_id.isdigit() else 0)
        report = imports.orders_import(
            actor=_actor(request),
            store=store,
            channel=channel,
            source=upload,
            filename=upload.name or "",
            mapping_name=request.POST.get("mapping", "").strip() or None,
            dry_run=request.POST.get("dry_run") == "1",
            background=True,
        )
    except DomainError as exc:
        messages.error(request, _error_text(exc))
        return _import_list_page(request, store, sent=sent, status_code=422)
    summary = _(
        "格式：%(f)s；%(r)s 行，订单 %(o)s 笔，新建 %(c)s 笔，已存在 %(e)s 笔，缺货未预占 %(u)s 笔"
    ) % {
        "f": imports.format_label(report.file_format) if report.file_format else "-",
        "r": report.rows,
        "o": report.orders_total,
        "c": report.orders_created,
        "e": report.orders_existing,
        "u": report.orders_unreserved,
    }
    if report.failed_writing:
        messages.error(request, report.errors[-1].message)
    elif report.queued:
        messages.info(
            request,
            _("文件较大：订单 %(o)s 笔，其中 %(n)s 笔待导入，已转入后台导入，本页显示进度。")
            % {"o": report.orders_total, "n": report.orders_total - report.orders_existing},
        )
    elif report.errors:
        n = len(report.errors)
        refused = ngettext("有 %(n)s 个错误，未导入任何订单。", "有 %(n)s 个错误，未导入任何订单。", n)
        messages.error(request, refused % {"n": n} + summary)
        if report.dry_run:
            for error in report.errors[:20]:
                messages.error(request, _row_error_text(error))
    elif report.dry_run:
        messages.success(request, _("试运行通过，未写入任何数据。") + summary)
    elif report.orders_created == 0:
        messages.info(request, _("文件中的订单均已导入过。") + summary)
    else:
        messages.success(request, _("导入成功。") + summary)
    if report.record is not None:
        return HttpResponseRedirect(reverse("console:orders_import_detail", args=[report.record.pk]))
    if report.errors:  # a dry run's refusal: its errors above, the form as chosen
        return _import_list_page(request, store, sent=sent, status_code=422)
    return HttpResponseRedirect(reverse("console:orders_import"))


@console_view("orders.view_orderimport")
def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    store = store_or_404(request)
    record = imports.import_get(store=store, import_id=import_id)
    errors = Paginator(list(imports.error_rows(record)), ERRORS_PAGE_SIZE).get_page(
        _int(request.GET.get("page"))
    )
    return render(
        request,
        "console/orders_import_detail.html",
        _base_context(
            request,
            record=record,
            format_label=imports.format_label(record.file_format),
            page=errors,
            querystring=querystring(request),
            refresh_seconds=IMPORT_REFRESH_SECONDS if record.in_progress else 0,
            stall_minutes=int(imports.IMPORT_STALLED_AFTER.total_seconds() // 60),
        ),
    )


# --- invoices (ORD-07) ---------------------------------------------------------------------------


@console_view("orders.view_invoicerequest")
def invoice_queue(request: HttpRequest) -> HttpResponse:
    return _invoice_queue_page(request, store_or_404(request), request.GET)


def _invoice_queue_page(
    request: HttpRequest,
    store: Store,
    params: QueryDict,
    *,
    refused_form: dict[str, Any] | None = None,
) -> HttpResponse:
    """The queue filtered and paged by ``params`` (the page's query string); ``refused_form``:
    a refused issue / reject / reversal (``{"id", "action", "sent", "errors"}``), shown again
    (422) in its row as typed, on the page it was sent from."""
    status = params.get("status", "requested").strip()
    q = params.get("q", "").strip()
    qs = invoices.invoice_list(store=store, status=status or None, q=q)
    page = Paginator(qs, PAGE_SIZE).get_page(_int(params.get("page")))
    form = refused_form or {}
    rows = [
        {
            "i": i,
            "net_paid": invoices.net_paid(i.order),
            "problems": [invoices.FLOW_PROBLEM_LABELS[p] for p in invoices.flow_problems(i)]
            if i.status in invoices.OPEN
            else [],
            "refused": form if form.get("id") == i.pk else {},
        }
        for i in page.object_list
    ]
    query = params.copy()
    query.pop("page", None)
    here = reverse("console:orders_invoices")
    return render(
        request,
        "console/orders_invoices.html",
        _base_context(
            request,
            page=page,
            rows=rows,
            filters={"status": status, "q": q},
            statuses=invoices.STATUS_CHOICES,
            querystring=query.urlencode(),
            can_issue=request.user.has_perm("orders.issue_invoice"),
            # where the row forms send the reader back to: this page with its filters
            next_url=f"{here}?{params.urlencode()}" if params else here,
        ),
        status=422 if refused_form is not None else 200,
    )


# the one field each queue action takes
_INVOICE_ACTION_FIELD = {"issue": "invoice_number", "reject": "reason", "reverse": "reason"}


def _invoice_action(request: HttpRequest, invoice_id: int, action: str) -> HttpResponse:
    store = store_or_404(request)
    back = _safe_next(request, reverse("console:orders_invoices"))
    invoice = invoices.invoice_get(store=store, invoice_id=invoice_id)
    sent = posted(request, _INVOICE_ACTION_FIELD[action])
    try:
        if action == "issue":
            invoices.invoice_issue(
                actor=_actor(request), invoice=invoice, invoice_number=sent["invoice_number"]
            )
            messages.success(request, _("已开票"))
        elif action == "reject":
            invoices.invoice_reject(actor=_actor(request), invoice=invoice, reason=sent["reason"])
            messages.success(request, _("已驳回"))
        else:
            invoices.invoice_reverse(actor=_actor(request), invoice=invoice, reason=sent["reason"])
            messages.success(request, _("已红冲"))
    except DomainError as exc:
        # the queue again, on the page and filters the form came from, the value as typed
        errors = refused(request, exc, sent)
        target = urlsplit(back)
        params = QueryDict(target.query if target.path == reverse("console:orders_invoices") else "")
        return _invoice_queue_page(
            request,
            store,
            params,
            refused_form={"id": invoice.pk, "action": action, "sent": sent, "errors": errors},
        )
    return HttpResponseRedirect(back)


@console_view("orders.issue_invoice")
@require_POST
def invoice_issue(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return _invoice_action(request, invoice_id, "issue")


@console_view("orders.issue_invoice")
@require_POST
def invoice_reject(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return _invoice_action(request, invoice_id, "reject")


@console_view("orders.issue_invoice")
@require_POST
def invoice_reverse(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return _invoice_action(request, invoice_id, "reverse")
