from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from storeops.audit.admin_mixins import AuditedAdminMixin
from storeops.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(AuditedAdminMixin, ModelAdmin):
    """Read-only: the operation log cannot be added to, changed or deleted from the admin."""

    list_display = ("at", "actor_label", "via", "action", "object_type", "object_repr", "store_id")
    list_filter = ("via", "object_type")
    search_fields = ("action", "object_repr", "actor_label", "object_id")
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
