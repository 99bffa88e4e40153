from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline

from storeops.audit.admin_mixins import AuditedAdminMixin
from storeops.stores import playbook as pb
from storeops.stores.models import (
    Channel,
    LaunchChecklistItem,
    LaunchPlan,
    LaunchTarget,
    Playbook,
    Qualification,
    Store,
)


class ChannelInline(TabularInline):
    model = Channel
    extra = 0
    fields = ("kind", "code", "name", "external_shop_id", "is_active", "launched_on")


@admin.register(Store)
class StoreAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("code", "name", "legal_name", "currency", "is_active")
    search_fields = ("code", "name", "legal_name")
    inlines = [ChannelInline]


@admin.register(Channel)
class ChannelAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("name", "store", "kind", "code", "is_active", "launched_on")
    list_filter = ("kind", "is_active", "store")
    search_fields = ("name", "code", "external_shop_id")


@admin.register(Qualification)
class QualificationAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("title", "store", "kind", "issuer", "valid_from", "valid_to")
    list_filter = ("kind", "store")
    search_fields = ("title", "number", "issuer")
    date_hierarchy = "valid_to"


class PlaybookForm(forms.ModelForm):
    class Meta:
        model = Playbook
        fields = ("store", "channel", "values")

    def clean_values(self) -> dict[str, Any]:
        values = self.cleaned_data.get("values") or {}
        if not isinstance(values, dict):
            raise forms.ValidationError(_("必须是 JSON 对象"))
        try:
            return pb.clean_overrides(values)
        except pb.PlaybookInvalid as exc:
            raise forms.ValidationError([f"{k}: {v}" for k, v in exc.errors.items()]) from exc


@admin.register(Playbook)
class PlaybookAdmin(AuditedAdminMixin, ModelAdmin):
    form = PlaybookForm
    list_display = ("store", "channel", "updated_at")


class LaunchItemInline(TabularInline):
    model = LaunchChecklistItem
    extra = 0
    fields = ("step", "done_at", "done_by", "note")


class LaunchTargetInline(TabularInline):
    model = LaunchTarget
    extra = 0
    fields = ("month", "metric", "target", "actual")


@admin.register(LaunchPlan)
class LaunchPlanAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("channel", "store", "status", "planned_go_live", "went_live_on")
    list_filter = ("status",)
    inlines = [LaunchItemInline, LaunchTargetInline]
