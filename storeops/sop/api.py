from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from storeops.accounts.access import perm, principal
from storeops.accounts.roles import Role
from storeops.core.api import OneOf, Page, paginate
from storeops.sop import selectors, services
from storeops.sop.models import Finding
from storeops.sop.registry import all_checks
from storeops.stores.models import Store

router = Router(tags=["findings"])


class FindingOut(Schema):
    id: int
    store_id: int
    channel_id: int | None
    rule_id: str
    subject_key: str
    title: str
    detail: dict[str, Any]
    severity: str
    owner_role: str
    status: str
    due_at: dt.datetime | None
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    occurrences: int
    resolved_at: dt.datetime | None
    resolution: str
    resolution_note: str

    @staticmethod
    def resolve_title(obj: Finding) -> str:
        return obj.display_title


class NoteIn(Schema):
    note: str = ""


class CheckOut(Schema):
    rule: str
    title: str
    owner_role: str
    schedule: str


class RunIn(Schema):
    rule: str | None = None
    store_id: int | None = None


class RunOut(Schema):
    rule: str
    store_id: int
    raised: int
    still_open: int
    resolved: int
    error: str


@router.get("/", response=Page[FindingOut], auth=perm("sop.view_finding"))
def finding_list(
    request: HttpRequest,
    store_id: int | None = None,
    status: Annotated[str, OneOf([*Finding.Status.values, "unresolved"], blank=True)] | None = None,
    severity: Annotated[str, OneOf(Finding.Severity, blank=True)] | None = None,
    rule: str | None = None,
    owner_role: Annotated[str, OneOf(Role, blank=True)] | None = None,
    q: str = "",
    overdue: bool | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    qs = selectors.finding_list(
        store_id=store_id,
        status=status,
        severity=severity,
        rule=rule,
        owner_role=owner_role,
        q=q,
        overdue=overdue,
    )
    return paginate(qs, page, page_size)


@router.get("/checks", response=list[CheckOut], auth=perm("sop.view_finding"))
def check_list(request: HttpRequest) -> list[dict[str, str]]:
    return [
        {"rule": c.rule, "title": c.title, "owner_role": c.owner_role.value, "schedule": c.schedule.value}
        for c in all_checks()
    ]


@router.post("/checks/run", response=list[RunOut], auth=perm("sop.run_checks"))
def checks_run(request: HttpRequest, payload: RunIn) -> list[Any]:
    store = get_object_or_404(Store, pk=payload.store_id) if payload.store_id else None
    return list(services.checks_run(rule=payload.rule, store=store))


@router.get("/{finding_id}", response=FindingOut, auth=perm("sop.view_finding"))
def finding_detail(request: HttpRequest, finding_id: int) -> Finding:
    return get_object_or_404(Finding, pk=finding_id)


@router.post("/{finding_id}/acknowledge", response=FindingOut, auth=perm("sop.change_finding"))
def finding_acknowledge(request: HttpRequest, finding_id: int, payload: NoteIn) -> Finding:
    finding = get_object_or_404(Finding, pk=finding_id)
    return services.finding_acknowledge(actor=principal(request).actor, finding=finding, note=payload.note)


@router.post("/{finding_id}/resolve", response=FindingOut, auth=perm("sop.change_finding"))
def finding_resolve(request: HttpRequest, finding_id: int, payload: NoteIn) -> Finding:
    finding = get_object_or_404(Finding, pk=finding_id)
    return services.finding_resolve(actor=principal(request).actor, finding=finding, note=payload.note)
