"""Inventory API (SOP INV-01, INV-03): warehouses, stock, movements, the ledger, replenishment
suggestions and channel stock shares. Every write is a service call."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema

from storeops.accounts.access import perm, principal
from storeops.core.api import Page, paginate
from storeops.core.errors import NotFound
from storeops.inventory import selectors, services
from storeops.inventory.models import Stock, StockMove, Warehouse, Zone
from storeops.stores.models import Channel, Store
from storeops.stores.selectors import playbook_get

router = Router(tags=["inventory"])


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
    zone: str = Zone.SELLABLE


class AdjustIn(Schema):
    sku_id: int
    warehouse_id: int
    delta: int
    reason: str
    zone: str = Zone.SELLABLE
    reference: str = ""


class TransferIn(Schema):
    sku_id: int
    from_warehouse_id: int
    to_warehouse_id: int
    quantity: int
    reason: str
    from_zone: str = Zone.SELLABLE
    to_zone: str = Zone.SELLABLE
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


class RuleIn(Schema):
    channel_id: int
    sku_id: int | None = None
    mode: Literal["ratio", "fixed"] = "ratio"
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


class OfferOut(Schema):
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
def warehouse_create(request: HttpRequest, store_id: int, payload: WarehouseIn) -> tuple[int, Warehouse]:
    store = _store(store_id)
    return 201, services.warehouse_create(actor=principal(request).actor, store=store, **payload.dict())


@router.get("/{store_id}/stock", response=Page[StockOut], auth=perm("inventory.view_stock"))
def stock_list(
    request: HttpRequest,
    store_id: int,
    warehouse_id: int | None = None,
    zone: str = "",
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


@router.post("/{store_id}/stock/moves", response={201: MoveOut}, auth=perm("inventory.add_stockmove"))
def stock_move(request: HttpRequest, store_id: int, payload: MoveIn) -> tuple[int, StockMove]:
    store = _store(store_id)
    actor = principal(request).actor
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
    return 201, move


@router.post("/{store_id}/stock/adjust", response={201: MoveOut}, auth=perm("inventory.change_stock"))
def stock_adjust(request: HttpRequest, store_id: int, payload: AdjustIn) -> tuple[int, StockMove]:
    store = _store(store_id)
    return 201, services.stock_adjust(
        actor=principal(request).actor,
        sku=_sku(store, payload.sku_id),
        warehouse=_warehouse(store, payload.warehouse_id),
        delta=payload.delta,
        reason=payload.reason,
        zone=payload.zone,
        reference=payload.reference,
    )


@router.post(
    "/{store_id}/stock/transfer", response={201: list[MoveOut]}, auth=perm("inventory.add_stockmove")
)
def stock_transfer(request: HttpRequest, store_id: int, payload: TransferIn) -> tuple[int, list[StockMove]]:
    store = _store(store_id)
    out, into = services.stock_transfer(
        actor=principal(request).actor,
        sku=_sku(store, payload.sku_id),
        from_warehouse=_warehouse(store, payload.from_warehouse_id),
        to_warehouse=_warehouse(store, payload.to_warehouse_id),
        quantity=payload.quantity,
        reason=payload.reason,
        from_zone=payload.from_zone,
        to_zone=payload.to_zone,
        reference=payload.reference,
    )
    return 201, [out, into]


@router.get("/{store_id}/ledger", response=Page[MoveOut], auth=perm("inventory.view_stockmove"))
def ledger(
    request: HttpRequest,
    store_id: int,
    sku_id: int | None = None,
    warehouse_id: int | None = None,
    kind: str = "",
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


@router.get("/{store_id}/replenishment", response=list[ReplenishmentOut], auth=perm("inventory.view_stock"))
def replenishment(request: HttpRequest, store_id: int, alerts_only: bool = False) -> list[dict[str, Any]]:
    store = _store(store_id)
    rows = selectors.replenishment_suggestions(
        store=store, today=timezone.localdate(), playbook=playbook_get(store=store), alerts_only=alerts_only
    )
    return [
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
        }
        for r in rows
    ]


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
    "/{store_id}/channel-offers", response=list[OfferOut], auth=perm("inventory.view_channelstockoffer")
)
def channel_offer_list(request: HttpRequest, store_id: int, channel_id: int | None = None) -> list[Any]:
    return list(selectors.channel_offer_list(store=_store(store_id), channel_id=channel_id))


@router.post(
    "/{store_id}/channel-offers/sync",
    response=list[OfferOut],
    auth=perm("inventory.change_channelstockoffer"),
)
def channel_offer_sync(request: HttpRequest, store_id: int) -> list[Any]:
    store = _store(store_id)
    services.channel_stock_recompute(store=store)
    return list(selectors.channel_offer_list(store=store))
