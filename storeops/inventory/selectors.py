"""Reads of warehouses, stock, the ledger and channel offers (SOP INV-03)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from storeops.inventory.models import (
    ChannelStockOffer,
    ChannelStockRule,
    MoveKind,
    Stock,
    StockMove,
    Warehouse,
    Zone,
)
from storeops.stores.models import Store
from storeops.stores.playbook import PlaybookSettings

if TYPE_CHECKING:
    from storeops.catalog.models import Sku

ZONE_CHOICES = Zone.choices
MOVE_KIND_CHOICES = MoveKind.choices


def warehouse_list(*, store: Store) -> QuerySet[Warehouse]:
    return Warehouse.objects.filter(store=store).order_by("code")


def warehouse_get(*, store: Store, warehouse_id: int) -> Warehouse | None:
    return Warehouse.objects.filter(store=store, pk=warehouse_id).first()


def sku_get(*, store: Store, sku_id: int) -> Sku | None:
    """A SKU of the store by id (through the stock row's foreign key: catalog models are private)."""
    sku_model: Any = Stock._meta.get_field("sku").related_model
    found: Sku | None = sku_model.objects.filter(store=store, pk=sku_id).first()
    return found


def stock_list(
    *,
    store: Store,
    warehouse_id: int | None = None,
    zone: str = "",
    q: str = "",
    sku_id: int | None = None,
    available_at_most: int | None = None,
) -> QuerySet[Stock]:
    qs = Stock.objects.filter(warehouse__store=store).select_related("sku", "sku__product", "warehouse")
    if warehouse_id:
        qs = qs.filter(warehouse_id=warehouse_id)
    if zone:
        qs = qs.filter(zone=zone)
    if sku_id:
        qs = qs.filter(sku_id=sku_id)
    if q:
        qs = qs.filter(Q(sku__code__icontains=q) | Q(sku__product__title__icontains=q))
    if available_at_most is not None:
        from django.db.models import F

        qs = qs.filter(on_hand__lte=F("reserved") + available_at_most)
    return qs.order_by("sku__code", "warehouse__code", "zone")


def stock_get(*, sku: Sku, warehouse: Warehouse, zone: str = Zone.SELLABLE) -> Stock | None:
    return Stock.objects.filter(sku=sku, warehouse=warehouse, zone=zone).first()


def stock_get_by_id(*, stock_id: int) -> Stock | None:
    return Stock.objects.filter(pk=stock_id).first()


def available_by_sku(*, sku_ids: list[int]) -> dict[int, int]:
    """Sellable available units (on-hand − reserved) per SKU, summed over warehouses."""
    rows = (
        Stock.objects.filter(sku_id__in=sku_ids, zone=Zone.SELLABLE, warehouse__is_active=True)
        .values("sku_id")
        .annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    )
    return {r["sku_id"]: r["on_hand"] - r["reserved"] for r in rows}


def ledger_list(
    *,
    store: Store,
    sku_id: int | None = None,
    warehouse_id: int | None = None,
    kind: str = "",
    reference: str = "",
) -> QuerySet[StockMove]:
    qs = StockMove.objects.filter(stock__warehouse__store=store).select_related(
        "stock", "stock__sku", "stock__warehouse"
    )
    if sku_id:
        qs = qs.filter(stock__sku_id=sku_id)
    if warehouse_id:
        qs = qs.filter(stock__warehouse_id=warehouse_id)
    if kind:
        qs = qs.filter(kind=kind)
    if reference:
        qs = qs.filter(reference=reference)
    return qs.order_by("-id")


@dataclass(frozen=True, slots=True)
class LedgerMismatch:
    stock_id: int
    sku_code: str
    warehouse_code: str
    zone: str
    on_hand: int
    reserved: int
    ledger_on_hand: int
    ledger_reserved: int


def ledger_mismatches(*, store: Store) -> list[LedgerMismatch]:
    """Stock rows whose balance is not the sum of their ledger lines (INV-03; should be none)."""
    rows = (
        Stock.objects.filter(warehouse__store=store)
        .annotate(
            ledger_on_hand=Coalesce(Sum("moves__on_hand_delta"), 0),
            ledger_reserved=Coalesce(Sum("moves__reserved_delta"), 0),
        )
        .values(
            "pk",
            "sku__code",
            "warehouse__code",
            "zone",
            "on_hand",
            "reserved",
            "ledger_on_hand",
            "ledger_reserved",
        )
    )
    return [
        LedgerMismatch(
            stock_id=r["pk"],
            sku_code=r["sku__code"],
            warehouse_code=r["warehouse__code"],
            zone=r["zone"],
            on_hand=r["on_hand"],
            reserved=r["reserved"],
            ledger_on_hand=r["ledger_on_hand"],
            ledger_reserved=r["ledger_reserved"],
        )
        for r in rows
        if r["on_hand"] != r["ledger_on_hand"] or r["reserved"] != r["ledger_reserved"]
    ]


def channel_rule_list(*, store: Store) -> QuerySet[ChannelStockRule]:
    return (
        ChannelStockRule.objects.filter(channel__store=store)
        .select_related("channel", "sku")
        .order_by("channel__code", "sku__code")
    )


def channel_offer_list(*, store: Store, channel_id: int | None = None) -> QuerySet[ChannelStockOffer]:
    qs = ChannelStockOffer.objects.filter(channel__store=store).select_related("channel", "sku")
    if channel_id:
        qs = qs.filter(channel_id=channel_id)
    return qs.order_by("channel__code", "sku__code")


def skus_moved_since(*, store: Store, after_move_id: int) -> tuple[list[int], int]:
    """SKUs of the store with ledger lines after ``after_move_id``, and the last line's id."""
    rows = list(
        StockMove.objects.filter(stock__warehouse__store=store, id__gt=after_move_id).values_list(
            "id", "stock__sku_id"
        )
    )
    return sorted({sku for _, sku in rows}), max((i for i, _ in rows), default=after_move_id)


@dataclass(frozen=True, slots=True)
class Replenishment:
    product_id: int
    product_code: str
    title: str
    available: int
    avg_daily_sales: Fraction
    threshold: Fraction
    days_of_cover: Fraction | None
    alert: bool
    suggested_quantity: int


def replenishment_suggestions(
    *, store: Store, today: dt.date, playbook: PlaybookSettings, alerts_only: bool = False
) -> list[Replenishment]:
    """INV-01 per product: sellable available stock against average daily sales over the
    playbook window; an alert when it covers ``safety_stock_days`` or less, with the
    suggested order quantity (lead time + safety days). Sales statistics are per product, so
    the check is per product (its SKUs' stock summed)."""
    from storeops.catalog.selectors import product_list, sales_window
    from storeops.inventory import rules

    policy = rules.ReplenishmentPolicy(
        safety_stock_days=playbook.safety_stock_days,
        sales_average_window_days=playbook.sales_average_window_days,
        replenishment_lead_time_days=playbook.replenishment_lead_time_days,
    )
    window = policy.sales_average_window_days
    sales = sales_window(
        store=store, start=today - dt.timedelta(days=window), end=today - dt.timedelta(days=1)
    )
    stock_rows = (
        Stock.objects.filter(warehouse__store=store, warehouse__is_active=True, zone=Zone.SELLABLE)
        .values("sku__product_id")
        .annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    )
    available = {r["sku__product_id"]: r["on_hand"] - r["reserved"] for r in stock_rows}
    product_ids = set(available) | {pid for pid, s in sales.items() if s["units"]}
    products = {
        p["pk"]: p
        for p in product_list(store_id=store.pk).filter(pk__in=product_ids).values("pk", "code", "title")
    }
    out: list[Replenishment] = []
    for pid in sorted(product_ids):
        if pid not in products:
            continue
        avg = Fraction(sales.get(pid, {}).get("units", 0), window)
        avail = max(0, available.get(pid, 0))
        status = rules.safety_stock_alert(avail, avg, policy)
        qty = (
            rules.reorder_quantity(available=avail, on_order=0, avg_daily_sales=avg, policy=policy)
            if status.alert
            else 0
        )
        if alerts_only and not status.alert:
            continue
        out.append(
            Replenishment(
                product_id=pid,
                product_code=products[pid]["code"],
                title=products[pid]["title"],
                available=avail,
                avg_daily_sales=avg,
                threshold=status.threshold,
                days_of_cover=status.days_of_cover,
                alert=status.alert,
                suggested_quantity=qty,
            )
        )
    return out


def available_by_warehouse(*, store: Store, sku_ids: list[int]) -> dict[int, dict[int, int]]:
    """Sellable available units per active warehouse and SKU: ``{warehouse_id: {sku_id: n}}``
    (the allocator's input, ORD-02). Warehouses without any of the SKUs are left out."""
    rows = Stock.objects.filter(
        sku_id__in=sku_ids, zone=Zone.SELLABLE, warehouse__store=store, warehouse__is_active=True
    ).values_list("warehouse_id", "sku_id", "on_hand", "reserved")
    out: dict[int, dict[int, int]] = {}
    for warehouse_id, sku_id, on_hand, reserved in rows:
        if on_hand - reserved > 0:
            out.setdefault(warehouse_id, {})[sku_id] = on_hand - reserved
    return out
