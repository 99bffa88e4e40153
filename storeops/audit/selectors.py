from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy

from storeops.audit.models import AuditEntry

# Where a change came from (``Actor.via``), as the operation log shows it.
VIA_LABELS = {
    "console": gettext_lazy("控制台"),
    "api": "API",
    "token": gettext_lazy("API 令牌"),
    "cli": gettext_lazy("命令行"),
    "task": gettext_lazy("定时任务"),
    "worker": gettext_lazy("后台任务"),
    "payment": gettext_lazy("支付回调"),
    "admin": gettext_lazy("管理后台"),
    "import": gettext_lazy("导入"),
}


def via_label(via: str) -> str:
    """A change's source in the reader's language; a source not listed is shown as stored."""
    return str(VIA_LABELS.get(via, via))


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
