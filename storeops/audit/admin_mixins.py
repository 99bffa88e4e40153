"""Admin helpers: every change made in the admin is written to the operation log too (STORE-05).

:class:`AuditedAdminMixin` covers each way the admin writes business data:

- the object itself (``save_model`` / ``delete_model`` / ``delete_queryset``; the change list's
  editable columns go through ``save_model`` as well);
- its many-to-many fields (``save_related``: the product's tags, a coupon template's
  categories, a group's permissions), one ``<model>.update`` entry with the ids before/after;
- its inlines (``save_formset``: SKUs, images and documents of a product, a supplier's
  certifications, a launch plan's checklist and KPI rows, …), one entry per inline row added,
  changed or deleted, with the row's own before/after.

Every admin registered on ``django.contrib.admin.site`` uses the mixin; a test walks the
registry so a new admin cannot forget it (``tests/audit/test_admin_audit.py``).
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.http import HttpRequest

from storeops.audit.services import audit_record, snapshot
from storeops.core.context import Actor


def _m2m_state(obj: models.Model, names: list[str]) -> dict[str, list[Any]]:
    """The ids behind each many-to-many field ``names`` of ``obj``, sorted (from the database)."""
    if obj.pk is None:
        return {name: [] for name in names}
    return {name: sorted(getattr(obj, name).values_list("pk", flat=True)) for name in names}


class AuditedAdminMixin:
    """Wrap the admin's writes in a transaction that appends audit entries."""

    audit_store_field = "store_id"

    def _store_id(self, obj: Any) -> int | None:
        if obj.__class__.__name__ == "Store":
            return int(obj.pk)
        value = getattr(obj, self.audit_store_field, None)
        if value is None:
            # a row without a store of its own (an inline's SKU, image, checklist item, …)
            # belongs to the store of the object it hangs from
            for field in obj._meta.fields:
                if field.many_to_one and getattr(obj, field.attname, None) is not None:
                    value = getattr(getattr(obj, field.name), "store_id", None)
                    if value is not None:
                        break
        return value

    def _actor(self, request: HttpRequest) -> Actor:
        return Actor(user=request.user, via="admin")  # type: ignore[arg-type]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            before = snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else None
            super().save_model(request, obj, form, change)  # type: ignore[misc]
            audit_record(
                actor=self._actor(request),
                action=f"{obj._meta.model_name}.{'update' if change else 'create'}",
                obj=obj,
                store_id=self._store_id(obj),
                before=before if before is not None else {},
                after=snapshot(obj),
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            audit_record(
                actor=self._actor(request),
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

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Many-to-many fields of the form (saved here by ``form.save_m2m``) and the inlines."""
        obj = form.instance
        names = [f.name for f in obj._meta.many_to_many if f.name in getattr(form, "fields", {})]
        with transaction.atomic():
            before = _m2m_state(obj, names) if change else {name: [] for name in names}
            super().save_related(request, form, formsets, change)  # type: ignore[misc]
            after = _m2m_state(obj, names)
            if names and before != after:
                audit_record(
                    actor=self._actor(request),
                    action=f"{obj._meta.model_name}.update",
                    obj=obj,
                    store_id=self._store_id(obj),
                    before=before,
                    after=after,
                )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """One entry per inline row added, changed or deleted (the row's own before/after)."""
        model = formset.model
        deleted = {id(f.instance) for f in getattr(formset, "deleted_forms", [])}
        touched = {
            id(f.instance): f.instance.pk
            for f in formset.initial_forms
            if f.instance.pk is not None and (id(f.instance) in deleted or f.has_changed())
        }
        parent_store = self._store_id(form.instance)
        actor = self._actor(request)
        with transaction.atomic():
            rows = {row.pk: snapshot(row) for row in model._default_manager.filter(pk__in=touched.values())}
            before = {key: rows.get(pk, {}) for key, pk in touched.items()}
            super().save_formset(request, form, formset, change)  # type: ignore[misc]
            for row in formset.deleted_objects:  # the row's pk is None once deleted
                audit_record(
                    actor=actor,
                    action=f"{model._meta.model_name}.delete",
                    obj=row,
                    object_id=touched.get(id(row)),
                    store_id=self._store_id(row) or parent_store,
                    before=before.get(id(row)) or snapshot(row),
                    after={},
                )
            for row, _fields in formset.changed_objects:
                audit_record(
                    actor=actor,
                    action=f"{model._meta.model_name}.update",
                    obj=row,
                    store_id=self._store_id(row) or parent_store,
                    before=before.get(id(row), {}),
                    after=snapshot(row),
                )
            for row in formset.new_objects:
                audit_record(
                    actor=actor,
                    action=f"{model._meta.model_name}.create",
                    obj=row,
                    store_id=self._store_id(row) or parent_store,
                    before={},
                    after=snapshot(row),
                )
