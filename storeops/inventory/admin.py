"""Admin for inventory. Stock moves only through the inventory services (INV-03), so stock
balances, the ledger and channel offers are read-only here; warehouses and channel stock
rules are edited with the audited admin. Count sheets (INV-05) change only through their
services (posting moves stock) and ABC classes (INV-04) only by recomputing: read-only too."""

from __future__ import annotations

from django.contrib import admin
from unfold.admin import ModelAdmin

from storeops.audit.admin_mixins import AuditedAdminMixin
from storeops.inventory.models import (
    ChannelStockOffer,
    ChannelStockRule,
    CountSheet,
    CountSheetLine,
    SkuAbcClass,
    Stock,
    StockMove,
    Warehouse,
)


class _ReadOnly(AuditedAdminMixin, ModelAdmin):
    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Warehouse)
class WarehouseAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("code", "name", "store", "region", "latitude", "longitude", "is_active")
    list_filter = ("store", "is_active")
    search_fields = ("code", "name", "region")


@admin.register(Stock)
class StockAdmin(_ReadOnly):
    list_display = ("sku", "warehouse", "zone", "on_hand", "reserved", "updated_at")
    list_filter = ("zone", "warehouse")
    search_fields = ("sku__code",)


@admin.register(StockMove)
class StockMoveAdmin(_ReadOnly):
    list_display = (
        "created_at",
        "stock",
        "kind",
        "quantity",
        "on_hand_after",
        "reserved_after",
        "reason",
        "reference",
    )
    list_filter = ("kind",)
    search_fields = ("reference", "stock__sku__code")


@admin.register(ChannelStockRule)
class ChannelStockRuleAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("channel", "sku", "mode", "ratio", "fixed_quantity", "reserve")


@admin.register(ChannelStockOffer)
class ChannelStockOfferAdmin(_ReadOnly):
    list_display = ("channel", "sku", "quantity", "computed_at", "pushed_at")


class CountSheetLineInline(admin.TabularInline):
    model = CountSheetLine
    extra = 0
    can_delete = False
    fields = ("sku", "expected", "counted", "variance", "adjusted", "counted_at")
    readonly_fields = fields

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(CountSheet)
class CountSheetAdmin(_ReadOnly):
    list_display = ("number", "store", "warehouse", "zone", "status", "scope", "created_by", "created_at")
    list_filter = ("status", "scope", "warehouse")
    search_fields = ("number",)
    inlines = (CountSheetLineInline,)


@admin.register(SkuAbcClass)
class SkuAbcClassAdmin(_ReadOnly):
    list_display = (
        "sku",
        "abc_class",
        "sales_value",
        "share",
        "last_counted_on",
        "next_review_on",
        "computed_at",
    )
    list_filter = ("abc_class", "store")
    search_fields = ("sku__code",)
