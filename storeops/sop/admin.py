from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from storeops.audit.admin_mixins import AuditedAdminMixin
from storeops.sop.models import CheckRun, Finding, Notification


@admin.register(Finding)
class FindingAdmin(AuditedAdminMixin, ModelAdmin):
    """Findings change state only through the console/API services (audited)."""

    list_display = ("rule_id", "title", "store", "severity", "status", "owner_role", "due_at", "last_seen_at")
    list_filter = ("status", "severity", "rule_id", "owner_role", "store")
    search_fields = ("title", "subject_key")
    readonly_fields = [f.name for f in Finding._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CheckRun)
class CheckRunAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = (
        "rule_id",
        "store",
        "started_at",
        "duration_ms",
        "raised",
        "still_open",
        "resolved",
        "error",
    )
    list_filter = ("rule_id", "store")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("finding", "channel", "recipient", "sent_at", "ok")
    list_filter = ("channel", "ok")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
