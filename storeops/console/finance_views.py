"""Console pages of payment reconciliation (支付对账, ORD-06) for finance: the daily ledger
(collected, refunded, net per day and provider, the day's statement beside it) with the
statement upload form, and a statement compared line by line with "apply" for a collection
whose callback was lost. Every action calls :mod:`storeops.orders.reconcile`. And the
marketplaces' settlement reports (平台结算对账): a list with the upload form and a report
compared with the channel's orders (:mod:`storeops.orders.settlements`)."""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from storeops.console.views import (
    _actor,
    _base_context,
    _int,
    console_view,
    error_text,
    form_date,
    querystring,
    store_or_404,
)
from storeops.core.errors import DomainError
from storeops.orders import reconcile, settlements
from storeops.orders.payments import provider_label
from storeops.stores.selectors import playbook_get

if TYPE_CHECKING:
    from storeops.stores.models import Store

ITEMS_PAGE_SIZE = 100
FEES_PAGE_SIZE = 100  # the lines over the agreed fee rate, a page (under ``fpage``)

_RESULTS = {
    "applied": gettext_lazy("已补记支付，订单已付款"),
    "refunded_late": gettext_lazy("订单已关闭或已付款，款项已原路退回"),
    "duplicate": gettext_lazy("这笔支付已处理过"),
}


@console_view("orders.view_paymentstatement")
def ledger(request: HttpRequest) -> HttpResponse:
    return _ledger_page(request, store_or_404(request))


def _ledger_page(request: HttpRequest, store: Store, *, sent: dict[str, str] | None = None) -> HttpResponse:
    """The ledger with its upload form; ``sent``: an upload refused (422), shown again with the
    provider, format and date as chosen (a browser never keeps the file)."""
    provider = request.GET.get("provider", "").strip()
    errors = ""
    try:
        start, end = reconcile.ledger_period(
            form_date(request.GET.get("start")), form_date(request.GET.get("end"))
        )
    except DomainError as exc:
        errors = error_text(exc)
        start, end = reconcile.ledger_period(None, None)
    rows = reconcile.ledger(store=store, start=start, end=end, provider=provider)
    if request.GET.get("format") == "xlsx" and not errors and sent is None:
        return _ledger_xlsx(store, rows, start, end)
    page = Paginator(rows, 31).get_page(_int(request.GET.get("page")))
    providers = reconcile.provider_choices()
    return render(
        request,
        "console/finance_ledger.html",
        _base_context(
            request,
            page=page,
            totals=reconcile.totals(rows),
            deposits_kept=reconcile.deposits_kept(store=store, start=start, end=end),
            filters={"start": start.isoformat(), "end": end.isoformat(), "provider": provider},
            period_error=errors,
            providers=providers,
            formats=reconcile.FORMAT_CHOICES,
            querystring=querystring(request),
            can_import=request.user.has_perm("orders.reconcile_payments"),
            sent=sent or {},
        ),
        status=422 if errors or sent is not None else 200,
    )


def _ledger_xlsx(store: Store, rows: list[reconcile.LedgerRow], start: dt.date, end: dt.date) -> HttpResponse:
    """The ledger as a workbook: one row per day and provider, amounts as numbers (¥ format),
    the period's totals last."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("收支对账")[:31]
    sheet.append([store.name, f"{start:%Y-%m-%d} – {end:%Y-%m-%d}"])
    sheet.append(
        [_("日期"), _("支付渠道"), _("收款笔数"), _("收款金额"), _("其中定金"), _("退款笔数"), _("退款金额"),
         _("净收款"), _("对账单"), _("渠道结算净额"), _("手续费"), _("差异笔数")]
    )  # fmt: skip
    for r in rows:
        statement = r.statement
        sheet.append(
            [r.day, r.provider_label, r.payments_count, r.payments_amount, r.deposits_amount, r.refunds_count,
             r.refunds_amount, r.net, statement.file_name if statement else _("未导入"),
             statement.net if statement else None, statement.fees if statement else None, r.differences]
        )  # fmt: skip
    sums = reconcile.totals(rows)
    sheet.append(
        [_("合计"), "", sums["payments_count"], sums["payments_amount"], sums["deposits_amount"],
         sums["refunds_count"], sums["refunds_amount"], sums["net"]]
    )  # fmt: skip
    for column in ("D", "E", "G", "H", "J", "K"):
        for cell in sheet[column][2:]:
            cell.number_format = "¥#,##0.00"
    for cell in sheet["A"][2:]:
        cell.number_format = "yyyy-mm-dd"
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="payments-{store.code}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"'
    )
    return response


@console_view("orders.reconcile_payments")
@require_POST
def statement_upload(request: HttpRequest) -> HttpResponse:
    store = store_or_404(request)
    sent = {key: request.POST.get(key, "").strip() for key in ("provider", "file_format", "statement_date")}
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择要导入的对账单文件（.csv 或 .xlsx）"))
        return _ledger_page(request, store, sent=sent)
    try:
        statement = reconcile.statement_import(
            store=store,
            provider=request.POST.get("provider", "").strip(),
            file_name=upload.name or "",
            data=upload.read(),
            file_format=request.POST.get("file_format", ""),
            statement_date=form_date(request.POST.get("statement_date")),
            actor=_actor(request),
        )
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return _ledger_page(request, store, sent=sent)
    messages.success(
        request,
        _("已导入 %(d)s 的对账单：收款 %(p)s 笔，退款 %(r)s 笔")
        % {
            "d": statement.statement_date.isoformat(),
            "p": statement.payments_count,
            "r": statement.refunds_count,
        },
    )
    return HttpResponseRedirect(reverse("console:finance_statement", args=[statement.pk]))


@console_view("orders.view_paymentstatement")
def statement_detail(request: HttpRequest, statement_id: int) -> HttpResponse:
    store = store_or_404(request)
    try:
        statement = reconcile.statement_get(store=store, statement_id=statement_id)
    except DomainError as exc:
        return render(
            request, "console/empty.html", _base_context(request, message=error_text(exc)), status=404
        )
    result = reconcile.reconcile(statement)
    fee_rate = playbook_get(store=store).fee_rate(statement.provider)
    fees_over = reconcile.fees_over_rate(statement, rate=fee_rate)
    show = request.GET.get("show", "differences")
    items = result.differences if show == "differences" else result.items
    page = Paginator(items, ITEMS_PAGE_SIZE).get_page(_int(request.GET.get("page")))
    counts = [
        (key, _(reconcile.MISMATCH_LABELS[key]), result.count(key))
        for key in (*reconcile.DIFFERENCES, reconcile.Mismatch.OTHER_DAY)
    ]
    return render(
        request,
        "console/finance_statement.html",
        _base_context(
            request,
            statement=statement,
            provider_name=provider_label(statement.provider),
            page=page,
            show=show,
            counts=counts,
            matched=result.count("matched"),
            differences=len(result.differences),
            querystring=querystring(request),
            can_apply=request.user.has_perm("orders.reconcile_payments"),
            # every collection over the rate, a page at a time (it listed the first 100)
            fees_over=Paginator(fees_over, FEES_PAGE_SIZE).get_page(_int(request.GET.get("fpage"))),
            fees_querystring=querystring(request, page="fpage"),
            fees_over_count=len(fees_over),
            fees_over_amount=sum((f.over for f in fees_over), reconcile.ZERO),
            fee_rate_percent=f"{fee_rate * 100:.3f}".rstrip("0").rstrip("."),
        ),
    )


@console_view("orders.reconcile_payments")
@require_POST
def statement_apply(request: HttpRequest, statement_id: int) -> HttpResponse:
    store = store_or_404(request)
    back = reverse("console:finance_statement", args=[statement_id])
    try:
        statement = reconcile.statement_get(store=store, statement_id=statement_id)
        reference = request.POST.get("reference", "").strip()
        result = reconcile.statement_apply(statement=statement, reference=reference, actor=_actor(request))
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return HttpResponseRedirect(back)
    messages.success(request, f"{reference}{_('：')}{_RESULTS.get(result, result)}")
    return HttpResponseRedirect(back)


# --- marketplace settlement reports (平台结算对账, ORD-06) ----------------------------------------

SETTLEMENTS_PAGE_SIZE = 50
SETTLEMENT_LIST_PAGE_SIZE = 100  # commissions over the rate (``cpage``), orders not settled (``npage``)


def _paged(rows: list[Any], page: str | None) -> Any:
    return Paginator(rows, SETTLEMENT_LIST_PAGE_SIZE).get_page(_int(page))


def _id(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 12 else None


@console_view("orders.view_settlementreport")
def settlements_page(request: HttpRequest) -> HttpResponse:
    return _settlements_page(request, store_or_404(request))


def _settlements_page(
    request: HttpRequest, store: Store, *, sent: dict[str, str] | None = None
) -> HttpResponse:
    """The channel's settlement reports (paged, by channel) with the upload form; ``sent``: an
    upload refused (422), shown again with the channel and period as chosen."""
    channel = _id(request.GET.get("channel"))
    reports = settlements.settlement_list(store=store, channel_id=channel)
    page = Paginator(reports, SETTLEMENTS_PAGE_SIZE).get_page(_int(request.GET.get("page")))
    return render(
        request,
        "console/finance_settlements.html",
        _base_context(
            request,
            page=page,
            channels=settlements.channel_choices(store=store),
            channel=channel,
            querystring=querystring(request),
            can_import=request.user.has_perm("orders.reconcile_settlements"),
            sent=sent or {},
            max_days=settlements.MAX_PERIOD_DAYS,
            columns={
                **{name: "/".join(names) for name, names in settlements.COLUMNS.items()},
                "refund": "/".join(settlements.REFUND_WORDS),
            },
        ),
        status=422 if sent is not None else 200,
    )


@console_view("orders.reconcile_settlements")
@require_POST
def settlement_upload(request: HttpRequest) -> HttpResponse:
    store = store_or_404(request)
    sent = {key: request.POST.get(key, "").strip() for key in ("channel_id", "period_start", "period_end")}
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择要导入的结算单文件（.csv 或 .xlsx）"))
        return _settlements_page(request, store, sent=sent)
    try:
        report = settlements.settlement_import(
            store=store,
            channel_id=_id(sent["channel_id"]),
            file_name=upload.name or "",
            data=upload.read(),
            period_start=form_date(sent["period_start"]),
            period_end=form_date(sent["period_end"]),
            actor=_actor(request),
        )
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return _settlements_page(request, store, sent=sent)
    messages.success(
        request,
        _("已导入 %(c)s %(p)s 的结算单：%(n)s 行")
        % {"c": report.channel.name, "p": report.period, "n": report.lines_count},
    )
    return HttpResponseRedirect(reverse("console:finance_settlement", args=[report.pk]))


@console_view("orders.view_settlementreport")
def settlement_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    store = store_or_404(request)
    try:
        report = settlements.settlement_get(store=store, report_id=report_id)
    except DomainError as exc:
        return render(
            request, "console/empty.html", _base_context(request, message=error_text(exc)), status=404
        )
    result = settlements.reconcile(report)
    rate = settlements.commission_rate(report)
    over = settlements.commission_over(report, rate=rate)
    missing = settlements.report_not_settled(report)
    show = request.GET.get("show", "differences")
    items = result.differences if show == "differences" else result.items
    page = Paginator(items, ITEMS_PAGE_SIZE).get_page(_int(request.GET.get("page")))
    counts = [
        (key, _(settlements.MISMATCH_LABELS[key]), result.count(key)) for key in settlements.DIFFERENCES
    ]
    return render(
        request,
        "console/finance_settlement.html",
        _base_context(
            request,
            report=report,
            page=page,
            show=show,
            counts=counts,
            matched=result.count("matched"),
            differences=len(result.differences),
            querystring=querystring(request),
            # every line over the rate and every order not settled, a page at a time each
            commission_over=_paged(over, request.GET.get("cpage")),
            commission_querystring=querystring(request, page="cpage"),
            commission_over_count=len(over),
            commission_over_amount=sum((c.over for c in over), settlements.ZERO),
            rate_percent=f"{rate * 100:.3f}".rstrip("0").rstrip("."),
            not_settled=_paged(missing, request.GET.get("npage")),
            not_settled_querystring=querystring(request, page="npage"),
            not_settled_count=len(missing),
            not_settled_amount=sum((m.amount for m in missing), settlements.ZERO),
        ),
    )
