from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from storeops.audit.models import AuditEntry


def audit_list(
    *,
    store_id: int | None = None,
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    actor: str = "",
    q: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.all()
    if store_id:
        qs = qs.filter(store_id=store_id)
    if action:
        qs = qs.filter(action__startswith=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    if q:
        qs = qs.filter(Q(object_repr__icontains=q) | Q(note__icontains=q) | Q(action__icontains=q))
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    return qs.order_by("-at", "-id")
