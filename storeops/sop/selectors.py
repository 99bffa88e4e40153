from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Case, Count, F, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy

from storeops.core.queries import get_or_not_found
from storeops.sop.models import Finding

STATUS_CHOICES = Finding.Status.choices
SEVERITY_CHOICES = Finding.Severity.choices


def finding_list(
    *,
    store_id: int | None = None,
    status: str | None = None,
    severity: str | None = None,
    rule: str | None = None,
    rules: Sequence[str] = (),
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
    if rules:
        qs = qs.filter(rule_id__in=rules)
    if owner_role:
        qs = qs.filter(owner_role=owner_role)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(subject_key__icontains=q))
    if overdue:
        qs = qs.exclude(status=Finding.Status.RESOLVED).filter(due_at__lt=timezone.now())
    severity_rank = Case(
        When(severity=Finding.Severity.CRITICAL, then=Value(0)),
        When(severity=Finding.Severity.WARNING, then=Value(1)),
        default=Value(2),
    )
    status_rank = Case(
        When(status=Finding.Status.OPEN, then=Value(0)),
        When(status=Finding.Status.ACKNOWLEDGED, then=Value(1)),
        default=Value(2),
    )
    # the nearest due time first, none last (SQLite and PostgreSQL place NULL differently)
    return qs.order_by(status_rank, severity_rank, F("due_at").asc(nulls_last=True), "-id")


def finding_counts(*, store_id: int | None = None) -> dict[str, int]:
    qs = Finding.objects.exclude(status=Finding.Status.RESOLVED)
    if store_id:
        qs = qs.filter(store_id=store_id)
    counts = dict(qs.values_list("severity").annotate(n=Count("id")).values_list("severity", "n"))
    return {s: counts.get(s, 0) for s in Finding.Severity.values}


def finding_get(*, finding_id: int) -> Finding:
    return get_or_not_found(
        Finding.objects.select_related("store", "channel"), gettext_lazy("问题不存在"), pk=finding_id
    )


def finding_counts_by_rule(*, store_id: int | None, limit: int = 10) -> list[dict[str, Any]]:
    """Unresolved findings per rule, most first: ``[{"rule_id": ..., "n": ...}]``."""
    qs = Finding.objects.exclude(status=Finding.Status.RESOLVED)
    if store_id:
        qs = qs.filter(store_id=store_id)
    return list(qs.values("rule_id").annotate(n=Count("id")).order_by("-n", "rule_id")[:limit])


def finding_flow(*, store_id: int, since: Any, until: Any) -> dict[str, int]:
    """Findings first seen and resolved in ``[since, until)``, and those unresolved at ``until``
    (DATA-06 reports)."""
    qs = Finding.objects.filter(store_id=store_id)
    return {
        "opened": qs.filter(first_seen_at__gte=since, first_seen_at__lt=until).count(),
        "resolved": qs.filter(resolved_at__gte=since, resolved_at__lt=until).count(),
        "unresolved": qs.filter(first_seen_at__lt=until)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=until))
        .count(),
    }
