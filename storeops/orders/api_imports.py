"""Marketplace order import (/api/v1/orders/imports) and invoices (/api/v1/orders/invoices, ORD-07).

Imports:

- ``POST /orders/imports/{store}`` (multipart: ``channel_id``, ``file``, optional ``mapping``
  and ``dry_run``) — 201 when orders were created, 200 when every order was already
  imported (or for a dry run), 202 when the file is big and was queued for the worker (poll
  the detail), 422 with the per-row errors when nothing was imported, or with one error
  (line 0) when writing failed part-way (the orders of the committed batches stay);
- ``GET /orders/imports/{store}`` and ``GET /orders/imports/{store}/{id}`` (with errors and
  progress: ``orders_done`` of ``orders_total``);
- saved column mappings: ``GET/POST /orders/imports/{store}/mappings``,
  ``PUT/DELETE /orders/imports/{store}/mappings/{id}``.

Invoices: request (``POST /orders/invoices/{store}``), the finance queue, detail, and
``issue`` / ``reject`` / ``reverse`` (red-letter) for finance.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from storeops.accounts.access import perm, principal
from storeops.core.api import ErrorOut, OneOf, Page, paginate
from storeops.core.errors import ValidationError
from storeops.orders import imports, invoices
from storeops.orders.models import (
    InvoiceKind,
    InvoiceRequest,
    InvoiceStatus,
    InvoiceTitleType,
    OrderImport,
    OrderImportMapping,
    OrderImportStatus,
)
from storeops.stores.models import ChannelKind, Store

imports_router = Router(tags=["orders-import"])
invoices_router = Router(tags=["invoices"])

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def _store(store_id: int) -> Store:
    return get_object_or_404(Store, pk=store_id)


# --- imports -------------------------------------------------------------------------------------


class RowErrorOut(Schema):
    line: int
    field: str
    message: str


class ImportOut(Schema):
    id: int | None
    channel_id: int
    file_name: str
    file_format: str
    mapping_id: int | None
    status: str
    dry_run: bool = False
    rows: int
    rows_skipped: int
    orders_total: int
    orders_created: int
    orders_existing: int
    orders_unreserved: int
    orders_done: int = 0  # created + existing: progress of a queued / running import
    order_numbers: list[str]
    errors: list[RowErrorOut]
    message: str = ""
    actor_label: str = ""
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


def _import_out(record: OrderImport) -> dict[str, Any]:
    return {
        "id": record.pk,
        "channel_id": record.channel_id,
        "file_name": record.file_name,
        "file_format": record.file_format,
        "mapping_id": record.mapping_id,
        "status": record.status,
        "rows": record.rows,
        "rows_skipped": record.rows_skipped,
        "orders_total": record.orders_total,
        "orders_created": record.orders_created,
        "orders_existing": record.orders_existing,
        "orders_unreserved": record.orders_unreserved,
        "orders_done": record.orders_done,
        "order_numbers": record.order_numbers,
        "errors": record.errors,
        "message": str(record.get_status_display()),
        "actor_label": record.actor_label,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


@imports_router.post(
    "/{store_id}",
    # 422: the import report of a file with errors, or the usual error body of a bad request
    # (no file, an unknown channel, a file too large)
    response={200: ImportOut, 201: ImportOut, 202: ImportOut, 422: ImportOut | ErrorOut},
    auth=perm("orders.import_orders"),
)
def import_upload(
    request: HttpRequest,
    store_id: int,
    channel_id: Form[int],
    file: File[UploadedFile],
    mapping: Form[str] = "",
    dry_run: Form[bool] = False,
) -> Status:
    """Upload a marketplace order export (.csv or .xlsx); the format is detected from the header.
    A file with more new orders than the playbook's ``order_import_inline_orders`` is validated
    here and written by the worker: 202, then poll ``GET /orders/imports/{store}/{id}``."""
    store = _store(store_id)
    channel = imports.channel_get(store=store, channel_id=channel_id)
    if file.size and file.size > MAX_UPLOAD_BYTES:
        raise ValidationError(_("文件过大（最大 50 MB）"), fields={"file": _("文件过大")})
    report = imports.orders_import(
        actor=principal(request).actor,
        store=store,
        channel=channel,
        source=file,
        filename=file.name or "",
        mapping_name=mapping.strip() or None,
        dry_run=dry_run,
        background=True,
    )
    if report.record is not None:
        body = _import_out(report.record)
    else:  # a dry run: nothing recorded
        body = {
            "id": None,
            "channel_id": channel.pk,
            "file_name": file.name or "",
            "file_format": report.file_format,
            "mapping_id": None,
            "status": report.status,
            "dry_run": True,
            "rows": report.rows,
            "rows_skipped": report.rows_skipped,
            "orders_total": report.orders_total,
            "orders_created": 0,
            "orders_existing": report.orders_existing,
            "orders_unreserved": 0,
            "order_numbers": [],
            "errors": [{"line": e.line, "field": e.field, "message": e.message} for e in report.errors],
            "message": _("试运行，未写入任何数据"),
        }
    if report.failed_writing:
        body["message"] = report.errors[-1].message
        return Status(422, body)
    if report.errors:
        body["message"] = _("有 %(n)s 个错误，未导入任何订单") % {"n": len(report.errors)}
        return Status(422, body)
    if report.queued:
        body["message"] = _(
            "文件较大：订单 %(o)s 笔，其中 %(n)s 笔待导入，已转入后台导入；请查询导入记录了解进度"
        ) % {
            "o": report.orders_total,
            "n": report.orders_total - report.orders_existing,
        }
        return Status(202, body)
    if report.dry_run or report.orders_created == 0:
        if not report.dry_run:
            body["message"] = _("文件中的订单均已导入过")
        return Status(200, body)
    return Status(201, body)


@imports_router.get("/{store_id}", response=Page[ImportOut], auth=perm("orders.view_orderimport"))
def import_list(
    request: HttpRequest,
    store_id: int,
    status: Annotated[str, OneOf(OrderImportStatus, blank=True)] = "",
    channel_id: int = 0,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    store = _store(store_id)
    data = paginate(
        imports.import_list(store=store, channel_id=channel_id or None, status=status or None),
        page,
        page_size,
    )
    data["items"] = [_import_out(r) for r in data["items"]]
    return data


class MappingIn(Schema):
    name: str
    channel_kind: Annotated[str, OneOf(ChannelKind)]
    mapping: dict[str, Any]


class MappingOut(Schema):
    id: int
    name: str
    channel_kind: str
    mapping: dict[str, Any]
    updated_at: dt.datetime


@imports_router.get(
    "/{store_id}/mappings", response=list[MappingOut], auth=perm("orders.view_orderimportmapping")
)
def mapping_list(request: HttpRequest, store_id: int) -> list[OrderImportMapping]:
    return list(imports.mapping_list(store=_store(store_id)))


@imports_router.post(
    "/{store_id}/mappings", response={201: MappingOut}, auth=perm("orders.add_orderimportmapping")
)
def mapping_create(request: HttpRequest, store_id: int, payload: MappingIn) -> Status:
    mapping = imports.mapping_save(
        actor=principal(request).actor,
        store=_store(store_id),
        name=payload.name,
        channel_kind=payload.channel_kind,
        mapping=payload.mapping,
    )
    return Status(201, mapping)


@imports_router.put(
    "/{store_id}/mappings/{mapping_id}", response=MappingOut, auth=perm("orders.change_orderimportmapping")
)
def mapping_update(
    request: HttpRequest, store_id: int, mapping_id: int, payload: MappingIn
) -> OrderImportMapping:
    store = _store(store_id)
    return imports.mapping_save(
        actor=principal(request).actor,
        store=store,
        name=payload.name,
        channel_kind=payload.channel_kind,
        mapping=payload.mapping,
        instance=imports.mapping_get(store=store, mapping_id=mapping_id),
    )


@imports_router.delete(
    "/{store_id}/mappings/{mapping_id}", response={204: None}, auth=perm("orders.delete_orderimportmapping")
)
def mapping_delete(request: HttpRequest, store_id: int, mapping_id: int) -> Status:
    store = _store(store_id)
    imports.mapping_delete(
        actor=principal(request).actor, mapping=imports.mapping_get(store=store, mapping_id=mapping_id)
    )
    return Status(204, None)


@imports_router.get("/{store_id}/{import_id}", response=ImportOut, auth=perm("orders.view_orderimport"))
def import_detail(request: HttpRequest, store_id: int, import_id: int) -> dict[str, Any]:
    return _import_out(imports.import_get(store=_store(store_id), import_id=import_id))


# --- invoices (ORD-07) ---------------------------------------------------------------------------


class InvoiceIn(Schema):
    order_number: str
    channel_id: int | None = None
    kind: Annotated[str, OneOf(InvoiceKind)]
    title_type: Annotated[str, OneOf(InvoiceTitleType)]
    title: str
    tax_id: str = ""
    email: str = ""
    mailing_address: str = ""
    payer_name: str = ""
    amount: Decimal | None = None


class InvoiceOut(Schema):
    id: int
    order_number: str
    channel_id: int
    kind: str
    title_type: str
    title: str
    tax_id: str
    payer_name: str
    amount: Decimal
    net_paid: Decimal
    email: str
    mailing_address: str
    status: str
    invoice_number: str
    issued_at: dt.datetime | None
    reason: str
    flow_problems: list[str]
    requested_by: str
    created_at: dt.datetime


def _invoice_out(invoice: InvoiceRequest) -> dict[str, Any]:
    order = invoice.order
    return {
        "id": invoice.pk,
        "order_number": order.number,
        "channel_id": order.channel_id,
        "kind": invoice.kind,
        "title_type": invoice.title_type,
        "title": invoice.title,
        "tax_id": invoice.tax_id,
        "payer_name": invoice.payer_name,
        "amount": invoice.amount,
        "net_paid": invoices.net_paid(order),
        "email": invoice.email,
        "mailing_address": invoice.mailing_address,
        "status": invoice.status,
        "invoice_number": invoice.invoice_number,
        "issued_at": invoice.issued_at,
        "reason": invoice.reason,
        "flow_problems": [str(p) for p in invoices.flow_problems(invoice)]
        if invoice.status in invoices.OPEN
        else [],
        "requested_by": invoice.requested_by,
        "created_at": invoice.created_at,
    }


class InvoiceIssueIn(Schema):
    invoice_number: str


class ReasonIn(Schema):
    reason: str


@invoices_router.post("/{store_id}", response={201: InvoiceOut}, auth=perm("orders.add_invoicerequest"))
def invoice_request(request: HttpRequest, store_id: int, payload: InvoiceIn) -> Status:
    store = _store(store_id)
    order = invoices.order_for_invoice(
        store=store, number=payload.order_number, channel_id=payload.channel_id
    )
    invoice = invoices.invoice_request(
        actor=principal(request).actor,
        order=order,
        kind=payload.kind,
        title_type=payload.title_type,
        title=payload.title,
        tax_id=payload.tax_id,
        email=payload.email,
        mailing_address=payload.mailing_address,
        payer_name=payload.payer_name,
        amount=payload.amount,
    )
    return Status(201, _invoice_out(invoice))


@invoices_router.get("/{store_id}", response=Page[InvoiceOut], auth=perm("orders.view_invoicerequest"))
def invoice_list(
    request: HttpRequest,
    store_id: int,
    status: Annotated[str, OneOf(InvoiceStatus, blank=True)] = "",
    q: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    qs = invoices.invoice_list(store=_store(store_id), status=status or None, q=q.strip())
    data = paginate(qs, page, page_size)
    data["items"] = [_invoice_out(i) for i in data["items"]]
    return data


@invoices_router.get("/{store_id}/{invoice_id}", response=InvoiceOut, auth=perm("orders.view_invoicerequest"))
def invoice_detail(request: HttpRequest, store_id: int, invoice_id: int) -> dict[str, Any]:
    return _invoice_out(invoices.invoice_get(store=_store(store_id), invoice_id=invoice_id))


@invoices_router.post(
    "/{store_id}/{invoice_id}/issue", response=InvoiceOut, auth=perm("orders.issue_invoice")
)
def invoice_issue(
    request: HttpRequest, store_id: int, invoice_id: int, payload: InvoiceIssueIn
) -> dict[str, Any]:
    invoice = invoices.invoice_get(store=_store(store_id), invoice_id=invoice_id)
    return _invoice_out(
        invoices.invoice_issue(
            actor=principal(request).actor, invoice=invoice, invoice_number=payload.invoice_number
        )
    )


@invoices_router.post(
    "/{store_id}/{invoice_id}/reject", response=InvoiceOut, auth=perm("orders.issue_invoice")
)
def invoice_reject(request: HttpRequest, store_id: int, invoice_id: int, payload: ReasonIn) -> dict[str, Any]:
    invoice = invoices.invoice_get(store=_store(store_id), invoice_id=invoice_id)
    return _invoice_out(
        invoices.invoice_reject(actor=principal(request).actor, invoice=invoice, reason=payload.reason)
    )


@invoices_router.post(
    "/{store_id}/{invoice_id}/reverse", response=InvoiceOut, auth=perm("orders.issue_invoice")
)
def invoice_reverse(
    request: HttpRequest, store_id: int, invoice_id: int, payload: ReasonIn
) -> dict[str, Any]:
    invoice = invoices.invoice_get(store=_store(store_id), invoice_id=invoice_id)
    return _invoice_out(
        invoices.invoice_reverse(actor=principal(request).actor, invoice=invoice, reason=payload.reason)
    )
