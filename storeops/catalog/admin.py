"""Admin for catalog data. Every save is audited (AuditedAdminMixin). Status, prices and the
listing audit change only through services, so those fields are read-only here."""

from __future__ import annotations

from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from storeops.audit.admin_mixins import AuditedAdminMixin
from storeops.catalog.models import (
    BannedWordList,
    Category,
    ChannelListing,
    ListingAudit,
    MarketCategoryStat,
    Product,
    ProductDocument,
    ProductImage,
    ProductSupplier,
    SalesDaily,
    Sku,
    Supplier,
    SupplierCertification,
    SupplyRecord,
    Tag,
)


class _StoreViaProduct(AuditedAdminMixin):
    def _store_id(self, obj: object) -> int | None:
        product = getattr(obj, "product", None)
        return getattr(product, "store_id", None) or getattr(obj, "store_id", None)


@admin.register(Category)
class CategoryAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("code", "name", "parent", "store")
    list_filter = ("store",)
    search_fields = ("code", "name")


@admin.register(Tag)
class TagAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("name", "kind", "store")
    list_filter = ("kind", "store")
    search_fields = ("name",)


class SkuInline(TabularInline):
    model = Sku
    extra = 0
    fields = ("code", "attributes", "barcode", "price", "cost", "weight_g", "is_fragile", "is_active")
    readonly_fields = ("price", "cost")


class ImageInline(TabularInline):
    model = ProductImage
    extra = 0


class DocumentInline(TabularInline):
    model = ProductDocument
    extra = 0


@admin.register(Product)
class ProductAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("code", "title", "category", "status", "is_key", "listed_on", "store")
    list_filter = ("status", "is_key", "store")
    search_fields = ("code", "title", "core_word")
    readonly_fields = ("status", "listed_on")
    filter_horizontal = ("tags",)
    inlines = [SkuInline, ImageInline, DocumentInline]


@admin.register(ListingAudit)
class ListingAuditAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("product", "created_at", "outcome", "passed", "decision")
    list_filter = ("outcome", "decision")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(BannedWordList)
class BannedWordListAdmin(AuditedAdminMixin, ModelAdmin):
    """Read-only here: edit through the API or services so the version and re-scan follow."""

    list_display = ("store", "version", "updated_at")
    readonly_fields = ("store", "words", "version", "updated_at")

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(ChannelListing)
class ChannelListingAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("product", "channel", "status", "list_at", "delist_at", "delist_reason")
    list_filter = ("status", "delist_reason")

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(SalesDaily)
class SalesDailyAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = (
        "product",
        "channel",
        "day",
        "visitors",
        "buyers",
        "clicks",
        "add_to_cart",
        "units",
        "revenue",
        "stock_on_hand",
    )
    list_filter = ("channel",)
    date_hierarchy = "day"


class CertificationInline(TabularInline):
    model = SupplierCertification
    extra = 0


@admin.register(Supplier)
class SupplierAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("code", "name", "payment_term_days", "small_batch_customisation", "is_active", "store")
    list_filter = ("is_active", "store")
    search_fields = ("code", "name")
    inlines = [CertificationInline]


@admin.register(SupplyRecord)
class SupplyRecordAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = (
        "supplier",
        "reference",
        "ordered_on",
        "due_on",
        "delivered_on",
        "stocked_out",
        "qc_samples",
        "qc_passed",
    )
    list_filter = ("stocked_out",)


@admin.register(ProductSupplier)
class ProductSupplierAdmin(_StoreViaProduct, ModelAdmin):
    list_display = ("product", "supplier", "is_primary")


@admin.register(MarketCategoryStat)
class MarketCategoryStatAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = (
        "category_name",
        "period_end",
        "growth_30d",
        "listings",
        "search_popularity",
        "conversion_rate",
    )
    search_fields = ("category_name",)
