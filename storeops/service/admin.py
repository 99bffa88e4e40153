"""Admin for customer-service data. Reply scripts are edited here (audited); tickets, reviews,
invitations and reports change only through services, so they are read-only."""

from __future__ import annotations

from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from storeops.audit.admin_mixins import AuditedAdminMixin
from storeops.service.models import (
    ComplaintReport,
    Incident,
    ReplyScript,
    Review,
    ReviewInvitation,
    Ticket,
    TicketMessage,
    TicketTransfer,
)


class _ReadOnly(AuditedAdminMixin, ModelAdmin):
    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(ReplyScript)
class ReplyScriptAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("title", "store", "category", "is_quick", "auto_answer", "is_active", "uses")
    list_filter = ("store", "category", "is_quick", "auto_answer", "is_active")
    search_fields = ("title", "body")


class _MessageInline(TabularInline):
    model = TicketMessage
    extra = 0
    can_delete = False
    readonly_fields = ("sent_at", "author_kind", "author", "body", "script")


class _TransferInline(TabularInline):
    model = TicketTransfer
    extra = 0
    can_delete = False
    readonly_fields = ("at", "from_user", "to_user", "by_user", "reason")


@admin.register(Ticket)
class TicketAdmin(_ReadOnly):
    list_display = ("id", "subject", "store", "kind", "category", "tier", "status", "owner", "opened_at")
    list_filter = ("store", "kind", "category", "tier", "status", "high_value")
    search_fields = ("subject", "customer_ref", "order_ref")
    inlines = (_MessageInline, _TransferInline)


@admin.register(Review)
class ReviewAdmin(_ReadOnly):
    list_display = ("order_ref", "sku_code", "customer_ref", "rating", "created_at", "reward_coupon")
    list_filter = ("store", "rating")
    search_fields = ("order_ref", "sku_code", "customer_ref")


@admin.register(ReviewInvitation)
class ReviewInvitationAdmin(_ReadOnly):
    list_display = (
        "order_ref",
        "channel",
        "delivered_at",
        "due_at",
        "sent_at",
        "coupon_promised",
        "attempts",
    )
    list_filter = ("store", "coupon_promised")
    search_fields = ("order_ref",)


@admin.register(ComplaintReport)
class ComplaintReportAdmin(_ReadOnly):
    list_display = ("store", "period_start", "period_end", "generated_at")
    list_filter = ("store",)


@admin.register(Incident)
class IncidentAdmin(_ReadOnly):
    list_display = (
        "title",
        "store",
        "status",
        "started_at",
        "ended_at",
        "noticed_count",
        "compensated_count",
    )
    list_filter = ("store", "status")
    search_fields = ("title",)
