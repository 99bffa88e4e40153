from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.http import HttpRequest
from unfold.admin import ModelAdmin, StackedInline
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from storeops.accounts.models import ApiToken, UserProfile
from storeops.audit.admin_mixins import AuditedAdminMixin
from storeops.audit.services import audit_record, snapshot

admin.site.unregister(User)
admin.site.unregister(Group)


class ProfileInline(StackedInline):
    model = UserProfile
    can_delete = False
    extra = 0


@admin.register(User)
class UserAdmin(AuditedAdminMixin, BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    inlines = [ProfileInline]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate people; the operation log keeps who did what

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        """The admin's password page saves the user itself (not through ``save_model``): log it
        too, the password as its fingerprint (STORE-05, RISK-05)."""
        with transaction.atomic():
            user = User.objects.filter(pk=id).first() if str(id).isdigit() else None
            before = snapshot(user) if user is not None else None
            response = super().user_change_password(request, id, form_url)
            if user is not None and before is not None and request.method == "POST":
                changed = User.objects.get(pk=user.pk)
                after = snapshot(changed)
                if after != before:
                    audit_record(
                        actor=self._actor(request),
                        action="user.update",
                        obj=changed,
                        before=before,
                        after=after,
                    )
        return response


@admin.register(Group)
class GroupAdmin(AuditedAdminMixin, BaseGroupAdmin, ModelAdmin):
    pass


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdminMixin, ModelAdmin):
    """Tokens are created through the API/console (the secret is shown once); here they are
    listed and can be revoked only."""

    list_display = (
        "name",
        "role",
        "user",
        "created_by",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = ("name", "role", "user", "created_by", "prefix", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
