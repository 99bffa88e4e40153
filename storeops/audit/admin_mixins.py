"""Admin helpers: every change made in the admin is written to the operation log too."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest

from storeops.audit.services import audit_record, snapshot
from storeops.core.context import Actor


class AuditedAdminMixin:
    """Wrap the admin's save/delete in a transaction that appends an audit entry."""

    audit_store_field = "store_id"

    def _store_id(self, obj: Any) -> int | None:
        if obj.__class__.__name__ == "Store":
            return int(obj.pk)
        return getattr(obj, self.audit_store_field, None)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            before = snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else None
            super().save_model(request, obj, form, change)  # type: ignore[misc]
            audit_record(
                actor=Actor(user=request.user, via="admin"),
                action=f"{obj._meta.model_name}.{'update' if change else 'create'}",
                obj=obj,
                store_id=self._store_id(obj),
                before=before if before is not None else {},
                after=snapshot(obj),
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            audit_record(
                actor=Actor(user=request.user, via="admin"),
                action=f"{obj._meta.model_name}.delete",
                obj=obj,
                store_id=self._store_id(obj),
                before=snapshot(obj),
                after={},
            )
            super().delete_model(request, obj)  # type: ignore[misc]

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)
