"""Admin for logistics data. Carriers and the stores' carrier rules (LOG-03) are edited here
(audited); shipments and tracking events change only through services (tracking ingest
derives the status), so they are read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from storeops.audit.admin_mixins import AuditedAdminMixin
from storeops.core.errors import ValidationError
from storeops.fulfilment.models import (
    Carrier,
    CarrierRule,
    Shipment,
    ShipmentLine,
    ShipmentOrder,
    TrackingEvent,
)
from storeops.fulfilment.services import SECRET_MAX, carrier_rule_clean


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


class CarrierRuleForm(forms.ModelForm):  # type: ignore[type-arg]
    """The provinces are typed as text (新疆、西藏); every field is checked as the API checks it
    (``services.carrier_rule_clean``)."""

    excluded_provinces = forms.CharField(
        label=_("不配送省份"),
        required=False,
        help_text=_("用顿号或逗号分隔，如：新疆、西藏"),
    )

    class Meta:
        model = CarrierRule
        fields = ("store", "carrier", "max_weight_kg", "max_items", "excluded_provinces", "fragile", "note")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["excluded_provinces"] = "、".join(self.instance.excluded_provinces or [])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            values = carrier_rule_clean(
                max_weight_kg=data.get("max_weight_kg"),
                max_items=data.get("max_items"),
                excluded_provinces=data.get("excluded_provinces") or "",
                fragile=data.get("fragile") or "accept",
            )
        except ValidationError as exc:
            for field, message in exc.fields.items():
                self.add_error(field if field in self.fields else None, str(message))
            return data
        data.update(values)
        return data


@admin.register(CarrierRule)
class CarrierRuleAdmin(AuditedAdminMixin, ModelAdmin):
    """LOG-03: what each carrier takes from the store (edited by the warehouse manager)."""

    form = CarrierRuleForm
    list_display = (
        "carrier",
        "store",
        "max_weight_kg",
        "max_items",
        "excluded_provinces",
        "fragile",
        "updated_at",
    )
    list_filter = ("store", "fragile")
    search_fields = ("carrier__code", "carrier__name", "note")


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
