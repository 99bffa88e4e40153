"""Inventory API (SOP INV-01, INV-03): warehouses, stock, movements, the ledger, replenishment
suggestions and channel stock shares. Every write is a service call."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Router, Schema, Status
from ninja.responses import NinjaJSONEncoder

from storeops.accounts.access import perm, principal
from storeops.core.api import OneOf, Page, paginate
from storeops.core.errors import NotFound
from storeops.inventory import abc_classes, counts, selectors, services
from storeops.inventory.models import (
    AbcClassChoice,
    CountScope,
    CountSheet,
    CountStatus,
    MoveKind,
    ShareMode,
    Stock,
    Warehouse,
    Zone,
)
from storeops.stores.models import Channel, Store
from storeops.stores.selectors import playbook_get

router = Router(tags=["inventory"])


ZoneIn = Annotated[str, OneOf(Zone)]


class WarehouseIn(Schema):
    code: str
    name: str
    region: str = ""
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None


class WarehouseOut(Schema):
    id: int
    code: str
    name: str
    region: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    is_active: bool


class StockOut(Schema):
    id: int
    sku_id: int
    sku_code: str
    warehouse_id: int
    warehouse_code: str
    zone: str
    on_hand: int
    reserved: int
    available: int

    @staticmethod
    def resolve_sku_code(obj: Stock) -> str:
        return obj.sku.code

    @staticmethod
    def resolve_warehouse_code(obj: Stock) -> str:
        return obj.warehouse.code


class MoveIn(Schema):
    kind: Literal["receipt", "reservation", "release", "shipment", "return"]
    sku_id: int
    warehouse_id: int
    quantity: int
    reference: str = ""
    reason: str = ""
    zone: ZoneIn = Zone.SELLABLE


class AdjustIn(Schema):
    sku_id: int
    warehouse_id: int
    delta: int
    reason: str
    zone: ZoneIn = Zone.SELLABLE
    reference: str = ""


class TransferIn(Schema):
    sku_id: int
    from_warehouse_id: int
    to_warehouse_id: int
    quantity: int
    reason: str
    from_zone: ZoneIn = Zone.SELLABLE
    to_zone: ZoneIn = Zone.SELLABLE
    reference: str = ""


class MoveOut(Schema):
    id: int
    stock_id: int
    kind: str
    quantity: int
    on_hand_delta: int
    reserved_delta: int
    on_hand_before: int
    reserved_before: int
    on_hand_after: int
    reserved_after: int
    reason: str
    reference: str
    actor_label: str
    created_at: dt.datetime


class MismatchOut(Schema):
    stock_id: int
    sku_code: str
    warehouse_code: str
    zone: str
    on_hand: int
    reserved: int
    ledger_on_hand: int
    ledger_reserved: int


class ReplenishmentOut(Schema):
    product_id: int
    product_code: str
    title: str
    available: int
    avg_daily_sales: Decimal
    alert: bool
    suggested_quantity: int
    method: str  # INV-06: "forecast", "average" or "seasonal" (empty when there is no alert)
    forecast_method: str  # the forecast's model (ets, tsb, croston_sba, zero) when method is forecast
    demand_over_horizon: Decimal | None  # units expected over lead time + safety days (+ days to the season)
    # INV-06 seasonal preparation: set while the product is in its prep window (seasonal_prep_days
    # before its season to the season's end); seasonal: the season raised the alert or quantity
    seasonal: bool
    season_start: dt.date | None
    season_end: dt.date | None
    season_source: str  # "last_year" (× season_trend) or "uplift" (the product's configured one)
    season_trend: Decimal | None


class RuleIn(Schema):
    channel_id: int
    sku_id: int | None = None
    mode: Annotated[str, OneOf(ShareMode)] = ShareMode.RATIO
    ratio: Decimal = Decimal(0)
    fixed_quantity: int = 0
    reserve: int = 0


class RuleOut(Schema):
    id: int
    channel_id: int
    sku_id: int | None
    mode: str
    ratio: Decimal
    fixed_quantity: int
    reserve: int


class ChannelOfferOut(Schema):
    channel_id: int
    sku_id: int
    quantity: int
    computed_at: dt.datetime
    pushed_at: dt.datetime | None


def _store(store_id: int) -> Store:
    return get_object_or_404(Store, pk=store_id)


def _warehouse(store: Store, warehouse_id: int) -> Warehouse:
    wh = selectors.warehouse_get(store=store, warehouse_id=warehouse_id)
    if wh is None:
        raise NotFound(_("仓库不存在"))
    return wh


def _sku(store: Store, sku_id: int) -> Any:
    sku = selectors.sku_get(store=store, sku_id=sku_id)
    if sku is None:
        raise NotFound(_("SKU 不存在"))
    return sku


@router.get("/{store_id}/warehouses", response=list[WarehouseOut], auth=perm("inventory.view_warehouse"))
def warehouse_list(request: HttpRequest, store_id: int) -> list[Warehouse]:
    return list(selectors.warehouse_list(store=_store(store_id)))


@router.post("/{store_id}/warehouses", response={201: WarehouseOut}, auth=perm("inventory.add_warehouse"))
def warehouse_create(request: HttpRequest, store_id: int, payload: WarehouseIn) -> Status:
    store = _store(store_id)
    return Status(
        201, services.warehouse_create(actor=principal(request).actor, store=store, **payload.dict())
    )


@router.get("/{store_id}/stock", response=Page[StockOut], auth=perm("inventory.view_stock"))
def stock_list(
    request: HttpRequest,
    store_id: int,
    warehouse_id: int | None = None,
    zone: Annotated[str, OneOf(Zone, blank=True)] = "",
    q: str = "",
    sku_id: int | None = None,
    available_at_most: int | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    qs = selectors.stock_list(
        store=_store(store_id),
        warehouse_id=warehouse_id,
        zone=zone,
        q=q,
        sku_id=sku_id,
        available_at_most=available_at_most,
    )
    return paginate(qs, page, page_size)


def _answer(schema: type[Schema], obj: Any) -> Any:
    """The JSON body ``schema`` makes of ``obj``, as the API renders it (kept with an idempotency
    key and sent again, as it is, to a retry)."""
    return json.loads(json.dumps(schema.model_validate(obj).model_dump(), cls=NinjaJSONEncoder))


def _send(status: int, answer: Any) -> HttpResponse:
    """Send an answer made by :func:`_answer` (the first or a kept one) without validating it
    again."""
    body = json.dumps(answer, cls=NinjaJSONEncoder)
    return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")


_KEY_HELP = (
    "Send one per booking (e.g. the ERP document id + line): a retry with the same key returns "
    "the first answer (200) and books nothing twice; the same key with another body is a 409 "
    "idempotency_key_reused. Scoped per store and endpoint, kept 7 days."
)


@router.post(
    "/{store_id}/stock/moves", response={200: MoveOut, 201: MoveOut}, auth=perm("inventory.add_stockmove")
)
def stock_move(
    request: HttpRequest,
    store_id: int,
    payload: MoveIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=_KEY_HELP),
) -> HttpResponse:
    """Book one movement (201, the ledger line). With an ``Idempotency-Key`` header a retry
    returns the first ledger line (200) instead of booking it again."""
    store = _store(store_id)
    actor = principal(request).actor

    def book() -> Any:
        common: dict[str, Any] = {
            "actor": actor,
            "sku": _sku(store, payload.sku_id),
            "warehouse": _warehouse(store, payload.warehouse_id),
            "quantity": payload.quantity,
            "reference": payload.reference,
        }
        reason: dict[str, Any] = {"reason": payload.reason} if payload.reason else {}
        if payload.kind == "receipt":
            move = services.stock_receive(**common, reason=payload.reason, zone=payload.zone)
        elif payload.kind == "return":
            move = services.stock_return(**common, **reason)
        elif payload.kind == "reservation":
            move = services.stock_reserve(**common, **reason)
        elif payload.kind == "release":
            move = services.stock_release(**common, **reason)
        else:
            move = services.stock_ship(**common, **reason)
        return _answer(MoveOut, move)

    answer, created = services.booking_once(
        store=store, endpoint="stock.moves", key=idempotency_key, request=payload.dict(), book=book
    )
    return _send(201 if created else 200, answer)


@router.post(
    "/{store_id}/stock/adjust", response={200: MoveOut, 201: MoveOut}, auth=perm("inventory.change_stock")
)
def stock_adjust(
    request: HttpRequest,
    store_id: int,
    payload: AdjustIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=_KEY_HELP),
) -> HttpResponse:
    """Adjust on-hand by ``delta`` (201). ``Idempotency-Key``: as for moves."""
    store = _store(store_id)
    actor = principal(request).actor

    def book() -> Any:
        move = services.stock_adjust(
            actor=actor,
            sku=_sku(store, payload.sku_id),
            warehouse=_warehouse(store, payload.warehouse_id),
            delta=payload.delta,
            reason=payload.reason,
            zone=payload.zone,
            reference=payload.reference,
        )
        return _answer(MoveOut, move)

    answer, created = services.booking_once(
        store=store, endpoint="stock.adjust", key=idempotency_key, request=payload.dict(), book=book
    )
    return _send(201 if created else 200, answer)


@router.post(
    "/{store_id}/stock/transfer",
    response={200: list[MoveOut], 201: list[MoveOut]},
    auth=perm("inventory.add_stockmove"),
)
def stock_transfer(
    request: HttpRequest,
    store_id: int,
    payload: TransferIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=_KEY_HELP),
) -> HttpResponse:
    """Move units between warehouses or zones (201, the two ledger lines).
    ``Idempotency-Key``: as for moves."""
    store = _store(store_id)
    actor = principal(request).actor

    def book() -> Any:
        out, into = services.stock_transfer(
            actor=actor,
            sku=_sku(store, payload.sku_id),
            from_warehouse=_warehouse(store, payload.from_warehouse_id),
            to_warehouse=_warehouse(store, payload.to_warehouse_id),
            quantity=payload.quantity,
            reason=payload.reason,
            from_zone=payload.from_zone,
            to_zone=payload.to_zone,
            reference=payload.reference,
        )
        return [_answer(MoveOut, out), _answer(MoveOut, into)]

    answer, created = services.booking_once(
        store=store, endpoint="stock.transfer", key=idempotency_key, request=payload.dict(), book=book
    )
    return _send(201 if created else 200, answer)


@router.get("/{store_id}/ledger", response=Page[MoveOut], auth=perm("inventory.view_stockmove"))
def ledger(
    request: HttpRequest,
    store_id: int,
    sku_id: int | None = None,
    warehouse_id: int | None = None,
    kind: Annotated[str, OneOf(MoveKind, blank=True)] = "",
    reference: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    qs = selectors.ledger_list(
        store=_store(store_id), sku_id=sku_id, warehouse_id=warehouse_id, kind=kind, reference=reference
    )
    return paginate(qs, page, page_size)


@router.get("/{store_id}/ledger/check", response=list[MismatchOut], auth=perm("inventory.view_stockmove"))
def ledger_check(request: HttpRequest, store_id: int) -> list[Any]:
    return list(selectors.ledger_mismatches(store=_store(store_id)))


@router.get("/{store_id}/replenishment", response=Page[ReplenishmentOut], auth=perm("inventory.view_stock"))
def replenishment(
    request: HttpRequest, store_id: int, alerts_only: bool = False, page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    """Every product with stock or sales in the window, by product (a page at a time: the list
    grows with the catalogue)."""
    store = _store(store_id)
    rows = selectors.replenishment_suggestions(
        store=store, today=timezone.localdate(), playbook=playbook_get(store=store), alerts_only=alerts_only
    )
    data = paginate(rows, page, page_size)
    data["items"] = [
        {
            "product_id": r.product_id,
            "product_code": r.product_code,
            "title": r.title,
            "available": r.available,
            "avg_daily_sales": (
                Decimal(r.avg_daily_sales.numerator) / r.avg_daily_sales.denominator
            ).quantize(Decimal("0.001")),
            "alert": r.alert,
            "suggested_quantity": r.suggested_quantity,
            "method": r.method,
            "forecast_method": r.forecast_method,
            "demand_over_horizon": (
                None
                if r.demand_over_horizon is None
                else (Decimal(r.demand_over_horizon.numerator) / r.demand_over_horizon.denominator).quantize(
                    Decimal("0.01")
                )
            ),
            "seasonal": r.seasonal,
            "season_start": r.season_start,
            "season_end": r.season_end,
            "season_source": r.season_source,
            "season_trend": r.season_trend,
        }
        for r in data["items"]
    ]
    return data


@router.get("/{store_id}/channel-rules", response=list[RuleOut], auth=perm("inventory.view_channelstockrule"))
def channel_rule_list(request: HttpRequest, store_id: int) -> list[Any]:
    return list(selectors.channel_rule_list(store=_store(store_id)))


@router.put("/{store_id}/channel-rules", response=RuleOut, auth=perm("inventory.change_channelstockrule"))
def channel_rule_set(request: HttpRequest, store_id: int, payload: RuleIn) -> Any:
    store = _store(store_id)
    channel = get_object_or_404(Channel, pk=payload.channel_id, store=store)
    sku = _sku(store, payload.sku_id) if payload.sku_id else None
    return services.channel_stock_rule_set(
        actor=principal(request).actor,
        channel=channel,
        sku=sku,
        mode=payload.mode,
        ratio=payload.ratio,
        fixed_quantity=payload.fixed_quantity,
        reserve=payload.reserve,
    )


@router.get(
    "/{store_id}/channel-offers",
    response=list[ChannelOfferOut],
    auth=perm("inventory.view_channelstockoffer"),
)
def channel_offer_list(request: HttpRequest, store_id: int, channel_id: int | None = None) -> list[Any]:
    return list(selectors.channel_offer_list(store=_store(store_id), channel_id=channel_id))


@router.post(
    "/{store_id}/channel-offers/sync",
    response=list[ChannelOfferOut],
    auth=perm("inventory.change_channelstockoffer"),
)
def channel_offer_sync(request: HttpRequest, store_id: int) -> list[Any]:
    store = _store(store_id)
    services.channel_stock_recompute(store=store)
    return list(selectors.channel_offer_list(store=store))


# ---- INV-05 cycle counts ---------------------------------------------------------------------


class CountSheetIn(Schema):
    warehouse_id: int
    zone: ZoneIn = Zone.SELLABLE
    scope: Annotated[str, OneOf(CountScope)] = CountScope.SKUS
    sku_ids: list[int] = []
    abc_class: Annotated[str, OneOf(AbcClassChoice, blank=True)] = ""  # scope "abc" only
    note: str = ""


class CountSheetOut(Schema):
    id: int
    number: str
    warehouse_id: int
    warehouse_code: str
    zone: str
    status: str
    scope: str
    scope_value: str
    note: str
    created_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    posted_at: dt.datetime | None
    posted_by: str
    cancelled_at: dt.datetime | None

    @staticmethod
    def resolve_warehouse_code(obj: CountSheet) -> str:
        return obj.warehouse.code


class CountLineOut(Schema):
    sku_id: int
    sku_code: str
    expected: int
    counted: int | None
    variance: int | None
    adjusted: int | None
    on_hand_now: int
    moved: bool
    unit_cost: Decimal
    variance_value: Decimal | None


class CountReportOut(Schema):
    """The sheet and its totals; its lines are read a page at a time (``…/lines``)."""

    sheet: CountSheetOut
    line_count: int
    counted_count: int
    not_counted_count: int
    moved_count: int
    net_value: Decimal
    absolute_value: Decimal
    accuracy: Decimal | None
    currency: str


class CountEntry(Schema):
    sku_id: int
    counted: int


class CountsIn(Schema):
    counts: list[CountEntry]


class RecountIn(Schema):
    sku_ids: list[int] | None = None


class SheetCancelIn(Schema):
    reason: str = ""


def _sheet(store: Store, sheet_id: int) -> CountSheet:
    sheet = selectors.count_sheet_get(store=store, sheet_id=sheet_id)
    if sheet is None:
        raise NotFound(_("盘点单不存在"))
    return sheet


def _report(sheet: CountSheet) -> dict[str, Any]:
    report = selectors.count_sheet_report(sheet=sheet)
    return {
        "sheet": sheet,
        "line_count": len(report.rows),
        "counted_count": len(report.rows) - len(report.variance.not_counted),
        "not_counted_count": len(report.variance.not_counted),
        "moved_count": len(report.moved),
        # two places like every amount (a sheet with nothing counted yet said "0")
        "net_value": report.variance.net_value.amount.quantize(Decimal("0.01")),
        "absolute_value": report.variance.absolute_value.amount.quantize(Decimal("0.01")),
        "accuracy": report.variance.accuracy,
        "currency": report.variance.net_value.currency,
    }


def _line(r: selectors.CountRow) -> dict[str, Any]:
    return {
        "sku_id": r.sku_id,
        "sku_code": r.sku_code,
        "expected": r.expected,
        "counted": r.counted,
        "variance": r.variance,
        "adjusted": r.adjusted,
        "on_hand_now": r.on_hand_now,
        "moved": r.moved,
        "unit_cost": r.unit_cost.amount,
        "variance_value": None if r.variance_value is None else r.variance_value.amount,
    }


@router.get("/{store_id}/count-sheets", response=Page[CountSheetOut], auth=perm("inventory.view_countsheet"))
def count_sheet_list(
    request: HttpRequest,
    store_id: int,
    status: Annotated[str, OneOf(CountStatus, blank=True)] = "",
    warehouse_id: int | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    qs = selectors.count_sheet_list(store=_store(store_id), status=status, warehouse_id=warehouse_id)
    return paginate(qs, page, page_size)


@router.post(
    "/{store_id}/count-sheets", response={201: CountReportOut}, auth=perm("inventory.add_countsheet")
)
def count_sheet_create(request: HttpRequest, store_id: int, payload: CountSheetIn) -> Status:
    store = _store(store_id)
    sheet = counts.count_sheet_create(
        actor=principal(request).actor,
        store=store,
        warehouse=_warehouse(store, payload.warehouse_id),
        zone=payload.zone,
        scope=payload.scope,
        sku_ids=payload.sku_ids,
        abc_class=payload.abc_class,
        note=payload.note,
    )
    return Status(201, _report(sheet))


@router.get(
    "/{store_id}/count-sheets/{sheet_id}", response=CountReportOut, auth=perm("inventory.view_countsheet")
)
def count_sheet_detail(request: HttpRequest, store_id: int, sheet_id: int) -> dict[str, Any]:
    return _report(_sheet(_store(store_id), sheet_id))


@router.get(
    "/{store_id}/count-sheets/{sheet_id}/lines",
    response=Page[CountLineOut],
    auth=perm("inventory.view_countsheet"),
)
def count_sheet_lines(
    request: HttpRequest,
    store_id: int,
    sheet_id: int,
    state: Annotated[str, OneOf(selectors.COUNT_LINE_STATES, blank=True)] = "",
    q: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """The sheet's lines by SKU code: ``state`` = ``uncounted`` | ``counted`` | ``variance`` |
    ``moved`` (to recount); ``q``: SKU code or product title."""
    report = selectors.count_sheet_report(sheet=_sheet(_store(store_id), sheet_id))
    data = paginate(selectors.count_report_rows(report, state=state, q=q), page, page_size)
    data["items"] = [_line(r) for r in data["items"]]
    return data


@router.post(
    "/{store_id}/count-sheets/{sheet_id}/start",
    response=CountReportOut,
    auth=perm("inventory.change_countsheet"),
)
def count_sheet_start(request: HttpRequest, store_id: int, sheet_id: int) -> dict[str, Any]:
    sheet = _sheet(_store(store_id), sheet_id)
    return _report(counts.count_sheet_start(actor=principal(request).actor, sheet=sheet))


@router.post(
    "/{store_id}/count-sheets/{sheet_id}/counts",
    response=CountReportOut,
    auth=perm("inventory.change_countsheet"),
)
def count_sheet_enter(
    request: HttpRequest, store_id: int, sheet_id: int, payload: CountsIn
) -> dict[str, Any]:
    sheet = _sheet(_store(store_id), sheet_id)
    entered: dict[int, Any] = {}
    for entry in payload.counts:
        entered[entry.sku_id] = entry.counted
    return _report(counts.count_sheet_enter(actor=principal(request).actor, sheet=sheet, counts=entered))


@router.post(
    "/{store_id}/count-sheets/{sheet_id}/recount",
    response=CountReportOut,
    auth=perm("inventory.change_countsheet"),
)
def count_sheet_recount(
    request: HttpRequest, store_id: int, sheet_id: int, payload: RecountIn
) -> dict[str, Any]:
    sheet = _sheet(_store(store_id), sheet_id)
    counts.count_sheet_recount(actor=principal(request).actor, sheet=sheet, sku_ids=payload.sku_ids)
    return _report(sheet)


@router.post(
    "/{store_id}/count-sheets/{sheet_id}/post",
    response=CountReportOut,
    auth=perm("inventory.change_countsheet"),
)
def count_sheet_post(
    request: HttpRequest,
    store_id: int,
    sheet_id: int,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", description=_KEY_HELP),
) -> HttpResponse:
    """Post the variances as ledger adjustments. With an ``Idempotency-Key`` a retry gets the
    first answer again (instead of a 409 ``already_posted``)."""
    store = _store(store_id)
    actor = principal(request).actor

    def book() -> Any:
        sheet = _sheet(store, sheet_id)
        return _answer(CountReportOut, _report(counts.count_sheet_post(actor=actor, sheet=sheet)))

    answer, _created = services.booking_once(
        store=store,
        endpoint="count_sheet.post",
        key=idempotency_key,
        request={"sheet_id": sheet_id},
        book=book,
    )
    return _send(200, answer)


@router.post(
    "/{store_id}/count-sheets/{sheet_id}/cancel",
    response=CountReportOut,
    auth=perm("inventory.change_countsheet"),
)
def count_sheet_cancel(
    request: HttpRequest, store_id: int, sheet_id: int, payload: SheetCancelIn
) -> dict[str, Any]:
    sheet = _sheet(_store(store_id), sheet_id)
    return _report(
        counts.count_sheet_cancel(actor=principal(request).actor, sheet=sheet, reason=payload.reason)
    )


# ---- INV-04 ABC classes ----------------------------------------------------------------------


class AbcOut(Schema):
    sku_id: int
    sku_code: str
    abc_class: str
    sales_value: Decimal
    share: Decimal
    window_days: int
    computed_at: dt.datetime
    last_counted_on: dt.date | None
    next_review_on: dt.date

    @staticmethod
    def resolve_sku_code(obj: Any) -> str:
        return str(obj.sku.code)


class AbcSummaryOut(Schema):
    A: int
    B: int
    C: int


@router.get("/{store_id}/abc", response=Page[AbcOut], auth=perm("inventory.view_skuabcclass"))
def abc_list(
    request: HttpRequest,
    store_id: int,
    abc_class: Annotated[str, OneOf(AbcClassChoice, blank=True)] = "",
    q: str = "",
    due: bool = False,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    qs = selectors.abc_class_list(
        store=_store(store_id), abc_class=abc_class, q=q, due_by=timezone.localdate() if due else None
    )
    return paginate(qs, page, page_size)


@router.post("/{store_id}/abc/recompute", response=AbcSummaryOut, auth=perm("inventory.change_skuabcclass"))
def abc_recompute(request: HttpRequest, store_id: int) -> dict[str, int]:
    store = _store(store_id)
    return abc_classes.abc_recompute(
        actor=principal(request).actor,
        store=store,
        playbook=playbook_get(store=store),
        today=timezone.localdate(),
    )


# ---- INV-07 turnover -------------------------------------------------------------------------


def _ratio(value: Any) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value.numerator) / value.denominator).quantize(Decimal("0.001"))


class ProductTurnoverOut(Schema):
    product_id: int
    product_code: str
    title: str
    category_name: str
    units_sold: int
    average_inventory: Decimal
    on_hand: int
    turnover: Decimal | None
    days_of_cover: Decimal | None
    slow: bool
    new: bool


class CategoryTurnoverOut(Schema):
    category_id: int
    category_name: str
    products: int
    sales_cost: Decimal
    average_inventory_value: Decimal
    turnover: Decimal | None


class TurnoverOut(Schema):
    start: dt.date
    end: dt.date
    period_days: int
    history_from: dt.date | None  # the stock ledger begins within the period: figures since then
    slow_judged: bool  # false while the ledger covers less than a whole period
    products: list[ProductTurnoverOut]
    categories: list[CategoryTurnoverOut]


@router.get("/{store_id}/turnover", response=TurnoverOut, auth=perm("inventory.view_stock"))
def turnover(request: HttpRequest, store_id: int, slow_only: bool = False) -> dict[str, Any]:
    store = _store(store_id)
    report = selectors.turnover_report(
        store=store, today=timezone.localdate(), playbook=playbook_get(store=store)
    )
    return {
        "start": report.start,
        "end": report.end,
        "period_days": report.period_days,
        "history_from": report.history_from,
        "slow_judged": report.slow_judged,
        "products": [
            {
                "product_id": r.product_id,
                "product_code": r.product_code,
                "title": r.title,
                "category_name": r.category_name,
                "units_sold": r.units_sold,
                "average_inventory": _ratio(r.average_inventory),
                "on_hand": r.on_hand,
                "turnover": _ratio(r.turnover),
                "days_of_cover": _ratio(r.days_of_cover),
                "slow": r.slow,
                "new": r.new,
            }
            for r in report.products
            if r.slow or not slow_only
        ],
        "categories": [
            {
                "category_id": c.category_id,
                "category_name": c.category_name,
                "products": c.products,
                "sales_cost": c.sales_cost,
                "average_inventory_value": c.average_inventory_value,
                "turnover": _ratio(c.turnover),
            }
            for c in report.categories
        ],
    }


class SkuTurnoverOut(Schema):
    sku_id: int
    sku_code: str
    attributes: dict[str, Any]
    product_id: int
    product_code: str
    title: str
    category_name: str
    units_sold: int  # the product's units sold, split over its SKUs
    average_inventory: Decimal
    on_hand: int
    turnover: Decimal | None
    days_of_cover: Decimal | None
    slow: bool
    new: bool
    product_slow: bool  # the whole product is slow (the INV-07 finding is the product's)


class SkuTurnoverReportOut(Schema):
    start: dt.date
    end: dt.date
    period_days: int
    history_from: dt.date | None  # the stock ledger begins within the period: figures since then
    slow_judged: bool  # false while the ledger covers less than a whole period
    skus: list[SkuTurnoverOut]


@router.get("/{store_id}/turnover/skus", response=SkuTurnoverReportOut, auth=perm("inventory.view_stock"))
def turnover_skus(request: HttpRequest, store_id: int, slow_only: bool = False) -> dict[str, Any]:
    """INV-07 per SKU: units sold ÷ average on-hand units of the SKU over the period."""
    store = _store(store_id)
    report = selectors.turnover_report(
        store=store, today=timezone.localdate(), playbook=playbook_get(store=store), skus=True
    )
    return {
        "start": report.start,
        "end": report.end,
        "period_days": report.period_days,
        "history_from": report.history_from,
        "slow_judged": report.slow_judged,
        "skus": [
            {
                "sku_id": r.sku_id,
                "sku_code": r.sku_code,
                "attributes": r.attributes,
                "product_id": r.product_id,
                "product_code": r.product_code,
                "title": r.title,
                "category_name": r.category_name,
                "units_sold": r.units_sold,
                "average_inventory": _ratio(r.average_inventory),
                "on_hand": r.on_hand,
                "turnover": _ratio(r.turnover),
                "days_of_cover": _ratio(r.days_of_cover),
                "slow": r.slow,
                "new": r.new,
                "product_slow": r.product_slow,
            }
            for r in report.skus
            if r.slow or not slow_only
        ],
    }
