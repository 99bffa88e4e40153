"""Payment reconciliation for finance (/api/v1/orders/finance, ORD-06).

- ``GET /orders/finance/{store}/ledger?start=&end=&provider=`` — per day and provider: what
  our records collected and refunded, and the day's imported statement with its number of
  differences;
- ``POST /orders/finance/{store}/statements`` (multipart: ``provider``, ``file_format``,
  ``file``, optional ``statement_date``) — import a provider's statement of a day (201; the
  same day again replaces it); a file with rows that cannot be read is a 422 naming them,
  and nothing is imported;
- ``GET /orders/finance/{store}/statements`` and ``GET …/statements/{id}`` (the comparison,
  line by line, differences first, paged; ``fees_over``, paged by ``fees_page``);
- ``POST …/statements/{id}/apply`` ``{"reference": "…"}`` — apply a collection our payment
  missed (its callback was lost), as the provider's callback would have been;
- ``POST /orders/finance/{store}/settlements`` (multipart: ``channel_id``, ``file``, optional
  ``period_start``/``period_end``) — import a marketplace's settlement report of a period
  (201; the same channel and period again replaces it); ``GET …/settlements`` (paged,
  ``?channel_id=``) and ``GET …/settlements/{id}`` (the comparison per order, paged;
  ``commission_over``, paged by ``commission_page``; ``not_settled``, paged by
  ``not_settled_page``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from storeops.accounts.access import perm, principal
from storeops.core.api import OneOf, Page, paginate
from storeops.core.errors import ValidationError
from storeops.orders import reconcile, settlements
from storeops.orders.models import PaymentStatement, SettlementReport, StatementFormat
from storeops.orders.payments import provider_label
from storeops.stores.models import Store
from storeops.stores.selectors import playbook_get

router = Router(tags=["payment-reconciliation"])

MAX_STATEMENT_BYTES = 50 * 1024 * 1024
MAX_DETAIL_ITEMS_PAGE = 500  # lines of a statement / order numbers of a settlement report a page


def _detail_pages(**lists: tuple[Sequence[Any], int, int]) -> dict[str, dict[str, Any]]:
    """The pages of a detail's lists, by their page parameter (``page``, ``fees_page``, …;
    ``page_size`` up to 500). Every bad page parameter is named in one 422."""
    pages: dict[str, dict[str, Any]] = {}
    errors: dict[str, Any] = {}
    for param, (rows, page, page_size) in lists.items():
        try:
            pages[param] = paginate(rows, page, page_size, max_page_size=MAX_DETAIL_ITEMS_PAGE, param=param)
        except ValidationError as e:
            errors.update(e.fields)
    if errors:
        raise ValidationError(_("分页参数有误"), fields=errors)
    return pages


def _store(store_id: int) -> Store:
    return get_object_or_404(Store, pk=store_id)


class StatementOut(Schema):
    id: int
    provider: str
    provider_label: str
    statement_date: dt.date
    file_name: str
    file_format: str
    payments_count: int
    payments_amount: Decimal
    refunds_count: int
    refunds_amount: Decimal
    fees: Decimal
    net: Decimal
    imported_by: str
    imported_at: dt.datetime
    differences: int | None  # when last compared (compared_at); the detail compares afresh
    compared_at: dt.datetime | None


class StatementItemOut(Schema):
    result: str
    result_label: str
    kind: str
    reference: str
    order_number: str
    statement_amount: Decimal | None
    store_amount: Decimal | None
    store_status: str
    settled_on: dt.date | None
    row: int | None
    can_apply: bool


class StatementFeeOverOut(Schema):
    row: int
    reference: str
    amount: Decimal
    fee: Decimal
    expected_fee: Decimal  # the amount at the provider's agreed rate (playbook fee_rate)


class ReconciliationOut(StatementOut):
    differences: int
    counts: dict[str, int]
    items: list[StatementItemOut]
    items_total: int
    page: int
    page_size: int
    fee_rate: Decimal  # the agreed rate the fees were checked against (0: not checked)
    fees_over: list[StatementFeeOverOut]  # one page (fees_page, fees_page_size)
    fees_over_total: int
    fees_page: int
    fees_page_size: int


class MoneyLedgerRowOut(Schema):
    day: dt.date
    provider: str
    provider_label: str
    payments_count: int
    payments_amount: Decimal
    deposits_amount: Decimal
    refunds_count: int
    refunds_amount: Decimal
    net: Decimal
    statement_id: int | None
    statement_net: Decimal | None
    differences: int | None


class MoneyLedgerOut(Schema):
    start: dt.date
    end: dt.date
    rows: list[MoneyLedgerRowOut]
    payments_amount: Decimal
    refunds_amount: Decimal
    net: Decimal
    deposits_kept: Decimal


class ApplyIn(Schema):
    reference: str


class ApplyOut(Schema):
    reference: str
    result: str  # applied (the order is paid) / refunded_late (the money went back) / duplicate


def _statement_out(statement: PaymentStatement) -> dict[str, Any]:
    user = statement.imported_by
    return {
        "id": statement.pk,
        "provider": statement.provider,
        "provider_label": provider_label(statement.provider),
        "statement_date": statement.statement_date,
        "file_name": statement.file_name,
        "file_format": statement.file_format,
        "payments_count": statement.payments_count,
        "payments_amount": statement.payments_amount,
        "refunds_count": statement.refunds_count,
        "refunds_amount": statement.refunds_amount,
        "fees": statement.fees,
        "net": statement.net,
        "imported_by": user.get_username() if user is not None else "",
        "imported_at": statement.imported_at,
        "differences": statement.differences,
        "compared_at": statement.compared_at,
    }


@router.get("/{store_id}/ledger", response=MoneyLedgerOut, auth=perm("orders.view_paymentstatement"))
def ledger(
    request: HttpRequest,
    store_id: int,
    start: dt.date | None = None,
    end: dt.date | None = None,
    provider: str = "",
) -> dict[str, Any]:
    """Money by day and provider (local days, newest first): collected, of which presale
    deposits, refunded, net, and the statement's net and differences when imported."""
    store = _store(store_id)
    start, end = reconcile.ledger_period(start, end)
    rows = reconcile.ledger(store=store, start=start, end=end, provider=provider)
    sums = reconcile.totals(rows)
    return {
        "start": start,
        "end": end,
        "rows": [
            {
                "day": r.day,
                "provider": r.provider,
                "provider_label": r.provider_label,
                "payments_count": r.payments_count,
                "payments_amount": r.payments_amount,
                "deposits_amount": r.deposits_amount,
                "refunds_count": r.refunds_count,
                "refunds_amount": r.refunds_amount,
                "net": r.net,
                "statement_id": r.statement.pk if r.statement else None,
                "statement_net": r.statement.net if r.statement else None,
                "differences": r.differences,
            }
            for r in rows
        ],
        "payments_amount": sums["payments_amount"],
        "refunds_amount": sums["refunds_amount"],
        "net": sums["net"],
        "deposits_kept": reconcile.deposits_kept(store=store, start=start, end=end),
    }


@router.post("/{store_id}/statements", response={201: StatementOut}, auth=perm("orders.reconcile_payments"))
def statement_upload(
    request: HttpRequest,
    store_id: int,
    provider: Form[str],
    file_format: Form[Annotated[str, OneOf(StatementFormat)]],
    file: File[UploadedFile],
    statement_date: Form[dt.date | None] = None,
) -> Status:
    """Import a provider's statement of one day (.csv or .xlsx). Without ``statement_date`` the
    day is the one most rows happened on. The same provider and day again replaces it."""
    store = _store(store_id)
    if file.size and file.size > MAX_STATEMENT_BYTES:
        raise ValidationError(_("文件过大（最大 50 MB）"), fields={"file": _("文件过大")})
    statement = reconcile.statement_import(
        store=store,
        provider=provider.strip(),
        file_name=file.name or "",
        data=file.read(),
        file_format=file_format,
        statement_date=statement_date,
        actor=principal(request).actor,
    )
    return Status(201, _statement_out(statement))


@router.get("/{store_id}/statements", response=Page[StatementOut], auth=perm("orders.view_paymentstatement"))
def statement_list(
    request: HttpRequest,
    store_id: int,
    provider: Annotated[str, OneOf(tuple(settings.STOREOPS_PAYMENT_PROVIDERS), blank=True)] = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    data = paginate(reconcile.statement_list(store=_store(store_id), provider=provider), page, page_size)
    data["items"] = [_statement_out(s) for s in data["items"]]
    return data


def _statement(store_id: int, statement_id: int) -> PaymentStatement:
    return reconcile.statement_get(store=_store(store_id), statement_id=statement_id)


@router.get(
    "/{store_id}/statements/{statement_id}",
    response=ReconciliationOut,
    auth=perm("orders.view_paymentstatement"),
)
def statement_detail(
    request: HttpRequest,
    store_id: int,
    statement_id: int,
    page: int = 1,
    page_size: int = 100,
    fees_page: int = 1,
    fees_page_size: int = 100,
) -> dict[str, Any]:
    """The statement compared with our records, line by line (differences first, ``page_size``
    up to 500 a page), and the collections charged above the agreed fee rate (by row, paged by
    ``fees_page`` and ``fees_page_size``, up to 500 a page)."""
    result = reconcile.reconcile(_statement(store_id, statement_id))
    rate = playbook_get(store=result.statement.store).fee_rate(result.statement.provider)
    pages = _detail_pages(
        page=(result.items, page, page_size),
        fees_page=(reconcile.fees_over_rate(result.statement, rate=rate), fees_page, fees_page_size),
    )
    items, fees = pages["page"], pages["fees_page"]
    counts: dict[str, int] = {}
    for item in result.items:
        counts[item.result] = counts.get(item.result, 0) + 1
    return {
        **_statement_out(result.statement),
        "differences": len(result.differences),
        "counts": counts,
        "items": [
            {
                "result": i.result,
                "result_label": i.label,
                "kind": i.kind,
                "reference": i.reference,
                "order_number": i.order_number,
                "statement_amount": i.statement_amount,
                "store_amount": i.store_amount,
                "store_status": i.store_status,
                "settled_on": i.settled_on,
                "row": i.row,
                "can_apply": i.can_apply,
            }
            for i in items["items"]
        ],
        "items_total": items["total"],
        "page": page,
        "page_size": page_size,
        "fee_rate": rate,
        "fees_over": [
            {
                "row": f.row,
                "reference": f.reference,
                "amount": f.amount,
                "fee": f.fee,
                "expected_fee": f.expected,
            }
            for f in fees["items"]
        ],
        "fees_over_total": fees["total"],
        "fees_page": fees_page,
        "fees_page_size": fees_page_size,
    }


@router.post(
    "/{store_id}/statements/{statement_id}/apply",
    response=ApplyOut,
    auth=perm("orders.reconcile_payments"),
)
def statement_apply(request: HttpRequest, store_id: int, statement_id: int, body: ApplyIn) -> dict[str, Any]:
    """Apply a collection on the statement that our payment never recorded: the order is paid
    if it still can be (``applied``), otherwise the money is refunded at once
    (``refunded_late``)."""
    result = reconcile.statement_apply(
        statement=_statement(store_id, statement_id),
        reference=body.reference.strip(),
        actor=principal(request).actor,
    )
    return {"reference": body.reference.strip(), "result": result}


# --- marketplace settlement reports (ORD-06) -------------------------------------------------------


class SettlementOut(Schema):
    id: int
    channel_id: int
    channel_name: str
    period_start: dt.date
    period_end: dt.date
    file_name: str
    lines_count: int
    settled_amount: Decimal
    refunds_amount: Decimal
    gross_amount: Decimal  # settled − refunds taken back
    commission_total: Decimal
    net_amount: Decimal  # gross − commission
    imported_by: str
    imported_at: dt.datetime
    differences: int | None  # when last compared (compared_at); the detail compares afresh
    compared_at: dt.datetime | None


class SettlementItemOut(Schema):
    result: str  # matched / unknown / amount_differs
    result_label: str
    order_number: str
    settled: Decimal
    refunded: Decimal
    net: Decimal
    commission: Decimal
    store_amount: Decimal | None  # our order's paid − refunded
    store_status: str
    rows: list[int]
    elsewhere: Decimal  # settled − refunds taken back for the order on the channel's other reports


class CommissionOverOut(Schema):
    row: int
    order_number: str
    amount: Decimal
    commission: Decimal
    expected_commission: Decimal  # at the agreed rate (playbook settlement_commission_rate_max)


class NotSettledOut(Schema):
    order_number: str
    completed_at: dt.datetime
    amount: Decimal  # paid − refunded


class SettlementDetailOut(SettlementOut):
    differences: int
    counts: dict[str, int]
    items: list[SettlementItemOut]
    items_total: int
    page: int
    page_size: int
    commission_rate: Decimal  # the channel's agreed rate (0: not checked)
    commission_over: list[CommissionOverOut]  # one page (commission_page, commission_page_size)
    commission_over_total: int
    commission_page: int
    commission_page_size: int
    wait_days: int
    not_settled_total: int
    not_settled: list[NotSettledOut]  # one page, oldest first (not_settled_page, not_settled_page_size)
    not_settled_page: int
    not_settled_page_size: int


def _settlement_out(report: SettlementReport) -> dict[str, Any]:
    user = report.imported_by
    return {
        "id": report.pk,
        "channel_id": report.channel_id,
        "channel_name": report.channel.name,
        "period_start": report.period_start,
        "period_end": report.period_end,
        "file_name": report.file_name,
        "lines_count": report.lines_count,
        "settled_amount": report.settled_amount,
        "refunds_amount": report.refunds_amount,
        "gross_amount": report.gross_amount,
        "commission_total": report.commission_total,
        "net_amount": report.net_amount,
        "imported_by": user.get_username() if user is not None else "",
        "imported_at": report.imported_at,
        "differences": report.differences,
        "compared_at": report.compared_at,
    }


@router.post(
    "/{store_id}/settlements", response={201: SettlementOut}, auth=perm("orders.reconcile_settlements")
)
def settlement_upload(
    request: HttpRequest,
    store_id: int,
    channel_id: Form[int],
    file: File[UploadedFile],
    period_start: Form[dt.date | None] = None,
    period_end: Form[dt.date | None] = None,
) -> Status:
    """Import a marketplace channel's settlement report (.csv or .xlsx) of a period (at most 93
    days; left out: the first and last settlement days of the file). The same channel and period
    again replaces it. Rows that cannot be read: 422 naming them, nothing imported."""
    store = _store(store_id)
    if file.size and file.size > MAX_STATEMENT_BYTES:
        raise ValidationError(_("文件过大（最大 50 MB）"), fields={"file": _("文件过大")})
    report = settlements.settlement_import(
        store=store,
        channel_id=channel_id,
        file_name=file.name or "",
        data=file.read(),
        period_start=period_start,
        period_end=period_end,
        actor=principal(request).actor,
    )
    return Status(201, _settlement_out(report))


@router.get(
    "/{store_id}/settlements", response=Page[SettlementOut], auth=perm("orders.view_settlementreport")
)
def settlement_list(
    request: HttpRequest, store_id: int, channel_id: int | None = None, page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    data = paginate(
        settlements.settlement_list(store=_store(store_id), channel_id=channel_id), page, page_size
    )
    data["items"] = [_settlement_out(r) for r in data["items"]]
    return data


@router.get(
    "/{store_id}/settlements/{report_id}",
    response=SettlementDetailOut,
    auth=perm("orders.view_settlementreport"),
)
def settlement_detail(
    request: HttpRequest,
    store_id: int,
    report_id: int,
    page: int = 1,
    page_size: int = 100,
    commission_page: int = 1,
    commission_page_size: int = 100,
    not_settled_page: int = 1,
    not_settled_page_size: int = 100,
) -> dict[str, Any]:
    """The report compared with the channel's orders, per order number (differences first,
    ``page_size`` up to 500 a page), the commissions above the channel's agreed rate (by row,
    paged by ``commission_page`` and ``commission_page_size``, up to 500 a page) and the
    channel's completed orders on no settlement report (oldest first, paged by
    ``not_settled_page`` and ``not_settled_page_size``, up to 500 a page)."""
    report = settlements.settlement_get(store=_store(store_id), report_id=report_id)
    result = settlements.reconcile(report)
    rate = settlements.commission_rate(report)
    pages = _detail_pages(
        page=(result.items, page, page_size),
        commission_page=(
            settlements.commission_over(report, rate=rate),
            commission_page,
            commission_page_size,
        ),
        not_settled_page=(settlements.report_not_settled(report), not_settled_page, not_settled_page_size),
    )
    items, over, missing = pages["page"], pages["commission_page"], pages["not_settled_page"]
    return {
        **_settlement_out(report),
        "differences": len(result.differences),
        "counts": settlements.counts(result),
        "items": [
            {
                "result": i.result,
                "result_label": i.label,
                "order_number": i.order_number,
                "settled": i.settled,
                "refunded": i.refunded,
                "net": i.net,
                "commission": i.commission,
                "store_amount": i.store_amount,
                "store_status": i.store_status,
                "rows": i.rows,
                "elsewhere": i.elsewhere,
            }
            for i in items["items"]
        ],
        "items_total": items["total"],
        "page": page,
        "page_size": page_size,
        "commission_rate": rate,
        "commission_over": [
            {
                "row": c.row,
                "order_number": c.order_number,
                "amount": c.amount,
                "commission": c.commission,
                "expected_commission": c.expected,
            }
            for c in over["items"]
        ],
        "commission_over_total": over["total"],
        "commission_page": commission_page,
        "commission_page_size": commission_page_size,
        "wait_days": playbook_get(store=report.store, channel=report.channel).settlement_wait_days,
        "not_settled_total": missing["total"],
        "not_settled": [
            {"order_number": m.number, "completed_at": m.completed_at, "amount": m.amount}
            for m in missing["items"]
        ],
        "not_settled_page": not_settled_page,
        "not_settled_page_size": not_settled_page_size,
    }
