"""Admin for logistics data. Carriers are edited here (audited); shipments and tracking events
change only through services (tracking ingest derives the status), so they are read-only."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from storeops.audit.admin_mixins import AuditedAdminMixin
from storeops.fulfilment.models import Carrier, Shipment, ShipmentLine, ShipmentOrder, TrackingEvent
from storeops.fulfilment.services import SECRET_MAX


class CarrierForm(forms.ModelForm):  # type: ignore[type-arg]
    """The push-signing secret is never shown (it is stored encrypted, RISK-05): typing one
    replaces it, leaving the field empty keeps it."""

    secret = forms.CharField(
        label=_("推送签名密钥"),
        required=False,
        max_length=SECRET_MAX,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("出于安全不显示已保存的密钥；留空则保持不变"),
    )

    class Meta:
        model = Carrier
        fields = ("code", "name", "adapter", "secret", "is_active")

    def clean_secret(self) -> str:
        typed: str = self.cleaned_data.get("secret") or ""
        return typed or (self.instance.secret if self.instance.pk else "")


@admin.register(Carrier)
class CarrierAdmin(AuditedAdminMixin, ModelAdmin):
    form = CarrierForm
    list_display = ("code", "name", "adapter", "is_active")
    search_fields = ("code", "name")


class _LineInline(TabularInline):
    model = ShipmentLine
    extra = 0
    can_delete = False
    readonly_fields = ("sku_code", "qty")


class _OrderInline(TabularInline):
    model = ShipmentOrder
    extra = 0
    can_delete = False
    readonly_fields = ("order_number",)


class _EventInline(TabularInline):
    model = TrackingEvent
    extra = 0
    can_delete = False
    readonly_fields = ("time", "code", "status", "location", "description", "source")
    exclude = ("raw", "event_key")


@admin.register(Shipment)
class ShipmentAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("tracking_no", "carrier", "order_ref", "status", "province", "created_at", "delivered_at")
    list_filter = ("status", "carrier", "store")
    search_fields = ("tracking_no", "order_ref", "orders__order_number")
    inlines = (_OrderInline, _LineInline, _EventInline)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
