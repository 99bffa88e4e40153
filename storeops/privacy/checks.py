"""SOP check DATA-09: a customer's personal-data request not answered by its due time."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone
from django.utils.translation import gettext_noop

from storeops.accounts.roles import Role
from storeops.privacy import selectors
from storeops.privacy.models import RequestKind
from storeops.sop.registry import (
    CheckContext,
    FindingDraft,
    Schedule,
    Severity,
    msgid,
    register_check,
    titled,
)


@register_check(
    rule="DATA-09", title="个人信息请求逾期未答复", owner_role=Role.OWNER, schedule=Schedule.HOURLY
)
def privacy_requests_overdue(ctx: CheckContext) -> Iterator[FindingDraft]:
    """Every open request past its due time (``privacy_request_days`` after it was received)."""
    for request in selectors.requests_overdue(store=ctx.store, now=ctx.now):
        yield FindingDraft(
            subject_key=f"privacy-request:{request.pk}",
            subject_type="privacy.datarequest",
            subject_id=str(request.pk),
            severity=Severity.CRITICAL,
            due_at=ctx.now,
            detail={
                "customer_ref": request.customer_ref,
                "kind": request.kind,
                "due_at": request.due_at.isoformat(),
            },
            **titled(
                gettext_noop("顾客 %(customer)s 的个人信息%(kind)s请求已逾期（期限 %(due)s）"),
                customer=request.customer_ref,
                kind=msgid(RequestKind(request.kind).label),
                due=f"{timezone.localtime(request.due_at):%Y-%m-%d %H:%M}",
            ),
        )
