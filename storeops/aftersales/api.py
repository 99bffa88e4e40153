"""After-sales API (/api/v1/aftersales): returns, exchanges and refund-only cases (AS-01…AS-05).

Storefront (the own web shop and integrations, with the storefront's ``orders.place_order``
token): ``POST /aftersales/shop/{store}/cases`` opens a case for the customer of an order,
``GET …/cases/{number}?customer=…`` shows its progress (with the address to send the goods
to), ``POST …/cases/{number}/cancel`` withdraws it. ``GET /aftersales/{store}/policy`` is the
published return policy (AS-01), generated from the playbook in Chinese and English.

Back office: the queue (new customers first, then the refund deadline), case detail, approve /
reject, receive the goods, QC, ship an exchange, refund, cancel on the customer's behalf, and
return-rate statistics (AS-05).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from storeops.accounts.access import perm, principal
from storeops.aftersales import rules, selectors, services
from storeops.aftersales.models import AfterSale, CaseKind, CaseReason, CaseStatus
from storeops.core.api import OneOf, Page, ReportDay, paginate
from storeops.core.errors import NotFound, ValidationError
from storeops.orders.models import Order
from storeops.stores.models import Channel, Store
from storeops.stores.selectors import playbook_get

router = Router(tags=["aftersales"])


def _store(store_id: int) -> Store:
    return get_object_or_404(Store, pk=store_id)


def _order(store: Store, number: str, channel_id: int | None = None) -> Order:
    """The store's order with this number. Numbers are unique per channel (marketplace numbers
    of two platforms can coincide): when two channels have it, the caller must say which."""
    found = Order.objects.filter(store=store, number=(number or "").strip())
    if channel_id is not None:
        found = found.filter(channel_id=channel_id)
    orders = list(found[:2])
    if not orders:
        raise NotFound(_("订单不存在：%(n)s") % {"n": number}, fields={"order_number": _("订单不存在")})
    if len(orders) > 1:
        raise ValidationError(
            _("多个渠道有订单号 %(n)s，请指定渠道") % {"n": number},
            fields={"channel_id": _("请指定订单所在渠道")},
        )
    return orders[0]


def _case(store_id: int, number: str) -> AfterSale:
    return selectors.case_get(store=_store(store_id), number=number)


# --- schemas ---------------------------------------------------------------------------------------


class CaseLineIn(Schema):
    line_id: int
    quantity: int
    replacement_sku_id: int | None = None  # exchange only: another size of the same product


class CaseIn(Schema):
    order_number: str
    kind: Annotated[str, OneOf(CaseKind)]
    reason: Annotated[str, OneOf(CaseReason)]
    reason_text: str = ""
    images: list[str] = []
    lines: list[CaseLineIn]
    idempotency_key: str | None = None  # a retry with the same key returns the same case
    channel_id: int | None = None  # needed only when two channels have the same order number


class ShopCaseIn(CaseIn):
    customer: str  # the order's customer reference


class ShopCancelIn(Schema):
    customer: str
    reason: str = ""


class NoteIn(Schema):
    note: str = ""


class ReasonIn(Schema):
    reason: str


class ReceiveIn(Schema):
    tracking_no: str = ""


class QcLineIn(Schema):
    line_id: int  # the order line id
    passed: int
    failed: int


class InspectIn(Schema):
    results: list[QcLineIn]
    note: str = ""


class ExchangeIn(Schema):
    carrier: str
    tracking_no: str


class CaseOut(Schema):
    number: str
    order_number: str
    channel_id: int
    kind: str
    kind_label: str
    status: str
    status_label: str
    reason: str
    reason_label: str
    reason_text: str
    images: list[str]
    customer_ref: str
    is_new_customer: bool
    priority: int
    is_big_promo: bool
    currency: str
    refund_amount: Decimal
    refunded_amount: Decimal
    refund_reference: str
    due_at: dt.datetime | None
    overdue: bool
    auto_approved: bool
    decided_by: str
    decision_note: str
    return_tracking_no: str
    exchange_tracking_no: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    received_at: dt.datetime | None
    inspected_at: dt.datetime | None
    refunded_at: dt.datetime | None
    closed_at: dt.datetime | None

    @staticmethod
    def resolve_order_number(obj: AfterSale) -> str:
        return obj.order.number

    @staticmethod
    def resolve_kind_label(obj: AfterSale) -> str:
        return str(CaseKind(obj.kind).label)

    @staticmethod
    def resolve_status_label(obj: AfterSale) -> str:
        return str(CaseStatus(obj.status).label)

    @staticmethod
    def resolve_reason_label(obj: AfterSale) -> str:
        return str(CaseReason(obj.reason).label)

    @staticmethod
    def resolve_overdue(obj: AfterSale) -> bool:
        return bool(obj.is_open and obj.due_at is not None and obj.due_at <= timezone.now())


class CaseLineOut(Schema):
    line_id: int
    sku_code: str
    title: str
    quantity: int
    refund_amount: Decimal
    qc_passed: int
    qc_failed: int
    replacement_sku_code: str | None

    @staticmethod
    def resolve_line_id(obj: Any) -> int:
        return int(obj.order_line_id)

    @staticmethod
    def resolve_sku_code(obj: Any) -> str:
        return str(obj.order_line.sku_code)

    @staticmethod
    def resolve_title(obj: Any) -> str:
        return str(obj.order_line.title)

    @staticmethod
    def resolve_replacement_sku_code(obj: Any) -> str | None:
        return obj.replacement_sku.code if obj.replacement_sku_id else None


class CaseEventOut(Schema):
    kind: str
    from_status: str
    to_status: str
    note: str
    actor_label: str
    created_at: dt.datetime


class ReturnAddressOut(Schema):
    warehouse: str
    region: str
    address: str


class CaseDetailOut(CaseOut):
    lines: list[CaseLineOut]
    events: list[CaseEventOut]
    return_address: ReturnAddressOut | None

    @staticmethod
    def resolve_lines(obj: AfterSale) -> list[Any]:
        return list(selectors.case_lines(case=obj))

    @staticmethod
    def resolve_events(obj: AfterSale) -> list[Any]:
        return list(selectors.case_events(case=obj))

    @staticmethod
    def resolve_return_address(obj: AfterSale) -> dict[str, str] | None:
        w = obj.return_warehouse
        if w is None or not obj.is_open:
            return None
        return {"warehouse": w.name, "region": w.region, "address": w.address}


class ShopCaseOut(Schema):
    """What the customer sees: no internal notes, priority or customer flags."""

    number: str
    order_number: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    reason: str
    reason_label: str
    refund_amount: Decimal
    refunded_amount: Decimal
    decision_note: str
    requested_at: dt.datetime
    refunded_at: dt.datetime | None
    lines: list[CaseLineOut]
    return_address: ReturnAddressOut | None

    resolve_order_number = staticmethod(CaseOut.resolve_order_number)
    resolve_kind_label = staticmethod(CaseOut.resolve_kind_label)
    resolve_status_label = staticmethod(CaseOut.resolve_status_label)
    resolve_reason_label = staticmethod(CaseOut.resolve_reason_label)
    resolve_lines = staticmethod(CaseDetailOut.resolve_lines)
    resolve_return_address = staticmethod(CaseDetailOut.resolve_return_address)


class PolicyOut(Schema):
    return_window_days: int
    refund_sla_hours: int
    refund_sla_big_promo_hours: int
    zh: str
    en: str


class RateOut(Schema):
    id: int | None
    code: str
    name: str
    sold: int
    returned: int
    exchanged: int
    refund_only: int
    rate: Decimal | None


class ReturnReasonOut(Schema):
    reason: str
    label: str
    cases: int
    units: int
    share: Decimal | None


class StatsOut(Schema):
    since: dt.datetime
    until: dt.datetime
    sold: int
    returned: int
    rate: Decimal | None
    products: list[RateOut]  # one page (page, page_size) of every product sold in the period
    products_total: int
    page: int
    page_size: int
    categories: list[RateOut]
    reasons: list[ReturnReasonOut]


# --- helpers ---------------------------------------------------------------------------------------


def _units(lines: list[CaseLineIn]) -> tuple[dict[int, int], dict[int, int]]:
    units: dict[int, int] = {}
    replacements: dict[int, int] = {}
    for line in lines:
        if line.line_id in units:
            raise ValidationError(
                _("同一订单行只能出现一次"), fields={f"lines.{line.line_id}": _("重复的订单行")}
            )
        units[line.line_id] = line.quantity
        if line.replacement_sku_id is not None:
            replacements[line.line_id] = line.replacement_sku_id
    return units, replacements


def _request(request: HttpRequest, store_id: int, payload: CaseIn, customer: str | None) -> AfterSale:
    store = _store(store_id)
    order = _order(store, payload.order_number, payload.channel_id)
    units, replacements = _units(payload.lines)
    return services.case_request(
        actor=principal(request).actor,
        order=order,
        kind=payload.kind,
        reason=payload.reason,
        units=units,
        reason_text=payload.reason_text,
        images=payload.images,
        replacements=replacements,
        customer_ref=customer,
        idempotency_key=payload.idempotency_key,
    )


# --- policy and storefront ----------------------------------------------------------------------------


@router.get("/{store_id}/policy", response=PolicyOut, auth=perm(None))
def return_policy(request: HttpRequest, store_id: int, channel_id: int | None = None) -> dict[str, Any]:
    """The published return policy (AS-01) for the store, or for one of its channels."""
    store = _store(store_id)
    channel = get_object_or_404(Channel, pk=channel_id, store=store) if channel_id is not None else None
    playbook = playbook_get(store=store, channel=channel)
    text = rules.policy_text(
        window_days=playbook.return_window_days,
        refund_hours=playbook.refund_sla_hours,
        big_promo_refund_hours=playbook.refund_sla_big_promo_hours,
    )
    return {
        "return_window_days": playbook.return_window_days,
        "refund_sla_hours": playbook.refund_sla_hours,
        "refund_sla_big_promo_hours": playbook.refund_sla_big_promo_hours,
        "zh": text.zh,
        "en": text.en,
    }


@router.post("/shop/{store_id}/cases", response={201: ShopCaseOut}, auth=perm("orders.place_order"))
def shop_case_create(request: HttpRequest, store_id: int, payload: ShopCaseIn) -> Status[AfterSale]:
    """The customer asks for a return, exchange or refund. Refund-only requests below the
    playbook threshold come back already refunded (AS-03)."""
    return Status(201, _request(request, store_id, payload, payload.customer))


@router.get("/shop/{store_id}/cases/{number}", response=ShopCaseOut, auth=perm("orders.place_order"))
def shop_case_detail(request: HttpRequest, store_id: int, number: str, customer: str) -> AfterSale:
    case = _case(store_id, number)
    if case.customer_ref != customer.strip():
        raise NotFound(_("售后单不存在"))
    return case


@router.post("/shop/{store_id}/cases/{number}/cancel", response=ShopCaseOut, auth=perm("orders.place_order"))
def shop_case_cancel(request: HttpRequest, store_id: int, number: str, payload: ShopCancelIn) -> AfterSale:
    return services.case_cancel(
        actor=principal(request).actor,
        case=_case(store_id, number),
        reason=payload.reason,
        customer_ref=payload.customer,
    )


# --- back office ---------------------------------------------------------------------------------------


@router.post("/{store_id}/cases", response={201: CaseDetailOut}, auth=perm("aftersales.add_aftersale"))
def case_create(request: HttpRequest, store_id: int, payload: CaseIn) -> Status[AfterSale]:
    """Customer service opens a case on the customer's behalf."""
    return Status(201, _request(request, store_id, payload, None))


@router.get("/{store_id}/cases", response=Page[CaseOut], auth=perm("aftersales.view_aftersale"))
def case_list(
    request: HttpRequest,
    store_id: int,
    status: Annotated[str, OneOf([*CaseStatus.values, "open"], blank=True)] = "",
    kind: Annotated[str, OneOf(CaseKind, blank=True)] = "",
    reason: Annotated[str, OneOf(CaseReason, blank=True)] = "",
    q: str = "",
    overdue: bool = False,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """The queue: new customers first, then the earliest refund deadline. ``status=open`` keeps
    the cases still in progress; ``overdue=true`` those past their refund deadline."""
    qs = selectors.case_list(
        store=_store(store_id),
        status=status,
        kind=kind,
        reason=reason,
        q=q,
        overdue_at=timezone.now() if overdue else None,
    )
    return paginate(qs, page, page_size)


@router.get("/{store_id}/cases/{number}", response=CaseDetailOut, auth=perm("aftersales.view_aftersale"))
def case_detail(request: HttpRequest, store_id: int, number: str) -> AfterSale:
    return _case(store_id, number)


@router.post(
    "/{store_id}/cases/{number}/approve", response=CaseDetailOut, auth=perm("aftersales.approve_aftersale")
)
def case_approve(request: HttpRequest, store_id: int, number: str, payload: NoteIn) -> AfterSale:
    """Approve: a refund-only case is refunded at once; a return/exchange waits for the goods."""
    return services.case_approve(
        actor=principal(request).actor, case=_case(store_id, number), note=payload.note
    )


@router.post(
    "/{store_id}/cases/{number}/reject", response=CaseDetailOut, auth=perm("aftersales.approve_aftersale")
)
def case_reject(request: HttpRequest, store_id: int, number: str, payload: ReasonIn) -> AfterSale:
    return services.case_reject(
        actor=principal(request).actor, case=_case(store_id, number), reason=payload.reason
    )


@router.post(
    "/{store_id}/cases/{number}/receive", response=CaseDetailOut, auth=perm("aftersales.handle_returns")
)
def case_receive(request: HttpRequest, store_id: int, number: str, payload: ReceiveIn) -> AfterSale:
    """The returned parcel arrived: its units go to the QC zone (AS-04)."""
    return services.case_receive(
        actor=principal(request).actor, case=_case(store_id, number), tracking_no=payload.tracking_no
    )


@router.post(
    "/{store_id}/cases/{number}/inspect", response=CaseDetailOut, auth=perm("aftersales.handle_returns")
)
def case_inspect(request: HttpRequest, store_id: int, number: str, payload: InspectIn) -> AfterSale:
    """QC per order line: passed units go back to sellable stock, failed ones to defective."""
    results: dict[int, tuple[int, int]] = {}
    for r in payload.results:
        if r.line_id in results:
            raise ValidationError(
                _("同一订单行只能出现一次"), fields={f"results.{r.line_id}": _("重复的订单行")}
            )
        results[r.line_id] = (r.passed, r.failed)
    return services.case_inspect(
        actor=principal(request).actor, case=_case(store_id, number), results=results, note=payload.note
    )


@router.post(
    "/{store_id}/cases/{number}/exchange", response=CaseDetailOut, auth=perm("aftersales.handle_returns")
)
def case_exchange(request: HttpRequest, store_id: int, number: str, payload: ExchangeIn) -> AfterSale:
    """Ship the replacement of an inspected exchange."""
    return services.case_exchange_ship(
        actor=principal(request).actor,
        case=_case(store_id, number),
        carrier_code=payload.carrier,
        tracking_no=payload.tracking_no,
    )


@router.post(
    "/{store_id}/cases/{number}/refund", response=CaseDetailOut, auth=perm("aftersales.refund_aftersale")
)
def case_refund(request: HttpRequest, store_id: int, number: str) -> AfterSale:
    """Refund (or retry the refund of) an approved refund-only case or an inspected return."""
    return services.case_refund(actor=principal(request).actor, case=_case(store_id, number))


@router.post(
    "/{store_id}/cases/{number}/cancel", response=CaseDetailOut, auth=perm("aftersales.change_aftersale")
)
def case_cancel(request: HttpRequest, store_id: int, number: str, payload: NoteIn) -> AfterSale:
    """Withdraw the request on the customer's behalf (before the goods arrive)."""
    return services.case_cancel(
        actor=principal(request).actor, case=_case(store_id, number), reason=payload.note
    )


@router.get("/{store_id}/stats", response=StatsOut, auth=perm("aftersales.view_aftersale"))
def return_stats(
    request: HttpRequest,
    store_id: int,
    since: ReportDay | None = None,
    until: ReportDay | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """Return rate per product and category, and the reasons (AS-05), for orders paid from
    ``since`` up to and including ``until`` (default: the last 30 days). The products (every
    product sold in the period, highest rate first) are paged by ``page`` and ``page_size``."""
    today = timezone.localdate()
    until = until or today
    since = since or until - dt.timedelta(days=29)
    start = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min))
    stats = selectors.return_stats(store=_store(store_id), since=start, until=end)
    products = paginate(stats.products, page, page_size)
    return {
        "since": stats.since,
        "until": stats.until,
        "sold": stats.sold,
        "returned": stats.returned,
        "rate": stats.rate,
        "products": [_rate(r) for r in products["items"]],
        "products_total": products["total"],
        "page": page,
        "page_size": page_size,
        "categories": [_rate(r) for r in stats.categories],
        "reasons": [vars_of(r) for r in stats.reasons],
    }


def _rate(row: selectors.RateRow) -> dict[str, Any]:
    return {**vars_of(row), "id": row.key}


def vars_of(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in row.__slots__}
