"""Admin for marketing data. Campaign status and approvals change only through the services
(PROMO-05), so campaigns are read-only here; ad benchmarks may be edited (audited)."""

from __future__ import annotations

from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from storeops.audit.admin_mixins import AuditedAdminMixin
from storeops.marketing.models import (
    AdKeyword,
    AdPlan,
    Campaign,
    CampaignApproval,
    CampaignBudgetLine,
    CampaignPhase,
    IndustryCpcBenchmark,
)


class _ReadOnly(AuditedAdminMixin, ModelAdmin):
    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


class _PhaseInline(TabularInline):
    model = CampaignPhase
    extra = 0
    can_delete = False

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


class _BudgetInline(_PhaseInline):
    model = CampaignBudgetLine


class _ApprovalInline(_PhaseInline):
    model = CampaignApproval


@admin.register(Campaign)
class CampaignAdmin(_ReadOnly):
    list_display = ("theme", "store", "kind", "status", "starts_on", "ends_on", "approved_at")
    list_filter = ("kind", "status")
    search_fields = ("theme",)
    inlines = (_PhaseInline, _BudgetInline, _ApprovalInline)


@admin.register(AdPlan)
class AdPlanAdmin(_ReadOnly):
    list_display = ("name", "store", "purpose", "match_type", "daily_budget", "is_active")


@admin.register(AdKeyword)
class AdKeywordAdmin(_ReadOnly):
    list_display = ("keyword", "plan", "bid", "rank", "is_core")


@admin.register(IndustryCpcBenchmark)
class IndustryCpcBenchmarkAdmin(AuditedAdminMixin, ModelAdmin):
    list_display = ("keyword", "category", "average_cpc", "as_of", "store")
