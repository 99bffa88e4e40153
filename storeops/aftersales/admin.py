"""Admin for after-sale cases: read-only (cases change only through the services, which keep
the order, the stock ledger and the refunds in step)."""

from __future__ import annotations

from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from storeops.aftersales.models import AfterSale, AfterSaleEvent, AfterSaleLine
from storeops.audit.admin_mixins import AuditedAdminMixin


class _LineInline(TabularInline):
    model = AfterSaleLine
    extra = 0
    can_delete = False
    readonly_fields = ("order_line", "quantity", "refund_amount", "qc_passed", "qc_failed", "replacement_sku")


class _EventInline(TabularInline):
    model = AfterSaleEvent
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "from_status", "to_status", "note", "actor_label", "created_at")
    exclude = ("data",)


@admin.register(AfterSale)
class AfterSaleAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("number", "order", "kind", "reason", "status", "refund_amount", "due_at", "requested_at")
    list_filter = ("status", "kind", "reason", "store")
    search_fields = ("number", "order__number", "customer_ref")
    inlines = (_LineInline, _EventInline)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
