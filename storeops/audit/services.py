"""Writing the operation log. Every service that changes business data calls
:func:`audit_record` inside its transaction, so the entry commits or rolls back with it."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models
from django.db.models.fields.files import FieldFile

from storeops.audit.models import AuditEntry
from storeops.core.context import Actor


def _json_safe(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, FieldFile):
        return value.name or None
    return value


# Never copied into the log: secrets stay where they are (SOP RISK-05).
SECRET_FIELDS = frozenset({"password", "key_hash", "secret", "token"})


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The concrete field values of ``obj`` as JSON-safe data (foreign keys as ids, secrets masked)."""
    names = set(fields) if fields is not None else None
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if names is not None and field.name not in names:
            continue
        if field.name in SECRET_FIELDS:
            # a fingerprint shows *that* a secret changed without keeping anything usable
            raw = str(getattr(obj, field.attname) or "")
            data[field.name] = "***" + hashlib.sha256(raw.encode()).hexdigest()[:8] if raw else ""
            continue
        data[field.attname if field.is_relation else field.name] = _json_safe(getattr(obj, field.attname))
    return data


def diff(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys that changed, for compact before/after records."""
    before = dict(before or {})
    after = dict(after or {})
    keys = [k for k in {*before, *after} if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    object_repr: str | None = None,
    store_id: int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    note: str = "",
) -> AuditEntry:
    """Append one entry. ``before``/``after`` are reduced to the keys that changed."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id if object_id is not None else obj.pk
        object_repr = object_repr if object_repr is not None else str(obj)[:200]
    if before is not None and after is not None:
        before, after = diff(before, after)
    return AuditEntry.objects.create(
        actor=actor.user if actor.user is not None and actor.user.pk else None,
        actor_label=actor.label[:150],
        via=actor.via[:20],
        action=action,
        object_type=object_type or "",
        object_id=str(object_id if object_id is not None else ""),
        object_repr=(object_repr or "")[:200],
        store_id=store_id,
        before=_json_safe(before) if before is not None else None,
        after=_json_safe(after) if after is not None else None,
        note=note,
    )
