"""Admin for orders: read-only. Orders, payments and refunds change only through the order
services (state machine, stock, money invariants); the admin is for looking things up."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from unfold.admin import ModelAdmin, TabularInline

from storeops.audit.admin_mixins import AuditedAdminMixin
from storeops.orders.models import (
    AccountFreeze,
    CustomerNotification,
    InvoiceRequest,
    Order,
    OrderEvent,
    OrderGroup,
    OrderImport,
    OrderImportMapping,
    OrderLine,
    Payment,
    PaymentCallback,
    PaymentRefund,
)


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _LineInline(_ReadOnly, TabularInline):
    model = OrderLine
    extra = 0
    fields = (
        "position",
        "sku_code",
        "quantity",
        "unit_price",
        "discount",
        "paid_total",
        "refunded_qty",
        "refunded_amount",
    )
    readonly_fields = fields


class _EventInline(_ReadOnly, TabularInline):
    model = OrderEvent
    extra = 0
    fields = ("created_at", "kind", "from_status", "to_status", "note", "actor_label")
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(AuditedAdminMixin, _ReadOnly, ModelAdmin):
    list_display = (
        "number",
        "store",
        "channel",
        "customer_ref",
        "status",
        "payable",
        "paid_amount",
        "refunded_amount",
        "created_at",
    )
    list_filter = ("status", "source", "store", "channel")
    search_fields = ("number", "customer_ref", "receiver")
    exclude = ("phone",)
    inlines = (_LineInline, _EventInline)


@admin.register(Payment)
class PaymentAdmin(AuditedAdminMixin, _ReadOnly, ModelAdmin):
    list_display = ("reference", "order", "provider", "amount", "status", "created_at", "settled_at")
    list_filter = ("status", "provider")
    search_fields = ("reference", "provider_txn_id", "order__number")


@admin.register(PaymentCallback)
class PaymentCallbackAdmin(AuditedAdminMixin, _ReadOnly, ModelAdmin):
    list_display = ("received_at", "provider", "event_id", "outcome", "valid_signature", "result")
    list_filter = ("provider", "valid_signature", "result")
    search_fields = ("event_id",)


@admin.register(PaymentRefund)
class PaymentRefundAdmin(AuditedAdminMixin, _ReadOnly, ModelAdmin):
    list_display = ("reference", "order", "amount", "status", "reason", "created_at")
    search_fields = ("reference", "order__number")


@admin.register(AccountFreeze)
class AccountFreezeAdmin(AuditedAdminMixin, _ReadOnly, ModelAdmin):
    list_display = ("customer_ref", "store", "reason", "order", "frozen_by", "frozen_at", "lifted_at")
    list_filter = ("store",)
    search_fields = ("customer_ref", "order__number")


@admin.register(CustomerNotification)
class CustomerNotificationAdmin(AuditedAdminMixin, _ReadOnly, ModelAdmin):
    list_display = ("sent_at", "order", "purpose", "channel", "delivered", "actor_label")
    list_filter = ("channel", "delivered")
    search_fields = ("order__number", "purpose")


@admin.register(OrderImport)
class OrderImportAdmin(AuditedAdminMixin, _ReadOnly, ModelAdmin):
    list_display = (
        "created_at",
        "store",
        "channel",
        "file_name",
        "file_format",
        "status",
        "orders_created",
        "orders_existing",
        "orders_unreserved",
        "actor_label",
    )
    list_filter = ("status", "store", "channel")
    search_fields = ("file_name",)


@admin.register(OrderImportMapping)
class OrderImportMappingAdmin(AuditedAdminMixin, _ReadOnly, ModelAdmin):
    list_display = ("name", "store", "channel_kind", "updated_at")
    list_filter = ("store", "channel_kind")
    search_fields = ("name",)


@admin.register(InvoiceRequest)
class InvoiceRequestAdmin(AuditedAdminMixin, _ReadOnly, ModelAdmin):
    """Invoices are requested, issued and reversed through the invoice services (ORD-07)."""

    list_display = ("order", "store", "kind", "title", "amount", "status", "invoice_number", "issued_at")
    list_filter = ("status", "kind", "store")
    search_fields = ("order__number", "title", "tax_id", "invoice_number")


@admin.register(OrderGroup)
class OrderGroupAdmin(AuditedAdminMixin, _ReadOnly, ModelAdmin):
    list_display = ("code", "store", "offer", "size", "status", "created_at", "expires_at", "formed_at")
    list_filter = ("status",)
    search_fields = ("code", "leader_ref")
