"""Admin for pricing data. Prices change only through ``price_set`` (PRICE-03), so the price
history and channel prices are read-only here."""

from __future__ import annotations

from django.contrib import admin
from unfold.admin import ModelAdmin

from storeops.audit.admin_mixins import AuditedAdminMixin
from storeops.pricing.models import ChannelPrice, CompetitorPrice, CompetitorProduct, PriceChange, SkuCost


class _ReadOnly(AuditedAdminMixin, ModelAdmin):
    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(PriceChange)
class PriceChangeAdmin(_ReadOnly):
    list_display = ("sku", "channel", "old_price", "new_price", "reason", "actor_label", "at")
    list_filter = ("reason",)
    search_fields = ("sku__code", "note")


@admin.register(ChannelPrice)
class ChannelPriceAdmin(_ReadOnly):
    list_display = ("sku", "channel", "price", "updated_at")


@admin.register(SkuCost)
class SkuCostAdmin(_ReadOnly):
    list_display = ("sku", "operations", "logistics", "tax", "updated_at")


@admin.register(CompetitorProduct)
class CompetitorProductAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("competitor", "name", "product", "is_tracked", "created_at")
    list_filter = ("is_tracked",)
    search_fields = ("competitor", "name")


@admin.register(CompetitorPrice)
class CompetitorPriceAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("competitor_product", "price", "promotion", "observed_at", "source")
