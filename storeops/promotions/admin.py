"""Admin for promotions: read-only. Offers and coupons change only through the services
(params are validated against the engine's types; issuance and redemption keep their limits),
i.e. the API and the console, never through a raw admin form."""

from __future__ import annotations

from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from storeops.audit.admin_mixins import AuditedAdminMixin
from storeops.promotions.models import CouponTemplate, IssuedCoupon, Offer, OfferScopeItem, OfferUse


class _ReadOnly(AuditedAdminMixin, ModelAdmin):
    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


class OfferScopeInline(TabularInline):
    model = OfferScopeItem
    extra = 0
    can_delete = False
    fields = ("category", "product", "sku")
    readonly_fields = fields

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Offer)
class OfferAdmin(_ReadOnly):
    list_display = ("id", "store", "title_zh", "kind", "level", "status", "starts_at", "ends_at", "priority")
    list_filter = ("status", "kind", "level")
    search_fields = ("title_zh", "title_en")
    inlines = (OfferScopeInline,)


@admin.register(CouponTemplate)
class CouponTemplateAdmin(_ReadOnly):
    list_display = (
        "name",
        "store",
        "kind",
        "threshold",
        "amount",
        "issue_rule",
        "issued_count",
        "total_quantity",
    )
    list_filter = ("kind", "issue_rule", "is_active")
    search_fields = ("name",)


@admin.register(IssuedCoupon)
class IssuedCouponAdmin(_ReadOnly):
    list_display = (
        "code",
        "template",
        "customer_ref",
        "status",
        "source",
        "valid_until",
        "redeemed_at",
        "order_ref",
    )
    list_filter = ("status", "source")
    search_fields = ("code", "customer_ref", "order_ref")


@admin.register(OfferUse)
class OfferUseAdmin(_ReadOnly):
    list_display = ("offer", "customer_ref", "order_number", "quantity", "used_at", "released_at")
    list_filter = ("released_at",)
    search_fields = ("customer_ref", "order_number")
