from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from storeops.sop.models import Finding


def finding_list(
    *,
    store_id: int | None = None,
    status: str | None = None,
    severity: str | None = None,
    rule: str | None = None,
    owner_role: str | None = None,
    q: str = "",
    overdue: bool | None = None,
) -> QuerySet[Finding]:
    from django.utils import timezone

    qs = Finding.objects.select_related("store", "channel")
    if store_id:
        qs = qs.filter(store_id=store_id)
    if status == "unresolved":
        qs = qs.exclude(status=Finding.Status.RESOLVED)
    elif status:
        qs = qs.filter(status=status)
    if severity:
        qs = qs.filter(severity=severity)
    if rule:
        qs = qs.filter(rule_id__iexact=rule)
    if owner_role:
        qs = qs.filter(owner_role=owner_role)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(subject_key__icontains=q))
    if overdue:
        qs = qs.exclude(status=Finding.Status.RESOLVED).filter(due_at__lt=timezone.now())
    return qs.order_by("status", "-severity", "due_at", "-id")


def finding_counts(*, store_id: int | None = None) -> dict[str, int]:
    qs = Finding.objects.exclude(status=Finding.Status.RESOLVED)
    if store_id:
        qs = qs.filter(store_id=store_id)
    counts = dict(qs.values_list("severity").annotate(n=Count("id")).values_list("severity", "n"))
    return {s: counts.get(s, 0) for s in Finding.Severity.values}
